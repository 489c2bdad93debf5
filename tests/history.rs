//! The history of local runs, end to end: `adze run` against the real Docker engine records
//! each run in `.adze/history.db`, and `adze runs`, `adze logs` and `adze show` read it back.
//! Without a Docker engine these tests fail (they never skip): run `bash tests/setup-docker.sh`.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::running::Running;
use common::Outcome;

const LIMIT: Duration = Duration::from_secs(120);

/// A PipelineRun of two tasks whose steps print what they were given.
const PIPELINE: &str = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: hist-pipe}
spec:
  params:
  - {name: word, value: first}
  pipelineSpec:
    params:
    - {name: word, type: string}
    tasks:
    - name: build
      params:
      - {name: word, value: $(params.word)}
      taskSpec:
        params:
        - {name: word, type: string}
        steps:
        - name: compile
          image: adze-test/busybox:latest
          script: echo "compiled $(params.word)"
        - name: pack
          image: adze-test/busybox:latest
          script: echo packed >&2
    - name: test
      runAfter: [build]
      taskSpec:
        steps:
        - name: unit
          image: adze-test/busybox:latest
          script: echo "unit ok"
"#;

/// A TaskRun of one step.
const TASK_RUN: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: hist-task}
spec:
  taskSpec:
    steps:
    - name: say
      image: adze-test/busybox:latest
      script: echo said
"#;

fn workdir(yaml: &str) -> tempfile::TempDir {
    common::require_docker();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("run.yaml"), yaml).expect("write run.yaml");
    dir
}

fn adze(dir: &Path, args: &[&str]) -> Outcome {
    common::run_adze(dir, args, LIMIT)
}

fn ok(dir: &Path, args: &[&str]) -> Outcome {
    let out = adze(dir, args);
    assert_eq!(
        out.code,
        Some(0),
        "adze {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    out
}

/// `adze runs`'s table of local runs (no cell has a space) with each run's start time and
/// duration replaced, as they differ from run to run.
fn normalized_table(text: &str) -> String {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().split_whitespace();
    let mut out = vec![header.collect::<Vec<_>>().join(" ")];
    for line in lines {
        let mut cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells.len(), 6, "{line}");
        assert!(common::is_rfc3339(cells[4]), "{line}");
        cells[4] = "<started>";
        cells[5] = "<took>";
        out.push(cells.join(" "));
    }
    out.join("\n")
}

#[test]
fn two_runs_are_listed_and_their_logs_and_final_objects_read_back() {
    let dir = workdir(PIPELINE);
    let dir = dir.path();
    let first = ok(dir, &["run", "run.yaml", "-o", "yaml"]);
    let second = ok(dir, &["run", "run.yaml", "-p", "word=second", "-o", "yaml"]);

    let runs = ok(dir, &["runs"]);
    insta::assert_snapshot!("runs_table", normalized_table(&runs.stdout));
    let json = ok(dir, &["runs", "-o", "json"])
        .json()
        .expect("runs -o json");
    let listed: Vec<(&str, &str, &str)> = json["runs"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["origin"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("hist-pipe@2", "local", "succeeded"),
            ("hist-pipe@1", "local", "succeeded")
        ],
        "newest first"
    );

    // The newest run by default, every step, in the order printed within each step.
    let all = ok(dir, &["logs"]).stdout;
    for line in [
        "[build/compile] compiled second",
        "[build/pack] packed",
        "[test/unit] unit ok",
    ] {
        assert!(all.lines().any(|l| l == line), "{line} in:\n{all}");
    }
    assert!(!all.contains("first"), "only the newest run:\n{all}");
    insta::assert_snapshot!(
        "logs_of_a_step",
        ok(dir, &["logs", "hist-pipe@1", "build/compile"]).stdout
    );
    assert_eq!(ok(dir, &["logs", "test"]).stdout, "[test/unit] unit ok\n");
    assert_eq!(
        ok(dir, &["logs", "hist-pipe", "build/pack"]).stdout,
        "[build/pack] packed\n",
        "a name is its newest run"
    );

    let typo = adze(dir, &["logs", "hist-pipe@1", "buld"]);
    assert_eq!(typo.code, Some(2), "{}", typo.stderr);
    insta::assert_snapshot!("unknown_task", typo.stderr);
    let typo = adze(dir, &["logs", "hist-pipe@1", "build/compil"]);
    assert_eq!(typo.code, Some(2), "{}", typo.stderr);
    insta::assert_snapshot!("unknown_step", typo.stderr);
    let typo = adze(dir, &["show", "hist-pip"]);
    assert_eq!(typo.code, Some(2), "{}", typo.stderr);
    insta::assert_snapshot!("unknown_run", typo.stderr);

    assert_eq!(
        ok(dir, &["show", "hist-pipe@1", "-o", "yaml"]).stdout,
        first.stdout
    );
    assert_eq!(
        ok(dir, &["show", "hist-pipe", "-o", "yaml"]).stdout,
        second.stdout
    );
    let shown = ok(dir, &["show", "hist-pipe@1", "-o", "json"])
        .json()
        .expect("json");
    assert_eq!(shown["metadata"]["name"], "hist-pipe");
    assert_eq!(shown["status"]["conditions"][0]["reason"], "Succeeded");
}

