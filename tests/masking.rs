//! Secret masking in `adze run` end to end, against the real Docker engine: values from a
//! Secret (`secretKeyRef`), from `--secret` and from `--mask`, printed whole, in two writes
//! and as results, never reach stderr (logs, progress), stdout (the status object) or the
//! last-run record; `***` stands where they were.
//! Without a Docker engine these tests fail (they never skip): run `bash tests/setup-docker.sh`.

mod common;

use std::process::Command;

/// A Secret loaded with the run.
const FROM_SECRET: &str = "Pa55-from-secret-9";
/// Given with `--secret api/token=…` (no such Secret in the files).
const GIVEN: &str = "G1ven-t0ken-55";
/// Given with `--mask`.
const FLAGGED: &str = "Fl4g-value-77";

const RUN: &str = r#"
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: Pa55-from-secret-9}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: masking-e2e}
spec:
  pipelineSpec:
    results: [{name: leaked, value: $(tasks.leak.results.out)}]
    tasks:
    - name: leak
      taskSpec:
        results: [{name: out}, {name: flagged}]
        steps:
        - name: say
          image: adze-test/busybox:latest
          env:
          - name: PASSWORD
            valueFrom: {secretKeyRef: {name: db, key: password}}
          - name: API
            valueFrom: {secretKeyRef: {name: api, key: token}}
          - {name: FLAG, value: Fl4g-value-77}
          script: |
            echo "whole: $PASSWORD"
            printf 'split: %s' "${PASSWORD:0:8}"; sleep 0.3; printf '%s\n' "${PASSWORD:8}"
            echo "given: $API" >&2
            echo "flag: $FLAG"
            printf '%s' "$PASSWORD" > $(results.out.path)
            printf '%s' "$FLAG" > $(results.flagged.path)
"#;

fn adze(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("adze runs")
}

#[test]
fn secrets_are_masked_in_logs_status_and_the_last_run_record() {
    common::require_docker();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("run.yaml"), RUN).expect("write");
    let secret = format!("--secret=api/token={GIVEN}");
    let mask = format!("--mask={FLAGGED}");
    let out = adze(
        dir.path(),
        &[
            "run", "run.yaml", "-o", "json", &secret, &mask, "--pull", "never",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let record_file = dir.path().join(".adze/runs/masking-e2e.json");
    let record = std::fs::read_to_string(&record_file).expect("the last run is recorded");
    for (what, text) in [
        ("stderr", &*stderr),
        ("stdout", &*stdout),
        ("record", &*record),
    ] {
        for value in [FROM_SECRET, GIVEN, FLAGGED] {
            assert!(!text.contains(value), "{value} in {what}:\n{text}");
        }
    }
    for line in [
        "[leak/say] whole: ***",
        "[leak/say] split: ***",
        "[leak/say] given: ***",
        "[leak/say] flag: ***",
    ] {
        assert!(stderr.contains(line), "no {line:?} in:\n{stderr}");
    }
    let object: serde_json::Value = serde_json::from_str(&stdout).expect("JSON status");
    assert_eq!(object["status"]["results"][0]["value"], "***", "{object}");
    let recorded: serde_json::Value = serde_json::from_str(&record).expect("JSON record");
    let results = &recorded["tasks"][0]["results"];
    assert_eq!(results[0]["value"], "***", "{recorded}");
    assert_eq!(results[1]["value"], "***", "{recorded}");
}

#[test]
fn a_malformed_secret_flag_is_refused_without_showing_its_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("run.yaml"), RUN).expect("write");
    let out = adze(
        dir.path(),
        &["run", "run.yaml", "--secret", "token=Sup3r-hidden-1"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("Sup3r-hidden-1"), "{stderr}");
    insta::assert_snapshot!(stderr);
}
