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
const DEBIAN: &str = "adze-test/debian:bookworm";

/// The API server as the kubelet sees it: objects in maps, every status write recorded.
#[derive(Default)]
struct Host {
    config_maps: Mutex<HashMap<String, ConfigMap>>,
    secrets: Mutex<HashMap<String, Secret>>,
    claims: Mutex<HashMap<String, PathBuf>>,
    statuses: Mutex<HashMap<String, Vec<PodStatus>>>,
    pods: Mutex<HashMap<String, Pod>>,
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
    fn pod(&self, _: &str, name: &str) -> Option<Pod> {
        self.pods.lock().unwrap().get(name).cloned()
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
    state_dir: PathBuf,
    /// Set once [`Sim::end`] checked that nothing is left.
    ended: bool,
}

impl Drop for Sim {
    /// A failed assertion skips [`Sim::end`]: the instance's containers are removed here, on
    /// a fresh runtime (the test's own is unwinding).
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state_dir);
        if self.ended {
            return;
        }
        let label = self.kubelet.instance_label();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime");
            runtime.block_on(async {
                let docker = Docker::connect_with_defaults().expect("an engine");
                let docker = docker
                    .negotiate_version()
                    .await
                    .expect("the engine answers");
                let options = ListContainersOptions {
                    all: true,
                    filters: Some(HashMap::from([("label".to_owned(), vec![label])])),
                    ..Default::default()
                };
                for c in docker
                    .list_containers(Some(options))
                    .await
                    .unwrap_or_default()
                {
                    let remove = bollard::query_parameters::RemoveContainerOptions {
                        force: true,
                        ..Default::default()
                    };
                    let _ = docker
                        .remove_container(&c.id.unwrap_or_default(), Some(remove))
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn sim(test: &str) -> Sim {
    let client =
        Docker::connect_with_defaults().expect("a Docker engine (bash tests/setup-docker.sh)");
    let docker = client
        .clone()
        .negotiate_version()
        .await
        .expect("the engine answers");
    let instance = format!("kubelet-test-{test}-{}", std::process::id());
    let host = Arc::new(Host::default());
    let state_dir = std::env::temp_dir().join(format!("kube-sim-{instance}"));
    // The kubelet gets the client as the API server makes it, at bollard's own API version.
    let kubelet = Kubelet::new(client, host.clone(), instance.clone(), state_dir.clone());
    Sim {
        kubelet,
        host,
        docker,
        instance,
        state_dir,
        ended: false,
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
                generation: Some(1),
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
        self.host
            .pods
            .lock()
            .unwrap()
            .insert(name.to_owned(), pod.clone());
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

    /// The whole log of one container of the Pod.
    async fn container_log(&self, pod: &str, container: &str) -> String {
        let options = LogOptions {
            container: Some(container.to_owned()),
            ..Default::default()
        };
        self.log(pod, options).await
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
    async fn end(mut self) {
        self.kubelet.shutdown().await;
        assert_eq!(self.containers(&self.kubelet.instance_label()).await, 0);
        self.ended = true;
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
    assert_eq!(status.observed_generation, Some(1));
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
            {"name": "missing", "image": BUSYBOX, "command": ["/no/such/program"]},
            sh("not-found", "exec /no/such/program"),
            {"name": "fallback", "image": BUSYBOX, "command": ["sh", "-c", "echo first >&2; echo last words >&2; exit 7"],
             "terminationMessagePolicy": "FallbackToLogsOnError"},
        ]}),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    assert_eq!(terminated(&status, "plain"), (3, "Error".into(), None));
    let (code, reason, message) = terminated(&status, "missing");
    assert_eq!((code, reason.as_str()), (128, "StartError"));
    assert!(message
        .unwrap_or_default()
        .contains("exec /no/such/program failed"));
    assert_eq!(
        terminated(&status, "not-found").0,
        127,
        "the shell ran and could not find it"
    );
    assert_eq!(
        terminated(&status, "fallback"),
        (7, "Error".into(), Some("first\nlast words\n".into()))
    );
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_containers_run_in_order_and_a_failing_one_stops_the_rest() {
    let sim = sim("init").await;
    let shared = json!([{"name": "work", "emptyDir": {}}]);
    let mount = json!([{"name": "work", "mountPath": "/work"}]);
    let step = |name: &str, script: &str| {
        let mut c = sh(name, script);
        c["volumeMounts"] = mount.clone();
        c
    };
    let ordered = sim.start(
        "ordered",
        json!({"volumes": shared, "initContainers": [
            step("first", "sleep 0.3; printf 1 >> /work/order"),
            step("second", "printf 2 >> /work/order"),
        ], "containers": [step("main", "cat /work/order")]}),
    );
    let broken = sim.start(
        "broken",
        json!({"volumes": shared, "initContainers": [
            step("first", "exit 4"),
            step("second", "echo never"),
        ], "containers": [step("main", "echo never")]}),
    );
    let status = sim.finished(&ordered).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"));
    assert_eq!(sim.log(&ordered, LogOptions::default()).await, "12");
    let first = sim.host.history(&ordered)[0].clone();
    assert_eq!(
        waiting(&first, "main").map(|w| w.0).as_deref(),
        Some("PodInitializing")
    );
    let status = sim.finished(&broken).await;
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    assert_eq!(terminated(&status, "first").0, 4);
    assert_eq!(
        waiting(&status, "second").map(|w| w.0).as_deref(),
        Some("PodInitializing")
    );
    assert_eq!(
        waiting(&status, "main").map(|w| w.0).as_deref(),
        Some("PodInitializing")
    );
    assert_eq!(condition(&status, "Initialized"), "False");
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_native_sidecar_runs_beside_the_containers_on_localhost_and_is_stopped_after() {
    let sim = sim("sidecar").await;
    let mut sidecar = sh("server", "while true; do echo pong | nc -l -p 9000; done");
    sidecar["restartPolicy"] = json!("Always");
    let pod = sim.start(
        "sidecar",
        json!({"initContainers": [sidecar], "containers": [
            sh("client", "until nc 127.0.0.1 9000 > /tmp/got 2>/dev/null && test -s /tmp/got; do sleep 0.1; done; cat /tmp/got"),
        ]}),
    );
    let status = sim.finished(&pod).await;
    // While the client ran, the sidecar was running and ready and the Pod initialized.
    let running = sim
        .host
        .history(&pod)
        .into_iter()
        .find(|s| s.phase.as_deref() == Some("Running"))
        .expect("a Running phase");
    assert!(container(&running, "server").ready);
    assert_eq!(condition(&running, "Initialized"), "True");
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    assert_eq!(terminated(&status, "client").0, 0);
    let (code, _, _) = terminated(&status, "server");
    assert_ne!(code, 0, "stopped by a signal");
    assert_eq!(sim.container_log(&pod, "client").await, "pong\n");
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_share_an_empty_dir_and_localhost() {
    let sim = sim("share").await;
    let mount = json!([{"name": "data", "mountPath": "/data"}]);
    let mut writer = sh(
        "writer",
        "echo hello > /data/file; echo 'from writer' | nc -l -p 9100",
    );
    writer["volumeMounts"] = mount.clone();
    let mut reader = sh(
        "reader",
        "echo $(hostname) $(grep db.test /etc/hosts | cut -f1); until test -s /data/file; do sleep 0.1; done; \
         cat /data/file; until nc 127.0.0.1 9100; do sleep 0.1; done",
    );
    reader["volumeMounts"] = mount;
    let pod = sim.start(
        "share",
        json!({"volumes": [{"name": "data", "emptyDir": {"medium": "Memory"}}],
               "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db.test"]}],
               "containers": [writer, reader]}),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    let log = sim.container_log(&pod, "reader").await;
    assert_eq!(log, "share 10.1.2.3\nhello\nfrom writer\n");
    assert_eq!(
        condition(&status, "PodReadyToStartContainers"),
        "False",
        "the sandbox stopped"
    );
    let err = sim
        .kubelet
        .logs("default", &pod, LogOptions::default())
        .await
        .err()
        .expect("two containers");
    assert_eq!(
        err.to_string(),
        "a container name must be specified for pod share, choose one of: [writer reader]"
    );
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_maps_secrets_and_the_downward_api_become_files_and_env() {
    let sim = sim("config").await;
    let config_map: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "settings"}, "data": {"color": "blue", "size": "L"}
    }))
    .unwrap();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "creds"}, "data": {"token": "czNjcjN0"}
    }))
    .unwrap();
    sim.host
        .config_maps
        .lock()
        .unwrap()
        .insert("settings".into(), config_map);
    sim.host
        .secrets
        .lock()
        .unwrap()
        .insert("creds".into(), secret);
    let script = "cat /cm/colour; echo; stat -c %a /cm/colour; cat /secret/token; echo; \
                  cat /info/labels; echo; cat /info/name; echo; ls /all; cat /all/token; echo; \
                  echo \"$COLOR $TOKEN $POD $NS $LABEL $CFG_size $COMBINED\"; echo \"$@\"";
    let pod = sim.start(
        "config",
        json!({
            "volumes": [
                {"name": "cm", "configMap": {"name": "settings", "items": [{"key": "color", "path": "colour", "mode": 0o600}]}},
                {"name": "secret", "secret": {"secretName": "creds"}},
                {"name": "info", "downwardAPI": {"items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
                {"name": "all", "projected": {"sources": [
                    {"configMap": {"name": "settings"}},
                    {"serviceAccountToken": {"path": "token"}}]}},
            ],
            "containers": [{
                "name": "main", "image": BUSYBOX, "command": ["sh", "-c", script, "sh"],
                "args": ["$(COLOR)-$(POD)", "$$(COLOR)", "$(UNKNOWN)"],
                "volumeMounts": [
                    {"name": "cm", "mountPath": "/cm"},
                    {"name": "secret", "mountPath": "/secret"},
                    {"name": "info", "mountPath": "/info"},
                    {"name": "all", "mountPath": "/all"}],
                "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
                "env": [
                    {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}},
                    {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    {"name": "LABEL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "GONE", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k", "optional": true}}},
                    {"name": "COMBINED", "value": "$(COLOR)/$(NS)"}]
            }]
        }),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    let log = sim.log(&pod, LogOptions::default()).await;
    assert_eq!(
        log,
        "blue\n600\ns3cr3t\napp=\"demo\"\nconfig\ncolor\nsize\ntoken\nkube-sim-placeholder-service-account-token\n\
         blue s3cr3t config default demo L blue/default\nblue-config $(COLOR) $(UNKNOWN)\n"
    );
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_contexts_are_visible_inside() {
    let sim = sim("security").await;
    let pod = sim.start(
        "confined",
        json!({"securityContext": {"runAsUser": 1000, "fsGroup": 2000, "supplementalGroups": [3000]},
               "containers": [{
                 "name": "main", "image": DEBIAN, "command": ["sh", "-c", "id -u; id -G; touch /x 2>/dev/null || echo read-only"],
                 "securityContext": {"runAsUser": 1234, "runAsGroup": 5678, "readOnlyRootFilesystem": true}}]}),
    );
    let root = sim.start(
        "root",
        json!({"containers": [{"name": "main", "image": BUSYBOX, "command": ["true"],
                               "securityContext": {"runAsNonRoot": true}}]}),
    );
    let limited = sim.start(
        "limited",
        json!({"containers": [
            {"name": "caps", "image": BUSYBOX, "command": ["sh", "-c", "grep CapEff /proc/self/status"],
             "securityContext": {"capabilities": {"drop": ["ALL"]}}},
            {"name": "hungry", "image": BUSYBOX, "command": ["sh", "-c", "head -c 200m /dev/zero | tail"],
             "resources": {"limits": {"memory": "16Mi", "cpu": "500m"}}},
        ]}),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    assert_eq!(
        sim.log(&pod, LogOptions::default()).await,
        "1234\n5678 2000 3000\nread-only\n"
    );
    let status = sim.finished(&limited).await;
    assert_eq!(
        sim.container_log(&limited, "caps").await,
        "CapEff:\t0000000000000000\n"
    );
    assert_eq!(
        terminated(&status, "hungry"),
        (137, "OOMKilled".into(), None)
    );
    assert_eq!(status.qos_class.as_deref(), Some("Burstable"));
    let status = sim
        .until(&root, Duration::from_secs(30), |s| {
            waiting(s, "main").is_some_and(|w| w.0 == "CreateContainerConfigError")
        })
        .await;
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let message = waiting(&status, "main")
        .and_then(|w| w.1)
        .unwrap_or_default();
    assert!(
        message.starts_with("container has runAsNonRoot and image will run as root"),
        "{message}"
    );
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_deadline_seconds_stops_the_pod() {
    let sim = sim("deadline").await;
    let pod = sim.start(
        "slow",
        json!({"activeDeadlineSeconds": 2, "terminationGracePeriodSeconds": 5,
               "containers": [sh("main", "sleep 60")]}),
    );
    let started = Instant::now();
    let status = sim.finished(&pod).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
    assert_eq!(
        status.message.as_deref(),
        Some("Pod was active on the node longer than the specified deadline")
    );
    let last = sim
        .until(&pod, Duration::from_secs(20), |s| {
            container(s, "main")
                .state
                .is_some_and(|s| s.terminated.is_some())
        })
        .await;
    let (code, reason, _) = terminated(&last, "main");
    assert_eq!((code, reason.as_str()), (143, "Error"));
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_waits_in_err_image_pull_then_image_pull_back_off() {
    let sim = sim("image").await;
    let absent = "127.0.0.1:5000/kube-sim-test/absent:never";
    let pod = sim.start(
        "pull",
        json!({"containers": [{"name": "main", "image": absent}]}),
    );
    let never = sim.start(
        "never",
        json!({"containers": [{"name": "main", "image": "kube-sim-test/absent:1", "imagePullPolicy": "Never"}]}),
    );
    let status = sim
        .until(&pod, Duration::from_secs(30), |s| {
            waiting(s, "main").is_some_and(|w| w.0 == "ImagePullBackOff")
        })
        .await;
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let reasons: Vec<String> = sim
        .host
        .history(&pod)
        .iter()
        .filter_map(|s| waiting(s, "main"))
        .map(|w| w.0)
        .collect();
    assert!(reasons.contains(&"ErrImagePull".to_owned()), "{reasons:?}");
    let message = waiting(&status, "main")
        .and_then(|w| w.1)
        .unwrap_or_default();
    assert!(
        message.starts_with(&format!("Back-off pulling image \"{absent}\"")),
        "{message}"
    );
    let status = sim
        .until(&never, Duration::from_secs(30), |s| {
            waiting(s, "main").is_some_and(|w| w.0 == "ErrImageNeverPull")
        })
        .await;
    assert_eq!(
        waiting(&status, "main").and_then(|w| w.1).as_deref(),
        Some("Container image \"kube-sim-test/absent:1\" is not present with pull policy of Never")
    );
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_config_maps_and_claims_keep_the_pod_pending_until_they_exist() {
    let sim = sim("missing").await;
    let env_pod = sim.start(
        "env",
        json!({"containers": [{"name": "main", "image": BUSYBOX, "command": ["sh", "-c", "echo $V"],
               "env": [{"name": "V", "valueFrom": {"configMapKeyRef": {"name": "late", "key": "v"}}}]}]}),
    );
    let volume_pod = sim.start(
        "volume",
        json!({"volumes": [{"name": "v", "configMap": {"name": "never"}}],
               "containers": [{"name": "main", "image": BUSYBOX, "command": ["true"],
                               "volumeMounts": [{"name": "v", "mountPath": "/v"}]}]}),
    );
    let claim_pod = sim.start(
        "claim",
        json!({"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}],
               "containers": [{"name": "main", "image": BUSYBOX, "command": ["sh", "-c", "cat /v/f"],
                               "volumeMounts": [{"name": "v", "mountPath": "/v"}]}]}),
    );
    let status = sim
        .until(&env_pod, Duration::from_secs(30), |s| {
            waiting(s, "main").is_some_and(|w| w.0 == "CreateContainerConfigError")
        })
        .await;
    assert_eq!(
        waiting(&status, "main").and_then(|w| w.1).as_deref(),
        Some("configmap \"late\" not found")
    );
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let status = sim
        .until(&volume_pod, Duration::from_secs(30), |s| {
            waiting(s, "main").is_some_and(|w| w.1.is_some())
        })
        .await;
    assert_eq!(
        waiting(&status, "main"),
        Some((
            "ContainerCreating".into(),
            Some(
                "MountVolume.SetUp failed for volume \"v\" : configmap \"never\" not found".into()
            )
        ))
    );
    let status = sim
        .until(&claim_pod, Duration::from_secs(30), |s| {
            condition(s, "PodScheduled") == "False"
        })
        .await;
    let scheduled = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        scheduled.message.as_deref(),
        Some("persistentvolumeclaim \"data\" not found")
    );
    // What was missing appears: both Pods go on.
    let late: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "late"}, "data": {"v": "arrived"}}))
            .unwrap();
    sim.host
        .config_maps
        .lock()
        .unwrap()
        .insert("late".into(), late);
    let claim_dir = std::env::temp_dir().join(format!("{}-claim", sim.instance));
    std::fs::create_dir_all(&claim_dir).unwrap();
    std::fs::write(claim_dir.join("f"), "claimed\n").unwrap();
    sim.host
        .claims
        .lock()
        .unwrap()
        .insert("data".into(), claim_dir.clone());
    assert_eq!(
        sim.finished(&env_pod).await.phase.as_deref(),
        Some("Succeeded")
    );
    assert_eq!(sim.log(&env_pod, LogOptions::default()).await, "arrived\n");
    assert_eq!(
        sim.finished(&claim_pod).await.phase.as_deref(),
        Some("Succeeded")
    );
    assert_eq!(
        sim.log(&claim_pod, LogOptions::default()).await,
        "claimed\n"
    );
    let _ = std::fs::remove_dir_all(claim_dir);
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_tail_and_timestamps() {
    let sim = sim("logs").await;
    let pod = sim.start(
        "counting",
        json!({"containers": [sh("main", "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done")]}),
    );
    sim.until(&pod, Duration::from_secs(30), |s| {
        s.phase.as_deref() == Some("Running")
    })
    .await;
    let followed = sim
        .log(
            &pod,
            LogOptions {
                follow: true,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(followed, "line 1\nline 2\nline 3\nline 4\nline 5\n");
    sim.finished(&pod).await;
    let tail = sim
        .log(
            &pod,
            LogOptions {
                tail_lines: Some(2),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(tail, "line 4\nline 5\n");
    let stamped = sim
        .log(
            &pod,
            LogOptions {
                tail_lines: Some(1),
                timestamps: true,
                ..Default::default()
            },
        )
        .await;
    let (stamp, line) = stamped.split_once(' ').expect("a timestamp");
    assert_eq!(line, "line 5\n");
    assert!(
        k8s_openapi::chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
        "{stamp}"
    );
    assert!(stamp.ends_with('Z') && !stamp.ends_with("0Z"), "{stamp}");
    let err = sim
        .kubelet
        .logs("default", "nope", LogOptions::default())
        .await
        .err()
        .expect("no pod");
    assert_eq!(
        err.to_string(),
        "pod default/nope is not running on this node"
    );
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_pod_and_shutdown_leave_no_containers() {
    let sim = sim("delete").await;
    let first = sim.start("first", json!({"containers": [sh("main", "sleep 300")]}));
    let second = sim.start("second", json!({"containers": [sh("main", "sleep 300")]}));
    for pod in [&first, &second] {
        sim.until(pod, Duration::from_secs(30), |s| {
            s.phase.as_deref() == Some("Running")
        })
        .await;
    }
    let uid_label = format!("io.kubernetes.pod.uid={}-first", sim.instance);
    assert_eq!(
        sim.containers(&uid_label).await,
        2,
        "the sandbox and the container"
    );
    let writes = sim.host.history(&first).len();
    let started = Instant::now();
    sim.kubelet
        .delete_pod("default", &first, Duration::from_secs(10))
        .await
        .expect("deleted");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "SIGTERM stops sleep: {:?}",
        started.elapsed()
    );
    assert_eq!(sim.containers(&uid_label).await, 0);
    assert_eq!(
        sim.host.history(&first).len(),
        writes,
        "no status write after delete"
    );
    assert!(sim
        .kubelet
        .delete_pod("default", &first, Duration::ZERO)
        .await
        .is_err());
    assert_eq!(sim.containers(&sim.kubelet.instance_label()).await, 2);
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_shaped_as_adze_translates_a_task_run_runs_its_steps_in_order() {
    let sim = sim("tekton").await;
    let scripts: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "demo-scripts"},
        "data": {
            "script-0-a": "#!/bin/sh\necho a > /workspace/out\nprintf '[{\"key\":\"r\",\"value\":\"v\"}]' > /tekton/termination\ntouch /tekton/run/0/out\n",
            "script-1-b": "#!/bin/sh\nuntil [ -e /tekton/run/0/out ]; do sleep 0.05; done\ncat /workspace/out\nid -u\ntouch /tekton/steps/step-b/exitCode\n"
        }
    }))
    .unwrap();
    sim.host
        .config_maps
        .lock()
        .unwrap()
        .insert("demo-scripts".into(), scripts);
    let internal = ["bin", "run", "home", "results", "steps", "workspace"];
    let mut volumes: Vec<serde_json::Value> = internal
        .iter()
        .map(|v| json!({"name": format!("tekton-internal-{v}"), "emptyDir": {}}))
        .collect();
    volumes.push(json!({"name": "tekton-internal-scripts", "configMap": {"name": "demo-scripts", "defaultMode": 0o755}}));
    let mounts: Vec<serde_json::Value> = internal
        .iter()
        .map(|v| {
            let path = if *v == "workspace" {
                "/workspace".to_owned()
            } else {
                format!("/tekton/{v}")
            };
            json!({"name": format!("tekton-internal-{v}"), "mountPath": path})
        })
        .chain([json!({"name": "tekton-internal-scripts", "mountPath": "/tekton/scripts"})])
        .collect();
    // A step's own status directory: a subPath of the run volume the step (non-root) writes.
    let own = |i: usize, name: &str| {
        let mut m = mounts.clone();
        m.push(
            json!({"name": "tekton-internal-run", "mountPath": format!("/tekton/steps/step-{name}"),
                      "subPath": format!("{i}/status")}),
        );
        m
    };
    let step = |i: usize, name: &str, script: &str, user: i64| {
        json!({"name": format!("step-{name}"), "image": BUSYBOX, "command": [format!("/tekton/scripts/{script}")],
               "volumeMounts": own(i, name), "terminationMessagePath": "/tekton/termination",
               "terminationMessagePolicy": "File", "securityContext": {"runAsUser": user}})
    };
    let pod = sim.start(
        "demo-pod",
        json!({
            "volumes": volumes,
            "initContainers": [{
                "name": "prepare", "image": BUSYBOX,
                "command": ["sh", "-c", "touch /tekton/bin/entrypoint"],
                "volumeMounts": mounts,
                "securityContext": {"runAsUser": 65532, "runAsNonRoot": true, "readOnlyRootFilesystem": true}
            }],
            "containers": [step(0, "a", "script-0-a", 0), step(1, "b", "script-1-b", 1000)]
        }),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    assert_eq!(terminated(&status, "prepare").0, 0);
    assert_eq!(
        terminated(&status, "step-a"),
        (
            0,
            "Completed".into(),
            Some("[{\"key\":\"r\",\"value\":\"v\"}]".into())
        )
    );
    let log = sim.container_log(&pod, "step-b").await;
    assert_eq!(log, "a\n1000\n");
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_probes_decide_when_containers_are_ready() {
    let sim = sim("probes").await;
    let probed = |name: &str, script: &str, probe: serde_json::Value| {
        let mut c = sh(name, script);
        let mut probe = probe;
        probe["periodSeconds"] = json!(1);
        c["readinessProbe"] = probe;
        c
    };
    let pod = sim.start(
        "probed",
        json!({"containers": [
            probed("exec", "sleep 1; touch /tmp/ready; sleep 3", json!({"exec": {"command": ["test", "-f", "/tmp/ready"]}})),
            probed("tcp", "sleep 1; timeout 3 sh -c 'while true; do nc -l -p 9200 < /dev/null; done'; true",
                   json!({"tcpSocket": {"port": 9200}})),
            {"name": "http", "image": BUSYBOX, "ports": [{"name": "web", "containerPort": 9300}],
             "command": ["sh", "-c", "mkdir /www && echo ok > /www/index.html && sleep 1 && timeout 3 httpd -f -p 9300 -h /www; true"],
             "readinessProbe": {"httpGet": {"port": "web", "path": "/index.html"}, "periodSeconds": 1}},
            probed("never", "sleep 4", json!({"exec": {"command": ["false"]}})),
        ]}),
    );
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    let history = sim.host.history(&pod);
    let running = |s: &PodStatus, name: &str| {
        container(s, name)
            .state
            .is_some_and(|s| s.running.is_some())
    };
    for name in ["exec", "tcp", "http"] {
        let first_ready = history
            .iter()
            .position(|s| container(s, name).ready)
            .unwrap_or_else(|| panic!("{name} never became ready"));
        assert!(
            history[..first_ready]
                .iter()
                .any(|s| running(s, name) && !container(s, name).ready),
            "{name} was running and unready first"
        );
    }
    assert!(history.iter().all(|s| !container(s, "never").ready));
    assert!(
        history.iter().all(|s| condition(s, "Ready") == "False"),
        "never is never ready"
    );
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downward_api_files_follow_the_pods_annotations() {
    let sim = sim("downward").await;
    let pod = sim.start(
        "waits",
        json!({"volumes": [{"name": "downward", "downwardAPI": {"items": [
                  {"path": "ready", "fieldRef": {"fieldPath": "metadata.annotations['tekton.dev/ready']"}}]}}],
               "containers": [{"name": "main", "image": BUSYBOX,
                   "command": ["sh", "-c", "until [ -s /tekton/downward/ready ]; do sleep 0.1; done; cat /tekton/downward/ready"],
                   "volumeMounts": [{"name": "downward", "mountPath": "/tekton/downward", "readOnly": true}]}]}),
    );
    sim.until(&pod, Duration::from_secs(30), |s| {
        s.phase.as_deref() == Some("Running")
    })
    .await;
    // What Tekton's controller does once sidecars are ready: annotate the Pod.
    if let Some(stored) = sim.host.pods.lock().unwrap().get_mut(&pod) {
        stored
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert("tekton.dev/ready".into(), "READY".into());
    }
    let status = sim.finished(&pod).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    assert_eq!(sim.log(&pod, LogOptions::default()).await, "READY");
    let stopped = sim
        .until(&pod, Duration::from_secs(10), |s| {
            condition(s, "PodReadyToStartContainers") == "False"
        })
        .await;
    assert_eq!(stopped.phase.as_deref(), Some("Succeeded"));
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_probes_hold_a_native_sidecar_and_stop_a_container_that_fails_them() {
    let sim = sim("startup").await;
    // Tekton's sidecar-ready example: the step needs what the sidecar's startup probe makes.
    let mount = json!([{"name": "shared", "mountPath": "/shared"}]);
    let mut sidecar = sh("slow-sidecar", "sleep 30");
    sidecar["restartPolicy"] = json!("Always");
    sidecar["volumeMounts"] = mount.clone();
    sidecar["startupProbe"] = json!({"exec": {"command": ["sh", "-c", "sleep 1 && touch /shared/ready"]},
                                      "timeoutSeconds": 10, "periodSeconds": 1});
    let mut step = sh("step-check-ready", "test -f /shared/ready && echo ready");
    step["volumeMounts"] = mount;
    let ready = sim.start(
        "sidecar-ready",
        json!({"volumes": [{"name": "shared", "emptyDir": {}}], "initContainers": [sidecar], "containers": [step]}),
    );
    let mut doomed = sh("doomed", "sleep 30");
    doomed["startupProbe"] =
        json!({"exec": {"command": ["false"]}, "periodSeconds": 1, "failureThreshold": 2});
    let failing = sim.start("startup-fails", json!({"containers": [doomed]}));
    let status = sim.finished(&ready).await;
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    assert_eq!(
        sim.container_log(&ready, "step-check-ready").await,
        "ready\n"
    );
    let history = sim.host.history(&ready);
    assert!(
        history.iter().any(|s| {
            let c = container(s, "slow-sidecar");
            c.state.is_some_and(|s| s.running.is_some()) && c.started == Some(false)
        }),
        "running but not started while its startup probe runs"
    );
    let status = sim.finished(&failing).await;
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    assert_ne!(terminated(&status, "doomed").0, 0);
    assert!(sim
        .host
        .history(&failing)
        .iter()
        .all(|s| container(s, "doomed").started != Some(true)));
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_network_pod_has_the_nodes_hostname_and_shares_its_processes() {
    let sim = sim("host").await;
    let pod = sim.start(
        "on-host",
        json!({"hostNetwork": true, "shareProcessNamespace": true, "containers": [
            sh("main", "hostname; until ps | grep -q '[s]leep 7'; do sleep 0.1; done; echo sees-other"),
            sh("other", "sleep 7 & wait"),
        ]}),
    );
    let status = sim
        .until(&pod, Duration::from_secs(30), |s| {
            container(s, "main")
                .state
                .is_some_and(|s| s.terminated.is_some())
        })
        .await;
    assert_eq!(terminated(&status, "main").0, 0, "{status:#?}");
    let node = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        sim.container_log(&pod, "main").await,
        format!("{}sees-other\n", node)
    );
    assert_eq!(status.pod_ip.as_deref(), Some("127.0.0.1"));
    sim.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_container_whose_image_is_patched_restarts_from_the_new_image() {
    let sim = sim("replace").await;
    let pod = sim.start(
        "replace",
        json!({"containers": [
            {"name": "server", "image": "adze-test/sleeper:latest"},
            sh("steady", "sleep 1"),
        ]}),
    );
    sim.until(&pod, Duration::from_secs(30), |s| {
        container(s, "server")
            .state
            .is_some_and(|state| state.running.is_some())
    })
    .await;
    // As the API server hands the kubelet an update: the same Pod, one image replaced by one
    // whose entrypoint exits 0 at once (Tekton's no-op image).
    let mut updated = sim.host.pods.lock().unwrap()["replace"].clone();
    let spec = updated.spec.as_mut().expect("a spec");
    spec.containers[0].image = Some("adze-test/nop:latest".into());
    spec.containers[1].image = Some(BUSYBOX.into());
    sim.kubelet.update_pod(&updated);
    let started = Instant::now();
    let status = sim.finished(&pod).await;
    // The sleeper stops on SIGTERM: no grace period (30 s) was waited out.
    assert!(started.elapsed() < Duration::from_secs(20), "{status:#?}");
    assert_eq!(status.phase.as_deref(), Some("Succeeded"), "{status:#?}");
    let server = container(&status, "server");
    assert_eq!(server.image, "adze-test/nop:latest");
    assert_eq!(server.restart_count, 1);
    assert_eq!(terminated(&status, "server").1, "Completed");
    // An unchanged image is not restarted.
    let steady = container(&status, "steady");
    assert_eq!(steady.restart_count, 0);
    assert_eq!(terminated(&status, "steady").0, 0);
    // An update for a Pod the kubelet does not run, or with another uid, changes nothing.
    updated.metadata.uid = Some("another".into());
    sim.kubelet.update_pod(&updated);
    sim.end().await;
}
