//! The driver: the one loop that asks [`reconcile`] what to do, hands the actions to an
//! [`Executor`], and feeds the executor's events back as task states.
//!
//! # Why
//!
//! `adze run`, `adze serve` and `adze controller` differ only in where state lives and which
//! executor runs TaskRuns; the loop is shared so Tekton's semantics live in one place. The
//! decisions stay in the pure [`reconcile`]; this module only observes, substitutes and
//! records. Time comes from a [`Clock`] so tests are deterministic.
//!
//! # The loop
//!
//! Each pass: read the clock, build a [`RunView`] from the recorded states (evaluating
//! when-expressions against the results produced so far), call [`reconcile`], apply its
//! actions (Start/StartFinally resolve the TaskRun and hand it to the executor; Cancel asks the
//! executor to stop a child; Skip and FailValidation are recorded), stop if the step is done,
//! otherwise poll the executor and record what finished, sleeping one tick when nothing did.
//!
//! # Invariants
//!
//! - A TaskRun is started at most once, and only on a `Start`/`StartFinally` action; its
//!   params are substituted from results already produced, never from placeholders.
//! - A cancel is sent once per TaskRun, although [`reconcile`] repeats it every pass.
//! - An event only changes a task that is `Running`; repeated or unknown events are ignored.
//! - The loop ends: when the step is done; when the run is pending (nothing can change it
//!   here); or with [`RunError::Stalled`] when nothing runs, nothing was decided and the run
//!   is not done. On an executor error every running child is cancelled before returning.
//! - When the step is done, the executor is polled once more so cancelled children are
//!   recorded as such; children that take longer are the executor's to clean up.
//! - Once a TaskRun reports [`ExecOutcome::EngineLost`], nothing more starts (no task, no
//!   `finally`, no retry); the run ends `False/Failed` with the engine's message as soon as
//!   nothing runs, and [`RunOutcome::engine_lost`] says why.
//!
//! # Pipelines in pipelines
//!
//! A pipeline task with `pipelineSpec`/`pipelineRef` starts a child `Driver` for a
//! PipelineRun `<run>-<task>` (params substituted, workspaces mapped from the parent's
//! bindings, `timeout` as its pipeline timeout). Each pass advances the children after the
//! parent, executor events the parent does not know go to its children, and a child that
//! ends gives its pipeline task its outcome and its pipeline results. Cancelling the task
//! cancels the child outright.
//!
//! # Not yet
//!
//! - Custom tasks (refused by [`Driver::new`]).
//! - Changes of `spec.status` during the run other than interrupts; `spec.status` is read once
//!   from the PipelineRun.
//! - Turning a pipeline-results error into `False/CouldntGetPipelineResult`: it is returned in
//!   [`RunOutcome::pipeline_results`] for the caller.
//! - `csi` workspace bindings and projections other than ConfigMaps and Secrets, locally
//!   (a cluster driver passes them through).
//! - `hostPath` volumes of the tasks of a child PipelineRun (pipelines in pipelines) are
//!   mounted without the warning, and not refused under `--strict`.
//! - A child PipelineRun whose run directory cannot be created aborts the whole run with
//!   [`RunError::RunDirectory`] instead of failing its pipeline task with
//!   `CouldntCreateWorkspacePVC`.
//!
//! # Volumes and podTemplate
//!
//! Every pipeline task's volumes (its Task's and its effective `podTemplate`'s, see
//! [`pod_template`]) are checked by [`Driver::new`]: sources that need a cluster are refused
//! there, and `hostPath` volumes are warned about (or refused with
//! [`Driver::with_strict`]) when [`Driver::run`] begins, before anything starts.
//!
//! # On a cluster
//!
//! [`Driver::for_cluster`] (and [`TaskRunDriver::for_cluster`]) drive the same loop for an
//! executor that runs TaskRuns as Pods: every request carries its [`ClusterSources`]
//! (workspace bindings and volumes as written, the effective `podTemplate`, the named service
//! account, the PipelineRun) and nothing is read or created on this host: no run directory,
//! no ConfigMap or Secret values in the steps' environment, no refusal of sources only a
//! cluster provides. The host-side fields of the requests (`workspaces`, `volumes`) stay
//! empty. Credential files are still derived from the loaded ServiceAccount and Secrets.
//!
//! # Workspaces
//!
//! [`workspaces`] turns the PipelineRun's bindings into each TaskRun's
//! [`WorkspaceMount`]s; bindings backed by a directory share one run directory (created when
//! the run starts, removed when it ends unless [`Driver::with_keep`]). A run directory that
//! cannot be created (a full disk) ends the run `False/CouldntCreateWorkspacePVC`, Tekton's
//! reason for a workspace PVC it could not create, before any TaskRun starts.

pub mod artifacts;
mod clock;
pub mod config_data;
pub mod credentials;
mod env;
mod executor;
mod fake;
pub mod host_file;
mod interrupt;
pub mod leftovers;
pub mod ownership;
pub mod pod_template;
mod progress;
mod standalone;
pub mod volumes;
mod wiring;
pub mod workspaces;

#[cfg(test)]
mod tests;

pub use clock::{Clock, FakeClock, SystemClock};
pub use executor::{
    ClusterSources, ClusterWorkspace, DnsSettings, ExecError, ExecEvent, ExecOutcome, Executor,
    HostPathKind, PodSettings, RunIdentity, StepReport, TaskRunReport, TaskRunRequest, TaskVolume,
    VolumeSource, WorkspaceMount, WorkspaceSource,
};
pub use fake::{FakeExecutor, Script};
pub use interrupt::Interrupt;
pub use progress::{Progress, ProgressSink, Stream};
pub use standalone::TaskRunDriver;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::pipeline::PipelineTask;
use crate::api::{
    GoDuration, Param, ParamValue, PipelineRun, PipelineSpec, TaskSpec, WorkspaceBinding,
};
use crate::cel::CelError;
use crate::dag::Dag;
use crate::load::Bundle;
use crate::plan::confinement::apply_overrides;
use crate::plan::dependencies::pipeline_dag;
use crate::plan::matrix::{combinations, Combination};
use crate::plan::pipeline::{find_pipeline, pipeline_params, resolve_pipeline};
use crate::plan::scope::Scope;
use crate::plan::task::{resolve_task, workspace_claims, TaskInputs};
use crate::plan::task_run::find_task;
use crate::plan::{child_name, PlanError};
use crate::reconcile::results::{
    aggregate_matrix, pipeline_results, MatrixRun, PipelineResultsOutcome,
    RunOutcome as MatrixOutcome, TaskResults,
};
use crate::reconcile::{
    reconcile, Action, CancelCause, Condition, OnError, PipelineTaskState, ResultRef, RunReason,
    RunView, SkipReason, SpecStatus, Step, TaskView, Timeouts, Timestamp, ViewError,
};
use wiring::{consumed_results, Produced, Statuses, Values};
use workspaces::RunDirectory;

