//! A step that fills its workspace fails as its own: its exit code and what it printed, in
//! the status object Tekton would show, with no error of adze's.

use crate::{root_or_skip, run_in, unique, Tmpfs};

#[test]
fn a_step_that_fills_its_workspace_fails_with_its_own_exit_code_and_message() {
    if !root_or_skip("a_step_that_fills_its_workspace_fails_with_its_own_exit_code_and_message") {
        return;
    }
    let disk = Tmpfs::mount("size=2m");
    let dir = tempfile::tempdir().expect("working directory");
    let name = unique("disk-ws-full");
    let yaml = format!(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: {name}}}
spec:
  workspaces:
  - {{name: data, emptyDir: {{}}}}
  taskSpec:
    workspaces: [{{name: data}}]
    results: [{{name: why}}]
    steps:
    - name: fill
      image: adze-test/busybox:latest
      script: |
        rc=0
        dd if=/dev/zero of=$(workspaces.data.path)/fill bs=64k || rc=$?
        echo "fill: dd stopped with $rc"
        printf 'dd exited %s' "$rc" > $(results.why.path)
        exit $rc
    - name: after
      image: adze-test/busybox:latest
      script: echo never runs
"#
    );
    let workspace = format!("data={}", disk.path.display());
    let ran = run_in(dir.path(), &yaml, &["-w", &workspace], &[]);

    assert_eq!(
        ran.code,
        Some(1),
        "a failed step is exit 1:\n{}",
        ran.stderr
    );
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}", ran.run);
    assert_eq!(condition["reason"], "StepFailed", "{}", ran.run);
    assert_eq!(
        condition["message"], "\"step-fill\" exited with code 1: Error",
        "{}",
        ran.run
    );
    let steps = &ran.run["status"]["steps"];
    assert_eq!(steps[0]["name"], "fill", "{}", ran.run);
    assert_eq!(steps[0]["terminated"]["exitCode"], 1, "{}", ran.run);
    assert_eq!(steps[0]["terminated"]["reason"], "Error", "{}", ran.run);
    assert_eq!(steps[1]["terminationReason"], "Skipped", "{}", ran.run);
    let results = &ran.run["status"]["results"];
    assert_eq!(results[0]["name"], "why", "{}", ran.run);
    assert_eq!(results[0]["value"], "dd exited 1", "{}", ran.run);
    assert!(
        ran.stderr.contains("fill: dd stopped with 1"),
        "the step's own message is shown:\n{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("No space left on device"),
        "dd's complaint is shown:\n{}",
        ran.stderr
    );
    assert!(
        !ran.stderr.contains("error:"),
        "a full workspace is the step's failure, not adze's:\n{}",
        ran.stderr
    );
}
