//! The hub serves every kind Tekton's hub resolver asks for: a Pipeline from its default
//! pipelines catalog, and a StepAction (named catalog) referenced by a step of that Pipeline's
//! inline Task, fetched while resolving what the first fetch brought.

use super::adze;
use super::hub_server::HubServer;

#[test]
fn a_pipeline_and_a_step_action_come_from_the_hub_by_kind() {
    let hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();
    hub.publish(
        "pipeline",
        "tekton-catalog-pipelines",
        "greet-pipeline",
        &["0.3.0"],
        r#"apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: greet-pipeline
spec:
  tasks:
  - name: greet
    taskSpec:
      steps:
      - name: say
        ref:
          resolver: hub
          params:
          - {name: kind, value: stepaction}
          - {name: catalog, value: adze-actions}
          - {name: name, value: say-hello}
          - {name: version, value: "~> 1.1"}
"#,
    );
    hub.publish(
        "stepaction",
        "adze-actions",
        "say-hello",
        &["1.0.0", "1.1.0", "1.4.2", "2.0.0"],
        r#"apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: say-hello
spec:
  image: adze-test/busybox:latest
  script: echo hello from step action {version}
"#,
    );
    let run = r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: from-the-hub
spec:
  pipelineRef:
    resolver: hub
    params:
    - {name: kind, value: pipeline}
    - {name: name, value: greet-pipeline}
    - {name: version, value: "0.3"}
"#;
    let hub_url = hub.url();
    let plan = adze(dir.path(), "plan", run, &["--hub-url", &hub_url]);
    assert_eq!(plan.code, Some(0), "plan failed:\n{}", plan.stderr);
    assert!(
        plan.stdout.contains("echo hello from step action 1.4.2"),
        "`~> 1.1` picks 1.4.2:\n{}",
        plan.stdout
    );
    let asked = hub.requests();
    assert!(
        asked.contains(
            &"GET /api/v1/packages/tekton-pipeline/tekton-catalog-pipelines/greet-pipeline/0.3.0 HTTP/1.1"
                .to_string()
        ),
        "{asked:?}"
    );
    assert!(
        asked.contains(
            &"GET /api/v1/packages/tekton-stepaction/adze-actions/say-hello/1.4.2 HTTP/1.1"
                .to_string()
        ),
        "{asked:?}"
    );
}
