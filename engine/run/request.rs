//! The [`TaskRunRequest`] for one TaskRun of a pipeline task: params substituted from the
//! results produced so far (and its matrix combination), the Task resolved, the
//! `taskRunSpecs` overrides and the effective `podTemplate` applied, its workspaces, volumes,
//! environment and credentials provided; on a cluster, its sources passed through as written.
//!
//! # Invariants
//!
//! - The request is fully substituted: executors never interpret `$(...)`.
//! - On a cluster nothing on this host is read for it: no workspace mounts, no volume files,
//!   no ConfigMap or Secret values in the environment (credential files still are derived).

use std::collections::HashMap;

use super::driver::{Child, Driver, Tracked};
use super::error::RunError;
use super::executor::{ClusterSources, RunIdentity, TaskRunRequest};
use super::timeouts::task_timeout;
use super::{credentials, env, pod_template, volumes, workspaces};
use crate::api::pipeline::PipelineTask;
use crate::api::{Param, ParamValue, TaskSpec};
use crate::load::Bundle;
use crate::plan::confinement::apply_overrides;
use crate::plan::lookup::find_task;
use crate::plan::scope::Scope;
use crate::plan::task::{resolve_task, workspace_claims, TaskInputs};
use crate::plan::task_run::substituted_ref;
use crate::plan::PlanError;

impl<'b> Driver<'b> {
    /// The pipeline scope plus what only one pipeline task knows: `context.pipelineTask.retries`,
    /// which Tekton substitutes when it creates that task's TaskRuns (§3.3).
    pub(super) fn task_scope(&self, pt: &PipelineTask) -> Scope {
        let mut scope = self.scope.clone();
        scope.context.insert(
            "pipelineTask.retries".to_owned(),
            pt.retries.unwrap_or(0).to_string(),
        );
        scope
    }

