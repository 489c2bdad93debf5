//! The field-coverage table at run time: refused fields stop the run before anything
//! starts, at their `file:line:col`; fields without local effect are run with a warning.

use crate::{run, run_with};

const IMAGE: &str = "adze-test/busybox:latest";

#[test]
fn a_refused_field_stops_the_run_at_its_location_before_anything_starts() {
    let ran = run(&format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: compat-refused}}
spec:
  taskSpec:
    volumes:
    - name: share
      nfs: {{server: nas.example, path: /exports}}
    steps:
    - name: never
      image: {IMAGE}
      script: echo this must not run
"#
    ));
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert_eq!(ran.run, serde_json::Value::Null, "no run, no status");
    assert!(
        ran.stderr
            .contains("error[run/unsupported-field]: Volume.nfs is not supported by adze run"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("run.yaml:8:7"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("this must not run"), "{}", ran.stderr);
}

#[test]
fn a_field_without_local_effect_runs_with_a_warning_naming_it() {
    let ran = run(&format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: compat-no-effect}}
spec:
  podTemplate:
    nodeSelector: {{disktype: ssd}}
  taskSpec:
    results: [{{name: ran}}]
    steps:
    - name: work
      image: {IMAGE}
      script: printf yes > $(results.ran.path)
"#
    ))
    .succeeded();
    assert_eq!(ran.result("ran"), "yes");
    assert_eq!(
        ran.run["spec"]["podTemplate"]["nodeSelector"]["disktype"], "ssd",
        "accepted and recorded in the run: {}",
        ran.run
    );
    assert!(
        ran.stderr.contains(
            "warning[run/no-effect-locally]: PodTemplate.nodeSelector has no effect when adze runs locally"
        ),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("run.yaml:6:5"), "{}", ran.stderr);
}

#[test]
fn strict_refuses_a_field_honoured_with_a_local_caveat() {
    let yaml = format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: compat-strict}}
spec:
  taskSpec:
    volumes:
    - name: host
      hostPath: {{path: /tmp}}
    steps:
    - name: work
      image: {IMAGE}
      script: "true"
"#
    );
    let ran = run_with(&yaml, &["--strict"]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("error[run/local-caveat]: Volume.hostPath is refused under --strict"),
        "{}",
        ran.stderr
    );
}
