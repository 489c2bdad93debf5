//! `adze doctor` against the real engine, an engine address nobody listens on, a file whose
//! image is not on the engine, and a kubeconfig that does not exist; and the exit-3 error of
//! `adze run` pointing to it.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use tempfile::TempDir;

const PRESENT: &str = "adze-test/busybox:latest";
const ABSENT: &str = "adze-test/doctor-never-built:absent";

struct Ran {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs adze in `dir` with `DOCKER_HOST` unset unless `docker_host` names one.
fn adze(dir: &TempDir, args: &[&str], docker_host: Option<&str>) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adze"));
    // No login of the user's: the registry checks ask as someone who never ran `docker login`.
    cmd.current_dir(dir.path())
        .args(args)
        .env("NO_COLOR", "1")
        .env("DOCKER_CONFIG", dir.path().join("no-docker-config"));
    match docker_host {
        Some(h) => cmd.env("DOCKER_HOST", h),
        None => cmd.env_remove("DOCKER_HOST"),
    };
    let out = cmd.output().expect("adze runs");
    Ran {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A directory holding `run.yaml`: a TaskRun with a present image, an absent one, and one
/// named by a param without a default.
fn workdir() -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: doctor}}\nspec:\n  \
         params: [{{name: free, value: x}}]\n  taskSpec:\n    params: [{{name: free}}]\n    steps:\n    \
         - {{name: a, image: {PRESENT}, script: 'true'}}\n    \
         - {{name: b, image: {ABSENT}, script: 'true'}}\n    \
         - {{name: c, image: '$(params.free)', script: 'true'}}\n"
    );
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write");
    dir
}

#[test]
fn the_real_engine_passes_with_a_line_per_check() {
    common::require_docker();
    let ran = adze(&workdir(), &["doctor"], None);
    assert_eq!(ran.status, 0, "{}{}", ran.stdout, ran.stderr);
    for line in [
        "ok   container engine: unix:///var/run/docker.sock (default socket) answers",
        "ok   engine version: ",
        "ok   cgroup: cgroup v",
        "all 4 checks passed",
    ] {
        assert!(ran.stdout.contains(line), "no {line:?} in:\n{}", ran.stdout);
    }
    // A machine short of space warns (and still passes), so either is right here.
    assert!(
        ran.stdout.lines().any(
            |l| (l.starts_with("ok   disk: ") || l.starts_with("warn disk: "))
                && l.contains(" GiB free in ")
        ),
        "{}",
        ran.stdout
    );
}

#[test]
fn an_engine_address_nobody_listens_on_fails_with_a_fix() {
    let ran = adze(&workdir(), &["doctor"], Some("unix:///nonexistent.sock"));
    assert_eq!(ran.status, 1, "{}{}", ran.stdout, ran.stderr);
    // Nothing in it depends on the machine: the address is the test's, the fix a constant.
    insta::assert_snapshot!("nonexistent_docker_host", ran.stdout);
}

#[test]
fn images_of_the_files_are_reported_present_absent_or_parameterised() {
    common::require_docker();
    let ran = adze(&workdir(), &["doctor", "run.yaml"], None);
    // The absent image is in no registry this machine reaches (nor on Docker Hub).
    assert_eq!(ran.status, 1, "{}{}", ran.stdout, ran.stderr);
    for line in [
        format!("ok   image {PRESENT}: present locally\n"),
        format!("FAIL image {ABSENT}: absent locally and cannot be pulled: "),
        "warn image $(params.free): named by a param without a default".to_owned(),
    ] {
        assert!(
            ran.stdout.contains(&line),
            "no {line:?} in:\n{}",
            ran.stdout
        );
    }
    // Docker Hub is out of reach here, and says "may require 'docker login'" where it is not:
    // either way the fix names the login.
    let fix = ran
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with(&format!("FAIL image {ABSENT}: ")))
        .nth(1)
        .unwrap_or_default();
    assert!(
        fix.starts_with("     fix: ") && fix.contains("`docker login`"),
        "{}",
        ran.stdout
    );
}

