//! The PipelineRun driver's [`Executor`] under `adze controller`: each TaskRun it starts is a
//! child TaskRun *object*, owned by the PipelineRun, which the controller's TaskRun side then
//! runs as a Pod. Its end is read back from the child's status.
//!
//! # Design
//!
//! - Names are the driver's (`<pipelinerun>-<pipeline task>`, `-<index>` for a matrix), so a
//!   restarted controller replaying the run asks for the same children: a create that answers
//!   409 adopts the existing child, finished or not, and nothing is created twice.
//! - A `volumeClaimTemplate` binding becomes one claim per PipelineRun binding, owned by the
//!   PipelineRun and named as Tekton names it; the children bind it by `claimName`.
//! - The child carries what the TaskRun side needs to run it exactly as the driver resolved
//!   it: `taskRef` or the embedded `taskSpec` with the pipeline's substitutions made, the
//!   params (propagated ones included), the workspaces with their joined `subPath`s, the
//!   service account, `timeout`, `podTemplate`, `retries` and the PipelineRun's
//!   `taskRunSpecs` step and sidecar overrides; and the labels Tekton sets
//!   (`tekton.dev/pipelineRun`, `pipelineTask`, `pipeline`, `memberOf`) plus the run's own.
//! - Cancelling a child patches its `spec.status: TaskRunCancelled` with the message.
//! - Every poll lists the run's children once (`labelSelector=tekton.dev/pipelineRun=<run>`).
//!
//! # Retries
//!
//! The child carries the pipeline task's `retries` and the TaskRun side retries it (new Pods
//! `-retry<N>`, `retriesStatus`), as Tekton's TaskRun reconciler does; it reports only the
//! last attempt. The driver, which also counts attempts, starts the child again after that
//! failure: the create answers 409 and the same final status is read back at once, so its
//! extra attempts cost one API call each and change nothing.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimVolumeSource};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Map, Value};

use super::objects::{succeeded, tekton};
use super::opt_in::{OPT_IN_LABEL, OPT_IN_VALUE};
use crate::api::{Param, ParamValue, WorkspaceBinding};
use crate::exec::kubernetes::{claim_name, MANAGED_BY, MANAGED_BY_LABEL};
use crate::reconcile::Timestamp;
use crate::run::{
    ChildPipelineRun, ExecError, ExecEvent, ExecOutcome, Executor, TaskRunReport, TaskRunRequest,
};
use crate::status::parse_rfc3339;

/// How often the children are listed while some run.
const POLL: Duration = Duration::from_millis(250);

/// The PipelineRun whose children these are.
#[derive(Debug, Clone)]
pub struct Parent {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: String,
    /// The Pipeline's name (`tekton.dev/pipeline`).
    pub pipeline: String,
    /// Its own labels, which the children inherit.
    pub labels: BTreeMap<String, String>,
}

/// Creates and follows a PipelineRun's child TaskRuns.
pub struct ChildTaskRuns {
    handle: tokio::runtime::Handle,
    client: Client,
    parent: Parent,
    /// Children started and not yet reported finished.
    running: HashSet<String>,
    /// Child PipelineRuns (pipelines in pipelines) started and not yet reported finished.
    pipelines: HashSet<String>,
    last_list: Option<Instant>,
}

impl ChildTaskRuns {
    /// Children of `parent`, through `client` on the runtime behind `handle`; calls must come
    /// from outside the runtime's worker threads.
    pub fn new(handle: tokio::runtime::Handle, client: Client, parent: Parent) -> ChildTaskRuns {
        ChildTaskRuns {
            handle,
            client,
            parent,
            running: HashSet::new(),
            pipelines: HashSet::new(),
            last_list: None,
        }
    }

    fn api(&self) -> Api<DynamicObject> {
        Api::namespaced_with(
            self.client.clone(),
            &self.parent.namespace,
            &tekton("TaskRun"),
        )
    }

