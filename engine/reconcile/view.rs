//! The read-only picture of a PipelineRun that one reconcile pass decides from.

use super::state::{OnError, PipelineTaskState, SpecStatus, Timeouts, Timestamp};
use crate::dag::Dag;

/// A `$(tasks.<task>.results.<result>…)` reference made by a pipeline task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultRef<'a> {
    /// The producing pipeline task.
    pub task: &'a str,
    /// The result's name.
    pub result: &'a str,
}

/// One pipeline task as the caller sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskView<'a> {
    /// The pipeline task's name.
    pub name: &'a str,
    /// Its current state.
    pub state: PipelineTaskState,
    /// Its `onError`.
    pub on_error: OnError,
    /// Whether all its when-expressions hold (true when it has none).
    ///
    /// Consulted only once every parent is done, so the caller may evaluate it against the
    /// parents' results; before that any value is ignored.
    pub when: bool,
    /// Results this task references (params, when-expressions, matrix).
    pub consumes: &'a [ResultRef<'a>],
    /// Results this task emitted; read only once the task is done.
    pub produced: &'a [&'a str],
}

impl<'a> TaskView<'a> {
    /// A not-started task with no when-expressions, no result references and `stopAndFail`.
    pub fn new(name: &'a str) -> TaskView<'a> {
        TaskView {
            name,
            state: PipelineTaskState::NotStarted,
            on_error: OnError::StopAndFail,
            when: true,
            consumes: &[],
            produced: &[],
        }
    }

    /// Whether this task emitted `result`.
    pub fn emitted(&self, result: &str) -> bool {
        self.produced.contains(&result)
    }
}

/// Why a [`RunView`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The DAG and the task list disagree on how many DAG tasks there are.
    #[error("the DAG has {dag} tasks but {tasks} task views were given")]
    Length {
        /// Tasks in the DAG.
        dag: usize,
        /// Task views given.
        tasks: usize,
    },
    /// The `i`-th task view is not the DAG's `i`-th task.
    #[error("task view {index} is \"{view}\" but the DAG's task {index} is \"{dag}\"")]
    Order {
        /// Position of the mismatch.
        index: usize,
        /// Name in the task views.
        view: String,
        /// Name in the DAG.
        dag: String,
    },
}

/// Everything one pass reads about a PipelineRun; time is passed separately.
///
/// Invariant (checked by [`RunView::new`]): `tasks[i]` is the DAG's task `i`.
#[derive(Debug, Clone)]
pub struct RunView<'a> {
    pub(super) name: &'a str,
    pub(super) dag: &'a Dag,
    pub(super) tasks: &'a [TaskView<'a>],
    pub(super) finally: &'a [TaskView<'a>],
    pub(super) spec_status: SpecStatus,
    pub(super) timeouts: Timeouts,
    pub(super) start: Option<Timestamp>,
    pub(super) finally_start: Option<Timestamp>,
    pub(super) cel_error: Option<String>,
}

impl<'a> RunView<'a> {
    /// A run that has not started, with no `spec.status` and no timeouts.
    pub fn new(
        name: &'a str,
        dag: &'a Dag,
        tasks: &'a [TaskView<'a>],
        finally: &'a [TaskView<'a>],
    ) -> Result<RunView<'a>, ViewError> {
        if dag.len() != tasks.len() {
            return Err(ViewError::Length {
                dag: dag.len(),
                tasks: tasks.len(),
            });
        }
        if let Some((index, view)) = tasks
            .iter()
            .enumerate()
            .find(|(i, t)| dag.name(*i) != t.name)
        {
            return Err(ViewError::Order {
                index,
                view: view.name.to_owned(),
                dag: dag.name(index).to_owned(),
            });
        }
        Ok(RunView {
            name,
            dag,
            tasks,
            finally,
            spec_status: SpecStatus::None,
            timeouts: Timeouts::default(),
            start: None,
            finally_start: None,
            cel_error: None,
        })
    }

    /// Sets `spec.status`.
    pub fn with_spec_status(mut self, spec_status: SpecStatus) -> RunView<'a> {
        self.spec_status = spec_status;
        self
    }

    /// Sets the timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> RunView<'a> {
        self.timeouts = timeouts;
        self
    }

    /// Sets `status.startTime` (absent on the first pass).
    pub fn with_start(mut self, start: Timestamp) -> RunView<'a> {
        self.start = Some(start);
        self
    }

    /// Records that evaluating a not-started task's CEL when-expression failed with `error`
    /// (Tekton evaluates them all on every pass, before scheduling).
    pub fn with_cel_error(mut self, error: impl Into<String>) -> RunView<'a> {
        self.cel_error = Some(error.into());
        self
    }

    /// Sets `status.finallyStartTime`.
    pub fn with_finally_start(mut self, finally_start: Timestamp) -> RunView<'a> {
        self.finally_start = Some(finally_start);
        self
    }
}
