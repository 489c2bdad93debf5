//! TaskRuns shaped like Tekton's own resolver examples (`examples/v1/taskruns/beta/
//! bundles-resolver.yaml` and `hub-resolver.yaml` in tektoncd/pipeline: a `git-clone` Task
//! from a digest-pinned bundle; from the hub with `type`, `kind`, `name` and a two-part
//! `version`, and with only the required `name` and `version`), written here with our own
//! values, run to success against local servers: the bundle is pushed to the test registry,
//! and the hub resolver asks the local hub through `--hub-url`. The upstream files are not
//! in the shared examples folder; nothing of them is copied here.

use super::adze;
use super::hub_server::HubServer;
use super::registry::Registry;

/// Where the bundle lives in the test registry (the catalog's path for git-clone).
const BUNDLE_REPOSITORY: &str = "tektoncd/catalog/upstream/tasks/git-clone";

/// A TaskRun of git-clone from a bundle (`{bundle}` filled in), as Tekton's example runs it.
const BUNDLES_RUN: &str = r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  generateName: clone-from-bundle-
spec:
  taskRef:
    resolver: bundles
    params:
    - {name: bundle, value: "{bundle}"}
    - {name: name, value: git-clone}
    - {name: kind, value: task}
  params:
  - {name: url, value: "https://git.example.com/shop/web.git"}
  - {name: revision, value: release-1.4}
  workspaces:
  - {name: output, emptyDir: {}}
  podTemplate:
    securityContext: {fsGroup: 65532}
"#;

/// Two TaskRuns of git-clone from the hub: every param given, then only the required ones.
const HUB_RUNS: &str = r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  generateName: clone-from-hub-all-params-
spec:
  taskRef:
    resolver: hub
    params:
    - {name: type, value: artifact}
    - {name: kind, value: task}
    - {name: name, value: git-clone}
    - {name: version, value: "0.6"}
  params:
  - {name: url, value: "https://git.example.com/platform/deploy.git"}
  - {name: revision, value: main}
  workspaces:
  - {name: output, emptyDir: {}}
  podTemplate:
    securityContext: {fsGroup: 65532}
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  generateName: clone-from-hub-required-params-
spec:
  taskRef:
    resolver: hub
    params:
    - {name: name, value: git-clone}
    - {name: version, value: "0.6.0"}
  params:
  - {name: url, value: "https://git.example.com/platform/deploy.git"}
  - {name: revision, value: main}
  workspaces:
  - {name: output, emptyDir: {}}
  podTemplate:
    securityContext: {fsGroup: 65532}
"#;

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

#[test]
fn runs_shaped_like_tektons_bundles_and_hub_examples_succeed_against_local_servers() {
    super::common::require_docker();
    let registry = Registry::start();
    let hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();

    let digest = registry.push_bundle(
        BUNDLE_REPOSITORY,
        "0.10",
        &[("task", "git-clone", &GIT_CLONE.replace("{from}", "bundle"))],
    );
    let bundles = BUNDLES_RUN.replace(
        "{bundle}",
        &format!("{}/{BUNDLE_REPOSITORY}@{digest}", registry.host()),
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
    assert_eq!(result(&run, "url"), "https://git.example.com/shop/web.git");

    hub.publish(
        "task",
        "tekton-catalog-tasks",
        "git-clone",
        &["0.5.0", "0.6.0", "0.7.0"],
        &GIT_CLONE.replace("{from}", "hub {version}"),
    );
    let examples = HUB_RUNS;
    let hub_url = hub.url();
    for run_name in [
        "clone-from-hub-all-params-",
        "clone-from-hub-required-params-",
    ] {
        let out = adze(
            dir.path(),
            "run",
            examples,
            &["-o", "json", "--run", run_name, "--hub-url", &hub_url],
        );
        assert_eq!(out.code, Some(0), "{run_name}:\n{}", out.stderr_tail(40));
        let run = out.json().expect("a TaskRun on stdout");
        assert_eq!(run["status"]["conditions"][0]["reason"], "Succeeded");
        assert_eq!(result(&run, "commit"), "hub 0.6.0", "{run_name}");
        assert_eq!(
            result(&run, "url"),
            "https://git.example.com/platform/deploy.git"
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
