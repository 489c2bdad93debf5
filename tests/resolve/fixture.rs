//! One scenario's world: a git repository holding a Pipeline, Tasks and a StepAction,
//! served by `git daemon` and over dumb HTTP, an HTTP root with more Tasks, and a working
//! directory with its own resolution cache.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::servers::{GitDaemon, HttpServer};

/// The test image every step uses (built by tests/setup-docker.sh).
pub const IMAGE: &str = "adze-test/busybox:latest";

/// Basic-auth credentials the HTTP server wants under `/private/`.
pub const BASIC: &str = "robot:s3cret";

/// The Pipeline in the repository: its tasks come from http, from git over HTTP (whose Task
/// takes its step from a StepAction in git), and from the cluster (the loaded documents).
/// URLs are params, so the repository's content, and its commit, never depend on ports.
const PIPELINE: &str = r#"apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: greet
spec:
  params:
  - name: http-base
  - name: git-http-url
  - name: revision
    default: main
  tasks:
  - name: from-http
    taskRef:
      resolver: http
      params:
      - {name: url, value: "$(params.http-base)/tasks/hello.yaml"}
  - name: from-git-http
    runAfter: [from-http]
    taskRef:
      resolver: git
      params:
      - {name: url, value: $(params.git-http-url)}
      - {name: revision, value: $(params.revision)}
      - {name: pathInRepo, value: task/echo.yaml}
    params:
    - {name: repo, value: $(params.git-http-url)}
  finally:
  - name: from-cluster
    taskRef:
      resolver: cluster
      params:
      - {name: kind, value: task}
      - {name: name, value: local-task}
      - {name: namespace, value: default}
"#;

const ECHO_TASK: &str = r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: echo
spec:
  params:
  - name: repo
  steps:
  - name: say
    ref:
      resolver: git
      params:
      - {name: url, value: $(params.repo)}
      - {name: revision, value: main}
      - {name: pathInRepo, value: stepaction/say.yaml}
"#;

const STEP_ACTION: &str = r#"apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: say
spec:
  image: IMAGE
  script: echo from-a-git-step-action
"#;

const HELLO_TASK: &str = r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
  - name: hello
    image: IMAGE
    script: echo from-http
"#;

/// A stand-in for the catalog's git-clone Task at the path Tekton's git resolver example
/// names: the same params and workspace, a step that only echoes.
const GIT_CLONE: &str = r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: git-clone
spec:
  params:
  - name: url
  - name: deleteExisting
    default: "true"
  workspaces:
  - name: output
  steps:
  - name: clone
    image: IMAGE
    script: echo would clone $(params.url)
"#;

/// A stand-in for the catalog's tkn Task (an array param `ARGS`).
const TKN: &str = r#"apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: tkn
spec:
  params:
  - name: ARGS
    type: array
    default: ["--help"]
  steps:
  - name: tkn
    image: IMAGE
    command: [echo, tkn]
    args: ["$(params.ARGS[*])"]
"#;

/// Everything one scenario uses.
pub struct Fixture {
    /// Holds the served files and the work directory.
    pub root: TempDir,
    /// `git daemon` serving `repo.git`.
    pub daemon: GitDaemon,
    /// The HTTP server: `/tasks/`, `/private/`, `/repo.git` (dumb HTTP).
    pub http: HttpServer,
    /// The commit `main` points at.
    pub commit: String,
}

impl Fixture {
    /// Builds the repository and starts both servers.
    pub fn start() -> Fixture {
        let root = tempfile::tempdir().expect("tempdir");
        let src = root.path().join("src");
        let served = root.path().join("served");
        for (path, text) in [
            ("pipeline/greet.yaml", PIPELINE.to_string()),
            ("task/echo.yaml", ECHO_TASK.to_string()),
            ("stepaction/say.yaml", STEP_ACTION.replace("IMAGE", IMAGE)),
            ("task/big.yaml", big_task()),
            (
                "task/git-clone/0.7/git-clone.yaml",
                GIT_CLONE.replace("IMAGE", IMAGE),
            ),
        ] {
            write(&src.join(path), &text);
        }
        std::fs::create_dir_all(src.join("task")).expect("mkdir");
        std::os::unix::fs::symlink("/etc/passwd", src.join("task/evil.yaml")).expect("symlink");
        git(&src, &["init", "-q", "-b", "main"]);
        git(&src, &["add", "-A"]);
        git(&src, &["commit", "-q", "-m", "tasks"]);
        git(&src, &["tag", "v1"]);
        let commit = git(&src, &["rev-parse", "HEAD"]);
        std::fs::create_dir_all(&served).expect("mkdir");
        git(
            root.path(),
            &["clone", "-q", "--bare", "--", "src", "served/repo.git"],
        );
        git(&served.join("repo.git"), &["update-server-info"]);
        write(
            &served.join("tasks/hello.yaml"),
            &HELLO_TASK.replace("IMAGE", IMAGE),
        );
        write(
            &served.join("private/hello.yaml"),
            &HELLO_TASK.replace("IMAGE", IMAGE),
        );
        write(
            &served.join("tasks/broken.yaml"),
            &HELLO_TASK
                .replace("IMAGE", IMAGE)
                .replace("    script:", "    scirpt:"),
        );
        write(
            &served.join("task/tkn/0.4/tkn.yaml"),
            &TKN.replace("IMAGE", IMAGE),
        );
        write(
            &served.join("private/git-clone.yaml"),
            &GIT_CLONE.replace("IMAGE", IMAGE),
        );
        let huge = "#".repeat(5 * 1024 * 1024);
        write(&served.join("huge.yaml"), &huge);
        write(&served.join("huge.nolength"), &huge);
        write(&root.path().join("work/.keep"), "");
        let daemon = GitDaemon::start(&served, root.path().join("daemon.log"));
        let http = HttpServer::start(served, BASIC);
        Fixture {
            root,
            daemon,
            http,
            commit,
        }
    }

    /// The working directory commands run in.
    pub fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    /// The resolution cache of this scenario.
    pub fn cache(&self) -> String {
        self.root.path().join("cache").display().to_string()
    }

    /// The repository over git's dumb HTTP protocol.
    pub fn git_http_url(&self) -> String {
        format!("{}/repo.git", self.http.base())
    }

    /// The repository over git's smart HTTP protocol (`git http-backend`).
    pub fn git_smart_url(&self) -> String {
        format!("{}/smart/repo.git", self.http.base())
    }

    /// Replaces the ports and directories of this scenario in `text` with stable names;
    /// underlines, whose length follows the temporary directory's, become `^^^`.
    pub fn redact(&self, text: &str) -> String {
        let named = text
            .replace(&self.http.addr.to_string(), "127.0.0.1:HTTP")
            .replace(&format!("127.0.0.1:{}", self.daemon.port), "127.0.0.1:GIT")
            .replace(&self.root.path().display().to_string(), "ROOT");
        let mut out = String::with_capacity(named.len());
        let mut carets = 0;
        for c in named.chars() {
            if c == '^' {
                carets += 1;
                continue;
            }
            if carets > 0 {
                out.push_str("^^^");
                carets = 0;
            }
            out.push(c);
        }
        if carets > 0 {
            out.push_str("^^^");
        }
        out
    }
}

/// A Task bigger than the 4 MiB cap.
fn big_task() -> String {
    format!(
        "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: big\nspec:\n  description: \"{}\"\n  steps: [{{image: x}}]\n",
        "x".repeat(5 * 1024 * 1024)
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Runs git with a fixed identity and dates, so commits are the same on every run.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=adze", "-c", "user.email=adze@example.com"])
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
