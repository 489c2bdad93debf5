//! Private images: `adze doctor` and `adze run` against a real registry that requires a login
//! (Debian's `docker-registry` with its htpasswd backend, on a free loopback port, started by
//! each test), with the Docker CLI's own configuration written by `docker login` into a
//! temporary `DOCKER_CONFIG`, never the user's.
//!
//! The engine speaks plain HTTP to 127.0.0.0/8 registries and sends basic authentication
//! there, so no certificate is needed. Needs the Docker engine, the test images and
//! `docker-registry` (`bash tests/setup-docker.sh`).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::registry::{Registry, HASH, PASSWORD, USER};
use common::Outcome;
use tempfile::TempDir;

/// What the private image's step prints; the login's password is in it, to be masked.
const GREETING: &str = "from-the-private-image";

/// A registry requiring a login, holding the busybox test image as `private/busybox:v1`,
/// which is not present on the engine; the login `docker login` wrote; and a work directory
/// holding `run.yaml`, a TaskRun of that image.
struct Private {
    registry: Registry,
    image: String,
    /// A `DOCKER_CONFIG` directory holding the login.
    logged_in: TempDir,
    work: TempDir,
}

impl Private {
    fn start() -> Private {
        common::require_docker();
        let registry = Registry::start_with_login(USER, PASSWORD, HASH);
        // The port is free and new: no other test names this image.
        let image = format!("{}/private/busybox:v1", registry.host());
        let logged_in = tempfile::tempdir().expect("tempdir");
        let login = docker_cli(logged_in.path())
            .args([
                "login",
                "--username",
                USER,
                "--password-stdin",
                &registry.host(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(PASSWORD.as_bytes())?;
                child.wait_with_output()
            })
            .expect("docker login runs");
        assert!(
            login.status.success(),
            "docker login: {}",
            String::from_utf8_lossy(&login.stderr)
        );
        common::docker(&["tag", "adze-test/busybox:latest", &image]);
        let pushed = docker_cli(logged_in.path())
            .args(["push", &image])
            .output()
            .expect("docker push runs");
        common::docker(&["rmi", &image]);
        assert!(
            pushed.status.success(),
            "docker push: {}",
            String::from_utf8_lossy(&pushed.stderr)
        );
        let work = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            work.path().join("run.yaml"),
            format!(
                "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: private-image}}\n\
                 spec:\n  taskSpec:\n    steps:\n    - name: greet\n      image: {image}\n      \
                 script: echo '{GREETING} {PASSWORD}'\n"
            ),
        )
        .expect("write run.yaml");
        Private {
            registry,
            image,
            logged_in,
            work,
        }
    }

    /// `adze ARGS` in the work directory with `DOCKER_CONFIG` set to `config` and `PATH`
    /// starting with `bin` when given.
    fn adze(&self, args: &[&str], config: &Path, bin: Option<&Path>) -> Outcome {
        let path = match bin {
            Some(bin) => format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
            None => std::env::var("PATH").unwrap_or_default(),
        };
        let config = config.to_str().expect("utf-8 path");
        let out = common::run_adze_with(
            self.work.path(),
            args,
            &[("DOCKER_CONFIG", config), ("PATH", &path)],
            Duration::from_secs(120),
        );
        for shown in [&out.stdout, &out.stderr] {
            assert!(
                !shown.contains(PASSWORD),
                "the password was printed:\n{}{}",
                out.stdout,
                out.stderr
            );
        }
        out
    }

    /// The line of `out`'s stdout starting with `prefix`.
    fn line<'a>(out: &'a Outcome, prefix: &str) -> &'a str {
        out.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", out.stdout))
    }

    /// doctor's FAIL line for the image and the fix under it.
    fn doctor_failure(&self, out: &Outcome) -> (String, String) {
        assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
        let prefix = format!("FAIL image {}: ", self.image);
        let mut lines = out.stdout.lines().skip_while(|l| !l.starts_with(&prefix));
        let fail = lines
            .next()
            .unwrap_or_else(|| panic!("no {prefix:?} in:\n{}", out.stdout));
        let fix = lines.next().unwrap_or_default();
        (fail.to_owned(), fix.to_owned())
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", &self.image]).output();
    }
}

/// The `docker` CLI with `DOCKER_CONFIG` set to `config`: never the user's own.
fn docker_cli(config: &Path) -> Command {
    let mut command = Command::new("docker");
    command.env("DOCKER_CONFIG", config);
    command
}

