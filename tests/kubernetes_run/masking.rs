//! Masking on Kubernetes: the values of Secrets that exist only in the cluster (created with
//! kubectl, not loaded with the run) and that a step reads through `secretKeyRef` or a
//! `secret` volume never reach stderr, stdout, the events, `adze logs`/`adze show` or the
//! history file; `***` stands where they were, and a referenced Secret that is not there is
//! a warning naming it.

use std::process::Command;

use super::{adze, run, workdir, Sim};

/// Key `password` of Secret `cluster-db`, read through `secretKeyRef`.
const FROM_KEY: &str = "Cl7ster-only-value-42";
/// Key `token` of Secret `cluster-files`, read from a `secret` volume.
const FROM_VOLUME: &str = "V0lume-only-value-17";

/// The two Secrets, as kubectl sends them (`data` in base64).
const SECRETS: &str = r#"
apiVersion: v1
kind: Secret
metadata: {name: cluster-db}
data: {password: Q2w3c3Rlci1vbmx5LXZhbHVlLTQy}
---
apiVersion: v1
kind: Secret
metadata: {name: cluster-files}
data: {token: VjBsdW1lLW9ubHktdmFsdWUtMTc=}
"#;

const RUN: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: masked-cluster}
spec:
  taskSpec:
    results: [{name: out}]
    volumes:
    - {name: files, secret: {secretName: cluster-files}}
    steps:
    - name: say
      image: adze-test/busybox:latest
      volumeMounts: [{name: files, mountPath: /files}]
      env:
      - name: PASSWORD
        valueFrom: {secretKeyRef: {name: cluster-db, key: password}}
      envFrom:
      - secretRef: {name: never-created, optional: true}
      script: |
        echo "whole: $PASSWORD"
        printf 'split: %s' "${PASSWORD:0:8}"; sleep 0.3; printf '%s\n' "${PASSWORD:8}"
        echo "file: $(cat /files/token)"
        printf '%s' "$PASSWORD" > $(results.out.path)
"#;

#[test]
fn values_of_secrets_only_in_the_cluster_are_masked_everywhere() {
    let sim = Sim::shared();
    let ns = sim.namespace("masking-cluster");
    let dir = workdir(RUN);
    let secrets = dir.path().join("secrets.yaml");
    std::fs::write(&secrets, SECRETS).expect("write the Secrets");
    sim.kubectl(&[
        "-n",
        &ns,
        "create",
        "--validate=false",
        "-f",
        secrets.to_str().expect("UTF-8 path"),
    ]);
    let out = run(adze(
        sim,
        dir.path(),
        &ns,
        &["-o", "json", "--events-file", "events.jsonl"],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).expect("events");
    let history = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
        command.current_dir(dir.path()).args(args);
        run(command)
    };
    let logs = history(&["logs", "masked-cluster"]);
    let shown = history(&["show", "masked-cluster", "-o", "json"]);
    let mut raw = Vec::new();
    for file in ["history.db", "history.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(".adze").join(file)) {
            raw.extend(bytes);
        }
    }
    let raw = String::from_utf8_lossy(&raw);
    for (what, text) in [
        ("stderr", out.stderr.as_str()),
        ("stdout", out.stdout.as_str()),
        ("events", events.as_str()),
        ("adze logs", logs.stdout.as_str()),
        ("adze logs' stderr", logs.stderr.as_str()),
        ("adze show", shown.stdout.as_str()),
        ("the history file", &raw),
    ] {
        for value in [FROM_KEY, FROM_VOLUME] {
            assert!(!text.contains(value), "{value} in {what}:\n{text}");
        }
    }
    for line in ["whole: ***", "split: ***", "file: ***"] {
        assert!(out.stderr.contains(line), "no {line:?} in:\n{}", out.stderr);
        assert!(
            logs.stdout.contains(line),
            "no {line:?} in:\n{}",
            logs.stdout
        );
        assert!(raw.contains(line), "no {line:?} in the history file");
    }
    assert!(
        out.stderr.contains(&format!(
            "cannot read Secret \"never-created\" in namespace \"{ns}\" (it does not exist): \
             its values cannot be masked"
        )),
        "{}",
        out.stderr
    );
    let object = out.json();
    assert_eq!(object["status"]["results"][0]["value"], "***", "{object}");
    assert_eq!(shown.json(), object);
    let events: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON event"))
        .collect();
    let logged: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "log")
        .filter_map(|e| e["text"].as_str())
        .collect();
    for line in ["whole: ***", "split: ***", "file: ***"] {
        assert!(
            logged.contains(&line),
            "no log event {line:?} in {logged:?}"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "result" && e["value"] == "***"),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e["type"] == "warning"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("\"never-created\""))),
        "{events:?}"
    );
}
