//! What every catalog scenario needs: a kube-sim of its own seeded with a cluster's state
//! ([`Cluster`]), a kubeconfig Secret for the tasks' `kubeconfig` workspace, the adze image
//! the tasks run `adze kube ...` in ([`adze_image`]), `adze run` of a PipelineRun with the
//! Docker executor and the catalog of this working tree ([`run_pipeline`]), and the order of
//! operations across kube-sim's audit log and the fake server's recorder ([`timeline`]).
//!
//! # Design
//!
//! - One kube-sim per scenario (Nodes are cluster-scoped: two scenarios cannot share a
//!   cluster), started with `--audit-log` so a test can read which requests the tasks made,
//!   in order.
//! - Runs are local (`adze run`, Docker executor) with `hostNetwork: true` in the
//!   PipelineRun's pod template ([`PipelineRunDoc`]), so steps reach kube-sim and the fake
//!   server on 127.0.0.1; the fake server's URL reaches the steps as `ADZE_FAKE_URL`.
//! - The catalog under test is this working tree's `tasks/` and `pipelines/`, passed with
//!   `--catalog` (which wins over the catalog built into the binary).
//! - The adze image is the binary under test copied onto `adze-test/debian:bookworm` (the
//!   glibc it was linked against), tagged by the binary's digest: test binaries of different
//!   builds running at once each get their own image, and a rebuilt image is never raced.
//!
//! # Invariants
//!
//! - Nothing here skips: without Docker, kubectl or kube-sim a scenario fails saying what is
//!   missing.

// Shared by every pipeline's module; each uses part of it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::kube_sim::Sim;
use crate::common::rbac_rules::Permission;
pub use crate::common::Outcome as RunOutcome;
use crate::common::{self, run_command};
use crate::fake_server::Recorder;

/// The toolbox image the catalog's tasks run in during tests (`toolsImage`).
pub const TOOLS_IMAGE: &str = "adze-test/kube-tools:bookworm";

/// The base of [`adze_image`]: the Debian the test binaries are built on.
const ADZE_BASE_IMAGE: &str = "adze-test/debian:bookworm";

/// How long one `adze run` of a scenario may take before it is interrupted.
pub const RUN_LIMIT: Duration = Duration::from_secs(240);

/// The repository's root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The catalog's YAML files (`tasks/*/*.yaml`, `pipelines/*/<pipeline>.yaml`): the Task and
/// Pipeline documents, not the RBAC manifests beside them.
pub fn catalog_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for kind in ["tasks", "pipelines"] {
        let Ok(entries) = std::fs::read_dir(repo().join(kind)) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let file = dir.join(format!("{name}.yaml"));
            if file.is_file() {
                out.push(file);
            }
        }
    }
    out.sort();
    out
}

/// Runs `sha256sum` on `file`: the first 16 hex digits (the debug binary is hundreds of
/// megabytes; the test's own unoptimised SHA-256 would take seconds).
fn digest16(file: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(file)
        .output()
        .expect("sha256sum runs");
    assert!(out.status.success(), "sha256sum {} failed", file.display());
    String::from_utf8_lossy(&out.stdout)[..16].to_owned()
}

/// `adze-test/adze:dev-<digest>`: the adze binary under test at `/usr/local/bin/adze` (its
/// ENTRYPOINT, user 65532 as in the Dockerfile's image) on `adze-test/debian:bookworm`. Built
/// once per test binary, in seconds (`docker create` + `docker cp` + `docker commit`); also
/// tagged `adze-test/adze:dev` for runs by hand.
pub fn adze_image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        common::require_docker();
        let binary = Path::new(env!("CARGO_BIN_EXE_adze"));
        let tag = format!("adze-test/adze:dev-{}", digest16(binary));
        let exists = Command::new("docker")
            .args(["image", "inspect", "--format", "{{.Id}}", &tag])
            .output()
            .is_ok_and(|o| o.status.success());
        if !exists {
            let id = common::docker(&["create", ADZE_BASE_IMAGE, "true"]);
            let copied = Command::new("docker")
                .arg("cp")
                .arg(binary)
                .arg(format!("{id}:/usr/local/bin/adze"))
                .output()
                .expect("docker cp runs");
            if copied.status.success() {
                common::docker(&[
                    "commit",
                    "-c",
                    r#"ENTRYPOINT ["/usr/local/bin/adze"]"#,
                    "-c",
                    "CMD []",
                    "-c",
                    "USER 65532:65532",
                    &id,
                    &tag,
                ]);
            }
            common::docker(&["rm", &id]);
            assert!(
                copied.status.success(),
                "docker cp of {} failed: {}",
                binary.display(),
                String::from_utf8_lossy(&copied.stderr)
            );
        }
        let _ = Command::new("docker")
            .args(["tag", &tag, "adze-test/adze:dev"])
            .output();
        tag
    })
}

