//! A step's `when` guard, decided when the step starts: a false guard skips the step
//! (`terminationReason: Skipped`, exit 0) and the steps after it still run.

use crate::run;

#[test]
fn a_false_step_guard_skips_only_that_step() {
    let ran = run(r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: step-when}
spec:
  params: [{name: mode, value: fast}]
  taskSpec:
    params: [{name: mode}]
    results: [{name: trail}]
    steps:
    - name: produce
      image: adze-test/busybox:latest
      results: [{name: verdict}]
      script: printf go > $(step.results.verdict.path)
    - name: by-param
      image: adze-test/busybox:latest
      when: [{input: $(params.mode), operator: notin, values: [fast]}]
      script: printf by-param >> $(results.trail.path)
    - name: by-result
      image: adze-test/busybox:latest
      when: [{input: $(steps.produce.results.verdict), operator: in, values: [go]}]
      script: printf by-result >> $(results.trail.path)
    - name: by-cel
      image: adze-test/busybox:latest
      when: [{cel: "'$(steps.produce.results.verdict)' == 'stop'"}]
      script: printf by-cel >> $(results.trail.path)
    - name: after
      image: adze-test/busybox:latest
      script: printf -after >> $(results.trail.path)
"#)
    .succeeded();
    assert_eq!(ran.result("trail"), "by-result-after");
    let steps = ran.status()["steps"].as_array().expect("status.steps");
    let reason = |i: usize| steps[i]["terminationReason"].as_str().unwrap_or_default();
    assert_eq!(reason(1), "Skipped", "{}", ran.run);
    assert_eq!(steps[1]["terminated"]["exitCode"], 0, "{}", ran.run);
    assert_eq!(reason(2), "Completed", "{}", ran.run);
    assert_eq!(reason(3), "Skipped", "{}", ran.run);
    assert_eq!(reason(4), "Completed", "{}", ran.run);
}

/// The same guard on other images and entry styles: a dash script (Debian's `/bin/sh`), a
/// bash shebang, and a shell-less `command` whose output becomes a result through
/// `stdoutConfig`, guarded by an earlier step's result.
#[test]
fn step_guards_on_other_shells_and_without_a_shell() {
    let ran = run(r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: step-when-shells}
spec:
  taskSpec:
    results: [{name: echoed}, {name: shell}]
    steps:
    - name: decide
      image: adze-test/debian:bookworm
      results: [{name: go}]
      script: printf yes > $(step.results.go.path)
    - name: bash-only
      image: adze-test/debian:bookworm
      when: [{input: $(steps.decide.results.go), operator: in, values: ["yes"]}]
      script: |
        #!/bin/bash
        [[ -n "$BASH_VERSION" ]] && printf bash > $(results.shell.path)
    - name: no-shell
      image: adze-test/debian:bookworm
      when: [{cel: "'$(steps.decide.results.go)' == 'yes'"}]
      command: [echo, -n, from-command]
      stdoutConfig: {path: $(results.echoed.path)}
    - name: never
      image: adze-test/debian:bookworm
      when: [{input: $(steps.decide.results.go), operator: notin, values: ["yes"]}]
      command: [sh, -c, "printf wrong > $(results.shell.path)"]
"#)
    .succeeded();
    assert_eq!(ran.result("shell"), "bash");
    assert_eq!(ran.result("echoed"), "from-command");
    let steps = ran.status()["steps"].as_array().expect("status.steps");
    assert_eq!(steps[3]["terminationReason"], "Skipped", "{}", ran.run);
}
