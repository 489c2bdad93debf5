//! The object store: every object of every resource in memory, one global `resourceVersion`
//! counter, and a bounded history of changes that watches start from.
//!
//! # Design
//!
//! One mutex guards the objects, the counter and the history; every write bumps the counter,
//! appends a [`Change`] to the history and broadcasts it while still holding the lock, so a
//! watch that takes its backlog and subscribes under the same lock sees every change exactly
//! once, in order. Objects are `serde_json::Value`s: the server stores what clients send, as
//! Kubernetes stores custom resources, and typed views are made only where a kind needs them.
//!
//! The store knows metadata rules that hold for every kind (names, `generateName`, `uid`,
//! `creationTimestamp`, `resourceVersion` preconditions, `generation`, finalizers holding a
//! deleted object); what differs per kind (defaults, status subresource, the kubelet, garbage
//! collection) lives in [`crate::cluster`].
//!
//! # Invariants
//!
//! - `resourceVersion`s are strictly increasing across all resources; a write that changes
//!   nothing keeps the object's version and emits no event, as Kubernetes does.
//! - An object whose `deletionTimestamp` is set and whose finalizers are empty is removed by the
//!   write that emptied them; its uid is then sent to the garbage collector.
//! - The history holds at most `history_limit` changes; a watch from before the oldest one
//!   is [`ApiError::Expired`].

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::api_error::ApiError;
use crate::resources::{self, ResourceDef, RESOURCES};

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Added,
    /// Written.
    Modified,
    /// Removed.
    Deleted,
}

/// One write, as watches see it.
#[derive(Debug)]
pub struct Change {
    /// The resourceVersion the write produced.
    pub rv: u64,
    /// Created, written or removed.
    pub kind: ChangeKind,
    /// The resource it belongs to.
    pub resource: &'static ResourceDef,
    /// The object after the write (for a removal: its last state, with the new version).
    pub object: Arc<Value>,
    /// The object before the write, for watches that must tell a selector change apart.
    pub previous: Option<Arc<Value>>,
}

/// An object that left the store, for the garbage collector.
#[derive(Debug, Clone)]
pub struct Removed {
    /// Its uid, which dependents name in their ownerReferences.
    pub uid: String,
}

/// Where a watch starts.
pub struct WatchStart {
    /// Current objects to send as ADDED (a watch without a resourceVersion, or "0").
    pub initial: Vec<Arc<Value>>,
    /// Changes after the requested version (a watch that resumes).
    pub backlog: Vec<Arc<Change>>,
    /// Changes from now on.
    pub receiver: broadcast::Receiver<Arc<Change>>,
    /// The store's version when the watch started.
    pub rv: u64,
}

/// How far a watcher may fall behind the live changes before its watch expires.
const BROADCAST_CAPACITY: usize = 16_384;

type Key = (usize, String, String);

struct Inner {
    rv: u64,
    objects: BTreeMap<Key, Arc<Value>>,
    history: VecDeque<Arc<Change>>,
    /// The highest version dropped from the history: a watch from below it has lost events.
    compacted_through: u64,
}

/// The in-memory object store.
pub struct Store {
    inner: Mutex<Inner>,
    history_limit: usize,
    changes: broadcast::Sender<Arc<Change>>,
    removed: mpsc::UnboundedSender<Removed>,
    /// Directory for PersistentVolumeClaim contents and other host state.
    pub state_dir: PathBuf,
}

/// Index of a resource in [`RESOURCES`].
/// Where a resource's objects are kept: one place per group and plural, whichever version
/// writes or reads them, as one storage version serves every version of a CRD.
fn resource_id(resource: &'static ResourceDef) -> usize {
    RESOURCES
        .iter()
        .position(|r| r.group == resource.group && r.plural == resource.plural)
        .unwrap_or(usize::MAX)
}

/// True when two resources are versions of one: a write through either is seen by both.
pub fn same_storage(a: &'static ResourceDef, b: &'static ResourceDef) -> bool {
    resource_id(a) == resource_id(b)
}

/// The object as `resource` serves it: stored by another version, it reads back in this one
/// (no conversion beyond `apiVersion`, as a CRD with `conversion: None`).
fn as_served(object: Arc<Value>, resource: &ResourceDef) -> Arc<Value> {
    let version = resource.api_version();
    if object["apiVersion"] == version.as_str() {
        return object;
    }
    let mut object = (*object).clone();
    object["apiVersion"] = json!(version);
    Arc::new(object)
}