#[test]
fn a_private_image_is_pulled_with_the_docker_cli_login_and_refused_without_one() {
    let private = Private::start();
    let host = private.registry.host();
    let anonymous = tempfile::tempdir().expect("tempdir");
    let anonymous_config = anonymous.path().join("config.json");

    // Without a login, doctor fails the image and says how to log in.
    let out = private.adze(&["doctor", "run.yaml"], anonymous.path(), None);
    let (fail, fix) = private.doctor_failure(&out);
    assert!(fail.ends_with("no basic auth credentials"), "{fail}");
    assert_eq!(
        fix,
        format!(
            "     fix: there is no login for {host} in {}: log in with `docker login {host}` \
             (adze pulls with the Docker CLI's logins; DOCKER_CONFIG chooses another \
             configuration directory)",
            anonymous_config.display()
        )
    );

    // And the run fails at the pull, with the engine's words and the same hint.
    let out = private.adze(&["run", "run.yaml"], anonymous.path(), None);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "failed to pull the image \"{}\": Head \"http://{host}/v2/private/busybox/manifests/v1\": \
             no basic auth credentials; there is no login for {host} in {}: log in with `docker \
             login {host}`",
            private.image,
            anonymous_config.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(GREETING), "{}", out.stderr);

    // With the login `docker login` wrote, doctor finds the image, by digest.
    let logged_in = private.logged_in.path();
    let out = private.adze(&["doctor", "run.yaml"], logged_in, None);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let ok = Private::line(&out, &format!("ok   image {}: ", private.image));
    assert!(
        ok.contains("absent locally; its registry has it (sha256:")
            && ok.ends_with(&format!(
                ") with the login from {}: `adze run` pulls it",
                logged_in.join("config.json").display()
            )),
        "{ok}"
    );

    // And the run pulls it and runs it; the password the step prints is masked.
    let out = private.adze(
        &["run", "run.yaml", "--pull", "always", "-o", "json"],
        logged_in,
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("{GREETING} ***")),
        "{}",
        out.stderr
    );
    let status = out.json().expect("the TaskRun as JSON");
    assert_eq!(
        status["status"]["conditions"][0]["reason"], "Succeeded",
        "{status}"
    );
    let pulled = common::docker(&["image", "inspect", "-f", "{{.Id}}", &private.image]);
    assert!(pulled.starts_with("sha256:"), "{pulled}");
}

#[test]
fn logins_from_credential_helpers_are_used_and_failing_ones_are_named() {
    let private = Private::start();
    let host = private.registry.host();
    let bin = tempfile::tempdir().expect("tempdir");
    // A helper keeping this registry's login only, as docker-credential-helpers answer.
    let helper = bin.path().join("docker-credential-adze-test-store");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r server\n\
             if [ \"$server\" = '{host}' ]; then\n  \
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n\
             else\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
        ),
    )
    .expect("write the helper");
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let config = |json: String| {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("config.json"), json).expect("write config.json");
        dir
    };

    // credHelpers names it for this registry: doctor finds the image with its login.
    let with_helper = config(format!(
        r#"{{"auths": {{"{host}": {{}}}}, "credHelpers": {{"{host}": "adze-test-store"}}}}"#
    ));
    let out = private.adze(
        &["doctor", "run.yaml"],
        with_helper.path(),
        Some(bin.path()),
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let ok = Private::line(&out, &format!("ok   image {}: ", private.image));
    assert!(
        ok.ends_with(
            ") with the login from the credential helper docker-credential-adze-test-store: \
             `adze run` pulls it"
        ),
        "{ok}"
    );

    // credsStore names a helper that is not installed: a warning names it, and the image
    // fails as it would without a login.
    let missing = config(r#"{"credsStore": "adze-test-not-installed"}"#.to_owned());
    let out = private.adze(&["doctor", "run.yaml"], missing.path(), Some(bin.path()));
    let warning = Private::line(&out, "warn registry logins: ");
    assert_eq!(
        warning,
        format!(
            "warn registry logins: the credential helper docker-credential-adze-test-not-installed \
             is not installed (not found on the PATH); credsStore names it for {host} in {}: \
             pulling from {host} without a login",
            missing.path().join("config.json").display()
        )
    );
    let (fail, _) = private.doctor_failure(&out);
    assert!(fail.ends_with("no basic auth credentials"), "{fail}");
    // `adze run` warns the same before its pull fails.
    let out = private.adze(&["run", "run.yaml"], missing.path(), Some(bin.path()));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("docker-credential-adze-test-not-installed is not installed"),
        "{}",
        out.stderr
    );

    // A wrong password in the file: the registry refuses it, and the fix says to log in again.
    let wrong = config(format!(
        r#"{{"auths": {{"http://{host}/v1/": {{"username": "{USER}", "password": "not-the-password"}}}}}}"#
    ));
    let out = private.adze(&["doctor", "run.yaml"], wrong.path(), None);
    let (fail, fix) = private.doctor_failure(&out);
    assert!(fail.contains("unauthorized"), "{fail}");
    assert_eq!(
        fix,
        format!(
            "     fix: the registry refused the login for {host} from {}: log in again with \
             `docker login {host}`",
            wrong.path().join("config.json").display()
        )
    );

    // A config file that is not JSON: a warning at its position; the pull goes on without.
    let broken = config("{\n  \"auths\": {\n".to_owned());
    let out = private.adze(&["doctor", "run.yaml"], broken.path(), None);
    let warning = Private::line(&out, "warn registry logins: ");
    assert!(
        warning.starts_with(&format!(
            "warn registry logins: the Docker CLI configuration {}:3:1: not valid JSON: ",
            broken.path().join("config.json").display()
        )) && warning.ends_with("; pulling without registry logins"),
        "{warning}"
    );
    private.doctor_failure(&out);
}
