//! Tekton's own resolver examples (`examples/v1/taskruns/beta/bundles-resolver.yaml` and
//! `hub-resolver.yaml`, copied unmodified into `upstream/`, see `upstream/NOTICE`) run to
//! success with their references pointed at local servers: the bundle reference is rewritten
//! to a bundle pushed to the test registry (pinned by its digest, as upstream pins its own),
//! and the hub resolver asks the local hub through `--hub-url`.

use std::path::Path;

use super::adze;
use super::hub_server::HubServer;
use super::registry::Registry;

/// The upstream bundle, pinned by digest, that the example names.
const UPSTREAM_BUNDLE: &str = "ghcr.io/tektoncd/catalog/upstream/tasks/git-clone@sha256:65e61544c5870c8828233406689d812391735fd4100cb444bbd81531cb958bb3";

/// A stand-in for the catalog's git-clone Task: github.com is not reachable from here, so it
/// records the repository and revision it was asked for (in the workspace and as results)
/// instead of cloning. `{from}` says which server served it.
const GIT_CLONE: &str = r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: git-clone
spec:
  workspaces:
  - name: output
  params:
  - name: url
    type: string
  - name: revision
    type: string
    default: ""
  results:
  - name: url
  - name: commit
  steps:
  - name: clone
    image: adze-test/busybox:latest
    script: |
      echo "{from}: would clone $(params.url) at $(params.revision)"
      printf '%s\n' "$(params.url)" "$(params.revision)" > $(workspaces.output.path)/ASKED
      printf '%s' "$(params.url)" > $(results.url.path)
      printf '%s' "{from}" > $(results.commit.path)
"#;

fn upstream(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bundles_hub/upstream")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn tekton_bundles_and_hub_examples_run_against_local_servers() {
    super::common::require_docker();
    let registry = Registry::start();
    let hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();

    let digest = registry.push_bundle(
        "tektoncd/catalog/upstream/tasks/git-clone",
        "0.10",
        &[("task", "git-clone", &GIT_CLONE.replace("{from}", "bundle"))],
    );
    let bundles = upstream("bundles-resolver.yaml");
    assert!(
        bundles.contains(UPSTREAM_BUNDLE),
        "the example changed upstream"
    );
    let bundles = bundles.replace(
        UPSTREAM_BUNDLE,
        &format!(
            "{}/tektoncd/catalog/upstream/tasks/git-clone@{digest}",
            registry.host()
        ),
    );
    let out = adze(dir.path(), "run", &bundles, &["-o", "json"]);
    assert_eq!(
        out.code,
        Some(0),
        "bundles-resolver.yaml:\n{}",
        out.stderr_tail(40)
    );
    let run = out.json().expect("a TaskRun on stdout");
    assert_eq!(run["status"]["conditions"][0]["reason"], "Succeeded");
    assert_eq!(result(&run, "commit"), "bundle");
    assert_eq!(
        result(&run, "url"),
        "https://github.com/kelseyhightower/nocode"
    );

    hub.publish(
        "task",
        "tekton-catalog-tasks",
        "git-clone",
        &["0.5.0", "0.6.0", "0.7.0"],
        &GIT_CLONE.replace("{from}", "hub {version}"),
    );
    let examples = upstream("hub-resolver.yaml");
    let hub_url = hub.url();
    for run_name in [
        "hub-resolver-simple-semver-",
        "hub-resolver-semver-required-fields-only-",
    ] {
        let out = adze(
            dir.path(),
            "run",
            &examples,
            &["-o", "json", "--run", run_name, "--hub-url", &hub_url],
        );
        assert_eq!(out.code, Some(0), "{run_name}:\n{}", out.stderr_tail(40));
        let run = out.json().expect("a TaskRun on stdout");
        assert_eq!(run["status"]["conditions"][0]["reason"], "Succeeded");
        assert_eq!(result(&run, "commit"), "hub 0.6.0", "{run_name}");
        assert_eq!(
            result(&run, "url"),
            "https://github.com/tektoncd/pipeline.git"
        );
    }
    assert!(hub
        .requests()
        .iter()
        .all(|r| r.contains("/api/v1/packages/tekton-task/tekton-catalog-tasks/git-clone/0.6.0")));
}

/// The TaskRun result `name`.
fn result(run: &serde_json::Value, name: &str) -> String {
    run["status"]["results"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == name))
        .and_then(|r| r["value"].as_str())
        .unwrap_or("")
        .to_string()
}
