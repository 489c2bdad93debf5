//! `adze logs [RUN] [TASK[/STEP]]`: what a recorded run's steps printed, prefixed as the live
//! output prefixes it.

use super::history::{find_run, unknown_name, StoreArg};
use super::Outcome;
use crate::store::{LogLine, RunEvent, RunRecord, RunState, Store};

/// Options of `adze logs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run (id or name; default: the newest), or, alone, a task of the newest run.
    #[arg(value_name = "RUN")]
    run: Option<String>,
    /// Only this pipeline task's lines, or only one step's with TASK/STEP.
    #[arg(value_name = "TASK[/STEP]")]
    task: Option<String>,
    #[command(flatten)]
    store: StoreArg,
}

/// Runs `adze logs`.
pub fn run(args: &Args) -> Outcome {
    let store = match args.store.open() {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    match select(&store, args.run.as_deref(), args.task.as_deref()) {
        Ok((run, filter, lines)) if lines.is_empty() => {
            // An empty stdout alone reads like a failure to find anything.
            let of = filter.map(|f| format!(" of {f}")).unwrap_or_default();
            eprintln!("note: run `{run}` has no output{of} stored");
            interrupted_note(&store, &run);
            Outcome::Success
        }
        Ok((run, _, lines)) => {
            let mut out = String::new();
            for line in &lines {
                out.push_str(&super::progress::stored_log_line(
                    &line.task,
                    &line.step,
                    line.stream == "stderr",
                    &line.text,
                ));
                out.push('\n');
            }
            print!("{out}");
            interrupted_note(&store, &run);
            Outcome::Success
        }
        Err(message) => {
            eprintln!("{message}");
            Outcome::Invalid
        }
    }
}

/// The run's id, the task or step asked for and its lines, or the message saying which
/// name is unknown.
fn select<'a>(
    store: &Store,
    first: Option<&'a str>,
    second: Option<&'a str>,
) -> Result<(String, Option<&'a str>, Vec<LogLine>), String> {
    // One word: a run, else a task of the newest run; with a slash it can only be a task.
    let (run, filter) = match (first, second) {
        (Some(word), None) if word.contains('/') => (find_run(store, None)?, Some(word)),
        (Some(word), None) => match store.find_run(word) {
            Ok(Some(run)) => (run, None),
            _ => {
                let newest = find_run(store, None)?;
                let lines = logs_of(store, &newest)?;
                if tasks_of(store, &newest, &lines).iter().any(|t| t == word) {
                    (newest, Some(word))
                } else {
                    // Neither: say so for the run, the likelier meaning.
                    return Err(find_run(store, Some(word)).err().unwrap_or_default());
                }
            }
        },
        (run, filter) => (find_run(store, run)?, filter),
    };
    let lines = logs_of(store, &run)?;
    let Some(filter) = filter else {
        return Ok((run.id, None, lines));
    };
    let (task, step) = match filter.split_once('/') {
        Some((t, s)) => (t, Some(s)),
        None => (filter, None),
    };
    let tasks = tasks_of(store, &run, &lines);
    if !tasks.iter().any(|t| t == task) {
        return Err(unknown_name("task", task, &run.id, &tasks));
    }
    if let Some(step) = step {
        let steps = steps_of(store, &run, &lines, task);
        if !steps.iter().any(|s| s == step) {
            return Err(unknown_name(
                "step",
                &format!("{task}/{step}"),
                &run.id,
                &steps
                    .iter()
                    .map(|s| format!("{task}/{s}"))
                    .collect::<Vec<_>>(),
            ));
        }
    }
    let lines = lines
        .into_iter()
        .filter(|l| l.task == task && step.is_none_or(|s| l.step == s))
        .collect();
    Ok((run.id, Some(filter), lines))
}

/// Says on stderr that run `id` never finished, when it was interrupted: its lines stop
/// where its adze was killed.
fn interrupted_note(store: &Store, id: &str) {
    let Ok(Some(run)) = store.run(id) else { return };
    if run.state != RunState::Interrupted {
        return;
    }
    let message = run
        .status
        .as_ref()
        .and_then(|s| s["status"]["conditions"][0]["message"].as_str())
        .unwrap_or("adze ended without finishing it");
    eprintln!("note: run `{id}` was interrupted: {message}");
}

fn logs_of(store: &Store, run: &RunRecord) -> Result<Vec<LogLine>, String> {
    store
        .logs(&run.id, 0)
        .map(|lines| lines.into_iter().map(|(_, l)| l).collect())
        .map_err(|e| format!("error: {e}"))
}

fn events_of(store: &Store, run: &RunRecord) -> Vec<RunEvent> {
    store.run_events(&run.id).unwrap_or_default()
}

/// The run's tasks, in the order they started or printed: from its events (a task that
/// printed nothing is still known) and its lines.
fn tasks_of(store: &Store, run: &RunRecord, lines: &[LogLine]) -> Vec<String> {
    let mut tasks: Vec<String> = Vec::new();
    let from_events = events_of(store, run).into_iter().filter_map(|e| {
        matches!(
            e.event["type"].as_str(),
            Some("taskStarted" | "taskSkipped")
        )
        .then(|| e.event["task"].as_str().map(str::to_string))
        .flatten()
    });
    for task in from_events.chain(lines.iter().map(|l| l.task.clone())) {
        if !tasks.contains(&task) {
            tasks.push(task);
        }
    }
    tasks
}

/// A task's steps: those it announced when it started, and those that printed.
fn steps_of(store: &Store, run: &RunRecord, lines: &[LogLine], task: &str) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    let announced = events_of(store, run)
        .into_iter()
        .filter(|e| e.event["type"] == "taskStarted" && e.event["task"] == task);
    let announced = announced.flat_map(|e| {
        e.event["steps"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let printed = lines
        .iter()
        .filter(|l| l.task == task)
        .map(|l| l.step.clone());
    for step in announced.chain(printed) {
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    steps
}
