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
//!   nothing runs, and [`RunOutcome::engine_lost`] says why. A breakpoint that halts the
//!   run ([`Interrupt::halt`], `--break-on-failure`) does the same with its own message
//!   (and no `engine_lost`); one that holds starts ([`Interrupt::hold`], a session under
//!   way) only delays them.
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
//! - Changes of `spec.status` during `adze run`, which has no object to watch: there
//!   `spec.status` is read once from the PipelineRun, and only interrupts change it. (`adze
//!   controller` records the object's `spec.status` with [`Interrupt::set_spec_status`] as it
//!   changes, and the driver reads it every pass.)
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
//!
//! # Where things are
//!
//! - `driver`: the [`Driver`]'s state, how it is built, its options; `checks`: what building
//!   it refuses; `selection`: partial re-runs; `timeouts`, `spec_status`: those fields in
//!   reconcile's terms.
//! - `run_loop`: the loop and one pass; `actions`: applying reconcile's actions (starting
//!   tasks, matrix fan-out, cancels); `request`: the [`TaskRunRequest`] of a TaskRun;
//!   `record`: executor events as task states, retries; `nested`: child PipelineRuns.
//! - `outcome`: the [`RunOutcome`] and its records; `error`: [`RunError`].
//! - The sources a TaskRun needs ([`workspaces`], [`volumes`], [`config_data`],
//!   [`credentials`], [`pod_template`]), the standalone [`TaskRunDriver`], and what an
//!   [`Executor`] is given and reports (`executor`).
//!
//! [`reconcile`]: crate::reconcile::reconcile
//! [`RunView`]: crate::reconcile::RunView

mod actions;
pub mod artifacts;
pub mod breakpoints;
mod checks;
mod clock;
pub mod config_data;
pub mod credentials;
mod driver;
mod env;
mod error;
mod executor;
mod fake;
pub mod host_file;
mod interrupt;
pub mod leftovers;
mod nested;
mod outcome;
pub mod ownership;
pub mod pod_template;
mod progress;
mod record;
mod request;
mod run_loop;
mod selection;
mod spec_status;
mod standalone;
mod timeouts;
pub mod volumes;
mod wiring;
pub mod workspaces;

#[cfg(test)]
mod tests;

pub use clock::{Clock, FakeClock, SystemClock};
pub use driver::Driver;
pub use error::RunError;
pub use executor::{
    ChildPipelineRun, ClusterSources, ClusterWorkspace, DnsSettings, ExecError, ExecEvent,
    ExecOutcome, Executor, HostPathKind, PodSettings, RunIdentity, StepReport, TaskRunReport,
    TaskRunRequest, TaskVolume, VolumeSource, WorkspaceMount, WorkspaceSource,
};
pub use fake::{FakeExecutor, Script};
pub use interrupt::Interrupt;
pub use outcome::{ChildKind, ChildReference, RunOutcome, TaskRunRecord};
pub use progress::{Progress, ProgressSink, RunKind, Stream};
pub use selection::{Recorded, Selection};
pub use standalone::TaskRunDriver;
