//! Planning a TaskRun: its Task, params, workspaces and steps.

use std::collections::{HashMap, HashSet};

use super::lookup::find_task;
use super::model::{Decision, NamedValue, Plan, TaskPlan, TimeoutsPlan, WorkspacePlan};
use super::naming::{namespace, run_name};
use super::task::{resolve_task, workspace_claims, TaskInputs};
use super::timeouts::{canonical_timeout, default_timeout};
use super::PlanError;
use crate::api::{ParamSpec, ParamValue, TaskRun, TaskSpec, WorkspaceBinding};
use crate::load::Bundle;

/// Plans a TaskRun.
pub fn plan_task_run(bundle: &Bundle, tr: &TaskRun) -> Result<Plan, PlanError> {
    let name = run_name(&tr.metadata);
    let (spec, target) = task_spec_of_run(bundle, tr)?;
    let inputs = TaskInputs {
        params: tr.spec.params.clone(),
        propagated: HashMap::new(),
        task_run_name: name.clone(),
        task_name: if target == "(embedded)" {
            name.clone()
        } else {
            target.clone()
        },
        namespace: namespace(&tr.metadata),
        bound_workspaces: tr.spec.workspaces.iter().map(|w| w.name.clone()).collect(),
        claims: workspace_claims(
            tr.spec.workspaces.iter().map(|b| (b.name.as_str(), b)),
            &name,
        ),
        result_placeholders: false,
        retry_count: 0,
    };
    let resolved = resolve_task(bundle, &spec, &inputs)?;
    let params = ordered_values(&spec.params, &resolved.params, &tr.spec.params);
    let timeout = canonical_timeout(tr.spec.timeout.as_deref()).unwrap_or_else(default_timeout);
    let task = TaskPlan {
        name: name.clone(),
        task_run: name.clone(),
        task: target.clone(),
        level: 0,
        depends_on: Vec::new(),
        decision: Decision::Run,
        reason: None,
        when: Vec::new(),
        params: params.clone(),
        matrix: None,
        timeout: timeout.clone(),
        retries: tr.spec.retries.unwrap_or(0),
        on_error: None,
        workspaces: tr.spec.workspaces.iter().map(describe_binding).collect(),
        results: spec.results.iter().map(|r| r.name.clone()).collect(),
        sidecars: resolved.sidecars,
        steps: resolved.steps,
        child: None,
    };
    Ok(Plan {
        kind: "TaskRun".into(),
        name: name.clone(),
        target,
        params,
        workspaces: tr.spec.workspaces.iter().map(describe_binding).collect(),
        timeouts: TimeoutsPlan {
            pipeline: timeout,
            ..TimeoutsPlan::default()
        },
        levels: vec![vec![name]],
        tasks: vec![task],
        finally: Vec::new(),
        results: Vec::new(),
    })
}

pub(crate) fn task_spec_of_run(
    bundle: &Bundle,
    tr: &TaskRun,
) -> Result<(TaskSpec, String), PlanError> {
    if let Some(spec) = &tr.spec.task_spec {
        return Ok((spec.clone(), "(embedded)".into()));
    }
    let reference = tr.spec.task_ref.as_ref().ok_or_else(|| {
        PlanError::NotFound("the TaskRun has neither taskRef nor taskSpec".into())
    })?;
    let scope = crate::resolve::substitution::params_scope(&[], &tr.spec.params);
    find_task(bundle, &substituted_ref(reference, &scope))
}

/// A taskRef with its name and resolver params substituted from `scope`, as Tekton does
/// before resolving it.
pub(crate) fn substituted_ref(
    reference: &crate::api::TaskRef,
    scope: &super::scope::Scope,
) -> crate::api::TaskRef {
    let mut r = reference.clone();
    r.name = r.name.as_deref().map(|n| scope.subst(n));
    for p in &mut r.params {
        p.value = scope.subst_value(&p.value);
    }
    r
}

/// Values in declaration order, then undeclared extras in the order given.
pub(super) fn ordered_values(
    specs: &[ParamSpec],
    values: &HashMap<String, ParamValue>,
    given: &[crate::api::Param],
) -> Vec<NamedValue> {
    let given_names: HashSet<&str> = given.iter().map(|p| p.name.as_str()).collect();
    let mut out: Vec<NamedValue> = specs
        .iter()
        .filter_map(|s| {
            values.get(&s.name).map(|v| NamedValue {
                name: s.name.clone(),
                value: v.clone(),
                source: Some(
                    if given_names.contains(s.name.as_str()) {
                        "run"
                    } else {
                        "default"
                    }
                    .into(),
                ),
            })
        })
        .collect();
    for p in given {
        if !specs.iter().any(|s| s.name == p.name) {
            if let Some(v) = values.get(&p.name) {
                out.push(NamedValue {
                    name: p.name.clone(),
                    value: v.clone(),
                    source: Some("run".into()),
                });
            }
        }
    }
    out
}

pub(super) fn describe_binding(b: &WorkspaceBinding) -> WorkspacePlan {
    let binding = if b.empty_dir.is_some() {
        "emptyDir".to_string()
    } else if let Some(pvc) = &b.persistent_volume_claim {
        match pvc.claim_name.strip_prefix("dir:") {
            Some(dir) => format!("dir {dir}"),
            None => format!("persistentVolumeClaim {}", pvc.claim_name),
        }
    } else if b.volume_claim_template.is_some() {
        "volumeClaimTemplate".to_string()
    } else if let Some(cm) = &b.config_map {
        format!("configMap {}", cm.name)
    } else if let Some(s) = &b.secret {
        format!("secret {}", s.secret_name.as_deref().unwrap_or(""))
    } else if b.projected.is_some() {
        "projected".to_string()
    } else if b.csi.is_some() {
        "csi".to_string()
    } else {
        "unbound".to_string()
    };
    WorkspacePlan {
        name: b.name.clone(),
        binding,
        sub_path: b.sub_path.clone(),
    }
}