#[test]
fn keep_runs_1_leaves_only_the_newest_run_and_its_logs() {
    let dir = workdir(TASK_RUN);
    let dir = dir.path();
    ok(dir, &["run", "run.yaml"]);
    let second = ok(dir, &["run", "run.yaml", "--keep-runs", "1", "-o", "json"]);

    let json = ok(dir, &["runs", "-o", "json"])
        .json()
        .expect("runs -o json");
    let ids: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["hist-task@2"]);
    assert_eq!(ok(dir, &["logs"]).stdout, "[hist-task/say] said\n");
    let gone = adze(dir, &["logs", "hist-task@1"]);
    assert_eq!(gone.code, Some(2), "{}", gone.stderr);
    assert!(
        gone.stderr.contains("known runs: hist-task@2"),
        "{}",
        gone.stderr
    );
    assert_eq!(
        ok(dir, &["show", "hist-task", "-o", "json"]).json(),
        second.json(),
        "a TaskRun's object is stored as printed"
    );
}

/// Makes `path` a directory nothing can be written in: a read-only tmpfs as root (whom
/// permissions do not stop), mode 0555 otherwise. The guard unmounts it.
struct ReadOnly(Option<std::path::PathBuf>);

impl ReadOnly {
    fn make(path: &Path) -> ReadOnly {
        std::fs::create_dir_all(path).expect("mkdir");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if root {
            let mounted = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"])
                .arg(path)
                .status()
                .expect("mount runs");
            assert!(mounted.success(), "mounting a read-only tmpfs failed");
            ReadOnly(Some(path.to_path_buf()))
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555)).expect("chmod");
            ReadOnly(None)
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = Command::new("umount").arg("-l").arg(path).status();
        }
    }
}

#[test]
fn a_read_only_history_directory_is_one_warning_and_the_run_goes_on() {
    let dir = workdir(TASK_RUN);
    let _read_only = ReadOnly::make(&dir.path().join(".adze"));
    let ran = ok(dir.path(), &["run", "run.yaml", "-o", "json"]);
    let object = ran.json().expect("the object is printed");
    assert_eq!(object["status"]["conditions"][0]["reason"], "Succeeded");
    assert_eq!(
        ran.stderr
            .matches("warning: cannot record this run")
            .count(),
        1,
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr.contains("history.db"),
        "names the file:\n{}",
        ran.stderr
    );
}

/// A TaskRun whose step sleeps long after it says so.
const SLEEPER: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: hist-killed}
spec:
  taskSpec:
    steps:
    - name: nap
      image: adze-test/busybox:latest
      script: echo napping; sleep 60
"#;

/// The runs `adze runs -o json` lists.
fn listed_runs(dir: &Path) -> Vec<serde_json::Value> {
    let out = ok(dir, &["runs", "-o", "json"]);
    let runs: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    runs["runs"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_run_whose_adze_was_killed_is_shown_and_kept_as_interrupted() {
    let dir = workdir(SLEEPER);
    let dir = dir.path();
    let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
    command
        .current_dir(dir)
        .args(["run", "run.yaml"])
        .env("NO_COLOR", "1");
    let mut running = Running::start(command, "napping");
    // While its adze runs, the run is running, however often the history is opened.
    let until = std::time::Instant::now() + Duration::from_secs(60);
    let id = loop {
        let runs = listed_runs(dir);
        if let Some(run) = runs.iter().find(|r| r["name"] == "hist-killed") {
            assert_eq!(run["state"], "running", "{run}");
            break run["id"].as_str().expect("an id").to_owned();
        }
        assert!(
            std::time::Instant::now() < until,
            "never recorded: {runs:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    running.kill();

    let runs = listed_runs(dir);
    let run = runs
        .iter()
        .find(|r| r["id"] == id.as_str())
        .expect("listed");
    assert_eq!(run["state"], "interrupted", "{run}");
    assert!(run["finishedMs"].is_i64(), "{run}");
    let table = ok(dir, &["runs"]).stdout;
    let row = table
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("no row {id}:\n{table}"));
    assert_eq!(row.split_whitespace().nth(3), Some("interrupted"), "{row}");

    let shown = ok(dir, &["show", &id, "-o", "json"]);
    let object: serde_json::Value = serde_json::from_str(&shown.stdout).expect("JSON");
    let condition = &object["status"]["conditions"][0];
    assert_eq!(condition["status"], "Unknown", "{condition}");
    assert_eq!(condition["reason"], "Interrupted", "{condition}");
    let message = condition["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("adze ended without finishing this run: the adze process (pid "),
        "{message}"
    );
    assert_eq!(object["metadata"]["name"], "hist-killed");
    // Decided once: opening the history again changes nothing.
    assert_eq!(ok(dir, &["show", &id, "-o", "json"]).stdout, shown.stdout);

    let logs = ok(dir, &["logs", &id]);
    assert!(
        logs.stderr.contains(&format!(
            "note: run `{id}` was interrupted: adze ended without"
        )),
        "{}",
        logs.stderr
    );
}