/// Tekton's `default-timeout-minutes`, applied when `timeouts.pipeline` is absent.
const DEFAULT_PIPELINE_TIMEOUT_MINUTES: i64 = 60;

/// Why a run could not be driven to a final condition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The Pipeline or one of its Tasks could not be resolved, or uses what is not supported.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The run view was inconsistent with the DAG (a bug in the driver).
    #[error(transparent)]
    View(#[from] ViewError),
    /// The executor failed; running children were asked to cancel.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// A `spec.timeouts` field is not a Go duration.
    #[error("timeouts.{field}: \"{value}\" is not a duration")]
    InvalidTimeout {
        /// `pipeline`, `tasks` or `finally`.
        field: &'static str,
        /// The text given.
        value: String,
    },
    /// Nothing runs and nothing can be decided, yet the run is not done (a bug in reconcile).
    #[error("the run stalled: {0}")]
    Stalled(String),
    /// A partial re-run (`--only`/`--from`) cannot be set up.
    #[error("{0}")]
    Selection(String),
    /// A ConfigMap or Secret the run needs was not among the loaded documents.
    #[error(
        "{kind} \"{name}\" (needed by {needed_by}) is not in the loaded files: pass the YAML \
         file that defines it to `adze run` along with the pipeline, or mark the reference optional"
    )]
    MissingObject {
        /// `ConfigMap` or `Secret`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The workspace or environment variable that refers to it.
        needed_by: String,
    },
    /// A ConfigMap or Secret lacks a key the run refers to.
    #[error("{kind} \"{name}\" has no key \"{key}\" (needed by {needed_by}); add it or mark the reference optional")]
    MissingKey {
        /// `ConfigMap` or `Secret`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The missing key.
        key: String,
        /// The workspace or environment variable that refers to it.
        needed_by: String,
    },
    /// A loaded ConfigMap or Secret cannot be read.
    #[error("{kind} \"{name}\": {message}")]
    InvalidObject {
        /// `ConfigMap` or `Secret`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A workspace of a pipeline task cannot be provided.
    #[error("workspace \"{workspace}\" of pipeline task \"{task}\": {message}")]
    Workspace {
        /// The Task's workspace name.
        workspace: String,
        /// The pipeline task.
        task: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A Task volume cannot be provided.
    #[error("volume \"{volume}\" ({needed_by}): {message}")]
    Volume {
        /// The volume's name.
        volume: String,
        /// The TaskRun or pipeline task it belongs to.
        needed_by: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A `podTemplate` field holds what Kubernetes would refuse.
    #[error("podTemplate.{field} of {needed_by}: {message}")]
    PodTemplate {
        /// The field, as `dnsConfig.nameservers[0]`.
        field: String,
        /// The TaskRun or pipeline task whose template it is.
        needed_by: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The run's directory for shared workspaces could not be created.
    #[error("cannot create the run directory under {base}: {message}")]
    RunDirectory {
        /// The configured base directory.
        base: PathBuf,
        /// The I/O error.
        message: String,
    },
}

/// Which pipeline tasks a partial re-run really runs; the others reuse recorded results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Just this DAG task; finally tasks do not run.
    Only(String),
    /// This DAG task, everything downstream of it, and the finally tasks.
    From(String),
}

/// Results recorded by an earlier run of the same PipelineRun, by pipeline task.
pub type Recorded = HashMap<String, Vec<(String, ParamValue)>>;

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
    /// TaskRun that reported it ([`ExecOutcome::EngineLost`]).
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

/// One pipeline task as the driver tracks it.
#[derive(Debug)]
struct Tracked<'b> {
    pt: &'b PipelineTask,
    task_run: String,
    consumes: Vec<(String, String)>,
    on_error: OnError,
    state: PipelineTaskState,
    /// Set once a cancel was sent, with its cause (decides the recorded state).
    cancel: Option<CancelCause>,
    /// `retries`: further attempts each TaskRun gets after a failure.
    retries: u32,
    /// The TaskRuns started: one, or one per matrix combination.
    children: Vec<Child>,
}

/// One TaskRun of a pipeline task: its only one, or one matrix combination.
#[derive(Debug, Clone)]
struct Child {
    name: String,
    /// The progress label: the task's name, with the combination's index for a matrix.
    label: String,
    /// This combination's matrix params; empty without a matrix.
    combination: Combination,
    /// Attempts started so far.
    attempts: u32,
    /// How it finished, with its results; `None` while it runs.
    done: Option<(ExecOutcome, Vec<(String, ParamValue)>)>,
}

/// Drives one PipelineRun to completion against an [`Executor`].
#[derive(Debug)]
pub struct Driver<'b> {
    bundle: &'b Bundle,
    name: String,
    namespace: String,
    spec: &'b PipelineSpec,
    dag: Dag,
    tasks: Vec<Tracked<'b>>,
    finally: Vec<Tracked<'b>>,
    params: HashMap<String, ParamValue>,
    scope: Scope,
    spec_status: SpecStatus,
    timeouts: Timeouts,
    start: Option<Timestamp>,
    finally_start: Option<Timestamp>,
    produced: Produced,
    children: Vec<ChildReference>,
    records: Vec<TaskRunRecord>,
    /// Artifacts each finished task declared, by pipeline task.
    artifacts: HashMap<String, serde_json::Value>,
    tick: Duration,
    progress: ProgressSink,
    interrupt: Interrupt,
    /// The `spec.status` the run started with; interrupts escalate from it.
    initial_status: SpecStatus,
    /// `spec.workspaces` of the PipelineRun.
    bindings: Vec<WorkspaceBinding>,
    /// Child PipelineRuns (pipelines in pipelines) still running, by pipeline task.
    nested: HashMap<String, Box<Driver<'b>>>,
    /// The PipelineRun, for per-task settings (`taskRunTemplate`, `taskRunSpecs`).
    pr: &'b PipelineRun,
    /// Where the run directory for shared workspaces is created.
    workspace_base: PathBuf,
    /// Leave the run directory behind.
    keep: bool,
    /// The shared workspaces' directory, created when the run starts if a binding needs it.
    run_dir: Option<RunDirectory>,
    /// The `hostPath` volumes the pipeline's tasks mount, found before anything starts.
    host_paths: Vec<volumes::HostPathUse>,
    /// Refuse `hostPath` volumes instead of warning (`--strict`).
    strict: bool,
    /// Set once a TaskRun reported that the engine stopped: nothing more starts, and the run
    /// ends as soon as nothing runs.
    engine_lost: Option<String>,
    /// TaskRuns run on a cluster ([`Driver::for_cluster`]): nothing is resolved on this host.
    cluster: bool,
    /// The run's `metadata.uid` (a child PipelineRun has none of its own).
    uid: Option<String>,
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
    pub fn for_cluster(bundle: &'b Bundle, pr: &'b PipelineRun) -> Result<Driver<'b>, RunError> {
        let (spec, target) = resolve_pipeline(bundle, pr)?;
        let pipeline_name = (target != "(embedded)").then_some(target);
        Driver::build(bundle, pr, pr, spec, pipeline_name, true)
    }

    /// A driver for `run` (its name, params, workspaces, status and timeouts) running
    /// `spec`; `settings` supplies the per-task settings (`taskRunTemplate`, `taskRunSpecs`),
    /// which a child PipelineRun takes from its parent; `cluster` as in [`Driver::for_cluster`].
    fn build(
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
            workspace_base: std::env::temp_dir(),
            keep: false,
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

    /// Runs only the selected tasks; every other task counts as succeeded with the results
    /// `previous` recorded for it. A task the selection depends on without recorded results
    /// is an error, so nothing runs on made-up inputs.
    pub fn with_selection(
        mut self,
        selection: &Selection,
        previous: &Recorded,
    ) -> Result<Driver<'b>, RunError> {
        let (Selection::Only(start) | Selection::From(start)) = selection;
        let Some(root) = self.dag.index_of(start) else {
            let names: Vec<&str> = self.tasks.iter().map(|t| t.pt.name.as_str()).collect();
            let hint = crate::load::catalog::suggest(start, names.iter().copied())
                .map(|s| format!("; did you mean \"{s}\"?"))
                .unwrap_or_default();
            return Err(RunError::Selection(format!(
                "the pipeline has no task \"{start}\"{hint} (tasks: {})",
                names.join(", ")
            )));
        };
        let mut selected = vec![false; self.dag.len()];
        selected[root] = true;
        if matches!(selection, Selection::From(_)) {
            let mut stack = vec![root];
            while let Some(i) = stack.pop() {
                for &c in self.dag.children(i) {
                    if !selected[c] {
                        selected[c] = true;
                        stack.push(c);
                    }
                }
            }
        }
        let needed: std::collections::HashSet<usize> = (0..self.dag.len())
            .filter(|&i| selected[i])
            .flat_map(|i| self.dag.ancestors(i))
            .filter(|&a| !selected[a])
            .collect();
        for (i, selected) in selected.iter().enumerate() {
            let name = self.dag.name(i).to_owned();
            if *selected {
                continue;
            }
            let results = match previous.get(&name) {
                Some(r) => r.clone(),
                None if needed.contains(&i) => {
                    return Err(RunError::Selection(format!(
                        "no recorded results for task \"{name}\", which \"{start}\" needs; \
                         run the whole pipeline once first"
                    )))
                }
                None => Vec::new(),
            };
            self.produced.insert(name.clone(), results);
            if let Some(t) = self.tasks.iter_mut().find(|t| t.pt.name == name) {
                t.state = PipelineTaskState::Succeeded;
            }
        }
        if matches!(selection, Selection::Only(_)) {
            for t in &mut self.finally {
                t.state = PipelineTaskState::Succeeded;
            }
        }
        Ok(self)
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

    /// Runs the loop until the PipelineRun reaches a final condition.
    pub fn run(
        mut self,
        executor: &mut dyn Executor,
        clock: &mut dyn Clock,
    ) -> Result<RunOutcome, RunError> {
        volumes::host_path_policy(&self.host_paths, self.strict, &self.progress)?;
        // Before anything starts, as Tekton creates a run's PVCs: a full disk ends the run
        // with a status, not halfway through its tasks.
        if let Err(e) = self.ensure_run_dir() {
            let now = clock.now();
            self.start = Some(now);
            let condition = Condition {
                status: crate::reconcile::ConditionStatus::False,
                reason: RunReason::CouldntCreateWorkspacePVC,
                message: e.to_string(),
            };
            return Ok(self.outcome(condition, Some(now)));
        }
        let mut reported: Option<(Condition, usize, Option<Timestamp>)> = None;
        loop {
            let now = clock.now();
            let (step, decided) = match self.advance(now, executor) {
                Ok(advanced) => advanced,
                Err(e) => {
                    self.abort(executor);
                    return Err(e);
                }
            };
            let status = (
                step.condition.clone(),
                self.children.len(),
                self.finally_start,
            );
            if reported.as_ref() != Some(&status) {
                self.progress.send(Progress::RunStatus {
                    condition: step.condition.clone(),
                    children: self.children.clone(),
                    finally_start: self.finally_start,
                });
                reported = Some(status);
            }
            if step.is_done() {
                let events = executor.poll(clock.now());
                self.deliver(events, executor)?;
                return Ok(self.outcome(step.condition, Some(now)));
            }
            if step.condition.reason == RunReason::PipelineRunPending {
                return Ok(self.outcome(step.condition, None));
            }
            let events = executor.poll(now);
            if events.is_empty() && !decided {
                if !self.any_running() {
                    self.abort(executor);
                    return Err(RunError::Stalled(step.condition.message));
                }
                if !executor.wait(self.tick) {
                    clock.sleep(self.tick);
                }
            }
            if let Err(e) = self.deliver(events, executor) {
                self.abort(executor);
                return Err(e);
            }
            if self.engine_lost.is_some() && !self.any_running() {
                let now = clock.now();
                let condition = self.lost_condition(now)?;
                return Ok(self.outcome(condition, Some(now)));
            }
        }
    }

    /// True while a TaskRun or child PipelineRun of this run has not finished.
    fn any_running(&self) -> bool {
        self.all()
            .any(|t| matches!(t.state, PipelineTaskState::Running { .. }))
    }

    /// The final condition of a run whose engine stopped: failed, saying so, with the tally
    /// of the tasks as they are now (what finished, what never started).
    fn lost_condition(&self, now: Timestamp) -> Result<Condition, RunError> {
        let tally = self.pass(now)?.condition.message;
        Ok(Condition {
            status: crate::reconcile::ConditionStatus::False,
            reason: RunReason::Failed,
            message: format!(
                "{}; {tally}",
                self.engine_lost.as_deref().unwrap_or_default()
            ),
        })
    }

    /// Creates the run directory for shared workspaces and the bindings' directories in it,
    /// once, if a binding needs it.
    fn ensure_run_dir(&mut self) -> Result<(), RunError> {
        if !self.cluster
            && self.run_dir.is_none()
            && self.bindings.iter().any(workspaces::needs_run_directory)
        {
            let dir = RunDirectory::create(&self.workspace_base, &self.name, self.keep)
                .and_then(|dir| dir.prepare(&self.bindings).map(|()| dir))
                .map_err(|e| RunError::RunDirectory {
                    base: self.workspace_base.clone(),
                    message: e.to_string(),
                })?;
            self.run_dir = Some(dir);
        }
        Ok(())
    }

    /// One pass: reconcile and apply, then the same for every child PipelineRun, finishing
    /// the pipeline tasks whose child ended. Returns the pass and whether anything was decided.
    fn advance(
        &mut self,
        now: Timestamp,
        executor: &mut dyn Executor,
    ) -> Result<(Step, bool), RunError> {
        self.ensure_run_dir()?;
        let current = match self.interrupt.spec_status() {
            Some(status) => spec_status(status.as_deref()),
            None => self.initial_status,
        };
        self.spec_status = escalate(current, self.interrupt.count());
        let step = self.pass(now)?;
        if let Some(t) = step.start_time {
            self.start.get_or_insert(t);
        }
        if let Some(t) = step.finally_start {
            self.finally_start.get_or_insert(t);
        }
        self.apply(&step.actions, now, executor)?;
        let lost = self.engine_lost.is_some();
        let mut decided = step.actions.iter().any(|a| match a {
            Action::Cancel { .. } => false,
            // Refused once the engine is gone (see `apply`): nothing changed.
            Action::Start { .. } | Action::StartFinally { .. } => !lost,
            _ => true,
        });
        let mut tasks: Vec<String> = self.nested.keys().cloned().collect();
        tasks.sort();
        for task in tasks {
            let Some(child) = self.nested.get_mut(&task) else {
                continue;
            };
            let (child_step, child_decided) = child.advance(now, executor)?;
            decided |= child_decided;
            let lost = child.engine_lost.is_some() && !child.any_running();
            if child_step.is_done() || lost {
                if let Some(child) = self.nested.remove(&task) {
                    let condition = if lost {
                        child.lost_condition(now)?
                    } else {
                        child_step.condition
                    };
                    let outcome = child.outcome(condition, Some(now));
                    if self.engine_lost.is_none() {
                        self.engine_lost.clone_from(&outcome.engine_lost);
                    }
                    self.finish_child_pipeline(&task, outcome);
                    decided = true;
                }
            }
        }
        Ok((step, decided))
    }

    /// Records finished TaskRuns of this run, then of its child PipelineRuns; returns the
    /// events none of them knew.
    fn deliver(
        &mut self,
        events: Vec<ExecEvent>,
        executor: &mut dyn Executor,
    ) -> Result<Vec<ExecEvent>, RunError> {
        let mut rest = self.record(events, executor)?;
        for child in self.nested.values_mut() {
            if rest.is_empty() {
                break;
            }
            rest = child.deliver(rest, executor)?;
        }
        Ok(rest)
    }

    /// One reconcile pass over the recorded states.
    fn pass(&self, now: Timestamp) -> Result<Step, RunError> {
        let statuses = self.statuses();
        let values = self.values(&statuses);
        // The views borrow these, so they are built first and live for the whole pass.
        let dag_consumes = result_refs(&self.tasks);
        let fin_consumes = result_refs(&self.finally);
        let dag_produced = self.produced_names(&self.tasks);
        let fin_produced = self.produced_names(&self.finally);
        let mut cel_error = None;
        let dag_views = task_views(
            &self.tasks,
            &dag_consumes,
            &dag_produced,
            &values,
            &mut cel_error,
        );
        let fin_views = task_views(
            &self.finally,
            &fin_consumes,
            &fin_produced,
            &values,
            &mut cel_error,
        );
        let mut view = RunView::new(&self.name, &self.dag, &dag_views, &fin_views)?
            .with_spec_status(self.spec_status)
            .with_timeouts(self.timeouts);
        if let Some(e) = cel_error {
            view = view.with_cel_error(e.to_string());
        }
        if let Some(start) = self.start {
            view = view.with_start(start);
        }
        if let Some(finally_start) = self.finally_start {
            view = view.with_finally_start(finally_start);
        }
        Ok(reconcile(&view, now))
    }

    /// The result names each task emitted, in task order.
    fn produced_names<'a>(&'a self, tasks: &[Tracked<'_>]) -> Vec<Vec<&'a str>> {
        tasks
            .iter()
            .map(|t| {
                self.produced
                    .get(&t.pt.name)
                    .map(|rs| rs.iter().map(|(n, _)| n.as_str()).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// What substitution at this point of the run knows (params, context, results so far,
    /// execution status, artifacts).
    fn values<'s>(&'s self, statuses: &'s Statuses) -> Values<'s> {
        Values {
            scope: &self.scope,
            results: &self.produced,
            statuses,
            artifacts: &self.artifacts,
        }
    }

    /// The service account a pipeline task's TaskRun runs as: its `taskRunSpecs` entry, else
    /// `taskRunTemplate`, else `default`.
    fn service_account(&self, pt: &PipelineTask) -> String {
        self.named_service_account(pt)
            .unwrap_or_else(|| "default".to_owned())
    }

    /// The `serviceAccountName` the PipelineRun gives pipeline task `pt`, if it names one.
    fn named_service_account(&self, pt: &PipelineTask) -> Option<String> {
        let spec = &self.pr.spec;
        spec.task_run_specs
            .iter()
            .find(|s| s.pipeline_task_name == pt.name)
            .and_then(|s| s.service_account_name.clone())
            .or_else(|| {
                spec.task_run_template
                    .as_ref()
                    .and_then(|t| t.service_account_name.clone())
            })
    }

    /// The execution status of the DAG tasks so far, for finally tasks' variables.
    fn statuses(&self) -> Statuses {
        let mut statuses = Statuses::of(self.tasks.iter().map(|t| (t.pt.name.as_str(), &t.state)));
        statuses.matrix_lengths = self
            .all()
            .filter(|t| t.pt.matrix.is_some())
            .map(|t| (t.pt.name.clone(), t.children.len()))
            .collect();
        statuses
    }

    fn all(&self) -> impl Iterator<Item = &Tracked<'b>> {
        self.tasks.iter().chain(&self.finally)
    }

    fn find_mut(&mut self, pipeline_task: &str) -> Option<&mut Tracked<'b>> {
        self.tasks
            .iter_mut()
            .chain(self.finally.iter_mut())
            .find(|t| t.pt.name == pipeline_task)
    }

    /// Applies one pass's actions in order.
    fn apply(
        &mut self,
        actions: &[Action],
        now: Timestamp,
        executor: &mut dyn Executor,
    ) -> Result<(), RunError> {
        for action in actions {
            match action {
                // Without an engine a new TaskRun could only fail: it stays not started.
                Action::Start { .. } | Action::StartFinally { .. }
                    if self.engine_lost.is_some() => {}
                Action::Start { task } => self.start_task(task, false, now, executor)?,
                Action::StartFinally { task } => self.start_task(task, true, now, executor)?,
                Action::Cancel { task, cause } => {
                    if let Some(child) = self.nested.get_mut(task) {
                        // A child PipelineRun is cancelled as a whole, finally included.
                        child.initial_status = SpecStatus::Cancelled;
                    }
                    if let Some(t) = self.find_mut(task) {
                        if t.cancel.is_none() {
                            t.cancel = Some(*cause);
                            for c in t
                                .children
                                .iter()
                                .filter(|c| c.done.is_none() && c.attempts > 0)
                            {
                                executor.cancel(&c.name, cause.message())?;
                            }
                        }
                    }
                }
                Action::Skip { task, reason } => {
                    if let Some(t) = self.find_mut(task) {
                        t.state = PipelineTaskState::Skipped { reason: *reason };
                    }
                    self.progress.send(Progress::TaskSkipped {
                        task: task.clone(),
                        reason: *reason,
                    });
                }
                Action::FailValidation { task, message } => {
                    if let Some(t) = self.find_mut(task) {
                        t.state = PipelineTaskState::ValidationFailed {
                            message: message.clone(),
                        };
                    }
                }
            }
        }
        Ok(())
    }

    /// Resolves the task's TaskRuns (one, or one per matrix combination) with the results
    /// produced so far and starts them.
    fn start_task(
        &mut self,
        task: &str,
        finally: bool,
        now: Timestamp,
        executor: &mut dyn Executor,
    ) -> Result<(), RunError> {
        let Some(tracked) = self.all().find(|t| t.pt.name == task) else {
            return Ok(());
        };
        if tracked.state != PipelineTaskState::NotStarted {
            return Ok(());
        }
        if tracked.pt.pipeline_spec.is_some() || tracked.pt.pipeline_ref.is_some() {
            return self.start_child_pipeline(task, finally, now);
        }
        let children: Vec<Child> = match self.combinations(tracked.pt) {
            None => vec![Child {
                name: tracked.task_run.clone(),
                label: task.to_owned(),
                combination: Vec::new(),
                attempts: 0,
                done: None,
            }],
            Some(combos) => combos
                .into_iter()
                .enumerate()
                .map(|(i, combination)| Child {
                    name: child_name(&self.name, &format!("-{task}-{i}")),
                    label: format!("{task}[{i}]"),
                    combination,
                    attempts: 0,
                    done: None,
                })
                .collect(),
        };
        if children.is_empty() {
            let reason = SkipReason::EmptyMatrix;
            if let Some(t) = self.find_mut(task) {
                t.state = PipelineTaskState::Skipped { reason };
            }
            self.progress.send(Progress::TaskSkipped {
                task: task.to_owned(),
                reason,
            });
            return Ok(());
        }
        if let Some(t) = self.find_mut(task) {
            t.children = children.clone();
            t.state = PipelineTaskState::Running { started: now };
        }
        for child in &children {
            self.launch(task, child, finally, executor)?;
        }
        Ok(())
    }

    /// Starts one attempt of one child TaskRun.
    fn launch(
        &mut self,
        task: &str,
        child: &Child,
        finally: bool,
        executor: &mut dyn Executor,
    ) -> Result<(), RunError> {
        let Some(tracked) = self.all().find(|t| t.pt.name == task) else {
            return Ok(());
        };
        let (request, spec) = self.request(tracked, child, finally)?;
        executor.start(&request)?;
        if let Some(c) = self
            .find_mut(task)
            .and_then(|t| t.children.iter_mut().find(|c| c.name == child.name))
        {
            c.attempts += 1;
        }
        self.progress.send(Progress::TaskStarted {
            task: child.label.clone(),
            task_run: request.name.clone(),
            finally,
            steps: request.steps.iter().map(|s| s.name.clone()).collect(),
        });
        if child.attempts == 0 {
            self.children.push(ChildReference {
                name: request.name.clone(),
                pipeline_task: request.pipeline_task.clone(),
                kind: ChildKind::TaskRun,
            });
            self.records.push(TaskRunRecord {
                request,
                spec,
                event: None,
                retries: Vec::new(),
            });
        } else if let Some(r) = self
            .records
            .iter_mut()
            .find(|r| r.request.name == request.name)
        {
            r.request = request;
            r.spec = spec;
        }
        Ok(())
    }

    /// The pipeline scope plus what only one pipeline task knows: `context.pipelineTask.retries`,
    /// which Tekton substitutes when it creates that task's TaskRuns (§3.3).
    fn task_scope(&self, pt: &PipelineTask) -> Scope {
        let mut scope = self.scope.clone();
        scope.context.insert(
            "pipelineTask.retries".to_owned(),
            pt.retries.unwrap_or(0).to_string(),
        );
        scope
    }

    /// The matrix combinations of a task, with results produced so far; `None` without one.
    fn combinations(&self, pt: &PipelineTask) -> Option<Vec<Combination>> {
        let m = pt.matrix.as_ref()?;
        let statuses = self.statuses();
        let scope = self.task_scope(pt);
        let values = Values {
            scope: &scope,
            results: &self.produced,
            statuses: &statuses,
            artifacts: &self.artifacts,
        };
        let axes: Vec<(String, Vec<String>)> = m
            .params
            .iter()
            .map(|p| {
                let value = values.value(&p.value);
                let items = value.strings().into_iter().map(str::to_owned).collect();
                (p.name.clone(), items)
            })
            .collect();
        let include: Vec<Combination> = m
            .include
            .iter()
            .map(|inc| {
                inc.params
                    .iter()
                    .map(|p| (p.name.clone(), values.value(&p.value).strings().join(",")))
                    .collect()
            })
            .collect();
        Some(combinations(&axes, &include))
    }

    /// The fully resolved TaskRun for a pipeline task, and the Task spec it resolved.
    fn request(
        &self,
        tracked: &Tracked<'_>,
        child: &Child,
        finally: bool,
    ) -> Result<(TaskRunRequest, TaskSpec), RunError> {
        let pt = tracked.pt;
        let statuses = self.statuses();
        let scope = self.task_scope(pt);
        let values = Values {
            scope: &scope,
            results: &self.produced,
            statuses: &statuses,
            artifacts: &self.artifacts,
        };
        let mut params: Vec<Param> = pt
            .params
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                value: values.value(&p.value),
            })
            .collect();
        for (name, value) in &child.combination {
            params.retain(|p| &p.name != name);
            params.push(Param {
                name: name.clone(),
                value: ParamValue::String(value.clone()),
            });
        }
        let (mut spec, task_ref_name, embedded) = match (&pt.task_spec, &pt.task_ref) {
            (Some(ts), _) => (values.stage_spec(ts), child.name.clone(), true),
            (None, Some(r)) => {
                let name = self.scope.subst(r.name.as_deref().unwrap_or_default());
                (task_spec_named(self.bundle, &name)?, name, false)
            }
            (None, None) => return Err(no_task(pt).into()),
        };
        let propagated;
        let bound_pt = if embedded {
            propagated = workspaces::propagate(pt, &mut spec, &self.bindings);
            &propagated
        } else {
            pt
        };
        let cluster_workspaces =
            workspaces::cluster_workspaces(bound_pt, &spec, &self.bindings, &self.scope)?;
        let mounts = if self.cluster {
            Vec::new()
        } else {
            workspaces::task_run_mounts(
                self.bundle,
                bound_pt,
                &spec,
                &self.bindings,
                self.run_dir.as_ref(),
                &self.scope,
            )?
        };
        let inputs = TaskInputs {
            params: params.clone(),
            // Only an embedded spec sees pipeline params it does not declare (propagation).
            propagated: if embedded {
                self.params.clone()
            } else {
                HashMap::new()
            },
            task_run_name: child.name.clone(),
            task_name: task_ref_name.clone(),
            namespace: self.namespace.clone(),
            bound_workspaces: cluster_workspaces.iter().map(|w| w.name.clone()).collect(),
            claims: workspace_claims(
                bound_pt.workspaces.iter().filter_map(|tb| {
                    let name = tb.workspace.as_deref().unwrap_or(&tb.name);
                    let binding = self.bindings.iter().find(|b| b.name == name)?;
                    Some((tb.name.as_str(), binding))
                }),
                &self.name,
            ),
            result_placeholders: false,
            // The attempt about to start: the ones already made.
            retry_count: child.attempts,
        };
        let mut resolved = resolve_task(self.bundle, &spec, &inputs)?;
        if let Some(specs) = self
            .pr
            .spec
            .task_run_specs
            .iter()
            .find(|s| s.pipeline_task_name == pt.name)
        {
            apply_overrides(&mut resolved.steps, &specs.step_specs);
            apply_overrides(&mut resolved.sidecars, &specs.sidecar_specs);
        }
        let needed_by = format!("pipeline task \"{}\"", pt.name);
        let pod = pod_template::for_pipeline_task(self.pr, &pt.name).unwrap_or_default();
        pod_template::apply(&pod, &mut resolved.steps, &mut resolved.sidecars);
        let task_volumes = volumes::merged(&resolved.volumes, &pod.volumes, &needed_by)?;
        if !self.cluster {
            for step in &mut resolved.steps {
                let needed_by = format!("step \"{}\" of pipeline task \"{}\"", step.name, pt.name);
                env::resolve(self.bundle, step, &needed_by)?;
            }
            for sidecar in &mut resolved.sidecars {
                let needed_by = format!(
                    "sidecar \"{}\" of pipeline task \"{}\"",
                    sidecar.name, pt.name
                );
                env::resolve(self.bundle, sidecar, &needed_by)?;
            }
        }
        let request = TaskRunRequest {
            name: child.name.clone(),
            pipeline_task: pt.name.clone(),
            finally,
            params,
            steps: resolved.steps,
            sidecars: resolved.sidecars,
            timeout: task_timeout(pt)?,
            workspaces: mounts,
            results: spec.results.clone(),
            volumes: if self.cluster {
                Vec::new()
            } else {
                volumes::task_volumes(self.bundle, &task_volumes, &needed_by)?
            },
            credentials: credentials::credential_files(self.bundle, &self.service_account(pt))?,
            pod: pod_template::settings(&pod, &needed_by)?,
            on_error: tracked.on_error,
            cluster: ClusterSources {
                workspaces: cluster_workspaces,
                volumes: task_volumes,
                service_account_name: self.named_service_account(pt),
                pipeline_run: Some(RunIdentity {
                    name: self.name.clone(),
                    uid: self.uid.clone(),
                }),
                task: (!embedded).then_some(task_ref_name),
                task_spec: embedded.then(|| spec.clone()),
                propagated: if embedded {
                    let mut propagated: Vec<Param> = self
                        .params
                        .iter()
                        .map(|(name, value)| Param {
                            name: name.clone(),
                            value: value.clone(),
                        })
                        .collect();
                    propagated.sort_by(|a, b| a.name.cmp(&b.name));
                    propagated
                } else {
                    Vec::new()
                },
                pod_template: pod,
                retries: tracked.retries,
            },
        };
        Ok((request, spec))
    }

    /// Records finished TaskRuns: a failed attempt with retries left is started again; a
    /// task changes once all its TaskRuns are done. Only a `Running` task changes.
    fn record(
        &mut self,
        events: Vec<ExecEvent>,
        executor: &mut dyn Executor,
    ) -> Result<Vec<ExecEvent>, RunError> {
        let mut unknown = Vec::new();
        for event in events {
            let Some(t) = self
                .tasks
                .iter_mut()
                .chain(self.finally.iter_mut())
                .find(|t| t.children.iter().any(|c| c.name == event.task_run))
            else {
                unknown.push(event);
                continue;
            };
            if !matches!(t.state, PipelineTaskState::Running { .. }) {
                continue;
            }
            let task = t.pt.name.clone();
            let finally = self.finally.iter().any(|f| f.pt.name == task);
            if let ExecOutcome::EngineLost { message, .. } = &event.outcome {
                self.engine_lost.get_or_insert_with(|| message.clone());
            }
            let Some(t) = self.find_mut(&task) else {
                continue;
            };
            // An engine fault is not retried: the next attempt would meet the same engine.
            let retry = matches!(event.outcome, ExecOutcome::Failed { .. }) && t.cancel.is_none();
            let retries = t.retries;
            let Some(child) = t
                .children
                .iter_mut()
                .find(|c| c.name == event.task_run && c.done.is_none())
            else {
                continue;
            };
            if retry && child.attempts <= retries {
                // Tekton archives the failed attempt in `retriesStatus` and starts it again.
                let child = child.clone();
                if let Some(r) = self
                    .records
                    .iter_mut()
                    .find(|r| r.request.name == event.task_run)
                {
                    r.retries.push(event);
                }
                self.launch(&task, &child, finally, executor)?;
                continue;
            }
            child.done = Some((event.outcome.clone(), event.results.clone()));
            let label = child.label.clone();
            let matrixed = !child.combination.is_empty() || t.children.len() > 1;
            let message = event.report.message.clone();
            let state = single_state(&event.outcome, t.on_error, t.cancel);
            if matrixed {
                self.progress.send(Progress::TaskFinished {
                    task: label,
                    task_run: event.task_run.clone(),
                    state,
                    message: message.clone(),
                });
            }
            if let Some(a) = &event.report.artifacts {
                self.artifacts.insert(task.clone(), a.clone());
            }
            if let Some(r) = self
                .records
                .iter_mut()
                .find(|r| r.request.name == event.task_run)
            {
                r.event = Some(event);
            }
            self.finish_task(&task, matrixed, &message);
        }
        Ok(unknown)
    }

    /// Starts a pipeline task that runs a Pipeline (`pipelineSpec`/`pipelineRef`) as a child
    /// PipelineRun named `<run>-<task>`, driven by this loop with the same executor.
    fn start_child_pipeline(
        &mut self,
        task: &str,
        finally: bool,
        now: Timestamp,
    ) -> Result<(), RunError> {
        let Some(tracked) = self.all().find(|t| t.pt.name == task) else {
            return Ok(());
        };
        let pt: &'b PipelineTask = tracked.pt;
        let name = tracked.task_run.clone();
        let (spec, pipeline_name) = match (&pt.pipeline_spec, &pt.pipeline_ref) {
            (Some(spec), _) => (&**spec, None),
            (None, Some(r)) => {
                let (spec, found) = find_pipeline(self.bundle, r)?;
                (spec, Some(found))
            }
            (None, None) => return Err(no_task(pt).into()),
        };
        let statuses = self.statuses();
        let values = self.values(&statuses);
        // The child binds its Pipeline's workspaces to the parent's bindings they map to.
        let bindings = pt
            .workspaces
            .iter()
            .filter_map(|w| {
                let parent = w.workspace.as_deref().unwrap_or(&w.name);
                let mut b = self.bindings.iter().find(|b| b.name == parent)?.clone();
                b.name = w.name.clone();
                if let Some(sub) = &w.sub_path {
                    let sub = values.subst(sub);
                    b.sub_path = Some(match &b.sub_path {
                        Some(base) => format!("{base}/{sub}"),
                        None => sub,
                    });
                }
                Some(b)
            })
            .collect();
        let mut run = PipelineRun::default();
        run.metadata.name = Some(name.clone());
        run.metadata.namespace = Some(self.namespace.clone());
        run.spec.params = pt
            .params
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                value: values.value(&p.value),
            })
            .collect();
        run.spec.workspaces = bindings;
        if let Some(t) = &pt.timeout {
            run.spec.timeouts = Some(crate::api::run::Timeouts {
                pipeline: Some(t.clone()),
                ..Default::default()
            });
        }
        let child = Driver::build(
            self.bundle,
            self.pr,
            &run,
            spec,
            pipeline_name,
            self.cluster,
        )?
        .with_tick(self.tick)
        .with_progress(self.progress.clone())
        .with_interrupt(self.interrupt.clone())
        .with_keep(self.keep)
        .with_workspace_base(self.workspace_base.clone());
        self.nested.insert(task.to_owned(), Box::new(child));
        self.children.push(ChildReference {
            name: name.clone(),
            pipeline_task: task.to_owned(),
            kind: ChildKind::PipelineRun,
        });
        if let Some(t) = self.find_mut(task) {
            t.state = PipelineTaskState::Running { started: now };
        }
        self.progress.send(Progress::TaskStarted {
            task: task.to_owned(),
            task_run: name,
            finally,
            steps: Vec::new(),
        });
        Ok(())
    }

    /// A child PipelineRun ended: its pipeline task takes its outcome and its results.
    fn finish_child_pipeline(&mut self, task: &str, outcome: RunOutcome) {
        let Some(t) = self.find_mut(task) else {
            return;
        };
        let c = &outcome.condition;
        t.state = match (c.status, c.reason) {
            (crate::reconcile::ConditionStatus::True, _) => PipelineTaskState::Succeeded,
            (_, RunReason::Cancelled) => PipelineTaskState::Cancelled {
                cause: t.cancel.unwrap_or(CancelCause::Cancelled),
            },
            (_, reason) => PipelineTaskState::Failed {
                reason: reason.as_str().to_owned(),
                ignored: t.on_error == OnError::Continue,
            },
        };
        let state = t.state.clone();
        let task_run = t.task_run.clone();
        self.progress.send(Progress::TaskFinished {
            task: task.to_owned(),
            task_run,
            state,
            message: c.message.clone(),
        });
        let results = outcome
            .pipeline_results
            .results
            .into_iter()
            .map(|r| (r.name, r.value))
            .collect();
        self.produced.insert(task.to_owned(), results);
    }

    /// Once every TaskRun of `task` is done: its state and results.
    fn finish_task(&mut self, task: &str, matrixed: bool, message: &str) {
        let Some(t) = self.find_mut(task) else {
            return;
        };
        if t.children.iter().any(|c| c.done.is_none()) {
            return;
        }
        let (state, results) = if matrixed {
            let runs: Vec<MatrixRun> = t
                .children
                .iter()
                .filter_map(|c| {
                    let (outcome, results) = c.done.as_ref()?;
                    let o = match outcome {
                        ExecOutcome::Succeeded => MatrixOutcome::Succeeded,
                        _ => MatrixOutcome::Failed,
                    };
                    Some((c.name.clone(), o, results.clone()))
                })
                .collect();
            let aggregate = aggregate_matrix(&runs);
            let first_bad = t.children.iter().find_map(|c| match &c.done {
                Some((ExecOutcome::Succeeded, _)) | None => None,
                Some((outcome, _)) => Some(outcome.clone()),
            });
            let state = match first_bad {
                None => PipelineTaskState::Succeeded,
                Some(outcome) => single_state(&outcome, t.on_error, t.cancel),
            };
            (state, aggregate.results)
        } else {
            let Some((outcome, results)) = t.children.first().and_then(|c| c.done.clone()) else {
                return;
            };
            (single_state(&outcome, t.on_error, t.cancel), results)
        };
        t.state = state.clone();
        let task_run = t.task_run.clone();
        self.progress.send(Progress::TaskFinished {
            task: task.to_owned(),
            task_run,
            state,
            message: if matrixed {
                String::new()
            } else {
                message.to_owned()
            },
        });
        self.produced.insert(task.to_owned(), results);
    }

    /// Best effort after an error: ask every running child to stop, so nothing is left behind.
    fn abort(&mut self, executor: &mut dyn Executor) {
        for child in self.nested.values_mut() {
            child.abort(executor);
        }
        for t in self.tasks.iter_mut().chain(self.finally.iter_mut()) {
            if matches!(t.state, PipelineTaskState::Running { .. }) && t.cancel.is_none() {
                for c in t
                    .children
                    .iter()
                    .filter(|c| c.done.is_none() && c.attempts > 0)
                {
                    // The first error is the one reported; a failing cancel adds nothing to it.
                    let _ = executor.cancel(&c.name, CancelCause::Cancelled.message());
                }
                t.cancel = Some(CancelCause::Cancelled);
            }
        }
    }

    fn outcome(self, condition: Condition, completion: Option<Timestamp>) -> RunOutcome {
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

fn result_refs<'a>(tasks: &'a [Tracked<'_>]) -> Vec<Vec<ResultRef<'a>>> {
    tasks
        .iter()
        .map(|t| {
            t.consumes
                .iter()
                .map(|(task, result)| ResultRef { task, result })
                .collect()
        })
        .collect()
}

/// The tasks as reconcile sees them; the first CEL failure of a not-started task goes to
/// `cel_error` (Tekton evaluates every task's CEL on every pass, before scheduling).
fn task_views<'a>(
    tasks: &'a [Tracked<'_>],
    consumes: &'a [Vec<ResultRef<'a>>],
    produced: &'a [Vec<&'a str>],
    values: &Values<'_>,
    cel_error: &mut Option<CelError>,
) -> Vec<TaskView<'a>> {
    tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // Only read by reconcile once the parents are done, when their results are known.
            let when = t.state != PipelineTaskState::NotStarted
                || values.when_holds(&t.pt.when).unwrap_or_else(|e| {
                    cel_error.get_or_insert(e);
                    false
                });
            TaskView {
                name: &t.pt.name,
                state: t.state.clone(),
                on_error: t.on_error,
                when,
                consumes: &consumes[i],
                produced: &produced[i],
            }
        })
        .collect()
}

