//! What a run reports while it runs, for whoever shows it (progress bars, plain lines, JSON).
//!
//! # Why
//!
//! The driver knows when tasks start, finish or are skipped; the executor knows when steps
//! start and what they print. Both report into one [`ProgressSink`], a channel the CLI reads
//! on its own thread ([`crate::events::fan_out`] hands each event to the display and to the
//! `--events json` writer), so rendering never slows the loop and the loop never waits on a
//! terminal. Sending is best effort: a closed sink drops events silently.
//!
//! A sink made [`ProgressSink::masked`] masks every event's text as it is sent (see
//! [`crate::mask`]), so no reader of the channel ever sees a secret value. Names (tasks,
//! steps, TaskRuns, images) are not masked: they come from the YAML, not from Secrets.

use std::sync::{mpsc, Arc};

use crate::mask::Masker;

use super::breakpoints::{Break, Entry};
use crate::api::ParamValue;
use crate::reconcile::{ConditionStatus, PipelineTaskState, SkipReason};

/// Which output stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// What kind of object a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// A PipelineRun.
    PipelineRun,
    /// A bare TaskRun.
    TaskRun,
}

impl Stream {
    /// `stdout` or `stderr`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

impl RunKind {
    /// The Kubernetes kind: `PipelineRun` or `TaskRun`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::PipelineRun => "PipelineRun",
            RunKind::TaskRun => "TaskRun",
        }
    }
}

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The top-level driver began the run; always its first event.
    RunStarted {
        /// The run's name (`generateName` already resolved).
        run: String,
        /// PipelineRun or TaskRun.
        kind: RunKind,
    },
    /// The top-level driver ended the run; always its last event.
    RunFinished {
        /// The run's name.
        run: String,
        /// The final `Succeeded` condition's status (`Unknown` when adze itself failed).
        status: ConditionStatus,
        /// Its reason (`Succeeded`, `Failed`, `Cancelled`, …; `Error` when adze itself failed).
        reason: String,
        /// Its message.
        message: String,
    },
    /// A pipeline task's TaskRun is handed to the executor (sent just before, so the
    /// events of its steps come after it).
    TaskStarted {
        /// The pipeline task (the TaskRun's name for a bare TaskRun).
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// True for a finally task.
        finally: bool,
        /// The step names, in order.
        steps: Vec<String>,
    },
    /// A pipeline task finished, one way or another.
    TaskFinished {
        /// The pipeline task.
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// Its final state.
        state: PipelineTaskState,
        /// The TaskRun's condition message (empty on success).
        message: String,
    },
    /// An attempt of a TaskRun failed and the driver starts it again (`retries`); the
    /// new attempt's `TaskStarted` follows.
    TaskRetried {
        /// The pipeline task (or matrix label).
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The number of the attempt that starts now: 2 for the first retry.
        attempt: u32,
        /// The failed attempt's condition reason.
        reason: String,
        /// The failed attempt's condition message.
        message: String,
    },
    /// A result a TaskRun emitted, sent when its last attempt ended, before `TaskFinished`.
    TaskResult {
        /// The pipeline task (or matrix label).
        task: String,
        /// The TaskRun's name.
        task_run: String,
        /// The result's name.
        name: String,
        /// Its value.
        value: ParamValue,
    },
    /// The PipelineRun's condition or its children changed during the run (sent by the
    /// top-level driver after a pass; the final condition is the driver's outcome).
    RunStatus {
        /// The condition after the pass.
        condition: crate::reconcile::Condition,
        /// Every child started so far, in start order.
        children: Vec<super::ChildReference>,
        /// When finally started, once it did.
        finally_start: Option<crate::reconcile::Timestamp>,
    },
    /// A pipeline task will not run.
    TaskSkipped {
        /// The pipeline task.
        task: String,
        /// Why.
        reason: SkipReason,
    },
    /// A step's container started.
    StepStarted {
        /// The TaskRun's name.
        task_run: String,
        /// The step's name.
        step: String,
    },
    /// A step's container finished.
    StepFinished {
        /// The TaskRun's name.
        task_run: String,
        /// The step's name.
        step: String,
        /// The exit code Tekton records for it.
        exit_code: i32,
        /// How long its container ran, in milliseconds (0 for a step that never ran).
        duration_ms: u64,
    },
    /// One line a step printed (without its trailing newline).
    Log {
        /// The TaskRun's name.
        task_run: String,
        /// The step (or `sidecar-<name>`) that printed it.
        step: String,
        /// Where it was printed.
        stream: Stream,
        /// The line.
        line: String,
    },
    /// An image is being pulled.
    Pull {
        /// The image reference.
        image: String,
        /// The engine's status text (`Downloading`, `Pull complete`, …).
        status: String,
        /// Bytes done and total, when the engine says.
        bytes: Option<(u64, u64)>,
    },
    /// Something the user should know that does not fail the run.
    Warning {
        /// The TaskRun concerned, if any.
        task_run: Option<String>,
        /// What happened.
        message: String,
    },
    /// The run was asked to stop (Ctrl-C or SIGTERM); `force` on the second request.
    Interrupted {
        /// True when containers are being killed without waiting.
        force: bool,
    },
    /// The run stopped at a breakpoint (`--break-on-failure`, `--break-before`) and its
    /// debug container is ready to be entered; sent before the session starts.
    Breakpoint {
        /// Where it stopped and how to get in.
        stop: Break,
    },
    /// The session at that breakpoint is over and its debug container removed.
    BreakpointEnded {
        /// The stop that ended.
        stop: Break,
    },
}

