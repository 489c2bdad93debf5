//! `pipelines/cluster-upgrade` end to end: local runs (Docker executor) against a kube-sim
//! seeded as a kubeadm cluster (control-plane static Pods on cp-1, two worker nodes, a
//! replicated web workload with a PodDisruptionBudget). kubectl in the tasks talks to kube-sim
//! for real (cordon, drain with evictions, PDBs); `kubeadm` and `etcdctl` are the recording
//! fakes, whose handlers do to kube-sim what the real tools would do to a cluster: `kubeadm
//! upgrade apply` moves the API server and the control-plane Pods to the new version,
//! `kubeadm upgrade node` moves that node's kubelet.
//!
//! Orders are asserted on one timeline: the fake's calls merged with kube-sim's audit log
//! (cordons and uncordons are `patch nodes`, evictions `create pods/eviction`).
//!
//! A stand-in for the ReplicaSet controller and scheduler ([`Rescheduler`]) recreates each
//! evicted web Pod on a schedulable node, as a healthy cluster would, so budgets recover
//! between drains; the PDB scenario runs without it (the replacement cannot be placed), so
//! the budget blocks the drain until the timeout.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use serde_json::{json, Value};

use crate::fake_server::{FakeServer, Recorder, ToolCall, ToolReply, Tools};
use crate::harness::{
    self, assert_in_order, numbered, timeline, AuditEvent, Cluster, PipelineRunDoc, RunOutcome,
};

/// The control-plane components kubeadm runs as static Pods on cp-1.
const COMPONENTS: [&str; 3] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
];

/// `apiserver_requested_deprecated_apis` as an API server exposes it: one deprecated API in
/// use, removed in 1.32 (after the upgrades the scenarios make).
const DEPRECATED_API_METRICS: &str = "\
# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group=\"flowcontrol.apiserver.k8s.io\",removed_release=\"1.32\",resource=\"flowschemas\",subresource=\"\",version=\"v1beta3\"} 1
";

