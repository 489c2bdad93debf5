//! pipeline rules

use super::Ctx;
use crate::api::Pipeline;

/// Validates a Pipeline (spec §2.8).
pub fn validate_pipeline(ctx: &mut Ctx<'_>, pipeline: &Pipeline) {
    let _ = (ctx, pipeline);
}
