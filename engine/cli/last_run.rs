//! What `adze run` remembers of a PipelineRun's last run, under `.adze/runs/`, so
//! `--only`/`--from` can re-run part of it with the results of the tasks they skip over.
//!
//! # Design
//!
//! - A record is replaced atomically ([`host_file::write_atomic`]): a run killed while saving
//!   leaves the previous record, never half of one.
//! - A record carries `"version": 1`. Records written before versioning have no `version`;
//!   their shape is version 1's, so they are read as version 1. A record with another
//!   version (a newer adze's) is not guessed at.
//! - A record that cannot be used (empty, cut short, not JSON, not a run record, another
//!   version) is moved aside to `<name>.corrupt-<unix seconds>` and reported with its path
//!   and what is wrong: only `--only`/`--from` read it, and they stop (exit 2) rather than
//!   re-run part of a pipeline with results they cannot trust.
//!
//! # Not yet
//!
//! - Reading a record of another version: there is only one.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::ParamValue;
use crate::mask::Masker;
use crate::reconcile::PipelineTaskState;
use crate::run::host_file::{self, FileError};
use crate::run::{Recorded, RunOutcome};

/// The folder, relative to the working directory, where runs are recorded.
pub const RUNS_DIR: &str = ".adze/runs";

/// The version of the record format this adze writes and reads.
pub const VERSION: u64 = 1;

/// One recorded task: its final state and the results it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TaskRecord {
    task: String,
    state: String,
    results: Vec<ResultRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ResultRecord {
    name: String,
    value: ParamValue,
}

/// The file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunRecord {
    /// The record format's version ([`VERSION`]); absent in records written before it.
    #[serde(default = "unversioned")]
    version: u64,
    /// The PipelineRun's name (with generateName: the prefix).
    pipeline_run: String,
    tasks: Vec<TaskRecord>,
}

/// The version of a record written before records had one: the same shape as version 1.
fn unversioned() -> u64 {
    1
}

/// What makes a record unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file is empty (or only blanks).
    #[error("it is empty")]
    Empty,
    /// The JSON stops mid-way: a write was cut short.
    #[error("it is cut short ({0})")]
    Truncated(String),
    /// The content is not JSON.
    #[error("it is not JSON ({0})")]
    NotJson(String),
    /// JSON, but not a run record.
    #[error("it is not a run record ({0})")]
    NotARecord(String),
    /// A record format this adze does not know.
    #[error("it has record version {found}; this adze reads version {VERSION}")]
    Version {
        /// The version found, as written.
        found: String,
    },
}

/// Why the last run's record cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file exists but cannot be read.
    #[error("cannot read the last run's record {}: {source}", path.display())]
    Unreadable {
        /// The record.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file is not a usable record; it was moved aside if it could be.
    #[error("the last run's record {} is unusable: {problem}; {}", path.display(), fate(moved))]
    Corrupt {
        /// The record.
        path: PathBuf,
        /// What is wrong with it.
        problem: Problem,
        /// Where it was moved, or why it could not be.
        moved: Result<PathBuf, String>,
    },
}

fn fate(moved: &Result<PathBuf, String>) -> String {
    match moved {
        Ok(to) => format!("it was moved aside to {}", to.display()),
        Err(why) => format!("it could not be moved aside ({why}); delete it"),
    }
}

/// The file recording runs of the PipelineRun called `key`.
pub fn path(base: &Path, key: &str) -> PathBuf {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.join(RUNS_DIR).join(format!("{safe}.json"))
}

/// The results recorded for each task that succeeded in the last run; empty if none. An
/// unusable record is moved aside and reported.
pub fn load(file: &Path) -> Result<Recorded, LoadError> {
    let text = match fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recorded::new()),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            // Not UTF-8: no record adze wrote.
            return Err(corrupt(file, Problem::NotJson(e.to_string())));
        }
        Err(source) => {
            return Err(LoadError::Unreadable {
                path: file.to_owned(),
                source,
            })
        }
    };
    let record = parse(&text).map_err(|problem| corrupt(file, problem))?;
    Ok(record
        .tasks
        .into_iter()
        .filter(|t| t.state == "Succeeded")
        .map(|t| {
            let results = t.results.into_iter().map(|r| (r.name, r.value)).collect();
            (t.task, results)
        })
        .collect())
}

