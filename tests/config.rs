//! `.adze.yaml`, `--config` and `--image-map` through the binary: `adze config` shows each
//! value's source, a flag beats the file, the file beats the default; runs on the real
//! Docker engine take params from the file, are overridden by `-p`, and run an image named
//! under another reference through an image map; a file in a parent directory is found.

mod common;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use common::{run_adze, Outcome};

const BUSYBOX: &str = "adze-test/busybox:latest";
const LIMIT: Duration = Duration::from_secs(120);

/// A temporary project: `.adze.yaml` (when given) at its root and an empty `sub/`.
fn project(config: Option<&str>) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    if let Some(text) = config {
        std::fs::write(dir.path().join(".adze.yaml"), text).expect("write config");
    }
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir sub");
    dir
}

fn adze(dir: &Path, args: &[&str]) -> Outcome {
    run_adze(dir, args, LIMIT)
}

fn json(out: &Outcome) -> Value {
    out.json()
        .unwrap_or_else(|| panic!("no JSON on stdout:\n{}\n{}", out.stdout, out.stderr))
}

#[test]
fn config_shows_each_value_and_its_source_from_a_parent_directory() {
    let dir = project(Some(
        "pull: never\nexecutor: kubernetes\nparams:\n  greeting: hi\n",
    ));
    let file = dir.path().join(".adze.yaml");
    let sub = dir.path().join("sub");

    let path = adze(&sub, &["config", "--path"]);
    assert_eq!(path.code, Some(0), "{}", path.stderr);
    assert_eq!(path.stdout.trim(), file.display().to_string());

    let shown = adze(&sub, &["config", "-o", "json", "--executor", "docker"]);
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    let v = json(&shown);
    let at = |line: u32| format!(".adze.yaml at {}:{line}", file.display());
    assert_eq!(v["file"], file.display().to_string());
    assert_eq!(v["pull"]["value"], "never");
    assert_eq!(v["pull"]["source"], at(1));
    // The flag wins over the file's `executor: kubernetes`.
    assert_eq!(v["executor"]["value"], "docker");
    assert_eq!(v["executor"]["source"], "flag");
    assert_eq!(v["logs"]["value"], "all");
    assert_eq!(v["logs"]["source"], "default");
    assert_eq!(v["params"]["greeting"]["value"], "hi");
    assert_eq!(v["params"]["greeting"]["source"], at(4));

    let text = adze(&sub, &["config", "--pull", "always"]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    let line = |key: &str| {
        text.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} line in:\n{}", text.stdout))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("pull"), "pull always flag");
    assert_eq!(line("executor"), format!("executor kubernetes {}", at(2)));
}

#[test]
fn no_file_means_defaults_and_a_named_file_must_exist() {
    let dir = project(None);
    // The temporary directory has no `.git`, so the search goes up to `/`: a stray
    // `.adze.yaml` there would change this, and is reported as found.
    let found = adze(dir.path(), &["config", "--path"]);
    assert_eq!(found.code, Some(0), "{}", found.stderr);
    if found.stdout.is_empty() {
        assert!(
            found.stderr.contains("no configuration file"),
            "{}",
            found.stderr
        );
        let v = json(&adze(dir.path(), &["config", "-o", "json"]));
        assert_eq!(v["file"], Value::Null);
        assert_eq!(v["pull"]["source"], "default");
        assert_eq!(v["executor"]["value"], "docker");
    }

    std::fs::write(dir.path().join("ci.yaml"), "logs: failed\n").expect("write");
    let named = json(&adze(
        dir.path(),
        &["config", "--config", "ci.yaml", "-o", "json"],
    ));
    assert_eq!(named["logs"]["value"], "failed");

    let missing = adze(dir.path(), &["run", "--config", "nope.yaml", "run.yaml"]);
    assert_eq!(missing.code, Some(2), "{}", missing.stderr);
    assert!(
        missing.stderr.contains("nope.yaml: no such file"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_mistake_in_the_file_stops_run_with_its_place_and_a_suggestion() {
    let dir = project(Some("params: {a: b}\npul: never\n"));
    std::fs::write(dir.path().join("sub/run.yaml"), "{}").expect("write");
    let out = adze(&dir.path().join("sub"), &["run", "run.yaml"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let file = dir.path().join(".adze.yaml");
    for expected in [
        "unknown field \"pul\"".to_owned(),
        format!("{}:2:1", file.display()),
        "help: did you mean `pull`?".to_owned(),
        "invalid: fix the 1 error(s) above in".to_owned(),
    ] {
        assert!(
            out.stderr.contains(&expected),
            "no {expected:?} in:\n{}",
            out.stderr
        );
    }
}

const GREET: &str = "\
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: config-greet}
spec:
  taskSpec:
    params: [{name: greeting}]
    results: [{name: said}]
    steps:
    - name: say
      image: IMAGE
      script: printf '%s' '$(params.greeting)' > $(results.said.path)
";

/// The `said` result of the TaskRun printed with `-o json`.
fn said(out: &Outcome) -> String {
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr_tail(30));
    let v = json(out);
    v["status"]["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "said"))
        .and_then(|r| r["value"].as_str())
        .unwrap_or_else(|| panic!("no result `said` in {v}"))
        .to_owned()
}

#[test]
fn a_run_takes_params_from_the_file_in_a_parent_and_a_flag_overrides_them() {
    common::require_docker();
    let dir = project(Some(
        "params:\n  greeting: from-config\npull: never\nimageMap:\n  registry.example/adze-test/: adze-test/\n",
    ));
    let sub = dir.path().join("sub");
    // The image is named under a registry the engine has never heard of; the file's prefix
    // rule maps it back to the local test image, and `pull: never` proves no pull happened.
    let yaml = GREET.replace("IMAGE", &format!("registry.example/{BUSYBOX}"));
    std::fs::write(sub.join("run.yaml"), &yaml).expect("write");

    assert_eq!(
        said(&adze(&sub, &["run", "run.yaml", "-o", "json"])),
        "from-config"
    );
    assert_eq!(
        said(&adze(
            &sub,
            &["run", "run.yaml", "-o", "json", "-p", "greeting=from-flag"]
        )),
        "from-flag"
    );
    // The run's own value is not replaced by the file's default.
    let own = yaml.replace(
        "spec:\n  taskSpec:",
        "spec:\n  params: [{name: greeting, value: from-run}]\n  taskSpec:",
    );
    std::fs::write(sub.join("own.yaml"), own).expect("write");
    assert_eq!(
        said(&adze(&sub, &["run", "own.yaml", "-o", "json"])),
        "from-run"
    );
}

#[test]
fn image_map_runs_a_local_image_under_another_name_and_plan_shows_it() {
    common::require_docker();
    let dir = project(None);
    let yaml = GREET.replace("IMAGE", "registry.example/tools/sh:1");
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write");
    let map = format!("registry.example/tools/sh:1={BUSYBOX}");

    let plan = adze(
        dir.path(),
        &[
            "plan",
            "run.yaml",
            "-p",
            "greeting=x",
            "--image-map",
            &map,
            "-o",
            "json",
        ],
    );
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(
        json(&plan)
            .to_string()
            .contains(&format!("\"image\":\"{BUSYBOX}\"")),
        "{}",
        plan.stdout
    );

    let mapped = adze(
        dir.path(),
        &[
            "run",
            "run.yaml",
            "-p",
            "greeting=mapped",
            "--pull",
            "never",
            "--image-map",
            &map,
            "-o",
            "json",
        ],
    );
    assert_eq!(said(&mapped), "mapped");

    // Without the map the same run cannot start: the name exists nowhere.
    let unmapped = adze(
        dir.path(),
        &["run", "run.yaml", "-p", "greeting=x", "--pull", "never"],
    );
    assert_eq!(unmapped.code, Some(1), "{}", unmapped.stderr_tail(20));
    assert!(
        unmapped.stderr.contains("registry.example/tools/sh:1"),
        "{}",
        unmapped.stderr_tail(20)
    );

    let bad = adze(
        dir.path(),
        &["run", "run.yaml", "--image-map", "gcr.io/=local"],
    );
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("must be one too"), "{}", bad.stderr);
}
