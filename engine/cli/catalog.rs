//! `adze catalog`: the prebuilt Tasks and Pipelines built into adze: list, show, copy into a
//! repository (`init`), and check against the catalog's conventions (`lint`).
//!
//! Exit statuses: 0 done; 1 `lint` found errors, or `init` refused to overwrite; 2 an
//! unknown name or a directory that cannot be read.

use std::path::PathBuf;

use clap::Subcommand;

use super::output::{self, print_object, Report};
use super::Outcome;
use crate::api::Kind;
use crate::catalog::{folder, init, lint, Catalog, Declared, Entry};
use crate::report::diagnostics::{self, JsonReport, Summary};

/// Arguments of `adze catalog`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: CatalogCommand,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// List the built-in Tasks and Pipelines: name, kind, version, summary.
    List(ListArgs),
    /// Show a Task or Pipeline: params (defaults, descriptions), results, workspaces, README.
    Show(ShowArgs),
    /// Copy a Task's or Pipeline's folder (a pipeline's with the tasks it refers to) into a
    /// directory, `./tekton/` by default; existing files are left alone unless --force.
    Init(InitArgs),
    /// Check catalog folders against the catalog's conventions and `adze validate`
    /// (default: the built-in catalog); exit 1 when any error is found.
    Lint(LintArgs),
}

/// `task` or `pipeline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KindArg {
    /// A Task.
    Task,
    /// A Pipeline.
    Pipeline,
}

impl KindArg {
    fn kind(self) -> Kind {
        match self {
            KindArg::Task => Kind::Task,
            KindArg::Pipeline => Kind::Pipeline,
        }
    }
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "json", "yaml"])]
    output: String,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The Task's or Pipeline's name.
    name: String,
    /// Which, when a task and a pipeline share the name.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// text (summary and README), yaml (the object as shipped) or json (the object).
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "yaml", "json"])]
    output: String,
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// The Task's or Pipeline's name.
    name: String,
    /// Where to copy it (its tasks/ and pipelines/ folders are created there).
    #[arg(default_value = "tekton")]
    dir: PathBuf,
    /// Which, when a task and a pipeline share the name.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// Overwrite files that exist.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
struct LintArgs {
    /// Repositories (with tasks/ and pipelines/), sections, or single folders; none lints
    /// the built-in catalog.
    #[arg(value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Output format: text (snippets on stderr) or json (on stdout).
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "json"])]
    output: String,
    /// When to use colour: auto, always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN", value_parser = ["auto", "always", "never"])]
    color: String,
}

/// Runs `adze catalog`.
pub fn run(args: &Args) -> Outcome {
    match &args.command {
        CatalogCommand::List(a) => list(a),
        CatalogCommand::Show(a) => show(a),
        CatalogCommand::Init(a) => init_command(a),
        CatalogCommand::Lint(a) => lint_command(a),
    }
}

fn list(args: &ListArgs) -> Outcome {
    let catalog = Catalog::builtin();
    let entries = catalog.entries();
    if args.output != "text" {
        let items: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "name": e.name(), "kind": e.kind().as_str(), "version": e.version(),
                    "description": e.summary(), "folder": e.folder.relative(),
                })
            })
            .collect();
        print_object(&args.output, &serde_json::Value::Array(items));
        return Outcome::Success;
    }
    if entries.is_empty() {
        eprintln!("the built-in catalog is empty");
        return Outcome::Success;
    }
    let rows: Vec<[String; 4]> = entries
        .iter()
        .map(|e| [e.name(), e.kind().to_string(), e.version(), e.summary()])
        .collect();
    print!(
        "{}",
        table(["NAME", "KIND", "VERSION", "DESCRIPTION"], &rows)
    );
    Outcome::Success
}

/// Columns aligned, the last one as is.
fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(c);
            } else {
                text.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

fn found<'a>(
    catalog: &'a Catalog,
    name: &str,
    kind: Option<KindArg>,
) -> Result<Entry<'a>, Outcome> {
    catalog.find(name, kind.map(KindArg::kind)).map_err(|e| {
        eprintln!("error: {e}");
        Outcome::Invalid
    })
}

fn show(args: &ShowArgs) -> Outcome {
    let catalog = Catalog::builtin();
    let entry = match found(&catalog, &args.name, args.kind) {
        Ok(e) => e,
        Err(outcome) => return outcome,
    };
    match args.output.as_str() {
        "yaml" => {
            if let Some(file) = entry.yaml() {
                print!("{}", file.text);
            }
        }
        "json" => print_object("json", &entry.loaded.root.to_json()),
        _ => print!("{}", render_show(&entry)),
    }
    Outcome::Success
}