/// The image params every catalog pipeline takes in tests: `toolsImage` and `adzeImage`.
pub fn image_params() -> Vec<(String, Value)> {
    vec![
        ("toolsImage".into(), json!(TOOLS_IMAGE)),
        ("adzeImage".into(), json!(adze_image())),
    ]
}

/// A kube-sim of one scenario, with its audit log.
pub struct Cluster {
    /// The kube-sim.
    pub sim: Sim,
    /// Its audit log (one JSON event per request).
    pub audit_log: PathBuf,
    /// Holds the audit log; dropped after the kube-sim (fields drop in order).
    _audit_dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts a kube-sim with an audit log and `extra` options.
    pub fn start(extra: &[&str]) -> Cluster {
        common::require_docker();
        let dir = tempfile::tempdir().expect("a directory");
        let audit_log = dir.path().join("audit.jsonl");
        let mut args = vec!["--audit-log", audit_log.to_str().expect("UTF-8 path")];
        args.extend_from_slice(extra);
        let sim = Sim::start_with(&args);
        Cluster {
            sim,
            audit_log,
            _audit_dir: dir,
        }
    }

    /// Runs kubectl against it; its stdout (panics when kubectl fails).
    pub fn kubectl(&self, args: &[&str]) -> String {
        self.sim.kubectl(args)
    }

