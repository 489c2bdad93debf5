//! `POST .../pods/<name>/eviction`: deletes a Pod unless a PodDisruptionBudget forbids it, as
//! the API server's eviction subresource does (`pkg/registry/core/pod/storage/eviction.go`),
//! so that `kubectl drain` drains a node honouring PDBs and is refused, and retries, when
//! one would be violated.
//!
//! # Design
//!
//! - The body is a `policy/v1` (or `policy/v1beta1`) Eviction, JSON, YAML or protobuf (what
//!   kubectl's clientset sends; [`crate::protobuf`]); its `deleteOptions` (grace period,
//!   preconditions, propagation) go to the ordinary Pod deletion.
//! - A Pod that is Pending, Succeeded, Failed or already being deleted is deleted without
//!   looking at budgets (it disrupts nothing). Otherwise the budgets of the Pod's namespace
//!   whose selector matches it are found (a null or empty selector matches nothing here, as
//!   in the API server); none: delete; more than one: 500, as Kubernetes refuses.
//! - With one budget: a Pod that is not Ready is deleted without spending the budget when the
//!   budget is healthy (`currentHealthy >= desiredHealthy > 0`) or its
//!   `unhealthyPodEvictionPolicy` is `AlwaysAllow`. Otherwise the budget is checked and
//!   decremented: a status older than the spec (`observedGeneration < generation`) or 0
//!   disruptions allowed is `429 TooManyRequests` with the `DisruptionBudget` cause, worded
//!   as Kubernetes words it; else `disruptionsAllowed` goes down by one, the Pod is recorded
//!   in `disruptedPods`, the status is written, and the Pod gets the `DisruptionTarget`
//!   condition and is deleted. The answer is a `Success` Status with code 201.
//! - Before deciding, the namespace's budget statuses are brought up to date
//!   ([`disruption::sync_namespace_locked`]) under the lock the controller writes under:
//!   kube-sim's disruption controller is never behind, so a test's outcome does not depend on
//!   timing, and two concurrent evictions cannot both spend the last disruption.
//!
//! # Not yet
//!
//! - `dryRun` (refused with 400, as everywhere in kube-sim).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::cluster::{Cluster, DeleteOptions, Part, PatchKind, Propagation};
use crate::disruption;
use crate::resources;
use crate::selector::{label_selector_text, LabelSelector};

/// The message of every refusal by a budget.
pub const REFUSED: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

/// The cause type of a refusal by a budget (`policyv1.DisruptionBudgetCause`).
pub const CAUSE: &str = "DisruptionBudget";

/// The most Pods a budget may have waiting for deletion after their eviction.
const MAX_DISRUPTED_PODS: usize = 2000;

/// Reads an Eviction body: protobuf, YAML or JSON by `content_type`.
pub fn parse_body(content_type: &str, bytes: &[u8]) -> Result<Value, ApiError> {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    let body: Value = if base.contains("protobuf") {
        crate::protobuf::decode(bytes, crate::protobuf::Kind::Eviction)?
    } else if base == "application/yaml" {
        serde_yaml_ng::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("error decoding YAML: {e}")))?
    } else {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::BadRequest(format!("couldn't get version/kind; json parse error: {e}"))
        })?
    };
    if !body.is_object() {
        return Err(ApiError::BadRequest("not a Eviction object".into()));
    }
    let kind_ok = body["kind"].as_str().is_none_or(|k| k == "Eviction");
    let version_ok = body["apiVersion"]
        .as_str()
        .is_none_or(|v| matches!(v, "policy/v1" | "policy/v1beta1"));
    if !kind_ok || !version_ok {
        return Err(ApiError::BadRequest(format!(
            "not a Eviction object: {} {}",
            body["apiVersion"], body["kind"]
        )));
    }
    Ok(body)
}

/// The Eviction's `deleteOptions` as the Pod deletion's options.
pub fn delete_options(eviction: &Value) -> Result<DeleteOptions, ApiError> {
    let options = &eviction["deleteOptions"];
    if options["dryRun"].as_array().is_some_and(|d| !d.is_empty()) {
        return Err(ApiError::BadRequest(
            "dryRun is not supported by kube-sim; send the request without it".into(),
        ));
    }
    let propagation = match options["propagationPolicy"].as_str() {
        None | Some("Background") => Propagation::Background,
        Some("Foreground") => Propagation::Foreground,
        Some("Orphan") => Propagation::Orphan,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "propagationPolicy {other:?} is not one of Orphan, Background, Foreground"
            )))
        }
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Ok(DeleteOptions {
        grace_seconds: options["gracePeriodSeconds"].as_i64(),
        propagation: if options["orphanDependents"] == true {
            Propagation::Orphan
        } else {
            propagation
        },
        precondition_uid: text(&options["preconditions"]["uid"]),
        precondition_rv: text(&options["preconditions"]["resourceVersion"]),
    })
}

