//! `adze kube`: exit statuses 0/1/2 and the exact text and JSON the catalog's tasks read.

use super::Test;

const COMPLIANT: &str = r#"{
  "apiservers": ["v1.30.4-eks-1234", "v1.30.2-eks-1234"],
  "controllerManagers": ["1.30.4"], "schedulers": ["1.30.4"],
  "nodes": [{"name": "pool-a-1", "kubelet": "v1.29.8", "kubeProxy": "v1.29.8"},
            {"name": "pool-a-2", "kubeletVersion": "v1.28.15", "kubeProxyVersion": ""}],
  "kubectl": "1.31.0"
}"#;

const SKEWED: &str = r#"{
  "apiservers": ["1.30.4"],
  "nodes": [{"name": "pool-a-1", "kubelet": "1.26.3", "kubeProxy": "1.26.3"},
            {"name": "pool-b-1", "kubelet": "1.30.1"}],
  "kubectl": "1.32.0"
}"#;

#[test]
fn skew_check_exits_0_and_says_what_it_checked_when_compliant() {
    let ran = Test::new()
        .file("versions.json", COMPLIANT)
        .args(["kube", "skew-check", "--versions", "versions.json"])
        .expect_status(0)
        .run();
    insta::assert_snapshot!(ran.stdout, @"compliant: 2 kube-apiservers, 1 kube-controller-manager, 1 kube-scheduler, 2 kubelets, 1 kube-proxy, kubectl within the version skew policy");
    assert_eq!(ran.stderr, "");
}

#[test]
fn skew_check_exits_1_with_one_line_per_violation() {
    let ran = Test::new()
        .file("versions.json", SKEWED)
        .args(["kube", "skew-check", "--versions", "versions.json"])
        .expect_status(1)
        .run();
    insta::assert_snapshot!("skew_check_text", ran.stdout);
    insta::assert_snapshot!(ran.stderr, @"error: 3 violations of Kubernetes' version skew policy (https://kubernetes.io/releases/version-skew-policy/)");
}

#[test]
fn skew_check_reads_stdin_and_prints_json_for_machines() {
    let ran = Test::new()
        .stdin(SKEWED)
        .args(["kube", "skew-check", "--versions", "-", "-o", "json"])
        .expect_status(1)
        .run();
    insta::assert_snapshot!("skew_check_json", ran.stdout);
    let ok = Test::new()
        .stdin(COMPLIANT)
        .args(["kube", "skew-check", "--versions", "-", "-o", "json"])
        .expect_status(0)
        .run();
    let report: serde_json::Value = serde_json::from_str(&ok.stdout).expect("JSON");
    assert_eq!(
        report,
        serde_json::json!({"compliant": true, "violations": []})
    );
}

#[test]
fn skew_check_exits_2_for_input_it_cannot_read() {
    for (what, file, text, message) in [
        (
            "missing file",
            None,
            "",
            "error: cannot read nope.json: No such file or directory",
        ),
        (
            "not JSON",
            Some("v.json"),
            "{\n  \"apiservers\": [\"1.30\",]\n}",
            "error: v.json:2:25: not JSON: trailing comma",
        ),
        (
            "a bad version",
            Some("v.json"),
            r#"{"kubelets": ["1.30.1", "one.thirty"]}"#,
            "error: v.json: kubelets[1]: \"one.thirty\" is not a Kubernetes version: its major version is not a number",
        ),
        (
            "a misspelt field",
            Some("v.json"),
            r#"{"apiserver": ["1.30.1"]}"#,
            "error: v.json: apiserver: unknown field; did you mean \"apiservers\"?",
        ),
    ] {
        let mut test = Test::new();
        if let Some(name) = file {
            test = test.file(name, text);
        }
        let ran = test
            .args(["kube", "skew-check", "--versions", file.unwrap_or("nope.json")])
            .expect_status(2)
            .stderr_contains(message)
            .run();
        assert_eq!(ran.stdout, "", "{what}");
    }
}

