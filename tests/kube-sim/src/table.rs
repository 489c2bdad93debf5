//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for, with the
//! columns kubectl shows for each kind (NAME, READY, STATUS, RESTARTS, AGE for Pods; STATUS for
//! Namespaces; DATA for ConfigMaps and Secrets; STATUS, VOLUME, CAPACITY, ACCESS MODES for
//! claims; LAST SEEN, TYPE, REASON, OBJECT, MESSAGE for core Events; SUCCEEDED and REASON for
//! Tekton runs; STATUS, ROLES, VERSION for Nodes; the replica counts of Deployments,
//! ReplicaSets, DaemonSets and StatefulSets; MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED
//! DISRUPTIONS for PodDisruptionBudgets; POD-SELECTOR for NetworkPolicies; REQUEST and LIMIT
//! for ResourceQuotas; NAME, AGE otherwise).
//!
//! # Design
//!
//! Each kind's columns are one list of [`Column`]s, header and cell function together, so a
//! column's definition and its cells cannot drift apart.
//!
//! A Pod's STATUS follows kubectl's printer: the phase, replaced by the first failing init
//! container (`Init:Error`, `Init:0/1`), then by a container's waiting or terminated reason
//! (`ContainerCreating`, `ErrImagePull`, `Completed`), and `Terminating` once deletion began.
//! AGE is rendered as Kubernetes' `HumanDuration` renders it.

use serde_json::{json, Value};

use crate::resources::ResourceDef;

/// Which object each row carries (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

/// Kubernetes' `duration.HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The time since an RFC 3339 timestamp, as kubectl shows it.
fn since(timestamp: &Value) -> String {
    let parsed = timestamp
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    match parsed {
        Some(when) => human_duration((chrono::Utc::now() - when.to_utc()).num_seconds()),
        None => "<unknown>".into(),
    }
}

fn age(object: &Value) -> String {
    since(&object["metadata"]["creationTimestamp"])
}

fn terminated_reason(state: &Value, prefix: &str) -> String {
    if let Some(reason) = state["reason"].as_str().filter(|r| !r.is_empty()) {
        return format!("{prefix}{reason}");
    }
    match state["signal"].as_i64().filter(|s| *s != 0) {
        Some(signal) => format!("{prefix}Signal:{signal}"),
        None => format!(
            "{prefix}ExitCode:{}",
            state["exitCode"].as_i64().unwrap_or(0)
        ),
    }
}

