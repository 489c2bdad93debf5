//! A pull cut off mid-stream fails the TaskRun with `TaskRunImagePullFailed` naming the image
//! and the cause, creates nothing from it, and the next run pulls it again.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::proxy::{Fault, Proxy, Rule};
use crate::{containers_of, run_through, task_run, unique, Cleanup};

/// Where `tests/setup-docker.sh` runs the registry.
const REGISTRY: &str = "127.0.0.1:5000";

/// Runs `docker args…`; panics with its stderr when it fails.
fn docker(args: &[&str]) {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The local tag of a pushed image, removed when the test ends.
struct Tagged(String);

impl Drop for Tagged {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

#[test]
fn a_pull_cut_off_mid_stream_fails_and_the_next_run_pulls_again() {
    let address = REGISTRY.parse().expect("registry address");
    assert!(
        TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok(),
        "no registry on {REGISTRY}: run `bash tests/setup-docker.sh` (starts Debian's \
         docker-registry there)"
    );
    let name = unique("pull");
    let _cleanup = Cleanup(name.clone());
    let image = format!("{REGISTRY}/adze-test/{name}:v1");
    let tagged = Tagged(image.clone());
    docker(&["tag", "adze-test/busybox:latest", &tagged.0]);
    docker(&["push", &tagged.0]);
    docker(&["rmi", &tagged.0]);

    let proxy = Proxy::start(vec![Rule::new(
        "POST",
        "/images/create",
        Fault::DropMidStream,
    )]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let yaml = task_run(&name, &image, "");
    let ran = run_through(&proxy, dir.path(), &yaml, &["--pull", "always"]);
    assert_eq!(ran.code, Some(1), "{}\n{}", ran.stderr, ran.run);
    let condition = ran.condition();
    assert_eq!(condition["reason"], "TaskRunImagePullFailed", "{}", ran.run);
    let message = condition["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("failed to pull the image \"{image}\""))
            && message.contains("broke off mid-pull"),
        "{message}"
    );
    // Nothing was made from the image, nor reported as run from it.
    assert_eq!(
        proxy.seen("POST", "/containers/create"),
        0,
        "{}",
        proxy.log()
    );
    assert!(containers_of(&name, None).is_empty());
    assert!(
        ran.run["status"]["steps"][0]["imageID"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{}",
        ran.run
    );

    let again = run_through(&proxy, dir.path(), &yaml, &["--pull", "always"]);
    again.succeeded_with_ok(&proxy);
    assert_eq!(
        proxy.reached("POST", "/images/create"),
        2,
        "each run pulled\n{}",
        proxy.log()
    );
}
