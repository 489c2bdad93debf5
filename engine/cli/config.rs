//! `adze config`: the effective configuration and where each value came from (for `adze
//! run`, or with `--for serve` for the runs `adze serve` starts); and the configuration
//! lookup `adze run`, `adze plan` and `adze serve` share ([`Invocation`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::ArgMatches;
use serde_json::{json, Map, Value};

use super::output::{self, print_object};
use super::Outcome;
use crate::api::ParamValue;
use crate::config::serve_keys::ignored_by_serve;
use crate::config::{self, Choice, CommandLine, ConfigError, ImageRule, Settings};
use crate::load::Bundle;
use crate::plan::WorkspaceOverride;
use crate::report::diagnostics;

/// What every command needs to find its configuration: `--config`, and which arguments of
/// its subcommand were given on the command line (not defaulted by clap).
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    given: BTreeSet<String>,
}

impl Invocation {
    /// The invocation of the subcommand whose arguments are `matches`.
    pub fn new(config: Option<PathBuf>, matches: Option<&ArgMatches>) -> Invocation {
        let given = matches
            .map(|m| {
                m.ids()
                    .filter(|id| m.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                    .map(|id| id.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        Invocation { config, given }
    }

    /// `Some(value)` when the argument with this id was given on the command line.
    pub fn given<T: Clone>(&self, id: &str, value: &T) -> Option<T> {
        self.given.contains(id).then(|| value.clone())
    }

    /// The configuration file and the settings of `cli` over it; problems are printed.
    pub fn settings(&self, cli: &CommandLine) -> Result<(Choice, Settings), Outcome> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        match config::load(self.config.as_deref(), &cwd) {
            Ok((choice, file)) => {
                let settings = Settings::resolve(file.as_ref(), cli);
                Ok((choice, settings))
            }
            Err(e) => Err(report(&e)),
        }
    }
}

/// The flags of a command that starts runs which share a key with the configuration file,
/// as its arguments hold them (clap's defaults included). Which of them were typed comes
/// from the [`Invocation`]; `None` marks a flag the command does not have.
#[derive(Debug, Clone, Default)]
pub struct RunFlags<'a> {
    /// `--pull`.
    pub pull: Option<&'a String>,
    /// `--executor`.
    pub executor: Option<&'a String>,
    /// `--logs`.
    pub logs: Option<&'a String>,
    /// `--parallel`.
    pub parallel: Option<&'a usize>,
    /// `--namespace` (no default: `Some` only when typed).
    pub namespace: Option<String>,
    /// `--context`, like `namespace`.
    pub context: Option<String>,
    /// `--kubeconfig`, like `namespace`.
    pub kubeconfig: Option<PathBuf>,
    /// `--image-map`, as typed.
    pub image_maps: &'a [String],
}

impl Invocation {
    /// The settings of a command with `flags`: each value from a typed flag, else the
    /// configuration file, else adze's default (`adze run` and `adze serve` share this, so
    /// the precedence is written once). Problems are printed.
    pub fn settle(&self, flags: &RunFlags<'_>) -> Result<(Choice, Settings), Outcome> {
        let typed = |id: &str, value: Option<&String>| value.and_then(|v| self.given(id, v));
        let cli = CommandLine {
            pull: typed("pull", flags.pull),
            executor: typed("executor", flags.executor),
            logs: typed("logs", flags.logs),
            parallel: flags.parallel.and_then(|n| self.given("parallel", n)),
            namespace: flags.namespace.clone(),
            context: flags.context.clone(),
            kubeconfig: flags.kubeconfig.clone(),
            image_map: parse_image_maps(flags.image_maps)?,
            ..CommandLine::default()
        };
        self.settings(&cli)
    }
}

/// Prints why the configuration cannot be used; always exit 2.
fn report(e: &ConfigError) -> Outcome {
    match e {
        ConfigError::Invalid(invalid) => {
            let mut bundle = Bundle::new();
            bundle.files.push(invalid.file.clone());
            let mut report = output::Report::stderr(output::color("auto"));
            // A closed stderr is no reason to fail differently: the exit status says it.
            let _ = diagnostics::emit(&bundle, &invalid.diagnostics, usize::MAX, &mut report);
            report.line(&format!(
                "invalid: fix the {} error(s) above in {}",
                invalid.diagnostics.len(),
                invalid.file.name
            ));
        }
        ConfigError::Missing { .. } => eprintln!(
            "error: {e}\n  help: name an existing file, or leave --config out to use the nearest {}",
            config::file::FILE_NAME
        ),
        ConfigError::Read { .. } => eprintln!("error: {e}"),
    }
    Outcome::Invalid
}

/// Parses `--image-map FROM=TO` options; errors are printed.
pub fn parse_image_maps(given: &[String]) -> Result<Vec<ImageRule>, Outcome> {
    given
        .iter()
        .map(|text| {
            ImageRule::parse(text).map_err(|e| {
                eprintln!("error: --image-map {e}");
                Outcome::Invalid
            })
        })
        .collect()
}

/// Arguments of `adze config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print only the path of the configuration file in use (nothing when there is none).
    #[arg(long)]
    path: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "yaml", "json"])]
    output: String,
    /// Which command's view: run (also plan), or serve (the runs `adze serve` starts; the
    /// keys it ignores are named).
    #[arg(long = "for", value_name = "COMMAND", default_value = "run", value_parser = ["run", "serve"])]
    for_command: String,
    /// A param as `adze run -p` would set it (repeatable).
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// A workspace as `adze run -w` would bind it (repeatable).
    #[arg(short = 'w', long = "workspace", value_name = "NAME=emptyDir|DIR")]
    workspaces: Vec<String>,
    /// As `adze run --pull`.
    #[arg(long, value_parser = ["always", "missing", "never"])]
    pull: Option<String>,
    /// As `adze run --executor`.
    #[arg(long, value_parser = ["docker", "kubernetes"])]
    executor: Option<String>,
    /// As `adze run --namespace`.
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// As `adze run --context`.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// As `adze run --kubeconfig`.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// As `adze run --logs`.
    #[arg(long, value_parser = ["none", "failed", "all"])]
    logs: Option<String>,
    /// As `adze run --parallel`.
    #[arg(long, value_name = "N")]
    parallel: Option<usize>,
    /// As `adze run --image-map` (repeatable).
    #[arg(long = "image-map", value_name = "FROM=TO")]
    image_maps: Vec<String>,
}