/// The text `adze catalog show` prints.
pub(crate) fn render_show(entry: &Entry<'_>) -> String {
    let mut out = format!("{} {}", entry.kind(), entry.name());
    let version = entry.version();
    if !version.is_empty() {
        out.push_str(&format!(" (version {version})"));
    }
    out.push('\n');
    let description = entry.description();
    if !description.trim().is_empty() {
        out.push('\n');
        out.push_str(description.trim_end());
        out.push('\n');
    }
    let section = |out: &mut String, title: &str, items: Vec<Declared>| {
        if items.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}:\n"));
        for d in items {
            let mut head = format!("  {}", d.name);
            let mut details = Vec::new();
            if !d.detail.is_empty() {
                details.push(d.detail.clone());
            }
            if let Some(default) = &d.default {
                details.push(format!("default: {default}"));
            }
            if !details.is_empty() {
                head.push_str(&format!(" ({})", details.join(", ")));
            }
            out.push_str(&head);
            if !d.description.is_empty() {
                out.push_str(&format!("\n      {}", d.description));
            }
            out.push('\n');
        }
    };
    section(&mut out, "Params", entry.params());
    section(&mut out, "Results", entry.results());
    section(&mut out, "Workspaces", entry.workspaces());
    let tasks = entry.task_refs();
    if !tasks.is_empty() {
        out.push_str(&format!("\nTasks it uses: {}\n", tasks.join(", ")));
    }
    if let Some(readme) = entry.readme() {
        out.push_str(&format!("\n--- {}/README.md\n\n", entry.folder.relative()));
        out.push_str(readme.text.trim_end());
        out.push('\n');
    }
    out
}

fn init_command(args: &InitArgs) -> Outcome {
    let catalog = Catalog::builtin();
    let entry = match found(&catalog, &args.name, args.kind) {
        Ok(e) => e,
        Err(outcome) => return outcome,
    };
    let plan = init::plan(&catalog, &entry, &args.dir);
    for missing in &plan.missing_tasks {
        eprintln!(
            "warning: task \"{missing}\" is not in the built-in catalog; the pipeline needs it from elsewhere"
        );
    }
    if let Err(e) = init::write(&plan, args.force) {
        eprintln!("error: {e}");
        return Outcome::Failed;
    }
    for file in &plan.files {
        println!("wrote {}", file.path.display());
    }
    Outcome::Success
}

fn lint_command(args: &LintArgs) -> Outcome {
    let catalog = if args.dirs.is_empty() {
        Catalog::builtin()
    } else {
        let mut folders = Vec::new();
        for dir in &args.dirs {
            match folder::on_disk(dir) {
                Ok(found) => folders.extend(found),
                Err(e) => {
                    eprintln!("error: {}: {e}", dir.display());
                    return Outcome::Invalid;
                }
            }
        }
        Catalog::load(folders, true)
    };
    let diags = lint::lint(&catalog);
    let summary = Summary::of(catalog.folders.len(), &diags);
    if args.output == "json" {
        let report = JsonReport {
            valid: summary.errors == 0,
            summary,
            diagnostics: &diags,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        let mut report = Report::stderr(output::color(&args.color));
        let _ = diagnostics::emit(&catalog.bundle, &diags, usize::MAX, &mut report);
        let line = summary.line().replace("object", "folder");
        report.line(&if summary.errors == 0 {
            format!("ok: {line}")
        } else {
            format!("invalid: {line}")
        });
    }
    if summary.errors == 0 {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CatalogFile, Folder};

    const TASK: &str = r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: greet
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  description: |
    Greets someone. Then it stops.
    A second line with details.
  params:
    - name: who
      description: Whom to greet.
      default: world
    - {name: extra, description: More words., default: [a, b]}
    - {name: empty, description: Nothing by default., default: ""}
  results:
    - {name: said, description: What it said.}
  workspaces:
    - {name: out, description: Where the greeting goes., optional: true}
  steps:
    - {name: s, image: x}
"#;

    fn catalog() -> Catalog {
        let file = |name: &str, text: &str| CatalogFile {
            name: name.to_owned(),
            display: format!("tasks/greet/{name}"),
            text: text.to_owned(),
        };
        Catalog::load(
            vec![Folder {
                section: "tasks".into(),
                name: "greet".into(),
                display: "tasks/greet".into(),
                files: vec![
                    file("README.md", "# greet\n\nSays hello.\n"),
                    file("greet.yaml", TASK),
                ],
            }],
            false,
        )
    }

    #[test]
    fn show_prints_declarations_with_defaults_and_the_readme() {
        let catalog = catalog();
        let entry = catalog.find("greet", Some(Kind::Task)).expect("the task");
        insta::assert_snapshot!(render_show(&entry));
    }

    #[test]
    fn list_rows_align_and_keep_the_first_sentence() {
        let catalog = catalog();
        let rows: Vec<[String; 4]> = catalog
            .entries()
            .iter()
            .map(|e| [e.name(), e.kind().to_string(), e.version(), e.summary()])
            .collect();
        insta::assert_snapshot!(table(["NAME", "KIND", "VERSION", "DESCRIPTION"], &rows), @r"
        NAME   KIND  VERSION  DESCRIPTION
        greet  Task  0.1      Greets someone.
        ");
    }
}
