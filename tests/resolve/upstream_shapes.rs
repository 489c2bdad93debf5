//! The shapes of Tekton's own resolver examples (`examples/v1/pipelineruns/beta/`
//! git-resolver, http-resolver and http-resolver-credentials), written here with their refs
//! pointed at the local servers and stand-in Tasks at the same paths: a `pathInRepo` with a
//! leading `/`, a generated run name with an embedded pipelineSpec, an array param, and
//! basic auth from a Secret in the same file.

use super::adze;
use super::fixture::{Fixture, BASIC};

#[test]
fn a_git_reference_with_a_rooted_path_in_repo_plans_and_validates() {
    let f = Fixture::start();
    let yaml = format!(
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: git-resolver-
spec:
  workspaces:
  - name: output
    emptyDir: {{}}
  pipelineSpec:
    workspaces:
    - name: output
    tasks:
    - name: task1
      workspaces:
      - name: output
      taskRef:
        resolver: git
        params:
        - name: url
          value: {url}
        - name: pathInRepo
          value: /task/git-clone/0.7/git-clone.yaml
        - name: revision
          value: main
      params:
      - name: url
        value: https://example.com/some/repo
      - name: deleteExisting
        value: "true"
"#,
        url = f.git_http_url()
    );
    let validated = adze(&f, "validate", &yaml, &[]);
    assert_eq!(validated.code, Some(0), "{}", validated.stderr);
    let planned = adze(&f, "plan", &yaml, &[]);
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    assert!(planned
        .stdout
        .contains("echo would clone https://example.com/some/repo"));
}

#[test]
fn an_http_reference_with_an_array_param_plans() {
    let f = Fixture::start();
    let yaml = format!(
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: http-resolver-
spec:
  pipelineSpec:
    tasks:
    - name: http-resolver
      taskRef:
        resolver: http
        params:
        - name: url
          value: {base}/task/tkn/0.4/tkn.yaml
      params:
      - name: ARGS
        value: ["version"]
"#,
        base = f.http.base()
    );
    let planned = adze(&f, "plan", &yaml, &["-o", "json"]);
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    let plan = planned.json().expect("json plan");
    let step = &plan["tasks"][0]["steps"][0];
    assert_eq!(step["args"], serde_json::json!(["version"]), "{step}");
}

#[test]
fn an_http_reference_with_credentials_from_a_secret_in_the_same_file_plans() {
    let f = Fixture::start();
    let (user, password) = BASIC.split_once(':').expect("user:password");
    let yaml = format!(
        r#"kind: Secret
apiVersion: v1
metadata:
  name: my-secret
stringData:
  token: "{password}"
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  generateName: http-resolver-
spec:
  workspaces:
  - name: output
    emptyDir: {{}}
  pipelineSpec:
    workspaces:
    - name: output
    tasks:
    - name: http-resolver
      taskRef:
        resolver: http
        params:
        - name: url
          value: {base}/private/git-clone.yaml
        - name: http-username
          value: {user}
        - name: http-password-secret
          value: my-secret
        - name: http-password-secret-key
          value: token
      params:
      - name: url
        value: "https://example.com/nocode"
      workspaces:
      - name: output
        workspace: output
"#,
        base = f.http.base()
    );
    let planned = adze(&f, "plan", &yaml, &[]);
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    assert!(planned
        .stdout
        .contains("echo would clone https://example.com/nocode"));
    assert!(f
        .http
        .requests()
        .iter()
        .any(|r| r.contains("/private/git-clone.yaml")));
}
