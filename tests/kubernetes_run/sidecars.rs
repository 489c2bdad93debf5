//! Sidecars on Kubernetes: results read from the `tekton-log-results` sidecar
//! (`results-from: sidecar-logs`).

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
