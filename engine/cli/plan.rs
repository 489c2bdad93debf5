//! `adze plan`: resolve runs without running them.

use super::input::{load_runs, Input};
use super::Outcome;
use crate::plan;
use crate::report;

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
    let flags = match args.input.flags_or_report() {
        Ok(flags) => flags,
        Err(outcome) => return outcome,
    };
    let (bundle, objects) = match load_runs(
        &args.input,
        &flags,
        &args.params,
        &args.workspaces,
        args.run.as_deref(),
        "planning",
    ) {
        Ok(loaded) => loaded,
        Err(outcome) => return outcome,
    };
    let mut plans = Vec::new();
    for object in &objects {
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

/// One plan as itself, several as a list.
fn plans_value(plans: &[plan::Plan]) -> serde_json::Value {
    match plans {
        [one] => serde_json::to_value(one).unwrap_or_default(),
        many => serde_json::to_value(many).unwrap_or_default(),
    }
}
