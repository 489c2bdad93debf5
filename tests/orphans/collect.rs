//! The collection at the start of `adze run`: it removes what dead owners left, and never
//! what a running adze owns.

use std::collections::BTreeMap;

use super::{containers_of_run, docker, Case, ENGINE, RUN_ID_LABEL};

#[test]
fn a_live_run_is_untouched_by_another_runs_collection_and_by_gc() {
    let _exclusive = ENGINE.write().unwrap_or_else(|e| e.into_inner());
    let mut case = Case::new("live");
    let (name, file) = case.task_run("live", "sleep 60");
    let (child, run_id) = case.start_sleeper(&name, &file);
    let running = || {
        docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label={RUN_ID_LABEL}={run_id}"),
            "--filter",
            "status=running",
        ])
        .lines()
        .count()
    };

    let (_, quick) = case.task_run("quick", "exit 0");
    let out = case.run_file(&quick, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stderr.contains(&run_id), "{}", out.stderr);
    assert_eq!(
        running(),
        1,
        "another run's collection left the live run alone"
    );

    let gc = case.run(&["gc", "--yes"]);
    assert_eq!(gc.code, Some(0), "{}", gc.stderr);
    let line = gc
        .stdout
        .lines()
        .find(|l| l.contains(&format!("run {run_id} ")))
        .unwrap_or_else(|| panic!("the live run is not listed:\n{}", gc.stdout));
    assert!(
        line.starts_with("leaving 1 container and 1 directory")
            && line.ends_with("its adze is still running"),
        "{line}"
    );
    assert_eq!(running(), 1, "gc --yes left the live run alone");
    assert_eq!(case.adze_dirs().len(), 1);

    // The live run still ends as it always did: SIGTERM cancels and cleans up.
    let pid = case.child(child).id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let status = case.child(child).wait().expect("the live run ends");
    assert_eq!(status.code(), Some(1), "cancelled");
    assert!(containers_of_run(&run_id).is_empty());
}

/// A marker as adze writes it, for an owner of this host.
fn marker(run_id: &str, pid: u32, start: &str) -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let machine = match read("/etc/machine-id") {
        m if m.is_empty() => read("/proc/sys/kernel/hostname"),
        m => m,
    };
    let pid_ns = std::fs::read_link("/proc/self/ns/pid")
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entries: BTreeMap<&str, String> = [
        ("adze.dev/run", "handmade".to_owned()),
        (RUN_ID_LABEL, run_id.to_owned()),
        ("adze.dev/owner-pid", pid.to_string()),
        ("adze.dev/owner-start", start.to_owned()),
        (
            "adze.dev/owner-boot",
            read("/proc/sys/kernel/random/boot_id"),
        ),
        ("adze.dev/owner-host", machine),
        ("adze.dev/owner-pidns", pid_ns),
    ]
    .into();
    serde_json::to_string(&entries).expect("JSON")
}

/// This test process's start time, as adze records an owner's.
fn own_start() -> String {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &stat[stat.rfind(')').expect("comm") + 1..];
    rest.split_whitespace()
        .nth(19)
        .expect("field 22")
        .to_owned()
}

#[test]
fn directories_with_a_dead_owners_marker_are_removed_and_no_others() {
    let _shared = ENGINE.read().unwrap_or_else(|e| e.into_inner());
    let mut case = Case::new("dirs");
    let me = std::process::id();
    let make = |name: &str, marker: Option<String>| {
        let dir = case.tmp().join(name);
        std::fs::create_dir_all(dir.join("workspace/deep")).expect("mkdir");
        std::fs::write(dir.join("workspace/deep/file"), "data").expect("write");
        if let Some(m) = marker {
            std::fs::write(dir.join(".adze-owner"), m).expect("marker");
        }
    };
    let dead_id = format!("{}-dead", case.prefix);
    // Our own pid with another start time: the pid was reused, its owner is gone.
    make("adze-dead-1-0", Some(marker(&dead_id, me, "1")));
    make(
        "adze-live-1-0",
        Some(marker(&format!("{}-live", case.prefix), me, &own_start())),
    );
    make("adze-older-1-0", None);
    make("not-adze", Some(marker("x", me, "1")));

    let listed = case.run(&["gc", "--run-id", &dead_id]);
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert!(
        listed.stdout.starts_with(&format!(
            "would remove 1 directory of run {dead_id} (adze pid {me}): handmade; its adze has \
             exited (its pid now belongs to another process)"
        )),
        "{}",
        listed.stdout
    );
    assert!(case.tmp().join("adze-dead-1-0").exists());

    let (_, quick) = case.task_run("quick", "exit 0");
    let out = case.run_file(&quick, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "collected 1 directory of run {dead_id} (adze pid {me})"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        case.adze_dirs(),
        vec!["adze-live-1-0".to_owned(), "adze-older-1-0".to_owned()],
        "only the dead owner's directory went"
    );
    assert!(case.tmp().join("not-adze").exists());
}