/// A fixture file of this pipeline's.
fn fixture(name: &str) -> String {
    let path = harness::repo()
        .join("tests/catalog/fixtures/cluster-upgrade")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// What the seeded cluster runs.
struct ClusterSpec {
    /// The control plane's version (`v1.29.4`): API server, static Pods, kube-proxy.
    control_plane: &'static str,
    /// Each node's kubelet version: cp-1, node-a, node-b.
    kubelets: [&'static str; 3],
    /// The web Pods and their nodes.
    web: &'static [(&'static str, &'static str)],
}

/// The cluster's objects, with the status their controllers would have written.
fn cluster_yaml(spec: &ClusterSpec) -> String {
    let cp = spec.control_plane;
    let mut docs = Vec::new();
    for (node, kubelet) in ["cp-1", "node-a", "node-b"].iter().zip(spec.kubelets) {
        let control_plane = *node == "cp-1";
        let mut labels = json!({ "kubernetes.io/hostname": node, "kubernetes.io/os": "linux" });
        let mut node_spec = json!({});
        if control_plane {
            labels["node-role.kubernetes.io/control-plane"] = json!("");
            node_spec["taints"] = json!([{
                "key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"
            }]);
        } else {
            labels["pool"] = json!("workers");
        }
        docs.push(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": { "name": node, "labels": labels },
            "spec": node_spec,
            "status": {
                "nodeInfo": {
                    "kubeletVersion": kubelet, "kubeProxyVersion": kubelet,
                    "containerRuntimeVersion": "containerd://1.7.13",
                    "osImage": "Debian GNU/Linux 12 (bookworm)", "operatingSystem": "linux",
                    "architecture": "amd64", "kernelVersion": "6.1.0-18-amd64",
                    "machineID": "", "systemUUID": "", "bootID": "",
                },
                "conditions": [{
                    "type": "Ready", "status": "True", "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }],
            },
        }));
    }
    let running = json!({
        "phase": "Running",
        "conditions": [{ "type": "Ready", "status": "True" }],
    });
    // kubeadm's static Pods: mirror Pods (kubectl drain leaves them), owned by their Node.
    for component in COMPONENTS {
        docs.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": format!("{component}-cp-1"), "namespace": "kube-system",
                "labels": { "component": component, "tier": "control-plane" },
                "annotations": { "kubernetes.io/config.mirror": "3f0e5c1a" },
            },
            "spec": {
                "nodeName": "cp-1",
                "containers": [{
                    "name": component,
                    "image": format!("registry.k8s.io/{component}:{cp}"),
                    "command": [component],
                }],
            },
            "status": running,
        }));
    }
    docs.push(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "etcd-cp-1", "namespace": "kube-system",
            "labels": { "component": "etcd", "tier": "control-plane" },
            "annotations": { "kubernetes.io/config.mirror": "9b2d4e77" },
        },
        "spec": {
            "nodeName": "cp-1",
            "containers": [{
                "name": "etcd", "image": "registry.k8s.io/etcd:3.5.12-0",
                "command": ["etcd", "--advertise-client-urls=https://10.0.0.10:2379",
                            "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.10:2379"],
            }],
        },
        "status": running,
    }));
    // kube-proxy: a DaemonSet's Pod on every node (kubectl drain leaves them, after checking
    // that their DaemonSet exists).
    docs.push(json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": { "name": "kube-proxy", "namespace": "kube-system" },
        "spec": {
            "selector": { "matchLabels": { "k8s-app": "kube-proxy" } },
            "template": {
                "metadata": { "labels": { "k8s-app": "kube-proxy" } },
                "spec": { "containers": [{
                    "name": "kube-proxy", "image": format!("registry.k8s.io/kube-proxy:{cp}"),
                }] },
            },
        },
    }));
    for node in ["cp-1", "node-a", "node-b"] {
        docs.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": format!("kube-proxy-{node}"), "namespace": "kube-system",
                "labels": { "k8s-app": "kube-proxy" },
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "kube-proxy",
                    "controller": true,
                }],
            },
            "spec": {
                "nodeName": node,
                "containers": [{
                    "name": "kube-proxy", "image": format!("registry.k8s.io/kube-proxy:{cp}"),
                }],
            },
            "status": running,
        }));
    }
    docs.push(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": "kubeadm-config", "namespace": "kube-system" },
        "data": { "ClusterConfiguration": format!(
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: {cp}\ncontrolPlaneEndpoint: 10.0.0.10:6443\n") },
    }));
    // The API server's metrics (kube-sim serves this ConfigMap at /metrics): a client still
    // lists FlowSchemas through flowcontrol.apiserver.k8s.io/v1beta3, which 1.32 removes.
    docs.push(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": { "name": "kube-sim-metrics", "namespace": "kube-system" },
        "data": { "metrics": DEPRECATED_API_METRICS },
    }));
    docs.push(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "shop" } }));
    docs.push(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "web", "namespace": "shop" },
        "spec": {
            "replicas": spec.web.len(),
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [{ "name": "web", "image": "nginx:1.27" }] },
            },
        },
    }));
    docs.push(json!({
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": { "name": "web", "namespace": "shop" },
        "spec": { "minAvailable": 1, "selector": { "matchLabels": { "app": "web" } } },
    }));
    for (pod, node) in spec.web {
        docs.push(web_pod(pod, node, None));
    }
    docs.iter()
        .map(|d| serde_yaml_ng::to_string(d).expect("render a seed document"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// A web Pod on `node`, owned by Deployment shop/web (its uid resolved by `Cluster::seed`
/// when `owner_uid` is `None`), Running and Ready.
fn web_pod(name: &str, node: &str, owner_uid: Option<&str>) -> Value {
    let mut owner = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": true,
    });
    if let Some(uid) = owner_uid {
        owner["uid"] = json!(uid);
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "shop", "labels": { "app": "web" },
            "ownerReferences": [owner],
        },
        "spec": {
            "nodeName": node,
            "containers": [{ "name": "web", "image": "nginx:1.27" }],
        },
        "status": {
            "phase": "Running",
            "conditions": [{ "type": "Ready", "status": "True" }],
        },
    })
}

