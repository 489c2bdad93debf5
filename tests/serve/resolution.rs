//! A triggered run with a remote reference: the trigger's params reach the resolver params,
//! the Task is fetched from an HTTP server on loopback before the run starts, and the run
//! succeeds; a reference that cannot be fetched refuses the run with `CouldntGetTask`.

use std::time::Duration;

use super::common::resolve_servers::HttpServer;
use super::server::Server;
use super::{event_id, http, outcome, scratch, PROCESSED};

const TASK: &str = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: fetched\nspec:\n  steps:\n  - name: say\n    image: adze-test/busybox:latest\n    script: echo fetched-for-a-webhook\n";

const LISTENER: &str = r#"apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: remote-listener, namespace: ci}
spec:
  triggers:
  - name: on-event
    bindings:
    - {name: path, value: $(body.path)}
    template: {ref: remote}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: remote, namespace: ci}
spec:
  params: [{name: path}]
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: PipelineRun
    metadata: {generateName: remote-}
    spec:
      params: [{name: path, value: $(tt.params.path)}]
      pipelineSpec:
        params: [{name: path}]
        tasks:
        - name: remote
          taskRef:
            resolver: http
            params:
            - {name: url, value: "BASE$(params.path)"}
"#;

#[test]
fn a_triggered_run_fetches_its_remote_task_with_the_triggers_params() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join("served/tasks")).expect("mkdir");
    std::fs::write(dir.path().join("served/tasks/fetched.yaml"), TASK).expect("write");
    let files = HttpServer::start(dir.path().join("served"), "u:p");
    let listener = dir.path().join("listener.yaml");
    std::fs::write(&listener, LISTENER.replace("BASE", &files.base())).expect("write");
    let cache = dir.path().join("cache");
    let server = Server::start(
        &[listener],
        &dir.path().join("s.db"),
        &["--resolve-cache", cache.to_str().expect("utf-8 path")],
    );
    let mut runs = Vec::new();
    for path in ["/tasks/fetched.yaml", "/tasks/missing.yaml"] {
        let body = format!("{{\"path\":\"{path}\"}}");
        let reply = http::post(server.addr, &[], body.as_bytes());
        assert_eq!(reply.status, 202, "{}", reply.body);
        let event = server.processed(&event_id(&reply), PROCESSED);
        let created = outcome(&event, "on-event");
        assert_eq!(created["verdict"], "created", "{event}");
        runs.push(created["runs"][0].as_str().expect("a run").to_string());
    }
    let ok = server.finished(&runs[0], Duration::from_secs(120));
    assert_eq!(ok["state"], "succeeded", "{ok}");
    let logs = http::get(server.addr, &format!("/api/v1/runs/{}/logs", runs[0]), &[]).json();
    assert!(logs.to_string().contains("fetched-for-a-webhook"), "{logs}");
    let refused = server.finished(&runs[1], Duration::from_secs(60));
    let condition = &refused["status"]["status"]["conditions"][0];
    assert_eq!(condition["reason"], "CouldntGetTask", "{refused}");
    let message = condition["message"].as_str().unwrap_or_default();
    assert!(message.contains("404 Not Found"), "{message}");
    assert!(files
        .requests()
        .iter()
        .any(|r| r.contains("/tasks/missing.yaml")));
}