/// The STATUS column of a Pod, as kubectl prints it.
pub fn pod_status(pod: &Value) -> String {
    let status = &pod["status"];
    let mut reason = status["phase"].as_str().unwrap_or("Pending").to_owned();
    if let Some(r) = status["reason"].as_str().filter(|r| !r.is_empty()) {
        reason = r.to_owned();
    }
    let init_statuses = status["initContainerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let init_count = pod["spec"]["initContainers"].as_array().map_or(0, Vec::len);
    let mut initializing = false;
    for (i, container) in init_statuses.iter().enumerate() {
        let state = &container["state"];
        if !state["terminated"].is_null() {
            if state["terminated"]["exitCode"].as_i64() == Some(0) {
                continue;
            }
            reason = terminated_reason(&state["terminated"], "Init:");
        } else if let Some(waiting) = state["waiting"]["reason"]
            .as_str()
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{waiting}");
        } else {
            reason = format!("Init:{i}/{init_count}");
        }
        initializing = true;
        break;
    }
    if !initializing {
        let mut has_running = false;
        let statuses = status["containerStatuses"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for container in statuses.iter().rev() {
            let state = &container["state"];
            if let Some(waiting) = state["waiting"]["reason"]
                .as_str()
                .filter(|r| !r.is_empty())
            {
                reason = waiting.to_owned();
            } else if !state["terminated"].is_null() {
                reason = terminated_reason(&state["terminated"], "");
            } else if !state["running"].is_null() && container["ready"] == true {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        reason = "Terminating".into();
    }
    reason
}

/// One printed column: its header, what it says, and how a row's cell is computed.
struct Column {
    name: &'static str,
    description: &'static str,
    cell: fn(&Value) -> String,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn name_cell(object: &Value) -> String {
    text(&object["metadata"]["name"])
}

fn count(value: &Value) -> String {
    value.as_object().map_or(0, |m| m.len()).to_string()
}

fn pod_ready(pod: &Value) -> String {
    let statuses = pod["status"]["containerStatuses"].as_array();
    let ready = statuses.map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
    let total = pod["spec"]["containers"].as_array().map_or(0, Vec::len);
    format!("{ready}/{total}")
}

fn pod_restarts(pod: &Value) -> String {
    let restarts: i64 = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["restartCount"].as_i64())
        .sum();
    restarts.to_string()
}

fn succeeded(object: &Value) -> Option<&Value> {
    object["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Succeeded"))
}

fn event_object(event: &Value) -> String {
    let involved = &event["involvedObject"];
    format!(
        "{}/{}",
        text(&involved["kind"]).to_lowercase(),
        text(&involved["name"])
    )
}

fn event_last_seen(event: &Value) -> String {
    let when = ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .map(|field| &event[*field])
        .find(|v| v.is_string())
        .unwrap_or(&event["metadata"]["creationTimestamp"]);
    since(when)
}

const NAME: Column = Column {
    name: "Name",
    description: "Name must be unique within a namespace.",
    cell: name_cell,
};
const AGE: Column = Column {
    name: "Age",
    description: "CreationTimestamp of the object.",
    cell: age,
};

/// The columns kubectl shows for `resource`.
fn layout(resource: &ResourceDef) -> Vec<Column> {
    let column = |name, description, cell| Column {
        name,
        description,
        cell,
    };
    match (resource.group, resource.plural) {
        ("", "pods") => vec![
            NAME,
            column("Ready", "The number of ready containers.", pod_ready),
            column(
                "Status",
                "The aggregate status of the containers.",
                pod_status,
            ),
            column(
                "Restarts",
                "The number of restarts of the containers.",
                pod_restarts,
            ),
            AGE,
        ],
        ("", "namespaces") => vec![
            NAME,
            column("Status", "The phase of the namespace.", |o| {
                text(&o["status"]["phase"])
            }),
            AGE,
        ],
        ("", "configmaps") => vec![
            NAME,
            column("Data", "The number of keys.", |o| count(&o["data"])),
            AGE,
        ],
        ("", "secrets") => vec![
            NAME,
            column("Type", "The type of the secret.", |o| text(&o["type"])),
            column("Data", "The number of keys.", |o| count(&o["data"])),
            AGE,
        ],
        ("", "persistentvolumeclaims") => vec![
            NAME,
            column("Status", "The phase of the claim.", |o| {
                text(&o["status"]["phase"])
            }),
            column("Volume", "The bound volume.", |o| {
                text(&o["spec"]["volumeName"])
            }),
            column("Capacity", "The storage capacity.", |o| {
                text(&o["status"]["capacity"]["storage"])
            }),
            column("Access Modes", "The access modes.", |o| {
                let modes = o["status"]["accessModes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let short: Vec<&str> = modes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|m| match m {
                        "ReadWriteOnce" => "RWO",
                        "ReadOnlyMany" => "ROX",
                        "ReadWriteMany" => "RWX",
                        "ReadWriteOncePod" => "RWOP",
                        other => other,
                    })
                    .collect();
                short.join(",")
            }),
            AGE,
        ],
        ("", "events") => vec![
            column(
                "Last Seen",
                "When the event last happened.",
                event_last_seen,
            ),
            column("Type", "Normal or Warning.", |o| text(&o["type"])),
            column("Reason", "Why the event happened.", |o| text(&o["reason"])),
            column("Object", "The object it is about.", event_object),
            column("Message", "What happened.", |o| text(&o["message"])),
        ],
        ("tekton.dev", "taskruns" | "pipelineruns" | "customruns") => vec![
            NAME,
            column("Succeeded", "The Succeeded condition's status.", |o| {
                succeeded(o).map(|c| text(&c["status"])).unwrap_or_default()
            }),
            column("Reason", "The Succeeded condition's reason.", |o| {
                succeeded(o).map(|c| text(&c["reason"])).unwrap_or_default()
            }),
            AGE,
        ],
        ("", "nodes") => vec![
            NAME,
            column("Status", "The status of the node.", node_status),
            column("Roles", "The roles of the node.", node_roles),
            AGE,
            column("Version", "Kubelet Version reported by the node.", |o| {
                text(&o["status"]["nodeInfo"]["kubeletVersion"])
            }),
        ],
        ("", "resourcequotas") => vec![
            NAME,
            AGE,
            column("Request", "Used and hard requests.", |o| quota_cell(o, false)),
            column("Limit", "Used and hard limits.", |o| quota_cell(o, true)),
        ],
        ("apps", "deployments") => vec![
            NAME,
            column("Ready", "Number of the pod with ready state.", |o| {
                format!("{}/{}", number(&o["status"]["readyReplicas"]), replicas(o))
            }),
            column("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", |o| {
                number(&o["status"]["updatedReplicas"])
            }),
            column("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", |o| {
                number(&o["status"]["availableReplicas"])
            }),
            AGE,
        ],
        ("apps", "replicasets") => vec![
            NAME,
            column("Desired", "Number of desired pods.", replicas),
            column("Current", "Number of actual running pods.", |o| {
                number(&o["status"]["replicas"])
            }),
            column("Ready", "Number of ready pods.", |o| number(&o["status"]["readyReplicas"])),
            AGE,
        ],
        ("apps", "daemonsets") => vec![
            NAME,
            column("Desired", "The number of nodes that should be running the daemon pod.", |o| {
                number(&o["status"]["desiredNumberScheduled"])
            }),
            column("Current", "The number of nodes running at least one daemon pod.", |o| {
                number(&o["status"]["currentNumberScheduled"])
            }),
            column("Ready", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", |o| {
                number(&o["status"]["numberReady"])
            }),
            column("Up-to-date", "The total number of nodes that are running updated daemon pod.", |o| {
                number(&o["status"]["updatedNumberScheduled"])
            }),
            column("Available", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.", |o| {
                number(&o["status"]["numberAvailable"])
            }),
            column("Node Selector", "The node selector of the daemon pods.", |o| {
                node_selector(&o["spec"]["template"]["spec"]["nodeSelector"])
            }),
            AGE,
        ],
        ("apps", "statefulsets") => vec![
            NAME,
            column("Ready", "Number of the pod with ready state.", |o| {
                format!("{}/{}", number(&o["status"]["readyReplicas"]), replicas(o))
            }),
            AGE,
        ],
        ("policy", "poddisruptionbudgets") => vec![
            NAME,
            column("Min Available", "The minimum number of pods that must be available.", |o| {
                int_or_percent(&o["spec"]["minAvailable"])
            }),
            column("Max Unavailable", "The maximum number of pods that may be unavailable.", |o| {
                int_or_percent(&o["spec"]["maxUnavailable"])
            }),
            column("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.", |o| {
                number(&o["status"]["disruptionsAllowed"])
            }),
            AGE,
        ],
        ("networking.k8s.io", "networkpolicies") => vec![
            NAME,
            column("Pod-Selector", "The pods the policy applies to.", |o| {
                match crate::selector::label_selector_text(&o["spec"]["podSelector"]) {
                    Ok(Some(text)) if !text.is_empty() => text,
                    Ok(_) => "<none>".into(),
                    Err(_) => "<error>".into(),
                }
            }),
            AGE,
        ],
        _ => vec![NAME, AGE],
    }
}

