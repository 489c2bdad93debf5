//! End-to-end tests of the `adze` command line: given these files, arguments and stdin,
//! expect this exit status and this output.
//!
//! Every test builds a [`Test`]: files are written to a fresh temporary directory, which is
//! also the working directory, so paths in the output are short and stable.

#[path = "cli/catalog.rs"]
mod catalog;
#[path = "cli/kube.rs"]
mod kube;
#[path = "cli/shell.rs"]
mod shell;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// One invocation of the binary and what it must produce.
struct Test {
    dir: TempDir,
    args: Vec<String>,
    stdin: Option<String>,
    status: i32,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
    stdout_lacks: Vec<String>,
    stderr_lacks: Vec<String>,
}

/// What the binary printed.
struct Ran {
    stdout: String,
    stderr: String,
    /// The working directory it ran in (files it wrote are there).
    dir: TempDir,
}

impl Test {
    fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("temporary directory"),
            args: Vec::new(),
            stdin: None,
            status: 0,
            stdout_contains: Vec::new(),
            stderr_contains: Vec::new(),
            stdout_lacks: Vec::new(),
            stderr_lacks: Vec::new(),
        }
    }

    /// Writes `text` to `path` (relative to the working directory; parents are created).
    fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("a file has a parent"))
            .expect("create parent directory");
        std::fs::write(full, text).expect("write test file");
        self
    }

    fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }

    fn expect_status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    fn stdout_contains(mut self, text: &str) -> Self {
        self.stdout_contains.push(text.to_string());
        self
    }

    fn stderr_contains(mut self, text: &str) -> Self {
        self.stderr_contains.push(text.to_string());
        self
    }

    fn stdout_lacks(mut self, text: &str) -> Self {
        self.stdout_lacks.push(text.to_string());
        self
    }

    fn stderr_lacks(mut self, text: &str) -> Self {
        self.stderr_lacks.push(text.to_string());
        self
    }

    /// Runs the binary and checks every expectation.
    fn run(self) -> Ran {
        let mut child = Command::new(env!("CARGO_BIN_EXE_adze"))
            .args(&self.args)
            .current_dir(self.dir.path())
            .env_remove("NO_COLOR")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("adze starts");
        if let Some(text) = &self.stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("adze finishes");
        let ran = Ran {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            dir: self.dir,
        };
        let context = format!(
            "adze {}\n--- stdout:\n{}--- stderr:\n{}",
            self.args.join(" "),
            ran.stdout,
            ran.stderr
        );
        assert!(!ran.stderr.contains("panicked"), "adze panicked\n{context}");
        assert_eq!(
            out.status.code(),
            Some(self.status),
            "unexpected exit status\n{context}"
        );
        for want in &self.stdout_contains {
            assert!(
                ran.stdout.contains(want.as_str()),
                "stdout lacks {want:?}\n{context}"
            );
        }
        for want in &self.stderr_contains {
            assert!(
                ran.stderr.contains(want.as_str()),
                "stderr lacks {want:?}\n{context}"
            );
        }
        for unwanted in &self.stdout_lacks {
            assert!(
                !ran.stdout.contains(unwanted.as_str()),
                "stdout has {unwanted:?}\n{context}"
            );
        }
        for unwanted in &self.stderr_lacks {
            assert!(
                !ran.stderr.contains(unwanted.as_str()),
                "stderr has {unwanted:?}\n{context}"
            );
        }
        ran
    }
}

const HELLO_TASK: &str = "\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  params:
    - name: who
      default: world
  steps:
    - name: hello
      image: alpine:3.19
      args: [echo, hello, $(params.who)]
";

/// A Pipeline with a param default, a required param, a task result and a `when` guard,
/// and a PipelineRun of it.
const CI_PIPELINE: &str = "\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: ci
spec:
  params:
    - name: greeting
      default: hello
    - name: target
  tasks:
    - name: build
      params:
        - name: msg
          value: $(params.greeting)
      taskSpec:
        params:
          - name: msg
        results:
          - name: digest
        steps:
          - name: build
            image: alpine:3.19
            args: [echo, $(params.msg)]
    - name: test
      runAfter: [build]
      taskSpec:
        steps:
          - name: test
            image: golang:1.22
            command: [go, test, ./...]
    - name: deploy
      runAfter: [test]
      when:
        - input: $(params.target)
          operator: in
          values: [production]
      taskSpec:
        steps:
          - name: deploy
            image: bitnami/kubectl:1.30
            args: [apply, -k, overlays/production]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: ci-run