    /// The fully resolved TaskRun for a pipeline task, and the Task spec it resolved.
    pub(super) fn request(
        &self,
        tracked: &Tracked<'_>,
        child: &Child,
        finally: bool,
    ) -> Result<(TaskRunRequest, TaskSpec), RunError> {
        let pt = tracked.pt;
        let statuses = self.statuses();
        let scope = self.task_scope(pt);
        let values = self.values_in(&scope, &statuses);
        let mut params: Vec<Param> = pt
            .params
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                value: values.value(&p.value),
            })
            .collect();
        for (name, value) in &child.combination {
            params.retain(|p| &p.name != name);
            params.push(Param {
                name: name.clone(),
                value: ParamValue::String(value.clone()),
            });
        }
        let mut remote_ref = None;
        let (mut spec, task_ref_name, embedded) = match (&pt.task_spec, &pt.task_ref) {
            (Some(ts), _) => (values.stage_spec(ts), child.name.clone(), true),
            (None, Some(r)) => {
                let r = substituted_ref(r, &self.scope);
                let (spec, name) = find_task(self.bundle, &r)?;
                if r.resolver.as_deref().is_some_and(|v| !v.is_empty()) {
                    remote_ref = Some(r);
                }
                (spec, name, false)
            }
            (None, None) => return Err(no_task(pt).into()),
        };
        let propagated;
        let bound_pt = if embedded {
            propagated = workspaces::propagate(pt, &mut spec, &self.bindings);
            &propagated
        } else {
            pt
        };
        let cluster_workspaces =
            workspaces::cluster_workspaces(bound_pt, &spec, &self.bindings, &self.scope)?;
        let mounts = if self.cluster {
            Vec::new()
        } else {
            workspaces::task_run_mounts(
                self.bundle,
                bound_pt,
                &spec,
                &self.bindings,
                self.run_dir.as_ref(),
                &self.scope,
            )?
        };
        let inputs = TaskInputs {
            params: params.clone(),
            // Only an embedded spec sees pipeline params it does not declare (propagation).
            propagated: if embedded {
                self.params.clone()
            } else {
                HashMap::new()
            },
            task_run_name: child.name.clone(),
            task_name: task_ref_name.clone(),
            namespace: self.namespace.clone(),
            bound_workspaces: cluster_workspaces.iter().map(|w| w.name.clone()).collect(),
            claims: workspace_claims(
                bound_pt.workspaces.iter().filter_map(|tb| {
                    let name = tb.workspace.as_deref().unwrap_or(&tb.name);
                    let binding = self.bindings.iter().find(|b| b.name == name)?;
                    Some((tb.name.as_str(), binding))
                }),
                &self.name,
            ),
            result_placeholders: false,
            // The attempt about to start: the ones already made.
            retry_count: child.attempts,
        };
        let mut resolved = resolve_task(self.bundle, &spec, &inputs)?;
        let overrides = self
            .pr
            .spec
            .task_run_specs
            .iter()
            .find(|s| s.pipeline_task_name == pt.name);
        if let Some(specs) = overrides {
            apply_overrides(&mut resolved.steps, &specs.step_specs);
            apply_overrides(&mut resolved.sidecars, &specs.sidecar_specs);
        }
        let needed_by = format!("pipeline task \"{}\"", pt.name);
        let pod = pod_template::for_pipeline_task(self.pr, &pt.name).unwrap_or_default();
        pod_template::apply(&pod, &mut resolved.steps, &mut resolved.sidecars);
        let task_volumes = volumes::merged(&resolved.volumes, &pod.volumes, &needed_by)?;
        if !self.cluster {
            for step in &mut resolved.steps {
                let needed_by = format!("step \"{}\" of pipeline task \"{}\"", step.name, pt.name);
                env::resolve(self.bundle, step, &needed_by)?;
            }
            for sidecar in &mut resolved.sidecars {
                let needed_by = format!(
                    "sidecar \"{}\" of pipeline task \"{}\"",
                    sidecar.name, pt.name
                );
                env::resolve(self.bundle, sidecar, &needed_by)?;
            }
        }
        let request = TaskRunRequest {
            name: child.name.clone(),
            pipeline_task: pt.name.clone(),
            parent_tasks: self.parent_tasks.clone(),
            finally,
            params,
            steps: resolved.steps,
            sidecars: resolved.sidecars,
            timeout: task_timeout(pt)?,
            workspaces: mounts,
            results: spec.results.clone(),
            volumes: if self.cluster {
                Vec::new()
            } else {
                volumes::task_volumes(self.bundle, &task_volumes, &needed_by)?
            },
            credentials: credentials::credential_files(self.bundle, &self.service_account(pt))?,
            pod: pod_template::settings(&pod, &needed_by)?,
            on_error: tracked.on_error,
            cluster: ClusterSources {
                workspaces: cluster_workspaces,
                volumes: task_volumes,
                service_account_name: self.named_service_account(pt),
                pipeline_run: Some(RunIdentity {
                    name: self.name.clone(),
                    uid: self.uid.clone(),
                }),
                task: (!embedded).then_some(task_ref_name),
                task_ref: remote_ref,
                task_spec: embedded.then(|| spec.clone()),
                propagated: if embedded {
                    let mut propagated: Vec<Param> = self
                        .params
                        .iter()
                        .map(|(name, value)| Param {
                            name: name.clone(),
                            value: value.clone(),
                        })
                        .collect();
                    propagated.sort_by(|a, b| a.name.cmp(&b.name));
                    propagated
                } else {
                    Vec::new()
                },
                pod_template: pod,
                retries: tracked.retries,
                step_specs: overrides.map(|s| s.step_specs.clone()).unwrap_or_default(),
                sidecar_specs: overrides
                    .map(|s| s.sidecar_specs.clone())
                    .unwrap_or_default(),
            },
        };
        Ok((request, spec))
    }

    /// The service account a pipeline task's TaskRun runs as: its `taskRunSpecs` entry, else
    /// `taskRunTemplate`, else `default`.
    fn service_account(&self, pt: &PipelineTask) -> String {
        self.named_service_account(pt)
            .unwrap_or_else(|| "default".to_owned())
    }

    /// The `serviceAccountName` the PipelineRun gives pipeline task `pt`, if it names one.
    fn named_service_account(&self, pt: &PipelineTask) -> Option<String> {
        let spec = &self.pr.spec;
        spec.task_run_specs
            .iter()
            .find(|s| s.pipeline_task_name == pt.name)
            .and_then(|s| s.service_account_name.clone())
            .or_else(|| {
                spec.task_run_template
                    .as_ref()
                    .and_then(|t| t.service_account_name.clone())
            })
    }
}

/// The error for a pipeline task with neither `taskRef` nor `taskSpec`.
pub(super) fn no_task(pt: &PipelineTask) -> PlanError {
    PlanError::NotFound(format!(
        "pipeline task \"{}\" has neither taskRef nor taskSpec",
        pt.name
    ))
}

/// The spec of the Task called `name`, looked up like `plan` does.
pub(super) fn task_spec_named(bundle: &Bundle, name: &str) -> Result<TaskSpec, PlanError> {
    let reference = crate::api::TaskRef {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    find_task(bundle, &reference).map(|(spec, _)| spec)
}