    fn owner(&self) -> OwnerReference {
        OwnerReference {
            api_version: "tekton.dev/v1".into(),
            kind: "PipelineRun".into(),
            name: self.parent.name.clone(),
            uid: self.parent.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// Creates the claims of the request's `volumeClaimTemplate` bindings unless they exist.
    async fn create_claims(&self, request: &TaskRunRequest) -> Result<(), kube::Error> {
        for workspace in &request.cluster.workspaces {
            if let Some(template) = &workspace.binding.volume_claim_template {
                self.claim_for(template, &workspace.binding.name).await?;
            }
        }
        Ok(())
    }

    /// The child TaskRun object for `request`.
    fn child(&self, request: &TaskRunRequest) -> DynamicObject {
        let mut labels = self.parent.labels.clone();
        labels.insert(OPT_IN_LABEL.into(), OPT_IN_VALUE.into());
        labels.insert("tekton.dev/pipelineRun".into(), self.parent.name.clone());
        labels.insert(
            "tekton.dev/pipelineTask".into(),
            request.pipeline_task.clone(),
        );
        labels.insert("tekton.dev/pipeline".into(), self.parent.pipeline.clone());
        let member = if request.finally { "finally" } else { "tasks" };
        labels.insert("tekton.dev/memberOf".into(), member.into());
        let mut object = DynamicObject::new(&request.name, &tekton("TaskRun"));
        object.metadata.namespace = Some(self.parent.namespace.clone());
        object.metadata.labels = Some(labels);
        object.metadata.owner_references = Some(vec![self.owner()]);
        object.data = json!({ "spec": child_spec(request, &self.parent.uid) });
        object
    }

    /// The run's children of `kind` (`TaskRun` or `PipelineRun`).
    fn list(&mut self, kind: &str) -> Result<Vec<DynamicObject>, kube::Error> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.parent.namespace, &tekton(kind));
        let selector = format!("tekton.dev/pipelineRun={}", self.parent.name);
        self.last_list = Some(Instant::now());
        let listed = self
            .handle
            .block_on(api.list(&ListParams::default().labels(&selector)))?;
        Ok(listed.items)
    }

    /// Creates the claim a `volumeClaimTemplate` binding of the parent stands for, unless it
    /// exists; the binding that mounts it by name.
    async fn claim_for(
        &self,
        template: &PersistentVolumeClaim,
        binding: &str,
    ) -> Result<String, kube::Error> {
        let api: Api<PersistentVolumeClaim> =
            Api::namespaced(self.client.clone(), &self.parent.namespace);
        let name = claim_name(template, binding, &self.parent.uid);
        let mut claim = template.clone();
        claim.metadata.name = Some(name.clone());
        claim.metadata.namespace = Some(self.parent.namespace.clone());
        claim.metadata.owner_references = Some(vec![self.owner()]);
        let labels = claim.metadata.labels.get_or_insert_with(BTreeMap::new);
        labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
        labels.insert("tekton.dev/pipelineRun".into(), self.parent.name.clone());
        if claim.spec.is_none() {
            claim.spec = Some(k8s_openapi::api::core::v1::PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
                ..Default::default()
            });
        }
        match api.create(&PostParams::default(), &claim).await {
            Ok(_) => Ok(name),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(name),
            Err(e) => Err(e),
        }
    }

    /// The child PipelineRun object for `child`: its bindings of the parent's
    /// `volumeClaimTemplate`s become the parent's claims, created here if need be.
    async fn child_pipeline_run(
        &self,
        child: &ChildPipelineRun,
    ) -> Result<DynamicObject, kube::Error> {
        let mut spec = child.run.spec.clone();
        for binding in &mut spec.workspaces {
            let parent = child
                .parent_bindings
                .iter()
                .find(|(name, _)| *name == binding.name)
                .map(|(_, parent)| parent);
            let Some((parent, template)) =
                parent.and_then(|p| p.volume_claim_template.as_ref().map(|t| (p, t)))
            else {
                continue;
            };
            let claim = self.claim_for(template, &parent.name).await?;
            binding.volume_claim_template = None;
            binding.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim,
                read_only: None,
            });
        }
        let name = child.run.metadata.name.clone().unwrap_or_default();
        let mut labels = self.parent.labels.clone();
        labels.insert(OPT_IN_LABEL.into(), OPT_IN_VALUE.into());
        labels.insert("tekton.dev/pipelineRun".into(), self.parent.name.clone());
        labels.insert(
            "tekton.dev/pipelineTask".into(),
            child.pipeline_task.clone(),
        );
        let mut object = DynamicObject::new(&name, &tekton("PipelineRun"));
        object.metadata.namespace = Some(self.parent.namespace.clone());
        object.metadata.labels = Some(labels);
        object.metadata.owner_references = Some(vec![self.owner()]);
        object.data = json!({ "spec": spec });
        Ok(object)
    }
}