spec:
  pipelineRef:
    name: ci
  params:
    - name: target
      value: staging
";

/// A PipelineRun that omits the Pipeline's required `target` param.
const RUN_WITHOUT_TARGET: &str = "\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: ci-run
spec:
  pipelineRef:
    name: ci
";

/// Just the Pipeline document of [`CI_PIPELINE`].
fn ci_pipeline_only() -> &'static str {
    CI_PIPELINE.split("---\n").next().expect("first document")
}

#[test]
fn validate_accepts_a_valid_file() {
    Test::new()
        .file("hello.yaml", HELLO_TASK)
        .args(["validate", "--color", "never", "hello.yaml"])
        .expect_status(0)
        .stderr_contains("ok: 1 object valid")
        .stderr_lacks("error")
        .run();
}

#[test]
fn validate_rejects_an_invalid_file_with_its_position() {
    let text = HELLO_TASK.replace("      args:", "      scirpt: echo hi\n      args:");
    Test::new()
        .file("hello.yaml", &text)
        .args(["validate", "--color", "never", "hello.yaml"])
        .expect_status(2)
        .stderr_contains("error[schema/unknown-field]: json: unknown field \"scirpt\"")
        .stderr_contains("hello.yaml:12:7")
        .stderr_contains("did you mean `script`?")
        .stderr_contains("invalid: 1 error")
        .run();
}

#[test]
fn validate_json_report_of_a_valid_file() {
    let ran = Test::new()
        .file("hello.yaml", HELLO_TASK)
        .args(["validate", "-o", "json", "hello.yaml"])
        .expect_status(0)
        .run();
    let report: Value = serde_json::from_str(&ran.stdout).expect("JSON on stdout");
    assert_eq!(report["valid"], true);
    assert_eq!(report["summary"]["objects"], 1);
    assert_eq!(report["diagnostics"], Value::Array(Vec::new()));
}

/// An EventListener with an inline trigger, its TriggerTemplate and the webhook Secret.
const GITHUB_LISTENER: &str = r#"apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: gh-listener, namespace: ci}
spec:
  serviceAccountName: triggers-sa
  triggers:
  - name: on-push
    interceptors:
    - ref: {name: github}
      params:
      - {name: secretRef, value: {secretName: gh-secret, secretKey: token}}
      - {name: eventTypes, value: [push]}
    bindings:
    - {name: revision, value: $(body.after)}
    - {name: event, value: $(header.x-github-event)}
    template: {ref: build}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: build, namespace: ci}
spec:
  params: [{name: revision}, {name: event}, {name: message, default: "no message"}]
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: PipelineRun
    metadata: {generateName: build-}
    spec:
      pipelineRef: {name: build}
      params:
      - {name: revision, value: $(tt.params.revision)}
      - {name: event, value: $(tt.params.event)}
      - {name: message, value: $(tt.params.message)}
      - {name: run-id, value: $(uid)}
---
apiVersion: v1
kind: Secret
metadata: {name: gh-secret, namespace: ci}
stringData: {token: s3cr3t}
"#;

#[test]
fn validate_accepts_valid_triggers_objects() {
    let ran = Test::new()
        .file("listener.yaml", GITHUB_LISTENER)
        .args(["validate", "-o", "json", "listener.yaml"])
        .expect_status(0)
        .run();
    let report: Value = serde_json::from_str(&ran.stdout).expect("JSON on stdout");
    assert_eq!(report["valid"], true);
    assert_eq!(report["summary"]["objects"], 2);
    assert_eq!(report["diagnostics"], Value::Array(Vec::new()));
}

#[test]
fn validate_locates_errors_in_triggers_objects() {
    let text = GITHUB_LISTENER
        .replace("template: {ref: build}", "template: {ref: biuld}")
        .replace("value: $(tt.params.event)", "value: $(tt.params.evnet)")
        .replace(
            "- ref: {name: github}",
            "- ref: {name: github, knid: ClusterInterceptor}",
        );
    Test::new()
        .file("listener.yaml", &text)
        .args(["validate", "--color", "never", "listener.yaml"])
        .expect_status(2)
        .stderr_contains("error[schema/unknown-field]: json: unknown field \"knid\"")
        .stderr_contains("listener.yaml:9:27")
        .stderr_contains(
            "error[references/not-found]: TriggerTemplate \"biuld\" not found in namespace \"ci\"",
        )
        .stderr_contains("listener.yaml:16:21")
        .stderr_contains("did you mean `build`?")
        .stderr_contains("error[triggers/undeclared-param]: $(tt.params.evnet) is not declared")
        .stderr_contains("did you mean `event`?")
        .stderr_contains("invalid: 3 errors, 0 warnings in 2 objects")
        .stderr_lacks("s3cr3t")
        .run();
}

