//! What every reconcile shares: the connection, the runtime, the images Pods use, and how a
//! reconcile of one run ended.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::DynamicObject;
use kube::Client;
use serde_json::Value;

use super::objects::{write_status, RunKey, RunKind};
use crate::exec::kubernetes::connect::Cluster;
use crate::load::Bundle;
use crate::reconcile::Timestamp;
use crate::run::Clock;
use crate::status::{rfc3339, succeeded_condition};
use kube::runtime::events::{Event, EventType, Recorder};
use kube::Resource;

/// The controller's shared state: nothing in it is a record of any run.
#[derive(Clone)]
pub struct Context {
    /// The runtime API calls run on (reconciles themselves run on blocking threads).
    pub handle: tokio::runtime::Handle,
    /// The API server, as connected.
    pub cluster: Cluster,
    /// The image holding the entrypoint (`--entrypoint-image`).
    pub entrypoint_image: String,
    /// The image that replaces finished sidecars where the server has no native ones.
    pub nop_image: String,
    /// Where results are read from (`--feature-flag results-from=…`).
    pub results_from: crate::validate::ResultsFrom,
    /// The largest result line under `results-from: sidecar-logs`.
    pub max_result_size: usize,
    /// Publishes the runs' Events (`events.k8s.io/v1`), as Tekton's controller does.
    pub recorder: Recorder,
    /// How remote references (`resolver: git|http|…`) are fetched.
    pub resolve: crate::resolve::ResolveOptions,
    /// `default-resolver-type` (`--feature-flag`).
    pub default_resolver_type: Option<String>,
}

impl Context {
    /// The client.
    pub fn client(&self) -> &Client {
        &self.cluster.client
    }

    /// The connection with `namespace` as the one objects are created in.
    pub fn in_namespace(&self, namespace: &str) -> Cluster {
        Cluster {
            namespace: namespace.to_owned(),
            ..self.cluster.clone()
        }
    }

    /// Merges `status` into the run's status; how the reconcile ended.
    pub fn write(&self, key: &RunKey, status: &Value) -> Ended {
        match self
            .handle
            .block_on(write_status(self.client(), key, status))
        {
            Ok(true) => Ended::Written,
            Ok(false) => Ended::Gone,
            Err(e) => Ended::Requeue(format!("cannot write the status: {e}")),
        }
    }

    /// Ends a run that cannot start with `False/<reason>` and `message`.
    pub fn fail(&self, key: &RunKey, reason: &str, message: &str) -> Ended {
        let now = crate::run::SystemClock.now();
        let status = serde_json::json!({
            "conditions": [succeeded_condition("False", reason, message, Some(now))],
            "startTime": rfc3339(now),
            "completionTime": rfc3339(now),
        });
        self.write(key, &status)
    }

    /// Publishes an Event about the run `object` (best effort: a run never fails for it).
    pub fn event(
        &self,
        kind: RunKind,
        object: &DynamicObject,
        warning: bool,
        reason: &str,
        note: &str,
    ) {
        let event = Event {
            type_: if warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: reason.to_owned(),
            note: (!note.is_empty()).then(|| note.chars().take(1024).collect()),
            action: "Reconcile".to_owned(),
            secondary: None,
        };
        let reference = object.object_ref(&kind.resource());
        let _ = self
            .handle
            .block_on(self.recorder.publish(&event, &reference));
    }

    /// Publishes the Event of a run that ended with the `Succeeded` condition `status`.
    pub fn ended_event(&self, kind: RunKind, object: &DynamicObject, status: &Value) {
        let Some(condition) =
            super::objects::succeeded(&serde_json::json!({"status": status})).cloned()
        else {
            return;
        };
        let text = |k: &str| condition[k].as_str().unwrap_or_default().to_owned();
        self.event(
            kind,
            object,
            text("status") == "False",
            &text("reason"),
            &text("message"),
        );
    }

    /// Loads the run's world (see `super::bundle`) and fetches its remote references, as
    /// Tekton's resolvers do before the run starts. A reference that cannot be fetched fails
    /// the run: `CouldntGetPipeline` for a PipelineRun's `pipelineRef`, `CouldntGetTask` for
    /// its tasks', `TaskRunResolutionFailed` for a TaskRun's.
    /// Runs on the reconcile's blocking thread, where the blocking resolvers belong.
    pub fn bundle(&self, key: &RunKey, object: &DynamicObject) -> Result<Bundle, Ended> {
        let mut bundle = self
            .handle
            .block_on(super::bundle::load(self.client(), &key.namespace, object))
            .map_err(|e| Ended::Requeue(format!("cannot read what the run references: {e}")))?;
        if let Some(default) = &self.default_resolver_type {
            crate::resolve::defaults::apply_default_resolver(&mut bundle, default);
        }
        let mut options = self.resolve.clone();
        options.namespace.clone_from(&key.namespace);
        let mut resolvers = crate::resolve::Resolvers::standard();
        resolvers.add(Box::new(crate::resolve::cluster::ClusterResolver::new(
            Box::new(crate::resolve::cluster_api::ApiObjects::new(
                self.client().clone(),
                self.handle.clone(),
            )),
        )));
        let failed = crate::resolve::resolve_references(&mut bundle, &resolvers, &options);
        if let Some(first) = failed.first() {
            let reason = match key.kind {
                super::objects::RunKind::TaskRun => "TaskRunResolutionFailed",
                _ if first.field.as_deref() == Some("spec.pipelineRef") => "CouldntGetPipeline",
                _ => "CouldntGetTask",
            };
            return Err(self.fail(key, reason, &first.message));
        }
        Ok(bundle)
    }
}

/// How one reconcile of a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The run's final status is written.
    Written,
    /// The run was deleted meanwhile.
    Gone,
    /// The run is pending (`spec.status: PipelineRunPending`/`TaskRunPending`), its status
    /// written: nothing happens until its object changes.
    Pending,
    /// Something outside the run failed (the API server, mostly): try again later.
    Requeue(String),
}

/// The owner reference that makes a run object the controller of what is created for it.
pub fn owner_of(key: &RunKey) -> OwnerReference {
    OwnerReference {
        api_version: "tekton.dev/v1".into(),
        kind: key.kind.as_str().into(),
        name: key.name.clone(),
        uid: key.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The loader's diagnostics for the run's own file, as one message.
pub fn load_errors(bundle: &Bundle) -> String {
    let errors: Vec<String> = bundle
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    if errors.is_empty() {
        "the run could not be read".to_owned()
    } else {
        errors.join("; ")
    }
}

/// `startTime` to show: the recorded one when the run had started before.
pub fn start_time(recorded: Option<Timestamp>) -> Timestamp {
    recorded.unwrap_or_else(|| crate::run::SystemClock.now())
}
