//! [`Driver`]: the state of one PipelineRun being driven, how it is built from the
//! PipelineRun, and its options.
//!
//! # Why
//!
//! Building the driver is where everything known up front is refused (the checks in
//! `checks`), so a run that cannot go through fails before its first TaskRun. The loop that
//! then drives it is in `run_loop`; what it does with each kind of action, event and child
//! is in the modules named after them.
//!
//! # Invariants
//!
//! - Every pipeline task is tracked once from the start, DAG tasks in declaration order then
//!   finally tasks, each with its TaskRun name (`<run>-<task>`) fixed when the driver is built.
//! - A task's TaskRuns are known once it starts (one, or one per matrix combination) and
//!   keep their names across retries.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::checks::{check_env, check_supported, check_volumes};
use super::error::RunError;
use super::executor::ExecOutcome;
use super::interrupt::Interrupt;
use super::outcome::{ChildReference, RunOutcome, TaskRunRecord};
use super::progress::ProgressSink;
use super::spec_status::spec_status;
use super::timeouts::timeouts;
use super::volumes;
use super::wiring::{consumed_results, Produced, Statuses, Values};
use super::workspaces::{self, RunDirectory};
use crate::api::pipeline::PipelineTask;
use crate::api::{ParamValue, PipelineRun, PipelineSpec, WorkspaceBinding};
use crate::dag::Dag;
use crate::load::Bundle;
use crate::plan::child_name;
use crate::plan::dependencies::pipeline_dag;
use crate::plan::matrix::Combination;
use crate::plan::pipeline::{pipeline_params, resolve_pipeline};
use crate::plan::scope::Scope;
use crate::reconcile::results::{pipeline_results, TaskResults};
use crate::reconcile::{
    CancelCause, Condition, OnError, PipelineTaskState, SpecStatus, Timeouts, Timestamp,
};

/// One pipeline task as the driver tracks it.
#[derive(Debug)]
pub(super) struct Tracked<'b> {
    pub(super) pt: &'b PipelineTask,
    pub(super) task_run: String,
    pub(super) consumes: Vec<(String, String)>,
    pub(super) on_error: OnError,
    pub(super) state: PipelineTaskState,
    /// Set once a cancel was sent, with its cause (decides the recorded state).
    pub(super) cancel: Option<CancelCause>,
    /// `retries`: further attempts each TaskRun gets after a failure.
    pub(super) retries: u32,
    /// The TaskRuns started: one, or one per matrix combination.
    pub(super) children: Vec<Child>,
}

/// One TaskRun of a pipeline task: its only one, or one matrix combination.
#[derive(Debug, Clone)]
pub(super) struct Child {
    pub(super) name: String,
    /// The progress label: the task's name, with the combination's index for a matrix.
    pub(super) label: String,
    /// This combination's matrix params; empty without a matrix.
    pub(super) combination: Combination,
    /// Attempts started so far.
    pub(super) attempts: u32,
    /// How it finished, with its results; `None` while it runs.
    pub(super) done: Option<(ExecOutcome, Vec<(String, ParamValue)>)>,
}