    /// Writes `contents` into the cluster's scratch directory as `name`; its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.sim.dir().join(name);
        std::fs::write(&path, contents).expect("write a scratch file");
        path
    }

    /// Creates every object of `yaml` (`kubectl create -f`, in document order; namespaced
    /// objects name their namespace or land in `default`).
    pub fn apply(&self, yaml: &str) -> String {
        let file = tempfile::Builder::new()
            .suffix(".yaml")
            .tempfile_in(self.sim.dir())
            .expect("a file");
        std::fs::write(file.path(), yaml).expect("write the objects");
        self.kubectl(&[
            "create",
            "--validate=false",
            "-f",
            file.path().to_str().expect("UTF-8 path"),
        ])
    }

    /// Creates a cluster's state from `yaml` as its controllers would have left it: every
    /// object is created (`kubectl create`, in document order), an `ownerReferences` entry
    /// without `uid` gets the uid of the object it names (kind and name, in the dependent's
    /// namespace, created earlier in `yaml`), and every object that has a `status` gets it
    /// through the status subresource (`kubectl replace --subresource=status`), since a
    /// create keeps no status. Three kubectl calls, whatever the number of objects.
    pub fn seed(&self, yaml: &str) {
        let mut docs: Vec<Value> = Vec::new();
        for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
            let value: Value =
                serde::Deserialize::deserialize(doc).expect("seed documents are YAML objects");
            if !value.is_null() {
                docs.push(value);
            }
        }
        let needs_owner = |d: &Value| {
            d["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r.get("uid").is_none()))
        };
        let render = |docs: &[&Value]| -> String {
            docs.iter()
                .map(|d| serde_yaml_ng::to_string(d).expect("render a seed document"))
                .collect::<Vec<_>>()
                .join("---\n")
        };
        let owners: Vec<&Value> = docs.iter().filter(|d| !needs_owner(d)).collect();
        if !owners.is_empty() {
            self.apply(&render(&owners));
        }
        let mut dependents: Vec<Value> = docs.iter().filter(|d| needs_owner(d)).cloned().collect();
        if !dependents.is_empty() {
            // The controllers a seeded object may name, each stamped with its kind (list
            // items may come without one); kinds kube-sim does not serve are skipped.
            let mut known: Vec<Value> = Vec::new();
            for (plural, kind) in [
                ("deployments", "Deployment"),
                ("replicasets", "ReplicaSet"),
                ("statefulsets", "StatefulSet"),
                ("daemonsets", "DaemonSet"),
                ("jobs", "Job"),
            ] {
                let Ok(out) = Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&self.sim.kubeconfig)
                    .args(["get", plural, "--all-namespaces", "-o", "json"])
                    .output()
                else {
                    continue;
                };
                let Ok(list) = serde_json::from_slice::<Value>(&out.stdout) else {
                    continue;
                };
                for mut item in list["items"].as_array().cloned().unwrap_or_default() {
                    item["kind"] = json!(kind);
                    known.push(item);
                }
            }
            for doc in &mut dependents {
                let namespace = doc["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_owned();
                for owner in doc["metadata"]["ownerReferences"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    if owner.get("uid").is_some() {
                        continue;
                    }
                    let found = known.iter().find(|k| {
                        k["kind"] == owner["kind"]
                            && k["metadata"]["name"] == owner["name"]
                            && k["metadata"]["namespace"].as_str().unwrap_or(&namespace)
                                == namespace
                    });
                    let uid = found
                        .and_then(|k| k["metadata"]["uid"].as_str())
                        .unwrap_or_else(|| panic!("no owner {owner} for a seeded object"));
                    owner["uid"] = json!(uid);
                }
            }
            self.apply(&render(&dependents.iter().collect::<Vec<_>>()));
        }
        let with_status: Vec<&Value> = owners
            .iter()
            .copied()
            .chain(dependents.iter())
            .filter(|d| d.get("status").is_some_and(|s| !s.is_null()))
            .collect();
        if !with_status.is_empty() {
            let file = tempfile::Builder::new()
                .suffix(".yaml")
                .tempfile_in(self.sim.dir())
                .expect("a file");
            std::fs::write(file.path(), render(&with_status)).expect("write the statuses");
            self.kubectl(&[
                "replace",
                "--subresource=status",
                "--validate=false",
                "-f",
                file.path().to_str().expect("UTF-8 path"),
            ]);
        }
    }

    /// Merges `status` into the status of `object` (`node/cp-1`, `pod/x`) through the status
    /// subresource, as a kubelet or controller would write it.
    pub fn set_status(&self, namespace: Option<&str>, object: &str, status: &Value) {
        let body = json!({ "status": status }).to_string();
        let mut args = vec![
            "patch",
            object,
            "--subresource=status",
            "--type=merge",
            "-p",
            &body,
        ];
        if let Some(ns) = namespace {
            args.extend_from_slice(&["-n", ns]);
        }
        self.kubectl(&args);
    }

    /// `kubectl get -o json` of one object (`node/cp-1`).
    pub fn get(&self, namespace: Option<&str>, object: &str) -> Value {
        let mut args = vec!["get", object, "-o", "json"];
        if let Some(ns) = namespace {
            args.extend_from_slice(&["-n", ns]);
        }
        serde_json::from_str(&self.kubectl(&args)).expect("kubectl prints JSON")
    }

    /// The kubeconfig kube-sim wrote (server `https://127.0.0.1:N`, CA inline, its token).
    pub fn kubeconfig(&self) -> String {
        std::fs::read_to_string(&self.sim.kubeconfig).expect("read the kubeconfig")
    }

    /// [`Cluster::kubeconfig`] with the bearer token `token` instead of the admin's.
    pub fn kubeconfig_as(&self, token: &str) -> String {
        let mut config: Value =
            serde_yaml_ng::from_str(&self.kubeconfig()).expect("kube-sim writes YAML");
        for user in config["users"].as_array_mut().into_iter().flatten() {
            user["user"] = json!({ "token": token });
        }
        config.to_string()
    }

    /// A token of the ServiceAccount `namespace/name` (`kubectl create token`).
    pub fn token(&self, namespace: &str, name: &str) -> String {
        self.kubectl(&["create", "token", name, "-n", namespace])
            .trim()
            .to_owned()
    }

    /// Runs kubectl as the bearer of `token` (a ServiceAccount's) instead of the admin:
    /// `Ok(stdout)`, or `Err(stderr)` when kubectl fails.
    pub fn kubectl_as(&self, token: &str, args: &[&str]) -> Result<String, String> {
        let file = tempfile::Builder::new()
            .suffix(".kubeconfig")
            .tempfile_in(self.sim.dir())
            .expect("a file");
        std::fs::write(file.path(), self.kubeconfig_as(token)).expect("write the kubeconfig");
        self.sim.try_kubectl_with(file.path(), args)
    }

    /// Creates the objects of `file` in `namespace` (`kubectl create -n`).
    pub fn create_in(&self, namespace: &str, file: &Path) -> String {
        self.kubectl(&[
            "create",
            "--validate=false",
            "-n",
            namespace,
            "-f",
            file.to_str().expect("UTF-8 path"),
        ])
    }

    /// A Secret document `name` with key `kubeconfig` holding [`Cluster::kubeconfig`], for a
    /// task's `kubeconfig` workspace in `adze run` (loaded with the other files).
    pub fn kubeconfig_secret(&self, name: &str) -> String {
        let secret = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": { "name": name },
            "type": "Opaque",
            "stringData": { "kubeconfig": self.kubeconfig() },
        });
        serde_yaml_ng::to_string(&secret).expect("render the Secret")
    }

    /// Every request kube-sim saw so far, in order.
    pub fn audit(&self) -> Vec<AuditEvent> {
        let text = std::fs::read_to_string(&self.audit_log).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|e| AuditEvent::from_json(&e))
            .collect()
    }
}

