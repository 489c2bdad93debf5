//! What `adze run` remembers of a PipelineRun's last run, under `.adze/runs/`, so
//! `--only`/`--from` can re-run part of it with the results of the tasks they skip over.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::ParamValue;
use crate::reconcile::PipelineTaskState;
use crate::run::{Recorded, RunOutcome};

/// The folder, relative to the working directory, where runs are recorded.
pub const RUNS_DIR: &str = ".adze/runs";

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
    /// The PipelineRun's name (with generateName: the prefix).
    pipeline_run: String,
    tasks: Vec<TaskRecord>,
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

/// The results recorded for each task that succeeded in the last run; empty if none.
pub fn load(file: &Path) -> io::Result<Recorded> {
    let text = match fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Recorded::new()),
        Err(e) => return Err(e),
    };
    let record: RunRecord = serde_json::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a run record ({e}); delete it", file.display()),
        )
    })?;
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

/// Records the run: tasks that ran with their results, and (for a partial re-run) the
/// reused tasks with the results they were given.
pub fn save(file: &Path, key: &str, outcome: &RunOutcome, reused: &Recorded) -> io::Result<()> {
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
        pipeline_run: key.to_owned(),
        tasks,
    };
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&record).map_err(io::Error::other)?;
    // Written then renamed, so an interrupted save never leaves half a record.
    let tmp = file.with_extension("json.tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, file)
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

    #[test]
    fn a_missing_record_is_empty_and_a_corrupt_one_says_to_delete_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = path(dir.path(), "my/run");
        assert!(file.ends_with(".adze/runs/my_run.json"));
        assert!(load(&file).expect("missing is fine").is_empty());
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, "{not json").expect("write");
        let err = load(&file).expect_err("corrupt");
        assert!(err.to_string().contains("delete it"), "{err}");
    }
}
