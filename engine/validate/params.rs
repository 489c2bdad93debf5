//! Parameter declaration and value rules (spec §2.2).

use super::Ctx;
use crate::api::{Param, ParamSpec};

/// Validates declarations at `path` (e.g. `spec.params`). `check_names` is false for
/// Pipelines, whose param names Tekton does not format-check.
pub fn validate_param_specs(ctx: &mut Ctx<'_>, specs: &[ParamSpec], path: &str, check_names: bool) {
    let _ = (ctx, specs, path, check_names);
}

/// Validates a list of values at `path` (duplicates; `case_insensitive` for run params).
pub fn validate_param_values(ctx: &mut Ctx<'_>, params: &[Param], path: &str, case_insensitive: bool) {
    let _ = (ctx, params, path, case_insensitive);
}
