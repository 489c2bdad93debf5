//! Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for, with the
//! columns kubectl shows for each kind (NAME, READY, STATUS, RESTARTS, AGE for Pods; NAME,
//! SUCCEEDED, REASON, AGE for Tekton runs; NAME, AGE otherwise).
//!
//! # Design
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

fn age(object: &Value) -> String {
    let created = object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    match created {
        Some(created) => human_duration((chrono::Utc::now() - created.to_utc()).num_seconds()),
        None => "<unknown>".into(),
    }
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

fn column(name: &str, kind: &str, format: &str, description: &str, priority: i64) -> Value {
    json!({ "name": name, "type": kind, "format": format, "description": description,
            "priority": priority })
}

fn columns(resource: &ResourceDef) -> Vec<Value> {
    let name = column(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace.",
        0,
    );
    let age = column("Age", "string", "", "CreationTimestamp of the object.", 0);
    match (resource.group, resource.plural) {
        ("", "pods") => vec![
            name,
            column("Ready", "string", "", "The number of ready containers.", 0),
            column(
                "Status",
                "string",
                "",
                "The aggregate status of the containers.",
                0,
            ),
            column(
                "Restarts",
                "string",
                "",
                "The number of restarts of the containers.",
                0,
            ),
            age,
        ],
        ("tekton.dev", "taskruns" | "pipelineruns" | "customruns") => vec![
            name,
            column(
                "Succeeded",
                "string",
                "",
                "The Succeeded condition's status.",
                0,
            ),
            column(
                "Reason",
                "string",
                "",
                "The Succeeded condition's reason.",
                0,
            ),
            age,
        ],
        _ => vec![name, age],
    }
}

fn cells(resource: &ResourceDef, object: &Value) -> Vec<Value> {
    let name = json!(object["metadata"]["name"].as_str().unwrap_or_default());
    match (resource.group, resource.plural) {
        ("", "pods") => {
            let statuses = object["status"]["containerStatuses"].as_array();
            let ready = statuses.map_or(0, |s| s.iter().filter(|c| c["ready"] == true).count());
            let total = object["spec"]["containers"].as_array().map_or(0, Vec::len);
            let restarts: i64 = statuses
                .into_iter()
                .flatten()
                .filter_map(|c| c["restartCount"].as_i64())
                .sum();
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(object)),
                json!(restarts.to_string()),
                json!(age(object)),
            ]
        }
        ("tekton.dev", "taskruns" | "pipelineruns" | "customruns") => {
            let succeeded = object["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Succeeded"));
            let field = |f: &str| json!(succeeded.and_then(|c| c[f].as_str()).unwrap_or_default());
            vec![name, field("status"), field("reason"), json!(age(object))]
        }
        _ => vec![name, json!(age(object))],
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
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let carried = match include {
                IncludeObject::None => Value::Null,
                IncludeObject::Metadata => partial_metadata(object),
                IncludeObject::Object => (*object).clone(),
            };
            json!({ "cells": cells(resource, object), "object": carried })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": { "resourceVersion": rv.to_string() },
        "columnDefinitions": columns(resource),
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
}
