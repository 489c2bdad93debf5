//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for, with the
//! columns kubectl shows for each kind (NAME, READY, STATUS, RESTARTS, AGE for Pods; STATUS for
//! Namespaces; DATA for ConfigMaps and Secrets; STATUS, VOLUME, CAPACITY, ACCESS MODES for
//! claims; LAST SEEN, TYPE, REASON, OBJECT, MESSAGE for core Events; SUCCEEDED and REASON for
//! Tekton runs; NAME, AGE otherwise).
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
        _ => vec![NAME, AGE],
    }
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
