//! CEL when-expressions (`when: [{cel: ...}]`): Tekton's variables are substituted into the
//! text first, then the expression must give a bool; `adze run` treats the alpha flag
//! `enable-cel-in-whenexpression` as on.

use super::{run, run_with};
use crate::common::run_adze;
use std::time::Duration;

const GUARDED: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: cel-guarded}
spec:
  params: [{name: branch, value: main}]
  pipelineSpec:
    params: [{name: branch}]
    tasks:
    - name: check
      taskSpec:
        results: [{name: env}]
        steps:
        - {image: adze-test/busybox:latest, script: 'printf staging > $(results.env.path)'}
    - name: on-branch
      when: [{cel: "'$(params.branch)' in ['main', 'release']"}]
      taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'true'}]}
    - name: to-staging
      when: [{cel: "'$(tasks.check.results.env)'.startsWith('stag')"}]
      taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'true'}]}
    - name: to-prod
      when: [{cel: "'$(tasks.check.results.env)' == 'prod'"}]
      taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'true'}]}
"#;

#[test]
fn cel_on_params_and_results_runs_or_skips_tasks() {
    let ran = run(GUARDED).succeeded();
    assert_eq!(ran.condition()["reason"], "Completed", "{}", ran.run);
    let children: Vec<&str> = ran.status()["childReferences"]
        .as_array()
        .expect("childReferences")
        .iter()
        .filter_map(|c| c["pipelineTaskName"].as_str())
        .collect();
    assert!(children.contains(&"on-branch"), "{children:?}");
    assert!(children.contains(&"to-staging"), "{children:?}");
    assert!(!children.contains(&"to-prod"), "{children:?}");
    assert_eq!(
        ran.status()["skippedTasks"],
        serde_json::json!([{
            "name": "to-prod",
            "reason": "When Expressions evaluated to false",
            "whenExpressions": [{"cel": "'staging' == 'prod'"}]
        }])
    );
    assert!(
        !ran.stderr.contains("gate/"),
        "no flag warning without --strict:\n{}",
        ran.stderr
    );
}

#[test]
fn strict_warns_that_the_flag_is_assumed() {
    let yaml = GUARDED.replace("cel-guarded", "cel-guarded-strict");
    let ran = run_with(&yaml, &["--strict"]).succeeded();
    assert!(
        ran.stderr.contains("enable-cel-in-whenexpression"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_non_bool_cel_fails_the_run_with_cel_evaluation_failed() {
    let ran = run(r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: cel-not-bool}
spec:
  params: [{name: branch, value: main}]
  pipelineSpec:
    params: [{name: branch}]
    tasks:
    - name: guarded
      when: [{cel: "'$(params.branch)' + '-x'"}]
      taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'true'}]}
"#);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}", ran.run);
    assert_eq!(condition["reason"], "CELEvaluationFailed");
    assert_eq!(
        condition["message"],
        "Error evaluating CEL cel-not-bool: [User error] The CEL expression 'main' + '-x' is not evaluated to a boolean"
    );
    assert!(ran.status()["childReferences"]
        .as_array()
        .is_none_or(Vec::is_empty));
}

#[test]
fn validate_points_at_a_cel_syntax_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let yaml = r#"apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: cel-syntax}
spec:
  params: [{name: branch}]
  tasks:
  - name: guarded
    when:
    - cel: "'main' == $(params.branch)"
    taskSpec: {steps: [{image: adze-test/busybox:latest, script: 'true'}]}
"#;
    std::fs::write(dir.path().join("p.yaml"), yaml).expect("write");
    let args = [
        "validate",
        "p.yaml",
        "--feature-flag",
        "enable-cel-in-whenexpression=true",
        "--color",
        "never",
    ];
    let out = run_adze(dir.path(), &args, Duration::from_secs(60));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("p.yaml:9:23"),
        "the error points at the `$` inside the string:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("invalid cel expression"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("quote it"), "{}", out.stderr);
}