/// One request in kube-sim's audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When the response was decided, microseconds since the Unix epoch.
    pub micros: u64,
    /// `get`, `list`, `patch`, `create`, …; for non-resource requests the lower-case method.
    pub verb: String,
    /// The API group (empty for the core group and non-resource requests).
    pub api_group: String,
    /// `nodes`, `pods/eviction`, `nodes/status` (resource/subresource); empty for
    /// non-resource requests.
    pub resource: String,
    /// The namespace, empty when cluster-scoped.
    pub namespace: String,
    /// The object's name, empty for collections.
    pub name: String,
    /// The path and query.
    pub uri: String,
    /// The HTTP status code answered.
    pub code: u16,
    /// `kubectl/v1.32.1 (linux/amd64) …`, `adze/0.1.0`.
    pub user_agent: String,
    /// Who asked (`kube-sim`, `system:serviceaccount:ns:name`).
    pub user: String,
}

impl AuditEvent {
    fn from_json(e: &Value) -> AuditEvent {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let object = &e["objectRef"];
        let mut resource = text(&object["resource"]);
        if let Some(sub) = object["subresource"].as_str().filter(|s| !s.is_empty()) {
            resource = format!("{resource}/{sub}");
        }
        AuditEvent {
            micros: e["stageTimestamp"].as_str().map_or(0, rfc3339_micros),
            verb: text(&e["verb"]),
            api_group: text(&object["apiGroup"]),
            resource,
            namespace: text(&object["namespace"]),
            name: text(&object["name"]),
            uri: text(&e["requestURI"]),
            code: e["responseStatus"]["code"].as_u64().unwrap_or(0) as u16,
            user_agent: text(&e["userAgent"]),
            user: text(&e["user"]["username"]),
        }
    }

    /// `verb resource[/sub] [ns/]name`, e.g. `patch nodes node-a`,
    /// `create pods/eviction shop/web-1`; non-resource requests as `get /version`.
    pub fn line(&self) -> String {
        if self.resource.is_empty() {
            let path = self.uri.split('?').next().unwrap_or_default();
            return format!("{} {path}", self.verb);
        }
        let mut line = format!("{} {}", self.verb, self.resource);
        match (self.namespace.is_empty(), self.name.is_empty()) {
            (true, false) => line.push_str(&format!(" {}", self.name)),
            (false, false) => line.push_str(&format!(" {}/{}", self.namespace, self.name)),
            (false, true) => line.push_str(&format!(" {}/", self.namespace)),
            (true, true) => {}
        }
        line
    }

    /// Whether the request changed something (create, update, patch, delete).
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "delete" | "deletecollection"
        )
    }
}