fn key(resource: &'static ResourceDef, namespace: &str, name: &str) -> Key {
    (resource_id(resource), namespace.to_owned(), name.to_owned())
}

/// The stored object at `key`, or 404.
fn current(inner: &Inner, key: &Key, resource: &ResourceDef) -> Result<Arc<Value>, ApiError> {
    inner
        .objects
        .get(key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(resource.plural, &key.2))
}

/// RFC 3339 "now", to the second, as Kubernetes writes timestamps.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `metadata.resourceVersion` of an object (`None` when absent or not a string).
pub fn resource_version(object: &Value) -> Option<&str> {
    object["metadata"]["resourceVersion"].as_str()
}

/// Whether `name` is a DNS-1123 subdomain (or label, when `label`).
pub fn valid_name(name: &str, label: bool) -> bool {
    let max = if label { 63 } else { 253 };
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !name.is_empty()
        && name.len() <= max
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && name
            .chars()
            .all(|c| alnum(c) || c == '-' || (c == '.' && !label))
}

/// Five characters of Kubernetes' `generateName` alphabet.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// The object without metadata and status: what `generation` counts changes of.
fn spec_part(object: &Value) -> Value {
    let mut rest = object.clone();
    if let Some(map) = rest.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    rest
}

/// The object without its resourceVersion and managedFields: what "unchanged" compares.
fn comparable(object: &Value) -> Value {
    let mut rest = object.clone();
    if let Some(meta) = rest["metadata"].as_object_mut() {
        meta.remove("resourceVersion");
        meta.remove("managedFields");
    }
    rest
}

fn has_finalizers(object: &Value) -> bool {
    object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
}

