//! `adze controller`: tekton.dev/v1 PipelineRuns and TaskRuns reconciled in the cluster, on the
//! same driver, `reconcile` core and Pod translation as `adze run --executor kubernetes`.
//!
//! # Design
//!
//! Being written (issue 9): the module's parts are declared as they land.
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
//!   two; readiness follows the caches, never the Lease, so the standby replica is Ready.
//! - [`logging`]: one line per event on stderr, text or JSON (`--log-format`), each naming
//!   the run it is about.
//!
//! # Not yet
//!
//! - Everything: the CLI refuses `adze controller` until the reconcilers land.

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
