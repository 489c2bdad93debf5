//! `adze serve --executor create` in front of the controller: a signed webhook, checked
//! against a Secret read from the API server, becomes a PipelineRun object in the cluster,
//! which `adze controller` runs to completion.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{condition, create, done, list, wait_until, Controller, Sim};
use crate::common::http::{self, github_signature};
use crate::common::running::Running;

const PIPELINE: &str = r#"apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: build}
spec:
  params: [{name: revision}]
  tasks:
  - name: checkout
    params: [{name: revision, value: $(params.revision)}]
    taskSpec:
      params: [{name: revision}]
      steps:
      - name: show
        image: adze-test/busybox:latest
        env: [{name: REVISION, value: $(params.revision)}]
        script: echo "building $REVISION"
"#;

/// The listener, in the namespace `--namespace` gives objects that name none.
const TRIGGERS: &str = r#"apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: gh}
spec:
  triggers:
  - name: on-push
    interceptors:
    - ref: {name: github}
      params:
      - {name: secretRef, value: {secretName: gh-secret, secretKey: token}}
      - {name: eventTypes, value: [push]}
    bindings:
    - {name: revision, value: $(body.after)}
    template:
      spec:
        params: [{name: revision}]
        resourcetemplates:
        - apiVersion: tekton.dev/v1
          kind: PipelineRun
          metadata:
            generateName: build-
            labels: {adze.dev/controller: "true"}
          spec:
            pipelineRef: {name: build}
            params: [{name: revision, value: $(tt.params.revision)}]
"#;

/// The interceptor's Secret lives in the cluster only, as a listener Deployment finds it.
const SECRET: &str = r#"apiVersion: v1
kind: Secret
metadata: {name: gh-secret}
data: {token: czNjcjN0}
"#;

/// A running `adze serve`, killed when the test ends or fails.
struct Serving(Running);

impl Serving {
    /// `adze serve --executor EXECUTOR` of `files` on `sim` in `ns`, in `dir` (its store and
    /// any `.adze.yaml` there).
    fn start(sim: &Sim, ns: &str, executor: &str, files: &Path, dir: &Path) -> Serving {
        let mut serve = Command::new(env!("CARGO_BIN_EXE_adze"));
        serve
            .current_dir(dir)
            .args(["serve", "--executor", executor, "--listen", "127.0.0.1:0"])
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .args([
                "--namespace",
                ns,
                "--entrypoint-image",
                crate::ENTRYPOINT_IMAGE,
            ])
            .arg("--store")
            .arg(dir.join("serve.db"))
            .arg("-f")
            .arg(files);
        Serving(Running::start(serve, "adze serve: EventListener"))
    }
}

impl std::ops::Deref for Serving {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.0
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.kill();
    }
}

