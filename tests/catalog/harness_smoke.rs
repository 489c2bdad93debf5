//! The harness itself: a step in the toolbox image reaches kube-sim through the kubeconfig
//! workspace and the fake server through `ADZE_FAKE_URL` (host network), and a step in the
//! adze image runs the adze under test.

use std::sync::Arc;

use axum::Router;

use crate::fake_server::{FakeServer, Recorder, ToolCall, ToolReply};
use crate::harness::{self, adze_image, Cluster, TOOLS_IMAGE};

#[test]
fn steps_reach_kube_sim_the_fake_server_and_the_adze_under_test() {
    let cluster = Cluster::start(&[]);
    let fakes = FakeServer::start(
        Recorder::default(),
        Arc::new(|call: &ToolCall| {
            if call.args() == "version --short" {
                ToolReply::ok("v3.16.3+gcafe\n")
            } else {
                ToolReply::fail(1, format!("unexpected helm {}\n", call.args()))
            }
        }),
        Router::new(),
    );
    let run = format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: smoke}}
spec:
  podTemplate:
    hostNetwork: true
    env: [{{name: ADZE_FAKE_URL, value: "{url}"}}]
  workspaces: [{{name: kubeconfig, secret: {{secretName: kube-sim}}}}]
  taskSpec:
    workspaces: [{{name: kubeconfig}}]
    results: [{{name: helm}}, {{name: server}}]
    steps:
    - name: tools
      image: {TOOLS_IMAGE}
      env: [{{name: HOME, value: /tekton/home}}]
      script: |
        #!/usr/bin/env bash
        set -euo pipefail
        export KUBECONFIG=$(workspaces.kubeconfig.path)/kubeconfig
        helm version --short | tee $(results.helm.path)
        kubectl get --raw /version | jq -r .gitVersion | tr -d '\n' | tee $(results.server.path)
    - name: adze
      image: {adze}
      command: [/usr/local/bin/adze, --version]
"#,
        url = fakes.url,
        adze = adze_image(),
    );
    let dir = tempfile::tempdir().expect("a directory");
    let file = dir.path().join("smoke.yaml");
    std::fs::write(
        &file,
        format!("{run}---\n{}", cluster.kubeconfig_secret("kube-sim")),
    )
    .expect("write the run");
    let outcome = harness::run_pipeline(&[file], &[], &[]);
    assert_eq!(outcome.code, Some(0), "{}", harness::explain(&outcome));
    assert_eq!(fakes.recorder.events(), ["helm version --short"]);
    let results = harness::results(&outcome);
    assert_eq!(results["helm"], "v3.16.3+gcafe\n");
    let version: serde_json::Value =
        serde_json::from_str(&cluster.kubectl(&["get", "--raw", "/version"])).unwrap();
    assert_eq!(results["server"], version["gitVersion"]);
    assert!(
        outcome.stderr.contains("adze 0."),
        "the adze step printed no version:\n{}",
        outcome.stderr
    );
    let seen: Vec<String> = cluster.audit().iter().map(|e| e.line()).collect();
    assert!(seen.contains(&"get /version".to_owned()), "{seen:?}");
}
