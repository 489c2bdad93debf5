//! The entrypoint in real containers: a static build bind-mounted read-only into
//! `adze-test/busybox:latest` and `adze-test/debian:bookworm` (the images tests/setup-docker.sh
//! builds), steps started at once and ordered only by the post-file handshake under a shared
//! `/tekton/run`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

const BUSYBOX: &str = "adze-test/busybox:latest";
const DEBIAN: &str = "adze-test/debian:bookworm";
/// An image with no files at all, made by [`no_shell_image`].
const NO_SHELL: &str = "adze-test/no-shell:latest";

/// The image tests/setup-docker.sh builds from the static entrypoint: `/adze-entrypoint` only.
const ENTRYPOINT_IMAGE: &str = "adze-test/entrypoint:latest";

/// Import [`NO_SHELL`] from an empty archive unless tests/setup-docker.sh already made it.
fn no_shell_image() {
    static IMPORTED: OnceLock<()> = OnceLock::new();
    IMPORTED.get_or_init(|| {
        let present = Command::new("docker")
            .args(["image", "inspect", NO_SHELL])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("docker runs");
        if present.success() {
            return;
        }
        let mut import = Command::new("docker")
            .args(["import", "-", NO_SHELL])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("docker runs");
        // An empty tar archive: two zero blocks.
        std::io::Write::write_all(&mut import.stdin.take().unwrap(), &[0u8; 1024]).unwrap();
        assert!(
            import.wait().unwrap().success(),
            "docker import of {NO_SHELL} failed"
        );
    });
}

/// Build the entrypoint as a static executable once per test binary, in its own target dir
/// beside this build's, and return its path.
fn static_entrypoint() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // CARGO_BIN_EXE_… is <target>/<profile>/adze-entrypoint: two parents up is the target dir.
        let target_dir = Path::new(env!("CARGO_BIN_EXE_adze-entrypoint"))
            .ancestors()
            .nth(2)
            .expect("the binary sits in <target>/<profile>/")
            .join("static-entrypoint");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "adze-entrypoint",
                "--release",
                "--target",
                "x86_64-unknown-linux-gnu",
            ])
            .arg("--target-dir")
            .arg(&target_dir)
            .env("RUSTFLAGS", "-C target-feature=+crt-static")
            .status()
            .expect("cargo runs");
        assert!(status.success(), "static build of adze-entrypoint failed");
        let binary = target_dir.join("x86_64-unknown-linux-gnu/release/adze-entrypoint");
        let ldd = Command::new("ldd").arg(&binary).output().expect("ldd runs");
        let said = String::from_utf8_lossy(&ldd.stdout).to_string()
            + &String::from_utf8_lossy(&ldd.stderr);
        assert!(
            said.contains("not a dynamic executable") || said.contains("statically linked"),
            "the entrypoint must be static to run in any image; ldd said: {said}"
        );
        binary
    })
}

/// One TaskRun's shared volumes on the host.
struct Pod {
    dir: tempfile::TempDir,
    name: String,
    image: &'static str,
}

impl Pod {
    fn new(name: &str, image: &'static str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("run")).unwrap();
        Pod {
            dir,
            name: format!("adze-entrypoint-test-{}-{name}", std::process::id()),
            image,
        }
    }

    /// Start step `i` (it waits for step `i-1` by itself) running `script` under the image's sh.
    fn start_step(&self, i: usize, extra: &[&str], script: &str) -> Child {
        self.start_command(i, extra, &["/bin/sh", "-c", script])
    }

    /// Start step `i` running `command` directly (no shell).
    fn start_command(&self, i: usize, extra: &[&str], step_command: &[&str]) -> Child {
        self.start_command_with(i, &[], extra, step_command)
    }

    /// Start step `i` with more `docker run` options (volumes, env) and entrypoint flags.
    fn start_command_with(
        &self,
        i: usize,
        docker_options: &[&str],
        extra: &[&str],
        step_command: &[&str],
    ) -> Child {
        let mut command = Command::new("docker");
        command
            .args([
                "run",
                "--rm",
                "--pull",
                "never",
                "--name",
                &format!("{}-{i}", self.name),
            ])
            .arg("-v")
            .arg(format!(
                "{}:/tekton/bin/entrypoint:ro",
                static_entrypoint().display()
            ))
            .arg("-v")
            .arg(format!(
                "{}:/tekton/run",
                self.dir.path().join("run").display()
            ))
            .args(docker_options)
            .args([self.image, "/tekton/bin/entrypoint"]);
        if i > 0 {
            command.args(["-wait_file", &format!("/tekton/run/{}/out", i - 1)]);
        }
        command
            .args(["-post_file", &format!("/tekton/run/{i}/out")])
            .args(["-termination_path", &format!("/tekton/run/{i}/termination")])
            .args(["-step_metadata_dir", &format!("/tekton/run/{i}/status")])
            .args(extra)
            .arg("--")
            .args(step_command)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().expect("docker runs")
    }

