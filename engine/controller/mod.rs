//! `adze controller`: tekton.dev/v1 PipelineRuns and TaskRuns reconciled in the cluster, on the
//! same driver, `reconcile` core and Pod translation as `adze run --executor kubernetes`.
//!
//! # Design
//!
//! Being written (issue 9): the module's parts are declared as they land.
//!
//! # Not yet
//!
//! - Everything: the CLI refuses `adze controller` until the reconcilers land.

mod bundle;
mod children;
mod context;
mod objects;
pub mod opt_in;
pub use context::Context;
pub mod manager;
mod pipeline_run;
mod task_run;
