//! The real `kubectl` against kube-sim seeded as a small cluster, as the catalog's upgrade
//! and promotion pipelines see one: Nodes (cordon, uncordon, `kubectl get nodes`), a drain
//! that evicts through `pods/eviction` honouring a PodDisruptionBudget and times out when the
//! budget forbids, DaemonSet-owned Pods left in place, taints, the kinds a drift check compares
//! printed with kubectl's columns, `kubectl rollout status` on a Deployment whose status the
//! test writes, and `/version` changed while kube-sim runs. Pods here are bound to nodes no
//! kubelet runs (`--no-kubelet` besides), so their status is whatever the test writes.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{eventually, Sim};
use serde_json::Value;

/// The directory holding the shared kube-sim's audit log.
fn audit_dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
}

fn audit_log() -> PathBuf {
    audit_dir().path().join("audit.log")
}

fn sim() -> &'static Sim {
    let log = audit_log();
    Sim::shared(&[
        "--no-kubelet",
        "--server-version",
        "1.29.4",
        "--audit-log",
        log.to_str().expect("a UTF-8 path"),
    ])
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn uid(sim: &Sim, ns: &str, kind: &str, name: &str) -> String {
    sim.kubectl(&[
        "get",
        kind,
        name,
        "-n",
        ns,
        "-o",
        "jsonpath={.metadata.uid}",
    ])
}

/// Creates a Pod bound to `node`, controlled by `owner` (kind, name, uid), and marks it
/// Running and Ready through the status subresource, as a node's kubelet would.
fn ready_pod(sim: &Sim, ns: &str, name: &str, node: &str, app: &str, owner: (&str, &str, &str)) {
    let (kind, owner_name, owner_uid) = owner;
    sim.create(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  \
         labels: {{app: {app}}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: {kind}, \
         name: {owner_name}, uid: {owner_uid}, controller: true}}]\nspec:\n  nodeName: {node}\n  \
         volumes: [{{name: scratch, emptyDir: {{}}}}]\n  containers: [{{name: c, image: \
         registry.example/web:1, volumeMounts: [{{name: scratch, mountPath: /scratch}}]}}]\n"
    ));
    sim.kubectl(&[
        "patch",
        "pod",
        name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
    ]);
}

fn node(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{node-role.kubernetes.io/worker: ''}}}}\n"
    )
}

fn pods_on(sim: &Sim, node: &str) -> Vec<String> {
    let list = json(&sim.kubectl(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        &format!("spec.nodeName={node}"),
        "-o",
        "json",
    ]));
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn allowed_disruptions(sim: &Sim, ns: &str) -> String {
    sim.kubectl(&[
        "get",
        "pdb",
        "web",
        "-n",
        ns,
        "-o",
        "jsonpath={.status.disruptionsAllowed}",
    ])
}