#[test]
fn validate_reports_a_missing_file_clearly() {
    Test::new()
        .args(["validate", "--color", "never", "nope.yaml"])
        .expect_status(2)
        .stderr_contains("error: cannot read nope.yaml")
        .stderr_contains("help:")
        .run();
}

#[test]
fn validate_reads_stdin() {
    Test::new()
        .args(["validate", "--color", "never", "-"])
        .stdin(HELLO_TASK)
        .expect_status(0)
        .stderr_contains("ok: 1 object valid")
        .run();
}

#[test]
fn validate_locates_errors_in_stdin() {
    Test::new()
        .args(["validate", "--color", "never", "-"])
        .stdin(&HELLO_TASK.replace("name: hello\nspec", "name: Hello\nspec"))
        .expect_status(2)
        .stderr_contains("<stdin>:4:9")
        .run();
}

#[test]
fn validate_loads_directories_recursively() {
    let other = HELLO_TASK.replace("name: hello\nspec", "name: goodbye\nspec");
    let broken = HELLO_TASK.replace("image: alpine:3.19", "image: [alpine");
    Test::new()
        .file("tekton/hello.yaml", HELLO_TASK)
        .file("tekton/nested/deeper/goodbye.yml", &other)
        .file("tekton/README.md", "# not YAML: ignored\n")
        .file("tekton/.hidden/broken.yaml", &broken)
        .args(["validate", "--color", "never", "tekton"])
        .expect_status(0)
        .stderr_contains("ok: 2 objects valid")
        .run();
}

#[test]
fn validate_reports_errors_from_nested_files() {
    let broken = HELLO_TASK.replace("image: alpine:3.19", "image: [alpine");
    Test::new()
        .file("tekton/hello.yaml", HELLO_TASK)
        .file("tekton/nested/broken.yaml", &broken)
        .args(["validate", "--color", "never", "tekton"])
        .expect_status(2)
        .stderr_contains("error[yaml/syntax]")
        .stderr_contains("tekton/nested/broken.yaml:")
        .run();
}

#[test]
fn catalog_resolves_a_task_ref() {
    let pipeline_run = "\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: greet
spec:
  pipelineSpec:
    tasks:
      - name: greet
        taskRef:
          name: hello
        params:
          - name: who
            value: catalog
";
    Test::new()
        .file("catalog/tasks/hello.yaml", HELLO_TASK)
        .file("run.yaml", pipeline_run)
        .args([
            "plan",
            "--color",
            "never",
            "--catalog",
            "catalog",
            "run.yaml",
        ])
        .expect_status(0)
        .stdout_contains("greet  [hello]")
        .stdout_contains("args [\"echo\", \"hello\", \"catalog\"]")
        .run();
    Test::new()
        .file("run.yaml", pipeline_run)
        .args(["plan", "--color", "never", "run.yaml"])
        .expect_status(2)
        .stderr_contains("error[refs/not-found]: Task \"hello\" not found")
        .stderr_contains("--catalog DIR")
        .run();
}

#[test]
fn plan_text_output() {
    let ran = Test::new()
        .file("ci.yaml", CI_PIPELINE)
        .args(["plan", "--color", "never", "ci.yaml"])
        .expect_status(0)
        .run();
    insta::assert_snapshot!("plan_text", ran.stdout);
}

#[test]
fn plan_json_has_levels() {
    let ran = Test::new()
        .file("ci.yaml", CI_PIPELINE)
        .args(["plan", "--color", "never", "-o", "json", "ci.yaml"])
        .expect_status(0)
        .run();
    let plan: Value = serde_json::from_str(&ran.stdout).expect("plan -o json prints JSON");
    assert_eq!(plan["kind"], "PipelineRun");
    assert_eq!(plan["name"], "ci-run");
    let levels: Vec<Vec<&str>> = plan["levels"]
        .as_array()
        .expect("levels is a list")
        .iter()
        .map(|l| {
            l.as_array()
                .expect("a level is a list")
                .iter()
                .map(|t| t.as_str().expect("task name"))
                .collect()
        })
        .collect();
    assert_eq!(levels, [["build"], ["test"], ["deploy"]]);
}

