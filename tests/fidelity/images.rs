//! Digest-pinned images against a real registry on loopback (started by
//! `tests/setup-docker.sh` on 127.0.0.1:5000): pulled and run by digest exactly,
//! `status.steps[].imageID` / `status.sidecars[].imageID` as the kubelet reports them, and
//! content that does not match its digest refused with `TaskRunImagePullFailed`.
//!
//! Every test builds its own images (a busybox with a marker file, so each has its own
//! content and digest) under a repository named after the test and the process, and removes
//! them afterwards: tests running side by side never share an image or a manifest.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{docker, require_docker, run_adze};
use crate::{Ran, LIMIT};

/// Where `tests/setup-docker.sh` runs the registry.
const REGISTRY: &str = "127.0.0.1:5000";

/// A name unique to this test and process: `<test>-<pid>-<nanos>`.
fn unique(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{test}-{}-{nanos}", std::process::id())
}

/// Panics unless the test registry answers, saying how to start it.
fn require_registry() {
    require_docker();
    let address = REGISTRY.parse().expect("registry address");
    assert!(
        TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok(),
        "no registry on {REGISTRY}: run `bash tests/setup-docker.sh` (starts Debian's \
         docker-registry there)"
    );
}

/// Images a test created, removed when it ends (passed or not).
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("docker").args(["rmi", "-f", name]).output();
        }
    }
}

impl Images {
    /// Builds `name` from the busybox test image with `/marker` holding `marker`.
    fn build(&mut self, name: &str, marker: &str) {
        let container = unique("adze-image-build");
        let script = format!("echo {marker} > /marker");
        docker(&[
            "run",
            "--name",
            &container,
            "adze-test/busybox:latest",
            "sh",
            "-c",
            &script,
        ]);
        docker(&["commit", &container, name]);
        docker(&["rm", &container]);
        self.0.push(name.to_owned());
    }

    /// Pushes `name` (`repo:tag`) to the registry and returns its manifest digest.
    fn push(&mut self, name: &str) -> String {
        let out = docker(&["push", name]);
        let digest = out
            .split_whitespace()
            .skip_while(|w| *w != "digest:")
            .nth(1)
            .unwrap_or_else(|| panic!("no digest in `docker push` output:\n{out}"))
            .to_owned();
        assert!(digest.starts_with("sha256:"), "{out}");
        digest
    }

    /// Removes the local image `name`, so a run has to pull it.
    fn remove(&mut self, name: &str) {
        docker(&["rmi", "-f", name]);
    }
}

/// A new image with `marker` pushed as `<registry>/adze-test/<test…>:v1`, then removed
/// locally so a run must pull it: the images to clean up, the repository and the digest.
fn pushed_and_removed(test: &str, marker: &str) -> (Images, String, String) {
    require_registry();
    let repo = format!("{REGISTRY}/adze-test/{}", unique(test));
    let mut images = Images(Vec::new());
    images.build(&format!("{repo}:v1"), marker);
    let digest = images.push(&format!("{repo}:v1"));
    images.remove(&format!("{repo}:v1"));
    // What the run pulls, removed at the end.
    images.0.push(format!("{repo}@{digest}"));
    (images, repo, digest)
}

/// Runs `yaml` with `adze run -o json --pull missing` in a fresh directory.
fn run_pulling(yaml: &str) -> Ran {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write run.yaml");
    let args = [
        "run", "run.yaml", "-o", "json", "--color", "never", "--pull", "missing",
    ];
    let out = run_adze(dir.path(), &args, LIMIT);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    Ran {
        code: out.code,
        run: out.json().unwrap_or(Value::Null),
        stderr: out.stderr,
    }
}

/// A TaskRun named uniquely after `test`, with `task_spec` (YAML indented by four spaces).
fn task_run(test: &str, task_spec: &str) -> String {
    let name = unique(test);
    format!("apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: {name}\nspec:\n  taskSpec:\n{task_spec}")
}

/// A TaskRun whose step and sidecar run `image`; the step writes `/marker` as result `marker`.
fn marker_task_run(test: &str, image: &str) -> String {
    task_run(
        test,
        &format!(
            r#"    results:
      - name: marker
    sidecars:
      - name: beside
        image: {image}
        script: |
          #!/bin/sh
          sleep 60
    steps:
      - name: show
        image: {image}
        script: |
          #!/bin/sh
          tr -d '\n' < /marker > $(results.marker.path)
"#
        ),
    )
}

/// The registry's storage directory (`ADZE_REGISTRY_DIR`, as in tests/setup-docker.sh).
fn registry_dir() -> PathBuf {
    std::env::var_os("ADZE_REGISTRY_DIR")
        .map_or_else(|| std::env::temp_dir().join("adze-registry"), PathBuf::from)
}