/// A pipeline task's state from one TaskRun's outcome.
fn single_state(
    outcome: &ExecOutcome,
    on_error: OnError,
    cancel: Option<CancelCause>,
) -> PipelineTaskState {
    match outcome {
        ExecOutcome::Succeeded => PipelineTaskState::Succeeded,
        ExecOutcome::Failed { reason, .. } => PipelineTaskState::Failed {
            reason: reason.clone(),
            ignored: on_error == OnError::Continue,
        },
        // The engine's fault is never ignored: the run cannot go on without it.
        ExecOutcome::EngineLost { reason, .. } => PipelineTaskState::Failed {
            reason: reason.clone(),
            ignored: false,
        },
        // A child cancelled without our asking (by hand, by the engine) counts as a user
        // cancel, as Tekton does.
        ExecOutcome::Cancelled => PipelineTaskState::Cancelled {
            cause: cancel.unwrap_or(CancelCause::Cancelled),
        },
    }
}

/// The `spec.status` after `interrupts` stop requests: graceful first, then immediate.
fn escalate(initial: SpecStatus, interrupts: usize) -> SpecStatus {
    match (initial, interrupts) {
        (status, 0) => status,
        (SpecStatus::Cancelled, _) | (_, 2..) => SpecStatus::Cancelled,
        _ => SpecStatus::CancelledRunFinally,
    }
}

