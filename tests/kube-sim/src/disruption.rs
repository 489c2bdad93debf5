//! The disruption controller: keeps each PodDisruptionBudget's `status` (expected, desired
//! and current healthy Pods, disruptions allowed) current as its Pods change, as
//! kube-controller-manager's `DisruptionController` does, so `kubectl get pdb` shows ALLOWED
//! DISRUPTIONS and the eviction subresource ([`crate::eviction`]) can decide from it.
//!
//! # Design
//!
//! The arithmetic is pure ([`budget_status`]) and follows `pkg/controller/disruption`:
//!
//! - Pods: those in the budget's namespace its selector matches (a null selector matches
//!   none, an empty one every Pod).
//! - `maxUnavailable` (int or percentage): expected = the scale of the Pods' controllers
//!   (a ReplicaSet's replicas, or its Deployment's; a StatefulSet's), desired = expected −
//!   maxUnavailable (a percentage of expected, rounded up), at least 0.
//! - `minAvailable` as an int: expected = the number of Pods, desired = minAvailable; as a
//!   percentage: expected = the controllers' scale, desired = the percentage of it, rounded up.
//! - healthy = matching Pods that are Ready, not being deleted and not recently evicted
//!   (`disruptedPods`, entries kept two minutes); allowed = healthy − desired when positive
//!   and expected > 0, else 0.
//! - A budget that cannot be computed (a Pod whose controller is unknown, a malformed
//!   percentage) fails safe: 0 allowed, condition `DisruptionAllowed` False with reason
//!   `SyncFailed` and the error, `observedGeneration` left as it was.
//!
//! [`run`] recomputes every budget of a namespace when a Pod, budget or controller there
//! changes (the store's change feed); [`sync_namespace`] does it on demand, which the
//! eviction handler calls first so that it never decides from a stale status.
//!
//! # Not yet
//!
//! - Expired `disruptedPods` entries are dropped at the next change, not at the two-minute
//!   mark; no Events; ReplicationControllers and the generic `scale` subresource are not
//!   consulted for a controller's scale (kube-sim serves neither).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Map, Value};

use crate::api_error::ApiError;
use crate::cluster::Cluster;
use crate::resources::{self, ResourceDef};
use crate::selector::{label_selector_text, LabelSelector};

/// How long an eviction keeps a Pod out of the healthy count before it must be gone.
const DELETION_TIMEOUT_SECONDS: i64 = 120;

/// Serialises status writes by the controller and the eviction handler: each reads Pods and
/// budgets and writes a budget, and neither may act on what the other is about to change.
static BUDGET_LOCK: Mutex<()> = Mutex::new(());

/// Holds [`BUDGET_LOCK`] (a panic while holding it leaves nothing half-written).
pub fn lock() -> MutexGuard<'static, ()> {
    BUDGET_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// `intstr.GetScaledValueFromIntOrPercent`: an int as is, `"N%"` as N percent of `total`
/// rounded up or down.
pub fn scaled_value(value: &Value, total: i64, round_up: bool) -> Result<i64, String> {
    if let Some(n) = value.as_i64() {
        return Ok(n);
    }
    let Some(text) = value.as_str() else {
        return Err(format!("invalid value for IntOrString: {value}"));
    };
    let percent = text
        .strip_suffix('%')
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| format!("invalid value for IntOrString: invalid value {text:?}"))?;
    let scaled = percent * total;
    Ok(if round_up {
        (scaled + 99).div_euclid(100)
    } else {
        scaled.div_euclid(100)
    })
}

/// Whether a Pod's `Ready` condition is True (`podutil.IsPodReady`).
pub fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn being_deleted(object: &Value) -> bool {
    !object["metadata"]["deletionTimestamp"].is_null()
}