/// A Pod whose eviction disrupts nothing: not running, or already going.
pub fn can_ignore_budgets(pod: &Value) -> bool {
    matches!(
        pod["status"]["phase"].as_str(),
        Some("Succeeded" | "Failed" | "Pending")
    ) || !pod["metadata"]["deletionTimestamp"].is_null()
}

/// Whether a budget's selector selects `pod` as the eviction handler reads it (a null or
/// empty selector, or one that does not parse, selects nothing).
pub fn selects(pdb: &Value, pod: &Value) -> bool {
    match label_selector_text(&pdb["spec"]["selector"]) {
        Ok(Some(text)) if !text.is_empty() => {
            LabelSelector::parse(&text).is_ok_and(|selector| selector.matches(pod))
        }
        _ => false,
    }
}

/// What the budget says about evicting one Pod.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Delete without touching the budget (an unhealthy Pod the budget can spare).
    Spare,
    /// Delete, writing this status (one disruption fewer) first.
    Spend(Value),
}

/// The budget's decision for `pod` (`checkAndDecrement` and the unhealthy-Pod rules).
pub fn decide(pdb: &Value, pod: &Value, now: &str) -> Result<Verdict, ApiError> {
    let name = pdb["metadata"]["name"].as_str().unwrap_or_default();
    let status = &pdb["status"];
    let number = |field: &str| status[field].as_i64().unwrap_or(0);
    if !disruption::is_ready(pod) {
        let always = pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow";
        let healthy_budget =
            number("currentHealthy") >= number("desiredHealthy") && number("desiredHealthy") > 0;
        if always || healthy_budget {
            return Ok(Verdict::Spare);
        }
    }
    let generation = pdb["metadata"]["generation"].as_i64().unwrap_or(0);
    if number("observedGeneration") < generation {
        return Err(ApiError::TooManyRequests {
            message: REFUSED.into(),
            causes: vec![(
                CAUSE.into(),
                format!("The disruption budget {name} is still being processed by the server."),
            )],
            retry_after_seconds: 10,
        });
    }
    let allowed = number("disruptionsAllowed");
    if allowed < 0 {
        return Err(ApiError::Forbidden(format!(
            "poddisruptionbudgets.policy \"{name}\" is forbidden: pdb disruptions allowed is \
             negative"
        )));
    }
    if status["disruptedPods"]
        .as_object()
        .is_some_and(|m| m.len() > MAX_DISRUPTED_PODS)
    {
        return Err(ApiError::Forbidden(format!(
            "poddisruptionbudgets.policy \"{name}\" is forbidden: DisruptedPods map too big - \
             too many evictions not confirmed by PDB controller"
        )));
    }
    if allowed == 0 {
        return Err(ApiError::TooManyRequests {
            message: REFUSED.into(),
            causes: vec![(
                CAUSE.into(),
                format!(
                    "The disruption budget {name} needs {} healthy pods and has {} currently",
                    number("desiredHealthy"),
                    number("currentHealthy")
                ),
            )],
            retry_after_seconds: 0,
        });
    }
    let mut next = status.clone();
    next["disruptionsAllowed"] = json!(allowed - 1);
    if allowed - 1 == 0 {
        disruption::update_allowed_condition(&mut next, now);
    }
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    if !next["disruptedPods"].is_object() {
        next["disruptedPods"] = json!({});
    }
    next["disruptedPods"][pod_name] = json!(now);
    Ok(Verdict::Spend(next))
}

