//! A TaskRun's `status.steps` while its Pod runs: each step `running` once its container
//! started and `terminated` with its exit code once it ended, written as the executor sees
//! them, so `kubectl get taskrun -o yaml` and Tekton's clients follow the steps. The final
//! status replaces these entries with the full ones (image ids, times, results).

use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use serde_json::{json, Value};

use super::context::Context;
use super::objects::RunKey;
use crate::reconcile::task_run::step_container;
use crate::reconcile::Timestamp;
use crate::run::{Clock, Progress, SystemClock};
use crate::status::rfc3339;

/// One step as shown while the Pod runs.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    name: String,
    started: Option<Timestamp>,
    /// Exit code and when it was seen.
    ended: Option<(i32, Timestamp)>,
}

/// The steps' entries so far, in spec order; steps not started yet are left out, as Tekton
/// lists a waiting container only once the Pod reports it.
fn render(steps: &[Step], pod: &str) -> Value {
    let entries: Vec<Value> = steps
        .iter()
        .filter_map(|s| {
            let started = rfc3339(s.started?);
            let state = match s.ended {
                None => json!({"running": {"startedAt": started}}),
                Some((code, at)) => json!({"terminated": {
                    "exitCode": code,
                    "reason": if code == 0 { "Completed" } else { "Error" },
                    "startedAt": started,
                    "finishedAt": rfc3339(at),
                }}),
            };
            let mut entry = json!({"name": s.name, "container": step_container(&s.name)});
            if let (Some(e), Some(st)) = (entry.as_object_mut(), state.as_object()) {
                e.extend(st.clone());
            }
            Some(entry)
        })
        .collect();
    json!({"podName": pod, "steps": entries})
}

/// Applies one event; true when the steps changed.
fn apply(steps: &mut Vec<Step>, event: &Progress, now: Timestamp) -> bool {
    match event {
        Progress::TaskStarted { steps: names, .. } => {
            *steps = names
                .iter()
                .map(|n| Step {
                    name: n.clone(),
                    started: None,
                    ended: None,
                })
                .collect();
            false
        }
        Progress::StepStarted { step, .. } => steps
            .iter_mut()
            .find(|s| &s.name == step && s.started.is_none())
            .map(|s| s.started = Some(now))
            .is_some(),
        Progress::StepFinished {
            step, exit_code, ..
        } => steps
            .iter_mut()
            .find(|s| &s.name == step && s.ended.is_none())
            .map(|s| {
                s.started.get_or_insert(now);
                s.ended = Some((*exit_code, now));
            })
            .is_some(),
        _ => false,
    }
}

/// Writes the steps of `key`'s Pod `pod` as `events` report them, until every sender is gone.
pub fn spawn_writer(
    ctx: Context,
    key: RunKey,
    pod: String,
    events: Receiver<Progress>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut steps = Vec::new();
        for event in events {
            if apply(&mut steps, &event, SystemClock.now()) {
                // A failed write is repaired by the next one, or by the final status.
                let _ = ctx.write(&key, &render(&steps, &pod));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_go_from_running_to_terminated_in_spec_order() {
        let mut steps = Vec::new();
        let started = Progress::TaskStarted {
            task: "t".into(),
            task_run: "t".into(),
            finally: false,
            steps: vec!["a".into(), "b".into()],
        };
        assert!(!apply(&mut steps, &started, Timestamp(0)));
        let step = |name: &str| Progress::StepStarted {
            task_run: "t".into(),
            step: name.into(),
        };
        assert!(apply(&mut steps, &step("a"), Timestamp(1_000)));
        assert!(
            !apply(&mut steps, &step("a"), Timestamp(2_000)),
            "reported once"
        );
        assert_eq!(
            render(&steps, "t-pod"),
            json!({"podName": "t-pod", "steps": [{"name": "a", "container": "step-a",
                "running": {"startedAt": "1970-01-01T00:00:01Z"}}]})
        );
        let finished = Progress::StepFinished {
            task_run: "t".into(),
            step: "a".into(),
            exit_code: 3,
            duration_ms: 3_000,
        };
        assert!(apply(&mut steps, &finished, Timestamp(4_000)));
        assert!(apply(&mut steps, &step("b"), Timestamp(4_000)));
        let rendered = render(&steps, "t-pod");
        assert_eq!(rendered["steps"][0]["terminated"]["exitCode"], 3);
        assert_eq!(rendered["steps"][0]["terminated"]["reason"], "Error");
        assert_eq!(rendered["steps"][1]["name"], "b");
    }
}