/// The controller an object names with `controller: true` in its ownerReferences.
pub fn controller_of(object: &Value) -> Option<&Value> {
    object["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
}

/// Looks up an object of a kind (`ReplicaSet`, `Deployment`, `StatefulSet`) by name in the
/// budget's namespace.
pub type Lookup<'a> = dyn Fn(&str, &str) -> Option<Arc<Value>> + 'a;

fn replicas(object: &Value) -> i64 {
    // apps/v1 defaults replicas to 1; kube-sim stores objects undefaulted.
    object["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// The scale of `pod`'s controller, as (controller uid, replicas), following the controller
/// finders of the disruption controller; `None` when no supported controller is found.
fn controller_scale(pod: &Value, lookup: &Lookup<'_>) -> Option<(String, i64)> {
    let reference = controller_of(pod)?;
    let group = reference["apiVersion"]
        .as_str()
        .and_then(|v| v.split_once('/'))
        .map_or("", |(g, _)| g);
    let kind = reference["kind"].as_str()?;
    let name = reference["name"].as_str()?;
    let uid = reference["uid"].as_str()?;
    let same_uid = |object: &Value| object["metadata"]["uid"].as_str() == Some(uid);
    match (group, kind) {
        ("apps" | "extensions", "ReplicaSet") => {
            let set = lookup("ReplicaSet", name).filter(|s| same_uid(s))?;
            match controller_of(&set) {
                Some(owner) if owner["kind"] == "Deployment" => {
                    let deployment = lookup("Deployment", owner["name"].as_str()?)?;
                    if deployment["metadata"]["uid"] != owner["uid"] {
                        return None;
                    }
                    Some((owner["uid"].as_str()?.to_owned(), replicas(&deployment)))
                }
                _ => Some((uid.to_owned(), replicas(&set))),
            }
        }
        ("apps", "StatefulSet") => {
            let set = lookup("StatefulSet", name).filter(|s| same_uid(s))?;
            Some((uid.to_owned(), replicas(&set)))
        }
        _ => None,
    }
}

/// The summed scale of the controllers of `pods` (each counted once); an error names a Pod
/// whose controller is not found (Pods without a controller are left out).
fn expected_scale(pods: &[&Value], lookup: &Lookup<'_>) -> Result<i64, String> {
    let mut scales: BTreeMap<String, i64> = BTreeMap::new();
    for pod in pods {
        let Some(reference) = controller_of(pod) else {
            continue;
        };
        if reference["uid"]
            .as_str()
            .is_some_and(|uid| scales.contains_key(uid))
        {
            continue;
        }
        match controller_scale(pod, lookup) {
            Some((uid, scale)) => {
                scales.insert(uid, scale);
            }
            None => {
                let name = pod["metadata"]["name"].as_str().unwrap_or_default();
                return Err(format!("found no controllers for pod {name:?}"));
            }
        }
    }
    Ok(scales.values().sum())
}

/// (expected Pods, desired healthy) for a budget's `spec` over its matching `pods`.
pub fn expected_and_desired(
    spec: &Value,
    pods: &[&Value],
    lookup: &Lookup<'_>,
) -> Result<(i64, i64), String> {
    let count = i64::try_from(pods.len()).unwrap_or(i64::MAX);
    if !spec["maxUnavailable"].is_null() {
        let expected = expected_scale(pods, lookup)?;
        let unavailable = scaled_value(&spec["maxUnavailable"], expected, true)?;
        return Ok((expected, (expected - unavailable).max(0)));
    }
    match &spec["minAvailable"] {
        Value::Null => Ok((0, 0)),
        Value::String(_) => {
            let expected = expected_scale(pods, lookup)?;
            Ok((
                expected,
                scaled_value(&spec["minAvailable"], expected, true)?,
            ))
        }
        value => Ok((count, scaled_value(value, count, true)?)),
    }
}

/// The disruptions allowed: healthy beyond desired, and none while nothing is expected.
pub fn disruptions_allowed(current_healthy: i64, desired_healthy: i64, expected: i64) -> i64 {
    let allowed = current_healthy - desired_healthy;
    if expected <= 0 || allowed <= 0 {
        0
    } else {
        allowed
    }
}

fn parse_time(value: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    value
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc())
}

/// The `disruptedPods` entries still in force: the Pod exists among `pods`, is not yet being
/// deleted, and was evicted less than two minutes ago.
fn disrupted_in_force(
    status: &Value,
    pods: &[&Value],
    now: chrono::DateTime<chrono::Utc>,
) -> Map<String, Value> {
    let mut kept = Map::new();
    for (name, when) in status["disruptedPods"].as_object().into_iter().flatten() {
        let Some(pod) = pods.iter().find(|p| p["metadata"]["name"] == name.as_str()) else {
            continue;
        };
        if being_deleted(pod) {
            continue;
        }
        let in_force = parse_time(when)
            .is_some_and(|t| t + chrono::Duration::seconds(DELETION_TIMEOUT_SECONDS) > now);
        if in_force {
            kept.insert(name.clone(), when.clone());
        }
    }
    kept
}

/// Matching Pods that are Ready, not being deleted and not just evicted.
pub fn current_healthy(pods: &[&Value], disrupted: &Map<String, Value>) -> i64 {
    let healthy = pods
        .iter()
        .filter(|pod| !being_deleted(pod))
        .filter(|pod| {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            !disrupted.contains_key(name)
        })
        .filter(|pod| is_ready(pod))
        .count();
    i64::try_from(healthy).unwrap_or(i64::MAX)
}

/// `apimeta.SetStatusCondition`: replaces the condition of the same type, keeping its
/// transition time unless the status changed.
fn set_condition(status: &mut Value, mut condition: Value, now: &str) {
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    let Some(conditions) = status["conditions"].as_array_mut() else {
        return;
    };
    match conditions
        .iter_mut()
        .find(|c| c["type"] == condition["type"])
    {
        Some(existing) => {
            condition["lastTransitionTime"] = if existing["status"] == condition["status"] {
                existing["lastTransitionTime"].clone()
            } else {
                json!(now)
            };
            *existing = condition;
        }
        None => {
            condition["lastTransitionTime"] = json!(now);
            conditions.push(condition);
        }
    }
}

/// `pdbhelper.UpdateDisruptionAllowedCondition` on a status.
pub fn update_allowed_condition(status: &mut Value, now: &str) {
    let allowed = status["disruptionsAllowed"].as_i64().unwrap_or(0) > 0;
    let (state, reason) = if allowed {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let condition = json!({
        "type": "DisruptionAllowed",
        "status": state,
        "reason": reason,
        "message": "",
        "observedGeneration": status["observedGeneration"].clone(),
    });
    set_condition(status, condition, now);
}

/// The Pods of `pods` a budget's selector matches (null: none; `{}`: all).
fn matching<'a>(pdb: &Value, pods: &[&'a Value]) -> Result<Vec<&'a Value>, String> {
    let Some(text) = label_selector_text(&pdb["spec"]["selector"]).map_err(|e| e.to_string())?
    else {
        return Ok(Vec::new());
    };
    let selector = LabelSelector::parse(&text).map_err(|e| e.to_string())?;
    Ok(pods
        .iter()
        .copied()
        .filter(|pod| selector.matches(pod))
        .collect())
}

