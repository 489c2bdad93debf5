//! The Docker executor's two ways of running a TaskRun's steps give the same status: every
//! step container started at once and ordered by the static entrypoint (the default when
//! `$ADZE_ENTRYPOINT` names it, as tests/run-all.sh does), and one container after the other
//! (`ADZE_STEPS_AT_ONCE=0`). Each case runs both ways through the `adze` binary and compares
//! the `-o json` status (condition, each step's exit code, reason and termination reason,
//! results) and the warnings printed; the cases are the places where the entrypoint, not adze,
//! decides (docs/kubernetes-entrypoint.md lists them).

mod common;

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use common::{docker, require_docker, run_adze_with, Outcome};

const LIMIT: Duration = Duration::from_secs(90);

/// The static entrypoint, as tests/run-all.sh exports it; without it nothing here means
/// anything, so the test fails rather than compare the step-by-step path with itself.
fn entrypoint() -> String {
    let path = std::env::var("ADZE_ENTRYPOINT").unwrap_or_default();
    assert!(
        Path::new(&path).is_file(),
        "ADZE_ENTRYPOINT must name the static adze-entrypoint (tests/run-all.sh sets it after \
         tests/setup-docker.sh builds it); it is {path:?}"
    );
    path
}

/// Runs `yaml` with `args`, at once or step by step.
fn run(yaml: &str, at_once: bool, args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write the run");
    let entrypoint = entrypoint();
    let mode = if at_once { "1" } else { "0" };
    let mut all = vec!["run", "run.yaml", "-o", "json"];
    all.extend(args);
    run_adze_with(
        dir.path(),
        &all,
        &[
            ("ADZE_ENTRYPOINT", entrypoint.as_str()),
            ("ADZE_STEPS_AT_ONCE", mode),
        ],
        LIMIT,
    )
}

/// What both paths must agree on.
fn shape(outcome: &Outcome) -> Value {
    let object = outcome.json().unwrap_or_else(|| {
        panic!(
            "no JSON status (exit {:?}):\n{}",
            outcome.code,
            outcome.stderr_tail(30)
        )
    });
    let status = &object["status"];
    let condition = &status["conditions"][0];
    let steps: Vec<Value> = status["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    json!({
                        "name": s["name"],
                        "exitCode": s["terminated"]["exitCode"],
                        "reason": s["terminated"]["reason"],
                        "terminationReason": s["terminationReason"],
                        "results": s["results"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut warnings: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    warnings.sort_unstable();
    json!({
        "exit": outcome.code,
        "status": condition["status"],
        "reason": condition["reason"],
        "message": condition["message"],
        "steps": steps,
        "results": status["results"],
        "warnings": warnings,
    })
}

/// Runs `yaml` both ways and asserts the same shape; returns it.
fn same_both_ways(yaml: &str, args: &[&str]) -> Value {
    require_docker();
    let at_once = shape(&run(yaml, true, args));
    let one_by_one = shape(&run(yaml, false, args));
    assert_eq!(
        at_once, one_by_one,
        "started at once (left) and one by one (right) differ"
    );
    at_once
}

#[test]
fn a_failure_skips_the_later_steps_and_on_error_continue_goes_on() {
    let shape = same_both_ways(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: at-once-failure}
spec:
  taskSpec:
    results: [{name: seen}]
    steps:
    - name: tolerated
      image: adze-test/busybox:latest
      onError: continue
      script: printf tolerated > $(results.seen.path); exit 4
    - name: fails
      image: adze-test/busybox:latest
      script: exit 3
    - name: skipped
      image: adze-test/busybox:latest
      script: printf never > $(results.seen.path)
"#,
        &[],
    );
    assert_eq!(shape["reason"], "StepFailed", "{shape:#}");
    assert_eq!(shape["steps"][0]["terminationReason"], "Continued");
    assert_eq!(shape["steps"][0]["exitCode"], 4);
    assert_eq!(shape["steps"][1]["exitCode"], 3);
    assert_eq!(shape["steps"][2]["terminationReason"], "Skipped");
    assert_eq!(shape["results"][0]["value"], "tolerated");
}

#[test]
fn guards_results_and_unwritten_references_read_the_same() {
    let shape = same_both_ways(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: at-once-guards}
spec:
  taskSpec:
    results: [{name: trail}]
    steps:
    - name: produce
      image: adze-test/busybox:latest
      results: [{name: verdict}, {name: list, type: array}]
      script: |
        printf go > $(step.results.verdict.path)
        printf '["a","b"]' > $(step.results.list.path)
    - name: spliced
      image: adze-test/busybox:latest
      command: [sh, -c, 'printf "%s," "$@" >> $(results.trail.path)', sh]
      args: ["$(steps.produce.results.list[*])", "$(steps.produce.results.missing)"]
    - name: guarded-out
      image: adze-test/busybox:latest
      when: [{input: $(steps.produce.results.verdict), operator: notin, values: [go]}]
      script: printf wrong >> $(results.trail.path)
    - name: by-cel
      image: adze-test/busybox:latest
      when: [{cel: "'$(steps.produce.results.verdict)' == 'go'"}]
      script: printf cel >> $(results.trail.path)
    - name: timed-out
      image: adze-test/busybox:latest
      timeout: 1s
      onError: continue
      script: sleep 20
"#,
        &[],
    );
    // A step timeout fails the TaskRun whatever its onError says (§4.3).
    assert_eq!(
        shape["message"],
        "\"step-timed-out\" exited because the step exceeded the specified timeout limit",
        "{shape:#}"
    );
    assert_eq!(
        shape["results"][0]["value"], "a,b,$(steps.produce.results.missing),cel",
        "{shape:#}"
    );
    assert_eq!(shape["steps"][2]["terminationReason"], "Skipped");
    assert_eq!(shape["steps"][4]["terminationReason"], "TimeoutExceeded");
    let warnings = shape["warnings"].to_string();
    assert!(
        warnings.contains("$(steps.produce.results.missing) was not written"),
        "{warnings}"
    );
}