#[test]
fn a_pinned_image_is_pulled_and_reported_by_its_digest() {
    let (mut images, repo, digest) = pushed_and_removed("pinned", "pinned-content");
    // The tag now names other content: a run that fell back to the tag would show it.
    images.build(&format!("{repo}:v1"), "tag-content");

    let pinned = format!("{repo}:v1@{digest}");
    let ran = run_pulling(&marker_task_run("pinned-run", &pinned)).succeeded();

    let expected = format!("{repo}@{digest}");
    assert_eq!(ran.result("marker"), "pinned-content", "{}", ran.run);
    assert_eq!(ran.status()["steps"][0]["imageID"], expected.as_str());
    assert_eq!(ran.status()["sidecars"][0]["imageID"], expected.as_str());
}

#[test]
fn a_tagged_image_reports_its_repository_digest_and_a_local_one_its_id() {
    require_registry();
    let repo = format!("{REGISTRY}/adze-test/{}", unique("tagged"));
    let local = format!("adze-test/{}:v1", unique("local"));
    let mut images = Images(Vec::new());
    images.build(&format!("{repo}:v1"), "pushed");
    let digest = images.push(&format!("{repo}:v1"));
    images.build(&local, "local");
    let local_id = docker(&["image", "inspect", "-f", "{{.Id}}", &local]);

    let yaml = task_run(
        "tagged-run",
        &format!(
            r#"    steps:
      - name: pushed
        image: {repo}:v1
        script: cat /marker
      - name: local
        image: {local}
        script: cat /marker
"#
        ),
    );
    let ran = run_pulling(&yaml).succeeded();
    assert_eq!(
        ran.status()["steps"][0]["imageID"],
        format!("{repo}@{digest}").as_str()
    );
    // No repository digest: the engine's content id, as containerd reports such an image.
    assert_eq!(ran.status()["steps"][1]["imageID"], local_id.as_str());
}

#[test]
fn content_that_does_not_match_its_digest_fails_the_pull_naming_both() {
    let (_images, repo, digest) = pushed_and_removed("tampered", "tampered");

    // The manifest is a blob stored under its digest: change its bytes (not its meaning),
    // and the registry serves them under the old digest.
    let hex = &digest["sha256:".len()..];
    let blob = registry_dir().join(format!(
        "data/docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    let manifest = std::fs::read_to_string(&blob).unwrap_or_else(|e| {
        panic!(
            "cannot read the manifest at {} ({e}): is the registry on {REGISTRY} the one \
             tests/setup-docker.sh started (ADZE_REGISTRY_DIR)?",
            blob.display()
        )
    });
    let tampered = format!("{manifest}\n");
    std::fs::write(&blob, &tampered).expect("tamper with the manifest");
    let served = format!("sha256:{:x}", Sha256::digest(tampered.as_bytes()));

    let pinned = format!("{repo}@{digest}");
    let ran = run_pulling(&marker_task_run("tampered-run", &pinned));
    assert_eq!(ran.code, Some(1), "{}\n{}", ran.stderr, ran.run);
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}", ran.run);
    assert_eq!(condition["reason"], "TaskRunImagePullFailed", "{}", ran.run);
    let message = condition["message"].as_str().unwrap_or_default();
    assert!(message.contains(&pinned), "{message}");
    assert!(
        message.contains(&format!("digest is {served}, not the requested {digest}")),
        "{message}"
    );
}

/// `imagePullPolicy`: `IfNotPresent` keeps a local image of the name, `Always` pulls over
/// it, `Never` fails the TaskRun when the image is absent.
#[test]
fn each_containers_image_pull_policy_decides_under_the_default_pull() {
    require_registry();
    let repo = format!("{REGISTRY}/adze-test/{}", unique("pull-policy"));
    let name = format!("{repo}:v1");
    let mut images = Images(Vec::new());
    images.build(&name, "from-the-registry");
    images.push(&name);
    // The local image of that name now holds other content than the registry.
    images.build(&name, "local");
    let marker_step = |policy: &str| {
        task_run(
            "pull-policy",
            &format!(
                r#"    results: [{{name: marker}}]
    steps:
      - name: show
        image: {name}
        imagePullPolicy: {policy}
        script: tr -d '\n' < /marker > $(results.marker.path)
"#
            ),
        )
    };
    let ran = run_pulling(&marker_step("IfNotPresent")).succeeded();
    assert_eq!(ran.result("marker"), "local");
    let ran = run_pulling(&marker_step("Always")).succeeded();
    assert_eq!(ran.result("marker"), "from-the-registry");

    let absent = format!("{REGISTRY}/adze-test/{}:v1", unique("absent"));
    let ran = run_pulling(&task_run(
        "pull-policy-never",
        &format!(
            r#"    steps:
      - name: offline
        image: {absent}
        imagePullPolicy: Never
        script: "true"
"#
        ),
    ));
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert_eq!(
        ran.condition()["reason"],
        "TaskRunImagePullFailed",
        "{}",
        ran.run
    );
    let message = ran.condition()["message"].as_str().unwrap_or_default();
    assert!(message.contains("imagePullPolicy is Never"), "{message}");
}