fn spec_status(status: Option<&str>) -> SpecStatus {
    match status {
        Some("Cancelled") => SpecStatus::Cancelled,
        Some("CancelledRunFinally") => SpecStatus::CancelledRunFinally,
        Some("StoppedRunFinally") => SpecStatus::StoppedRunFinally,
        Some("PipelineRunPending") => SpecStatus::Pending,
        _ => SpecStatus::None,
    }
}

fn timeouts(pr: &PipelineRun) -> Result<Timeouts, RunError> {
    let given = pr.spec.timeouts.clone().unwrap_or_default();
    let parse = |field: &'static str, value: Option<&str>| {
        value
            .map(|v| {
                GoDuration::parse(v).map_err(|_| RunError::InvalidTimeout {
                    field,
                    value: v.to_owned(),
                })
            })
            .transpose()
    };
    Ok(Timeouts {
        pipeline: Some(
            parse("pipeline", given.pipeline.as_deref())?
                .unwrap_or(GoDuration::minutes(DEFAULT_PIPELINE_TIMEOUT_MINUTES)),
        ),
        tasks: parse("tasks", given.tasks.as_deref())?,
        finally: parse("finally", given.finally.as_deref())?,
    })
}

fn no_task(pt: &PipelineTask) -> PlanError {
    PlanError::NotFound(format!(
        "pipeline task \"{}\" has neither taskRef nor taskSpec",
        pt.name
    ))
}