/// The child's `spec`.
fn child_spec(request: &TaskRunRequest, owner_uid: &str) -> Value {
    let cluster = &request.cluster;
    let mut spec = Map::new();
    let mut params: Vec<Param> = request.params.clone();
    for p in &cluster.propagated {
        if !params.iter().any(|q| q.name == p.name) {
            params.push(p.clone());
        }
    }
    if !params.is_empty() {
        spec.insert("params".into(), json!(params));
    }
    match (&cluster.task_spec, &cluster.task) {
        (Some(task_spec), _) => {
            spec.insert("taskSpec".into(), json!(task_spec));
        }
        (None, Some(_)) if cluster.task_ref.is_some() => {
            spec.insert("taskRef".into(), json!(cluster.task_ref));
        }
        (None, Some(name)) => {
            spec.insert("taskRef".into(), json!({"name": name, "kind": "Task"}));
        }
        (None, None) => {}
    }
    let workspaces: Vec<WorkspaceBinding> = cluster
        .workspaces
        .iter()
        .map(|w| {
            let mut binding = w.binding.clone();
            binding.name = w.name.clone();
            binding.sub_path = w.sub_path.clone();
            if let Some(template) = binding.volume_claim_template.take() {
                binding.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim_name(&template, &w.binding.name, owner_uid),
                    read_only: None,
                });
            }
            binding
        })
        .collect();
    if !workspaces.is_empty() {
        spec.insert("workspaces".into(), json!(workspaces));
    }
    if cluster.retries > 0 {
        spec.insert("retries".into(), json!(cluster.retries));
    }
    if !cluster.step_specs.is_empty() {
        spec.insert("stepSpecs".into(), json!(cluster.step_specs));
    }
    if !cluster.sidecar_specs.is_empty() {
        spec.insert("sidecarSpecs".into(), json!(cluster.sidecar_specs));
    }
    if let Some(account) = &cluster.service_account_name {
        spec.insert("serviceAccountName".into(), json!(account));
    }
    if let Some(timeout) = request.timeout {
        spec.insert("timeout".into(), json!(timeout.to_string()));
    }
    if cluster.pod_template != Default::default() {
        spec.insert("podTemplate".into(), json!(cluster.pod_template));
    }
    Value::Object(spec)
}

/// The driver's event for a child whose `Succeeded` condition is final; `None` while it runs.
fn finished(child: &DynamicObject) -> Option<ExecEvent> {
    let condition = succeeded(&child.data)?;
    let reason = condition["reason"].as_str().unwrap_or_default().to_owned();
    let message = condition["message"].as_str().unwrap_or_default().to_owned();
    let outcome = match condition["status"].as_str()? {
        "True" => ExecOutcome::Succeeded,
        "False" if reason == "TaskRunCancelled" => ExecOutcome::Cancelled,
        "False" => ExecOutcome::Failed {
            reason,
            message: message.clone(),
        },
        _ => return None,
    };
    let status = &child.data["status"];
    let results = status["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let name = r["name"].as_str()?.to_owned();
            let value: ParamValue = serde_json::from_value(r["value"].clone()).ok()?;
            Some((name, value))
        })
        .collect();
    let time = |field: &str| status[field].as_str().and_then(parse_rfc3339);
    let artifacts = status.get("artifacts").filter(|a| !a.is_null()).cloned();
    Some(ExecEvent {
        task_run: child.metadata.name.clone().unwrap_or_default(),
        outcome,
        results,
        report: TaskRunReport {
            message,
            pod_name: status["podName"].as_str().unwrap_or_default().to_owned(),
            start_time: time("startTime"),
            completion_time: time("completionTime"),
            artifacts,
            ..TaskRunReport::default()
        },
    })
}

