//! The kubelet against the real Docker engine, with a small in-memory [`PodHost`] standing in
//! for the API server. Each test runs its own kubelet instance (its own label), so the cases
//! run concurrently on the shared engine; only local images are used.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::query_parameters::ListContainersOptions;
use bollard::Docker;
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, ContainerStatus, Pod, PodSpec, PodStatus, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_sim::kubelet::{Kubelet, LogOptions, PodHost};
use serde_json::json;

const BUSYBOX: &str = "adze-test/busybox:latest";

/// The API server as the kubelet sees it: objects in maps, every status write recorded.
#[derive(Default)]
struct Host {
    config_maps: Mutex<HashMap<String, ConfigMap>>,
    secrets: Mutex<HashMap<String, Secret>>,
    claims: Mutex<HashMap<String, PathBuf>>,
    statuses: Mutex<HashMap<String, Vec<PodStatus>>>,
}

impl PodHost for Host {
    fn config_map(&self, _: &str, name: &str) -> Option<ConfigMap> {
        self.config_maps.lock().unwrap().get(name).cloned()
    }
    fn secret(&self, _: &str, name: &str) -> Option<Secret> {
        self.secrets.lock().unwrap().get(name).cloned()
    }
    fn claim_dir(&self, _: &str, claim: &str) -> Option<PathBuf> {
        self.claims.lock().unwrap().get(claim).cloned()
    }
    fn set_pod_status(&self, _: &str, name: &str, status: PodStatus) {
        self.statuses
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .push(status);
    }
}

impl Host {
    fn history(&self, pod: &str) -> Vec<PodStatus> {
        self.statuses
            .lock()
            .unwrap()
            .get(pod)
            .cloned()
            .unwrap_or_default()
    }

    fn phases(&self, pod: &str) -> Vec<String> {
        let mut phases: Vec<String> = Vec::new();
        for s in self.history(pod) {
            let p = s.phase.unwrap_or_default();
            if phases.last() != Some(&p) {
                phases.push(p);
            }
        }
        phases
    }
}

/// One test's kubelet, host and engine client.
struct Sim {
    kubelet: Kubelet,
    host: Arc<Host>,
    docker: Docker,
    instance: String,
}

async fn sim(test: &str) -> Sim {
    let docker = Docker::connect_with_defaults()
        .expect("a Docker engine (bash tests/setup-docker.sh)")
        .negotiate_version()
        .await
        .expect("the engine answers");
    let instance = format!("kubelet-test-{test}-{}", std::process::id());
    let host = Arc::new(Host::default());
    let state_dir = std::env::temp_dir().join(format!("kube-sim-{instance}"));
    let kubelet = Kubelet::new(docker.clone(), host.clone(), instance.clone(), state_dir);
    Sim {
        kubelet,
        host,
        docker,
        instance,
    }
}

impl Sim {
    /// Starts a Pod given as JSON (`metadata` filled in) and returns its name.
    fn start(&self, name: &str, spec: serde_json::Value) -> String {
        let spec: PodSpec = serde_json::from_value(spec).expect("a Pod spec");
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some("default".into()),
                uid: Some(format!("{}-{name}", self.instance)),
                labels: Some(BTreeMap::from([("app".into(), "demo".into())])),
                annotations: Some(BTreeMap::from([("note".into(), "x=\"y\"".into())])),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("kube-sim".into()),
                restart_policy: Some("Never".into()),
                ..spec
            }),
            ..Default::default()
        };
        self.kubelet.start_pod(pod);
        name.to_owned()
    }

    /// Polls the Pod's last status until `done` holds (or fails after `timeout`).
    async fn until(
        &self,
        pod: &str,
        timeout: Duration,
        done: impl Fn(&PodStatus) -> bool,
    ) -> PodStatus {
        let start = Instant::now();
        loop {
            if let Some(last) = self.host.history(pod).last() {
                if done(last) {
                    return last.clone();
                }
            }
            assert!(
                start.elapsed() < timeout,
                "pod {pod} never reached the expected status; last: {:#?}",
                self.host.history(pod).last()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finished(&self, pod: &str) -> PodStatus {
        self.until(pod, Duration::from_secs(60), |s| {
            matches!(s.phase.as_deref(), Some("Succeeded" | "Failed"))
        })
        .await
    }

    async fn log(&self, pod: &str, options: LogOptions) -> String {
        let mut stream = self
            .kubelet
            .logs("default", pod, options)
            .await
            .expect("a log");
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend(chunk.expect("log bytes"));
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    async fn containers(&self, label: &str) -> usize {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_owned(),
                vec![label.to_owned()],
            )])),
            ..Default::default()
        };
        self.docker
            .list_containers(Some(options))
            .await
            .expect("list")
            .len()
    }

    /// Removes everything this test started.
    async fn end(self) {
        self.kubelet.shutdown().await;
        assert_eq!(self.containers(&self.kubelet.instance_label()).await, 0);
    }
}