#[test]
fn images_are_checked_as_the_image_map_makes_them() {
    common::require_docker();
    let dir = workdir();
    let mapped = "adze-test/nop:latest";
    let line = format!("ok   image {mapped} (mapped from {ABSENT}): present locally\n");
    let ran = adze(
        &dir,
        &[
            "doctor",
            "run.yaml",
            "--image-map",
            &format!("{ABSENT}={mapped}"),
        ],
        None,
    );
    assert_eq!(ran.status, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains(&line),
        "no {line:?} in:\n{}",
        ran.stdout
    );
    // The same rule from the project's .adze.yaml.
    std::fs::write(
        dir.path().join(".adze.yaml"),
        format!("imageMap:\n  {ABSENT}: {mapped}\n"),
    )
    .expect("write .adze.yaml");
    let ran = adze(&dir, &["doctor", "run.yaml"], None);
    assert_eq!(ran.status, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains(&line),
        "no {line:?} in:\n{}",
        ran.stdout
    );
}

/// The registry tests/setup-docker.sh starts on loopback (the engine trusts it over http).
const REGISTRY: &str = "127.0.0.1:5000";

#[test]
fn an_absent_image_its_registry_holds_is_pullable_and_a_missing_tag_is_not() {
    common::require_docker();
    let repo = format!("{REGISTRY}/adze-test/doctor-{}", std::process::id());
    let held = format!("{repo}:held");
    common::docker(&["tag", PRESENT, &held]);
    let pushed = Command::new("docker").args(["push", &held]).output();
    common::docker(&["rmi", &held]);
    let pushed = pushed.expect("docker push runs");
    assert!(
        pushed.status.success(),
        "cannot push to the registry on {REGISTRY} (tests/setup-docker.sh starts it): {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: doctor-registry}}\nspec:\n  \
         taskSpec:\n    steps:\n    - {{name: a, image: '{held}', script: 'true'}}\n    \
         - {{name: b, image: '{repo}:never-pushed', script: 'true'}}\n"
    );
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write");
    let ran = adze(&dir, &["doctor", "run.yaml"], None);
    assert_eq!(ran.status, 1, "{}{}", ran.stdout, ran.stderr);
    let line = |prefix: &str| {
        ran.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", ran.stdout))
            .to_owned()
    };
    let ok = line(&format!("ok   image {held}: "));
    assert!(
        ok.contains("absent locally; its registry has it (sha256:")
            && ok.ends_with("): `adze run` pulls it"),
        "{ok}"
    );
    let missing = line(&format!("FAIL image {repo}:never-pushed: "));
    assert!(
        missing.contains("absent locally and cannot be pulled: ")
            && missing.contains("manifest unknown"),
        "{missing}"
    );
    // Asking the registry pulls nothing.
    let pulled = Command::new("docker")
        .args(["image", "inspect", &held])
        .output();
    assert!(
        !pulled.expect("docker runs").status.success(),
        "{held} was pulled"
    );
}

#[test]
fn a_missing_kubeconfig_fails_with_the_fix() {
    let ran = adze(
        &workdir(),
        &[
            "doctor",
            "--executor",
            "kubernetes",
            "--kubeconfig",
            "/nonexistent/adze-doctor-kubeconfig",
        ],
        None,
    );
    assert_eq!(ran.status, 1, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains(
            "FAIL kubeconfig: cannot use the kubeconfig /nonexistent/adze-doctor-kubeconfig: "
        ) && ran.stdout.contains(
            "     fix: name a kubeconfig with --kubeconfig FILE (or set KUBECONFIG) and a context with --context NAME\n"
        ),
        "{}",
        ran.stdout
    );
}

#[test]
fn adze_run_without_an_engine_exits_3_pointing_to_doctor() {
    let ran = adze(
        &workdir(),
        &["run", "run.yaml"],
        Some("unix:///nonexistent.sock"),
    );
    assert_eq!(ran.status, 3, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("cannot reach the Docker engine")
            && ran.stderr.contains("`adze doctor` checks the engine"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_socket_this_user_may_not_open_says_to_join_the_docker_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("engine.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let host = format!("unix://{}", socket.display());
    let uid = Command::new("id").arg("-u").output().expect("id runs");
    // Root opens any socket whatever its mode, so as root adze runs as nobody.
    let mut cmd = if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_adze"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_adze"))
    };
    let out = cmd
        .arg("doctor")
        .current_dir(dir.path())
        .env("DOCKER_HOST", &host)
        .output()
        .expect("adze runs (setpriv, from util-linux, when the tests run as root)");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).replace(&host, "unix://[SOCKET]");
    insta::assert_snapshot!("permission_denied_socket", stdout);
}