#[test]
fn plan_mermaid_and_dot() {
    let mermaid = Test::new()
        .file("ci.yaml", CI_PIPELINE)
        .args(["plan", "--color", "never", "-o", "mermaid", "ci.yaml"])
        .expect_status(0)
        .run();
    assert!(
        mermaid.stdout.starts_with("flowchart"),
        "{}",
        mermaid.stdout
    );
    assert!(
        mermaid.stdout.contains("build") && mermaid.stdout.contains("deploy"),
        "{}",
        mermaid.stdout
    );
    let dot = Test::new()
        .file("ci.yaml", CI_PIPELINE)
        .args(["plan", "--color", "never", "-o", "dot", "ci.yaml"])
        .expect_status(0)
        .run();
    assert!(dot.stdout.starts_with("digraph"), "{}", dot.stdout);
    assert!(dot.stdout.trim_end().ends_with('}'), "{}", dot.stdout);
}

#[test]
fn plan_param_override() {
    Test::new()
        .file("ci.yaml", CI_PIPELINE)
        .args([
            "plan",
            "--color",
            "never",
            "-p",
            "greeting=bonjour",
            "ci.yaml",
        ])
        .expect_status(0)
        .stdout_contains("greeting = \"bonjour\"")
        .stdout_contains("args [\"echo\", \"bonjour\"]")
        .stdout_lacks("\"hello\"")
        .run();
}

#[test]
fn plan_missing_required_param() {
    let files = |t: Test| {
        t.file("pipeline.yaml", ci_pipeline_only())
            .file("run.yaml", RUN_WITHOUT_TARGET)
    };
    files(Test::new())
        .args(["plan", "--color", "never", "pipeline.yaml", "run.yaml"])
        .expect_status(2)
        .stderr_contains("pipelineRun missing parameters: [target]")
        .stderr_contains("run.yaml:")
        .stdout_lacks("PipelineRun ci-run")
        .run();
    files(Test::new())
        .args([
            "plan",
            "--color",
            "never",
            "-p",
            "target=production",
            "pipeline.yaml",
            "run.yaml",
        ])
        .expect_status(0)
        .stdout_contains("target = \"production\"")
        .stdout_lacks("would skip")
        .run();
}

#[test]
fn plan_when_statically_false() {
    Test::new()
        .file("ci.yaml", CI_PIPELINE)
        .args(["plan", "--color", "never", "ci.yaml"])
        .expect_status(0)
        .stdout_contains("would skip: When Expressions evaluated to false")
        .run();
}

#[test]
fn plan_matrix_fans_out_in_tekton_order() {
    let run = "\
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: cross
spec:
  pipelineSpec:
    tasks:
      - name: build
        matrix:
          params:
            - name: os
              value: [linux, darwin]
            - name: arch
              value: [amd64, arm64, riscv64]
        taskSpec:
          params:
            - name: os
            - name: arch
          steps:
            - name: build
              image: golang:1.22
              env:
                - name: GOOS
                  value: $(params.os)
                - name: GOARCH
                  value: $(params.arch)
              command: [go, build, ./...]
";
    let ran = Test::new()
        .file("run.yaml", run)
        .args(["plan", "--color", "never", "-o", "json", "run.yaml"])
        .expect_status(0)
        .run();
    let plan: Value = serde_json::from_str(&ran.stdout).expect("JSON plan");
    let combinations: Vec<(String, String)> = plan["tasks"][0]["matrix"]["combinations"]
        .as_array()
        .expect("matrix combinations")
        .iter()
        .map(|c| {
            let get = |name: &str| {
                c.as_array()
                    .expect("a combination is a list of params")
                    .iter()
                    .find(|p| p["name"] == name)
                    .and_then(|p| p["value"].as_str())
                    .unwrap_or_else(|| panic!("{name} missing in {c}"))
                    .to_string()
            };
            (get("os"), get("arch"))
        })
        .collect();
    // Tekton's fan-out: the first matrix param varies fastest (spec §4.17).
    let expected = [
        ("linux", "amd64"),
        ("darwin", "amd64"),
        ("linux", "arm64"),
        ("darwin", "arm64"),
        ("linux", "riscv64"),
        ("darwin", "riscv64"),
    ]
    .map(|(os, arch)| (os.to_string(), arch.to_string()));
    assert_eq!(combinations, expected);
    Test::new()
        .file("run.yaml", run)
        .args(["plan", "--color", "never", "run.yaml"])
        .expect_status(0)
        .stdout_contains("matrix: 6 TaskRuns")
        .run();
}

