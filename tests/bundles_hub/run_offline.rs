//! A PipelineRun whose Pipeline and a Task come from a Tekton bundle and whose other Tasks
//! come from the hub (Artifact Hub API with a version constraint, Tekton Hub API with a
//! plain version) runs to success in Docker, then again with the registry and the hub
//! stopped, under `--offline`, from the cache alone.

use super::hub_server::HubServer;
use super::registry::Registry;
use super::{adze, greeting_task};

#[test]
fn a_pipeline_from_a_bundle_and_the_hub_runs_then_runs_again_offline_from_the_cache() {
    super::common::require_docker();
    let mut registry = Registry::start();
    let mut hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();
    let host = registry.host();

    let pipeline = format!(
        r#"apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: greet-pipeline
spec:
  results:
  - name: bundled
    value: $(tasks.from-bundle.results.said)
  - name: artifact
    value: $(tasks.from-artifact-hub.results.said)
  - name: tekton
    value: $(tasks.from-tekton-hub.results.said)
  tasks:
  - name: from-bundle
    taskRef:
      resolver: bundles
      params:
      - {{name: bundle, value: "{host}/adze/catalog:v1"}}
      - {{name: name, value: bundled-greet}}
      - {{name: kind, value: task}}
  - name: from-artifact-hub
    taskRef:
      resolver: hub
      params:
      - {{name: name, value: hub-greet}}
      - {{name: version, value: ">= 0.1, < 1.0"}}
  - name: from-tekton-hub
    taskRef:
      resolver: hub
      params:
      - {{name: type, value: tekton}}
      - {{name: name, value: hub-greet}}
      - {{name: version, value: "0.1.3"}}
"#
    );
    let task = greeting_task("bundled-greet", "from-a-bundle");
    let digest = registry.push_bundle(
        "adze/catalog",
        "v1",
        &[
            ("task", "bundled-greet", &task),
            ("pipeline", "greet-pipeline", &pipeline),
        ],
    );
    let hub_task = greeting_task("hub-greet", "from-the-hub-{version}");
    hub.publish(
        "task",
        "tekton-catalog-tasks",
        "hub-greet",
        &["0.1.0", "0.2.0", "1.0.0"],
        &hub_task,
    );
    hub.publish("task", "Tekton", "hub-greet", &["0.1.0"], &hub_task);

    let run = format!(
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: greet-run
spec:
  pipelineRef:
    resolver: bundles
    params:
    - {{name: bundle, value: "{host}/adze/catalog:v1"}}
    - {{name: name, value: greet-pipeline}}
    - {{name: kind, value: Pipeline}}
"#
    );
    let hub_url = hub.url();
    let first = adze(
        dir.path(),
        "run",
        &run,
        &["-o", "json", "--hub-url", &hub_url],
    );
    assert_eq!(
        first.code,
        Some(0),
        "online run failed:\n{}",
        first.stderr_tail(40)
    );
    let status = first.json().expect("a PipelineRun on stdout");
    assert_eq!(status["status"]["conditions"][0]["reason"], "Succeeded");
    let results = results_of(&status);
    assert_eq!(
        results,
        vec![
            ("artifact".to_string(), "from-the-hub-0.2.0".to_string()),
            ("bundled".to_string(), "from-a-bundle".to_string()),
            ("tekton".to_string(), "from-the-hub-0.1.0".to_string()),
        ],
        "the constraint picks 0.2.0 on Artifact Hub; 0.1.3 is 0.1 on the Tekton Hub"
    );
    let asked = hub.requests();
    assert!(
        asked.iter().any(
            |r| r == "GET /api/v1/packages/tekton-task/tekton-catalog-tasks/hub-greet HTTP/1.1"
        ),
        "the constraint lists the versions first: {asked:?}"
    );
    assert!(asked
        .iter()
        .any(|r| r.contains("/v1/resource/Tekton/task/hub-greet/0.1/yaml")));

    let plan = adze(dir.path(), "plan", &run, &["--hub-url", &hub_url]);
    assert_eq!(plan.code, Some(0), "plan failed:\n{}", plan.stderr);
    assert!(
        format!("{}{}", plan.stdout, plan.stderr).contains(&digest),
        "the plan names the bundle's digest {digest}:\n{}",
        plan.stdout
    );

    registry.stop();
    hub.stop();
    let second = adze(
        dir.path(),
        "run",
        &run,
        &["-o", "json", "--hub-url", &hub_url, "--offline"],
    );
    assert_eq!(
        second.code,
        Some(0),
        "offline run failed:\n{}",
        second.stderr_tail(40)
    );
    let status = second.json().expect("a PipelineRun on stdout");
    assert_eq!(status["status"]["conditions"][0]["reason"], "Succeeded");
    assert_eq!(results_of(&status), results);
}

/// The PipelineRun's results, sorted by name.
fn results_of(status: &serde_json::Value) -> Vec<(String, String)> {
    let mut results: Vec<(String, String)> = status["status"]["results"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap_or("").to_string(),
                        r["value"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    results.sort();
    results
}