    fn path(&self, rest: &str) -> PathBuf {
        self.dir.path().join("run").join(rest)
    }

    /// The (key, value) pairs of step `i`'s termination message, `StartedAt` checked and dropped.
    fn message(&self, i: usize) -> Vec<(String, String)> {
        let text = fs::read_to_string(self.path(&format!("{i}/termination"))).unwrap();
        let entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        let started = entries.iter().filter(|e| e["key"] == "StartedAt").count();
        assert_eq!(started, 1, "{text}");
        entries
            .iter()
            .filter(|e| e["key"] != "StartedAt")
            .map(|e| {
                (
                    e["key"].as_str().unwrap().into(),
                    e["value"].as_str().unwrap().into(),
                )
            })
            .collect()
    }
}

fn finish(child: Child) -> (i32, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    let code = status.code().expect("docker exited");
    let logs = String::from_utf8_lossy(&stdout).to_string() + &String::from_utf8_lossy(&stderr);
    (code, logs)
}

fn pair(key: &str, value: &str) -> (String, String) {
    (key.into(), value.into())
}

#[test]
fn continue_releases_the_next_step() {
    let pod = Pod::new("continue", BUSYBOX);
    static_entrypoint();
    // Step 1 starts first and must wait for step 0's marker.
    let second = pod.start_step(1, &[], "echo second");
    let first = pod.start_step(0, &["-on_error", "continue"], "echo first; exit 4");
    let (first_code, first_logs) = finish(first);
    let (second_code, second_logs) = finish(second);
    assert_eq!(
        first_code, 0,
        "onError: continue makes the container succeed: {first_logs}"
    );
    assert!(first_logs.contains("first"), "{first_logs}");
    assert_eq!(second_code, 0, "{second_logs}");
    assert!(second_logs.contains("second"), "{second_logs}");
    assert!(pod.path("0/out").exists() && pod.path("1/out").exists());
    assert_eq!(
        fs::read_to_string(pod.path("0/status/exitCode")).unwrap(),
        "4"
    );
    assert_eq!(pod.message(0), [pair("ExitCode", "4")]);
    assert_eq!(pod.message(1), []);
}

#[test]
fn a_failure_skips_the_next_step() {
    let pod = Pod::new("fail", BUSYBOX);
    static_entrypoint();
    let second = pod.start_step(1, &[], "echo must-not-run");
    let first = pod.start_step(0, &[], "exit 3");
    let (first_code, first_logs) = finish(first);
    let (second_code, second_logs) = finish(second);
    assert_eq!(
        first_code, 3,
        "stopAndFail exits with the command's status: {first_logs}"
    );
    assert_eq!(second_code, 1, "a skipped step exits 1: {second_logs}");
    assert!(!second_logs.contains("must-not-run"), "{second_logs}");
    assert!(pod.path("0/out.err").exists() && pod.path("1/out.err").exists());
    assert!(!pod.path("0/out").exists() && !pod.path("1/out").exists());
    assert_eq!(pod.message(0), []);
    assert_eq!(pod.message(1), [pair("Reason", "Skipped")]);
}

#[test]
fn streams_are_teed_in_debian() {
    let pod = Pod::new("tee", DEBIAN);
    static_entrypoint();
    let both = [
        "-stdout_path",
        "/tekton/run/0/logs/both",
        "-stderr_path",
        "/tekton/run/0/logs/both",
    ];
    let step = pod.start_step(
        0,
        &both,
        "echo out; sleep 0.1; echo err >&2; sleep 0.1; echo out2",
    );
    let (code, logs) = finish(step);
    assert_eq!(code, 0, "{logs}");
    // The container's own streams still carry the output (what `docker logs` shows).
    assert!(logs.contains("out\n") && logs.contains("err\n"), "{logs}");
    assert_eq!(
        fs::read_to_string(pod.path("0/logs/both")).unwrap(),
        "out\nerr\nout2\n"
    );
    assert_eq!(
        fs::read_to_string(pod.path("0/status/exitCode")).unwrap(),
        "0"
    );
}

