//! `adze run --break-on-failure` and `--break-before STEP` end to end, without a terminal (as
//! in CI): adze prints the command that opens a shell in the stopped step's world; the test
//! runs what it names with `docker exec` (no `-it`), then closes adze's stdin, which ends the
//! session, and checks what was removed and what ran. The stop and its end are events too
//! (`--events-file`), checked against the printed schema.
//!
//! Names are unique to this file (`dbg-…`), and only containers of these runs are looked at:
//! other test binaries share the engine.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::running::Running;
use common::{docker, require_docker};

const BUSYBOX: &str = "adze-test/busybox:latest";
const LIMIT: Duration = Duration::from_secs(90);

/// A working directory holding `run.yaml`.
fn workdir(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("run.yaml"), yaml.replace("IMAGE", BUSYBOX)).expect("write");
    dir
}

/// `adze ARGS` in `dir`, stdin a pipe the test closes.
fn adze(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_adze"));
    cmd.current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped());
    cmd
}

/// `docker exec CONTAINER sh -c SCRIPT`: its stdout, or `Err` with its stderr.
fn exec(container: &str, script: &str) -> Result<String, String> {
    let out = Command::new("docker")
        .args(["exec", container, "sh", "-c", script])
        .output()
        .expect("docker runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The container and shell of the `open it:` line adze printed.
fn printed_command(running: &Running) -> (String, String) {
    let line = running.line_with("open it:");
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "-it")
        .unwrap_or_else(|| panic!("no `docker exec -it` in {line:?}"));
    assert_eq!(&words[at - 2..at], ["docker", "exec"], "{line}");
    (words[at + 1].to_owned(), words[at + 2].to_owned())
}

/// The schema as `adze schema events` prints it.
fn printed_schema() -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_adze"))
        .args(["schema", "events"])
        .output()
        .expect("adze runs");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("the schema is JSON")
}

/// The events written so far to `file`, each checked against `schema`.
fn events_in(file: &Path, schema: &serde_json::Value) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        // A line being written has no newline yet.
        .take(text.matches('\n').count())
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            if let Err(e) = adze::events::schema::validate(schema, &event) {
                panic!("not valid under the schema ({e}): {line}");
            }
            event
        })
        .collect()
}

