//! `adze run` killed with SIGKILL mid-run: its watchdog removes the run's containers and
//! directories within the bound docs/faults-orphans.md states.

use std::time::{Duration, Instant};

use super::{containers_of_run, kill9, poll, Case, ENGINE};

/// The bound docs/faults-orphans.md states: 2 s after adze's death, plus what the engine
/// takes to kill and remove the containers (allowed 3 s here, on a loaded 2-core CI box).
const BOUND: Duration = Duration::from_secs(5);

#[test]
fn sigkill_mid_run_the_watchdog_removes_the_runs_containers_and_directories() {
    let _shared = ENGINE.read().unwrap_or_else(|e| e.into_inner());
    let mut case = Case::new("kill");
    // A sidecar brings the network holder too: all three kinds of container adze makes.
    let sidecar = "    sidecars:\n    - name: side\n      image: adze-test/busybox:latest\n      \
                   script: 'sleep 60'\n";
    let (name, file) = case.task_run_with("nap", "sleep 60", sidecar);
    let (child, run_id) = case.start_sleeper(&name, &file);
    assert_eq!(
        containers_of_run(&run_id).len(),
        3,
        "holder, sidecar and step"
    );
    assert_eq!(case.adze_dirs().len(), 1, "the TaskRun's directory exists");

    let pid = case.child(child).id();
    kill9(pid);
    let killed = Instant::now();
    let _ = case.child(child).wait();

    let gone = poll(BOUND + Duration::from_secs(10), || {
        (containers_of_run(&run_id).is_empty() && case.adze_dirs().is_empty())
            .then(|| killed.elapsed())
    })
    .unwrap_or_else(|| {
        panic!(
            "20 s after SIGKILL, containers {:?} and directories {:?} of run {run_id} remain",
            containers_of_run(&run_id),
            case.adze_dirs()
        )
    });
    eprintln!("containers and directory of the killed run removed {gone:?} after SIGKILL");
    assert!(
        gone <= BOUND,
        "removed {gone:?} after SIGKILL, over the stated bound of {BOUND:?}"
    );
}

/// Kills a sleeping run's watchdog, then the run, and checks the containers stay.
fn kill_run_and_its_watchdog(case: &mut Case, suffix: &str) -> (String, String) {
    let (name, file) = case.task_run(suffix, "sleep 60");
    let (child, run_id) = case.start_sleeper(&name, &file);
    let watchdog = super::watchdog_pid(&run_id)
        .unwrap_or_else(|| panic!("no watchdog process for run {run_id}"));
    kill9(watchdog);
    let pid = case.child(child).id();
    kill9(pid);
    let _ = case.child(child).wait();
    // Nobody is left to remove them: they must still be there well past the watchdog's bound.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        containers_of_run(&run_id).len(),
        1,
        "the step container outlives adze and its watchdog"
    );
    assert_eq!(case.adze_dirs().len(), 1);
    (name, run_id)
}

#[test]
fn with_the_watchdog_killed_too_the_next_run_collects_and_says_so() {
    let _exclusive = ENGINE.write().unwrap_or_else(|e| e.into_inner());
    let mut case = Case::new("next");
    let (name, run_id) = kill_run_and_its_watchdog(&mut case, "dead");

    let (_, quick) = case.task_run("quick", "exit 0");
    let out = case.run_file(&quick, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let said = format!("collected 1 container and 1 directory of run {run_id} (adze pid ");
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with(&said))
        .unwrap_or_else(|| panic!("no line {said:?} in:\n{}", out.stderr));
    assert!(
        line.ends_with(&format!("{name}; its adze has exited")),
        "{line}"
    );
    assert!(containers_of_run(&run_id).is_empty());
    assert!(case.adze_dirs().is_empty(), "{:?}", case.adze_dirs());
}

#[test]
fn with_the_watchdog_killed_too_gc_lists_them_and_removes_them_with_yes() {
    let _exclusive = ENGINE.write().unwrap_or_else(|e| e.into_inner());
    let mut case = Case::new("gc-yes");
    let (name, run_id) = kill_run_and_its_watchdog(&mut case, "dead");

    let listed = case.run(&["gc"]);
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    let line = listed
        .stdout
        .lines()
        .find(|l| l.contains(&format!("run {run_id} ")))
        .unwrap_or_else(|| panic!("run {run_id} not listed:\n{}", listed.stdout));
    assert!(
        line.starts_with("would remove 1 container and 1 directory of run") && line.contains(&name),
        "{line}"
    );
    assert!(
        listed.stdout.contains("run `adze gc --yes`"),
        "{}",
        listed.stdout
    );
    assert_eq!(
        containers_of_run(&run_id).len(),
        1,
        "gc without --yes removed nothing"
    );
    assert_eq!(case.adze_dirs().len(), 1);

    let removed = case.run(&["gc", "--yes", "--run-id", &run_id, "-o", "json"]);
    assert_eq!(removed.code, Some(0), "{}", removed.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&removed.stdout).unwrap_or_else(|e| panic!("{e}: {}", removed.stdout));
    let groups = report["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "only the run asked for: {report}");
    let group = &groups[0];
    assert_eq!(group["runId"], run_id.as_str());
    assert_eq!(group["standing"], "orphaned");
    assert_eq!(group["action"], "removed");
    assert_eq!(group["runs"], serde_json::json!([name]));
    assert_eq!(group["containers"].as_array().map(Vec::len), Some(1));
    assert_eq!(group["directories"].as_array().map(Vec::len), Some(1));
    assert!(containers_of_run(&run_id).is_empty());
    assert!(case.adze_dirs().is_empty());
}
