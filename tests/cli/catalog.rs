//! `adze catalog`: list, show, init and lint through the binary, on the built-in catalog
//! (whatever `tasks/` and `pipelines/` hold) and on small catalogs written by the tests.

use std::path::Path;

use super::Test;

const DIGEST: &str =
    "docker.io/alpine/k8s@sha256:9c4976d47656d78cf53a92b0203fc54ac45eae18a2b45001ac221c27da4c8036";

/// A Task following every convention; `image` is its step's image.
fn task(name: &str, image: &str) -> String {
    format!(
        r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: {name}
  labels:
    app.kubernetes.io/version: "0.1"
  annotations:
    tekton.dev/pipelines.minVersion: "0.56.0"
    tekton.dev/categories: Kubernetes
    tekton.dev/tags: k8s
    tekton.dev/displayName: Say hello
    tekton.dev/platforms: "linux/amd64"
spec:
  description: Says hello. Then stops.
  params:
    - name: toolsImage
      description: The toolbox image.
      default: {DIGEST} # 1.31.4
  steps:
    - name: hello
      image: {image}
      script: echo hello
"#
    )
}

/// Folders (`tasks/*`, `pipelines/*`) on disk in this repository.
fn repository_folders() -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["tasks", "pipelines"]
        .iter()
        .filter_map(|s| std::fs::read_dir(root.join(s)).ok())
        .flat_map(|d| d.filter_map(Result::ok))
        .filter(|e| e.path().is_dir())
        .count()
}

#[test]
fn lint_passes_on_a_catalog_that_follows_the_conventions() {
    Test::new()
        .file(
            "tasks/hello/hello.yaml",
            &task("hello", "$(params.toolsImage)"),
        )
        .file("tasks/hello/README.md", "# hello\n")
        .args(["catalog", "lint", ".", "--color", "never"])
        .expect_status(0)
        .stderr_contains("ok: 1 folder valid")
        .run();
}

#[test]
fn lint_reports_each_broken_convention_at_file_line_col_and_exits_1() {
    let ran = Test::new()
        .file("tasks/hello/hello.yaml", &task("hello", "alpine:latest"))
        .args(["catalog", "lint", "tasks", "--color", "never"])
        .expect_status(1)
        .stderr_contains("error[catalog/docs]: tasks/hello has no README.md")
        .stderr_contains(
            "error[catalog/step-image]: image \"alpine:latest\" is written in the step",
        )
        .stderr_contains("tasks/hello/hello.yaml:21:14")
        .stderr_contains("invalid: 2 errors, 0 warnings in 1 folder")
        .run();
    assert_eq!(ran.stdout, "");
    let json = Test::new()
        .file("tasks/hello/hello.yaml", &task("hello", "alpine:latest"))
        .args(["catalog", "lint", "tasks/hello", "-o", "json"])
        .expect_status(1)
        .run();
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(report["valid"], false);
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["catalog/docs", "catalog/step-image"]);
}

#[test]
fn lint_of_a_directory_that_does_not_exist_exits_2() {
    Test::new()
        .args(["catalog", "lint", "nowhere"])
        .expect_status(2)
        .stderr_contains("error: nowhere:")
        .run();
}

#[test]
fn the_built_in_catalog_is_listed_and_passes_its_own_lint() {
    Test::new()
        .args(["catalog", "lint", "--color", "never"])
        .expect_status(0)
        .stderr_contains(&format!("ok: {} folder", repository_folders()))
        .run();
    let ran = Test::new()
        .args(["catalog", "list", "-o", "json"])
        .expect_status(0)
        .run();
    let list: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON");
    let entries = list.as_array().expect("a list");
    assert_eq!(entries.len(), repository_folders(), "{list}");
    for e in entries {
        for key in ["name", "kind", "version", "description", "folder"] {
            assert!(e[key].is_string(), "{key} in {e}");
        }
        let name = e["name"].as_str().expect("a name");
        // Every entry shows, and its YAML is the object.
        Test::new()
            .args(["catalog", "show", name])
            .expect_status(0)
            .stdout_contains(&format!(
                "{} {name}",
                e["kind"].as_str().unwrap_or_default()
            ))
            .stdout_contains("README.md")
            .run();
        Test::new()
            .args(["catalog", "show", name, "-o", "yaml"])
            .expect_status(0)
            .stdout_contains(&format!("name: {name}"))
            .run();
    }
}

#[test]
fn init_copies_an_entry_and_refuses_to_overwrite_unless_forced() {
    let ran = Test::new()
        .args(["catalog", "list", "-o", "json"])
        .expect_status(0)
        .run();
    let list: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON");
    // Checked on every entry the catalog holds (the copying itself is unit-tested in
    // engine/catalog/init.rs).
    for e in list.as_array().expect("a list") {
        let name = e["name"].as_str().expect("a name");
        let folder = e["folder"].as_str().expect("a folder");
        let out = tempfile::tempdir().expect("a temporary directory");
        let target = out.path().join("repo");
        let target_arg = target.display().to_string();
        let yaml = target.join(folder).join(format!("{name}.yaml"));
        Test::new()
            .args(["catalog", "init", name, &target_arg])
            .expect_status(0)
            .stdout_contains(&format!("wrote {}", yaml.display()))
            .run();
        assert!(target.join(folder).join("README.md").is_file());
        std::fs::write(&yaml, "mine").expect("edit the copy");
        Test::new()
            .args(["catalog", "init", name, &target_arg])
            .expect_status(1)
            .stderr_contains("nothing was written (--force overwrites them)")
            .run();
        assert_eq!(std::fs::read_to_string(&yaml).expect("read"), "mine");
        Test::new()
            .args(["catalog", "init", name, &target_arg, "--force"])
            .expect_status(0)
            .run();
        assert_ne!(std::fs::read_to_string(&yaml).expect("read"), "mine");
    }
    Test::new()
        .args(["catalog", "init", "no-such-task"])
        .expect_status(2)
        .stderr_contains("the catalog has no task or pipeline named \"no-such-task\"")
        .run();
}

/// Every PipelineRun in `examples/` validates and plans with its pipeline taken from the
/// built-in catalog (no file but the example is given), and every catalog pipeline has one.
#[test]
fn each_pipeline_has_an_example_that_validates_and_plans_from_the_built_in_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pipelines: Vec<String> = std::fs::read_dir(root.join("pipelines"))
        .expect("pipelines/")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut planned = Vec::new();
    for entry in std::fs::read_dir(root.join("examples")).expect("examples/") {
        let path = entry.expect("an entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read the example");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        Test::new()
            .file(&name, &text)
            .args(["validate", &name])
            .expect_status(0)
            .run();
        let plan = Test::new()
            .file(&name, &text)
            .args(["plan", &name, "-o", "json"])
            .expect_status(0)
            .run();
        let plan: serde_json::Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
        let tasks = plan["tasks"].as_array().map_or(0, Vec::len);
        assert!(tasks > 0, "{name}: the plan has no tasks");
        planned.push(plan["target"].as_str().unwrap_or_default().to_owned());
    }
    for pipeline in &pipelines {
        assert!(
            planned.contains(pipeline),
            "no example in examples/ plans pipeline {pipeline} (planned: {planned:?})"
        );
    }
}
