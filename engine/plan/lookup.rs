//! Finding the object a `taskRef` or `pipelineRef` (or a step's `ref`) names: a loaded
//! document by name, or what its resolver returned before the run, by its substituted params.

use super::PlanError;
use crate::api::{Kind, Object, PipelineSpec, TaskSpec};
use crate::load::Bundle;

/// The object a remote reference resolved to, or why there is none. The reference's params
/// must already be substituted.
pub(crate) fn find_remote<'b>(
    bundle: &'b Bundle,
    kind: Kind,
    resolver: &str,
    params: &[crate::api::Param],
) -> Result<&'b crate::load::Loaded, PlanError> {
    let scope = super::scope::Scope::default();
    let shown = crate::load::remote::resolver_params(params)
        .iter()
        .map(|p| format!("{}={}", p.name, p.value))
        .collect::<Vec<_>>()
        .join(", ");
    let key = crate::resolve::substitution::ref_key(kind, resolver, params, &scope).ok_or_else(
        || {
            PlanError::Unsupported(format!(
                "the {kind} from resolver \"{resolver}\" ({shown}) depends on values only known while running; adze resolves references before the run starts"
            ))
        },
    )?;
    bundle.find_remote(&key).ok_or_else(|| {
        PlanError::NotFound(format!(
            "the {kind} from resolver \"{resolver}\" ({shown}) was not resolved"
        ))
    })
}

pub(crate) fn find_task(
    bundle: &Bundle,
    reference: &crate::api::TaskRef,
) -> Result<(TaskSpec, String), PlanError> {
    if let Some(resolver) = reference.resolver.as_deref().filter(|r| !r.is_empty()) {
        let loaded = find_remote(bundle, Kind::Task, resolver, &reference.params)?;
        return match &loaded.object {
            Object::Task(t) => Ok((t.spec.clone(), loaded.object.display_name())),
            _ => Err(PlanError::NotFound(format!(
                "the resolver \"{resolver}\" did not return a Task"
            ))),
        };
    }
    let name = reference.name.clone().unwrap_or_default();
    let loaded = bundle.find(Kind::Task, &name).map_err(|e| {
        PlanError::NotFound(match &e.suggestion {
            Some(s) => format!("{e}; did you mean \"{s}\"?"),
            None => e.to_string(),
        })
    })?;
    match &loaded.object {
        Object::Task(t) => Ok((t.spec.clone(), name)),
        _ => Err(PlanError::NotFound(format!("Task \"{name}\" not found"))),
    }
}

/// The loaded Pipeline a `pipelineRef` names, and that name.
pub(crate) fn find_pipeline<'b>(
    bundle: &'b Bundle,
    r: &crate::api::PipelineRef,
) -> Result<(&'b PipelineSpec, String), PlanError> {
    if let Some(resolver) = r.resolver.as_deref().filter(|r| !r.is_empty()) {
        let loaded = find_remote(bundle, Kind::Pipeline, resolver, &r.params)?;
        return match &loaded.object {
            Object::Pipeline(p) => Ok((&p.spec, loaded.object.display_name())),
            _ => Err(PlanError::NotFound(format!(
                "the resolver \"{resolver}\" did not return a Pipeline"
            ))),
        };
    }
    let pname = r.name.clone().unwrap_or_default();
    let loaded = bundle
        .find(Kind::Pipeline, &pname)
        .map_err(|e| PlanError::NotFound(e.to_string()))?;
    match &loaded.object {
        Object::Pipeline(p) => Ok((&p.spec, pname)),
        _ => Err(PlanError::NotFound(format!(
            "Pipeline \"{pname}\" not found"
        ))),
    }
}
