//! `spec.timeouts` and a pipeline task's own `timeout` as durations, with Tekton's default
//! for a run that sets no pipeline timeout.

use super::error::RunError;
use crate::api::pipeline::PipelineTask;
use crate::api::{GoDuration, PipelineRun};
use crate::reconcile::Timeouts;

/// Tekton's `default-timeout-minutes`, applied when `timeouts.pipeline` is absent.
const DEFAULT_PIPELINE_TIMEOUT_MINUTES: i64 = 60;

/// `spec.timeouts` of `pr`, the pipeline timeout defaulted; a field that is not a Go duration
/// is [`RunError::InvalidTimeout`].
pub(super) fn timeouts(pr: &PipelineRun) -> Result<Timeouts, RunError> {
    let given = pr.spec.timeouts.clone().unwrap_or_default();
    let parse = |field: &'static str, value: Option<&str>| {
        value
            .map(|v| {
                GoDuration::parse(v).map_err(|_| RunError::InvalidTimeout {
                    field,
                    value: v.to_owned(),
                })
            })
            .transpose()
    };
    Ok(Timeouts {
        pipeline: Some(
            parse("pipeline", given.pipeline.as_deref())?
                .unwrap_or(GoDuration::minutes(DEFAULT_PIPELINE_TIMEOUT_MINUTES)),
        ),
        tasks: parse("tasks", given.tasks.as_deref())?,
        finally: parse("finally", given.finally.as_deref())?,
    })
}

/// The PipelineTask's own `timeout`, which bounds its TaskRun (`None`: no limit of its own).
pub(super) fn task_timeout(pt: &PipelineTask) -> Result<Option<GoDuration>, RunError> {
    pt.timeout
        .as_deref()
        .map(|t| {
            GoDuration::parse(t).map_err(|_| RunError::InvalidTimeout {
                field: "tasks[].timeout",
                value: t.to_owned(),
            })
        })
        .transpose()
}
