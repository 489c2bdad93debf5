//! The API server's verbs on top of the store: create, update, patch and delete with each
//! kind's rules (admission defaults, the `status` subresource, Pods handed to the kubelet,
//! namespaces that own their contents) and owner-reference garbage collection.
//!
//! # Design
//!
//! [`Cluster`] is the only writer of the [`Store`] apart from the kubelet's status writes
//! (through [`crate::kubelet::PodHost`]). Each verb is synchronous; what takes time (a Pod's
//! containers stopping, a namespace emptying, dependents being collected) runs in spawned
//! tasks, as the real controllers do it after the API call has returned.
//!
//! Garbage collection follows the store's removals: when an object leaves the store, every
//! object that names its uid in `ownerReferences` and has no other owner left is deleted in
//! the background, recursively through the same path. `propagationPolicy: Orphan` strips the
//! owner's reference from its dependents before the owner goes; `Foreground` holds the owner
//! with the `foregroundDeletion` finalizer until its dependents are gone. An object created
//! with owners none of which exist is collected the same way.
//!
//! # Invariants
//!
//! - A Pod is handed to the kubelet exactly once, after it is stored; a Pod is removed from
//!   the store only after the kubelet has stopped its containers (or at once for grace 0).
//! - Writes to the main resource of a kind with a `status` subresource keep the stored status;
//!   writes to `/status` change only the status.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::admission;
use crate::api_error::ApiError;
use crate::kubelet::Kubelet;
use crate::patch::{self, PatchError};
use crate::resources::{self, ResourceDef};
use crate::store::{resource_version, Removed, Store};

/// The finalizer that holds an owner while its dependents are deleted first.
const FOREGROUND: &str = "foregroundDeletion";

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object itself (`.../name`).
    Main,
    /// Its status subresource (`.../name/status`).
    Status,
}

/// The patch formats, by `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/json-patch+json`.
    Json,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

/// What happens to an owner's dependents when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Collected after the owner goes (the default).
    #[default]
    Background,
    /// Dependents first: the owner stays (finalizer `foregroundDeletion`) until they are gone.
    Foreground,
    /// Kept, without the owner's reference.
    Orphan,
}

/// `DeleteOptions`, from the body and the query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// Seconds a Pod's containers get to stop; `None`: the Pod's own grace period.
    pub grace_seconds: Option<i64>,
    /// What happens to dependents.
    pub propagation: Propagation,
    /// Delete only if the object still has this uid.
    pub precondition_uid: Option<String>,
    /// Delete only if the object still has this resourceVersion.
    pub precondition_rv: Option<String>,
}

/// The API server's state and behaviour: the store, and the kubelet Pods are handed to.
pub struct Cluster {
    /// The objects.
    pub store: Arc<Store>,
    /// Runs Pods; `None` with `--no-kubelet` (Pods stay Pending).
    pub kubelet: Option<Kubelet>,
    /// The node whose Pods the kubelet runs, and where unbound Pods are bound.
    pub node_name: String,
}

/// Rejects a body (or patch result) that is not an object with object metadata: everything
/// after this point indexes into both.
fn check_shape(resource: &ResourceDef, object: &Value) -> Result<(), ApiError> {
    let metadata_ok = object
        .get("metadata")
        .is_none_or(|m| m.is_object() || m.is_null());
    if object.is_object() && metadata_ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: expected a JSON \
             object with an object \"metadata\"",
            kind = resource.kind,
            version = resource.version,
        )))
    }
}

/// A patch failure as Kubernetes reports it: malformed is 400, a failed operation 422.
fn patch_error(resource: &ResourceDef, name: &str, error: PatchError) -> ApiError {
    match error {
        PatchError::Malformed(_) => ApiError::BadRequest(error.to_string()),
        PatchError::Operation { .. } => {
            ApiError::invalid(resource.kind, name, "patch", error.to_string())
        }
    }
}

