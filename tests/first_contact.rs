//! The README's first command: `scripts/install-prerequisites.sh`, then the example run, on this
//! machine's engine; and the script's refusals, each with its fix: an engine address nobody
//! answers, a Rust older than adze needs.
//!
//! A machine with no engine at all cannot be made here without stopping the engine every other
//! test shares; that path (install `docker.io`, start `dockerd`) is run by `.ci/run` on a fresh
//! machine through `tests/setup-docker.sh`, which calls the same script.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The first command of the README, as a newcomer copies it.
const FIRST_COMMAND: &str =
    "bash scripts/install-prerequisites.sh && cargo run --release -- run examples/build-and-release.yaml";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the script from the repository root with `env` set.
fn prerequisites(env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg("scripts/install-prerequisites.sh")
        .current_dir(repo());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("bash runs")
}

/// The first line of the README's first `sh` block.
fn readme_first_command() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let block = readme.split("```sh\n").nth(1).expect("a ```sh block");
    block.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_readmes_first_command_ends_in_a_finished_example_run() {
    common::require_docker();
    assert_eq!(readme_first_command(), FIRST_COMMAND);

    let out = prerequisites(&[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("== container engine: "), "{stdout}");
    assert!(
        !stdout.contains("installing docker.io"),
        "an answering engine is left alone: {stdout}"
    );
    assert!(
        stdout.contains("== example image: busybox:latest"),
        "{stdout}"
    );

    // `cargo run --release --` is this binary; the run writes its record where it runs.
    let dir = tempfile::tempdir().expect("tempdir");
    let example = repo().join("examples/build-and-release.yaml");
    let run = Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir.path())
        .args(["run", &example.to_string_lossy()])
        .env("NO_COLOR", "1")
        .output()
        .expect("adze runs");
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("PipelineRun build-and-release-") && last.contains(": Completed: "),
        "{stderr}"
    );
}

#[test]
fn an_engine_address_nobody_answers_is_named_with_its_fix() {
    let out = prerequisites(&[("DOCKER_HOST", "unix:///nonexistent/adze-first-contact.sock")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: DOCKER_HOST=unix:///nonexistent/adze-first-contact.sock does not answer"
        ) && stderr.contains("unset DOCKER_HOST"),
        "{stderr}"
    );
    assert!(
        !text(&out.stdout).contains("installing"),
        "nothing is installed for another engine"
    );
}

/// A directory whose `rustc` and `cargo` claim `version`, to put first on PATH.
fn fake_rust(dir: &Path, version: &str) {
    for tool in ["rustc", "cargo"] {
        let path = dir.join(tool);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho '{tool} {version} (fake 2023-06-01)'\n"),
        )
        .expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

#[test]
fn a_rust_older_than_the_minimum_gets_the_rustup_command() {
    common::require_docker();
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    assert!(
        readme.contains("Rust 1.85 or newer"),
        "the README and the script agree"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    fake_rust(dir.path(), "1.70.0");
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = prerequisites(&[("PATH", &path)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: adze needs Rust 1.85 or newer (found: rustc 1.70.0")
            && stderr.contains("https://sh.rustup.rs"),
        "{stderr}"
    );

    fake_rust(dir.path(), "1.85.0");
    let out = prerequisites(&[("PATH", &path)]);
    assert!(
        out.status.success(),
        "1.85 is enough: {}",
        text(&out.stderr)
    );
}