/// Microseconds since the Unix epoch of an RFC 3339 UTC timestamp
/// (`2026-12-05T07:50:12.123456Z`); 0 when it is not one.
fn rfc3339_micros(text: &str) -> u64 {
    let num = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<i64>().ok());
    let (Some(y), Some(m), Some(d), Some(hh), Some(mm), Some(ss)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return 0;
    };
    let fraction = text
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            format!("{digits:0<6}")[..6].parse::<i64>().unwrap_or(0)
        })
        .unwrap_or(0);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hh * 3600 + mm * 60 + ss;
    (seconds * 1_000_000 + fraction).max(0) as u64
}

/// The fake server's events and the audit events `keep` selects, merged in time order, each
/// as text: recorder events as recorded (`kubeadm upgrade apply v1.30.6 --yes`), audit
/// events as [`AuditEvent::line`].
pub fn timeline(
    recorder: &Recorder,
    audit: &[AuditEvent],
    keep: impl Fn(&AuditEvent) -> bool,
) -> Vec<String> {
    let mut all: Vec<(u64, usize, String)> = recorder
        .timed_events()
        .into_iter()
        .enumerate()
        .map(|(i, (t, e))| (t, i, e))
        .collect();
    let offset = all.len();
    all.extend(
        audit
            .iter()
            .enumerate()
            .filter(|(_, e)| keep(e))
            .map(|(i, e)| (e.micros, offset + i, e.line())),
    );
    all.sort();
    all.into_iter().map(|(_, _, e)| e).collect()
}

/// The index of the first entry of `events` containing `needle`; panics naming it and
/// listing `events` when there is none.
pub fn position(events: &[String], needle: &str) -> usize {
    events
        .iter()
        .position(|e| e.contains(needle))
        .unwrap_or_else(|| panic!("no event containing {needle:?} in:\n{}", events.join("\n")))
}

/// Asserts that each needle is found in `events` after the previous one (each matched at
/// its first occurrence after the previous match).
pub fn assert_in_order(events: &[String], needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let found = events[from..]
            .iter()
            .position(|e| e.contains(needle))
            .unwrap_or_else(|| {
                panic!(
                    "no {needle:?} after event {from} ({:?}) in:\n{}",
                    events.get(from.saturating_sub(1)),
                    numbered(events)
                )
            });
        from += found + 1;
    }
}

