//! Plan (dry-run): resolve a TaskRun or PipelineRun without running anything.
//!
//! The plan shows what `adze run` would do: execution levels, params after substitution,
//! result wiring as placeholders, when-expressions decided where they only depend on
//! params, matrix combinations, timeouts and each step's final command or script.
//! It assumes the input validated cleanly; what still cannot be resolved is a [`PlanError`].

pub mod confinement;
pub(crate) mod dependencies;
pub(crate) mod lookup;
pub mod matrix;
pub mod model;
mod naming;
pub mod overrides;
pub mod pipeline;
pub mod scope;
mod step_action;
pub mod step_when;
pub mod task;
pub mod task_run;
mod timeouts;
mod when;

pub use model::Plan;
pub use naming::child_name;
pub use overrides::{
    apply_overrides, parse_param, parse_workspace, synthesize_runs, Overrides, WorkspaceOverride,
};

use crate::api::Object;
use crate::load::{Bundle, Loaded};

/// Why a run cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A referenced object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Something adze cannot resolve yet (remote resolvers, custom tasks).
    #[error("{0}")]
    Unsupported(String),
    /// The pipeline graph is invalid.
    #[error("{0}")]
    Graph(String),
    /// A step's StepAction params cannot be resolved (type clash, cyclic defaults).
    #[error("step \"{step}\" (StepAction \"{action}\"): {message}")]
    StepAction {
        /// The step's name (`unnamed-<i>` when unnamed).
        step: String,
        /// The StepAction it references.
        action: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The runs among the input objects, in file order.
pub fn runs(bundle: &Bundle) -> Vec<&Loaded> {
    bundle
        .inputs()
        .filter(|o| matches!(o.object, Object::TaskRun(_) | Object::PipelineRun(_)))
        .collect()
}

/// Plans one run.
pub fn plan(bundle: &Bundle, run: &Loaded) -> Result<Plan, PlanError> {
    plan_object(bundle, &run.object)
}

/// Plans a run object (loaded or synthesized).
pub fn plan_object(bundle: &Bundle, run: &Object) -> Result<Plan, PlanError> {
    match run {
        Object::PipelineRun(pr) => pipeline::plan_pipeline_run(bundle, pr),
        Object::TaskRun(tr) => task_run::plan_task_run(bundle, tr),
        other => Err(PlanError::Unsupported(format!(
            "{} is not a run; plan a TaskRun or PipelineRun",
            other.kind()
        ))),
    }
}
