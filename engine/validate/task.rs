//! Task rules: steps, sidecars, volumes, results, workspaces and variable usage
//! (spec §2.1–2.6), plus StepActions (§1.7).

use super::Ctx;
use crate::api::{StepAction, Task, TaskSpec};

/// Where a TaskSpec sits, which changes a few rules.
#[derive(Debug, Clone, Default)]
pub struct SpecContext<'a> {
    /// An embedded spec (TaskRun `taskSpec` or PipelineTask `taskSpec`) rather than a Task.
    pub embedded: bool,
    /// Param names supplied from outside by propagation (§3.5) that the spec may reference
    /// without declaring them.
    pub propagated_params: &'a [String],
    /// Inside a Pipeline: `$(tasks.…)`, `$(context.pipelineRun.…)` and friends are resolved
    /// before the TaskRun exists and must not be reported as unknown.
    pub in_pipeline: bool,
}

/// Validates a Task (spec §2.1–2.6).
pub fn validate_task(ctx: &mut Ctx<'_>, task: &Task) {
    let _ = super::names::check_label;
    validate_task_spec(ctx, &task.spec, "spec", &SpecContext::default());
}

/// Validates a TaskSpec found at `path`.
pub fn validate_task_spec(ctx: &mut Ctx<'_>, spec: &TaskSpec, path: &str, sc: &SpecContext<'_>) {
    let _ = (ctx, spec, path, sc);
}

/// Validates a StepAction (spec §1.7).
pub fn validate_step_action(ctx: &mut Ctx<'_>, action: &StepAction) {
    let _ = (ctx, action);
}