/// Evicts `namespace/name` as the Eviction `body` asks; returns the Status to answer with.
pub fn evict(
    cluster: &Arc<Cluster>,
    namespace: &str,
    name: &str,
    body: &Value,
) -> Result<Value, ApiError> {
    let given = body["metadata"]["name"].as_str().unwrap_or_default();
    if given != name {
        return Err(ApiError::BadRequest(
            "name in URL does not match name in Eviction object".into(),
        ));
    }
    let options = delete_options(body)?;
    let (Some(pods), Some(budgets)) = (
        resources::find("", "v1", "pods"),
        resources::find("policy", "v1", "poddisruptionbudgets"),
    ) else {
        return Err(ApiError::NoRoute);
    };
    let _held = disruption::lock();
    let pod = cluster.store.get(pods, namespace, name)?;
    if !can_ignore_budgets(&pod) {
        disruption::sync_namespace_locked(cluster, namespace);
        let (all, _) = cluster.store.list(budgets, Some(namespace));
        let matching: Vec<&Arc<Value>> = all.iter().filter(|b| selects(b, &pod)).collect();
        match matching.as_slice() {
            [] => {}
            [budget] => {
                let now = crate::store::now();
                if let Verdict::Spend(status) = decide(budget, &pod, &now)? {
                    let budget_name = budget["metadata"]["name"].as_str().unwrap_or_default();
                    let expected = budget["metadata"]["resourceVersion"].clone();
                    cluster
                        .store
                        .write(budgets, namespace, budget_name, |current| {
                            let mut next = current.clone();
                            next["status"] = status;
                            next["metadata"]["resourceVersion"] = expected;
                            Ok(next)
                        })?;
                }
                mark_disruption_target(cluster, namespace, name, &now);
            }
            _ => {
                return Err(ApiError::Internal(
                    "This pod has more than one PodDisruptionBudget, which the eviction \
                     subresource does not support."
                        .into(),
                ))
            }
        }
    }
    cluster.delete(pods, namespace, name, &options)?;
    Ok(json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }))
}

