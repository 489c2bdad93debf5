//! The `bundles` and `hub` resolvers end to end: the real `adze` binary against a private
//! instance of the reference OCI registry (Debian's `docker-registry`) holding Tekton bundles
//! the tests build and push, and a hub-shaped server speaking the Artifact Hub and Tekton Hub
//! APIs, both on loopback and started by each test.
//!
//! Needs `docker-registry` on the PATH (`bash tests/setup-docker.sh` installs it); the run
//! scenarios also need a Docker engine and the test images. Nothing here skips.

#[path = "../common/mod.rs"]
mod common;
mod hub_server;
use common::registry;

mod failures;
mod hub_kinds;
mod login;
mod moved_tag;
mod run_offline;
mod token_auth;
mod upstream;

use std::path::Path;
use std::time::Duration;

use common::Outcome;

/// Runs `adze COMMAND file.yaml --resolve-cache <dir>/cache EXTRA…` in `dir` with `yaml` as
/// the file.
pub fn adze(dir: &Path, command: &str, yaml: &str, extra: &[&str]) -> Outcome {
    std::fs::write(dir.join("file.yaml"), yaml).expect("write file.yaml");
    let cache = dir.join("cache").display().to_string();
    let mut args = vec![command, "file.yaml", "--resolve-cache", cache.as_str()];
    args.extend_from_slice(extra);
    common::run_adze(dir, &args, Duration::from_secs(240))
}

/// A Task whose one step prints `line` and records it as result `said`.
pub fn greeting_task(name: &str, line: &str) -> String {
    format!(
        r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: {name}
spec:
  results:
  - name: said
  steps:
  - name: say
    image: adze-test/busybox:latest
    script: |
      echo {line}
      printf '%s' {line} > $(results.said.path)
"#
    )
}