fn container(status: &PodStatus, name: &str) -> ContainerStatus {
    status
        .container_statuses
        .iter()
        .chain(status.init_container_statuses.iter())
        .flatten()
        .find(|c| c.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no status for container {name}: {status:#?}"))
}

fn terminated(status: &PodStatus, name: &str) -> (i32, String, Option<String>) {
    let c = container(status, name);
    let t = c
        .state
        .and_then(|s| s.terminated)
        .unwrap_or_else(|| panic!("{name} has not terminated: {status:#?}"));
    (t.exit_code, t.reason.unwrap_or_default(), t.message)
}

fn waiting(status: &PodStatus, name: &str) -> Option<(String, Option<String>)> {
    let w = container(status, name).state?.waiting?;
    Some((w.reason.unwrap_or_default(), w.message))
}

fn condition(status: &PodStatus, kind: &str) -> String {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == kind)
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

fn sh(name: &str, script: &str) -> serde_json::Value {
    json!({"name": name, "image": BUSYBOX, "command": ["sh", "-c", script]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_container_pod_succeeds_with_exit_code_and_termination_message() {
    let sim = sim("succeeds").await;
    let pod = sim.start(
        "hello",
        json!({"containers": [sh("main", "echo hello; printf 'all done' > /dev/termination-log")]}),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"));
    assert_eq!(sim.host.phases(&pod), ["Pending", "Running", "Succeeded"]);
    let (code, reason, message) = terminated(&status, "main");
    assert_eq!(
        (code, reason.as_str(), message.as_deref()),
        (0, "Completed", Some("all done"))
    );
    let main = container(&status, "main");
    assert!(
        main.container_id
            .as_deref()
            .unwrap_or_default()
            .starts_with("docker://"),
        "{main:?}"
    );
    assert!(main.image_id.starts_with("docker://sha256:"), "{main:?}");
    assert_eq!(main.image, BUSYBOX);
    assert_eq!(main.restart_count, 0);
    assert!(!main.ready);
    let t = main.state.unwrap().terminated.unwrap();
    assert!(t.started_at.is_some() && t.finished_at.is_some());
    assert!(
        status.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty()),
        "{status:?}"
    );
    assert!(status.host_ip.is_some() && status.start_time.is_some());
    assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
    assert_eq!(condition(&status, "PodScheduled"), "True");
    assert_eq!(condition(&status, "Initialized"), "True");
    assert_eq!(condition(&status, "Ready"), "False");
    let first = &sim.host.history(&pod)[0];
    assert_eq!(
        waiting(first, "main").map(|w| w.0).as_deref(),
        Some("ContainerCreating")
    );
    assert_eq!(sim.log(&pod, LogOptions::default()).await, "hello\n");
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_container_fails_the_pod_with_its_exit_code() {
    let sim = sim("fails").await;
    let pod = sim.start(
        "fails",
        json!({"containers": [
            sh("plain", "exit 3"),
            {"name": "fallback", "image": BUSYBOX, "command": ["sh", "-c", "echo first; echo last words >&2; exit 7"],
             "terminationMessagePolicy": "FallbackToLogsOnError"},
        ]}),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    assert_eq!(terminated(&status, "plain"), (3, "Error".into(), None));
    assert_eq!(
        terminated(&status, "fallback"),
        (7, "Error".into(), Some("first\nlast words\n".into()))
    );
    sim.end().await;
}