#[test]
fn runs_in_an_image_without_a_shell() {
    let pod = Pod::new("no-shell", NO_SHELL);
    static_entrypoint();
    no_shell_image();
    // The only program in the image is the entrypoint itself: as the step's command, given an
    // unknown flag, it exits 2, which is what each step's outcome is built from.
    let failing = ["/tekton/bin/entrypoint", "-no_such_flag"];
    let second = pod.start_command(1, &[], &failing);
    let first = pod.start_command(0, &["-on_error", "continue"], &failing);
    let (first_code, first_logs) = finish(first);
    let (second_code, second_logs) = finish(second);
    assert_eq!(first_code, 0, "{first_logs}");
    assert!(
        first_logs.contains("flag provided but not defined: -no_such_flag"),
        "{first_logs}"
    );
    assert_eq!(pod.message(0), [pair("ExitCode", "2")]);
    assert_eq!(second_code, 2, "{second_logs}");
    assert!(pod.path("0/out").exists() && pod.path("1/out.err").exists());
    assert_eq!(pod.message(1), []);
}

/// A host directory standing in for an emptyDir: writable by every uid, as Kubernetes makes it.
fn empty_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// How the Pod's `prepare` init container runs: non-root, read-only root filesystem.
const AS_PREPARE: &[&str] = &["--user", "65532", "--read-only"];

/// `docker run --rm` of `command` in `image` with `options` and `volumes` (`HOST:PATH[:ro]`).
fn docker_run(options: &[&str], volumes: &[&str], image: &str, command: &[&str]) -> (i32, String) {
    let mut docker = Command::new("docker");
    docker
        .args(["run", "--rm", "--pull", "never"])
        .args(options);
    for volume in volumes {
        docker.args(["-v", volume]);
    }
    let output = docker
        .arg(image)
        .args(command)
        .output()
        .expect("docker runs");
    let logs = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().expect("docker exited"), logs)
}

