//! `adze runs`: the recorded runs, local (`adze run`) and served (`adze serve`), newest first.

use super::history::StoreArg;
use super::Outcome;
use crate::reconcile::Timestamp;
use crate::report::html::duration;
use crate::status::rfc3339;
use crate::store::{RunOrigin, RunRecord};

/// Options of `adze runs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// Show at most N runs.
    #[arg(long, default_value_t = 50, value_name = "N")]
    limit: usize,
    /// Print JSON instead of a table.
    #[arg(short = 'o', long = "output", value_parser = ["json"])]
    output: Option<String>,
}

/// Runs `adze runs`.
pub fn run(args: &Args) -> Outcome {
    let store = match args.store.open() {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    let runs = match store.runs(args.limit) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Infrastructure;
        }
    };
    if args.output.is_some() {
        let items: Vec<serde_json::Value> = runs.iter().map(json).collect();
        println!("{}", serde_json::json!({ "runs": items }));
        return Outcome::Success;
    }
    if runs.is_empty() {
        eprintln!("no runs recorded in {}", store.path().display());
        return Outcome::Success;
    }
    print!("{}", table(&runs));
    Outcome::Success
}

/// One run in `-o json`.
fn json(r: &RunRecord) -> serde_json::Value {
    serde_json::json!({
        "id": r.id, "name": r.name, "kind": r.kind, "namespace": r.namespace,
        "origin": r.origin, "trigger": r.trigger, "eventID": r.event_id, "state": r.state,
        "createdMs": r.created_ms, "startedMs": r.started_ms, "finishedMs": r.finished_ms,
    })
}

/// Where a run came from: `local`, or the trigger that created it.
fn origin(r: &RunRecord) -> String {
    match r.origin {
        RunOrigin::Local => "local".to_string(),
        RunOrigin::Serve => format!("trigger {}", r.trigger),
    }
}

/// The table: one row per run, columns padded to their widest cell.
fn table(runs: &[RunRecord]) -> String {
    const HEADER: [&str; 6] = ["RUN", "KIND", "ORIGIN", "STATE", "STARTED", "DURATION"];
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|r| {
            let took = match (r.started_ms, r.finished_ms) {
                (Some(s), Some(f)) => duration(f - s),
                (Some(_), None) => "running".into(),
                _ => String::new(),
            };
            let started = r
                .started_ms
                .map(|s| rfc3339(Timestamp(s.max(0) as u64)))
                .unwrap_or_default();
            [
                r.id.clone(),
                r.kind.clone(),
                origin(r),
                r.state.as_str().to_string(),
                started,
                took,
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([HEADER[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let mut out = String::new();
        for (cell, &width) in cells.iter().zip(&widths) {
            out.push_str(&format!("{cell:<width$}  "));
        }
        format!("{}\n", out.trim_end())
    };
    let mut out = line(&HEADER);
    for r in &rows {
        out.push_str(&line(&r.each_ref().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunState;

    fn record(
        id: &str,
        origin: RunOrigin,
        state: RunState,
        times: (Option<i64>, Option<i64>),
    ) -> RunRecord {
        RunRecord {
            id: id.into(),
            name: id.split('@').next().unwrap_or(id).into(),
            origin,
            invocation: None,
            kind: "PipelineRun".into(),
            namespace: "default".into(),
            event_id: String::new(),
            trigger: "on-push".into(),
            object: serde_json::Value::Null,
            state,
            status: None,
            tasks: None,
            graph: None,
            updated_ms: 0,
            created_ms: 0,
            started_ms: times.0,
            finished_ms: times.1,
            owner: None,
        }
    }

    #[test]
    fn the_table_shows_local_and_served_runs_alike() {
        let start = 1_764_950_400_000; // 2025-12-05T16:00:00Z
        let runs = [
            record(
                "hello@4",
                RunOrigin::Local,
                RunState::Interrupted,
                (Some(start + 120_000), Some(start + 125_000)),
            ),
            record(
                "hello@3",
                RunOrigin::Local,
                RunState::Running,
                (Some(start + 90_000), None),
            ),
            record(
                "hello@2",
                RunOrigin::Local,
                RunState::Failed,
                (Some(start + 60_000), Some(start + 72_300)),
            ),
            record(
                "ci-x7k2p",
                RunOrigin::Serve,
                RunState::Succeeded,
                (Some(start), Some(start + 850)),
            ),
            record(
                "ci-queued",
                RunOrigin::Serve,
                RunState::Queued,
                (None, None),
            ),
        ];
        insta::assert_snapshot!(table(&runs));
    }
}