/// Runs `adze config`.
pub fn run(args: &Args, invocation: &Invocation) -> Outcome {
    let overrides = match super::input::parse_overrides(&args.params, &args.workspaces) {
        Ok(o) => o,
        Err(outcome) => return outcome,
    };
    let image_map = match parse_image_maps(&args.image_maps) {
        Ok(rules) => rules,
        Err(outcome) => return outcome,
    };
    let cli = CommandLine {
        pull: args.pull.clone(),
        executor: args.executor.clone(),
        namespace: args.namespace.clone(),
        context: args.context.clone(),
        kubeconfig: args.kubeconfig.clone(),
        logs: args.logs.clone(),
        parallel: args.parallel,
        params: overrides.params,
        workspaces: overrides.workspaces,
        image_map,
    };
    let (choice, settings) = match invocation.settings(&cli) {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    if args.path {
        match choice.path() {
            Some(path) => println!("{}", path.display()),
            None => eprintln!("{}", nothing_found()),
        }
        return Outcome::Success;
    }
    let serve = args.for_command == "serve";
    match args.output.as_str() {
        "text" if serve => print!(
            "{}{}",
            text(&choice, &settings),
            ignored_text(&settings, &choice)
        ),
        "text" => print!("{}", text(&choice, &settings)),
        format => {
            let mut object = to_json(&settings);
            if serve {
                object["for"] = json!("serve");
                object["ignored"] = ignored_json(&settings);
            }
            print_object(format, &object)
        }
    }
    Outcome::Success
}

/// Why no file applies here.
fn nothing_found() -> String {
    format!(
        "no configuration file: no {} in the working directory or its parents up to the \
         repository root, and no --config",
        config::file::FILE_NAME
    )
}

fn param_text(value: &ParamValue) -> String {
    match value {
        ParamValue::String(s) => s.clone(),
        other => serde_json::to_string(&other.to_json()).unwrap_or_default(),
    }
}

fn workspace_text(binding: &WorkspaceOverride) -> String {
    match binding {
        WorkspaceOverride::EmptyDir => "emptyDir".to_owned(),
        WorkspaceOverride::Dir(dir) => dir.clone(),
    }
}

/// One row per setting: name, value (`-` when unset), source.
fn rows(settings: &Settings) -> Vec<[String; 3]> {
    let row = |name: &str, value: String, source: &config::Source| {
        [name.to_owned(), value, source.to_string()]
    };
    let unset = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut rows = vec![
        row("pull", settings.pull.value.clone(), &settings.pull.source),
        row(
            "executor",
            settings.executor.value.clone(),
            &settings.executor.source,
        ),
        row(
            "namespace",
            unset(&settings.namespace.value),
            &settings.namespace.source,
        ),
        row(
            "context",
            unset(&settings.context.value),
            &settings.context.source,
        ),
        row(
            "kubeconfig",
            unset(
                &settings
                    .kubeconfig
                    .value
                    .as_ref()
                    .map(|p| p.display().to_string()),
            ),
            &settings.kubeconfig.source,
        ),
        row("logs", settings.logs.value.clone(), &settings.logs.source),
        row(
            "parallel",
            settings.parallel.value.to_string(),
            &settings.parallel.source,
        ),
    ];
    for (name, s) in &settings.params {
        rows.push(row(
            &format!("params.{name}"),
            param_text(&s.value),
            &s.source,
        ));
    }
    for (name, s) in &settings.workspaces {
        rows.push(row(
            &format!("workspaces.{name}"),
            workspace_text(&s.value),
            &s.source,
        ));
    }
    for s in &settings.image_map {
        rows.push(row(
            &format!("imageMap.{}", s.value.from),
            s.value.to.clone(),
            &s.source,
        ));
    }
    rows
}

/// The text report: which file, then an aligned table.
fn text(choice: &Choice, settings: &Settings) -> String {
    let mut out = match choice {
        Choice::Given(p) => format!("config: {} (--config)\n", p.display()),
        Choice::Found(p) => format!("config: {}\n", p.display()),
        Choice::None => format!("config: none ({})\n", nothing_found()),
    };
    let rows = rows(settings);
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (name_w, value_w) = (width(0), width(1));
    for [name, value, source] in &rows {
        out.push_str(&format!("{name:<name_w$}  {value:<value_w$}  {source}\n"));
    }
    let from_file = |s: &config::Source| matches!(s, config::Source::File { .. });
    if settings.params.iter().any(|(_, s)| from_file(&s.source))
        || settings
            .workspaces
            .iter()
            .any(|(_, s)| from_file(&s.source))
    {
        out.push_str(
            "params and workspaces from the file are used where a run does not set them; \
             -p and -w replace a run's own\n",
        );
    }
    out
}

/// The lines `--for serve` adds: which of the file's keys `adze serve` ignores, and why.
fn ignored_text(settings: &Settings, choice: &Choice) -> String {
    let path = choice.path().map(|p| p.display().to_string());
    let mut out = String::new();
    for i in ignored_by_serve(settings, &settings.executor.value) {
        out.push_str(&format!(
            "ignored by adze serve: {} ({}:{}): {}\n",
            i.key,
            path.as_deref().unwrap_or_default(),
            i.line,
            i.why
        ));
    }
    out.push_str("adze serve reads this once, at startup: restart it to pick up a change\n");
    out
}

/// `--for serve -o yaml|json`: the ignored keys as `[{key, line, why}]`.
fn ignored_json(settings: &Settings) -> Value {
    ignored_by_serve(settings, &settings.executor.value)
        .into_iter()
        .map(|i| json!({"key": i.key, "line": i.line, "why": i.why}))
        .collect()
}

/// The `-o yaml|json` form: every setting as `{value, source}`.
fn to_json(settings: &Settings) -> Value {
    let entry = |value: Value, source: &config::Source| json!({"value": value, "source": source.to_string()});
    let mut params = Map::new();
    for (name, s) in &settings.params {
        params.insert(name.clone(), entry(s.value.to_json(), &s.source));
    }
    let mut workspaces = Map::new();
    for (name, s) in &settings.workspaces {
        workspaces.insert(
            name.clone(),
            entry(Value::String(workspace_text(&s.value)), &s.source),
        );
    }
    let mut image_map = Map::new();
    for s in &settings.image_map {
        image_map.insert(
            s.value.from.clone(),
            entry(Value::String(s.value.to.clone()), &s.source),
        );
    }
    json!({
        "file": settings.file.as_deref().map(Path::display).map(|p| p.to_string()),
        "pull": entry(json!(settings.pull.value), &settings.pull.source),
        "executor": entry(json!(settings.executor.value), &settings.executor.source),
        "namespace": entry(json!(settings.namespace.value), &settings.namespace.source),
        "context": entry(json!(settings.context.value), &settings.context.source),
        "kubeconfig": entry(json!(settings.kubeconfig.value), &settings.kubeconfig.source),
        "logs": entry(json!(settings.logs.value), &settings.logs.source),
        "parallel": entry(json!(settings.parallel.value), &settings.parallel.source),
        "params": params,
        "workspaces": workspaces,
        "imageMap": image_map,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_report_aligns_values_and_sources() {
        let file = config::file::parse(
            Path::new("/repo/.adze.yaml"),
            ".adze.yaml",
            "pull: never\nparams:\n  version: \"1.20\"\nimageMap:\n  gcr.io/: localhost:5000/\n"
                .to_owned(),
        )
        .unwrap();
        let cli = CommandLine {
            executor: Some("kubernetes".into()),
            ..CommandLine::default()
        };
        let settings = Settings::resolve(Some(&file), &cli);
        insta::assert_snapshot!(text(&Choice::Found("/repo/.adze.yaml".into()), &settings));
        insta::assert_snapshot!(serde_json::to_string_pretty(&to_json(&settings)).unwrap());
    }

    #[test]
    fn for_serve_the_ignored_keys_are_named_with_their_lines() {
        let file = config::file::parse(
            Path::new("/repo/.adze.yaml"),
            ".adze.yaml",
            "logs: failed\nparallel: 2\nexecutor: kubernetes\n".to_owned(),
        )
        .unwrap();
        let settings = Settings::resolve(Some(&file), &CommandLine::default());
        let choice = Choice::Found("/repo/.adze.yaml".into());
        insta::assert_snapshot!(ignored_text(&settings, &choice));
        assert_eq!(
            ignored_json(&settings)
                .as_array()
                .map(|a| a.iter().map(|i| i["key"].clone()).collect::<Vec<_>>()),
            Some(vec![json!("logs"), json!("parallel")])
        );
        // Under docker, `parallel` applies.
        let cli = CommandLine {
            executor: Some("docker".into()),
            ..CommandLine::default()
        };
        let docker = Settings::resolve(Some(&file), &cli);
        assert_eq!(
            ignored_json(&docker),
            json!([{"key": "logs", "line": 1, "why": ignored_by_serve(&docker, "docker")[0].why}])
        );
    }
}