/// The status the disruption controller writes for `pdb` given every Pod of its namespace.
pub fn budget_status(
    pdb: &Value,
    pods: &[&Value],
    lookup: &Lookup<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let computed = matching(pdb, pods).and_then(|pods| {
        let (expected, desired) = expected_and_desired(&pdb["spec"], &pods, lookup)?;
        Ok((pods, expected, desired))
    });
    let mut status = if pdb["status"].is_object() {
        pdb["status"].clone()
    } else {
        json!({})
    };
    match computed {
        Ok((pods, expected, desired)) => {
            let disrupted = disrupted_in_force(&pdb["status"], &pods, now);
            let healthy = current_healthy(&pods, &disrupted);
            status["currentHealthy"] = json!(healthy);
            status["desiredHealthy"] = json!(desired);
            status["expectedPods"] = json!(expected);
            status["disruptionsAllowed"] = json!(disruptions_allowed(healthy, desired, expected));
            status["observedGeneration"] = pdb["metadata"]["generation"].clone();
            match status.as_object_mut() {
                Some(map) if disrupted.is_empty() => {
                    map.remove("disruptedPods");
                }
                _ => status["disruptedPods"] = Value::Object(disrupted),
            }
            update_allowed_condition(&mut status, &stamp);
        }
        Err(message) => {
            status["disruptionsAllowed"] = json!(0);
            let condition = json!({
                "type": "DisruptionAllowed",
                "status": "False",
                "reason": "SyncFailed",
                "message": message,
                "observedGeneration": status["observedGeneration"].clone(),
            });
            set_condition(&mut status, condition, &stamp);
        }
    }
    status
}