/// A record's text as a record of this version, or what is wrong with it.
fn parse(text: &str) -> Result<RunRecord, Problem> {
    if text.trim().is_empty() {
        return Err(Problem::Empty);
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            Problem::Truncated(e.to_string())
        } else {
            Problem::NotJson(e.to_string())
        }
    })?;
    match value.get("version") {
        None => {}
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(v) => {
            return Err(Problem::Version {
                found: v.to_string(),
            })
        }
    }
    serde_json::from_value(value).map_err(|e| Problem::NotARecord(e.to_string()))
}

fn corrupt(file: &Path, problem: Problem) -> LoadError {
    LoadError::Corrupt {
        path: file.to_owned(),
        problem,
        moved: host_file::move_aside(file).map_err(|e| e.source.to_string()),
    }
}

/// Records the run: tasks that ran with their results, and (for a partial re-run) the
/// reused tasks with the results they were given. Secret values in results are masked: a
/// later `--only`/`--from` reuses `***` for them.
pub fn save(
    file: &Path,
    key: &str,
    outcome: &RunOutcome,
    reused: &Recorded,
    masker: &Masker,
) -> Result<(), FileError> {
    let mut tasks = Vec::new();
    for (task, state) in &outcome.task_states {
        let ran = outcome
            .task_runs
            .iter()
            .find(|r| &r.request.pipeline_task == task)
            .and_then(|r| r.event.as_ref());
        let (state, results) = match (ran, reused.get(task)) {
            (Some(event), _) => (state_name(state), event.results.clone()),
            (None, Some(results)) => ("Succeeded".to_owned(), results.clone()),
            (None, None) => (state_name(state), Vec::new()),
        };
        tasks.push(TaskRecord {
            task: task.clone(),
            state,
            results: results
                .into_iter()
                .map(|(name, value)| ResultRecord { name, value })
                .collect(),
        });
    }
    let record = RunRecord {
        version: VERSION,
        pipeline_run: key.to_owned(),
        tasks,
    };
    let mut value = serde_json::to_value(&record).unwrap_or_default();
    // Only the values: task and result names must still match the Pipeline's.
    for result in value["tasks"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .flat_map(|t| t["results"].as_array_mut().into_iter().flatten())
    {
        masker.mask_json(&mut result["value"]);
    }
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    host_file::write_atomic(file, text.as_bytes())
}

fn state_name(state: &PipelineTaskState) -> String {
    match state {
        PipelineTaskState::Succeeded => "Succeeded",
        PipelineTaskState::Failed { .. } => "Failed",
        PipelineTaskState::Cancelled { .. } => "Cancelled",
        PipelineTaskState::Skipped { .. } => "Skipped",
        PipelineTaskState::ValidationFailed { .. } => "ValidationFailed",
        PipelineTaskState::NotStarted | PipelineTaskState::Running { .. } => "Incomplete",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `text` as the record of "my/run" in a fresh directory and loads it.
    fn load_text(text: &[u8]) -> (tempfile::TempDir, PathBuf, Result<Recorded, LoadError>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = path(dir.path(), "my/run");
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, text).expect("write");
        let loaded = load(&file);
        (dir, file, loaded)
    }

    /// Asserts the record was refused for `expected`, named, and moved aside intact.
    fn assert_moved_aside(text: &[u8], expected: fn(&Problem) -> bool) {
        let (_dir, file, loaded) = load_text(text);
        let err = loaded.expect_err("unusable");
        let message = err.to_string();
        assert!(message.contains(&file.display().to_string()), "{message}");
        let LoadError::Corrupt { problem, moved, .. } = err else {
            panic!("not reported as corrupt: {message}");
        };
        assert!(expected(&problem), "{problem:?}");
        let aside = moved.expect("moved aside");
        assert!(!file.exists(), "still in place");
        assert_eq!(fs::read(&aside).expect("kept"), text);
        assert!(message.contains("moved aside to"), "{message}");
    }

    fn record(version: Option<u64>) -> String {
        let version = version.map_or(String::new(), |v| format!("\"version\": {v}, "));
        format!(
            "{{{version}\"pipeline_run\": \"my/run\", \"tasks\": [{{\"task\": \"build\", \
             \"state\": \"Succeeded\", \"results\": [{{\"name\": \"digest\", \"value\": \"abc\"}}]}}]}}"
        )
    }

    #[test]
    fn a_missing_record_is_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = path(dir.path(), "my/run");
        assert!(file.ends_with(".adze/runs/my_run.json"));
        assert!(load(&file).expect("missing is fine").is_empty());
    }

    #[test]
    fn an_empty_record_is_moved_aside() {
        assert_moved_aside(b"", |p| *p == Problem::Empty);
        assert_moved_aside(b" \n", |p| *p == Problem::Empty);
    }

    #[test]
    fn a_truncated_record_is_moved_aside() {
        let whole = record(Some(VERSION));
        let cut = &whole.as_bytes()[..whole.len() / 2];
        assert_moved_aside(cut, |p| matches!(p, Problem::Truncated(_)));
    }

    #[test]
    fn invalid_json_is_moved_aside() {
        assert_moved_aside(b"{not json", |p| matches!(p, Problem::NotJson(_)));
        assert_moved_aside(b"\xff\xfe", |p| matches!(p, Problem::NotJson(_)));
        assert_moved_aside(b"[1, 2]", |p| matches!(p, Problem::NotARecord(_)));
    }

    #[test]
    fn another_version_is_moved_aside() {
        assert_moved_aside(record(Some(2)).as_bytes(), |p| {
            *p == Problem::Version { found: "2".into() }
        });
        assert_moved_aside(b"{\"version\": \"1\"}", |p| {
            matches!(p, Problem::Version { .. })
        });
    }

    #[test]
    fn a_record_without_a_version_is_read_as_version_1() {
        let (_dir, file, loaded) = load_text(record(None).as_bytes());
        let recorded = loaded.expect("read");
        assert_eq!(
            recorded["build"],
            vec![("digest".to_owned(), ParamValue::String("abc".into()))]
        );
        assert!(file.exists(), "a usable record stays");
    }

    #[test]
    fn a_saved_record_has_the_version_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = path(dir.path(), "my/run");
        let mut reused = Recorded::new();
        reused.insert(
            "build".to_owned(),
            vec![("digest".to_owned(), ParamValue::String("abc".into()))],
        );
        let outcome = RunOutcome {
            condition: crate::reconcile::Condition::pending("my-run"),
            task_states: vec![("build".to_owned(), PipelineTaskState::Succeeded)],
            pipeline_results: Default::default(),
            child_references: Vec::new(),
            task_runs: Vec::new(),
            start_time: None,
            completion_time: None,
            finally_start_time: None,
            when_expressions: Default::default(),
            engine_lost: None,
        };
        save(&file, "my/run", &outcome, &reused, &Masker::new()).expect("saved");
        let text = fs::read_to_string(&file).expect("read");
        assert!(text.contains("\"version\": 1"), "{text}");
        assert_eq!(load(&file).expect("loads"), reused);
    }

    #[test]
    fn secret_values_in_results_are_masked_and_names_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = path(dir.path(), "run");
        let mut reused = Recorded::new();
        reused.insert(
            "hunter22".to_owned(),
            vec![
                (
                    "hunter22".to_owned(),
                    ParamValue::String("x-hunter22".into()),
                ),
                (
                    "list".to_owned(),
                    ParamValue::Array(vec!["hunter22".into(), "plain".into()]),
                ),
            ],
        );
        let outcome = RunOutcome {
            condition: crate::reconcile::Condition::pending("run"),
            task_states: vec![("hunter22".to_owned(), PipelineTaskState::Succeeded)],
            pipeline_results: Default::default(),
            child_references: Vec::new(),
            task_runs: Vec::new(),
            start_time: None,
            completion_time: None,
            finally_start_time: None,
            when_expressions: Default::default(),
            engine_lost: None,
        };
        let masker = Masker::new();
        masker.add("hunter22").expect("long enough");
        save(&file, "run", &outcome, &reused, &masker).expect("saved");
        let loaded = load(&file).expect("loads");
        assert_eq!(
            loaded["hunter22"],
            vec![
                ("hunter22".to_owned(), ParamValue::String("x-***".into())),
                (
                    "list".to_owned(),
                    ParamValue::Array(vec!["***".into(), "plain".into()]),
                ),
            ]
        );
    }
}