/// The first event of type `kind` in `file`, once it is written (up to 60 s).
fn wait_for_event(file: &Path, schema: &serde_json::Value, kind: &str) -> serde_json::Value {
    let until = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let events = events_in(file, schema);
        if let Some(e) = events.iter().find(|e| e["type"] == kind) {
            return e.clone();
        }
        assert!(
            std::time::Instant::now() < until,
            "no {kind} event in {events:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether any container (running or not) has this name or label.
fn containers(filter: &str) -> String {
    docker(&["ps", "-aq", "--filter", filter])
}

/// The host directory of the mount at `target`, from the lines adze printed.
fn mount_source(stderr: &str, target: &str) -> String {
    stderr
        .lines()
        .find(|l| l.split_whitespace().find(|w| *w != "mounts:") == Some(target))
        .and_then(|l| l.split("<- ").nth(1))
        .unwrap_or_else(|| panic!("no mount {target} in:\n{stderr}"))
        .trim()
        .to_owned()
}

const FAILING: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: dbg-fail}
spec:
  workspaces: [{name: source, emptyDir: {}}]
  pipelineSpec:
    workspaces: [{name: source}]
    tasks:
    - name: build
      workspaces: [{name: source}]
      taskSpec:
        workspaces: [{name: source}]
        steps:
        - name: setup
          image: IMAGE
          script: echo set-up > $(workspaces.source.path)/setup.txt
        - name: compile
          image: IMAGE
          workingDir: /src/app
          env: [{name: GREETING, value: hello-from-compile}]
          script: |
            echo compile-log > $(workspaces.source.path)/compile.log
            echo in-working-dir > made-here.txt
            echo compiling; exit 3
        - name: never
          image: IMAGE
          script: echo never-ran
    - name: sibling
      workspaces: [{name: source}]
      taskSpec:
        workspaces: [{name: source}]
        steps:
        - name: wait
          image: IMAGE
          script: |
            until [ -e $(workspaces.source.path)/go-on ]; do sleep 0.1; done
            echo sibling-done
    - name: after-sibling
      runAfter: [sibling]
      taskSpec:
        steps: [{name: s, image: IMAGE, script: echo after-sibling-ran}]
    finally:
    - name: cleanup
      taskSpec:
        steps: [{name: c, image: IMAGE, script: echo cleanup-ran}]
"#;

#[test]
fn break_on_failure_prints_a_command_into_the_failed_steps_world_and_stops_the_run() {
    require_docker();
    let dir = workdir(FAILING);
    let mut running = Running::start(
        adze(
            dir.path(),
            &[
                "run",
                "run.yaml",
                "--break-on-failure",
                "-o",
                "json",
                "--events-file",
                "events.jsonl",
            ],
        ),
        "open it:",
    );
    let headline = running.line_with("break: task build");
    assert!(
        headline.starts_with("break: task build, step compile failed (exit 3): shell in "),
        "{headline}"
    );
    let (container, shell) = printed_command(&running);
    assert_eq!(shell, "sh", "busybox has no bash");
    assert!(container.starts_with("adze-debug-dbg-fail-build-compile"));
    // The stop is an event too, naming the same container and command.
    let schema = printed_schema();
    let events_file = dir.path().join("events.jsonl");
    let stop = wait_for_event(&events_file, &schema, "breakpoint");
    assert_eq!(stop["task"], "build", "{stop}");
    assert_eq!(stop["taskRun"], "dbg-fail-build", "{stop}");
    assert_eq!(stop["step"], "compile", "{stop}");
    assert_eq!(stop["why"], "failure", "{stop}");
    assert_eq!(stop["exitCode"], 3, "{stop}");
    assert_eq!(stop["container"], container.as_str(), "{stop}");
    let command = stop["command"].as_str().expect("a command");
    assert_eq!(command, format!("docker exec -it {container} {shell}"));
    // The event's command works as given, without `-it` where there is no terminal.
    let words: Vec<&str> = command.split_whitespace().filter(|w| *w != "-it").collect();
    let by_event = Command::new(words[0])
        .args(&words[1..])
        .args(["-c", "cat /workspace/source/compile.log"])
        .output()
        .expect("the event's command runs");
    assert_eq!(
        String::from_utf8_lossy(&by_event.stdout).trim(),
        "compile-log",
        "{by_event:?}"
    );
    // The step's files in the workspace and in its working directory (outside any mount:
    // the failed container was committed), its environment and working directory.
    assert_eq!(
        exec(&container, "cat /workspace/source/compile.log"),
        Ok("compile-log".into())
    );
    assert_eq!(
        exec(&container, "cat /workspace/source/setup.txt"),
        Ok("set-up".into())
    );
    assert_eq!(exec(&container, "pwd"), Ok("/src/app".into()));
    assert_eq!(
        exec(&container, "cat made-here.txt"),
        Ok("in-working-dir".into())
    );
    assert_eq!(
        exec(&container, "echo $GREETING"),
        Ok("hello-from-compile".into())
    );
    assert_eq!(
        exec(&container, "cat /tekton/steps/step-compile/exitCode"),
        Ok("3".into()),
        "the /tekton volumes are there"
    );
    let stderr = running.stderr();
    assert!(
        stderr.find("compiling") < stderr.find("break: task build"),
        "the step's output comes before the stop:\n{stderr}"
    );
    let image = running
        .line_with("image:")
        .split_whitespace()
        .nth(1)
        .expect("an image")
        .to_owned();
    assert!(image.starts_with("adze-debug:"), "{image}");
    let task_dir = Path::new(&mount_source(&stderr, "/tekton/home"))
        .parent()
        .expect("the TaskRun's directory")
        .to_owned();
    assert!(task_dir.is_dir(), "the sandbox is kept during the session");
    // The sibling, still running when the step failed, ends during the session; what comes
    // after it must not start.
    exec(&container, "touch /workspace/source/go-on").expect("release the sibling");
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while !containers("label=adze.dev/run=dbg-fail-sibling").is_empty() {
        assert!(std::time::Instant::now() < until, "the sibling never ended");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    running.close_stdin();
    let out = running.finish(LIMIT);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("break: session over"), "{}", out.stderr);
    assert!(out.stderr.contains("sibling-done"), "{}", out.stderr);
    for never in ["never-ran", "after-sibling-ran", "cleanup-ran"] {
        assert!(!out.stderr.contains(never), "{never}:\n{}", out.stderr);
    }
    let pr = out.json().expect("the PipelineRun on stdout");
    let condition = &pr["status"]["conditions"][0];
    assert_eq!(condition["reason"], "Failed", "{condition}");
    assert!(
        condition["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("stopped at a breakpoint: step \"compile\"")),
        "{condition}"
    );
    let children: Vec<&str> = pr["status"]["childReferences"]
        .as_array()
        .expect("children")
        .iter()
        .filter_map(|c| c["pipelineTaskName"].as_str())
        .collect();
    assert!(!children.contains(&"after-sibling"), "{children:?}");
    assert!(!children.contains(&"cleanup"), "{children:?}");
    // The session's end is an event, between the stop and the run's end.
    let events = events_in(&events_file, &schema);
    let position = |kind: &str| {
        events
            .iter()
            .position(|e| e["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {events:#?}"))
    };
    let ended = &events[position("breakpointEnded")];
    assert_eq!(ended["container"], container.as_str(), "{ended}");
    assert_eq!(ended["why"], "failure", "{ended}");
    assert!(position("breakpoint") < position("breakpointEnded"));
    assert_eq!(position("runFinished"), events.len() - 1);
    // Everything of the session and the sandbox is gone.
    assert_eq!(containers(&format!("name={container}")), "");
    assert_eq!(containers("label=adze.dev/run=dbg-fail-build"), "");
    let image_left = Command::new("docker")
        .args(["image", "inspect", &image])
        .output()
        .expect("docker runs");
    assert!(!image_left.status.success(), "{image} is left");
    assert!(!task_dir.exists(), "{} is left", task_dir.display());
}