/// `init` as the Pod's `prepare` container runs it (non-root, read-only root filesystem, in an
/// image with nothing else), then a step as another non-root user runs the copy it made.
#[test]
fn init_prepares_the_volumes_for_non_root_steps() {
    no_shell_image();
    let bin = empty_dir();
    let run = empty_dir();
    let bin_mount = format!("{}:/tekton/bin", bin.path().display());
    let run_mount = format!("{}:/tekton/run", run.path().display());
    let self_mount = format!("{}:/adze-entrypoint:ro", static_entrypoint().display());
    let init = ["/adze-entrypoint", "init", "/tekton/bin/entrypoint"];
    let dirs = ["/tekton/run/0/status", "/tekton/run/1/status"];
    let volumes = [bin_mount.as_str(), &run_mount, &self_mount];
    let (code, logs) = docker_run(AS_PREPARE, &volumes, NO_SHELL, &[&init[..], &dirs].concat());
    assert_eq!(code, 0, "{logs}");
    assert_eq!(
        fs::read(bin.path().join("entrypoint")).unwrap(),
        fs::read(static_entrypoint()).unwrap()
    );
    let step = [
        "/tekton/bin/entrypoint",
        "-post_file=/tekton/run/0/out",
        "-termination_path=/tekton/run/0/status/termination",
        "-step_metadata_dir=/tekton/run/0/status",
        "-step_results=who",
        "--",
        "/bin/sh",
        "-c",
        "mkdir -p /tekton/run/0/status/results && id -u > /tekton/run/0/status/results/who",
    ];
    let (code, logs) = docker_run(&["--user", "1234"], &volumes[..2], BUSYBOX, &step);
    assert_eq!(code, 0, "{logs}");
    assert!(run.path().join("0/out").exists());
    let message = fs::read_to_string(run.path().join("0/status/termination")).unwrap();
    assert!(
        message.contains(r#"{"key":"who","value":"1234\n","type":4}"#),
        "{message}"
    );
}

/// `init` exits 1 naming the path and the uid when the volume is not writable.
#[test]
fn init_says_which_volume_is_not_writable() {
    no_shell_image();
    let self_mount = format!("{}:/adze-entrypoint:ro", static_entrypoint().display());
    let init = ["/adze-entrypoint", "init", "/tekton/bin/entrypoint"];
    let (code, logs) = docker_run(AS_PREPARE, &[&self_mount], NO_SHELL, &init);
    assert_eq!(code, 1, "{logs}");
    assert!(
        logs.contains("cannot create /tekton/bin") && logs.contains("writable by uid 65532"),
        "{logs}"
    );
}

/// The image tests/setup-docker.sh builds runs `init` by itself, and its copy runs a step
/// with this version's flags. Behaviour, not bytes, is compared: builds from other worktrees
/// differ in their debug info, and every worktree's tests share one engine and one tag.
#[test]
fn the_entrypoint_image_runs_init() {
    no_shell_image();
    let bin = empty_dir();
    let bin_mount = format!("{}:/tekton/bin", bin.path().display());
    let init = ["/adze-entrypoint", "init", "/tekton/bin/entrypoint"];
    let (code, logs) = docker_run(AS_PREPARE, &[&bin_mount], ENTRYPOINT_IMAGE, &init);
    assert_eq!(
        code, 0,
        "is {ENTRYPOINT_IMAGE} built? run tests/setup-docker.sh: {logs}"
    );
    // A guard that is false: the step succeeds without running its (missing) command.
    let step = [
        "/tekton/bin/entrypoint",
        "-post_file=/tekton/bin/out",
        "-termination_path=/tekton/bin/termination",
        r#"-when_expressions=[{"input":"a","operator":"notin","values":["a"]}]"#,
        "--",
        "/no/such/command",
    ];
    let (code, logs) = docker_run(AS_PREPARE, &[&bin_mount], NO_SHELL, &step);
    assert_eq!(
        code, 0,
        "{ENTRYPOINT_IMAGE} holds an older build; run tests/setup-docker.sh: {logs}"
    );
    assert!(bin.path().join("out").exists());
    let layers = Command::new("docker")
        .args([
            "image",
            "inspect",
            "-f",
            "{{len .RootFS.Layers}}",
            ENTRYPOINT_IMAGE,
        ])
        .output()
        .expect("docker runs");
    assert_eq!(
        String::from_utf8_lossy(&layers.stdout).trim(),
        "1",
        "one imported layer, nothing else"
    );
}

/// Run `init` for `steps` (their status dirs and `/tekton/steps/step-<name>` links) into the
/// `run` and `steps` volumes, as the Pod's `prepare` container does.
fn init_steps(run: &Path, steps_volume: &Path, steps: &[&str]) {
    let mut command = vec![
        "/adze-entrypoint".to_string(),
        "init".into(),
        "/tekton/run/entrypoint-copy".into(),
    ];
    for (i, name) in steps.iter().enumerate() {
        command.push(format!("/tekton/run/{i}/status"));
        command.push(format!("/tekton/steps/step-{name}=/tekton/run/{i}/status"));
    }
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let run_mount = format!("{}:/tekton/run", run.display());
    let steps_mount = format!("{}:/tekton/steps", steps_volume.display());
    let self_mount = format!("{}:/adze-entrypoint:ro", static_entrypoint().display());
    let volumes = [run_mount.as_str(), &steps_mount, &self_mount];
    no_shell_image();
    let (code, logs) = docker_run(AS_PREPARE, &volumes, NO_SHELL, &command);
    assert_eq!(code, 0, "{logs}");
}

/// Results of an earlier step reach a later step's args (an array spliced), its env and its
/// `when` guard, read through the `/tekton/steps/step-<name>` links `init` made.
#[test]
fn step_results_reach_args_env_and_when() {
    let pod = Pod::new("step-results", BUSYBOX);
    let steps = empty_dir();
    fs::set_permissions(
        pod.path(""),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    init_steps(&pod.path(""), steps.path(), &["first", "second", "third"]);
    let steps_mount = format!("{}:/tekton/steps", steps.path().display());
    // The first expression holds; the CEL one, with the result inside its quotes, does not.
    let when = r#"[{"input":"$(steps.first.results.word)","operator":"in","values":["hi"]},
                   {"cel":"'$(steps.first.results.word)' == 'nope'"}]"#;
    let third = pod.start_command_with(
        2,
        &["-v", &steps_mount],
        &["-when_expressions", when],
        &["/bin/sh", "-c", "echo must-not-run"],
    );
    let second = pod.start_command_with(
        1,
        &[
            "-v",
            &steps_mount,
            "-e",
            "GREETING=hello $(steps.first.results.word)",
        ],
        &[],
        &[
            "/bin/sh",
            "-c",
            r#"echo "$GREETING|$#|$1|$2""#,
            "sh",
            "$(steps.first.results.list[*])",
        ],
    );
    let first = pod.start_command_with(
        0,
        &["-v", &steps_mount],
        &[],
        &[
            "/bin/sh",
            "-c",
            "printf hi > /tekton/steps/step-first/results/word; \
             printf '[\"x\",\"y z\"]' > /tekton/steps/step-first/results/list",
        ],
    );
    let (first_code, first_logs) = finish(first);
    assert_eq!(first_code, 0, "{first_logs}");
    let (second_code, second_logs) = finish(second);
    assert_eq!(second_code, 0, "{second_logs}");
    assert!(second_logs.contains("hello hi|2|x|y z"), "{second_logs}");
    let (third_code, third_logs) = finish(third);
    assert_eq!(third_code, 0, "{third_logs}");
    assert!(!third_logs.contains("must-not-run"), "{third_logs}");
    assert_eq!(pod.message(2), [pair("Reason", "Skipped")]);
    assert_eq!(
        fs::read_to_string(pod.path("2/status/exitCode")).unwrap(),
        "0"
    );
}

/// As PID 1, the entrypoint passes `docker stop`'s SIGTERM to the command (which exits at
/// once instead of being killed after the grace period) and reaps the orphans it inherits.
#[test]
fn signals_reach_the_command_and_orphans_are_reaped() {
    let pod = Pod::new("signals", BUSYBOX);
    let script = "trap 'echo got-term; exit 7' TERM; \
                  (sleep 0.1 &); sleep 0.5; ps -o stat,comm > /tekton/run/0/ps; \
                  touch /tekton/run/0/ready; while true; do sleep 0.1; done";
    let step = pod.start_step(0, &[], script);
    let ready = pod.path("0/ready");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ready.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the step never became ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let stopping = std::time::Instant::now();
    let stop = Command::new("docker")
        .args(["stop", "-t", "30", &format!("{}-0", pod.name)])
        .output()
        .expect("docker runs");
    assert!(stop.status.success(), "{stop:?}");
    let (code, logs) = finish(step);
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(20),
        "SIGTERM did not reach the command: stopped after {:?}",
        stopping.elapsed()
    );
    assert_eq!(code, 7, "the command's own exit status: {logs}");
    assert!(logs.contains("got-term"), "{logs}");
    assert!(pod.path("0/out.err").exists());
    let ps = fs::read_to_string(pod.path("0/ps")).unwrap();
    assert!(
        !ps.lines().any(|line| line.starts_with('Z')),
        "a zombie was left unreaped:\n{ps}"
    );
}

