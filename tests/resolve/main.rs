//! Remote resolution end to end: the real `adze` binary against real servers on loopback
//! (`git daemon`, git's dumb HTTP protocol, a plain HTTP file server) started by each test.
//!
//! Needs `git` with `git daemon`; the run scenario also needs a Docker engine and the test
//! images (`bash tests/setup-docker.sh`). Nothing here skips.

#[path = "../common/mod.rs"]
mod common;
mod fixture;
mod servers;

mod offline_run;
mod provenance;
mod safety;
mod upstream_shapes;

use std::time::Duration;

use common::Outcome;
use fixture::Fixture;

/// The PipelineRun of most scenarios: its Pipeline from git over `git daemon`, with the
/// servers' addresses as params, and the Task the cluster resolver finds among the files.
pub fn pipeline_run(f: &Fixture) -> String {
    format!(
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: greet-run
spec:
  params:
  - {{name: http-base, value: "{http}"}}
  - {{name: git-http-url, value: "{git_http}"}}
  pipelineRef:
    resolver: git
    params:
    - {{name: url, value: "{daemon}"}}
    - {{name: revision, value: main}}
    - {{name: pathInRepo, value: pipeline/greet.yaml}}
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: local-task
  namespace: default
spec:
  steps:
  - name: local
    image: {image}
    script: echo from-cluster
"#,
        http = f.http.base(),
        git_http = f.git_http_url(),
        daemon = f.daemon.url("repo.git"),
        image = fixture::IMAGE,
    )
}

/// A TaskRun whose taskRef is `resolver` with `params` (name, value pairs).
pub fn task_run(resolver: &str, params: &[(&str, &str)]) -> String {
    let mut out = format!(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: tr\nspec:\n  taskRef:\n    resolver: {resolver}\n    params:\n"
    );
    for (n, v) in params {
        out.push_str(&format!("    - name: {n}\n      value: \"{v}\"\n"));
    }
    out
}

/// Writes `yaml` as `run.yaml` in the scenario's work directory and runs
/// `adze <command> run.yaml --resolve-cache <cache> <extra…>`.
pub fn adze(f: &Fixture, command: &str, yaml: &str, extra: &[&str]) -> Outcome {
    std::fs::write(f.work().join("run.yaml"), yaml).expect("write run.yaml");
    let cache = f.cache();
    let mut args = vec![command, "run.yaml", "--resolve-cache", cache.as_str()];
    args.extend_from_slice(extra);
    common::run_adze(&f.work(), &args, Duration::from_secs(240))
}