/// The spec of the Task called `name`, looked up like `plan` does.
fn task_spec_named(bundle: &Bundle, name: &str) -> Result<crate::api::TaskSpec, PlanError> {
    let reference = crate::api::TaskRef {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    find_task(bundle, &reference).map(|(spec, _)| spec)
}

/// Refuses, before anything starts, what the driver cannot run yet.
fn check_supported(bundle: &Bundle, pt: &PipelineTask) -> Result<(), PlanError> {
    let unsupported = |what: &str| {
        Err(PlanError::Unsupported(format!(
            "pipeline task \"{}\" uses {what}, which `adze run` does not support yet",
            pt.name
        )))
    };
    let custom = |api: &Option<String>| api.as_ref().is_some_and(|a| !a.is_empty());
    if pt.pipeline_spec.is_some() {
        return Ok(());
    }
    if let Some(r) = &pt.pipeline_ref {
        // A name built from params is only known at start time.
        if r.name.as_deref().is_some_and(|n| n.contains("$(")) {
            return Ok(());
        }
        return find_pipeline(bundle, r).map(|_| ());
    }
    match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), _) if custom(&ts.api_version) => unsupported("a custom task"),
        (Some(_), _) => Ok(()),
        (None, Some(r)) if custom(&r.api_version) => unsupported("a custom task"),
        (None, Some(r)) if r.resolver.is_some() => unsupported("a remote resolver"),
        (None, Some(r)) => match r.name.as_deref() {
            // A name built from params is only known at start time.
            Some(name) if name.contains("$(") => Ok(()),
            name => task_spec_named(bundle, name.unwrap_or_default()).map(|_| ()),
        },
        (None, None) => Err(no_task(pt)),
    }
}