/// Drives one PipelineRun to completion against an [`Executor`](super::Executor).
#[derive(Debug)]
pub struct Driver<'b> {
    pub(super) bundle: &'b Bundle,
    pub(super) name: String,
    pub(super) namespace: String,
    pub(super) spec: &'b PipelineSpec,
    pub(super) dag: Dag,
    pub(super) tasks: Vec<Tracked<'b>>,
    pub(super) finally: Vec<Tracked<'b>>,
    pub(super) params: HashMap<String, ParamValue>,
    pub(super) scope: Scope,
    pub(super) spec_status: SpecStatus,
    pub(super) timeouts: Timeouts,
    pub(super) start: Option<Timestamp>,
    pub(super) finally_start: Option<Timestamp>,
    pub(super) produced: Produced,
    pub(super) children: Vec<ChildReference>,
    pub(super) records: Vec<TaskRunRecord>,
    /// Artifacts each finished task declared, by pipeline task.
    pub(super) artifacts: HashMap<String, serde_json::Value>,
    pub(super) tick: Duration,
    pub(super) progress: ProgressSink,
    pub(super) interrupt: Interrupt,
    /// The `spec.status` the run started with; interrupts escalate from it.
    pub(super) initial_status: SpecStatus,
    /// `spec.workspaces` of the PipelineRun.
    pub(super) bindings: Vec<WorkspaceBinding>,
    /// Child PipelineRuns (pipelines in pipelines) still running, by pipeline task.
    pub(super) nested: HashMap<String, Box<Driver<'b>>>,
    /// Child PipelineRuns the executor runs elsewhere, by their name: their pipeline task.
    pub(super) remote: HashMap<String, String>,
    /// The PipelineRun, for per-task settings (`taskRunTemplate`, `taskRunSpecs`).
    pub(super) pr: &'b PipelineRun,
    /// Where the run directory for shared workspaces is created.
    pub(super) workspace_base: PathBuf,
    /// Leave the run directory behind.
    pub(super) keep: bool,
    /// The shared workspaces' directory, created when the run starts if a binding needs it.
    pub(super) run_dir: Option<RunDirectory>,
    /// The `hostPath` volumes the pipeline's tasks mount, found before anything starts.
    pub(super) host_paths: Vec<volumes::HostPathUse>,
    /// Refuse `hostPath` volumes instead of warning (`--strict`).
    pub(super) strict: bool,
    /// Set once a TaskRun reported that the engine stopped: nothing more starts, and the run
    /// ends as soon as nothing runs.
    pub(super) engine_lost: Option<String>,
    /// TaskRuns run on a cluster ([`Driver::for_cluster`]): nothing is resolved on this host.
    pub(super) cluster: bool,
    /// The run's `metadata.uid` (a child PipelineRun has none of its own).
    pub(super) uid: Option<String>,
    /// For a child PipelineRun: the pipeline tasks that run it and its ancestors, outermost
    /// first (see [`TaskRunRequest::parent_tasks`](super::TaskRunRequest::parent_tasks)).
    pub(super) parent_tasks: Vec<String>,
}

