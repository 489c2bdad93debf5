//! adze's own files on a full filesystem: the last-run record in the working directory, the
//! TaskRun directory and the PipelineRun's shared workspace directory under `$TMPDIR`. The error names the file and the cause, the status
//! object is still printed, and the run exits 3 (the host's fault, not the steps').

use crate::{root_or_skip, run_file, run_in, unique, Ran, Tmpfs};

#[test]
fn a_full_working_directory_names_the_last_run_record_and_still_prints_the_status() {
    if !root_or_skip(
        "a_full_working_directory_names_the_last_run_record_and_still_prints_the_status",
    ) {
        return;
    }
    let disk = Tmpfs::mount("size=1m");
    let name = unique("disk-state-full");
    let yaml = format!(
        r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {{name: {name}}}
spec:
  pipelineSpec:
    tasks:
    - name: hello
      taskSpec:
        steps:
        - name: say
          image: adze-test/busybox:latest
          script: echo hello
"#
    );
    // run.yaml is written first; then nothing is left for `.adze/runs`.
    std::fs::write(disk.path.join("run.yaml"), &yaml).expect("write run.yaml");
    disk.fill();
    let ran = run_file(&disk.path, &[], &[]);

    assert_eq!(ran.code, Some(3), "a full disk is exit 3:\n{}", ran.stderr);
    assert_eq!(
        ran.condition()["status"],
        "True",
        "the status object says what the tasks did:\n{}\n{}",
        ran.run,
        ran.stderr
    );
    let record = disk.path.join(format!(".adze/runs/{name}.json"));
    assert!(
        ran.stderr
            .contains(&format!("cannot write {}", record.display())),
        "the error names the record:\n{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("No space left on device"),
        "the error names the cause:\n{}",
        ran.stderr
    );
    assert!(!record.exists(), "no partial record is left");
}

#[test]
fn a_full_tmpdir_fails_the_taskrun_naming_the_file_and_still_prints_the_status() {
    if !root_or_skip("a_full_tmpdir_fails_the_taskrun_naming_the_file_and_still_prints_the_status")
    {
        return;
    }
    let disk = Tmpfs::mount("size=1m");
    disk.fill();
    let dir = tempfile::tempdir().expect("working directory");
    let name = unique("disk-tmp-full");
    let yaml = format!(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: {name}}}
spec:
  taskSpec:
    steps:
    - name: say
      image: adze-test/busybox:latest
      script: echo hello
"#
    );
    let ran = run_in(dir.path(), &yaml, &[], &[("TMPDIR", &disk.path)]);

    assert_eq!(ran.code, Some(3), "a full disk is exit 3:\n{}", ran.stderr);
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}\n{}", ran.run, ran.stderr);
    assert_eq!(condition["reason"], "PodCreationFailed", "{}", ran.run);
    let message = condition["message"].as_str().unwrap_or_default();
    // The TaskRun's directory is the first thing written there: its owner marker.
    let own_dir = disk.path.join(format!("adze-{name}-"));
    assert!(
        message.contains(&format!("cannot write {}", own_dir.display()))
            && message.contains("/.adze-owner"),
        "the message names the file: {message}"
    );
    assert!(
        message.contains("No space left on device"),
        "the message names the cause: {message}"
    );
    assert!(
        ran.stderr
            .contains("error: cannot prepare the TaskRun's directories"),
        "adze says it failed, not the step:\n{}",
        ran.stderr
    );
}

#[test]
fn a_tmpdir_without_room_for_the_run_directory_ends_the_pipelinerun_with_a_status() {
    if !root_or_skip(
        "a_tmpdir_without_room_for_the_run_directory_ends_the_pipelinerun_with_a_status",
    ) {
        return;
    }
    let disk = Tmpfs::mount("size=1m,nr_inodes=16");
    disk.exhaust_inodes();
    let dir = tempfile::tempdir().expect("working directory");
    let name = unique("disk-rundir-full");
    let yaml = format!(
        r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {{name: {name}}}
spec:
  workspaces:
  - {{name: shared, emptyDir: {{}}}}
  pipelineSpec:
    workspaces: [{{name: shared}}]
    tasks:
    - name: hello
      workspaces: [{{name: shared}}]
      taskSpec:
        workspaces: [{{name: shared}}]
        steps:
        - name: say
          image: adze-test/busybox:latest
          script: echo hello > $(workspaces.shared.path)/greeting
"#
    );
    let ran = run_in(dir.path(), &yaml, &[], &[("TMPDIR", &disk.path)]);

    let message = assert_workspace_not_created(&ran, &disk);
    assert!(
        ran.run["status"]["childReferences"].is_null(),
        "no TaskRun started: {}",
        ran.run
    );
    assert!(
        ran.stderr.contains(&format!("error: {message}")),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_tmpdir_without_room_for_a_taskrun_workspace_ends_it_with_a_status() {
    if !root_or_skip("a_tmpdir_without_room_for_a_taskrun_workspace_ends_it_with_a_status") {
        return;
    }
    let disk = Tmpfs::mount("size=1m,nr_inodes=16");
    disk.exhaust_inodes();
    let dir = tempfile::tempdir().expect("working directory");
    let name = unique("disk-taskrun-ws");
    let yaml = format!(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: {name}}}
spec:
  workspaces:
  - {{name: scratch, emptyDir: {{}}}}
  taskSpec:
    workspaces: [{{name: scratch}}]
    steps:
    - name: say
      image: adze-test/busybox:latest
      script: echo hello > $(workspaces.scratch.path)/greeting
"#
    );
    let ran = run_in(dir.path(), &yaml, &[], &[("TMPDIR", &disk.path)]);

    assert_workspace_not_created(&ran, &disk);
    assert!(
        ran.run["status"]["steps"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "no step ran: {}",
        ran.run
    );
    assert_eq!(
        ran.run["status"]["taskSpec"]["workspaces"][0]["name"], "scratch",
        "the status keeps the Task's declarations: {}",
        ran.run
    );
}

/// A run whose workspace directory could not be created on the full `disk`: exit 3, a status
/// `False/CouldntCreateWorkspacePVC` naming where and why; returns the condition's message.
fn assert_workspace_not_created(ran: &Ran, disk: &Tmpfs) -> String {
    assert_eq!(ran.code, Some(3), "a full disk is exit 3:\n{}", ran.stderr);
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}\n{}", ran.run, ran.stderr);
    assert_eq!(
        condition["reason"], "CouldntCreateWorkspacePVC",
        "{}",
        ran.run
    );
    let message = condition["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains(&disk.path.display().to_string())
            && message.contains("No space left on device"),
        "the message names where and why: {message}"
    );
    message
}