#[test]
fn a_guard_that_cannot_be_decided_fails_its_step_with_the_same_warning() {
    let shape = same_both_ways(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: at-once-bad-guard}
spec:
  taskSpec:
    steps:
    - name: first
      image: adze-test/busybox:latest
      script: "true"
    - name: undecidable
      image: adze-test/busybox:latest
      when: [{cel: "1 + 'a'"}]
      script: "true"
    - name: after
      image: adze-test/busybox:latest
      script: "true"
"#,
        &[],
    );
    assert_eq!(shape["status"], "False", "{shape:#}");
    assert_eq!(shape["steps"][1]["exitCode"], 1, "{shape:#}");
    assert!(
        shape["warnings"]
            .to_string()
            .contains("its when expression failed"),
        "{shape:#}"
    );
}

#[test]
fn a_step_refused_after_earlier_ones_ran_is_refused_where_it_stands() {
    // The non-root check refuses the second step; the first has run and said so.
    let shape = same_both_ways(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: at-once-refused}
spec:
  taskSpec:
    results: [{name: first}]
    steps:
    - name: first
      image: adze-test/busybox:latest
      script: printf ran > $(results.first.path)
    - name: root-only
      image: adze-test/busybox:latest
      securityContext: {runAsNonRoot: true}
      script: "true"
"#,
        &[],
    );
    assert_eq!(shape["reason"], "CreateContainerConfigError", "{shape:#}");
    assert_eq!(shape["results"][0]["value"], "ran", "{shape:#}");
}

/// The path this binary compares is really taken: a kept step container runs the
/// entrypoint, and a step whose program does not exist fails as Tekton's entrypoint fails
/// it (exit 1, the reason on its stderr) where one by one the engine's init exits 127.
#[test]
fn steps_run_through_the_entrypoint_and_a_missing_program_fails_its_step() {
    require_docker();
    let yaml = r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: at-once-missing}
spec:
  taskSpec:
    steps:
    - name: absent
      image: adze-test/busybox:latest
      command: [/no/such/program]
"#;
    let at_once = run(yaml, true, &["--keep"]);
    let kept = docker(&[
        "ps",
        "-aq",
        "--filter",
        "label=adze.dev/run=at-once-missing",
        "--filter",
        "label=adze.dev/step=absent",
    ]);
    let ids: Vec<&str> = kept.split_whitespace().collect();
    assert_eq!(ids.len(), 1, "one kept step container: {kept}");
    let path = docker(&["inspect", "--format", "{{.Path}}", ids[0]]);
    docker(&["rm", "-f", ids[0]]);
    assert_eq!(path.trim(), "/tekton/bin/entrypoint");
    let at_once = shape(&at_once);
    assert_eq!(
        at_once["message"], "\"step-absent\" exited with code 1: Error",
        "{at_once:#}"
    );
    assert_eq!(at_once["steps"][0]["exitCode"], 1, "{at_once:#}");
    // One by one, the engine's init reports a program it cannot execute as 127.
    let one_by_one = shape(&run(yaml, false, &[]));
    assert_eq!(
        one_by_one["message"], "\"step-absent\" exited with code 127: Error",
        "{one_by_one:#}"
    );
}
