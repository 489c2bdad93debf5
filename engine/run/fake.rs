//! An executor that runs nothing: TaskRuns finish as a script says, on the next poll.

use std::collections::{HashMap, HashSet};

use super::executor::{ExecError, ExecEvent, ExecOutcome, Executor, TaskRunRequest};
use crate::api::ParamValue;
use crate::reconcile::Timestamp;

/// What one pipeline task's TaskRun does under a [`FakeExecutor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// Succeeds with these results.
    Succeed(Vec<(String, ParamValue)>),
    /// Fails with this reason and message.
    Fail {
        /// The TaskRun's condition reason.
        reason: String,
        /// The TaskRun's condition message.
        message: String,
    },
    /// Runs until cancelled.
    Hang,
    /// Loses the container engine, with this message.
    LoseEngine(String),
}

/// A scripted [`Executor`] for tests: records every request and cancel it receives.
///
/// A started TaskRun finishes on the first poll after its start; one with no script
/// succeeds with no results. A cancelled TaskRun reports `Cancelled` on the next poll.
#[derive(Debug, Clone, Default)]
pub struct FakeExecutor {
    script: HashMap<String, Script>,
    /// Every TaskRun started, in order.
    pub started: Vec<TaskRunRequest>,
    /// Every cancel received: (TaskRun name, message), in order.
    pub cancelled: Vec<(String, String)>,
    /// TaskRuns started and not yet reported, with their pipeline task.
    running: Vec<(String, String)>,
    /// TaskRuns asked to stop and not yet reported.
    cancelling: HashSet<String>,
}

impl FakeExecutor {
    /// An executor where every TaskRun succeeds with no results.
    pub fn new() -> FakeExecutor {
        FakeExecutor::default()
    }

    /// Scripts what the TaskRun of pipeline task `task` does.
    pub fn script(mut self, task: &str, script: Script) -> FakeExecutor {
        self.script.insert(task.to_owned(), script);
        self
    }

    /// Scripts `task` to succeed with string results.
    pub fn succeed(self, task: &str, results: &[(&str, &str)]) -> FakeExecutor {
        let results = results
            .iter()
            .map(|(k, v)| ((*k).to_owned(), ParamValue::String((*v).to_owned())))
            .collect();
        self.script(task, Script::Succeed(results))
    }

    /// Scripts `task` to fail with reason `Failed`.
    pub fn fail(self, task: &str) -> FakeExecutor {
        self.script(
            task,
            Script::Fail {
                reason: "Failed".into(),
                message: format!("\"step-{task}\" exited with code 1"),
            },
        )
    }

    /// Scripts `task` to end with the engine's loss (`PodEvicted`).
    pub fn lose_engine(self, task: &str) -> FakeExecutor {
        self.script(
            task,
            Script::LoseEngine("the container engine stopped during the run: gone".into()),
        )
    }

    /// Scripts `task` to run until cancelled.
    pub fn hang(self, task: &str) -> FakeExecutor {
        self.script(task, Script::Hang)
    }

    /// The request that started pipeline task `task`, if any.
    pub fn request(&self, task: &str) -> Option<&TaskRunRequest> {
        self.started.iter().find(|r| r.pipeline_task == task)
    }
}

impl Executor for FakeExecutor {
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError> {
        if self.running.iter().any(|(name, _)| name == &task_run.name) {
            return Err(ExecError::Start {
                task_run: task_run.name.clone(),
                message: "already running".into(),
            });
        }
        self.started.push(task_run.clone());
        self.running
            .push((task_run.name.clone(), task_run.pipeline_task.clone()));
        Ok(())
    }

    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        self.cancelled.push((name.to_owned(), message.to_owned()));
        if self.running.iter().any(|(n, _)| n == name) {
            self.cancelling.insert(name.to_owned());
        }
        Ok(())
    }

    fn poll(&mut self, _now: Timestamp) -> Vec<ExecEvent> {
        let mut events = Vec::new();
        let script = &self.script;
        let cancelling = &mut self.cancelling;
        self.running.retain(|(name, task)| {
            let outcome = if cancelling.remove(name) {
                (ExecOutcome::Cancelled, Vec::new())
            } else {
                match script.get(task) {
                    None => (ExecOutcome::Succeeded, Vec::new()),
                    Some(Script::Succeed(results)) => (ExecOutcome::Succeeded, results.clone()),
                    Some(Script::Fail { reason, message }) => (
                        ExecOutcome::Failed {
                            reason: reason.clone(),
                            message: message.clone(),
                        },
                        Vec::new(),
                    ),
                    Some(Script::LoseEngine(message)) => (
                        ExecOutcome::EngineLost {
                            reason: "PodEvicted".into(),
                            message: message.clone(),
                        },
                        Vec::new(),
                    ),
                    Some(Script::Hang) => return true,
                }
            };
            events.push(ExecEvent {
                task_run: name.clone(),
                outcome: outcome.0,
                results: outcome.1,
                report: Default::default(),
            });
            false
        });
        events
    }
}
