//! TaskRun and PipelineRun timeouts (spec §4.19), in Go's canonical duration form.

use crate::api::pipeline::PipelineTask;
use crate::api::{GoDuration, PipelineRun};

/// Tekton's `default-timeout-minutes`.
pub(super) const DEFAULT_TIMEOUT_MINUTES: i64 = 60;

pub(super) fn canonical_timeout(raw: Option<&str>) -> Option<String> {
    raw.map(|t| GoDuration::parse(t).map_or_else(|_| t.to_string(), |d| d.to_string()))
}

pub(super) fn default_timeout() -> String {
    GoDuration::minutes(DEFAULT_TIMEOUT_MINUTES).to_string()
}

/// TaskRun timeout precedence (§4.19).
pub(super) fn task_timeout(
    pr: &PipelineRun,
    pt: &PipelineTask,
    section: Option<GoDuration>,
) -> String {
    let from_specs = pr
        .spec
        .task_run_specs
        .iter()
        .find(|s| s.pipeline_task_name == pt.name)
        .and_then(|s| s.timeout.as_deref());
    if let Some(t) = canonical_timeout(from_specs.or(pt.timeout.as_deref())) {
        return t;
    }
    match section {
        Some(d) if d.is_zero() || d > GoDuration::minutes(DEFAULT_TIMEOUT_MINUTES) => d.to_string(),
        _ => default_timeout(),
    }
}