const STEPS: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: dbg-before}
spec:
  taskSpec:
    steps:
    - name: one
      image: IMAGE
      script: echo first > /workspace/one.txt
    - name: two
      image: IMAGE
      script: |
        cat /workspace/one.txt /workspace/from-shell.txt
        echo second > /workspace/two.txt
"#;

#[test]
fn break_before_shows_the_earlier_steps_work_and_the_run_goes_on() {
    require_docker();
    let dir = workdir(STEPS);
    let mut running = Running::start(
        adze(dir.path(), &["run", "run.yaml", "--break-before", "two"]),
        "open it:",
    );
    let headline = running.line_with("break: task");
    assert!(
        headline.starts_with("break: task dbg-before, before step two: shell in "),
        "{headline}"
    );
    let (container, _) = printed_command(&running);
    assert_eq!(
        exec(&container, "cat /workspace/one.txt"),
        Ok("first".into())
    );
    assert!(
        exec(&container, "cat /workspace/two.txt").is_err(),
        "step two has not run"
    );
    // What the shell changes, the step sees.
    exec(&container, "echo fixed-by-hand > /workspace/from-shell.txt").expect("write");
    running.close_stdin();
    let out = running.finish(LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let over = out
        .stderr
        .find("break: session over")
        .expect("session over");
    let fixed = out.stderr.find("fixed-by-hand").expect("step two's output");
    assert!(over < fixed, "{}", out.stderr);
    assert_eq!(containers(&format!("name={container}")), "");
    assert_eq!(containers("label=adze.dev/run=dbg-before"), "");
}

#[test]
fn an_unknown_step_is_refused_before_anything_runs_with_the_closest_name() {
    let dir = workdir(&FAILING.replace("dbg-fail", "dbg-unknown"));
    let out = Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir.path())
        .args(["run", "run.yaml", "--break-before", "build/compil"])
        .env("NO_COLOR", "1")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("adze runs");
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stderr));
    let kube = Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir.path())
        .args([
            "run",
            "run.yaml",
            "--break-on-failure",
            "--executor",
            "kubernetes",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("adze runs");
    assert_eq!(kube.status.code(), Some(2));
    insta::assert_snapshot!("kubernetes", String::from_utf8_lossy(&kube.stderr));
}

const NO_SHELL: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: dbg-no-shell}
spec:
  taskSpec:
    steps:
    - name: run
      image: adze-test/no-shell:latest
      command: [/missing-program]
