//! `adze runs`: the runs `adze serve` recorded, newest first.

use std::path::PathBuf;

use super::Outcome;
use crate::report::html::duration;
use crate::store::Store;

/// Options of `adze runs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store to read (the one `adze serve --store` writes).
    #[arg(long, default_value = ".adze/serve.db", value_name = "FILE")]
    store: PathBuf,
    /// Show at most N runs.
    #[arg(long, default_value_t = 50, value_name = "N")]
    limit: usize,
    /// Print JSON instead of a table.
    #[arg(short = 'o', long = "output", value_parser = ["json"])]
    output: Option<String>,
}

/// Runs `adze runs`.
pub fn run(args: &Args) -> Outcome {
    if !args.store.exists() {
        eprintln!(
            "error: no store at {}\n  help: `adze serve` creates it; name another with --store FILE",
            args.store.display()
        );
        return Outcome::Invalid;
    }
    let store = match Store::open(&args.store) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Infrastructure;
        }
    };
    let runs = match store.runs(args.limit) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Infrastructure;
        }
    };
    if args.output.is_some() {
        let items: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name, "kind": r.kind, "namespace": r.namespace,
                    "trigger": r.trigger, "eventID": r.event_id, "state": r.state,
                    "createdMs": r.created_ms, "startedMs": r.started_ms,
                    "finishedMs": r.finished_ms,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "runs": items }));
        return Outcome::Success;
    }
    if runs.is_empty() {
        eprintln!("no runs recorded in {}", args.store.display());
        return Outcome::Success;
    }
    let rows: Vec<[String; 5]> = runs
        .iter()
        .map(|r| {
            let took = match (r.started_ms, r.finished_ms) {
                (Some(s), Some(f)) => duration(f - s),
                (Some(_), None) => "running".into(),
                _ => String::new(),
            };
            [
                r.name.clone(),
                r.kind.clone(),
                r.state.as_str().to_string(),
                r.trigger.clone(),
                took,
            ]
        })
        .collect();
    let header = ["NAME", "KIND", "STATE", "TRIGGER", "DURATION"];
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 5]| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 4 {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    Outcome::Success
}