/// Adds the `DisruptionTarget` condition the API server sets on a Pod it evicts.
fn mark_disruption_target(cluster: &Arc<Cluster>, namespace: &str, name: &str, now: &str) {
    let Some(pods) = resources::find("", "v1", "pods") else {
        return;
    };
    let condition = json!({
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "EvictionByEvictionAPI",
        "message": "Eviction API: evicting",
        "lastTransitionTime": now,
    });
    // Strategic merge keys conditions by type. A Pod gone meanwhile needs no condition.
    let _ = cluster.patch(
        pods,
        namespace,
        name,
        PatchKind::Strategic,
        json!({ "status": { "conditions": [condition] } }),
        Part::Status,
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn pod(ready: bool, phase: &str) -> Value {
        json!({ "metadata": { "name": "web-1", "labels": { "app": "web" } },
                "status": { "phase": phase, "conditions": [
                    { "type": "Ready", "status": if ready { "True" } else { "False" } }] } })
    }

    fn budget(status: Value) -> Value {
        json!({ "metadata": { "name": "web", "generation": 2 },
                "spec": { "minAvailable": 1, "selector": { "matchLabels": { "app": "web" } } },
                "status": status })
    }

    fn healthy(allowed: i64) -> Value {
        budget(
            json!({ "observedGeneration": 2, "currentHealthy": 2, "desiredHealthy": 1,
                       "expectedPods": 2, "disruptionsAllowed": allowed }),
        )
    }

    #[test]
    fn a_budget_with_room_is_spent_and_records_the_pod() {
        let verdict = decide(&healthy(1), &pod(true, "Running"), "T").unwrap();
        let Verdict::Spend(status) = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(status["disruptionsAllowed"], 0);
        assert_eq!(status["disruptedPods"], json!({ "web-1": "T" }));
        assert_eq!(status["conditions"][0]["reason"], "InsufficientPods");
    }

    #[test]
    fn an_exhausted_budget_refuses_with_kubernetes_words() {
        let error = decide(&healthy(0), &pod(true, "Running"), "T").unwrap_err();
        let status = error.to_status();
        assert_eq!(status["code"], 429);
        assert_eq!(status["reason"], "TooManyRequests");
        assert_eq!(
            status["message"],
            "Cannot evict pod as it would violate the pod's disruption budget."
        );
        assert_eq!(
            status["details"],
            json!({ "causes": [{ "reason": "DisruptionBudget",
                "message": "The disruption budget web needs 1 healthy pods and has 2 currently" }] })
        );
        let stale = budget(json!({ "observedGeneration": 1, "disruptionsAllowed": 5 }));
        let status = decide(&stale, &pod(true, "Running"), "T")
            .unwrap_err()
            .to_status();
        assert_eq!(status["details"]["retryAfterSeconds"], 10);
        assert_eq!(
            status["details"]["causes"][0]["message"],
            "The disruption budget web is still being processed by the server."
        );
        let negative = budget(json!({ "observedGeneration": 2, "disruptionsAllowed": -1 }));
        let error = decide(&negative, &pod(true, "Running"), "T").unwrap_err();
        assert!(matches!(error, ApiError::Forbidden(_)), "{error}");
    }

    #[test]
    fn unhealthy_pods_are_spared_only_while_the_budget_is_healthy_or_always_allowed() {
        assert_eq!(
            decide(&healthy(0), &pod(false, "Running"), "T").unwrap(),
            Verdict::Spare
        );
        let short = budget(json!({ "observedGeneration": 2, "currentHealthy": 0,
                                   "desiredHealthy": 1, "disruptionsAllowed": 0 }));
        assert!(decide(&short, &pod(false, "Running"), "T").is_err());
        let mut always = short.clone();
        always["spec"]["unhealthyPodEvictionPolicy"] = json!("AlwaysAllow");
        assert_eq!(
            decide(&always, &pod(false, "Running"), "T").unwrap(),
            Verdict::Spare
        );
    }

    #[test]
    fn pending_finished_and_deleting_pods_ignore_budgets() {
        assert!(can_ignore_budgets(&pod(false, "Pending")));
        assert!(can_ignore_budgets(&pod(false, "Succeeded")));
        assert!(can_ignore_budgets(&pod(false, "Failed")));
        assert!(!can_ignore_budgets(&pod(true, "Running")));
        let mut going = pod(true, "Running");
        going["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert!(can_ignore_budgets(&going));
    }

    #[test]
    fn empty_selectors_select_nothing_here() {
        let mut b = healthy(1);
        assert!(selects(&b, &pod(true, "Running")));
        b["spec"]["selector"] = json!({});
        assert!(!selects(&b, &pod(true, "Running")));
        b["spec"]["selector"] = Value::Null;
        assert!(!selects(&b, &pod(true, "Running")));
        b["spec"]["selector"] = json!({ "matchLabels": { "app": "db" } });
        assert!(!selects(&b, &pod(true, "Running")));
    }

    #[test]
    fn bodies_and_options() {
        let body = parse_body(
            "application/json",
            br#"{"apiVersion":"policy/v1beta1","kind":"Eviction","metadata":{"name":"p"},
                "deleteOptions":{"gracePeriodSeconds":0,"propagationPolicy":"Orphan"}}"#,
        )
        .unwrap();
        let options = delete_options(&body).unwrap();
        assert_eq!(options.grace_seconds, Some(0));
        assert_eq!(options.propagation, Propagation::Orphan);
        assert!(parse_body("application/json", br#"{"kind":"Pod"}"#).is_err());
        assert!(parse_body("application/json", b"[1]").is_err());
        assert!(parse_body("application/vnd.kubernetes.protobuf", b"{}").is_err());
        let dry = json!({ "deleteOptions": { "dryRun": ["All"] } });
        assert!(delete_options(&dry).is_err());
    }

    #[tokio::test]
    async fn evictions_spend_the_budget_then_are_refused() {
        let (store, _) = Store::new(1000, std::env::temp_dir());
        let cluster = Cluster::new(Arc::new(store), None);
        let pods = resources::find("", "v1", "pods").unwrap();
        let budgets = resources::find("policy", "v1", "poddisruptionbudgets").unwrap();
        for name in ["web-1", "web-2"] {
            cluster
                .create(
                    pods,
                    "default",
                    json!({ "metadata": { "name": name, "labels": { "app": "web" } },
                            "spec": { "nodeName": "node-a",
                                      "containers": [{ "name": "c", "image": "x" }] } }),
                )
                .unwrap();
            cluster
                .patch(
                    pods,
                    "default",
                    name,
                    PatchKind::Merge,
                    json!({ "status": { "phase": "Running",
                                        "conditions": [{ "type": "Ready", "status": "True" }] } }),
                    Part::Status,
                    None,
                )
                .unwrap();
        }
        cluster
            .create(
                budgets,
                "default",
                json!({ "metadata": { "name": "web" },
                        "spec": { "minAvailable": 1,
                                  "selector": { "matchLabels": { "app": "web" } } } }),
            )
            .unwrap();
        let body = |name: &str| json!({ "metadata": { "name": name } });
        let done = evict(&cluster, "default", "web-1", &body("web-1")).unwrap();
        assert_eq!(done["status"], "Success");
        assert!(
            cluster.store.get(pods, "default", "web-1").is_err(),
            "evicted"
        );
        let refused = evict(&cluster, "default", "web-2", &body("web-2")).unwrap_err();
        assert_eq!(refused.code().as_u16(), 429);
        assert!(cluster.store.get(pods, "default", "web-2").is_ok(), "kept");
        let pdb = cluster.store.get(budgets, "default", "web").unwrap();
        assert_eq!(pdb["status"]["currentHealthy"], 1);
        assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
        let wrong = evict(&cluster, "default", "web-2", &body("web-1")).unwrap_err();
        assert!(matches!(wrong, ApiError::BadRequest(_)));
        let missing = evict(&cluster, "default", "nope", &body("nope")).unwrap_err();
        assert!(matches!(missing, ApiError::NotFound { .. }));
    }
}
