//! Calls that must not happen twice: a create or start whose answer was lost after the
//! engine acted is checked, not repeated blindly.

use crate::proxy::{Fault, Proxy, Rule};
use crate::{containers_of, run_through, task_run, unique, Cleanup};

const IMAGE: &str = "adze-test/busybox:latest";

#[test]
fn a_create_whose_answer_is_lost_creates_exactly_one_container() {
    let name = unique("create");
    let _cleanup = Cleanup(name.clone());
    let proxy = Proxy::start(vec![Rule::new(
        "POST",
        "/containers/create",
        Fault::DropAnswer,
    )]);
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
