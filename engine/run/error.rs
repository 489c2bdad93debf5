//! [`RunError`]: why a run could not be driven to a final condition.
//!
//! One enum for what the pipeline driver, the standalone TaskRun driver and the sources they
//! provide (workspaces, volumes, ConfigMap and Secret values, `podTemplate`) refuse or fail
//! at, so a caller reports every kind in one place. A run that reaches a final condition,
//! failed or not, is a [`RunOutcome`](super::RunOutcome), never an error.

use std::path::PathBuf;

use super::executor::ExecError;
use crate::plan::PlanError;
use crate::reconcile::ViewError;

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