#[test]
fn drain_evicts_while_the_budget_allows_and_times_out_when_it_does_not() {
    let sim = sim();
    let ns = sim.namespace("drain");
    sim.create(&format!(
        "{}---\n{}---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: web-7f9, namespace: {ns}}}\n\
         spec:\n  replicas: 3\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    \
         metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: registry.example/web:1}}]}}\n\
         ---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: {ns}}}\n\
         spec:\n  selector: {{matchLabels: {{app: agent}}}}\n  template:\n    \
         metadata: {{labels: {{app: agent}}}}\n    spec: {{containers: [{{name: c, image: registry.example/agent:1}}]}}\n\
         ---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: {ns}}}\n\
         spec: {{minAvailable: 1, selector: {{matchLabels: {{app: web}}}}}}\n",
        node("drain-a"),
        node("drain-b")
    ));
    let set = uid(sim, &ns, "replicaset", "web-7f9");
    let daemons = uid(sim, &ns, "daemonset", "agent");
    for (pod, node) in [
        ("web-1", "drain-a"),
        ("web-2", "drain-a"),
        ("web-3", "drain-b"),
    ] {
        ready_pod(sim, &ns, pod, node, "web", ("ReplicaSet", "web-7f9", &set));
    }
    ready_pod(
        sim,
        &ns,
        "agent-a",
        "drain-a",
        "agent",
        ("DaemonSet", "agent", &daemons),
    );
    // The disruption controller follows the Pods: 3 healthy, 1 needed, 2 may go.
    eventually(
        Duration::from_secs(5),
        "the budget counts 3 Ready Pods",
        || allowed_disruptions(sim, &ns) == "2",
    );
    let table = sim.kubectl(&["get", "pdb", "-n", &ns]);
    assert!(
        table.contains("ALLOWED DISRUPTIONS") && table.lines().nth(1).unwrap().contains(" 2 "),
        "{table}"
    );

    let drained = sim
        .kubectl_command(&[
            "drain",
            "drain-a",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=5s",
        ])
        .output()
        .expect("kubectl runs");
    let (out, err) = (
        String::from_utf8_lossy(&drained.stdout),
        String::from_utf8_lossy(&drained.stderr),
    );
    assert!(drained.status.success(), "{out}{err}");
    assert!(out.contains("node/drain-a cordoned"), "{out}");
    assert!(
        out.contains("pod/web-1 evicted") && out.contains("pod/web-2 evicted"),
        "{out}"
    );
    assert!(out.contains("node/drain-a drained"), "{out}");
    assert!(err.contains("ignoring DaemonSet-managed Pods"), "{err}");
    assert_eq!(pods_on(sim, "drain-a"), ["agent-a"]);
    let unschedulable = sim.kubectl(&[
        "get",
        "node",
        "drain-a",
        "-o",
        "jsonpath={.spec.unschedulable}",
    ]);
    assert_eq!(unschedulable, "true");
    eventually(Duration::from_secs(5), "the budget is spent", || {
        allowed_disruptions(sim, &ns) == "0"
    });

    // The last web Pod is the one the budget keeps: the eviction is refused until the timeout.
    let started = Instant::now();
    let refused = sim
        .kubectl_command(&[
            "drain",
            "drain-b",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=5s",
        ])
        .output()
        .expect("kubectl runs");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "error when evicting pods/\"web-3\" -n \"{ns}\" (will retry after 5s): Cannot evict \
             pod as it would violate the pod's disruption budget."
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "error when evicting pods/\"web-3\" -n \"{ns}\": global timeout reached: 5s"
        )),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(pods_on(sim, "drain-b"), ["web-3"]);

    // The audit log shows each eviction as the pods/eviction subresource, with its answer.
    let log = std::fs::read_to_string(audit_log()).unwrap();
    let evictions: Vec<(String, u64)> = log
        .lines()
        .map(json)
        .filter(|e| {
            e["objectRef"]["subresource"] == "eviction"
                && e["objectRef"]["namespace"] == ns.as_str()
        })
        .map(|e| {
            assert_eq!(e["verb"], "create");
            (
                e["objectRef"]["name"].as_str().unwrap().to_owned(),
                e["responseStatus"]["code"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(evictions.contains(&("web-1".into(), 201)), "{evictions:?}");
    assert!(evictions.contains(&("web-2".into(), 201)), "{evictions:?}");
    assert!(evictions.contains(&("web-3".into(), 429)), "{evictions:?}");
    assert!(
        !evictions.iter().any(|(pod, _)| pod == "agent-a"),
        "{evictions:?}"
    );
}

#[test]
fn cordon_uncordon_and_taint_show_in_get_nodes_beside_the_own_node() {
    let sim = sim();
    sim.create(&node("cordon-a"));
    assert_eq!(
        sim.kubectl(&["cordon", "cordon-a"]).trim(),
        "node/cordon-a cordoned"
    );
    let table = sim.kubectl(&["get", "nodes", "cordon-a", "--no-headers"]);
    assert!(table.contains("Unknown,SchedulingDisabled"), "{table}");
    assert!(table.contains("worker"), "{table}");
    assert_eq!(
        sim.kubectl(&["uncordon", "cordon-a"]).trim(),
        "node/cordon-a uncordoned"
    );
    let spec = json(&sim.kubectl(&["get", "node", "cordon-a", "-o", "json"]));
    assert!(spec["spec"].get("unschedulable").is_none(), "{spec}");
    // Taints are a whole list: kubectl taint sends every taint that stays.
    sim.kubectl(&["taint", "nodes", "cordon-a", "upgrade=pending:NoSchedule"]);
    sim.kubectl(&["taint", "nodes", "cordon-a", "pool=blue:NoExecute"]);
    sim.kubectl(&["taint", "nodes", "cordon-a", "upgrade=pending:NoSchedule-"]);
    let taints = json(&sim.kubectl(&["get", "node", "cordon-a", "-o", "jsonpath={.spec.taints}"]));
    assert_eq!(
        taints,
        serde_json::json!([{ "key": "pool", "value": "blue", "effect": "NoExecute" }])
    );

    // kube-sim's own node: Ready, its kubelet at the server's version.
    let own = sim.kubectl(&["get", "node", "kube-sim", "--no-headers"]);
    let cells: Vec<&str> = own.split_whitespace().collect();
    assert_eq!(
        (cells[0], cells[1], cells[2], cells[4]),
        ("kube-sim", "Ready", "control-plane", "v1.29.4"),
        "{own}"
    );
    let info = sim.kubectl(&[
        "get",
        "no",
        "kube-sim",
        "-o",
        "jsonpath={.status.nodeInfo.kubeProxyVersion}",
    ]);
    assert_eq!(info, "v1.29.4");
}

#[test]
fn policies_quotas_and_workloads_print_with_kubectls_columns() {
    let sim = sim();
    let ns = sim.namespace("drift");
    sim.create(&format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web-ingress, namespace: {ns}}}\n\
         spec: {{podSelector: {{matchLabels: {{app: web}}}}, policyTypes: [Ingress]}}\n---\n\
         apiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: compute, namespace: {ns}}}\n\
         spec: {{hard: {{requests.cpu: '4', limits.memory: 8Gi}}}}\n---\n\
         apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: {ns}}}\n\
         spec:\n  replicas: 2\n  serviceName: db\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    \
         metadata: {{labels: {{app: db}}}}\n    spec: {{containers: [{{name: c, image: registry.example/db:1}}]}}\n"
    ));
    // No quota controller: the test writes the status the quota controller would.
    sim.kubectl(&[
        "patch",
        "quota",
        "compute",
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"hard":{"requests.cpu":"4","limits.memory":"8Gi"},"used":{"requests.cpu":"500m"}}}"#,
    ]);
    let netpol = sim.kubectl(&["get", "netpol", "-n", &ns]);
    assert!(
        netpol.starts_with("NAME          POD-SELECTOR   AGE"),
        "{netpol}"
    );
    assert!(netpol.contains("web-ingress   app=web"), "{netpol}");
    let quota = sim.kubectl(&["get", "quota", "-n", &ns, "--no-headers"]);
    assert!(
        quota.contains("requests.cpu: 500m/4") && quota.contains("limits.memory: 0/8Gi"),
        "{quota}"
    );
    let sts = sim.kubectl(&["get", "sts", "-n", &ns, "--no-headers"]);
    let cells: Vec<&str> = sts.split_whitespace().collect();
    assert_eq!(cells[..2], ["db", "0/2"], "{sts}");
    let spec = sim.kubectl(&[
        "get",
        "networkpolicy",
        "web-ingress",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.policyTypes[0]}",
    ]);
    assert_eq!(spec, "Ingress");
}