/// `sidecar-log-results` as the Pod's `tekton-log-results` sidecar runs it: non-root, read-only
/// root filesystem, an image with nothing else, the run and results directories read-only.
/// It prints once the last step's post file appears, one JSON line per result.
#[test]
fn the_results_sidecar_prints_each_result_once_the_steps_are_done() {
    no_shell_image();
    let run = empty_dir();
    let results = empty_dir();
    fs::create_dir_all(run.path().join("0/status/results")).unwrap();
    fs::create_dir_all(run.path().join("1/status/results")).unwrap();
    fs::write(run.path().join("0/out"), "").unwrap();
    fs::write(results.path().join("digest"), "x".repeat(5000)).unwrap();
    fs::write(run.path().join("1/status/results/url"), "https://a").unwrap();
    let run_mount = format!("{}:/tekton/run:ro", run.path().display());
    let results_mount = format!("{}:/tekton/results:ro", results.path().display());
    let self_mount = format!("{}:/adze-entrypoint:ro", static_entrypoint().display());
    let last_step = run.path().join("1/out");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        fs::write(last_step, "").unwrap();
    });
    let command = [
        "/adze-entrypoint",
        "sidecar-log-results",
        "-results-dir",
        "/tekton/results",
        "-result-names",
        "digest,missing",
        "-step-names",
        "build,push",
        "-step-results",
        r#"{"push":["url"]}"#,
    ];
    let volumes = [run_mount.as_str(), &results_mount, &self_mount];
    let (code, logs) = docker_run(AS_PREPARE, &volumes, NO_SHELL, &command);
    writer.join().unwrap();
    assert_eq!(code, 0, "{logs}");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(
        lines,
        [
            serde_json::json!({"name": "digest", "value": "x".repeat(5000), "type": "task"}),
            serde_json::json!({"name": "push.url", "value": "https://a", "type": "step"}),
        ]
    );
}
