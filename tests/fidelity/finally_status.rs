//! What finally tasks read about the DAG: `$(tasks.T.status)`, `$(tasks.T.reason)` and
//! `$(tasks.status)`, with the values Tekton gives (a failure ignored by `onError: continue`
//! is `Failed` with reason `FailureIgnored`; a skipped task is `None` with no reason).

use super::run;

/// A finally task `report` that writes every param it gets to a result of the same name,
/// and pipeline results exposing them.
fn pipeline_run(name: &str, tasks: &str, vars: &[(&str, &str)]) -> String {
    let params: String = vars
        .iter()
        .map(|(n, v)| format!("      - {{name: {n}, value: \"{v}\"}}\n"))
        .collect();
    let declared: String = vars
        .iter()
        .map(|(n, _)| format!("          - {{name: {n}}}\n"))
        .collect();
    let results: String = vars
        .iter()
        .map(|(n, _)| format!("          - {{name: {n}}}\n"))
        .collect();
    let script: String = vars
        .iter()
        .map(|(n, _)| format!("            printf '%s' \"$(params.{n})\" > $(results.{n}.path)\n"))
        .collect();
    let pipeline_results: String = vars
        .iter()
        .map(|(n, _)| format!("    - {{name: {n}, value: $(finally.report.results.{n})}}\n"))
        .collect();
    format!(
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {{name: {name}}}
spec:
  pipelineSpec:
    results:
{pipeline_results}    tasks:
{tasks}    finally:
    - name: report
      params:
{params}      taskSpec:
        params:
{declared}        results:
{results}        steps:
        - image: adze-test/busybox:latest
          script: |
{script}"#
    )
}

#[test]
fn finally_reads_status_and_reason_of_each_task_and_of_all() {
    let tasks = r#"    - name: ok
      taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'true'}]}
    - name: bad
      onError: continue
      taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'exit 3'}]}
    - name: skipped
      when: [{input: a, operator: in, values: [b]}]
      taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'true'}]}
"#;
    let vars = [
        ("ok-status", "$(tasks.ok.status)"),
        ("ok-reason", "$(tasks.ok.reason)"),
        ("bad-status", "$(tasks.bad.status)"),
        ("bad-reason", "$(tasks.bad.reason)"),
        ("skipped-status", "$(tasks.skipped.status)"),
        ("skipped-reason", "$(tasks.skipped.reason)"),
        ("all", "$(tasks.status)"),
    ];
    let ran = run(&pipeline_run("finally-status", tasks, &vars)).succeeded();
    // Ignored failure and a skip: the run succeeds as Completed.
    assert_eq!(ran.condition()["reason"], "Completed", "{}", ran.run);
    for (name, want) in [
        ("ok-status", "Succeeded"),
        ("ok-reason", "Succeeded"),
        ("bad-status", "Failed"),
        ("bad-reason", "FailureIgnored"),
        ("skipped-status", "None"),
        ("skipped-reason", ""),
        ("all", "Failed"),
    ] {
        assert_eq!(ran.result(name), want, "{name} in {}", ran.run);
    }
}