#[test]
fn script_injection_is_a_warning() {
    let task = "\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: greet
spec:
  params:
    - name: who
  steps:
    - name: greet
      image: alpine:3.19
      script: |
        echo hello $(params.who)
";
    Test::new()
        .file("greet.yaml", task)
        .args(["validate", "--color", "never", "greet.yaml"])
        .expect_status(0)
        .stderr_contains("warning[security/script-injection]")
        .stderr_contains("greet.yaml:12:20")
        .stderr_contains("ok: 0 errors, 1 warning in 1 object")
        .run();
}

#[test]
fn plan_without_a_run_plans_the_pipeline_with_command_line_params() {
    let pipeline = r#"
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: deploy}
spec:
  params: [{name: target}]
  workspaces: [{name: src}]
  tasks:
  - name: apply
    params: [{name: t, value: $(params.target)}]
    workspaces: [{name: src, workspace: src}]
    taskSpec:
      params: [{name: t}]
      workspaces: [{name: src}]
      steps: [{image: busybox, args: ["$(params.t)"]}]
"#;
    Test::new()
        .file("p.yaml", pipeline)
        .args(["plan", "p.yaml"])
        .expect_status(2)
        .stderr_contains("pipelineRun missing parameters: [target]")
        .stderr_contains("-p NAME=VALUE")
        .run();
    Test::new()
        .file("p.yaml", pipeline)
        .args(["plan", "p.yaml", "-p", "target=prod"])
        .expect_status(0)
        .stdout_contains("PipelineRun deploy-run")
        .stdout_contains("args [\"prod\"]")
        .run();
}

/// A Task pasting five params into its script (five `security/script-injection` warnings)
/// and a TaskRun of it.
const FIVE_WARNINGS: &str = "\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: paste
spec:
  params: [{name: a}, {name: b}, {name: c}, {name: d}, {name: e}]
  steps:
  - name: echo
    image: busybox
    script: |
      echo $(params.a) $(params.b) $(params.c) $(params.d) $(params.e)
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: paste-run
spec:
  taskRef: {name: paste}
  params:
  - {name: a, value: '1'}
  - {name: b, value: '2'}
  - {name: c, value: '3'}
  - {name: d, value: '4'}
  - {name: e, value: '5'}
";

#[test]
fn repeated_warnings_are_counted_after_the_first_three() {
    let ran = Test::new()
        .file("paste.yaml", FIVE_WARNINGS)
        .args(["validate", "--color", "never", "paste.yaml"])
        .expect_status(0)
        .stderr_contains(
            "... and 2 more like this (security/script-injection); --all-warnings to list them",
        )
        .stderr_contains(
            "ok: 0 errors, 5 warnings in 2 objects; 2 warnings not listed (--all-warnings lists them)",
        )
        .run();
    assert_eq!(
        ran.stderr
            .matches("warning[security/script-injection]")
            .count(),
        3
    );
}

#[test]
fn all_warnings_lists_every_warning() {
    for command in ["validate", "plan"] {
        let ran = Test::new()
            .file("paste.yaml", FIVE_WARNINGS)
            .args([command, "--all-warnings", "--color", "never", "paste.yaml"])
            .expect_status(0)
            .stderr_contains("ok: 0 errors, 5 warnings in 2 objects")
            .stderr_lacks("more like this")
            .stderr_lacks("not listed")
            .run();
        assert_eq!(
            ran.stderr
                .matches("warning[security/script-injection]")
                .count(),
            5,
            "adze {command} --all-warnings:\n{}",
            ran.stderr
        );
    }
}

#[test]
fn plan_groups_warnings_and_keeps_its_output() {
    let ran = Test::new()
        .file("paste.yaml", FIVE_WARNINGS)
        .args(["plan", "-o", "json", "--color", "never", "paste.yaml"])
        .expect_status(0)
        .stderr_contains("... and 2 more like this (security/script-injection)")
        .stderr_contains("; 2 warnings not listed (--all-warnings lists them)")
        .run();
    let plan: Value = serde_json::from_str(&ran.stdout).expect("plan -o json prints JSON");
    assert_eq!(plan["name"], "paste-run", "{plan}");
}

#[test]
fn json_diagnostics_list_every_warning() {
    let ran = Test::new()
        .file("paste.yaml", FIVE_WARNINGS)
        .args(["validate", "-o", "json", "paste.yaml"])
        .expect_status(0)
        .run();
    let report: Value = serde_json::from_str(&ran.stdout).expect("validate -o json prints JSON");
    let diagnostics = report["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 5, "{report}");
    assert_eq!(report["summary"]["warnings"], 5);
    assert!(report["summary"].get("hidden").is_none(), "{report}");
    assert!(!ran.stderr.contains("more like this"), "{}", ran.stderr);
}
