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