"#;

#[test]
fn an_image_without_a_shell_gets_commands_to_read_its_files_instead() {
    require_docker();
    let entrypoint = std::env::var("ADZE_ENTRYPOINT").unwrap_or_default();
    assert!(
        Path::new(&entrypoint).is_file(),
        "ADZE_ENTRYPOINT must name the static adze-entrypoint (tests/run-all.sh sets it): a \
         step of an image without a shell fails only through it; it is {entrypoint:?}"
    );
    let dir = workdir(NO_SHELL);
    let mut running = Running::start(
        adze(dir.path(), &["run", "run.yaml", "--break-on-failure"]),
        "look at its files instead:",
    );
    let headline = running.line_with("break: task");
    assert!(
        headline.contains("step run failed (exit 1): the image has no shell"),
        "{headline}"
    );
    let export = running.line_with("docker cp ");
    let container = export
        .split_whitespace()
        .nth(2)
        .and_then(|w| w.split(':').next())
        .expect("a container")
        .to_owned();
    // The printed way in works on the created (never started) container.
    let copied = Command::new("sh")
        .args([
            "-c",
            &format!("docker cp {container}:/tekton/steps/step-run/exitCode - | tar -xO"),
        ])
        .output()
        .expect("sh runs");
    assert_eq!(String::from_utf8_lossy(&copied.stdout).trim(), "1");
    running.close_stdin();
    let out = running.finish(LIMIT);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(containers(&format!("name={container}")), "");
    assert_eq!(containers("label=adze.dev/run=dbg-no-shell"), "");
}

const NESTED: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: dbg-nested}
spec:
  pipelineSpec:
    tasks:
    - name: build
      taskSpec:
        steps: [{name: two, image: IMAGE, script: echo top-level-two-ran}]
    - name: inner
      pipelineSpec:
        tasks:
        - name: build
          taskSpec:
            steps:
            - name: one
              image: IMAGE
              script: echo first > /workspace/one.txt
            - name: two
              image: IMAGE
              script: cat /workspace/from-shell.txt
"#;

#[test]
fn break_before_reaches_a_step_of_a_pipeline_in_a_pipeline_by_its_path() {
    require_docker();
    let dir = workdir(NESTED);
    let refused = Command::new(env!("CARGO_BIN_EXE_adze"))
        .current_dir(dir.path())
        .args(["run", "run.yaml", "--break-before", "inner/biuld/two"])
        .env("NO_COLOR", "1")
        .output()
        .expect("adze runs");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("did you mean `inner/build/two`?"), "{said}");
    // `build/two` is the top-level task's step: the nested one needs its whole path.
    let mut running = Running::start(
        adze(
            dir.path(),
            &["run", "run.yaml", "--break-before", "inner/build/two"],
        ),
        "open it:",
    );
    let headline = running.line_with("break: task");
    assert!(
        headline.starts_with("break: task inner/build, before step two: shell in "),
        "{headline}"
    );
    let (container, _) = printed_command(&running);
    assert_eq!(
        exec(&container, "cat /workspace/one.txt"),
        Ok("first".into())
    );
    exec(&container, "echo nested-fixed > /workspace/from-shell.txt").expect("write");
    running.close_stdin();
    let out = running.finish(LIMIT);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("break: task").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("top-level-two-ran"), "{}", out.stderr);
    let over = out.stderr.find("break: session over").expect("over");
    let fixed = out.stderr.find("nested-fixed").expect("step two's output");
    assert!(over < fixed, "{}", out.stderr);
    assert_eq!(containers(&format!("name={container}")), "");
}
