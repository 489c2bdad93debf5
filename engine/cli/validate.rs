//! `adze validate`: admission checks with compiler-style output.

use super::input::{check, Input};
use super::Outcome;
use crate::report::diagnostics::{JsonReport, Summary};

/// Arguments of `adze validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Output format: text (snippets on stderr) or json (on stdout).
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "json"])]
    output: String,
}

/// Runs `adze validate`.
pub fn run(args: &Args) -> Outcome {
    let flags = match args.input.flags_or_report() {
        Ok(f) => f,
        Err(outcome) => return outcome,
    };
    let Ok(mut bundle) = args.input.load() else {
        return Outcome::Invalid;
    };
    args.input.resolve(&mut bundle, &flags);
    let diags = check(&bundle, &flags);
    let triggers = bundle
        .resources
        .iter()
        .filter(|r| r.api_version.split('/').next() == Some(crate::triggers::api::GROUP))
        .count();
    let summary = Summary::of(bundle.inputs().count() + triggers, &diags);
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
        let mut report = args.input.report();
        let hidden = args.input.write_diagnostics(&mut report, &bundle, &diags);
        let mark = if summary.errors == 0 { "ok" } else { "invalid" };
        report.line(&format!("{mark}: {}", summary.with_hidden(hidden).line()));
    }
    if summary.errors == 0 {
        Outcome::Success
    } else {
        Outcome::Invalid
    }
}
