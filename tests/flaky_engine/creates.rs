//! Calls that must not happen twice: a create or start whose answer was lost after the
//! engine acted is checked, not repeated blindly.

use crate::proxy::{Fault, Proxy, Rule};
use crate::{containers_of, run_through, task_run, unique, Cleanup};

const IMAGE: &str = "adze-test/busybox:latest";

#[test]
fn a_create_whose_answer_is_lost_creates_exactly_one_container() {
    let name = unique("create");
    let _cleanup = Cleanup(name.clone());
    // The first create never reaches the engine (sent again), the second's answer is lost
    // after the engine made the container (found, not sent again).
    let proxy = Proxy::start(vec![
        Rule::new("POST", "/containers/create", Fault::DropRequest),
        Rule::new("POST", "/containers/create", Fault::DropAnswer),
    ]);
    let dir = tempfile::tempdir().expect("temporary directory");
    // Kept, so the engine shows every container created for the step.
    let ran = run_through(
        &proxy,
        dir.path(),
        &task_run(&name, IMAGE, ""),
        &["--pull", "never", "--keep"],
    );
    ran.succeeded_with_ok(&proxy);
    assert_eq!(
        proxy.seen("POST", "/containers/create"),
        2,
        "{}",
        proxy.log()
    );
    assert_eq!(
        proxy.reached("POST", "/containers/create"),
        1,
        "the engine saw one create\n{}",
        proxy.log()
    );
    let created = containers_of(&name, Some("only"));
    assert_eq!(created.len(), 1, "one container for the step: {created:?}");
}

#[test]
fn a_start_whose_answer_is_lost_is_not_started_again() {
    let name = unique("start");
    let _cleanup = Cleanup(name.clone());
    let proxy = Proxy::start(vec![Rule::new(
        "POST",
        "/containers/*/start",
        Fault::DropAnswer,
    )]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = tempfile::tempdir().expect("temporary directory");
    let workspace = format!("out={}", out.path().display());
    // Each start of the container appends a line; a second start would run the step again.
    let ran = run_through(
        &proxy,
        dir.path(),
        &task_run(&name, IMAGE, "echo ran >> $(workspaces.out.path)/starts"),
        &["--pull", "never", "-w", &workspace],
    );
    ran.succeeded_with_ok(&proxy);
    let starts = std::fs::read_to_string(out.path().join("starts")).expect("the step ran");
    assert_eq!(starts, "ran\n", "the step ran once");
    assert_eq!(
        proxy.reached("POST", "/containers/*/start"),
        1,
        "{}",
        proxy.log()
    );
}

#[test]
fn sidecars_and_the_network_holder_are_created_and_started_once_too() {
    let name = unique("sidecar");
    let _cleanup = Cleanup(name.clone());
    // Every container's first create and first start lose their answers: the holder's, the
    // sidecar's and the step's.
    let proxy = Proxy::start(vec![
        Rule::new("POST", "/containers/create", Fault::DropAnswer).times(3),
        Rule::new("POST", "/containers/*/start", Fault::DropAnswer).times(3),
    ]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = tempfile::tempdir().expect("temporary directory");
    let workspace = format!("out={}", out.path().display());
    let yaml = format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: {name}
spec:
  taskSpec:
    workspaces:
      - name: out
    results:
      - name: out
    sidecars:
      - name: side
        image: {IMAGE}
        script: |
          echo ran >> $(workspaces.out.path)/side-starts
          sleep 60
    steps:
      - name: only
        image: {IMAGE}
        script: |
          echo ran >> $(workspaces.out.path)/starts
          printf ok > $(results.out.path)
"#
    );
    let ran = run_through(
        &proxy,
        dir.path(),
        &yaml,
        &["--pull", "never", "--keep", "-w", &workspace],
    );
    ran.succeeded_with_ok(&proxy);
    assert_eq!(
        proxy.reached("POST", "/containers/create"),
        3,
        "{}",
        proxy.log()
    );
    assert_eq!(
        proxy.reached("POST", "/containers/*/start"),
        3,
        "{}",
        proxy.log()
    );
    let kept = containers_of(&name, None);
    assert_eq!(kept.len(), 3, "holder, sidecar and step: {kept:?}");
    for file in ["starts", "side-starts"] {
        let starts = std::fs::read_to_string(out.path().join(file)).expect("it ran");
        assert_eq!(starts, "ran\n", "{file}: ran once");
    }
}

#[test]
fn a_slow_create_is_waited_for_not_repeated() {
    let name = unique("slow");
    let _cleanup = Cleanup(name.clone());
    // Slowness is not a failure: nothing times out and nothing is sent twice.
    let proxy = Proxy::start(vec![Rule::new(
        "POST",
        "/containers/create",
        Fault::Delay(std::time::Duration::from_secs(2)),
    )]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let ran = run_through(
        &proxy,
        dir.path(),
        &task_run(&name, IMAGE, ""),
        &["--pull", "never"],
    );
    ran.succeeded_with_ok(&proxy);
    assert_eq!(
        proxy.seen("POST", "/containers/create"),
        1,
        "{}",
        proxy.log()
    );
    assert!(
        ran.took >= std::time::Duration::from_secs(2),
        "the delay applied"
    );
    assert!(containers_of(&name, None).is_empty());
}
