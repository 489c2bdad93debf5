//! `adze gc`: kept runs, containers of older adze versions, containers adze did not make,
//! and an unreachable engine.

use super::{containers_of_run, docker, Case, ENGINE, RUN_ID_LABEL, RUN_LABEL};

#[test]
fn kept_runs_are_left_by_runs_and_gc_until_include_kept() {
    let _shared = ENGINE.read().unwrap_or_else(|e| e.into_inner());
    let mut case = Case::new("kept");
    let (name, file) = case.task_run("kept", "exit 0");
    let kept = case.run_file(&file, &["--keep"]);
    assert_eq!(kept.code, Some(0), "{}", kept.stderr);
    let run_id = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label={RUN_LABEL}={name}"),
        "--format",
        &format!("{{{{.Label \"{RUN_ID_LABEL}\"}}}}"),
    ])
    .trim()
    .to_owned();
    assert!(!run_id.is_empty(), "the kept container has a run id");
    assert!(
        kept.stderr
            .contains(&format!("adze gc --yes --include-kept --run-id {run_id}")),
        "{}",
        kept.stderr
    );
    assert_eq!(containers_of_run(&run_id).len(), 1);
    assert_eq!(case.adze_dirs().len(), 1);

    let (_, quick) = case.task_run("quick", "exit 0");
    let next = case.run_file(&quick, &[]);
    assert_eq!(next.code, Some(0), "{}", next.stderr);
    assert!(!next.stderr.contains(&run_id), "{}", next.stderr);
    assert_eq!(
        containers_of_run(&run_id).len(),
        1,
        "runs never collect kept ones"
    );

    let yes = case.run(&["gc", "--yes", "--run-id", &run_id]);
    assert_eq!(yes.code, Some(0), "{}", yes.stderr);
    assert!(
        yes.stdout.starts_with(&format!(
            "kept (remove with --yes --include-kept): 1 container and 1 directory of run {run_id}"
        )),
        "{}",
        yes.stdout
    );
    assert_eq!(
        containers_of_run(&run_id).len(),
        1,
        "--yes alone leaves kept ones"
    );

    let all = case.run(&["gc", "--yes", "--include-kept", "--run-id", &run_id]);
    assert_eq!(all.code, Some(0), "{}", all.stderr);
    assert!(
        all.stdout
            .starts_with("removed 1 container and 1 directory"),
        "{}",
        all.stdout
    );
    assert!(containers_of_run(&run_id).is_empty());
    assert!(case.adze_dirs().is_empty());
}

#[test]
fn older_adze_containers_are_listed_as_owner_unknown_and_unlabelled_ones_never_touched() {
    let _exclusive = ENGINE.write().unwrap_or_else(|e| e.into_inner());
    let mut case = Case::new("legacy");
    let legacy = format!("{}-old", case.prefix);
    let foreign = format!("{}-foreign", case.prefix);
    case.remove_at_end(format!("{RUN_LABEL}={legacy}"));
    case.remove_at_end(format!("something-else={foreign}"));
    let start = |label: String| {
        docker(&[
            "run",
            "-d",
            "--label",
            &label,
            "adze-test/busybox:latest",
            "sleep",
            "60",
        ])
        .trim()
        .to_owned()
    };
    let old = start(format!("{RUN_LABEL}={legacy}"));
    let other = start(format!("something-else={foreign}"));
    let exists = |id: &str| {
        docker(&["ps", "-aq", "--no-trunc", "--filter", &format!("id={id}")])
            .trim()
            .starts_with(id)
    };

    let (_, quick) = case.task_run("quick", "exit 0");
    let out = case.run_file(&quick, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        exists(&old),
        "runs leave containers of an unknown owner alone"
    );
    assert!(exists(&other));

    let listed = case.run(&["gc", "-o", "json"]);
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&listed.stdout).unwrap_or_else(|e| panic!("{e}: {}", listed.stdout));
    assert_eq!(report["removed"], false);
    let groups = report["groups"].as_array().expect("groups");
    let ours = groups
        .iter()
        .find(|g| g["runs"] == serde_json::json!([legacy]))
        .unwrap_or_else(|| panic!("the older adze's container is not listed: {report}"));
    assert_eq!(ours["standing"], "owner-unknown");
    assert_eq!(ours["runId"], serde_json::Value::Null);
    assert_eq!(ours["action"], "would-remove");
    assert!(
        !listed.stdout.contains(&foreign) && !listed.stdout.contains(&other[..12]),
        "an unlabelled container is listed: {}",
        listed.stdout
    );

    let removed = case.run(&["gc", "--yes"]);
    assert_eq!(removed.code, Some(0), "{}", removed.stderr);
    assert!(
        removed.stdout.contains(&format!(
            "removed 1 container of an older adze (owner unknown): {legacy}; it recorded no owner"
        )),
        "{}",
        removed.stdout
    );
    assert!(!exists(&old));
    assert!(
        exists(&other),
        "gc --yes never touches what adze did not label"
    );
}

#[test]
fn gc_without_an_engine_exits_3_with_how_to_start_one() {
    let case = Case::new("no-engine");
    let out = case
        .adze()
        .args(["gc"])
        .env(
            "DOCKER_HOST",
            format!("unix://{}/nothing.sock", case.tmp().display()),
        )
        .output()
        .expect("adze runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("cannot reach the Docker engine")
            && stderr.contains("install-prerequisites.sh"),
        "{stderr}"
    );
}

#[test]
fn gc_help_says_what_yes_and_include_kept_do() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_adze"))
        .args(["gc", "--help"])
        .output()
        .expect("adze runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    for expected in ["--yes", "--include-kept", "--run-id", "never touched"] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
    let top = std::process::Command::new(env!("CARGO_BIN_EXE_adze"))
        .arg("--help")
        .output()
        .expect("adze runs");
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(top.contains("gc "), "{top}");
    assert!(!top.contains("watchdog"), "the watchdog is hidden: {top}");
}
