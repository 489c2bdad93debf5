//! `status.taskSpec` and `status.pipelineSpec` keep every field of the resolved spec, as the
//! object Tekton stores: descriptions, display names, declarations, stepTemplate, volumes.

use super::run;
use serde_json::json;

#[test]
fn task_run_status_keeps_the_declared_task_spec() {
    let ran = run(r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: status-task-spec}
spec:
  params: [{name: who, value: adze}]
  taskSpec:
    displayName: Greeter
    description: Says hello.
    params:
    - {name: who, description: Whom to greet}
    results:
    - {name: greeting, description: What was said}
    stepTemplate:
      env: [{name: GREETING, value: hello}]
    volumes:
    - {name: scratch, emptyDir: {}}
    steps:
    - name: greet
      image: adze-test/busybox:latest
      volumeMounts: [{name: scratch, mountPath: /scratch}]
      script: 'printf "%s $(params.who)" "$GREETING" > $(results.greeting.path)'
"#)
    .succeeded();
    let spec = &ran.status()["taskSpec"];
    assert_eq!(spec["displayName"], "Greeter", "{spec}");
    assert_eq!(spec["description"], "Says hello.");
    assert_eq!(
        spec["params"],
        json!([{"name": "who", "type": "string", "description": "Whom to greet"}])
    );
    assert_eq!(
        spec["results"],
        json!([{"name": "greeting", "type": "string", "description": "What was said"}])
    );
    assert_eq!(
        spec["stepTemplate"],
        json!({"env": [{"name": "GREETING", "value": "hello"}]})
    );
    assert_eq!(
        spec["volumes"],
        json!([{"name": "scratch", "emptyDir": {}}])
    );
    // Steps are stored as they ran: params substituted.
    assert!(
        spec["steps"][0]["script"]
            .as_str()
            .is_some_and(|s| s.contains("printf \"%s adze\"")),
        "{spec}"
    );
}

#[test]
fn pipeline_run_status_keeps_the_declared_pipeline_spec() {
    let ran = run(r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: status-pipeline-spec}
spec:
  pipelineSpec:
    displayName: Release
    description: Builds and ships.
    params:
    - {name: target, description: Where to ship, default: staging}
    results:
    - {name: where, description: Where it went, value: $(tasks.ship.results.where)}
    tasks:
    - name: ship
      displayName: Ship it
      description: Copies the artifact.
      params: [{name: target, value: $(params.target)}]
      taskSpec:
        params: [{name: target}]
        results: [{name: where}]
        steps:
        - {image: adze-test/busybox:latest, script: 'printf "$(params.target)" > $(results.where.path)'}
"#)
    .succeeded();
    let spec = &ran.status()["pipelineSpec"];
    assert_eq!(spec["displayName"], "Release", "{spec}");
    assert_eq!(spec["description"], "Builds and ships.");
    assert_eq!(
        spec["params"][0],
        json!({"name": "target", "type": "string", "description": "Where to ship", "default": "staging"})
    );
    assert_eq!(spec["results"][0]["description"], "Where it went");
    assert_eq!(spec["tasks"][0]["displayName"], "Ship it");
    assert_eq!(spec["tasks"][0]["description"], "Copies the artifact.");
}