/// The API server's version as kube-sim reports it (`v1.30.6`).
fn server_version(cluster: &Cluster) -> String {
    let version: Value = serde_json::from_str(&cluster.kubectl(&["get", "--raw", "/version"]))
        .expect("kube-sim's /version is JSON");
    version["gitVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Makes kube-sim report `version` (`v1.30.6`) from now on, as a replaced API server would:
/// kube-sim serves `/version` from the ConfigMap kube-system/kube-sim-version.
fn set_server_version(cluster: &Cluster, version: &str) {
    let body = json!({ "data": { "gitVersion": version } }).to_string();
    cluster.kubectl(&[
        "patch",
        "-n",
        "kube-system",
        "configmap/kube-sim-version",
        "--type=merge",
        "-p",
        &body,
    ]);
}

/// What a real `kubeadm upgrade apply vX` leaves behind: the API server reports vX, the
/// control-plane static Pods and the kube-proxy DaemonSet's Pods run vX images.
fn upgrade_control_plane(cluster: &Cluster, node: &str, version: &str) {
    for component in COMPONENTS {
        cluster.kubectl(&[
            "set",
            "image",
            "-n",
            "kube-system",
            &format!("pod/{component}-{node}"),
            &format!("{component}=registry.k8s.io/{component}:{version}"),
        ]);
    }
    cluster.kubectl(&[
        "set",
        "image",
        "-n",
        "kube-system",
        "pods",
        "-l",
        "k8s-app=kube-proxy",
        &format!("kube-proxy=registry.k8s.io/kube-proxy:{version}"),
    ]);
    set_server_version(cluster, version);
}

/// The recording fakes' answers: kubeadm (plan, apply, node) and etcdctl (snapshot save and
/// status), acting on kube-sim as the real tools act on a cluster; anything else fails.
fn tools(cluster: Arc<Cluster>, recorder: Recorder) -> Tools {
    Arc::new(move |call: &ToolCall| {
        let argv: Vec<&str> = call.argv.iter().map(String::as_str).collect();
        let node = call.env.get("NODE_NAME").cloned().unwrap_or_default();
        match (call.tool.as_str(), argv.as_slice()) {
            ("kubeadm", ["upgrade", "plan", target]) => ToolReply::ok(
                fixture("kubeadm-upgrade-plan.txt")
                    .replace("{current}", &server_version(&cluster))
                    .replace("{target}", target),
            ),
            ("kubeadm", ["upgrade", "apply", target, "--yes"]) => {
                upgrade_control_plane(&cluster, &node, target);
                recorder.record(format!("control plane on {node} now {target}"));
                ToolReply::ok(fixture("kubeadm-upgrade-apply.txt").replace("{target}", target))
            }
            ("kubeadm", ["upgrade", "node"]) => {
                // The node's kubelet package and restart, in the same call (the task's
                // kubeletUpgradeCommand is empty here): the kubelet reports the server's version.
                let version = server_version(&cluster);
                let status = json!({ "status": { "nodeInfo": {
                    "kubeletVersion": version, "kubeProxyVersion": version } } })
                .to_string();
                cluster.kubectl(&[
                    "patch",
                    &format!("node/{node}"),
                    "--subresource=status",
                    "--type=merge",
                    "-p",
                    &status,
                ]);
                recorder.record(format!("node {node} now {version}"));
                ToolReply::ok(fixture("kubeadm-upgrade-node.txt"))
            }
            ("etcdctl", [.., "snapshot", "save", file]) => {
                ToolReply::ok(fixture("etcdctl-snapshot-save.txt").replace("{file}", file))
            }
            ("etcdctl", [.., "snapshot", "status", _]) => {
                ToolReply::ok(fixture("etcdctl-snapshot-status.txt"))
            }
            _ => ToolReply::fail(
                64,
                format!(
                    "the test's fake {} has no answer for: {}\n",
                    call.tool,
                    call.args()
                ),
            ),
        }
    })
}

/// The ReplicaSet controller and scheduler of a healthy cluster, reduced to what a drain
/// needs: each successful eviction of a web Pod (read from the audit log) is followed by a
/// Ready replacement on the schedulable node with the fewest web Pods.
struct Rescheduler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Rescheduler {
    fn start(cluster: Arc<Cluster>) -> Rescheduler {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let owner = cluster.get(Some("shop"), "deployment/web")["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let mut seen = 0;
            let mut made = 0;
            while !stopping.load(Ordering::Relaxed) {
                let evictions = cluster
                    .audit()
                    .into_iter()
                    .filter(|e| {
                        e.verb == "create"
                            && e.resource == "pods/eviction"
                            && e.namespace == "shop"
                            && (200..300).contains(&e.code)
                    })
                    .count();
                while seen < evictions {
                    seen += 1;
                    made += 1;
                    if let Some(node) = least_loaded_node(&cluster) {
                        place(
                            &cluster,
                            &web_pod(&format!("web-r{made}"), &node, Some(&owner)),
                        );
                    }
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Rescheduler {
            stop,
            thread: Some(thread),
        }
    }
}

/// Creates a replacement Pod, then makes it Ready as its kubelet would. A drain of the node
/// it landed on may evict it in between (as on a cluster); that eviction shows in the audit
/// log, so the next pass places another, and the status write that finds it gone is not an
/// error.
fn place(cluster: &Cluster, pod: &Value) {
    let mut spec = pod.clone();
    let status = spec
        .as_object_mut()
        .and_then(|o| o.remove("status"))
        .unwrap_or(Value::Null);
    let file = cluster.write(
        &format!("{}.json", pod["metadata"]["name"].as_str().unwrap_or("pod")),
        &spec.to_string(),
    );
    let file = file.to_str().expect("UTF-8 path");
    if cluster
        .sim
        .try_kubectl(&["create", "--validate=false", "-f", file])
        .is_err()
    {
        return;
    }
    if status.is_null() {
        return;
    }
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or("default");
    let body = json!({ "status": status }).to_string();
    let _ = cluster.sim.try_kubectl(&[
        "patch",
        &format!("pod/{name}"),
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        &body,
    ]);
}

impl Drop for Rescheduler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The Ready, schedulable, untainted node with the fewest web Pods.
fn least_loaded_node(cluster: &Cluster) -> Option<String> {
    let nodes: Value =
        serde_json::from_str(&cluster.kubectl(&["get", "nodes", "-o", "json"])).ok()?;
    let pods: Value =
        serde_json::from_str(&cluster.kubectl(&["get", "pods", "-n", "shop", "-o", "json"]))
            .ok()?;
    let load = |node: &str| {
        pods["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["spec"]["nodeName"] == node)
            .count()
    };
    nodes["items"]
        .as_array()?
        .iter()
        .filter(|n| n["spec"]["unschedulable"] != true)
        .filter(|n| n["spec"]["taints"].as_array().is_none_or(|t| t.is_empty()))
        .filter(|n| {
            n["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
        .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_owned))
        .min_by_key(|n| (load(n), n.clone()))
}

/// One scenario: its kube-sim, its fake server, a directory for its files.
struct Scenario {
    cluster: Arc<Cluster>,
    fakes: FakeServer,
    dir: tempfile::TempDir,
}

impl Scenario {
    fn start(spec: &ClusterSpec) -> Scenario {
        let version = spec.control_plane.trim_start_matches('v');
        let cluster = Arc::new(Cluster::start(&["--server-version", version]));
        // kube-sim registers the node its kubelet runs Pods on; this cluster's nodes are the
        // seeded ones (the runs' containers are local, not Pods on that node).
        cluster.kubectl(&["delete", "node", "kube-sim"]);
        cluster.seed(&cluster_yaml(spec));
        let recorder = Recorder::default();
        let fakes = FakeServer::start(
            recorder.clone(),
            tools(cluster.clone(), recorder),
            Router::new(),
        );
        Scenario {
            cluster,
            fakes,
            dir: tempfile::tempdir().expect("a directory"),
        }
    }

    /// A run of cluster-upgrade to `target` with short timeouts, the test images, kube-sim's
    /// kubeconfig and the fake server.
    fn pipeline_run(&self, name: &str, target: &str, steps: &[&str]) -> PipelineRunDoc {
        PipelineRunDoc::new(name, "cluster-upgrade")
            .param("targetVersion", target)
            .param("stepVersions", json!(steps))
            .param("drainTimeout", "15s")
            .param("nodeUpgradeTimeout", "30")
            .param("verifyTimeout", "30")
            .test_images()
            .secret_workspace("kubeconfig", "kube-sim")
            .empty_dir_workspace("backup")
            .fake_url(&self.fakes.url)
    }

    /// Runs `run` with `adze run` (with the kubeconfig Secret beside it).
    fn run(&self, run: &PipelineRunDoc, name: &str) -> RunOutcome {
        let file: PathBuf = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &file,
            format!(
                "{}---\n{}",
                run.to_yaml(),
                self.cluster.kubeconfig_secret("kube-sim")
            ),
        )
        .expect("write the run");
        harness::run_pipeline(&[file], &[], &[])
    }

    /// The fakes' calls and the tasks' cordons, uncordons and evictions after `since`, in
    /// time order.
    fn operations(&self, since: u64) -> Vec<String> {
        let audit = self.cluster.audit();
        timeline(&self.fakes.recorder, &audit, |e: &AuditEvent| {
            e.micros >= since
                && e.user_agent.starts_with("kubectl")
                && (200..300).contains(&e.code)
                && ((e.verb == "patch" && e.resource == "nodes")
                    || (e.verb == "create" && e.resource == "pods/eviction"))
        })
    }

    /// A node's kubelet version and whether it is cordoned.
    fn node(&self, name: &str) -> (String, bool) {
        let node = self.cluster.get(None, &format!("node/{name}"));
        (
            node["status"]["nodeInfo"]["kubeletVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            node["spec"]["unschedulable"] == true,
        )
    }
}

/// Microseconds since the Unix epoch, now.
fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// What one node's upgrade looks like on the timeline, in order: cordon, evictions (if it
/// runs web Pods), the kubelet upgrade, uncordon.
fn node_upgrade(node: &str, version: &str) -> [String; 3] {
    [
        format!("patch nodes {node}"),
        format!("node {node} now {version}"),
        format!("patch nodes {node}"),
    ]
}

#[test]
fn a_healthy_cluster_goes_from_1_29_to_1_31_one_minor_per_run_control_plane_first() {
    let scenario = Scenario::start(&ClusterSpec {
        control_plane: "v1.29.4",
        kubelets: ["v1.29.4", "v1.29.4", "v1.29.4"],
        web: &[("web-1", "node-a"), ("web-2", "node-b")],
    });
    let _rescheduler = Rescheduler::start(scenario.cluster.clone());
    let start = now_micros();

    let first = scenario.run(
        &scenario.pipeline_run("to-1-30", "1.31.2", &["1.30.6"]),
        "to-1-30",
    );
    assert_eq!(first.code, Some(0), "{}", harness::explain(&first));
    let results = harness::results(&first);
    assert_eq!(results["upgradedTo"], "1.30.6", "{results:?}");
    assert_eq!(results["complete"], "false", "{results:?}");
    assert_eq!(results["steps"], json!(["1.30", "1.31"]), "{results:?}");
    assert_eq!(
        results["upgradedNodes"], "cp-1,node-a,node-b",
        "{results:?}"
    );

    let second = scenario.run(
        &scenario.pipeline_run("to-1-31", "1.31.2", &["1.30.6"]),
        "to-1-31",
    );
    assert_eq!(second.code, Some(0), "{}", harness::explain(&second));
    let results = harness::results(&second);
    assert_eq!(results["upgradedTo"], "1.31.2", "{results:?}");
    assert_eq!(results["complete"], "true", "{results:?}");

    let ops = scenario.operations(start);
    let step = |version: &str| -> Vec<String> {
        let mut wanted = vec![
            "etcdctl --endpoints https://10.0.0.10:2379 snapshot save".to_owned(),
            format!("kubeadm upgrade plan v{version}"),
            format!("kubeadm upgrade apply v{version} --yes"),
            format!("control plane on cp-1 now v{version}"),
        ];
        for node in ["cp-1", "node-a", "node-b"] {
            wanted.extend(node_upgrade(node, &format!("v{version}")));
        }
        wanted
    };
    let mut wanted = step("1.30.6");
    wanted.extend(step("1.31.2"));
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    assert_in_order(&ops, &wanted);

    // Per step: nothing touches a node between the etcd snapshot and the control plane's
    // upgrade; then each node's cordon .. uncordon holds its own upgrade and no other node's
    // (one node at a time).
    for version in ["v1.30.6", "v1.31.2"] {
        let apply = harness::position(&ops, &format!("kubeadm upgrade apply {version}"));
        let snapshot = ops[..apply]
            .iter()
            .rposition(|e| e.contains("snapshot save"))
            .unwrap_or_else(|| panic!("no etcd snapshot before {version}:\n{}", numbered(&ops)));
        assert!(
            ops[snapshot..apply]
                .iter()
                .all(|e| !e.starts_with("patch nodes") && !e.starts_with("create pods/eviction")),
            "a node was touched before the control plane reached {version}:\n{}",
            numbered(&ops)
        );
        let end = ops[apply..]
            .iter()
            .position(|e| e.contains("snapshot save"))
            .map_or(ops.len(), |i| apply + i);
        let step = &ops[apply..end];
        let cordons: Vec<usize> = step
            .iter()
            .enumerate()
            .filter(|(_, e)| e.starts_with("patch nodes"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            cordons.len(),
            6,
            "3 cordons and 3 uncordons:\n{}",
            numbered(step)
        );
        for pair in cordons.chunks(2) {
            let (cordon, uncordon) = (pair[0], pair[1]);
            assert_eq!(step[cordon], step[uncordon], "{}", numbered(step));
            let node = step[cordon].trim_start_matches("patch nodes ");
            let inside = &step[cordon..=uncordon];
            assert!(
                inside.contains(&format!("node {node} now {version}")),
                "{node} was not upgraded while cordoned:\n{}",
                numbered(step)
            );
            assert!(
                inside
                    .iter()
                    .filter(|e| e.starts_with("node ") || e.starts_with("create pods/eviction"))
                    .all(|e| e.starts_with(&format!("node {node} "))
                        || e.starts_with("create pods/eviction")),
                "another node was upgraded while {node} was out:\n{}",
                numbered(step)
            );
        }
    }
    // The web Pods were evicted (never deleted) from node-a and node-b in both steps.
    let evictions = ops
        .iter()
        .filter(|e| e.starts_with("create pods/eviction shop/"))
        .count();
    assert!(evictions >= 4, "{}", numbered(&ops));

    assert_eq!(server_version(&scenario.cluster), "v1.31.2");
    for node in ["cp-1", "node-a", "node-b"] {
        assert_eq!(scenario.node(node), ("v1.31.2".into(), false), "{node}");
    }
}

#[test]
fn a_skew_violation_stops_the_upgrade_before_any_change() {
    // node-b's kubelet is 4 minors behind the API server: outside the policy.
    let scenario = Scenario::start(&ClusterSpec {
        control_plane: "v1.29.4",
        kubelets: ["v1.29.4", "v1.29.4", "v1.25.9"],
        web: &[("web-1", "node-a"), ("web-2", "node-b")],
    });
    let start = now_micros();
    let outcome = scenario.run(&scenario.pipeline_run("skewed", "1.30.6", &[]), "skewed");
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    let (status, _, _) = harness::condition(&outcome);
    assert_eq!(status, "False");
    // The reason, in the skew check's log: the kubelet and its version.
    assert!(
        outcome.stderr.contains("1.25.9")
            && outcome.stderr.contains("breaks the version skew policy"),
        "{}",
        harness::explain(&outcome)
    );
    // Nothing ran after the check, and nothing was changed.
    assert!(
        scenario.fakes.recorder.events().is_empty(),
        "{:?}",
        scenario.fakes.recorder.events()
    );
    let writes: Vec<String> = scenario
        .cluster
        .audit()
        .iter()
        .filter(|e| e.micros >= start && e.is_write())
        .map(AuditEvent::line)
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    for task in ["plan", "preflight", "control-plane", "node-pool"] {
        assert!(
            !outcome.stderr.contains(&format!("▸ {task} started")),
            "{task} ran:\n{}",
            outcome.stderr
        );
    }
}

#[test]
fn a_disruption_budget_blocks_the_drain_until_the_timeout_and_later_nodes_are_untouched() {
    // The control plane is at 1.30 already and the nodes catch up. Both web Pods are on
    // node-a and nothing can replace them: the budget (minAvailable 1) lets one go, then
    // holds the other.
    let scenario = Scenario::start(&ClusterSpec {
        control_plane: "v1.30.6",
        kubelets: ["v1.30.6", "v1.29.4", "v1.29.4"],
        web: &[("web-1", "node-a"), ("web-2", "node-a")],
    });
    let start = now_micros();
    let outcome = scenario.run(
        &scenario
            .pipeline_run("blocked", "1.30.6", &[])
            .param("drainTimeout", "8s"),
        "blocked",
    );
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    assert!(
        outcome
            .stderr
            .contains("Draining node-a did not finish within 8s")
            && outcome.stderr.contains("PodDisruptionBudget shop/web"),
        "{}",
        harness::explain(&outcome)
    );
    let ops = scenario.operations(start);
    assert_in_order(
        &ops,
        &["patch nodes node-a", "create pods/eviction shop/web-"],
    );
    // node-a stays cordoned at 1.29; node-b was never touched; the control plane was not
    // upgraded again (it is at the version), cp-1's kubelet was already there.
    assert!(
        !ops.iter()
            .any(|e| e.contains("node-b") || e.starts_with("kubeadm")),
        "{}",
        numbered(&ops)
    );
    assert_eq!(scenario.node("node-a"), ("v1.29.4".into(), true));
    assert_eq!(scenario.node("node-b"), ("v1.29.4".into(), false));
    let left: Vec<String> = scenario
        .cluster
        .kubectl(&["get", "pods", "-n", "shop", "-o", "name"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        left.len(),
        1,
        "one web Pod is left, held by the budget: {left:?}"
    );
}

#[test]
fn under_adze_controller_the_service_account_and_roles_of_rbac_yaml_suffice() {
    let scenario = Scenario::start(&ClusterSpec {
        control_plane: "v1.29.4",
        kubelets: ["v1.29.4", "v1.29.4", "v1.29.4"],
        web: &[("web-1", "node-a"), ("web-2", "node-b")],
    });
    let cluster = &scenario.cluster;
    cluster.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: cluster-ops}\n");
    let rbac = harness::rbac_yaml("cluster-upgrade");
    cluster.apply(&rbac);
    harness::install_catalog(cluster, "cluster-ops");
    let _rescheduler = Rescheduler::start(scenario.cluster.clone());
    // In the cluster: no kubeconfig workspace, the ServiceAccount's token instead.
    let run = PipelineRunDoc::new("in-cluster", "cluster-upgrade")
        .label("adze.dev/controller", "true")
        .service_account("cluster-upgrade")
        .param("targetVersion", "1.30.6")
        .param("drainTimeout", "20s")
        .param("nodeUpgradeTimeout", "30")
        .param("verifyTimeout", "30")
        .test_images()
        .empty_dir_workspace("backup")
        .fake_url(&scenario.fakes.url);
    let controller = harness::start_controller(cluster, "cluster-ops");
    let start = now_micros();
    let finished = harness::create_and_wait(
        cluster,
        "cluster-ops",
        &run,
        Duration::from_secs(240),
        &controller,
    );
    let sa = "system:serviceaccount:cluster-ops:cluster-upgrade";
    let audit = cluster.audit();
    let denied = harness::denied(&audit, sa);
    assert!(denied.is_empty(), "rbac.yaml does not allow: {denied:?}");
    let condition = &finished["status"]["conditions"][0];
    assert_eq!(
        condition["status"],
        "True",
        "{}\ncontroller:\n{}",
        finished["status"],
        controller.stderr()
    );
    // The tasks' requests went out as the ServiceAccount, and used every rule it is granted.
    let used = harness::requests_of(&audit, sa, start);
    let granted = crate::common::rbac_rules::granted_by_yaml(&rbac);
    let unused: Vec<_> = granted.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "rbac.yaml grants what no task used: {unused:?}\nused: {used:?}"
    );
    let ungranted: Vec<_> = used.difference(&granted).collect();
    assert!(
        ungranted.is_empty(),
        "used but not granted (and not denied?): {ungranted:?}"
    );
    let ops = scenario.operations(start);
    assert_in_order(
        &ops,
        &[
            "kubeadm upgrade apply v1.30.6 --yes",
            "patch nodes cp-1",
            "node cp-1 now v1.30.6",
            "patch nodes node-a",
            "node node-a now v1.30.6",
            "patch nodes node-b",
            "node node-b now v1.30.6",
        ],
    );
}

#[test]
fn preflight_stops_on_clients_of_apis_the_target_release_removes() {
    // The cluster at 1.31 is about to go to 1.32, which stops serving flowcontrol v1beta3.
    let scenario = Scenario::start(&ClusterSpec {
        control_plane: "v1.31.2",
        kubelets: ["v1.31.2", "v1.31.2", "v1.31.2"],
        web: &[("web-1", "node-a"), ("web-2", "node-b")],
    });
    let run = format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: preflight-1-32}}
spec:
  taskRef: {{name: kube-upgrade-preflight}}
  params:
  - {{name: version, value: 1.32.0}}
  - {{name: toolsImage, value: {tools}}}
  workspaces:
  - {{name: kubeconfig, secret: {{secretName: kube-sim}}}}
  - {{name: backup, emptyDir: {{}}}}
  podTemplate:
    hostNetwork: true
    env: [{{name: ADZE_FAKE_URL, value: "{url}"}}]
---
{secret}"#,
        tools = harness::TOOLS_IMAGE,
        url = scenario.fakes.url,
        secret = scenario.cluster.kubeconfig_secret("kube-sim"),
    );
    let file = scenario.dir.path().join("preflight.yaml");
    std::fs::write(&file, run).expect("write the run");
    let outcome = harness::run_pipeline(&[file], &[], &[]);
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    assert!(
        outcome.stderr.contains(
            "clients still call flowcontrol.apiserver.k8s.io/v1beta3 flowschemas, which Kubernetes 1.32 removes"
        ),
        "{}",
        harness::explain(&outcome)
    );
    // It stopped there: no etcd snapshot was taken.
    assert!(
        scenario.fakes.recorder.events().is_empty(),
        "{:?}",
        scenario.fakes.recorder.events()
    );
}