/// Checks the ConfigMaps/Secrets the task's environment names literally, before anything starts.
fn check_env(bundle: &Bundle, pt: &PipelineTask) -> Result<(), RunError> {
    let spec = match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), _) => ts.clone(),
        (None, Some(r)) => match r.name.as_deref() {
            Some(name) if !name.contains("$(") => task_spec_named(bundle, name)?,
            _ => return Ok(()),
        },
        (None, None) => return Ok(()),
    };
    env::check_task(bundle, &spec, &pt.name)
}

/// Refuses, before anything starts, the volumes of the task (its Task's and its podTemplate's)
/// that cannot be provided, and checks its podTemplate; returns its `hostPath` volumes. On a
/// `cluster` every source can be provided and no host path is this host's.
fn check_volumes(
    bundle: &Bundle,
    pr: &PipelineRun,
    pt: &PipelineTask,
    cluster: bool,
) -> Result<Vec<volumes::HostPathUse>, RunError> {
    let needed_by = format!("pipeline task \"{}\"", pt.name);
    let pod = pod_template::for_pipeline_task(pr, &pt.name).unwrap_or_default();
    pod_template::settings(&pod, &needed_by)?;
    if cluster {
        return Ok(Vec::new());
    }
    let task = match (&pt.task_spec, &pt.task_ref) {
        (Some(ts), _) => ts.volumes.clone(),
        (None, Some(r)) => match r.name.as_deref() {
            Some(name) if !name.contains("$(") && r.resolver.is_none() => {
                task_spec_named(bundle, name)?.volumes
            }
            _ => Vec::new(),
        },
        (None, None) => Vec::new(),
    };
    volumes::check(
        &volumes::merged(&task, &pod.volumes, &needed_by)?,
        &needed_by,
    )
}

/// The PipelineTask's own `timeout`, which bounds its TaskRun (`None`: no limit of its own).
fn task_timeout(pt: &PipelineTask) -> Result<Option<GoDuration>, RunError> {
    pt.timeout
        .as_deref()
        .map(|t| {
            GoDuration::parse(t).map_err(|_| RunError::InvalidTimeout {
                field: "tasks[].timeout",
                value: t.to_owned(),
            })
        })
        .transpose()
}