#[test]
fn rollout_status_follows_the_deployment_status_the_test_writes() {
    let sim = sim();
    let ns = sim.namespace("rollout");
    sim.create(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\n\
         spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    \
         metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: registry.example/web:2}}]}}\n"
    ));
    // No Deployment controller: nothing observes the spec until the test says so.
    let stuck = sim.kubectl_fails(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        &ns,
        "--timeout=1s",
    ]);
    assert!(
        stuck.contains("timed out waiting for the condition"),
        "{stuck}"
    );

    let (mut watcher, lines) = sim.kubectl_lines(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        &ns,
        "--timeout=20s",
    ]);
    let status = |body: &str| {
        sim.kubectl(&[
            "patch",
            "deployment",
            "web",
            "-n",
            &ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            body,
        ]);
    };
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a progress line")
    };
    assert_eq!(
        next(),
        "Waiting for deployment spec update to be observed..."
    );
    status(
        r#"{"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1}}"#,
    );
    let first = next();
    assert_eq!(
        first,
        "Waiting for deployment \"web\" rollout to finish: 1 out of 2 new replicas have been updated..."
    );
    status(
        r#"{"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}}"#,
    );
    let mut seen = vec![first];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match lines.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => seen.push(line),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if watcher.try_wait().unwrap().is_some() {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let exit = watcher.wait().unwrap();
    assert!(exit.success(), "{seen:?}");
    assert_eq!(
        seen.last().map(String::as_str),
        Some("deployment \"web\" successfully rolled out"),
        "{seen:?}"
    );
    let table = sim.kubectl(&["get", "deploy", "web", "-n", &ns, "--no-headers"]);
    let cells: Vec<&str> = table.split_whitespace().collect();
    assert_eq!(cells[..4], ["web", "2/2", "2", "2"], "{table}");
}

#[test]
fn the_server_version_changes_while_kube_sim_runs() {
    let sim = Sim::start(&["--no-kubelet", "--server-version", "1.29.4"]);
    let version =
        |sim: &Sim| json(&sim.kubectl(&["version", "-o", "json"]))["serverVersion"].clone();
    let before = version(&sim);
    assert_eq!(
        (&before["major"], &before["minor"], &before["gitVersion"]),
        (&"1".into(), &"29".into(), &"v1.29.4".into())
    );
    // What a fake `kubeadm upgrade apply v1.30.2` does to the control plane.
    sim.kubectl(&[
        "-n",
        "kube-system",
        "patch",
        "configmap",
        "kube-sim-version",
        "--type=merge",
        "-p",
        r#"{"data":{"gitVersion":"v1.30.2"}}"#,
    ]);
    let after = version(&sim);
    assert_eq!(
        (&after["minor"], &after["gitVersion"]),
        (&"30".into(), &"v1.30.2".into())
    );
    let refused = sim.kubectl_fails(&[
        "-n",
        "kube-system",
        "patch",
        "configmap",
        "kube-sim-version",
        "--type=merge",
        "-p",
        r#"{"data":{"gitVersion":"latest"}}"#,
    ]);
    assert!(
        refused.contains("data.gitVersion: Invalid value"),
        "{refused}"
    );
    assert_eq!(version(&sim)["gitVersion"], "v1.30.2");
    // The own node's kubelet is not upgraded with the control plane.
    let kubelet = sim.kubectl(&[
        "get",
        "node",
        "kube-sim",
        "-o",
        "jsonpath={.status.nodeInfo.kubeletVersion}",
    ]);
    assert_eq!(kubelet, "v1.29.4");
}