impl<'b> Driver<'b> {
    /// Resolves the PipelineRun's Pipeline (embedded or by name in `bundle`) and builds its DAG.
    pub fn new(bundle: &'b Bundle, pr: &'b PipelineRun) -> Result<Driver<'b>, RunError> {
        let (spec, target) = resolve_pipeline(bundle, pr)?;
        // `context.pipeline.name` of an embedded spec is the run's name.
        let pipeline_name = (target != "(embedded)").then_some(target);
        Driver::build(bundle, pr, pr, spec, pipeline_name, false)
    }

    /// Like [`Driver::new`], for an executor that runs TaskRuns on a cluster: each request's
    /// [`ClusterSources`] are what it mounts, and nothing is read or created on this host (no
    /// run directory, no ConfigMap or Secret values, no workspace or volume files, no refusal
    /// of sources only a cluster has); the host-side fields of the requests stay empty.
    ///
    /// [`ClusterSources`]: super::ClusterSources
    pub fn for_cluster(bundle: &'b Bundle, pr: &'b PipelineRun) -> Result<Driver<'b>, RunError> {
        let (spec, target) = resolve_pipeline(bundle, pr)?;
        let pipeline_name = (target != "(embedded)").then_some(target);
        Driver::build(bundle, pr, pr, spec, pipeline_name, true)
    }

    /// A driver for `run` (its name, params, workspaces, status and timeouts) running
    /// `spec`; `settings` supplies the per-task settings (`taskRunTemplate`, `taskRunSpecs`),
    /// which a child PipelineRun takes from its parent; `cluster` as in [`Driver::for_cluster`].
    pub(super) fn build(
        bundle: &'b Bundle,
        settings: &'b PipelineRun,
        run: &PipelineRun,
        spec: &'b PipelineSpec,
        pipeline_name: Option<String>,
        cluster: bool,
    ) -> Result<Driver<'b>, RunError> {
        let pr = settings;
        let name = run
            .metadata
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "run".to_owned());
        let namespace = run
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let pipeline_name = pipeline_name.unwrap_or_else(|| name.clone());
        let (dag, _) = pipeline_dag(spec)?;
        if !cluster {
            workspaces::check_bindings(bundle, &run.spec.workspaces)?;
        }

        let (params, _) = pipeline_params(spec, run);
        let mut scope = Scope {
            params: params.clone(),
            ..Scope::default()
        };
        for (k, v) in [
            ("pipelineRun.name", name.clone()),
            ("pipelineRun.namespace", namespace.clone()),
            ("pipelineRun.uid", String::new()),
            ("pipeline.name", pipeline_name),
        ] {
            scope.context.insert(k.to_owned(), v);
        }
        for w in &spec.workspaces {
            let bound = run.spec.workspaces.iter().any(|b| b.name == w.name);
            scope
                .workspaces
                .insert((w.name.clone(), "bound".into()), bound.to_string());
        }

        let track = |pt: &'b PipelineTask| -> Result<Tracked<'b>, RunError> {
            check_supported(bundle, pt)?;
            if !cluster {
                check_env(bundle, pt)?;
            }
            let on_error = match pt.on_error.as_deref().map(|s| scope.subst(s)).as_deref() {
                Some("continue") => OnError::Continue,
                _ => OnError::StopAndFail,
            };
            Ok(Tracked {
                pt,
                task_run: child_name(&name, &format!("-{}", pt.name)),
                consumes: consumed_results(pt),
                on_error,
                state: PipelineTaskState::NotStarted,
                cancel: None,
                retries: u32::try_from(pt.retries.unwrap_or(0)).unwrap_or(0),
                children: Vec::new(),
            })
        };
        let tasks = spec.tasks.iter().map(track).collect::<Result<_, _>>()?;
        let finally = spec.finally.iter().map(track).collect::<Result<_, _>>()?;
        let mut host_paths = Vec::new();
        for pt in spec.tasks.iter().chain(&spec.finally) {
            let found = check_volumes(bundle, pr, pt, cluster)?;
            host_paths.extend(found);
        }

        let initial_status = spec_status(run.spec.status.as_deref());
        Ok(Driver {
            bundle,
            spec_status: initial_status,
            initial_status,
            timeouts: timeouts(run)?,
            name,
            namespace,
            spec,
            dag,
            tasks,
            finally,
            params,
            scope,
            start: None,
            finally_start: None,
            produced: Produced::new(),
            children: Vec::new(),
            records: Vec::new(),
            artifacts: HashMap::new(),
            tick: Duration::from_millis(500),
            progress: ProgressSink::none(),
            interrupt: Interrupt::new(),
            bindings: run.spec.workspaces.clone(),
            pr,
            nested: HashMap::new(),
            remote: HashMap::new(),
            workspace_base: std::env::temp_dir(),
            keep: false,
            parent_tasks: Vec::new(),
            run_dir: None,
            host_paths,
            strict: false,
            engine_lost: None,
            cluster,
            uid: run.metadata.uid.clone(),
        })
    }

    /// Refuses `hostPath` volumes when the run starts, instead of warning about them
    /// (`--strict`).
    pub fn with_strict(mut self, strict: bool) -> Driver<'b> {
        self.strict = strict;
        self
    }

    /// Creates the run directory for shared workspaces under `base` (default: the system
    /// temporary directory).
    pub fn with_workspace_base(mut self, base: PathBuf) -> Driver<'b> {
        self.workspace_base = base;
        self
    }

    /// Leaves the run directory behind when the run ends (`--keep`).
    pub fn with_keep(mut self, keep: bool) -> Driver<'b> {
        self.keep = keep;
        self
    }

    /// Reports task starts, finishes and skips to `sink`.
    pub fn with_progress(mut self, sink: ProgressSink) -> Driver<'b> {
        self.progress = sink;
        self
    }

    /// Stops the run when `interrupt` is triggered: the first request cancels it gracefully
    /// (`CancelledRunFinally`: running tasks are cancelled, finally runs), the second cancels
    /// everything (`Cancelled`), finally tasks included.
    pub fn with_interrupt(mut self, interrupt: Interrupt) -> Driver<'b> {
        self.interrupt = interrupt;
        self
    }

    /// Resumes a run that already started (`adze controller` after a restart): its start
    /// time, and the time finally started if it did, as its status records them; the
    /// timeouts count from these.
    pub fn with_resumed(
        mut self,
        start: Option<Timestamp>,
        finally_start: Option<Timestamp>,
    ) -> Driver<'b> {
        self.start = start.or(self.start);
        self.finally_start = finally_start.or(self.finally_start);
        self
    }

    /// Sets how long the loop sleeps when a poll reports nothing (default 500 ms).
    pub fn with_tick(mut self, tick: Duration) -> Driver<'b> {
        self.tick = tick;
        self
    }

    /// True while a TaskRun or child PipelineRun of this run has not finished.
    pub(super) fn any_running(&self) -> bool {
        self.all()
            .any(|t| matches!(t.state, PipelineTaskState::Running { .. }))
    }

    /// What substitution at this point of the run knows (params, context, results so far,
    /// execution status, artifacts).
    pub(super) fn values<'s>(&'s self, statuses: &'s Statuses) -> Values<'s> {
        self.values_in(&self.scope, statuses)
    }

    /// [`Driver::values`] with another scope (one pipeline task's, see `task_scope`).
    pub(super) fn values_in<'s>(&'s self, scope: &'s Scope, statuses: &'s Statuses) -> Values<'s> {
        Values {
            scope,
            results: &self.produced,
            statuses,
            artifacts: &self.artifacts,
        }
    }

    /// The execution status of the DAG tasks so far, for finally tasks' variables.
    pub(super) fn statuses(&self) -> Statuses {
        let mut statuses = Statuses::of(self.tasks.iter().map(|t| (t.pt.name.as_str(), &t.state)));
        statuses.matrix_lengths = self
            .all()
            .filter(|t| t.pt.matrix.is_some())
            .map(|t| (t.pt.name.clone(), t.children.len()))
            .collect();
        statuses
    }

    /// Every pipeline task: DAG tasks in declaration order, then finally tasks.
    pub(super) fn all(&self) -> impl Iterator<Item = &Tracked<'b>> {
        self.tasks.iter().chain(&self.finally)
    }

    /// The pipeline task called `pipeline_task`, DAG or finally.
    pub(super) fn find_mut(&mut self, pipeline_task: &str) -> Option<&mut Tracked<'b>> {
        self.tasks
            .iter_mut()
            .chain(self.finally.iter_mut())
            .find(|t| t.pt.name == pipeline_task)
    }
}