#[test]
fn a_signed_webhook_becomes_a_pipeline_run_the_controller_completes() {
    let sim = Sim::shared();
    let ns = sim.namespace("triggered");
    create(sim, &ns, PIPELINE);
    create(sim, &ns, SECRET);
    let dir = tempfile::tempdir().expect("a directory");
    let triggers = dir.path().join("triggers.yaml");
    std::fs::write(&triggers, TRIGGERS).expect("write the triggers");
    let controller = Controller::start(sim, &["--namespace", &ns, "--leader-elect=false"]);
    let serve = Serving::start(sim, &ns, "create", &triggers, dir.path());
    let addr = serve.serve_address();

    let body = br#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246"}"#;
    let signature = github_signature(b"s3cr3t", body);
    let reply = http::post(
        addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    );
    assert_eq!(reply.status, 202, "{}", reply.body);
    let event = reply.json()["eventID"].as_str().unwrap().to_string();

    // The object the listener created, found by kubectl through its event label.
    let until = Instant::now() + Duration::from_secs(30);
    let name = loop {
        let found = list(sim, &ns, "pipelineruns").into_iter().find(|pr| {
            pr["metadata"]["labels"]["triggers.tekton.dev/triggers-eventid"] == event.as_str()
        });
        if let Some(pr) = found {
            break pr["metadata"]["name"].as_str().unwrap().to_string();
        }
        assert!(
            Instant::now() < until,
            "no PipelineRun for event {event}:\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(name.starts_with("build-"), "{name}");
    let finished = wait_until(
        sim,
        &ns,
        &format!("pipelinerun/{name}"),
        Duration::from_secs(90),
        &controller,
        done,
    );
    assert_eq!(
        condition(&finished),
        ("True".to_string(), "Succeeded".to_string()),
        "{}",
        finished["status"]
    );
    let labels = &finished["metadata"]["labels"];
    assert_eq!(labels["triggers.tekton.dev/eventlistener"], "gh");
    assert_eq!(labels["triggers.tekton.dev/trigger"], "on-push");
    // The listener recorded it as handed over to the cluster.
    let runs = http::get(addr, "/api/v1/runs", &[]).json();
    assert_eq!(runs["runs"][0]["name"], name.as_str());
    assert_eq!(runs["runs"][0]["state"], "created");
}

/// `adze serve --executor kubernetes`: the listener drives the run itself, its TaskRuns as
/// Pods through the API server, and records the outcome and logs. The step's image exists
/// nowhere: the `.adze.yaml` the server finds maps it to the local test image.
#[test]
fn serve_with_the_kubernetes_executor_runs_triggered_pipelines_as_pods() {
    let sim = Sim::shared();
    let ns = sim.namespace("triggered-pods");
    let dir = tempfile::tempdir().expect("a directory");
    let files = dir.path().join("triggers.yaml");
    let secret_doc = SECRET.replace("data: {token: czNjcjN0}", "stringData: {token: s3cr3t}");
    let pipeline = PIPELINE.replace("adze-test/busybox:latest", "example.invalid/tool:1");
    std::fs::write(
        &files,
        format!("{TRIGGERS}---\n{pipeline}---\n{secret_doc}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".adze.yaml"),
        "imageMap:\n  example.invalid/tool:1: adze-test/busybox:latest\n",
    )
    .unwrap();
    let serve = Serving::start(sim, &ns, "kubernetes", &files, dir.path());
    let addr = serve.serve_address();
    let body = br#"{"after":"28911bbb5a3e8a1fa3d0e7bdc1c3bbbe5af7b2c9"}"#;
    let signature = github_signature(b"s3cr3t", body);
    let reply = http::post(
        addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    );
    assert_eq!(reply.status, 202, "{}", reply.body);
    let until = Instant::now() + Duration::from_secs(90);
    let run = loop {
        let runs = http::get(addr, "/api/v1/runs", &[]).json();
        let first = runs["runs"][0].clone();
        if first["state"] == "succeeded" || first["state"] == "failed" {
            break first;
        }
        assert!(
            Instant::now() < until,
            "not finished: {runs}\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(run["state"], "succeeded", "{run}\n{}", serve.stderr());
    let name = run["name"].as_str().unwrap();
    let logs = http::get(addr, &format!("/api/v1/runs/{name}/logs"), &[]).json();
    assert!(
        logs["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["text"] == "building 28911bbb5a3e8a1fa3d0e7bdc1c3bbbe5af7b2c9"),
        "{logs}"
    );
    let stored = http::get(addr, &format!("/api/v1/runs/{name}"), &[]).json();
    let status = &stored["status"]["status"];
    assert_eq!(status["conditions"][0]["reason"], "Succeeded", "{stored}");
    assert_eq!(status["childReferences"][0]["pipelineTaskName"], "checkout");
    // The executor cleans up after the run: no Pod is left in the namespace.
    assert!(list(sim, &ns, "pods").is_empty());
}

/// deploy/eventlistener's Role against what `adze serve --executor create` asks the API
/// server for (kube-sim's audit log): everything used is granted, everything granted is used
/// or named here with the reason.
#[test]
fn the_eventlistener_role_grants_exactly_what_serve_uses() {
    use super::rbac::{granted_by, used};
    let dir = tempfile::tempdir().expect("a directory");
    let audit = dir.path().join("audit.jsonl");
    let sim = Sim::start_with(&["--audit-log", audit.to_str().expect("UTF-8 path")]);
    let ns = sim.namespace("listener");
    create(&sim, &ns, SECRET);
    // Both kinds a template may render, so both creates are exercised.
    let both = TRIGGERS.replace(
        "            params: [{name: revision, value: $(tt.params.revision)}]\n",
        "            params: [{name: revision, value: $(tt.params.revision)}]\n        - apiVersion: tekton.dev/v1\n          kind: TaskRun\n          metadata: {generateName: check-}\n          spec:\n            taskRef: {name: check}\n",
    );
    let triggers = dir.path().join("triggers.yaml");
    std::fs::write(&triggers, both).expect("write the triggers");
    let serve = Serving::start(&sim, &ns, "create", &triggers, dir.path());
    let addr = serve.serve_address();
    let body = br#"{"after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246"}"#;
    let signature = github_signature(b"s3cr3t", body);
    let reply = http::post(
        addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    );
    assert_eq!(reply.status, 202, "{}", reply.body);
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let states: Vec<String> = http::get(addr, "/api/v1/runs", &[]).json()["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["state"].as_str().unwrap_or_default().to_string())
            .collect();
        if states.len() == 2 && states.iter().all(|s| s == "created") {
            break;
        }
        assert!(
            Instant::now() < until,
            "not created: {states:?}\n{}",
            serve.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let granted = granted_by(&["eventlistener/role.yaml"]);
    let used = used(&audit);
    let missing: Vec<_> = used.difference(&granted).collect();
    assert!(missing.is_empty(), "used but not granted: {missing:?}");
    // `get` on runs: only after a restart finds an object already created (409).
    let unseen: std::collections::BTreeSet<_> = [
        ("tekton.dev", "pipelineruns", "get"),
        ("tekton.dev", "taskruns", "get"),
    ]
    .iter()
    .map(|(g, r, v)| (g.to_string(), r.to_string(), v.to_string()))
    .collect();
    let idle: Vec<_> = granted
        .difference(&used)
        .filter(|p| !unseen.contains(*p))
        .collect();
    assert!(
        idle.is_empty(),
        "granted but never used: {idle:?} (used: {used:?})"
    );
}