#[test]
fn upgrade_plan_prints_each_minor_step_in_order() {
    let ran = Test::new()
        .args(["kube", "upgrade-plan", "--from", "1.28.5", "--to", "1.31"])
        .expect_status(0)
        .run();
    assert_eq!(ran.stdout, "1.29\n1.30\n1.31\n");
    let ran = Test::new()
        .args([
            "kube",
            "upgrade-plan",
            "--from",
            "v1.29.3-eks-1",
            "--to",
            "v1.31.2",
            "-o",
            "json",
        ])
        .expect_status(0)
        .run();
    insta::assert_snapshot!(ran.stdout, @r#"
    {
      "from": "v1.29.3-eks-1",
      "to": "v1.31.2",
      "steps": [
        "1.30",
        "1.31"
      ]
    }
    "#);
}

#[test]
fn upgrade_plan_of_the_same_minor_has_nothing_to_do() {
    Test::new()
        .args(["kube", "upgrade-plan", "--from", "1.30.1", "--to", "1.30.7"])
        .expect_status(0)
        .stdout_lacks("1.")
        .stderr_contains("nothing to do: 1.30.1 and 1.30.7 are the same minor version")
        .run();
}

#[test]
fn upgrade_plan_exits_1_for_a_downgrade_a_bad_version_or_too_many_steps() {
    for (args, message) in [
        (
            ["--from", "1.31.2", "--to", "1.30"],
            "error: 1.30 is older than 1.31.2: Kubernetes does not support downgrading",
        ),
        (
            ["--from", "1.31.2", "--to", "latest"],
            "error: --to: \"latest\" is not a Kubernetes version",
        ),
        (
            ["--from", "1.25.0", "--max-steps=2", "--to=1.31"],
            "takes 6 minor upgrades, more than --max-steps 2",
        ),
    ] {
        let ran = Test::new()
            .args(["kube", "upgrade-plan"])
            .args(args)
            .expect_status(1)
            .stderr_contains(message)
            .run();
        assert_eq!(ran.stdout, "");
    }
}

#[test]
fn removed_apis_lists_what_the_releases_crossed_stop_serving() {
    let ran = Test::new()
        .args(["kube", "removed-apis", "--from", "1.28.4", "--to", "1.32"])
        .expect_status(0)
        .run();
    insta::assert_snapshot!(ran.stdout, @r"
    1.29  flowcontrol.apiserver.k8s.io/v1beta2  FlowSchema (flowschemas) -> flowcontrol.apiserver.k8s.io/v1
    1.29  flowcontrol.apiserver.k8s.io/v1beta2  PriorityLevelConfiguration (prioritylevelconfigurations) -> flowcontrol.apiserver.k8s.io/v1
    1.32  flowcontrol.apiserver.k8s.io/v1beta3  FlowSchema (flowschemas) -> flowcontrol.apiserver.k8s.io/v1
    1.32  flowcontrol.apiserver.k8s.io/v1beta3  PriorityLevelConfiguration (prioritylevelconfigurations) -> flowcontrol.apiserver.k8s.io/v1
    ");
    let ran = Test::new()
        .args([
            "kube",
            "removed-apis",
            "--from",
            "1.29.0",
            "--to",
            "1.31",
            "-o",
            "json",
        ])
        .expect_status(0)
        .stderr_contains(
            "no API version is removed by the releases after 1.29.0 up to and including 1.31",
        )
        .run();
    let doc: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON");
    assert_eq!(
        doc,
        serde_json::json!({"from": "1.29.0", "to": "1.31", "removed": []})
    );
    Test::new()
        .args(["kube", "removed-apis", "--from", "1.29.0", "--to", "1.28"])
        .expect_status(1)
        .stderr_contains("does not support downgrading")
        .run();
}

#[test]
fn upgrade_plan_reads_the_current_version_from_a_file_and_writes_its_output_to_one() {
    let ran = Test::new()
        .file("scratch/from", "v1.29.4-kube-sim\n")
        .args([
            "kube",
            "upgrade-plan",
            "--from-file",
            "scratch/from",
            "--to",
            "1.31.2",
            "-o",
            "json",
            "--write",
            "scratch/plan.json",
        ])
        .expect_status(0)
        .run();
    let written =
        std::fs::read_to_string(ran.dir.path().join("scratch/plan.json")).expect("written");
    assert_eq!(written, ran.stdout);
    let plan: serde_json::Value = serde_json::from_str(&written).expect("JSON");
    assert_eq!(plan["steps"], serde_json::json!(["1.30", "1.31"]));
    assert_eq!(plan["from"], "v1.29.4-kube-sim");
    for (file, message) in [
        ("missing", "error: --from-file missing: "),
        ("empty", "error: --from-file empty: the file is empty"),
    ] {
        Test::new()
            .file("empty", "\n")
            .args(["kube", "upgrade-plan", "--from-file", file, "--to", "1.31"])
            .expect_status(2)
            .stderr_contains(message)
            .run();
    }
    Test::new()
        .args([
            "kube",
            "upgrade-plan",
            "--from",
            "1.29",
            "--from-file",
            "f",
            "--to",
            "1.31",
        ])
        .expect_status(2)
        .stderr_contains("cannot be used with")
        .run();
}

#[test]
fn skew_check_writes_what_it_prints_even_when_it_fails() {
    let ran = Test::new()
        .file("versions.json", SKEWED)
        .args([
            "kube",
            "skew-check",
            "--versions",
            "versions.json",
            "--write",
            "report.txt",
        ])
        .expect_status(1)
        .run();
    let written = std::fs::read_to_string(ran.dir.path().join("report.txt")).expect("written");
    assert_eq!(written, ran.stdout);
    assert_eq!(written.lines().count(), 3, "{written}");
    Test::new()
        .file("versions.json", COMPLIANT)
        .args([
            "kube",
            "skew-check",
            "--versions",
            "versions.json",
            "--write",
            "no/such/dir/report.txt",
        ])
        .expect_status(3)
        .stderr_contains("error: --write no/such/dir/report.txt: ")
        .run();
}
