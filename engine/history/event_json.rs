//! The JSON form of a [`Progress`] event, as the history stores it.
//!
//! One function, so that the history can switch to the serialization of `adze run --events
//! json` when that exists, by changing only its body.

use serde_json::{json, Value};

use crate::reconcile::{CancelCause, PipelineTaskState};
use crate::run::{Progress, Stream};

/// The version of the shape below; stored in every event so readers can tell shapes apart.
pub const SCHEMA_VERSION: u32 = 1;

/// `event` as JSON, or `None` for what is not worth keeping (image download ticks).
/// `task` is the pipeline task of the TaskRun the event names, when known.
pub fn event_json(event: &Progress, task: Option<&str>) -> Option<Value> {
    let mut value = match event {
        Progress::TaskStarted {
            task,
            task_run,
            finally,
            steps,
        } => json!({
            "type": "taskStarted", "task": task, "taskRun": task_run,
            "finally": finally, "steps": steps,
        }),
        Progress::TaskFinished {
            task,
            task_run,
            state,
            message,
        } => {
            let (state, reason) = task_state(state);
            json!({
                "type": "taskFinished", "task": task, "taskRun": task_run,
                "state": state, "reason": reason, "message": message,
            })
        }
        Progress::RunStatus { condition, .. } => json!({
            "type": "runStatus", "status": condition.status.as_str(),
            "reason": condition.reason.as_str(), "message": condition.message,
        }),
        Progress::TaskSkipped { task, reason } => json!({
            "type": "taskSkipped", "task": task, "reason": reason.as_str(),
        }),
        Progress::StepStarted { task_run, step } => json!({
            "type": "stepStarted", "taskRun": task_run, "step": step,
        }),
        Progress::StepFinished {
            task_run,
            step,
            exit_code,
        } => json!({
            "type": "stepFinished", "taskRun": task_run, "step": step, "exitCode": exit_code,
        }),
        Progress::Log {
            task_run,
            step,
            stream,
            line,
        } => json!({
            "type": "log", "taskRun": task_run, "step": step,
            "stream": stream_name(*stream), "text": line,
        }),
        Progress::Pull { bytes: Some(_), .. } => return None,
        Progress::Pull { image, status, .. } => json!({
            "type": "pull", "image": image, "status": status,
        }),
        Progress::Warning { task_run, message } => json!({
            "type": "warning", "taskRun": task_run, "message": message,
        }),
        Progress::Interrupted { force } => json!({ "type": "interrupted", "force": force }),
    };
    if let (Some(task), Some(map)) = (task, value.as_object_mut()) {
        map.entry("task").or_insert_with(|| json!(task));
    }
    if let Some(map) = value.as_object_mut() {
        map.insert("schemaVersion".into(), json!(SCHEMA_VERSION));
    }
    Some(value)
}

/// `stdout` or `stderr`.
pub fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}

/// A task's final state and its reason, in words.
fn task_state(state: &PipelineTaskState) -> (&'static str, Option<String>) {
    match state {
        PipelineTaskState::NotStarted => ("notStarted", None),
        PipelineTaskState::Running { .. } => ("running", None),
        PipelineTaskState::Succeeded => ("succeeded", None),
        PipelineTaskState::Failed { reason, ignored } => (
            if *ignored { "failedIgnored" } else { "failed" },
            Some(reason.clone()),
        ),
        PipelineTaskState::Cancelled { cause } => (
            "cancelled",
            Some(
                match cause {
                    CancelCause::Cancelled => "Cancelled",
                    CancelCause::TimedOut => "TimedOut",
                }
                .to_string(),
            ),
        ),
        PipelineTaskState::Skipped { reason } => ("skipped", Some(reason.as_str().to_string())),
        PipelineTaskState::ValidationFailed { message } => {
            ("validationFailed", Some(message.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_names_its_task_and_download_ticks_are_dropped() {
        let log = Progress::Log {
            task_run: "p-build".into(),
            step: "compile".into(),
            stream: Stream::Stderr,
            line: "warning: x".into(),
        };
        assert_eq!(
            event_json(&log, Some("build")),
            Some(json!({
                "type": "log", "taskRun": "p-build", "step": "compile", "stream": "stderr",
                "text": "warning: x", "task": "build", "schemaVersion": SCHEMA_VERSION,
            }))
        );
        let tick = Progress::Pull {
            image: "alpine".into(),
            status: "Downloading".into(),
            bytes: Some((1, 2)),
        };
        assert_eq!(event_json(&tick, None), None);
        let failed = Progress::TaskFinished {
            task: "test".into(),
            task_run: "p-test".into(),
            state: PipelineTaskState::Failed {
                reason: "StepFailed".into(),
                ignored: false,
            },
            message: "boom".into(),
        };
        let v = event_json(&failed, Some("test")).unwrap();
        assert_eq!(
            (v["state"].as_str(), v["reason"].as_str()),
            (Some("failed"), Some("StepFailed"))
        );
    }
}
