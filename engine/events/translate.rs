//! From the engine's [`Progress`] to the public [`Event`]s.

use std::collections::HashMap;
use std::time::SystemTime;

use k8s_openapi::chrono::{DateTime, SecondsFormat, Utc};

use super::{Body, Event, SCHEMA};
use crate::reconcile::{CancelCause, PipelineTaskState};
use crate::run::breakpoints::{BreakCause, Entry};
use crate::run::{Progress, Stream};

/// Turns [`Progress`] into [`Event`]s, remembering the run's name and each TaskRun's task.
#[derive(Debug, Default)]
pub struct Translator {
    run: String,
    /// TaskRun name → pipeline task, from `TaskStarted`.
    tasks: HashMap<String, String>,
}

impl Translator {
    /// A translator that has seen nothing yet.
    pub fn new() -> Translator {
        Translator::default()
    }

    /// The event for `progress`, seen at `at`; `None` for what is not an event (image pulls,
    /// interrupts, the controller's status passes).
    pub fn event(&mut self, progress: &Progress, at: SystemTime) -> Option<Event> {
        let body = self.body(progress)?;
        Some(Event {
            schema: SCHEMA,
            time: DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Millis, true),
            run: self.run.clone(),
            body,
        })
    }

    /// The task a TaskRun belongs to: the one its `TaskStarted` named, else its own name (a
    /// bare TaskRun's task is itself).
    fn task_of(&self, task_run: &str) -> String {
        self.tasks
            .get(task_run)
            .cloned()
            .unwrap_or_else(|| task_run.to_owned())
    }

    fn body(&mut self, progress: &Progress) -> Option<Body> {
        Some(match progress {
            Progress::RunStarted { run, kind } => {
                self.run.clone_from(run);
                Body::RunStarted {
                    kind: kind.as_str().to_owned(),
                }
            }
            Progress::RunFinished {
                run,
                status,
                reason,
                message,
            } => {
                self.run.clone_from(run);
                Body::RunFinished {
                    status: status.as_str().to_owned(),
                    reason: reason.clone(),
                    message: message.clone(),
                }
            }
            Progress::TaskStarted {
                task,
                task_run,
                finally,
                steps,
            } => {
                self.tasks.insert(task_run.clone(), task.clone());
                Body::TaskStarted {
                    task: task.clone(),
                    task_run: task_run.clone(),
                    finally: *finally,
                    steps: steps.clone(),
                }
            }
            Progress::TaskSkipped { task, reason } => Body::TaskSkipped {
                task: task.clone(),
                reason: reason.as_str().to_owned(),
            },
            Progress::TaskRetried {
                task,
                task_run,
                attempt,
                reason,
                message,
            } => Body::TaskRetried {
                task: task.clone(),
                task_run: task_run.clone(),
                attempt: *attempt,
                reason: reason.clone(),
                message: message.clone(),
            },
            Progress::TaskFinished {
                task,
                task_run,
                state,
                message,
            } => {
                let (state, reason) = state_and_reason(state);
                Body::TaskFinished {
                    task: task.clone(),
                    task_run: task_run.clone(),
                    state: state.to_owned(),
                    reason,
                    message: message.clone(),
                }
            }
            Progress::StepStarted { task_run, step } => Body::StepStarted {
                task: self.task_of(task_run),
                task_run: task_run.clone(),
                step: step.clone(),
            },
            Progress::StepFinished {
                task_run,
                step,
                exit_code,
                duration_ms,
            } => Body::StepFinished {
                task: self.task_of(task_run),
                task_run: task_run.clone(),
                step: step.clone(),
                exit_code: *exit_code,
                duration_ms: *duration_ms,
            },
            Progress::Log {
                task_run,
                step,
                stream,
                line,
            } => Body::Log {
                task: self.task_of(task_run),
                task_run: task_run.clone(),
                step: step.clone(),
                stream: match stream {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                }
                .to_owned(),
                text: line.clone(),
            },
            Progress::TaskResult {
                task,
                task_run,
                name,
                value,
            } => Body::Result {
                task: task.clone(),
                task_run: task_run.clone(),
                name: name.clone(),
                value: value.to_json(),
            },
            Progress::Warning { task_run, message } => Body::Warning {
                task: task_run.as_deref().map(|r| self.task_of(r)),
                task_run: task_run.clone(),
                message: message.clone(),
            },
            Progress::Breakpoint { stop } => Body::Breakpoint {
                task: self.task_of(&stop.task_run),
                task_run: stop.task_run.clone(),
                step: stop.step.clone(),
                why: why(&stop.cause).to_owned(),
                exit_code: match stop.cause {
                    BreakCause::Failed { exit_code } => Some(exit_code),
                    BreakCause::Before => None,
                },
                container: stop.entry.container().to_owned(),
                image: stop.image.clone(),
                command: stop.entry.command(),
                no_shell: match &stop.entry {
                    Entry::NoShell { why, .. } => Some(why.clone()),
                    Entry::Shell { .. } => None,
                },
            },
            Progress::BreakpointEnded { stop } => Body::BreakpointEnded {
                task: self.task_of(&stop.task_run),
                task_run: stop.task_run.clone(),
                step: stop.step.clone(),
                why: why(&stop.cause).to_owned(),
                container: stop.entry.container().to_owned(),
            },
            Progress::Pull { .. } | Progress::Interrupted { .. } | Progress::RunStatus { .. } => {
                return None
            }
        })
    }
}

