//! Sidecars on Kubernetes: results read from the `tekton-log-results` sidecar
//! (`results-from: sidecar-logs`), and ordinary sidecars stopped with the no-op image on a
//! server without native sidecars (kube-sim `--server-version 1.28`).

use std::time::{Duration, Instant};

use super::common::running::Running;
use super::{adze, run, workdir, Sim};

/// Two results of 3000 bytes each: 6000 bytes, over a step's 4096-byte termination message,
/// but each under the sidecar's 4096 bytes per result.
const LARGE_RESULTS: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: large-results}
spec:
  taskSpec:
    results: [{name: first}, {name: second}]
    steps:
    - name: write
      image: adze-test/busybox:latest
      script: |
        head -c 3000 /dev/zero | tr '\0' a > $(results.first.path)
        head -c 3000 /dev/zero | tr '\0' b > $(results.second.path)
"#;

#[test]
fn results_over_the_termination_message_pass_through_the_results_sidecar() {
    let sim = Sim::shared();
    let ns = sim.namespace("sidecar-logs");
    let dir = workdir(LARGE_RESULTS);
    let flag = ["--feature-flag", "results-from=sidecar-logs", "-o", "json"];
    let out = run(adze(sim, dir.path(), &ns, &flag));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json = out.json();
    let results = json["status"]["results"].as_array().expect("results");
    let got: Vec<(&str, String)> = results
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or(""),
                r["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("first", "a".repeat(3000)), ("second", "b".repeat(3000))]
    );
    // Without the flag the same run overflows the termination message, as on Tekton.
    let ns = sim.namespace("termination-message");
    let dir = workdir(LARGE_RESULTS);
    let out = run(adze(sim, dir.path(), &ns, &["-o", "json"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let condition = &out.json()["status"]["conditions"][0];
    assert_eq!(condition["reason"], "TaskRunResultLargerThanAllowedLimit");
    assert!(
        condition["message"]
            .as_str()
            .unwrap_or("")
            .contains("--feature-flag results-from=sidecar-logs"),
        "{condition}"
    );
}

#[test]
fn a_result_over_max_result_size_fails_with_tektons_reason_and_message() {
    let sim = Sim::shared();
    let ns = sim.namespace("max-result-size");
    let dir = workdir(LARGE_RESULTS);
    let flags = [
        "--feature-flag",
        "results-from=sidecar-logs",
        "--feature-flag",
        "max-result-size=2048",
        "-o",
        "json",
    ];
    let out = run(adze(sim, dir.path(), &ns, &flags));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let condition = &out.json()["status"]["conditions"][0];
    assert_eq!(condition["reason"], "TaskRunResultLargerThanAllowedLimit");
    assert_eq!(
        condition["message"],
        "TaskRun \"large-results\" failed: results exceeded size limit 2048 bytes"
    );
}

/// A sidecar that serves until stopped (no `command`: its image's entrypoint runs, and the
/// no-op image's entrypoint replaces it).
const WITH_SIDECAR: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: with-sidecar}
spec:
  taskSpec:
    sidecars:
    - {name: server, image: adze-test/sleeper:latest}
    steps:
    - {name: work, image: adze-test/busybox:latest, script: 'echo working'}
"#;

#[test]
fn without_native_sidecars_a_sidecar_is_stopped_with_the_nop_image_and_the_pod_succeeds() {
    let sim = Sim::start_with(&["--server-version", "1.28"]);
    let dir = workdir(WITH_SIDECAR);
    let flags = [
        "--keep",
        "--nop-image",
        "adze-test/nop:latest",
        "-o",
        "json",
    ];
    let started = Instant::now();
    let running = Running::start(adze(&sim, dir.path(), "default", &flags), "working");
    let out = running.finish(Duration::from_secs(60));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the run hung:\n{}",
        out.stderr
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let json = out.json().expect("JSON status");
    assert_eq!(json["status"]["conditions"][0]["reason"], "Succeeded");
    // Kept: the Pod goes on once the run is reported, until its sidecar has been replaced.
    let until = Instant::now() + Duration::from_secs(30);
    let pod = loop {
        let pod: serde_json::Value =
            serde_json::from_str(&sim.kubectl(&["get", "pod", "with-sidecar-pod", "-o", "json"]))
                .expect("a Pod as JSON");
        if pod["status"]["phase"] == "Succeeded" {
            break pod;
        }
        assert!(
            Instant::now() < until,
            "the Pod never succeeded: {:#}",
            pod["status"]
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // An ordinary container (no native sidecars before 1.29), its image replaced.
    assert!(pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|c| c["name"] != "sidecar-server"));
    let spec = pod["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == "sidecar-server")
        .expect("the sidecar's container")
        .clone();
    assert_eq!(spec["image"], "adze-test/nop:latest");
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .expect("container statuses")
        .iter()
        .find(|c| c["name"] == "sidecar-server")
        .expect("the sidecar's status")
        .clone();
    let terminated = &status["state"]["terminated"];
    assert_eq!(terminated["exitCode"], 0, "{status:#}");
    assert_eq!(terminated["reason"], "Completed", "{status:#}");
    assert_eq!(status["restartCount"], 1, "{status:#}");
}