/// Refuses a budget Kubernetes' validation refuses: both `minAvailable` and `maxUnavailable`,
/// a negative number, or a malformed or over-100 percentage.
pub fn validate(pdb: &Value) -> Result<(), ApiError> {
    let name = pdb["metadata"]["name"].as_str().unwrap_or_default();
    let spec = &pdb["spec"];
    let invalid =
        |field: &str, detail: String| ApiError::invalid("PodDisruptionBudget", name, field, detail);
    if !spec["minAvailable"].is_null() && !spec["maxUnavailable"].is_null() {
        return Err(invalid(
            "spec",
            "Invalid value: minAvailable and maxUnavailable cannot be both set".into(),
        ));
    }
    for key in ["minAvailable", "maxUnavailable"] {
        let field = format!("spec.{key}");
        match &spec[key] {
            Value::Null => {}
            Value::Number(n) if n.as_i64().is_some_and(|n| n < 0) => {
                return Err(invalid(
                    &field,
                    format!("Invalid value: {n}: must be greater than or equal to 0"),
                ))
            }
            Value::String(text) => {
                let percent = text
                    .strip_suffix('%')
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| n.parse::<u64>().ok());
                match percent {
                    None => {
                        return Err(invalid(
                            &field,
                            format!(
                                "Invalid value: {text:?}: a valid percent string must be a \
                                 numeric string followed by an ending '%' (e.g. '1%',  or \
                                 '93%', regex used for validation is '[0-9]+%')"
                            ),
                        ))
                    }
                    Some(p) if p > 100 => {
                        return Err(invalid(
                            &field,
                            format!("Invalid value: {text:?}: must not be greater than 100%"),
                        ))
                    }
                    Some(_) => {}
                }
            }
            _ => {}
        }
    }
    label_selector_text(&spec["selector"])
        .map(|_| ())
        .map_err(|e| invalid("spec.selector", format!("Invalid value: {e}")))
}

fn find(group: &str, plural: &str) -> Option<&'static ResourceDef> {
    let version = "v1";
    resources::find(group, version, plural)
}

/// Brings the status of every budget in `namespace` up to date (a write only where it changed).
pub fn sync_namespace(cluster: &Cluster, namespace: &str) {
    let _held = lock();
    sync_namespace_locked(cluster, namespace);
}

/// [`sync_namespace`] for a caller that already holds [`lock`].
pub fn sync_namespace_locked(cluster: &Cluster, namespace: &str) {
    let (Some(budgets), Some(pods)) = (find("policy", "poddisruptionbudgets"), find("", "pods"))
    else {
        return;
    };
    let store = &cluster.store;
    let (budget_list, _) = store.list(budgets, Some(namespace));
    if budget_list.is_empty() {
        return;
    }
    let (pod_list, _) = store.list(pods, Some(namespace));
    let pod_refs: Vec<&Value> = pod_list.iter().map(|p| p.as_ref()).collect();
    let lookup = |kind: &str, name: &str| {
        let plural = match kind {
            "ReplicaSet" => "replicasets",
            "Deployment" => "deployments",
            "StatefulSet" => "statefulsets",
            _ => return None,
        };
        store.get(find("apps", plural)?, namespace, name).ok()
    };
    let now = chrono::Utc::now();
    for budget in budget_list {
        let name = budget["metadata"]["name"].as_str().unwrap_or_default();
        // Gone or changed meanwhile: the next change brings it here again.
        let _ = store.write(budgets, namespace, name, |current| {
            let mut next = current.clone();
            next["status"] = budget_status(current, &pod_refs, &lookup, now);
            Ok(next)
        });
    }
}

/// Whether a change to `resource` can change a budget's status.
fn concerns_budgets(resource: &ResourceDef) -> bool {
    matches!(
        (resource.group, resource.plural),
        ("", "pods")
            | ("policy", "poddisruptionbudgets")
            | ("apps", "replicasets" | "deployments" | "statefulsets")
    )
}