/// `events`, one per line, numbered: for failure messages.
pub fn numbered(events: &[String]) -> String {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| format!("{i:4} {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A PipelineRun document for a local test run: `hostNetwork: true` and the fake server's
/// URL as `ADZE_FAKE_URL` in every TaskRun's pod template.
pub struct PipelineRunDoc {
    /// `metadata.name`.
    pub name: String,
    labels: Vec<(String, String)>,
    pipeline: String,
    params: Vec<(String, Value)>,
    workspaces: Vec<Value>,
    env: Vec<(String, String)>,
    task_run_specs: Vec<Value>,
    service_account: Option<String>,
    timeout: Option<String>,
}

impl PipelineRunDoc {
    /// A run `name` of the catalog's pipeline `pipeline` (`pipelineRef` by name).
    pub fn new(name: &str, pipeline: &str) -> PipelineRunDoc {
        PipelineRunDoc {
            name: name.into(),
            labels: Vec::new(),
            pipeline: pipeline.into(),
            params: Vec::new(),
            workspaces: Vec::new(),
            env: Vec::new(),
            task_run_specs: Vec::new(),
            service_account: None,
            timeout: None,
        }
    }

    /// Adds a label (e.g. `adze.dev/controller: "true"` for a run `adze controller` takes).
    pub fn label(mut self, name: &str, value: &str) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// Adds a param (a string, an array or an object value); a param given again replaces
    /// the earlier value.
    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.retain(|(n, _)| n != name);
        self.params.push((name.into(), value.into()));
        self
    }

    /// Adds the test images as `toolsImage` and `adzeImage` ([`image_params`]).
    pub fn test_images(mut self) -> Self {
        self.params.extend(image_params());
        self
    }

    /// Binds workspace `name` to the Secret `secret`.
    pub fn secret_workspace(self, name: &str, secret: &str) -> Self {
        self.workspace(json!({ "name": name, "secret": { "secretName": secret } }))
    }

    /// Binds workspace `name` to an emptyDir.
    pub fn empty_dir_workspace(self, name: &str) -> Self {
        self.workspace(json!({ "name": name, "emptyDir": {} }))
    }

    /// Binds a workspace as given (a whole WorkspaceBinding object); a workspace bound again
    /// takes the new binding.
    pub fn workspace(mut self, binding: Value) -> Self {
        self.workspaces.retain(|w| w["name"] != binding["name"]);
        self.workspaces.push(binding);
        self
    }

    /// Gives every step `ADZE_FAKE_URL=url`.
    pub fn fake_url(self, url: &str) -> Self {
        self.env("ADZE_FAKE_URL", url)
    }

    /// Gives every step the variable `name=value` (pod template `env`).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Adds a `taskRunSpecs[]` entry (e.g. a pipeline task's own pod template).
    pub fn task_run_spec(mut self, spec: Value) -> Self {
        self.task_run_specs.push(spec);
        self
    }

    /// Sets `taskRunTemplate.serviceAccountName`.
    pub fn service_account(mut self, name: &str) -> Self {
        self.service_account = Some(name.into());
        self
    }

    /// Sets `timeouts.pipeline` (`"5m"`).
    pub fn timeout(mut self, pipeline: &str) -> Self {
        self.timeout = Some(pipeline.into());
        self
    }

    /// The document as JSON.
    pub fn to_value(&self, host_network: bool) -> Value {
        let mut pod_template = json!({});
        if host_network {
            pod_template["hostNetwork"] = json!(true);
        }
        if !self.env.is_empty() {
            pod_template["env"] = self
                .env
                .iter()
                .map(|(n, v)| json!({ "name": n, "value": v }))
                .collect();
        }
        let mut template = json!({ "podTemplate": pod_template });
        if let Some(sa) = &self.service_account {
            template["serviceAccountName"] = json!(sa);
        }
        let mut spec = json!({
            "pipelineRef": { "name": self.pipeline },
            "params": self.params.iter().map(|(n, v)| json!({ "name": n, "value": v })).collect::<Vec<_>>(),
            "workspaces": self.workspaces,
            "taskRunTemplate": template,
        });
        if !self.task_run_specs.is_empty() {
            spec["taskRunSpecs"] = json!(self.task_run_specs);
        }
        if let Some(t) = &self.timeout {
            spec["timeouts"] = json!({ "pipeline": t });
        }
        let mut metadata = json!({ "name": self.name });
        if !self.labels.is_empty() {
            metadata["labels"] = self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        json!({
            "apiVersion": "tekton.dev/v1",
            "kind": "PipelineRun",
            "metadata": metadata,
            "spec": spec,
        })
    }

    /// The document as YAML, for `adze run` (host network on).
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(&self.to_value(true)).expect("render the PipelineRun")
    }
}

// --- in the cluster: `adze controller` and the RBAC a pipeline ships ----------------------

/// `adze controller` reconciling the PipelineRuns of `namespace` in `cluster` (those labelled
/// `adze.dev/controller: "true"`), with the test entrypoint image; stopped when dropped.
pub fn start_controller(cluster: &Cluster, namespace: &str) -> common::running::Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
    command
        .arg("controller")
        .arg("--kubeconfig")
        .arg(&cluster.sim.kubeconfig)
        .args([
            "--entrypoint-image",
            "adze-test/entrypoint:latest",
            "--namespace",
            namespace,
            "--leader-elect=false",
        ]);
    common::running::Running::start(command, "adze controller: reconciling")
}

/// Creates `run` (host network on, as [`PipelineRunDoc::to_yaml`]) in `namespace` and waits
/// at most `limit` for its `Succeeded` condition to turn True or False; the run as read then.
pub fn create_and_wait(
    cluster: &Cluster,
    namespace: &str,
    run: &PipelineRunDoc,
    limit: Duration,
    controller: &common::running::Running,
) -> Value {
    create_run(cluster, namespace, run);
    wait_finished(cluster, namespace, &run.name, limit, controller)
}

/// Creates `run` (host network on, as [`PipelineRunDoc::to_yaml`]) in `namespace`.
pub fn create_run(cluster: &Cluster, namespace: &str, run: &PipelineRunDoc) {
    let file = cluster.write(&format!("{}.yaml", run.name), &run.to_yaml());
    cluster.create_in(namespace, &file);
}

