//! kube-sim's own Node: the one node whose Pods its kubelet runs. Other Nodes (a seeded
//! cluster's workers) are objects like any other: stored as sent, with the status the test
//! writes, and their Pods are never run.
//!
//! # Design
//!
//! Scheduling is by name only: a Pod created without `spec.nodeName` is bound to the own node
//! (there is no scheduler: no resources, taints, affinity or `unschedulable` are considered),
//! and the kubelet takes exactly the Pods whose `spec.nodeName` is the own node's name. The
//! own Node object is registered once at start, Ready, with `nodeInfo` versions equal to the
//! server version then; nothing heartbeats it afterwards, so a test may rewrite its status.
//!
//! # Invariants
//!
//! - The kubelet never sees a Pod bound to another node, so it never writes such a Pod's
//!   status or starts its containers.

use serde_json::{json, Value};

use crate::cluster::{Cluster, Part, PatchKind};
use crate::version::ServerVersion;

/// The own node's name unless `--node-name` says otherwise.
pub const DEFAULT_NODE_NAME: &str = "kube-sim";

/// Whether the kubelet of node `node` runs `pod` (its `spec.nodeName` names that node).
pub fn runs_on(pod: &Value, node: &str) -> bool {
    pod["spec"]["nodeName"].as_str() == Some(node)
}

/// Whether `pod` has not been bound to a node yet.
pub fn unbound(pod: &Value) -> bool {
    pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty)
}

/// The own Node as registered at start (spec and metadata; the status is [`status`]).
pub fn object(name: &str) -> Value {
    json!({
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                // The API server runs here, so this node is the control plane.
                "node-role.kubernetes.io/control-plane": "",
            },
        },
        "spec": {},
    })
}

/// The own Node's status at start: Ready, reporting `version` for its kubelet and kube-proxy.
pub fn status(name: &str, version: ServerVersion, now: &str) -> Value {
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        })
    };
    let resources =
        json!({ "cpu": "2", "memory": "4Gi", "pods": "110", "ephemeral-storage": "20Gi" });
    json!({
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                      "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                      "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID",
                      "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [
            { "type": "InternalIP", "address": "127.0.0.1" },
            { "type": "Hostname", "address": name },
        ],
        "capacity": resources,
        "allocatable": resources,
        "daemonEndpoints": { "kubeletEndpoint": { "Port": 10250 } },
        "nodeInfo": {
            "machineID": "",
            "systemUUID": "",
            "bootID": "",
            "kernelVersion": "",
            "osImage": "kube-sim",
            "containerRuntimeVersion": "docker://kube-sim",
            "kubeletVersion": version.git_version(),
            "kubeProxyVersion": version.git_version(),
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    })
}

/// Registers the own Node (at start: the store holds no Node yet), Ready, at `version`.
pub fn register(cluster: &Cluster, version: ServerVersion) {
    let Some(nodes) = crate::resources::find("", "v1", "nodes") else {
        return;
    };
    let name = cluster.node_name.clone();
    // A fresh store has no Node, and the object is well-formed: neither call can fail.
    let _ = cluster.create(nodes, "", object(&name));
    let _ = cluster.patch(
        nodes,
        "",
        &name,
        PatchKind::Merge,
        json!({ "status": status(&name, version, &crate::store::now()) }),
        Part::Status,
        None,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_run_only_on_the_node_they_name() {
        let on = |node: Value| json!({ "spec": { "nodeName": node } });
        assert!(runs_on(&on(json!("kube-sim")), "kube-sim"));
        assert!(!runs_on(&on(json!("node-a")), "kube-sim"));
        assert!(!runs_on(&on(Value::Null), "kube-sim"));
        assert!(unbound(&on(Value::Null)));
        assert!(unbound(&on(json!(""))));
        assert!(!unbound(&on(json!("node-a"))));
    }

    #[test]
    fn the_own_node_reports_the_server_version_and_is_ready() {
        let status = status(
            "kube-sim",
            "1.29.4".parse().unwrap(),
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(status["nodeInfo"]["kubeletVersion"], "v1.29.4");
        assert_eq!(status["nodeInfo"]["kubeProxyVersion"], "v1.29.4");
        let ready = status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "True");
        assert_eq!(
            object("n")["metadata"]["labels"]["kubernetes.io/hostname"],
            "n"
        );
    }
}