/// Records `manager` as having applied the object (no per-field ownership).
fn record_manager(object: &mut Value, manager: &str, operation: &str, api_version: &str) {
    let entry = json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": crate::store::now(),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    });
    let fields = &mut object["metadata"]["managedFields"];
    if !fields.is_array() {
        *fields = json!([]);
    }
    if let Some(entries) = fields.as_array_mut() {
        entries.retain(|e| !(e["manager"] == manager && e["operation"] == operation));
        entries.push(entry);
    }
}

/// Applies the status-subresource rule to `next` (what the client wants) given `current`.
fn apply_part(resource: &ResourceDef, part: Part, current: &Value, mut next: Value) -> Value {
    match part {
        Part::Main if resource.status_subresource => {
            match current.get("status") {
                Some(status) => next["status"] = status.clone(),
                None => {
                    if let Some(map) = next.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
            next
        }
        Part::Main => next,
        Part::Status => {
            let mut only_status = current.clone();
            only_status["status"] = next.get("status").cloned().unwrap_or(Value::Null);
            if only_status["status"].is_null() {
                if let Some(map) = only_status.as_object_mut() {
                    map.remove("status");
                }
            }
            match next["metadata"].get("resourceVersion") {
                Some(rv) => only_status["metadata"]["resourceVersion"] = rv.clone(),
                None => {
                    if let Some(meta) = only_status["metadata"].as_object_mut() {
                        meta.remove("resourceVersion");
                    }
                }
            }
            only_status
        }
    }
}

impl Cluster {
    /// The API server over `store`, with the namespaces every cluster has (`default`,
    /// `kube-system`, `kube-public`, each with its `default` ServiceAccount).
    pub fn new(store: Arc<Store>, kubelet: Option<Kubelet>) -> Arc<Cluster> {
        Cluster::with_node(store, kubelet, crate::nodes::DEFAULT_NODE_NAME)
    }

    /// [`Cluster::new`] whose own node (the kubelet's) is `node_name`.
    pub fn with_node(store: Arc<Store>, kubelet: Option<Kubelet>, node_name: &str) -> Arc<Cluster> {
        let cluster = Arc::new(Cluster {
            store,
            kubelet,
            node_name: node_name.to_owned(),
        });
        for namespace in ["default", "kube-system", "kube-public"] {
            // A fresh store holds no namespace, so this cannot conflict.
            let _ = cluster.create(
                resources::namespaces(),
                "",
                json!({ "metadata": { "name": namespace } }),
            );
        }
        cluster
    }

    /// Creates `body` in `namespace` (empty for cluster-scoped kinds).
    pub fn create(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        mut body: Value,
    ) -> Result<Arc<Value>, ApiError> {
        check_shape(resource, &body)?;
        if resource.namespaced {
            let given = body["metadata"]["namespace"].as_str().unwrap_or_default();
            if !given.is_empty() && given != namespace {
                return Err(ApiError::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on \
                     the request"
                        .into(),
                ));
            }
            match self.store.namespace_state(namespace) {
                None => return Err(ApiError::not_found("namespaces", namespace)),
                Some(true) => {
                    return Err(ApiError::Forbidden(format!(
                        "unable to create new content in namespace {namespace} because it is \
                         being terminated"
                    )))
                }
                Some(false) => {}
            }
        }
        if resource.is("", "pods") && crate::nodes::unbound(&body) {
            // The scheduler's whole job here: bind to the only node that runs Pods.
            body["spec"]["nodeName"] = json!(self.node_name);
        }
        admission::validate(resource, &body)?;
        admission::before_create(resource, &mut body);
        let mut created = self.store.create(resource, namespace, body)?;
        if let Some(defaulted) = admission::after_create(resource, &created) {
            let name = created["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            created = self
                .store
                .write(resource, namespace, &name, |_| Ok(defaulted))?;
        }
        if resource.is("", "namespaces") {
            let name = created["metadata"]["name"].as_str().unwrap_or_default();
            if let Some(accounts) = resources::find("", "v1", "serviceaccounts") {
                let _ =
                    self.store
                        .create(accounts, name, json!({ "metadata": { "name": "default" } }));
            }
        }
        let owners = created["metadata"]["ownerReferences"].as_array();
        for owner in owners
            .into_iter()
            .flatten()
            .filter_map(|o| o["uid"].as_str())
        {
            if !self.store.uid_exists(owner) {
                self.store.collect_dependents_of(owner);
            }
        }
        if resource.is("", "pods") && crate::nodes::runs_on(&created, &self.node_name) {
            if let Some(kubelet) = &self.kubelet {
                match serde_json::from_value((*created).clone()) {
                    Ok(pod) => kubelet.start_pod(pod),
                    Err(e) => {
                        return Err(ApiError::Internal(format!(
                            "the stored Pod does not decode: {e}"
                        )))
                    }
                }
            }
        }
        Ok(created)
    }

    /// Replaces `namespace/name` (or its status) with `body`.
    pub fn update(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
        body: Value,
        part: Part,
    ) -> Result<Arc<Value>, ApiError> {
        check_shape(resource, &body)?;
        let given = body["metadata"]["name"].as_str().unwrap_or_default();
        if given != name {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({given}) does not match the name on the URL ({name})"
            )));
        }
        let given_ns = body["metadata"]["namespace"].as_str().unwrap_or_default();
        if resource.namespaced && !given_ns.is_empty() && given_ns != namespace {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the \
                 request"
                    .into(),
            ));
        }
        let written = self.store.write(resource, namespace, name, |current| {
            let mut next = body;
            admission::before_write(resource, &mut next);
            let next = apply_part(resource, part, current, next);
            admission::validate(resource, &next)?;
            Ok(next)
        });
        self.pod_written(resource, part, &written);
        written
    }

    /// Tells the kubelet about a written Pod spec (a changed image restarts that container).
    fn pod_written(
        &self,
        resource: &ResourceDef,
        part: Part,
        written: &Result<Arc<Value>, ApiError>,
    ) {
        if !resource.is("", "pods") || part != Part::Main {
            return;
        }
        if let (Some(kubelet), Ok(object)) = (&self.kubelet, written) {
            if !crate::nodes::runs_on(object, &self.node_name) {
                return;
            }
            if let Ok(pod) =
                serde_json::from_value::<k8s_openapi::api::core::v1::Pod>((**object).clone())
            {
                kubelet.update_pod(&pod);
            }
        }
    }

    /// Patches `namespace/name` (or its status); server-side apply creates a missing object.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
        kind: PatchKind,
        body: Value,
        part: Part,
        manager: Option<&str>,
    ) -> Result<Arc<Value>, ApiError> {
        if kind == PatchKind::Strategic && resource.custom {
            return Err(ApiError::UnsupportedMediaType(
                "application/json-patch+json, application/merge-patch+json, \
                 application/apply-patch+yaml (strategic merge patch is not supported for \
                 custom resources)"
                    .into(),
            ));
        }
        if kind == PatchKind::Apply && manager.is_none_or(str::is_empty) {
            return Err(ApiError::BadRequest(
                "PATCH requests with apply-patch+yaml must specify fieldManager".into(),
            ));
        }
        let api_version = resource.api_version();
        let failed = |error| patch_error(resource, name, error);
        let result = self.store.write(resource, namespace, name, |current| {
            let mut next = current.clone();
            match kind {
                PatchKind::Merge => patch::merge_patch(&mut next, &body),
                PatchKind::Json => patch::json_patch(&mut next, &body).map_err(failed)?,
                PatchKind::Strategic => patch::strategic_merge(&mut next, &body).map_err(failed)?,
                PatchKind::Apply => {
                    check_shape(resource, &body)?;
                    if resource.custom {
                        patch::merge_patch(&mut next, &body);
                    } else {
                        patch::strategic_merge(&mut next, &body).map_err(failed)?;
                    }
                }
            }
            check_shape(resource, &next)?;
            if kind == PatchKind::Apply {
                // Apply never carries a precondition unless the body names a version.
                if body["metadata"]["resourceVersion"].is_null() {
                    next["metadata"]["resourceVersion"] =
                        current["metadata"]["resourceVersion"].clone();
                }
                record_manager(
                    &mut next,
                    manager.unwrap_or_default(),
                    "Apply",
                    &api_version,
                );
            }
            admission::before_write(resource, &mut next);
            let next = apply_part(resource, part, current, next);
            admission::validate(resource, &next)?;
            Ok(next)
        });
        self.pod_written(resource, part, &result);
        match result {
            Err(ApiError::NotFound { .. }) if kind == PatchKind::Apply && part == Part::Main => {
                check_shape(resource, &body)?;
                let mut object = body;
                object["metadata"]["name"] = json!(name);
                record_manager(
                    &mut object,
                    manager.unwrap_or_default(),
                    "Apply",
                    &api_version,
                );
                self.create(resource, namespace, object)
            }
            other => other,
        }
    }

    fn check_preconditions(
        &self,
        resource: &ResourceDef,
        current: &Value,
        options: &DeleteOptions,
    ) -> Result<(), ApiError> {
        let name = current["metadata"]["name"].as_str().unwrap_or_default();
        if let Some(uid) = &options.precondition_uid {
            let actual = current["metadata"]["uid"].as_str().unwrap_or_default();
            if uid != actual {
                return Err(ApiError::Conflict {
                    resource: resource.plural.to_owned(),
                    name: name.to_owned(),
                    detail: format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                    ),
                });
            }
        }
        if let Some(rv) = &options.precondition_rv {
            let actual = resource_version(current).unwrap_or_default();
            if rv != actual {
                return Err(ApiError::Conflict {
                    resource: resource.plural.to_owned(),
                    name: name.to_owned(),
                    detail: format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, \
                         ResourceVersion in object meta: {actual}"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Removes the reference to `owner_uid` from every dependent (propagation Orphan).
    fn orphan_dependents(&self, owner_uid: &str) {
        for (resource, namespace, name) in self.store.dependents(owner_uid) {
            let _ = self.store.write(resource, &namespace, &name, |current| {
                let mut next = current.clone();
                if let Some(refs) = next["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"] != owner_uid);
                }
                // Kubernetes omits an empty list rather than storing `[]`.
                if next["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(Vec::is_empty)
                {
                    if let Some(meta) = next["metadata"].as_object_mut() {
                        meta.remove("ownerReferences");
                    }
                }
                Ok(next)
            });
        }
    }

    /// Deletes `namespace/name`. Returns the object's latest state and whether it is gone
    /// already (`false` while finalizers, a Pod's grace period or a namespace's contents hold it).
    pub fn delete(
        self: &Arc<Self>,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let current = self.store.get(resource, namespace, name)?;
        self.check_preconditions(resource, &current, options)?;
        if !current["metadata"]["deletionTimestamp"].is_null() {
            return Ok((current, false));
        }
        if options.propagation == Propagation::Orphan {
            if let Some(uid) = current["metadata"]["uid"].as_str() {
                self.orphan_dependents(uid);
            }
        }
        if resource.is("", "namespaces") {
            return self.delete_namespace(name).map(|ns| (ns, false));
        }
        let uid = current["metadata"]["uid"].as_str().unwrap_or_default();
        if options.propagation == Propagation::Foreground
            && !resource.is("", "pods")
            && !self.store.dependents(uid).is_empty()
        {
            return self
                .delete_foreground(resource, namespace, name, uid)
                .map(|owner| (owner, false));
        }
        if resource.is("", "pods") && !crate::nodes::runs_on(&current, &self.node_name) {
            // Another node's kubelet is not simulated: its containers stop at once, so the
            // Pod is seen Terminating and then gone, whatever the grace period.
            let grace = options
                .grace_seconds
                .or_else(|| current["spec"]["terminationGracePeriodSeconds"].as_i64())
                .unwrap_or(30)
                .max(0);
            self.store.mark_deleting(resource, namespace, name, grace)?;
            return self.store.remove(resource, namespace, name);
        }
        if resource.is("", "pods") {
            if let Some(kubelet) = self.kubelet.clone() {
                let grace = options
                    .grace_seconds
                    .or_else(|| current["spec"]["terminationGracePeriodSeconds"].as_i64())
                    .unwrap_or(30)
                    .max(0);
                let (namespace, name) = (namespace.to_owned(), name.to_owned());
                if grace == 0 {
                    let removed = self.store.remove(resource, &namespace, &name)?;
                    tokio::spawn(async move {
                        let _ = kubelet.delete_pod(&namespace, &name, Duration::ZERO).await;
                    });
                    return Ok(removed);
                }
                let marked = self
                    .store
                    .mark_deleting(resource, &namespace, &name, grace)?;
                let cluster = self.clone();
                tokio::spawn(async move {
                    let stop = Duration::from_secs(grace.unsigned_abs());
                    if let Err(e) = kubelet.delete_pod(&namespace, &name, stop).await {
                        eprintln!("kube-sim: deleting pod {namespace}/{name}: {e}");
                    }
                    let _ = cluster.store.remove(resource, &namespace, &name);
                });
                return Ok((marked, false));
            }
        }
        self.store.remove(resource, namespace, name)
    }

    /// Foreground deletion: the owner is marked (finalizer `foregroundDeletion`) and stays
    /// until its dependents are gone, then goes.
    fn delete_foreground(
        self: &Arc<Self>,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
        uid: &str,
    ) -> Result<Arc<Value>, ApiError> {
        self.store.write(resource, namespace, name, |current| {
            let mut next = current.clone();
            let finalizers = &mut next["metadata"]["finalizers"];
            if !finalizers.is_array() {
                *finalizers = json!([]);
            }
            if let Some(list) = finalizers.as_array_mut() {
                list.push(json!(FOREGROUND));
            }
            Ok(next)
        })?;
        let marked = self.store.mark_deleting(resource, namespace, name, 0)?;
        let cluster = self.clone();
        let (namespace, name, uid) = (namespace.to_owned(), name.to_owned(), uid.to_owned());
        tokio::spawn(async move {
            loop {
                let dependents = cluster.store.dependents(&uid);
                if dependents.is_empty() {
                    break;
                }
                for (resource, ns, dependent) in dependents {
                    let options = DeleteOptions {
                        propagation: Propagation::Foreground,
                        ..DeleteOptions::default()
                    };
                    let _ = cluster.delete(resource, &ns, &dependent, &options);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = cluster.store.write(resource, &namespace, &name, |current| {
                let mut next = current.clone();
                if let Some(list) = next["metadata"]["finalizers"].as_array_mut() {
                    list.retain(|f| f != FOREGROUND);
                }
                Ok(next)
            });
        });
        Ok(marked)
    }

    /// Marks the namespace Terminating and empties it in the background.
    fn delete_namespace(self: &Arc<Self>, name: &str) -> Result<Arc<Value>, ApiError> {
        let namespaces = resources::namespaces();
        self.store.mark_deleting(namespaces, "", name, 0)?;
        let marked = self.store.write(namespaces, "", name, |current| {
            let mut next = current.clone();
            next["status"]["phase"] = json!("Terminating");
            Ok(next)
        })?;
        let cluster = self.clone();
        let name = name.to_owned();
        tokio::spawn(async move {
            loop {
                let contents = cluster.store.in_namespace(&name);
                if contents.is_empty() {
                    break;
                }
                for (resource, object) in contents {
                    let _ = cluster.delete(resource, &name, &object, &DeleteOptions::default());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let _ = cluster.store.write(namespaces, "", &name, |current| {
                let mut next = current.clone();
                next["spec"]["finalizers"] = json!([]);
                Ok(next)
            });
            let _ = cluster.store.remove(namespaces, "", &name);
        });
        Ok(marked)
    }

    /// Collects the dependents of every object that leaves the store, until the store is gone.
    pub async fn collect_garbage(self: Arc<Self>, mut removed: mpsc::UnboundedReceiver<Removed>) {
        while let Some(Removed { uid }) = removed.recv().await {
            for (resource, namespace, name) in self.store.dependents(&uid) {
                let Ok(dependent) = self.store.get(resource, &namespace, &name) else {
                    continue;
                };
                let owners_left = dependent["metadata"]["ownerReferences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["uid"].as_str())
                    .any(|owner| owner != uid && self.store.uid_exists(owner));
                if !owners_left {
                    let _ = self.delete(resource, &namespace, &name, &DeleteOptions::default());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    fn cluster() -> (Arc<Cluster>, mpsc::UnboundedReceiver<Removed>) {
        let (store, removed) = Store::new(1000, std::env::temp_dir());
        (Cluster::new(Arc::new(store), None), removed)
    }

    #[test]
    fn the_standard_namespaces_exist_with_their_service_accounts() {
        let (cluster, _) = cluster();
        assert_eq!(cluster.store.namespace_state("default"), Some(false));
        assert_eq!(cluster.store.namespace_state("kube-system"), Some(false));
        assert_eq!(cluster.store.namespace_state("nope"), None);
        let ns = cluster
            .store
            .get(resources::namespaces(), "", "kube-public")
            .unwrap();
        assert_eq!(ns["status"]["phase"], "Active");
        let accounts = find("", "v1", "serviceaccounts").unwrap();
        assert!(cluster.store.get(accounts, "default", "default").is_ok());
    }

    #[test]
    fn status_writes_touch_only_status() {
        let (cluster, _) = cluster();
        let runs = find("tekton.dev", "v1", "taskruns").unwrap();
        let made = cluster
            .create(
                runs,
                "default",
                json!({ "metadata": { "name": "tr" }, "spec": { "a": 1 },
                                             "status": { "ignored": true } }),
            )
            .unwrap();
        assert!(made.get("status").is_none());
        let patched = cluster
            .patch(
                runs,
                "default",
                "tr",
                PatchKind::Merge,
                json!({ "spec": { "a": 2 }, "status": { "podName": "p" } }),
                Part::Status,
                None,
            )
            .unwrap();
        assert_eq!(patched["spec"]["a"], 1);
        assert_eq!(patched["status"]["podName"], "p");
        let main = cluster
            .patch(
                runs,
                "default",
                "tr",
                PatchKind::Merge,
                json!({ "spec": { "a": 3 }, "status": { "podName": "q" } }),
                Part::Main,
                None,
            )
            .unwrap();
        assert_eq!(main["spec"]["a"], 3);
        assert_eq!(main["status"]["podName"], "p");
        assert_eq!(main["metadata"]["generation"], 2);
    }

    #[test]
    fn missing_namespaces_and_custom_strategic_patches_are_refused() {
        let (cluster, _) = cluster();
        let cms = find("", "v1", "configmaps").unwrap();
        let missing = cluster.create(cms, "nope", json!({ "metadata": { "name": "c" } }));
        assert_eq!(
            missing.unwrap_err().to_string(),
            "namespaces \"nope\" not found"
        );
        let runs = find("tekton.dev", "v1", "pipelineruns").unwrap();
        cluster
            .create(runs, "default", json!({ "metadata": { "name": "pr" } }))
            .unwrap();
        let strategic = cluster.patch(
            runs,
            "default",
            "pr",
            PatchKind::Strategic,
            json!({}),
            Part::Main,
            None,
        );
        assert!(matches!(strategic, Err(ApiError::UnsupportedMediaType(_))));
    }

    #[test]
    fn apply_creates_then_merges_and_records_the_manager() {
        let (cluster, _) = cluster();
        let cms = find("", "v1", "configmaps").unwrap();
        let body = json!({ "apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": { "name": "applied" }, "data": { "a": "1" } });
        cluster
            .patch(
                cms,
                "default",
                "applied",
                PatchKind::Apply,
                body,
                Part::Main,
                Some("me"),
            )
            .unwrap();
        let again = cluster
            .patch(
                cms,
                "default",
                "applied",
                PatchKind::Apply,
                json!({ "metadata": { "name": "applied" }, "data": { "b": "2" } }),
                Part::Main,
                Some("me"),
            )
            .unwrap();
        assert_eq!(again["data"], json!({ "a": "1", "b": "2" }));
        assert_eq!(again["metadata"]["managedFields"][0]["manager"], "me");
        let anonymous = cluster.patch(
            cms,
            "default",
            "applied",
            PatchKind::Apply,
            json!({}),
            Part::Main,
            None,
        );
        assert!(matches!(anonymous, Err(ApiError::BadRequest(_))));
    }

    #[tokio::test]
    async fn deleting_an_owner_collects_its_dependents_unless_orphaned() {
        let (cluster, removed) = cluster();
        tokio::spawn(cluster.clone().collect_garbage(removed));
        let runs = find("tekton.dev", "v1", "taskruns").unwrap();
        let cms = find("", "v1", "configmaps").unwrap();
        let owner = cluster
            .create(runs, "default", json!({ "metadata": { "name": "o" } }))
            .unwrap();
        let owned = |name: &str| {
            json!({ "metadata": { "name": name, "ownerReferences": [{
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": "o",
            "uid": owner["metadata"]["uid"] }] } })
        };
        cluster.create(cms, "default", owned("dep")).unwrap();
        cluster
            .delete(runs, "default", "o", &DeleteOptions::default())
            .unwrap();
        for _ in 0..100 {
            if cluster.store.get(cms, "default", "dep").is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(cluster.store.get(cms, "default", "dep").is_err());

        let owner = cluster
            .create(runs, "default", json!({ "metadata": { "name": "o" } }))
            .unwrap();
        let mut kept = owned("kept");
        kept["metadata"]["ownerReferences"][0]["uid"] = owner["metadata"]["uid"].clone();
        cluster.create(cms, "default", kept).unwrap();
        let orphan = DeleteOptions {
            propagation: Propagation::Orphan,
            ..Default::default()
        };
        cluster.delete(runs, "default", "o", &orphan).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let kept = cluster.store.get(cms, "default", "kept").unwrap();
        assert!(kept["metadata"].get("ownerReferences").is_none(), "{kept}");

        let owner = cluster
            .create(runs, "default", json!({ "metadata": { "name": "f" } }))
            .unwrap();
        let mut first = owned("first");
        first["metadata"]["ownerReferences"][0]["uid"] = owner["metadata"]["uid"].clone();
        first["metadata"]["finalizers"] = json!(["test/hold"]);
        cluster.create(cms, "default", first).unwrap();
        let foreground = DeleteOptions {
            propagation: Propagation::Foreground,
            ..Default::default()
        };
        let (marked, gone) = cluster.delete(runs, "default", "f", &foreground).unwrap();
        assert!(!gone);
        assert_eq!(marked["metadata"]["finalizers"], json!([FOREGROUND]));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            cluster.store.get(runs, "default", "f").is_ok(),
            "held by its dependent"
        );
        cluster
            .patch(
                cms,
                "default",
                "first",
                PatchKind::Merge,
                json!({ "metadata": { "finalizers": null } }),
                Part::Main,
                None,
            )
            .unwrap();
        for _ in 0..100 {
            if cluster.store.get(runs, "default", "f").is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            cluster.store.get(runs, "default", "f").is_err(),
            "gone after its dependent"
        );

        cluster.create(cms, "default", owned("late")).unwrap();
        for _ in 0..100 {
            if cluster.store.get(cms, "default", "late").is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let late = cluster.store.get(cms, "default", "late");
        assert!(late.is_err(), "its owner never existed");
    }
}