impl Store {
    /// An empty store but for the CRDs of custom kinds (namespaces come from
    /// [`crate::cluster::Cluster::new`], through the same path as any other).
    pub fn new(
        history_limit: usize,
        state_dir: PathBuf,
    ) -> (Store, mpsc::UnboundedReceiver<Removed>) {
        let (changes, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (removed, removed_rx) = mpsc::unbounded_channel();
        let store = Store {
            inner: Mutex::new(Inner {
                rv: 0,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                compacted_through: 0,
            }),
            history_limit: history_limit.max(1),
            changes,
            removed,
            state_dir,
        };
        let crds = resources::find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        if let Some(crds) = crds {
            for crd in resources::custom_resource_definitions() {
                // The table is static and valid; a failure here would be a bug caught by tests.
                let _ = store.create(crds, "", crd);
            }
        }
        (store, removed_rx)
    }

    /// Removes the CRDs [`Store::new`] made, so clients can create their own (kube-sim's
    /// `--without-tekton-crds`).
    pub fn remove_custom_resource_definitions(&self) {
        let Some(crds) = resources::find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        else {
            return;
        };
        for crd in resources::custom_resource_definitions() {
            let name = crd["metadata"]["name"].as_str().unwrap_or_default();
            // Made just above, without finalizers: removing cannot fail or be held.
            let _ = self.remove(crds, "", name);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave an object half-written (each write
        // replaces an Arc), so a poisoned lock is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every change from now on, of every resource (for controllers that follow the store).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.changes.subscribe()
    }

    /// The current global resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    fn record(
        &self,
        inner: &mut Inner,
        kind: ChangeKind,
        resource: &'static ResourceDef,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        let change = Arc::new(Change {
            rv: inner.rv,
            kind,
            resource,
            object,
            previous,
        });
        inner.history.push_back(change.clone());
        while inner.history.len() > self.history_limit {
            if let Some(dropped) = inner.history.pop_front() {
                inner.compacted_through = dropped.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.changes.send(change);
    }

    /// The object `namespace/name` of `resource`.
    pub fn get(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let key = key(resource, namespace, name);
        current(&self.lock(), &key, resource).map(|o| as_served(o, resource))
    }

    /// Every object of `resource` (in `namespace`, when given) and the current version.
    pub fn list(
        &self,
        resource: &'static ResourceDef,
        namespace: Option<&str>,
    ) -> (Vec<Arc<Value>>, u64) {
        let id = resource_id(resource);
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|((r, ns, _), _)| *r == id && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| as_served(v.clone(), resource))
            .collect();
        (items, inner.rv)
    }

    /// Whether the namespace exists, and whether it is being deleted.
    pub fn namespace_state(&self, namespace: &str) -> Option<bool> {
        self.get(resources::namespaces(), "", namespace)
            .ok()
            .map(|ns| !ns["metadata"]["deletionTimestamp"].is_null())
    }

    /// Creates `object` (its name from `metadata.name` or `generateName`).
    pub fn create(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        mut object: Value,
    ) -> Result<Arc<Value>, ApiError> {
        if !object.is_object() {
            return Err(ApiError::BadRequest(format!(
                "a {} must be a JSON object",
                resource.kind
            )));
        }
        if !object["metadata"].is_object() {
            object["metadata"] = json!({});
        }
        let given = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let prefix = object["metadata"]["generateName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if given.is_empty() && prefix.is_empty() {
            return Err(ApiError::invalid(
                resource.kind,
                "",
                "metadata.name",
                "Required value: name or generateName is required",
            ));
        }
        let label = resource.is("", "namespaces");
        let mut inner = self.lock();
        let id = resource_id(resource);
        let name = if given.is_empty() {
            let prefix: String = prefix.chars().take(58).collect();
            let mut name = format!("{prefix}{}", random_suffix());
            while inner
                .objects
                .contains_key(&(id, namespace.to_owned(), name.clone()))
            {
                name = format!("{prefix}{}", random_suffix());
            }
            name
        } else {
            given
        };
        if !valid_name(&name, label) {
            return Err(ApiError::invalid(
                resource.kind,
                &name,
                "metadata.name",
                format!(
                    "Invalid value: {name:?}: a lowercase RFC 1123 {} must consist of lower case \
                     alphanumeric characters{}, and must start and end with an alphanumeric character",
                    if label { "label" } else { "subdomain" },
                    if label { " or '-'" } else { ", '-' or '.'" },
                ),
            ));
        }
        let key = (id, namespace.to_owned(), name.clone());
        if inner.objects.contains_key(&key) {
            return Err(ApiError::AlreadyExists {
                resource: resource.plural.to_owned(),
                name,
            });
        }
        inner.rv += 1;
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(resource.kind);
        let meta = &mut object["metadata"];
        meta["name"] = json!(name);
        if resource.namespaced {
            meta["namespace"] = json!(namespace);
        } else if let Some(m) = meta.as_object_mut() {
            m.remove("namespace");
        }
        meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
        meta["creationTimestamp"] = json!(now());
        meta["resourceVersion"] = json!(inner.rv.to_string());
        meta["generation"] = json!(1);
        if let Some(m) = meta.as_object_mut() {
            m.remove("deletionTimestamp");
            m.remove("deletionGracePeriodSeconds");
            m.remove("selfLink");
        }
        let object = Arc::new(object);
        inner.objects.insert(key, object.clone());
        self.record(
            &mut inner,
            ChangeKind::Added,
            resource,
            object.clone(),
            None,
        );
        Ok(object)
    }

    /// Rewrites `namespace/name` with what `change` makes of the current object.
    ///
    /// The new object's `metadata.resourceVersion`, when set, must equal the current one
    /// (409 Conflict otherwise). Identity and lifecycle metadata (`uid`, `creationTimestamp`,
    /// `deletionTimestamp`, `generation`) are kept from the current object.
    pub fn write(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Arc<Value>, ApiError> {
        let key = key(resource, namespace, name);
        let mut inner = self.lock();
        let current = current(&inner, &key, resource)?;
        let mut next = change(&current)?;
        if !next.is_object() {
            return Err(ApiError::BadRequest(format!(
                "a {} must be a JSON object",
                resource.kind
            )));
        }
        if let Some(rv) = next["metadata"]["resourceVersion"].as_str() {
            if Some(rv) != resource_version(&current) {
                return Err(ApiError::stale(resource.plural, name));
            }
        } else if !next["metadata"]["resourceVersion"].is_null() {
            return Err(ApiError::invalid(
                resource.kind,
                name,
                "metadata.resourceVersion",
                "Invalid value: must be a string",
            ));
        }
        if !next["metadata"].is_object() {
            next["metadata"] = json!({});
        }
        next["apiVersion"] = json!(resource.api_version());
        next["kind"] = json!(resource.kind);
        for field in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
        ] {
            match current["metadata"].get(field) {
                Some(value) => next["metadata"][field] = value.clone(),
                None => {
                    if let Some(m) = next["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        if comparable(&next) == comparable(&current) {
            return Ok(current);
        }
        if spec_part(&next) != spec_part(&current) {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(1);
            next["metadata"]["generation"] = json!(generation + 1);
        }
        inner.rv += 1;
        next["metadata"]["resourceVersion"] = json!(inner.rv.to_string());
        let next = Arc::new(next);
        if !next["metadata"]["deletionTimestamp"].is_null() && !has_finalizers(&next) {
            inner.objects.remove(&key);
            self.record(
                &mut inner,
                ChangeKind::Deleted,
                resource,
                next.clone(),
                Some(current),
            );
            self.announce_removal(&next);
        } else {
            inner.objects.insert(key, next.clone());
            self.record(
                &mut inner,
                ChangeKind::Modified,
                resource,
                next.clone(),
                Some(current),
            );
        }
        Ok(next)
    }

    /// Has the garbage collector look at the dependents of `uid` (an owner that is gone, or
    /// never existed: uids are made here, so a missing one never appears later).
    pub fn collect_dependents_of(&self, uid: &str) {
        // The collector only stops with the process.
        let _ = self.removed.send(Removed {
            uid: uid.to_owned(),
        });
    }

    fn announce_removal(&self, object: &Value) {
        if let Some(uid) = object["metadata"]["uid"].as_str() {
            // The collector only stops with the process.
            let _ = self.removed.send(Removed {
                uid: uid.to_owned(),
            });
        }
    }

    /// Starts deleting `namespace/name`: sets `deletionTimestamp` (and the grace period) and
    /// keeps the object. Returns the object; one already being deleted is returned as is.
    pub fn mark_deleting(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
        grace_seconds: i64,
    ) -> Result<Arc<Value>, ApiError> {
        let key = key(resource, namespace, name);
        let mut inner = self.lock();
        let current = current(&inner, &key, resource)?;
        if !current["metadata"]["deletionTimestamp"].is_null() {
            return Ok(current);
        }
        let mut next = (*current).clone();
        inner.rv += 1;
        let when = chrono::Utc::now() + chrono::Duration::seconds(grace_seconds);
        next["metadata"]["deletionTimestamp"] =
            json!(when.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        next["metadata"]["deletionGracePeriodSeconds"] = json!(grace_seconds);
        next["metadata"]["resourceVersion"] = json!(inner.rv.to_string());
        let next = Arc::new(next);
        inner.objects.insert(key, next.clone());
        self.record(
            &mut inner,
            ChangeKind::Modified,
            resource,
            next.clone(),
            Some(current),
        );
        Ok(next)
    }

    /// Removes `namespace/name` now unless finalizers hold it (then it stays, marked).
    /// Returns the object's last state and whether it is gone.
    pub fn remove(
        &self,
        resource: &'static ResourceDef,
        namespace: &str,
        name: &str,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let key = key(resource, namespace, name);
        let mut inner = self.lock();
        let current = current(&inner, &key, resource)?;
        if has_finalizers(&current) {
            drop(inner);
            let marked = self.mark_deleting(resource, namespace, name, 0)?;
            return Ok((marked, false));
        }
        inner.objects.remove(&key);
        inner.rv += 1;
        let mut last = (*current).clone();
        last["metadata"]["resourceVersion"] = json!(inner.rv.to_string());
        let last = Arc::new(last);
        self.record(
            &mut inner,
            ChangeKind::Deleted,
            resource,
            last.clone(),
            Some(current),
        );
        self.announce_removal(&last);
        Ok((last, true))
    }

    /// Every object whose ownerReferences name `uid`, as (resource, namespace, name).
    pub fn dependents(&self, uid: &str) -> Vec<(&'static ResourceDef, String, String)> {
        let inner = self.lock();
        inner
            .objects
            .iter()
            .filter(|(_, object)| {
                object["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
            })
            .filter_map(|((id, ns, name), _)| {
                RESOURCES.get(*id).map(|r| (r, ns.clone(), name.clone()))
            })
            .collect()
    }

    /// Whether any object has this uid.
    pub fn uid_exists(&self, uid: &str) -> bool {
        self.lock()
            .objects
            .values()
            .any(|object| object["metadata"]["uid"] == uid)
    }

    /// Every (resource, name) in `namespace`.
    pub fn in_namespace(&self, namespace: &str) -> Vec<(&'static ResourceDef, String)> {
        self.lock()
            .objects
            .keys()
            .filter(|(_, ns, _)| ns == namespace)
            .filter_map(|(id, _, name)| RESOURCES.get(*id).map(|r| (r, name.clone())))
            .collect()
    }

    /// Where a watch of `resource` from version `from` starts (`None` or 0: current objects).
    pub fn watch(
        &self,
        resource: &'static ResourceDef,
        from: Option<u64>,
    ) -> Result<WatchStart, ApiError> {
        let id = resource_id(resource);
        let inner = self.lock();
        let receiver = self.changes.subscribe();
        let mut start = WatchStart {
            initial: Vec::new(),
            backlog: Vec::new(),
            receiver,
            rv: inner.rv,
        };
        match from {
            None | Some(0) => {
                start.initial = inner
                    .objects
                    .iter()
                    .filter(|((r, _, _), _)| *r == id)
                    .map(|(_, v)| v.clone())
                    .collect();
            }
            Some(from) => {
                if from < inner.compacted_through {
                    let oldest = inner.history.front().map_or(inner.rv, |c| c.rv);
                    return Err(ApiError::Expired {
                        requested: from,
                        oldest,
                    });
                }
                start.backlog = inner
                    .history
                    .iter()
                    .filter(|c| c.rv > from && same_storage(c.resource, resource))
                    .cloned()
                    .collect();
            }
        }
        Ok(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    fn store(limit: usize) -> Store {
        Store::new(limit, std::env::temp_dir()).0
    }

    fn cm() -> &'static ResourceDef {
        find("", "v1", "configmaps").unwrap()
    }

    #[test]
    fn create_fills_metadata_and_rejects_duplicates() {
        let store = store(100);
        let made = store
            .create(
                cm(),
                "default",
                json!({ "metadata": { "generateName": "x-" } }),
            )
            .unwrap();
        let name = made["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("x-") && name.len() == 7, "{name}");
        assert_eq!(made["kind"], "ConfigMap");
        assert!(made["metadata"]["uid"].is_string());
        let again = store.create(cm(), "default", json!({ "metadata": { "name": name } }));
        assert!(matches!(again, Err(ApiError::AlreadyExists { .. })));
        let bad = store.create(
            cm(),
            "default",
            json!({ "metadata": { "name": "Bad_Name" } }),
        );
        assert!(matches!(bad, Err(ApiError::Invalid { .. })));
    }

    #[test]
    fn stale_writes_conflict_and_noop_writes_keep_the_version() {
        let store = store(100);
        let made = store
            .create(
                cm(),
                "default",
                json!({ "metadata": { "name": "a" }, "data": { "k": "1" } }),
            )
            .unwrap();
        let rv = resource_version(&made).unwrap().to_owned();
        let same = store
            .write(cm(), "default", "a", |c| Ok(c.clone()))
            .unwrap();
        assert_eq!(resource_version(&same), Some(rv.as_str()));
        let changed = store
            .write(cm(), "default", "a", |c| {
                let mut n = c.clone();
                n["data"]["k"] = json!("2");
                Ok(n)
            })
            .unwrap();
        assert_ne!(resource_version(&changed), Some(rv.as_str()));
        assert_eq!(changed["metadata"]["generation"], 2);
        let stale = store.write(cm(), "default", "a", |c| {
            let mut n = c.clone();
            n["metadata"]["resourceVersion"] = json!(rv);
            n["data"]["k"] = json!("3");
            Ok(n)
        });
        assert!(matches!(stale, Err(ApiError::Conflict { .. })));
    }

    #[test]
    fn finalizers_hold_a_deleted_object_until_removed() {
        let store = store(100);
        store
            .create(
                cm(),
                "default",
                json!({ "metadata": { "name": "f", "finalizers": ["x/y"] } }),
            )
            .unwrap();
        let (marked, gone) = store.remove(cm(), "default", "f").unwrap();
        assert!(!gone);
        assert!(marked["metadata"]["deletionTimestamp"].is_string());
        store
            .write(cm(), "default", "f", |c| {
                let mut n = c.clone();
                n["metadata"]["finalizers"] = json!([]);
                Ok(n)
            })
            .unwrap();
        assert!(store.get(cm(), "default", "f").is_err());
    }

    #[test]
    fn watches_resume_from_history_or_expire() {
        let store = store(3);
        let base = store.current_rv();
        for i in 0..5 {
            store
                .create(
                    cm(),
                    "default",
                    json!({ "metadata": { "name": format!("c{i}") } }),
                )
                .unwrap();
        }
        let resumed = store.watch(cm(), Some(base + 3)).unwrap();
        assert_eq!(resumed.backlog.len(), 2);
        assert!(matches!(
            store.watch(cm(), Some(base)),
            Err(ApiError::Expired { .. })
        ));
        assert_eq!(store.watch(cm(), None).unwrap().initial.len(), 5);
    }
}