/// Waits at most `limit` for the `Succeeded` condition of PipelineRun `namespace/name` to
/// turn True or False; the run as read then.
pub fn wait_finished(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    limit: Duration,
    controller: &common::running::Running,
) -> Value {
    let object = format!("pipelinerun/{name}");
    let until = std::time::Instant::now() + limit;
    loop {
        let seen = cluster.get(Some(namespace), &object);
        let condition = seen["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Succeeded"))
            .cloned()
            .unwrap_or(Value::Null);
        if condition["status"] == "True" || condition["status"] == "False" {
            return seen;
        }
        assert!(
            std::time::Instant::now() < until,
            "{object} did not finish in {limit:?}: {}\ncontroller:\n{}",
            seen["status"],
            controller.stderr()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Creates every Task and Pipeline of this working tree's catalog in `namespace`, where
/// `adze controller` looks refs up.
pub fn install_catalog(cluster: &Cluster, namespace: &str) {
    for file in catalog_files() {
        cluster.create_in(namespace, &file);
    }
}

/// Each TaskRun of `namespace` with its `Succeeded` condition and each failed step's
/// termination message: what a failed in-cluster run's assertion should show.
pub fn task_runs_summary(cluster: &Cluster, namespace: &str) -> String {
    let list = cluster.get(Some(namespace), "taskruns");
    let mut out = String::new();
    for run in list["items"].as_array().into_iter().flatten() {
        let condition = &run["status"]["conditions"][0];
        out.push_str(&format!(
            "{}: {} {}: {}\n",
            run["metadata"]["name"].as_str().unwrap_or_default(),
            condition["status"].as_str().unwrap_or("?"),
            condition["reason"].as_str().unwrap_or_default(),
            condition["message"].as_str().unwrap_or_default()
        ));
        for step in run["status"]["steps"].as_array().into_iter().flatten() {
            let terminated = &step["terminated"];
            if terminated["exitCode"].as_i64().is_some_and(|c| c != 0) {
                let container = step["container"].as_str().unwrap_or_default();
                let pod = run["status"]["podName"].as_str().unwrap_or_default();
                let log = cluster
                    .sim
                    .try_kubectl(&[
                        "logs", "-n", namespace, pod, "-c", container, "--tail", "20",
                    ])
                    .unwrap_or_else(|e| e);
                out.push_str(&format!(
                    "  step {} exit {}, its log's end:\n{log}\n",
                    step["name"].as_str().unwrap_or_default(),
                    terminated["exitCode"],
                ));
            }
        }
    }
    out
}

/// The YAML documents of `yaml` (empty ones left out).
fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .filter_map(|doc| serde::Deserialize::deserialize(doc).ok())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// The documents of `yaml` where `metadata.<field>` is `value`, rendered again.
fn documents_where(yaml: &str, field: &str, value: &str) -> String {
    documents(yaml)
        .iter()
        .filter(|d| d["metadata"][field] == value)
        .map(|d| serde_yaml_ng::to_string(d).expect("render a document"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The documents of `yaml` whose `metadata.namespace` is `namespace`, rendered again.
pub fn documents_in(yaml: &str, namespace: &str) -> String {
    documents_where(yaml, "namespace", namespace)
}

/// What the Role or ClusterRole `name` among `yaml`'s documents grants.
pub fn granted_by_role(yaml: &str, name: &str) -> BTreeSet<Permission> {
    let roles = documents_where(yaml, "name", name);
    assert!(!roles.is_empty(), "no role {name}");
    common::rbac_rules::granted_by_yaml(&roles)
}

/// The text of `pipelines/<pipeline>/rbac.yaml`.
pub fn rbac_yaml(pipeline: &str) -> String {
    let path = repo().join("pipelines").join(pipeline).join("rbac.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Discovery, which every authenticated user may read (the default `system:discovery`
/// ClusterRole): kubectl asks for it before anything else.
fn is_discovery(path: &str) -> bool {
    path == "/api"
        || path == "/apis"
        || path.starts_with("/api/")
        || path.starts_with("/apis/")
        || path.starts_with("/openapi")
}

/// What the default ClusterRole `system:public-info-viewer` lets everyone read.
pub fn public_info() -> BTreeSet<Permission> {
    ["/version", "/healthz", "/livez", "/readyz"]
        .into_iter()
        .map(|url| (String::new(), url.to_owned(), "get".to_owned()))
        .collect()
}

/// What `user` asked for at or after `since` (microseconds), as RBAC sees it:
/// (apiGroup, resource[/subresource], verb), non-resource URLs as ("", path, verb), discovery
/// left out.
pub fn requests_of(audit: &[AuditEvent], user: &str, since: u64) -> BTreeSet<Permission> {
    audit
        .iter()
        .filter(|e| e.user == user && e.micros >= since)
        .filter_map(|e| {
            if e.resource.is_empty() {
                let path = e.uri.split('?').next().unwrap_or_default().to_owned();
                (!is_discovery(&path)).then(|| (String::new(), path, e.verb.clone()))
            } else {
                Some((e.api_group.clone(), e.resource.clone(), e.verb.clone()))
            }
        })
        .collect()
}

/// The requests of `user` kube-sim refused (403), as `verb uri (resource)`.
pub fn denied(audit: &[AuditEvent], user: &str) -> Vec<String> {
    audit
        .iter()
        .filter(|e| e.user == user && e.code == 403)
        .map(|e| format!("{} {} ({})", e.verb, e.uri, e.resource))
        .collect()
}

/// Runs `adze run FILES -o json` with the Docker executor in a scratch directory, with
/// this working tree's catalog (`--catalog` for each of [`catalog_files`]), `--pull never`
/// (the test images are local), and `-p`/`-w` for `params` and `workspaces`; interrupted
/// after [`RUN_LIMIT`].
pub fn run_pipeline(
    files: &[PathBuf],
    params: &[(&str, &str)],
    workspaces: &[(&str, &str)],
) -> RunOutcome {
    run_pipeline_with(files, params, workspaces, &[])
}

/// [`run_pipeline`] with extra `adze run` arguments (`--keep`, `--only TASK`).
pub fn run_pipeline_with(
    files: &[PathBuf],
    params: &[(&str, &str)],
    workspaces: &[(&str, &str)],
    extra: &[&str],
) -> RunOutcome {
    let dir = tempfile::tempdir().expect("a directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
    command
        .arg("run")
        .args(files)
        .args(["-o", "json", "--pull", "never", "--logs", "all"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1");
    for file in catalog_files() {
        command.arg("--catalog").arg(file);
    }
    for (name, value) in params {
        command.arg("-p").arg(format!("{name}={value}"));
    }
    for (name, value) in workspaces {
        command.arg("-w").arg(format!("{name}={value}"));
    }
    command.args(extra);
    run_command(command, RUN_LIMIT)
}

/// The final run's `status.results` (`-o json` on stdout) as name → value.
pub fn results(outcome: &RunOutcome) -> serde_json::Map<String, Value> {
    results_of(&outcome.json().unwrap_or(Value::Null))
}

/// A run object's `status.results` as name → value.
pub fn results_of(run: &Value) -> serde_json::Map<String, Value> {
    run["status"]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r["name"].as_str()?.to_owned(), r["value"].clone())))
        .collect()
}

/// The final run's `Succeeded` condition: (status, reason, message).
pub fn condition(outcome: &RunOutcome) -> (String, String, String) {
    let run = outcome.json().unwrap_or(Value::Null);
    let c = run["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Succeeded"))
        .cloned()
        .unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (text(&c["status"]), text(&c["reason"]), text(&c["message"]))
}

/// A failure message with the run's exit code and the end of its log.
pub fn explain(outcome: &RunOutcome) -> String {
    format!(
        "exit {:?} (timed out: {})\n--- stderr (last 80 lines) ---\n{}",
        outcome.code,
        outcome.timed_out,
        outcome.stderr_tail(80)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_timestamps_read_as_microseconds_since_the_epoch() {
        assert_eq!(rfc3339_micros("1970-01-01T00:00:01.000002Z"), 1_000_002);
        assert_eq!(
            rfc3339_micros("2026-12-05T07:50:12.5Z"),
            1_796_457_012_500_000
        );
        assert_eq!(rfc3339_micros("not a time"), 0);
    }
}
