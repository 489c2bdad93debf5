//! runs rules

use super::Ctx;
use crate::api::{PipelineRun, TaskRun};

/// Validates a TaskRun (spec §2.7, §2.10).
pub fn validate_task_run(ctx: &mut Ctx<'_>, run: &TaskRun) {
    let _ = (ctx, run);
}

/// Validates a PipelineRun (spec §2.9, §2.10).
pub fn validate_pipeline_run(ctx: &mut Ctx<'_>, run: &PipelineRun) {
    let _ = (ctx, run);
}
