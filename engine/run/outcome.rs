//! What a run leaves behind: [`RunOutcome`] (the final condition, each task's state, the
//! pipeline results, the children, the times) and the records it is made of.
//!
//! # Why
//!
//! The status renderers and the controller turn these into Tekton's `status` fields; keeping
//! them apart from the loop keeps those callers off the driver's state. The outcome is built
//! once, when the loop ends, from what the driver recorded
//! ([`Driver::outcome`](super::driver::Driver::outcome)).

use std::collections::HashMap;

use super::executor::{ExecEvent, TaskRunRequest};
use crate::api::TaskSpec;
use crate::reconcile::results::PipelineResultsOutcome;
use crate::reconcile::{Condition, PipelineTaskState, Timestamp};

/// A TaskRun or child PipelineRun the run created (`status.childReferences`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildReference {
    /// The child's name.
    pub name: String,
    /// The pipeline task it runs.
    pub pipeline_task: String,
    /// What the child is.
    pub kind: ChildKind,
}

/// The kind of a child run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChildKind {
    /// A TaskRun.
    #[default]
    TaskRun,
    /// A PipelineRun (pipelines in pipelines).
    PipelineRun,
}

impl ChildKind {
    /// The `kind` in `childReferences`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChildKind::TaskRun => "TaskRun",
            ChildKind::PipelineRun => "PipelineRun",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The PipelineRun's final `Succeeded` condition.
    pub condition: Condition,
    /// Each pipeline task's final state: DAG tasks in declaration order, then finally tasks.
    pub task_states: Vec<(String, PipelineTaskState)>,
    /// `status.results`, and the error to report if a reference was invalid.
    pub pipeline_results: PipelineResultsOutcome,
    /// Every TaskRun created, in start order.
    pub child_references: Vec<ChildReference>,
    /// Every TaskRun created, as started and as it finished, in start order.
    pub task_runs: Vec<TaskRunRecord>,
    /// `status.startTime`: the first pass.
    pub start_time: Option<Timestamp>,
    /// `status.completionTime`: when the final condition was reached.
    pub completion_time: Option<Timestamp>,
    /// `status.finallyStartTime`.
    pub finally_start_time: Option<Timestamp>,
    /// Each pipeline task's when-expressions as evaluated, substituted (tasks without any
    /// are absent), for `skippedTasks` and `childReferences`.
    pub when_expressions: HashMap<String, Vec<crate::api::WhenExpression>>,
    /// Set when the container engine stopped during the run: the message of the first
    /// TaskRun that reported it ([`ExecOutcome::EngineLost`](super::ExecOutcome::EngineLost)).
    pub engine_lost: Option<String>,
}

/// One TaskRun of the run: what was asked, and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRunRecord {
    /// The resolved TaskRun as handed to the executor.
    pub request: TaskRunRequest,
    /// The Task it ran as resolved (taskRef target or embedded, propagated workspaces
    /// declared), before substitution: `status.taskSpec` keeps its declarations.
    pub spec: TaskSpec,
    /// How it finished; `None` if it had not when the run ended.
    pub event: Option<ExecEvent>,
    /// Failed attempts that were retried (`status.retriesStatus`), oldest first.
    pub retries: Vec<ExecEvent>,
}
