//! What `adze run`, `adze runs`, `adze logs` and `adze show` share about the history: the
//! `--store` option, opening the store to read, finding a run or task by name (with "did
//! you mean"), and what a local run records about how it was invoked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::input::Input;
use super::Outcome;
use crate::history::{now_ms, Recorder, RecorderThread, RunEnd};
use crate::load::catalog::suggest;
use crate::mask::Masker;
use crate::run::ownership::{Owner, ProcHost};
use crate::status::RunIdentity;
use crate::store::{NewLocalRun, RunRecord, RunState, Store};

/// The `--store` option of the commands that read the history.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArg {
    /// The history to read (default: .adze/history.db in the working directory, or
    /// .adze/serve.db when only that one exists).
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
}

impl StoreArg {
    /// The file named, or the default under the working directory.
    pub fn path(&self) -> PathBuf {
        match &self.store {
            Some(path) => path.clone(),
            None => crate::history::store_path(Path::new("")),
        }
    }

    /// Opens the history; a missing one is the user's mistake (exit 2), one that cannot be
    /// opened the environment's (exit 3). Either is reported.
    pub fn open(&self) -> Result<Store, Outcome> {
        let path = self.path();
        if !path.exists() {
            eprintln!("{}", no_store(&path));
            return Err(Outcome::Invalid);
        }
        let store = Store::open(&path).map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Infrastructure
        })?;
        // Runs whose adze was killed are shown, and recorded once, as interrupted; a store
        // that cannot be written shows them as they are, and the next open tries again.
        let _ = crate::history::interrupted::settle(&store, &ProcHost, now_ms());
        Ok(store)
    }
}

/// The message for a history file that does not exist.
pub fn no_store(path: &Path) -> String {
    format!(
        "error: no history at {}\n  help: `adze run` and `adze serve` record runs there; run \
         from the directory you ran in, or name the file with --store FILE",
        path.display()
    )
}

/// Starts the recorder of an `adze run` in the working directory, masking with `masker`.
pub fn recorder(keep_runs: usize, masker: Arc<Masker>) -> RecorderThread {
    RecorderThread::spawn(move || {
        let path = crate::history::store_path(Path::new(""));
        // Absolute, so the warning says where it tried to write.
        let path = std::path::absolute(&path).unwrap_or(path);
        Recorder::open(&path, keep_runs, masker)
    })
}

/// What a local run records about itself: the object as loaded and how it was invoked
/// (files, params, executor; never the raw command line, which may hold secrets).
pub fn local_run(
    input: &Input,
    params: &[String],
    executor: &str,
    kind: &str,
    object: &impl serde::Serialize,
    id: &RunIdentity,
) -> NewLocalRun {
    let files: Vec<String> = input
        .files
        .iter()
        .chain(&input.filenames)
        .map(|f| f.display().to_string())
        .collect();
    NewLocalRun {
        name: id.name.clone(),
        kind: kind.to_string(),
        namespace: id.namespace.clone(),
        invocation: serde_json::json!({
            "files": files,
            "params": params,
            "executor": executor,
        }),
        object: serde_json::to_value(object).unwrap_or_default(),
        started_ms: now_ms(),
        owner: Owner::current().labels(false).into_iter().collect(),
    }
}

/// How a local run ended, with the object `-o yaml` prints.
pub fn end(succeeded: bool, object: Option<serde_json::Value>) -> RunEnd {
    RunEnd {
        state: if succeeded {
            RunState::Succeeded
        } else {
            RunState::Failed
        },
        object,
        at_ms: now_ms(),
    }
}

/// The run `key` names (an id, else the newest run of that name), or the newest run when
/// `key` is `None`; the error message otherwise.
pub fn find_run(store: &Store, key: Option<&str>) -> Result<RunRecord, String> {
    let found = match key {
        Some(key) => store.find_run(key),
        None => store.runs(1).map(|mut r| r.pop()),
    };
    match found {
        Ok(Some(run)) => Ok(run),
        Ok(None) => {
            let known = store.runs(200).unwrap_or_default();
            Err(unknown_run(key, &known, store.path()))
        }
        Err(e) => Err(format!("error: {e}")),
    }
}

/// The message for a run that is not in the history: what is, and the closest name.
pub fn unknown_run(key: Option<&str>, known: &[RunRecord], path: &Path) -> String {
    let Some(key) = key else {
        return format!(
            "error: no runs recorded in {}\n  help: `adze run FILE` records each run there",
            path.display()
        );
    };
    let mut names: Vec<&str> = Vec::new();
    for run in known {
        for n in [run.name.as_str(), run.id.as_str()] {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let mut message = format!("error: no run named `{key}` in {}", path.display());
    if let Some(s) = suggest(key, names.iter().copied()) {
        message.push_str(&format!("\n  help: did you mean `{s}`?"));
    }
    message.push_str(&known_list("runs", known.iter().map(|r| r.id.as_str())));
    message
}

/// The message for a task (or a step of one) the run does not have.
pub fn unknown_name(what: &str, name: &str, run: &str, known: &[String]) -> String {
    let mut message = format!("error: run `{run}` has no {what} `{name}`");
    if let Some(s) = suggest(name, known.iter().map(String::as_str)) {
        message.push_str(&format!("\n  help: did you mean `{s}`?"));
    }
    message.push_str(&known_list(
        &format!("{what}s"),
        known.iter().map(String::as_str),
    ));
    message
}

/// `\n  known runs: a, b, c` (the first 10, then how many more).
fn known_list<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        return format!("\n  note: it has no {what}");
    }
    let shown = names
        .iter()
        .take(10)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let more = names.len().saturating_sub(10);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("\n  known {what}: {shown}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, name: &str) -> RunRecord {
        RunRecord {
            id: id.into(),
            name: name.into(),
            origin: crate::store::RunOrigin::Local,
            invocation: None,
            kind: "PipelineRun".into(),
            namespace: "default".into(),
            event_id: String::new(),
            trigger: String::new(),
            object: serde_json::Value::Null,
            state: RunState::Succeeded,
            status: None,
            tasks: None,
            graph: None,
            updated_ms: 0,
            created_ms: 0,
            started_ms: None,
            finished_ms: None,
            owner: None,
        }
    }

    #[test]
    fn unknown_names_suggest_the_closest_and_list_the_known() {
        let known = [record("hello@2", "hello"), record("build@1", "build")];
        insta::assert_snapshot!(
            unknown_run(Some("helo"), &known, Path::new(".adze/history.db")),
            @r"
        error: no run named `helo` in .adze/history.db
          help: did you mean `hello`?
          known runs: hello@2, build@1
        "
        );
        insta::assert_snapshot!(
            unknown_run(None, &[], Path::new(".adze/history.db")),
            @r"
        error: no runs recorded in .adze/history.db
          help: `adze run FILE` records each run there
        "
        );
        let tasks = ["build".to_string(), "test".to_string()];
        insta::assert_snapshot!(
            unknown_name("task", "tset", "hello@2", &tasks),
            @r"
        error: run `hello@2` has no task `tset`
          help: did you mean `test`?
          known tasks: build, test
        "
        );
        insta::assert_snapshot!(
            unknown_name("step", "x", "hello@2", &[]),
            @r"
        error: run `hello@2` has no step `x`
          note: it has no steps
        "
        );
    }
}