/// An integer status field, 0 when absent (Go's zero value).
fn number(value: &Value) -> String {
    value.as_i64().unwrap_or(0).to_string()
}

/// `spec.replicas`, which the API server defaults to 1.
fn replicas(object: &Value) -> String {
    object["spec"]["replicas"].as_i64().unwrap_or(1).to_string()
}

/// An `IntOrString` field, `N/A` when unset.
fn int_or_percent(value: &Value) -> String {
    match value {
        Value::Null => "N/A".into(),
        other => text(other),
    }
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` when empty.
fn node_selector(value: &Value) -> String {
    let pairs: Vec<String> = value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", text(v)))
        .collect();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        pairs.join(",")
    }
}

/// A Node's STATUS: `Ready`/`NotReady` (`Unknown` without the condition), then
/// `SchedulingDisabled` when cordoned.
fn node_status(node: &Value) -> String {
    let ready = node["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Ready");
    let mut status = vec![match ready {
        Some(c) if c["status"] == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node["spec"]["unschedulable"] == true {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// A Node's ROLES: from `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`.
fn node_roles(node: &Value) -> String {
    let mut roles: Vec<String> = Vec::new();
    for (key, value) in node["metadata"]["labels"].as_object().into_iter().flatten() {
        if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role.to_owned());
            }
        } else if key == "kubernetes.io/role" {
            if let Some(role) = value.as_str().filter(|r| !r.is_empty()) {
                roles.push(role.to_owned());
            }
        }
    }
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

/// A ResourceQuota's REQUEST (or LIMIT: the `limits.*` resources): `name: used/hard`, by
/// name, from the status as the quota controller writes it.
fn quota_cell(quota: &Value, limits: bool) -> String {
    let status = &quota["status"];
    let mut cells = Vec::new();
    // kubectl sorts the resource names; the map's own order depends on serde_json's
    // `preserve_order`, which a workspace build turns on for every crate.
    let mut hard: Vec<(&String, &Value)> =
        status["hard"].as_object().into_iter().flatten().collect();
    hard.sort_by(|a, b| a.0.cmp(b.0));
    for (resource, hard) in hard {
        if resource.starts_with("limits.") != limits {
            continue;
        }
        let used = match &status["used"][resource.as_str()] {
            Value::Null => "0".to_owned(),
            other => text(other),
        };
        cells.push(format!("{resource}: {used}/{}", text(hard)));
    }
    cells.join(", ")
}

/// The object without everything but its metadata, as `PartialObjectMetadata`.
pub fn partial_metadata(object: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": object["metadata"].clone(),
    })
}

/// A Table of `objects` at resourceVersion `rv`.
pub fn table(resource: &ResourceDef, objects: &[&Value], rv: u64, include: IncludeObject) -> Value {
    let columns = layout(resource);
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let carried = match include {
                IncludeObject::None => Value::Null,
                IncludeObject::Metadata => partial_metadata(object),
                IncludeObject::Object => (*object).clone(),
            };
            let cells: Vec<String> = columns.iter().map(|c| (c.cell)(object)).collect();
            json!({ "cells": cells, "object": carried })
        })
        .collect();
    let definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": "string",
                "format": if c.name == "Name" { "name" } else { "" },
                "description": c.description,
                "priority": 0,
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": { "resourceVersion": rv.to_string() },
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn human_durations() {
        for (seconds, text) in [
            (5, "5s"),
            (119, "119s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (9 * 3600, "9h"),
            (50 * 3600, "2d2h"),
        ] {
            assert_eq!(human_duration(seconds), text);
        }
    }

    #[test]
    fn pod_status_follows_kubectl() {
        let waiting = json!({ "status": { "phase": "Pending", "containerStatuses": [
            { "state": { "waiting": { "reason": "ContainerCreating" } } }] } });
        assert_eq!(pod_status(&waiting), "ContainerCreating");
        let done = json!({ "status": { "phase": "Succeeded", "containerStatuses": [
            { "state": { "terminated": { "exitCode": 0, "reason": "Completed" } } }] } });
        assert_eq!(pod_status(&done), "Completed");
        let init = json!({ "spec": { "initContainers": [{}] }, "status": { "phase": "Pending",
            "initContainerStatuses": [{ "state": { "running": {} } }] } });
        assert_eq!(pod_status(&init), "Init:0/1");
        let failed_init = json!({ "status": { "phase": "Failed", "initContainerStatuses": [
            { "state": { "terminated": { "exitCode": 3 } } }] } });
        assert_eq!(pod_status(&failed_init), "Init:ExitCode:3");
        let deleting =
            json!({ "metadata": { "deletionTimestamp": "x" }, "status": { "phase": "Running" } });
        assert_eq!(pod_status(&deleting), "Terminating");
    }

    #[test]
    fn pod_tables_have_kubectls_columns() {
        let pods = find("", "v1", "pods").unwrap();
        let pod = json!({ "metadata": { "name": "p", "creationTimestamp": crate::store::now() },
                          "spec": { "containers": [{}] }, "status": { "phase": "Pending" } });
        let table = table(pods, &[&pod], 7, IncludeObject::Metadata);
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["p", "0/1", "Pending", "0", "0s"])
        );
        assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(table["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn nodes_budgets_and_workloads_have_kubectls_columns() {
        let row = |plural: &str, group: &str, object: Value| {
            let resource = crate::resources::find(group, "v1", plural).unwrap();
            table(resource, &[&object], 1, IncludeObject::None)["rows"][0]["cells"].clone()
        };
        let node = json!({ "metadata": { "name": "a", "labels": {
                "node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "" } },
            "spec": { "unschedulable": true },
            "status": { "conditions": [{ "type": "Ready", "status": "True" }],
                        "nodeInfo": { "kubeletVersion": "v1.29.4" } } });
        assert_eq!(
            row("nodes", "", node),
            json!([
                "a",
                "Ready,SchedulingDisabled",
                "control-plane,worker",
                "<unknown>",
                "v1.29.4"
            ])
        );
        let bare = row("nodes", "", json!({ "metadata": { "name": "b" } }));
        assert_eq!((&bare[1], &bare[2]), (&json!("Unknown"), &json!("<none>")));
        let pdb = json!({ "metadata": { "name": "p" }, "spec": { "minAvailable": "50%" },
                          "status": { "disruptionsAllowed": 2 } });
        assert_eq!(
            row("poddisruptionbudgets", "policy", pdb),
            json!(["p", "50%", "N/A", "2", "<unknown>"])
        );
        let deployment = json!({ "metadata": { "name": "d" }, "spec": { "replicas": 3 },
            "status": { "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2 } });
        assert_eq!(
            row("deployments", "apps", deployment),
            json!(["d", "2/3", "3", "2", "<unknown>"])
        );
        let daemons = json!({ "metadata": { "name": "ds" },
            "spec": { "template": { "spec": { "nodeSelector": { "os": "linux" } } } },
            "status": { "desiredNumberScheduled": 2, "numberReady": 1 } });
        assert_eq!(
            row("daemonsets", "apps", daemons),
            json!(["ds", "2", "0", "1", "0", "0", "os=linux", "<unknown>"])
        );
        let policy = json!({ "metadata": { "name": "n" },
            "spec": { "podSelector": { "matchLabels": { "app": "web" } } } });
        assert_eq!(
            row("networkpolicies", "networking.k8s.io", policy),
            json!(["n", "app=web", "<unknown>"])
        );
        let open = json!({ "metadata": { "name": "all" }, "spec": { "podSelector": {} } });
        assert_eq!(
            row("networkpolicies", "networking.k8s.io", open)[1],
            "<none>"
        );
        let quota = json!({ "metadata": { "name": "q" }, "status": {
            "hard": { "requests.cpu": "2", "pods": "10", "limits.memory": "4Gi" },
            "used": { "pods": "3" } } });
        assert_eq!(
            row("resourcequotas", "", quota),
            json!([
                "q",
                "<unknown>",
                "pods: 3/10, requests.cpu: 0/2",
                "limits.memory: 0/4Gi"
            ])
        );
    }

    #[test]
    fn claims_secrets_and_events_have_their_own_columns() {
        let claims = find("", "v1", "persistentvolumeclaims").unwrap();
        let claim = json!({ "metadata": { "name": "c" }, "spec": { "volumeName": "pvc-1" },
            "status": { "phase": "Bound", "capacity": { "storage": "1Gi" },
                        "accessModes": ["ReadWriteOnce"] } });
        let row = &table(claims, &[&claim], 1, IncludeObject::None)["rows"][0]["cells"];
        assert_eq!(
            row,
            &json!(["c", "Bound", "pvc-1", "1Gi", "RWO", "<unknown>"])
        );
        let secrets = find("", "v1", "secrets").unwrap();
        let secret =
            json!({ "metadata": { "name": "s" }, "type": "Opaque", "data": { "a": "", "b": "" } });
        let row = &table(secrets, &[&secret], 1, IncludeObject::None)["rows"][0]["cells"];
        assert_eq!(row, &json!(["s", "Opaque", "2", "<unknown>"]));
        let events = find("", "v1", "events").unwrap();
        let event = json!({ "metadata": { "name": "e" }, "type": "Warning", "reason": "Failed",
            "message": "boom", "involvedObject": { "kind": "Pod", "name": "p" } });
        let table = table(events, &[&event], 1, IncludeObject::None);
        assert_eq!(table["columnDefinitions"][3]["name"], "Object");
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["<unknown>", "Warning", "Failed", "pod/p", "boom"])
        );
    }
}
