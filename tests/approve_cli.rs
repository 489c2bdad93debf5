//! `adze approve` end to end: the record it writes where the catalog's approval gate looks
//! (a file locally, annotations on the PipelineRun in kube-sim), its exit statuses, and its
//! messages (snapshots).

mod common;

use std::path::Path;
use std::process::Command;

use common::kube_sim::Sim;
use serde_json::Value;

/// What one `adze approve` printed, and its exit status.
struct Approved {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Approved {
    /// Exit status and both outputs, for snapshots: `exit N`, stdout, stderr.
    fn shown(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `adze approve ARGS` in `dir` as user `tester`.
fn approve(dir: &Path, args: &[&str]) -> Approved {
    let out = Command::new(env!("CARGO_BIN_EXE_adze"))
        .arg("approve")
        .args(args)
        .current_dir(dir)
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .output()
        .expect("adze runs");
    let approved = Approved {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !approved.stderr.contains("panicked"),
        "adze panicked:\n{}",
        approved.shown()
    );
    approved
}

/// The record in `dir/.adze/approvals/RUN.json`.
fn record(dir: &Path, run: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(".adze/approvals").join(format!("{run}.json")))
        .expect("the record was written");
    serde_json::from_str(&text).expect("the record is JSON")
}

/// Replaces the record's time, which changes every run, for snapshots.
fn without_time(mut record: Value) -> Value {
    assert!(
        common::is_rfc3339(record["at"].as_str().unwrap_or_default()),
        "{record}"
    );
    record["at"] = "<at>".into();
    record
}

#[test]
fn a_local_approval_is_a_file_the_gate_reads() {
    let dir = tempfile::tempdir().unwrap();
    let done = approve(
        dir.path(),
        &["promote-1", "--message", "staging looks good"],
    );
    assert_eq!(done.code, 0, "{}", done.shown());
    insta::assert_snapshot!("local_approved", done.shown());
    insta::assert_json_snapshot!(
        "local_record",
        without_time(record(dir.path(), "promote-1"))
    );
}

#[test]
fn a_local_rejection_names_who_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let done = approve(
        dir.path(),
        &[
            "promote-2",
            "--reject",
            "--by",
            "bob",
            "-m",
            "error budget spent",
        ],
    );
    assert_eq!(done.code, 0, "{}", done.shown());
    let written = record(dir.path(), "promote-2");
    assert_eq!(written["decision"], "rejected");
    assert_eq!(written["by"], "bob");
    assert_eq!(written["message"], "error budget spent");
}

#[test]
fn a_second_decision_is_refused_unless_it_replaces_one() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        approve(dir.path(), &["promote-3", "--by", "mallory"]).code,
        0
    );
    let again = approve(dir.path(), &["promote-3", "--reject", "--by", "alice"]);
    assert_eq!(again.code, 1, "{}", again.shown());
    let shown = again.shown().replace(
        record(dir.path(), "promote-3")["at"].as_str().unwrap(),
        "<at>",
    );
    insta::assert_snapshot!("local_second_decision", shown);
    assert_eq!(
        record(dir.path(), "promote-3")["by"],
        "mallory",
        "the first decision stays"
    );

    let replaced = approve(dir.path(), &["promote-3", "--replace", "--by", "alice"]);
    assert_eq!(replaced.code, 0, "{}", replaced.shown());
    assert_eq!(record(dir.path(), "promote-3")["by"], "alice");
}

#[test]
fn the_approvals_folder_can_be_named() {
    let dir = tempfile::tempdir().unwrap();
    let done = approve(dir.path(), &["promote-4", "--approvals", "gate"]);
    assert_eq!(done.code, 0, "{}", done.shown());
    assert!(dir.path().join("gate/promote-4.json").is_file());
}

#[test]
fn bad_input_exits_2_saying_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(501);
    let cases = [
        ("run_name_with_a_path", vec!["../etc/passwd"]),
        ("run_name_in_capitals", vec!["Promote-1"]),
        ("empty_approver", vec!["promote-5", "--by", " "]),
        ("message_too_long", vec!["promote-5", "-m", &long]),
    ];
    for (name, args) in cases {
        let done = approve(dir.path(), &args);
        assert_eq!(done.code, 2, "{name}: {}", done.shown());
        insta::assert_snapshot!(name, done.shown());
    }
    assert!(
        !dir.path().join(".adze/approvals").exists()
            || std::fs::read_dir(dir.path().join(".adze/approvals"))
                .unwrap()
                .next()
                .is_none(),
        "nothing is written for refused input"
    );
}

