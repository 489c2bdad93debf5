//! `adze controller`: tekton.dev/v1 PipelineRuns and TaskRuns reconciled in the cluster, on the
//! same driver, `reconcile` core and Pod translation as `adze run --executor kubernetes`.
//!
//! # Design
//!
//! - [`manager`]: two watches (PipelineRuns, TaskRuns) filtered by the opt-in label
//!   ([`opt_in`]) unless `--all`; each unfinished run gets one reconcile on a blocking thread,
//!   which drives it to its end; the loop passes `spec.status` changes on through the run's
//!   [`crate::run::Interrupt`] and retries a reconcile that failed with a backoff.
//! - `pipeline_run`: the run driver with `children` as its executor, so each TaskRun it
//!   starts is a child TaskRun object owned by the PipelineRun; its status is written after
//!   each pass that changes it, the final one last.
//! - `task_run`: the TaskRun's Pod through [`crate::exec::kubernetes::KubernetesExecutor`],
//!   owned by the TaskRun, adopted when it exists; retries in new Pods; `step_progress` writes
//!   the steps while the Pod runs.
//! - `bundle`: what a run references, read from its namespace and loaded as files are, so
//!   resolution is `adze run`'s; `context`: the shared connection, images and Event recorder;
//!   `objects`: run keys, API resources, status writes with retries.
//!
//! Operations, around the reconcilers:
//!
//! - [`leader`]: leader election over a `coordination.k8s.io/v1` Lease, client-go's protocol
//!   (create, take over when expired, renew, optimistic concurrency on `resourceVersion`,
//!   release on shutdown). Only the replica holding the Lease reconciles; it exits when
//!   [`leader::Leadership::lost`] resolves.
//! - [`metrics`]: the Prometheus registry (reconciles by outcome, reconcile latency, runs by
//!   status, running TaskRuns, work-queue depth, leadership), lock-free, rendered in the text
//!   format 0.0.4.
//! - [`health`]: the HTTP endpoints `/metrics`, `/healthz` and `/readyz` on one address or
//!   two; readiness follows the API server, never the Lease, so the standby replica is Ready.
//! - [`logging`]: one line per event on stderr, text or JSON (`--log-format`), each naming
//!   the run it is about.
//!
//! # Invariants
//!
//! - No state of record in memory: everything a reconcile needs is on the objects (status
//!   times, children and Pods under deterministic names, `spec.status`), so a restarted
//!   controller or a new leader replays each unfinished run without creating anything twice
//!   (a create answering 409 adopts the object).
//! - Runs without the opt-in label are never read past the watch filter, never written.
//! - A run's final status is written after every progress write of its reconcile.
//!
//! # Not yet
//!
//! - Steps without `command` need a Docker engine on the controller's host to read their
//!   image's ENTRYPOINT (no registry lookup yet). (Remote references are resolved: each
//!   reconcile runs `crate::resolve`'s pass, `cluster` references read from the API server.)
//! - Feature flags from Tekton's ConfigMap (they are the controller's `--feature-flag`s).

mod bundle;
mod children;
mod context;
pub mod health;
pub mod leader;
pub mod logging;
pub mod manager;
pub mod metrics;
mod objects;
pub mod opt_in;
mod pipeline_run;
mod step_progress;
mod task_run;

pub use context::Context;
pub use objects::RunKind;