fn every_namespace(cluster: &Cluster) -> Vec<String> {
    cluster
        .store
        .list(resources::namespaces(), None)
        .0
        .iter()
        .filter_map(|ns| ns["metadata"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// The controller: recomputes the budgets of a namespace on every relevant change, until the
/// store's change feed closes.
pub async fn run(cluster: Arc<Cluster>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut changes = cluster.store.subscribe();
    for namespace in every_namespace(&cluster) {
        sync_namespace(&cluster, &namespace);
    }
    loop {
        match changes.recv().await {
            Ok(change) if concerns_budgets(change.resource) => {
                let namespace = change.object["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                sync_namespace(&cluster, &namespace);
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {
                for namespace in every_namespace(&cluster) {
                    sync_namespace(&cluster, &namespace);
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ready: bool) -> Value {
        json!({
            "metadata": { "name": name, "labels": { "app": "web" },
                          "ownerReferences": [{ "apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                "name": "web-1", "uid": "rs-uid",
                                                "controller": true }] },
            "status": { "phase": "Running", "conditions": [
                { "type": "Ready", "status": if ready { "True" } else { "False" } }] },
        })
    }

    fn budget(spec: Value) -> Value {
        let mut spec = spec;
        spec["selector"] = json!({ "matchLabels": { "app": "web" } });
        json!({ "metadata": { "name": "web", "generation": 3 }, "spec": spec })
    }

    /// A ReplicaSet of `replicas` owned by a Deployment of `deployment` replicas.
    fn world(replicas: i64, deployment: i64) -> impl Fn(&str, &str) -> Option<Arc<Value>> {
        move |kind: &str, name: &str| match (kind, name) {
            ("ReplicaSet", "web-1") => Some(Arc::new(json!({
                "metadata": { "name": "web-1", "uid": "rs-uid", "ownerReferences": [
                    { "kind": "Deployment", "name": "web", "uid": "dep-uid", "controller": true }] },
                "spec": { "replicas": replicas } }))),
            ("Deployment", "web") => Some(Arc::new(json!({
                "metadata": { "name": "web", "uid": "dep-uid" },
                "spec": { "replicas": deployment } }))),
            _ => None,
        }
    }

    fn status_of(spec: Value, pods: &[Value]) -> Value {
        let refs: Vec<&Value> = pods.iter().collect();
        budget_status(&budget(spec), &refs, &world(3, 4), chrono::Utc::now())
    }

    fn numbers(status: &Value) -> [i64; 4] {
        [
            status["expectedPods"].as_i64().unwrap(),
            status["desiredHealthy"].as_i64().unwrap(),
            status["currentHealthy"].as_i64().unwrap(),
            status["disruptionsAllowed"].as_i64().unwrap(),
        ]
    }

    #[test]
    fn percentages_round_up_and_ints_pass_through() {
        assert_eq!(scaled_value(&json!(2), 10, true), Ok(2));
        assert_eq!(scaled_value(&json!("50%"), 3, true), Ok(2));
        assert_eq!(scaled_value(&json!("50%"), 3, false), Ok(1));
        assert_eq!(scaled_value(&json!("34%"), 3, true), Ok(2));
        assert_eq!(scaled_value(&json!("100%"), 4, true), Ok(4));
        assert_eq!(scaled_value(&json!("0%"), 4, true), Ok(0));
        assert!(scaled_value(&json!("50"), 4, true).is_err());
        assert!(scaled_value(&json!("x%"), 4, true).is_err());
        assert!(scaled_value(&json!(true), 4, true).is_err());
    }

    #[test]
    fn min_available_as_an_int_counts_the_matching_pods() {
        let pods = [pod("a", true), pod("b", true), pod("c", true)];
        let status = status_of(json!({ "minAvailable": 2 }), &pods);
        // expected = 3 Pods (not the Deployment's 4), desired 2, healthy 3: one may go.
        assert_eq!(numbers(&status), [3, 2, 3, 1]);
        assert_eq!(status["observedGeneration"], 3);
        assert_eq!(status["conditions"][0]["reason"], "SufficientPods");
        assert_eq!(status["conditions"][0]["status"], "True");
        let blocked = status_of(json!({ "minAvailable": 3 }), &pods);
        assert_eq!(numbers(&blocked), [3, 3, 3, 0]);
        assert_eq!(blocked["conditions"][0]["reason"], "InsufficientPods");
    }

    #[test]
    fn percentages_and_max_unavailable_scale_with_the_controller() {
        let pods = [pod("a", true), pod("b", true), pod("c", true)];
        // The ReplicaSet belongs to a Deployment of 4 replicas: expected is 4.
        let status = status_of(json!({ "minAvailable": "50%" }), &pods);
        assert_eq!(numbers(&status), [4, 2, 3, 1]);
        let status = status_of(json!({ "maxUnavailable": 1 }), &pods);
        assert_eq!(numbers(&status), [4, 3, 3, 0]);
        // 30% of 4 is 1.2, rounded up to 2 unavailable: desired 2.
        let status = status_of(json!({ "maxUnavailable": "30%" }), &pods);
        assert_eq!(numbers(&status), [4, 2, 3, 1]);
        let status = status_of(json!({ "maxUnavailable": "100%" }), &pods);
        assert_eq!(numbers(&status), [4, 0, 3, 3]);
    }

    #[test]
    fn unhealthy_deleting_and_evicted_pods_are_not_healthy() {
        let mut deleting = pod("d", true);
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        let pods = [pod("a", true), pod("b", false), deleting, pod("e", true)];
        let mut pdb = budget(json!({ "minAvailable": 1 }));
        pdb["status"] = json!({ "disruptedPods": {
            "e": crate::store::now(),
            "gone": crate::store::now(),
            "a": "2020-01-01T00:00:00Z",
        } });
        let refs: Vec<&Value> = pods.iter().collect();
        let status = budget_status(&pdb, &refs, &world(3, 4), chrono::Utc::now());
        // a (its eviction long expired) is healthy; b not Ready; d deleting; e just evicted.
        assert_eq!(numbers(&status), [4, 1, 1, 0]);
        assert_eq!(
            status["disruptedPods"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["e"]
        );
    }

    #[test]
    fn selectors_and_unknown_controllers() {
        let pods = [pod("a", true)];
        let mut other = budget(json!({ "minAvailable": 1 }));
        other["spec"]["selector"] = json!({ "matchLabels": { "app": "db" } });
        let refs: Vec<&Value> = pods.iter().collect();
        let status = budget_status(&other, &refs, &world(3, 4), chrono::Utc::now());
        assert_eq!(numbers(&status), [0, 1, 0, 0]);
        other["spec"]["selector"] = Value::Null;
        let status = budget_status(&other, &refs, &world(3, 4), chrono::Utc::now());
        assert_eq!(status["expectedPods"], 0);
        other["spec"]["selector"] = json!({});
        let status = budget_status(&other, &refs, &world(3, 4), chrono::Utc::now());
        assert_eq!(status["expectedPods"], 1);

        let nothing = |_: &str, _: &str| None;
        let failed = budget_status(
            &budget(json!({ "maxUnavailable": 1 })),
            &refs,
            &nothing,
            chrono::Utc::now(),
        );
        assert_eq!(failed["disruptionsAllowed"], 0);
        assert_eq!(failed["conditions"][0]["reason"], "SyncFailed");
        assert_eq!(
            failed["conditions"][0]["message"],
            "found no controllers for pod \"a\""
        );
        assert!(failed.get("observedGeneration").is_none());
        // An int minAvailable needs no controller.
        let fine = budget_status(
            &budget(json!({ "minAvailable": 0 })),
            &refs,
            &nothing,
            chrono::Utc::now(),
        );
        assert_eq!(numbers(&fine), [1, 0, 1, 1]);
    }

    #[test]
    fn a_budget_without_pods_allows_nothing() {
        assert_eq!(disruptions_allowed(0, 0, 0), 0);
        assert_eq!(disruptions_allowed(3, 1, 3), 2);
        assert_eq!(disruptions_allowed(1, 2, 3), 0);
        let status = status_of(json!({ "maxUnavailable": 1 }), &[]);
        assert_eq!(numbers(&status), [0, 0, 0, 0]);
    }

    #[test]
    fn the_condition_keeps_its_transition_time_until_its_status_changes() {
        let mut status = json!({ "disruptionsAllowed": 1, "observedGeneration": 1 });
        update_allowed_condition(&mut status, "T1");
        update_allowed_condition(&mut status, "T2");
        assert_eq!(status["conditions"][0]["lastTransitionTime"], "T1");
        status["disruptionsAllowed"] = json!(0);
        update_allowed_condition(&mut status, "T3");
        assert_eq!(status["conditions"][0]["lastTransitionTime"], "T3");
        assert_eq!(status["conditions"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn invalid_budgets_are_refused() {
        let with = |spec: Value| json!({ "metadata": { "name": "b" }, "spec": spec });
        assert!(validate(&with(json!({ "minAvailable": 1, "maxUnavailable": 1 }))).is_err());
        assert!(validate(&with(json!({ "minAvailable": -1 }))).is_err());
        assert!(validate(&with(json!({ "maxUnavailable": "101%" }))).is_err());
        assert!(validate(&with(json!({ "maxUnavailable": "ten" }))).is_err());
        assert!(validate(&with(json!({ "maxUnavailable": "%" }))).is_err());
        assert!(validate(&with(
            json!({ "selector": { "matchExpressions": [{ "key": "a", "operator": "Is" }] } })
        ))
        .is_err());
        validate(&with(json!({ "minAvailable": "50%", "selector": {} }))).unwrap();
        validate(&with(json!({ "maxUnavailable": 0 }))).unwrap();
    }
}