#[test]
fn an_unreadable_record_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".adze/approvals/promote-6.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "not json").unwrap();
    let done = approve(dir.path(), &["promote-6"]);
    assert_eq!(done.code, 2, "{}", done.shown());
    assert!(
        done.stderr.contains("is there but unusable"),
        "{}",
        done.shown()
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not json");
}

#[test]
fn cluster_flags_and_the_approvals_folder_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let done = approve(
        dir.path(),
        &["promote-7", "--approvals", "x", "--namespace", "ci"],
    );
    assert_eq!(done.code, 2, "{}", done.shown());
    assert!(
        done.stderr.contains("cannot be used with"),
        "{}",
        done.shown()
    );
}

/// Creates a PipelineRun `name` in kube-sim's namespace `ns`, with `status` when given.
fn pipeline_run(sim: &Sim, ns: &str, name: &str, status: Option<&str>) {
    let file = sim.dir().join(format!("{ns}-{name}.yaml"));
    std::fs::write(
        &file,
        format!(
            "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {{name: {name}, namespace: {ns}}}\n\
             spec: {{pipelineRef: {{name: promote}}}}\n"
        ),
    )
    .unwrap();
    sim.kubectl(&["create", "--validate=false", "-f", file.to_str().unwrap()]);
    if let Some(status) = status {
        sim.kubectl(&[
            "patch",
            "pipelinerun",
            name,
            "-n",
            ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            status,
        ]);
    }
}

fn annotations(sim: &Sim, ns: &str, name: &str) -> Value {
    let run: Value =
        serde_json::from_str(&sim.kubectl(&["get", "pipelinerun", name, "-n", ns, "-o", "json"]))
            .unwrap();
    run["metadata"]["annotations"].clone()
}

#[test]
fn in_a_cluster_the_decision_is_annotations_on_the_pipeline_run() {
    let sim = Sim::shared();
    let ns = sim.namespace("approve-cluster");
    pipeline_run(sim, &ns, "promote-c1", None);
    let kubeconfig = sim.kubeconfig.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();

    let done = approve(
        dir.path(),
        &[
            "promote-c1",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            &ns,
            "-m",
            "ship it",
        ],
    );
    assert_eq!(done.code, 0, "{}", done.shown());
    insta::assert_snapshot!("cluster_approved", done.shown());
    let mut written = annotations(sim, &ns, "promote-c1");
    assert!(common::is_rfc3339(
        written["adze.dev/approved-at"].as_str().unwrap()
    ));
    written["adze.dev/approved-at"] = "<at>".into();
    // The kubeconfig's user names the approver when --by is not given.
    insta::assert_json_snapshot!("cluster_annotations", written);
    assert!(
        !dir.path().join(".adze").exists(),
        "a cluster decision writes no local file"
    );

    let again = approve(
        dir.path(),
        &[
            "promote-c1",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            &ns,
            "--reject",
        ],
    );
    assert_eq!(again.code, 1, "{}", again.shown());
    assert!(
        again.stderr.contains("was already approved by kube-sim"),
        "{}",
        again.shown()
    );
    assert_eq!(
        annotations(sim, &ns, "promote-c1")["adze.dev/approval"],
        "approved"
    );
}

#[test]
fn in_a_cluster_a_missing_or_finished_run_is_refused() {
    let sim = Sim::shared();
    let ns = sim.namespace("approve-refused");
    let kubeconfig = sim.kubeconfig.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();

    let missing = approve(
        dir.path(),
        &[
            "promote-nope",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            &ns,
        ],
    );
    assert_eq!(missing.code, 2, "{}", missing.shown());
    insta::assert_snapshot!(
        "cluster_missing_run",
        missing
            .shown()
            .replace(&sim.url, "https://127.0.0.1:<port>")
    );

    pipeline_run(
        sim,
        &ns,
        "promote-done",
        Some(
            r#"{"status":{"conditions":[{"type":"Succeeded","status":"False","reason":"Failed"}]}}"#,
        ),
    );
    let finished = approve(
        dir.path(),
        &[
            "promote-done",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            &ns,
            "--by",
            "alice",
        ],
    );
    assert_eq!(finished.code, 1, "{}", finished.shown());
    insta::assert_snapshot!("cluster_finished_run", finished.shown());
    assert!(annotations(sim, &ns, "promote-done")
        .get("adze.dev/approval")
        .is_none());
}

#[test]
fn in_a_cluster_an_unreachable_server_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kubeconfig"),
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n\
         current-context: x\n",
    )
    .unwrap();
    let done = approve(
        dir.path(),
        &["promote-8", "--kubeconfig", "kubeconfig", "--by", "alice"],
    );
    assert_eq!(done.code, 3, "{}", done.shown());
    assert!(done.stderr.contains("unreachable"), "{}", done.shown());
}