/// A breakpoint's `why` word.
fn why(cause: &BreakCause) -> &'static str {
    match cause {
        BreakCause::Failed { .. } => "failure",
        BreakCause::Before => "before",
    }
}

/// A finished task's `state` word and its TaskRun's condition reason.
fn state_and_reason(state: &PipelineTaskState) -> (&'static str, String) {
    match state {
        PipelineTaskState::Succeeded => ("succeeded", "Succeeded".to_owned()),
        PipelineTaskState::Failed {
            ignored: true,
            reason,
        } => ("failureIgnored", reason.clone()),
        PipelineTaskState::Failed { reason, .. } => ("failed", reason.clone()),
        PipelineTaskState::Cancelled {
            cause: CancelCause::Cancelled,
        } => ("cancelled", "TaskRunCancelled".to_owned()),
        PipelineTaskState::Cancelled {
            cause: CancelCause::TimedOut,
        } => ("timedOut", "TaskRunTimeout".to_owned()),
        PipelineTaskState::ValidationFailed { .. } => {
            ("validationFailed", "InvalidTaskResultReference".to_owned())
        }
        // Never sent in a `TaskFinished`; named so a surprise is still a valid line.
        PipelineTaskState::Skipped { reason } => ("skipped", reason.as_str().to_owned()),
        PipelineTaskState::NotStarted | PipelineTaskState::Running { .. } => {
            ("running", String::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::api::ParamValue;
    use crate::reconcile::{ConditionStatus, SkipReason};
    use crate::run::RunKind;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn every_event_names_the_run_and_steps_name_their_task() {
        let mut t = Translator::new();
        let events = [
            Progress::RunStarted {
                run: "release-x1".into(),
                kind: RunKind::PipelineRun,
            },
            Progress::TaskStarted {
                task: "build".into(),
                task_run: "release-x1-build".into(),
                finally: false,
                steps: vec!["compile".into()],
            },
            Progress::Log {
                task_run: "release-x1-build".into(),
                step: "compile".into(),
                stream: Stream::Stderr,
                line: "ok".into(),
            },
            Progress::Pull {
                image: "alpine".into(),
                status: "Downloading".into(),
                bytes: None,
            },
        ];
        let lines: Vec<String> = events
            .iter()
            .filter_map(|p| t.event(p, at(1_764_926_400_123)))
            .map(|e| e.to_line())
            .collect();
        assert_eq!(lines.len(), 3, "a pull is not an event: {lines:?}");
        assert_eq!(
            lines[2],
            r#"{"schema":"adze.dev/events/v1","time":"2025-12-05T09:20:00.123Z","run":"release-x1","type":"log","task":"build","taskRun":"release-x1-build","step":"compile","stream":"stderr","text":"ok"}"#
        );
    }

    #[test]
    fn a_breakpoint_names_its_container_and_the_command_that_opens_it() {
        use crate::run::breakpoints::Break;
        let mut t = Translator::new();
        t.event(
            &Progress::TaskStarted {
                task: "build".into(),
                task_run: "ci-build".into(),
                finally: false,
                steps: vec!["compile".into()],
            },
            at(0),
        );
        let stop = Break {
            task: "build".into(),
            task_run: "ci-build".into(),
            step: "compile".into(),
            cause: BreakCause::Failed { exit_code: 2 },
            entry: Entry::Shell {
                container: "adze-debug-ci-build-compile-k3".into(),
                program: "bash".into(),
            },
            image: "adze-debug:ci-build-compile-42".into(),
            working_dir: None,
            mounts: Vec::new(),
            env: vec!["TOKEN".into()],
        };
        let line =
            |p: Progress, t: &mut Translator| t.event(&p, at(0)).expect("an event").to_line();
        let started = line(Progress::Breakpoint { stop: stop.clone() }, &mut t);
        assert!(
            started.ends_with(
                r#""type":"breakpoint","task":"build","taskRun":"ci-build","step":"compile","why":"failure","exitCode":2,"container":"adze-debug-ci-build-compile-k3","image":"adze-debug:ci-build-compile-42","command":"docker exec -it adze-debug-ci-build-compile-k3 bash"}"#
            ),
            "{started}"
        );
        let before = Break {
            cause: BreakCause::Before,
            ..stop
        };
        let ended = line(Progress::BreakpointEnded { stop: before }, &mut t);
        assert!(
            ended.ends_with(
                r#""type":"breakpointEnded","task":"build","taskRun":"ci-build","step":"compile","why":"before","container":"adze-debug-ci-build-compile-k3"}"#
            ),
            "{ended}"
        );
    }

    #[test]
    fn a_task_run_never_announced_is_its_own_task() {
        let mut t = Translator::new();
        let e = t
            .event(
                &Progress::StepStarted {
                    task_run: "solo".into(),
                    step: "s".into(),
                },
                at(0),
            )
            .expect("an event");
        assert_eq!(
            e.body,
            Body::StepStarted {
                task: "solo".into(),
                task_run: "solo".into(),
                step: "s".into()
            }
        );
    }

    #[test]
    fn finished_tasks_say_state_and_reason_as_tekton_names_them() {
        let cases = [
            (PipelineTaskState::Succeeded, "succeeded", "Succeeded"),
            (
                PipelineTaskState::Failed {
                    reason: "StepFailed".into(),
                    ignored: false,
                },
                "failed",
                "StepFailed",
            ),
            (
                PipelineTaskState::Failed {
                    reason: "FailureIgnored".into(),
                    ignored: true,
                },
                "failureIgnored",
                "FailureIgnored",
            ),
            (
                PipelineTaskState::Cancelled {
                    cause: CancelCause::TimedOut,
                },
                "timedOut",
                "TaskRunTimeout",
            ),
        ];
        for (state, word, reason) in cases {
            assert_eq!(state_and_reason(&state), (word, reason.to_owned()));
        }
    }

    #[test]
    fn results_keep_their_json_shape_and_run_finished_its_condition() {
        let mut t = Translator::new();
        let result = t
            .event(
                &Progress::TaskResult {
                    task: "t".into(),
                    task_run: "r-t".into(),
                    name: "digests".into(),
                    value: ParamValue::Array(vec!["a".into(), "b".into()]),
                },
                at(0),
            )
            .expect("an event");
        assert!(result.to_line().contains(r#""value":["a","b"]"#));
        let done = t
            .event(
                &Progress::RunFinished {
                    run: "r".into(),
                    status: ConditionStatus::False,
                    reason: "Failed".into(),
                    message: "Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0".into(),
                },
                at(0),
            )
            .expect("an event");
        assert!(done
            .to_line()
            .contains(r#""run":"r","type":"runFinished","status":"False","reason":"Failed""#));
        let skipped = t
            .event(
                &Progress::TaskSkipped {
                    task: "d".into(),
                    reason: SkipReason::WhenFalse,
                },
                at(0),
            )
            .expect("an event");
        assert!(skipped
            .to_line()
            .contains(r#""reason":"When Expressions evaluated to false""#));
    }
}
