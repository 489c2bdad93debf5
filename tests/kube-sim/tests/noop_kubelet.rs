//! `kube-sim --kubelet noop`: Pods complete without Docker. Each container goes Running then
//! Terminated with exit 0, init containers first, regular containers carrying the
//! entrypoint's `StartedAt` termination message; the Pod ends `Succeeded`, and deleting it
//! removes it.

mod common;

use std::time::Duration;

use common::{eventually, Sim};
use serde_json::Value;

fn sim() -> &'static Sim {
    // A sandbox image that does not exist: nothing here may touch the engine.
    Sim::shared(&[
        "--kubelet",
        "noop",
        "--sandbox-image",
        "adze-test/none:missing",
    ])
}

fn pod(sim: &Sim, ns: &str, name: &str) -> Option<Value> {
    let output = sim
        .kubectl_command(&["get", "pod", name, "-n", ns, "-o", "json"])
        .output()
        .expect("kubectl runs");
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).expect("kubectl prints JSON"))
}

#[test]
fn pods_succeed_at_once_with_the_entrypoints_message() {
    let sim = sim();
    let ns = sim.namespace("noop-runs");
    sim.create(&format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: steps, namespace: {ns}}}
spec:
  restartPolicy: Never
  initContainers:
  - {{name: prepare, image: nowhere/entrypoint:1, command: [cp]}}
  - {{name: sidecar-db, image: nowhere/db:1, restartPolicy: Always}}
  containers:
  - {{name: step-one, image: nowhere/one:1}}
  - {{name: step-two, image: nowhere/two:1}}
"#
    ));
    let mut seen = Value::Null;
    eventually(Duration::from_secs(10), "the Pod succeeds", || {
        seen = pod(sim, &ns, "steps").unwrap_or_default();
        seen["status"]["phase"] == "Succeeded"
    });
    let status = &seen["status"];
    for container in status["containerStatuses"].as_array().unwrap() {
        let ended = &container["state"]["terminated"];
        assert_eq!(ended["exitCode"], 0, "{container}");
        assert_eq!(ended["reason"], "Completed", "{container}");
        let message: Value =
            serde_json::from_str(ended["message"].as_str().expect("a message")).unwrap();
        assert_eq!(message[0]["key"], "StartedAt", "{message}");
        assert_eq!(message[0]["type"], 3, "{message}");
        assert_eq!(
            message.as_array().unwrap().len(),
            1,
            "no results: {message}"
        );
    }
    let init = status["initContainerStatuses"].as_array().unwrap();
    assert_eq!(init.len(), 2);
    for container in init {
        assert_eq!(
            container["state"]["terminated"]["exitCode"], 0,
            "{container}"
        );
    }
    let conditions = status["conditions"].as_array().unwrap();
    let initialized = conditions
        .iter()
        .find(|c| c["type"] == "Initialized")
        .unwrap();
    assert_eq!(initialized["status"], "True");
}

#[test]
fn the_phases_pass_through_running_and_deletion_is_honoured() {
    let sim = sim();
    let ns = sim.namespace("noop-watch");
    let (mut watcher, lines) = sim.kubectl_lines(&[
        "get",
        "pods",
        "-n",
        &ns,
        "-w",
        "-o",
        "jsonpath={.status.phase}{\"\\n\"}",
    ]);
    // The watch must be open before the Pod exists, to see every phase.
    std::thread::sleep(Duration::from_millis(500));
    sim.create(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: one, namespace: {ns}}}\nspec:\n  containers: [{{name: c, image: nowhere/c:1}}]\n"
    ));
    let mut phases: Vec<String> = Vec::new();
    eventually(Duration::from_secs(10), "the watch sees Succeeded", || {
        while let Ok(line) = lines.try_recv() {
            if phases.last() != Some(&line) {
                phases.push(line);
            }
        }
        phases.last().is_some_and(|p| p == "Succeeded")
    });
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(phases.contains(&"Running".to_owned()), "{phases:?}");
    assert!(
        phases
            .first()
            .is_some_and(|p| p.is_empty() || p == "Pending"),
        "{phases:?}"
    );

    sim.kubectl(&["delete", "pod", "one", "-n", &ns, "--wait=false"]);
    eventually(Duration::from_secs(10), "the Pod is gone", || {
        pod(sim, &ns, "one").is_none()
    });
}
