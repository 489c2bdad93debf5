//! Warnings before a run: repeated ones are counted after the first three of a rule code,
//! `--all-warnings` lists them all, and neither changes the run.

use super::{run_with, Ran};

/// A TaskRun whose script pastes five params: five `security/script-injection` warnings.
fn pasting(name: &str) -> String {
    format!(
        "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: {name}
spec:
  params:
  - {{name: a, value: '1'}}
  - {{name: b, value: '2'}}
  - {{name: c, value: '3'}}
  - {{name: d, value: '4'}}
  - {{name: e, value: '5'}}
  taskSpec:
    params: [{{name: a}}, {{name: b}}, {{name: c}}, {{name: d}}, {{name: e}}]
    results: [{{name: joined}}]
    steps:
    - name: join
      image: adze-test/busybox:latest
      script: |
        printf %s $(params.a)$(params.b)$(params.c)$(params.d)$(params.e) > $(results.joined.path)
"
    )
}

/// Runs [`pasting`] with `extra` args, checks the run itself is untouched by how warnings
/// are shown, and returns what it printed and how many warnings it listed in full.
fn run_pasting(name: &str, extra: &[&str]) -> (Ran, usize) {
    let ran = run_with(&pasting(name), extra).succeeded();
    assert_eq!(ran.result("joined"), "12345", "{}", ran.run);
    let listed = ran
        .stderr
        .matches("warning[security/script-injection]")
        .count();
    (ran, listed)
}

#[test]
fn run_counts_repeated_warnings_and_still_runs() {
    let (ran, listed) = run_pasting("diag-grouped", &[]);
    assert_eq!(listed, 3, "{}", ran.stderr);
    for line in [
        "... and 2 more like this (security/script-injection); --all-warnings to list them",
        "ok: 0 errors, 5 warnings in 1 object; 2 warnings not listed (--all-warnings lists them)",
    ] {
        assert!(ran.stderr.contains(line), "no {line:?} in\n{}", ran.stderr);
    }
}

#[test]
fn run_with_all_warnings_lists_every_warning() {
    let (ran, listed) = run_pasting("diag-all", &["--all-warnings"]);
    assert_eq!(listed, 5, "{}", ran.stderr);
    assert!(!ran.stderr.contains("more like this"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("ok: 0 errors, 5 warnings in 1 object\n"),
        "{}",
        ran.stderr
    );
}
