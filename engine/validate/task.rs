//! task rules

use super::Ctx;
use crate::api::{StepAction, Task};

/// Validates a Task (spec §2.1–2.6).
pub fn validate_task(ctx: &mut Ctx<'_>, task: &Task) {
    let _ = (ctx, task);
}

/// Validates a StepAction (spec §1.7).
pub fn validate_step_action(ctx: &mut Ctx<'_>, action: &StepAction) {
    let _ = (ctx, action);
}