impl Driver<'_> {
    /// The run's [`RunOutcome`], once it ended with `condition` (at `completion`, unless it
    /// is pending).
    pub(super) fn outcome(self, condition: Condition, completion: Option<Timestamp>) -> RunOutcome {
        let statuses = self.statuses();
        let values = self.values(&statuses);
        let when_expressions = self
            .all()
            .filter(|t| !t.pt.when.is_empty())
            .map(|t| (t.pt.name.clone(), values.substitute_when(&t.pt.when)))
            .collect();
        let results_of = |ts: &[Tracked<'_>]| -> HashMap<String, TaskResults> {
            ts.iter()
                .map(|t| {
                    let results = TaskResults {
                        succeeded: t.state == PipelineTaskState::Succeeded,
                        results: self.produced.get(&t.pt.name).cloned().unwrap_or_default(),
                    };
                    (t.pt.name.clone(), results)
                })
                .collect()
        };
        let pipeline_results = pipeline_results(
            &self.name,
            &self.spec.results,
            &results_of(&self.tasks),
            &results_of(&self.finally),
        );
        RunOutcome {
            condition,
            task_states: self
                .all()
                .map(|t| (t.pt.name.clone(), t.state.clone()))
                .collect(),
            pipeline_results,
            child_references: self.children,
            task_runs: self.records,
            start_time: self.start,
            completion_time: completion,
            finally_start_time: self.finally_start,
            when_expressions,
            engine_lost: self.engine_lost,
        }
    }
}