impl Executor for ChildTaskRuns {
    fn start(&mut self, request: &TaskRunRequest) -> Result<(), ExecError> {
        let fail = |e: kube::Error| ExecError::Start {
            task_run: request.name.clone(),
            message: e.to_string(),
        };
        self.handle
            .block_on(self.create_claims(request))
            .map_err(fail)?;
        let child = self.child(request);
        let api = self.api();
        match self
            .handle
            .block_on(api.create(&PostParams::default(), &child))
        {
            Ok(_) => {}
            // The name is the run's own: an earlier controller created this child.
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(fail(e)),
        }
        self.running.insert(request.name.clone());
        Ok(())
    }

    fn start_pipeline_run(&mut self, child: &ChildPipelineRun) -> Option<Result<(), ExecError>> {
        let name = child.run.metadata.name.clone().unwrap_or_default();
        let fail = |e: kube::Error| ExecError::Start {
            task_run: name.clone(),
            message: e.to_string(),
        };
        let created = self.handle.block_on(async {
            let object = self.child_pipeline_run(child).await?;
            let api: Api<DynamicObject> = Api::namespaced_with(
                self.client.clone(),
                &self.parent.namespace,
                &tekton("PipelineRun"),
            );
            match api.create(&PostParams::default(), &object).await {
                Ok(_) => Ok(()),
                // The name is the run's own: an earlier controller created this child.
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
                Err(e) => Err(e),
            }
        });
        if let Err(e) = created {
            return Some(Err(fail(e)));
        }
        self.pipelines.insert(name);
        Some(Ok(()))
    }

    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        let (kind, patch) = if self.pipelines.contains(name) {
            // A child PipelineRun is cancelled as a whole, finally included.
            ("PipelineRun", json!({"spec": {"status": "Cancelled"}}))
        } else {
            let status = json!({"status": "TaskRunCancelled", "statusMessage": message});
            ("TaskRun", json!({ "spec": status }))
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.parent.namespace, &tekton(kind));
        match self
            .handle
            .block_on(api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)))
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(ExecError::Cancel {
                task_run: name.to_owned(),
                message: e.to_string(),
            }),
        }
    }

    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent> {
        let mut events = Vec::new();
        if !self.pipelines.is_empty() {
            if let Ok(children) = self.list("PipelineRun") {
                for name in self.pipelines.iter().cloned().collect::<Vec<_>>() {
                    let child = children
                        .iter()
                        .find(|c| c.metadata.name.as_deref() == Some(name.as_str()));
                    if let Some(event) = child.and_then(finished) {
                        self.pipelines.remove(&name);
                        events.push(event);
                    }
                }
            }
        }
        if self.running.is_empty() {
            return events;
        }
        let children = match self.list("TaskRun") {
            Ok(children) => children,
            // The next poll tries again; the driver keeps waiting meanwhile.
            Err(_) => return events,
        };
        for name in self.running.iter().cloned().collect::<Vec<_>>() {
            let child = children
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(name.as_str()));
            let event = match child {
                Some(child) => finished(child),
                // Someone deleted it while it ran.
                None => Some(ExecEvent {
                    task_run: name.clone(),
                    outcome: ExecOutcome::Failed {
                        reason: "TaskRunDeleted".into(),
                        message: format!("the TaskRun \"{name}\" was deleted while it ran"),
                    },
                    results: Vec::new(),
                    report: TaskRunReport {
                        completion_time: Some(now),
                        ..TaskRunReport::default()
                    },
                }),
            };
            if let Some(event) = event {
                self.running.remove(&name);
                events.push(event);
            }
        }
        events
    }

    fn wait(&mut self, timeout: Duration) -> bool {
        let since = self.last_list.map_or(POLL, |t| t.elapsed());
        std::thread::sleep(timeout.min(POLL.saturating_sub(since)));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{ClusterSources, ClusterWorkspace};

    #[test]
    fn the_child_spec_carries_what_the_taskrun_side_needs() {
        let template: PersistentVolumeClaim = serde_json::from_value(json!({
            "spec": {"accessModes": ["ReadWriteOnce"]}
        }))
        .unwrap();
        let request = TaskRunRequest {
            name: "pr-build".into(),
            pipeline_task: "build".into(),
            parent_tasks: Vec::new(),
            params: vec![Param {
                name: "a".into(),
                value: ParamValue::String("x".into()),
            }],
            timeout: Some(crate::api::GoDuration::minutes(5)),
            cluster: ClusterSources {
                task: Some("builder".into()),
                propagated: vec![
                    Param {
                        name: "a".into(),
                        value: ParamValue::String("pipeline".into()),
                    },
                    Param {
                        name: "b".into(),
                        value: ParamValue::String("y".into()),
                    },
                ],
                workspaces: vec![ClusterWorkspace {
                    name: "src".into(),
                    binding: WorkspaceBinding {
                        name: "shared".into(),
                        volume_claim_template: Some(template.clone()),
                        ..WorkspaceBinding::default()
                    },
                    mount_path: "/workspace/src".into(),
                    sub_path: Some("dir".into()),
                    read_only: false,
                }],
                step_specs: vec![crate::api::run::ContainerSpecOverride {
                    name: "build".into(),
                    compute_resources: Some(
                        serde_json::from_value(json!({
                            "limits": {"memory": "1Gi"}
                        }))
                        .unwrap(),
                    ),
                }],
                ..ClusterSources::default()
            },
            ..TaskRunRequest::default()
        };
        let spec = child_spec(&request, "uid-1");
        assert_eq!(spec["taskRef"], json!({"name": "builder", "kind": "Task"}));
        assert_eq!(
            spec["params"],
            json!([{"name": "a", "value": "x"}, {"name": "b", "value": "y"}])
        );
        assert_eq!(spec["timeout"], "5m0s");
        assert_eq!(
            spec["stepSpecs"],
            json!([{"name": "build", "computeResources": {"limits": {"memory": "1Gi"}}}])
        );
        assert!(spec.get("sidecarSpecs").is_none());
        let claim = claim_name(&template, "shared", "uid-1");
        assert_eq!(
            spec["workspaces"],
            json!([{"name": "src", "subPath": "dir", "persistentVolumeClaim": {"claimName": claim}}])
        );
    }

    #[test]
    fn a_child_is_finished_once_its_condition_is_final() {
        let mut child = DynamicObject::new("pr-a", &tekton("TaskRun"));
        child.data = json!({"status": {
            "conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running"}]
        }});
        assert!(finished(&child).is_none());
        child.data = json!({"status": {
            "conditions": [{"type": "Succeeded", "status": "False", "reason": "Failed",
                            "message": "step s exited 1"}],
            "podName": "pr-a-pod",
            "results": [{"name": "r", "type": "string", "value": "v"}]
        }});
        let event = finished(&child).unwrap();
        assert_eq!(
            event.outcome,
            ExecOutcome::Failed {
                reason: "Failed".into(),
                message: "step s exited 1".into()
            }
        );
        assert_eq!(
            event.results,
            [("r".to_owned(), ParamValue::String("v".into()))]
        );
        assert_eq!(event.report.pod_name, "pr-a-pod");
    }
}
