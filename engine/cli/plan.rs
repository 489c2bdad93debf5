//! `adze plan`: resolve runs without running them.

use super::input::{check, Input};
use super::Outcome;
use crate::api::Object;
use crate::diagnostic::Diagnostic;
use crate::load::Bundle;
use crate::plan::{self, Overrides};
use crate::report;
use crate::validate::{self, Flags};

/// Arguments of `adze plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Set a run param (repeatable); JSON arrays/objects give array/object values.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Bind a workspace: `NAME=emptyDir` or `NAME=DIR` (repeatable).
    #[arg(short = 'w', long = "workspace", value_name = "NAME=emptyDir|DIR")]
    workspaces: Vec<String>,
    /// Plan only the run with this name (default: every run in the files).
    #[arg(long = "run", value_name = "NAME")]
    run: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "yaml", "json", "mermaid", "dot"])]
    output: String,
}

/// Runs `adze plan`.
pub fn run(args: &Args) -> Outcome {
    let flags = match args.input.flags() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Invalid;
        }
    };
    let mut overrides = Overrides::default();
    for p in &args.params {
        match plan::parse_param(p) {
            Ok(p) => overrides.params.push(p),
            Err(e) => {
                eprintln!("error: -p {e}");
                return Outcome::Invalid;
            }
        }
    }
    for w in &args.workspaces {
        match plan::parse_workspace(w) {
            Ok(w) => overrides.workspaces.push(w),
            Err(e) => {
                eprintln!("error: -w {e}");
                return Outcome::Invalid;
            }
        }
    }
    let Ok(mut bundle) = args.input.load() else {
        return Outcome::Invalid;
    };
    plan::apply_overrides(&mut bundle, &overrides);
    let diags = check(&bundle, &flags);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    args.input.print_diagnostics(&bundle, &diags);
    if errors > 0 {
        eprintln!("invalid: fix the {errors} error(s) above before planning");
        return Outcome::Invalid;
    }
    let runs: Vec<_> = plan::runs(&bundle)
        .into_iter()
        .filter(|r| {
            args.run
                .as_ref()
                .is_none_or(|n| r.object.metadata().name.as_ref() == Some(n))
        })
        .collect();
    let synthetic;
    let objects: Vec<&Object> = if runs.is_empty() && args.run.is_none() {
        synthetic = plan::synthesize_runs(&bundle, &overrides);
        if synthetic.is_empty() {
            eprintln!(
                "error: no TaskRun, PipelineRun, Pipeline or Task in the files given\n  help: pass the file that defines what to run"
            );
            return Outcome::Invalid;
        }
        let problems = synthetic_problems(&bundle, &flags, &synthetic);
        if !problems.is_empty() {
            args.input.print_diagnostics(&bundle, &problems);
            eprintln!(
                "invalid: the files hold no run, and the run adze made for them is incomplete"
            );
            return Outcome::Invalid;
        }
        synthetic.iter().collect()
    } else {
        runs.iter().map(|r| &r.object).collect()
    };
    if objects.is_empty() {
        let name = args.run.as_deref().unwrap_or_default();
        eprintln!("error: no TaskRun or PipelineRun named \"{name}\" in the files given");
        return Outcome::Invalid;
    }
    let mut plans = Vec::new();
    for object in objects {
        match plan::plan_object(&bundle, object) {
            Ok(p) => plans.push(p),
            Err(e) => {
                eprintln!(
                    "error: cannot plan {}/{}: {e}",
                    object.kind(),
                    object.display_name()
                );
                return Outcome::Invalid;
            }
        }
    }
    let rendered = match args.output.as_str() {
        "json" => serde_json::to_string_pretty(&plans_value(&plans)).unwrap_or_default() + "\n",
        "yaml" => serde_yaml_ng::to_string(&plans_value(&plans)).unwrap_or_default(),
        "mermaid" => plans
            .iter()
            .map(report::plan::mermaid)
            .collect::<Vec<_>>()
            .join("\n"),
        "dot" => plans
            .iter()
            .map(report::plan::dot)
            .collect::<Vec<_>>()
            .join("\n"),
        _ => plans
            .iter()
            .map(report::plan::text)
            .collect::<Vec<_>>()
            .join("\n"),
    };
    print!("{rendered}");
    Outcome::Success
}

/// Errors of runs adze made up for files without one, with a hint to pass `-p`/`-w`.
fn synthetic_problems(bundle: &Bundle, flags: &Flags, runs: &[Object]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for run in runs {
        for mut d in validate::validate_object(bundle, flags, run) {
            if !d.is_error() {
                continue;
            }
            d.object = Some(format!(
                "{}/{} (made by adze plan)",
                run.kind(),
                run.display_name()
            ));
            d.hint = Some(
                "the files hold no run: pass params with -p NAME=VALUE and workspaces with -w NAME=emptyDir|DIR"
                    .into(),
            );
            out.push(d);
        }
    }
    out
}

/// One plan as itself, several as a list.
fn plans_value(plans: &[plan::Plan]) -> serde_json::Value {
    match plans {
        [one] => serde_json::to_value(one).unwrap_or_default(),
        many => serde_json::to_value(many).unwrap_or_default(),
    }
}