impl Progress {
    /// The event with the secret values in its text replaced (see [`crate::mask`]).
    pub fn masked(mut self, masker: &Masker) -> Progress {
        match &mut self {
            Progress::TaskFinished { message, .. }
            | Progress::Warning { message, .. }
            | Progress::TaskRetried { message, .. }
            | Progress::RunFinished { message, .. } => masker.mask_string(message),
            Progress::RunStatus { condition, .. } => masker.mask_string(&mut condition.message),
            Progress::Log { line, .. } => masker.mask_string(line),
            Progress::Pull { status, .. } => masker.mask_string(status),
            // The engine's words about why no shell runs could quote the step's command.
            Progress::Breakpoint { stop } | Progress::BreakpointEnded { stop } => {
                if let Entry::NoShell { why, .. } = &mut stop.entry {
                    masker.mask_string(why);
                }
            }
            Progress::TaskResult { value, .. } => match value {
                ParamValue::String(s) => masker.mask_string(s),
                ParamValue::Array(items) => items.iter_mut().for_each(|s| masker.mask_string(s)),
                ParamValue::Object(map) => map.values_mut().for_each(|s| masker.mask_string(s)),
            },
            Progress::RunStarted { .. }
            | Progress::TaskStarted { .. }
            | Progress::TaskSkipped { .. }
            | Progress::StepStarted { .. }
            | Progress::StepFinished { .. }
            | Progress::Interrupted { .. } => {}
        }
        self
    }

    /// The last event of a run adze itself could not finish (`adze run` exits 2 or 3).
    pub fn run_error(run: String, error: &super::RunError) -> Progress {
        Progress::RunFinished {
            run,
            status: ConditionStatus::Unknown,
            reason: "Error".to_owned(),
            message: error.to_string(),
        }
    }
}

/// Where progress goes: a channel, or nowhere.
#[derive(Debug, Clone, Default)]
pub struct ProgressSink {
    sender: Option<mpsc::Sender<Progress>>,
    masker: Option<Arc<Masker>>,
}

impl ProgressSink {
    /// A sink that drops everything.
    pub fn none() -> ProgressSink {
        ProgressSink::default()
    }

    /// A sink and the receiver that reads what is sent to it.
    pub fn channel() -> (ProgressSink, mpsc::Receiver<Progress>) {
        let (sender, receiver) = mpsc::channel();
        (
            ProgressSink {
                sender: Some(sender),
                masker: None,
            },
            receiver,
        )
    }

    /// This sink, masking every event with `masker` before it is sent (its clones too).
    pub fn masked(mut self, masker: Arc<Masker>) -> ProgressSink {
        self.masker = Some(masker);
        self
    }

    /// The masker this sink masks with: an executor that learns secret values while it runs
    /// (the Kubernetes executor reading the cluster's Secrets) adds them to it.
    pub fn masker(&self) -> Option<&Arc<Masker>> {
        self.masker.as_ref()
    }

    /// Reports one event; a closed or absent receiver is not an error.
    pub fn send(&self, event: Progress) {
        if let Some(sender) = &self.sender {
            let event = match &self.masker {
                Some(m) if !m.is_empty() => event.masked(m),
                _ => event,
            };
            let _ = sender.send(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{Condition, ConditionStatus, RunReason};

    #[test]
    fn a_masked_sink_masks_every_text_of_every_event() {
        let masker = Masker::new();
        masker.add("hunter22").unwrap();
        let (sink, events) = ProgressSink::channel();
        let sink = sink.masked(Arc::new(masker));
        let clone = sink.clone();
        clone.send(Progress::Log {
            task_run: "tr".into(),
            step: "s".into(),
            stream: Stream::Stdout,
            line: "token=hunter22".into(),
        });
        sink.send(Progress::Warning {
            task_run: None,
            message: "bad hunter22".into(),
        });
        sink.send(Progress::TaskFinished {
            task: "t".into(),
            task_run: "tr".into(),
            state: PipelineTaskState::Succeeded,
            message: "result hunter22 too big".into(),
        });
        sink.send(Progress::RunStatus {
            condition: Condition {
                status: ConditionStatus::False,
                reason: RunReason::Failed,
                message: "hunter22".into(),
            },
            children: Vec::new(),
            finally_start: None,
        });
        drop((sink, clone));
        let texts: Vec<String> = events
            .iter()
            .map(|e| match e {
                Progress::Log { line, .. } => line,
                Progress::Warning { message, .. } | Progress::TaskFinished { message, .. } => {
                    message
                }
                Progress::RunStatus { condition, .. } => condition.message,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(texts, ["token=***", "bad ***", "result *** too big", "***"]);
    }
}
