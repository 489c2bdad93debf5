//! The RBAC of `deploy/` against what the controller really asks the API server for: a
//! kube-sim with an audit log runs the controller through every kind of run it handles
//! (child TaskRuns, claims, scripts, credentials, sidecars, results from a sidecar's log,
//! a StepAction, cancellation, Events, the Lease), and each verb on each resource it used must be granted,
//! and each one granted must have been used.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{condition, create, done, patch, wait_until, Controller, Sim};

/// Granted although no request of the controller shows it: with the reason.
const GRANTED_UNSEEN: &[(&str, &str, &str)] = &[
    // Children carry ownerReferences with blockOwnerDeletion: true, which API servers running
    // the OwnerReferencesPermissionEnforcement admission plugin (OpenShift) allow only to a
    // client that may update the owner's finalizers. The check is the server's, not a request.
    ("tekton.dev", "pipelineruns/finalizers", "update"),
    ("tekton.dev", "taskruns/finalizers", "update"),
    // A reconcile that failed on an API error is retried from a fresh read of its run
    // (engine/controller/manager.rs `requeue`); no API error happens here.
    ("tekton.dev", "pipelineruns", "get"),
    ("tekton.dev", "taskruns", "get"),
];

use crate::common::rbac_rules::granted_by_yaml;
pub(super) use crate::common::rbac_rules::Permission;

/// Every permission the roles of `deploy/` grant.
fn granted() -> BTreeSet<Permission> {
    granted_by(&["cluster-role.yaml", "leader-election-role.yaml"])
}

/// Every permission the roles in `files` (under `deploy/`) grant.
pub(super) fn granted_by(files: &[&str]) -> BTreeSet<Permission> {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(deploy.join(file)).expect("read the role");
            granted_by_yaml(&text)
        })
        .collect()
}

/// Every permission adze's requests in the audit log needed.
pub(super) fn used(audit: &Path) -> BTreeSet<Permission> {
    let text = std::fs::read_to_string(audit).expect("read the audit log");
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["userAgent"]
                .as_str()
                .is_some_and(|a| a.starts_with("adze/"))
        })
        .filter(|e| !e["objectRef"]["resource"].is_null())
        .map(|e| {
            let object = &e["objectRef"];
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            let mut resource = text(&object["resource"]);
            if let Some(sub) = object["subresource"].as_str().filter(|s| !s.is_empty()) {
                resource = format!("{resource}/{sub}");
            }
            (text(&object["apiGroup"]), resource, text(&e["verb"]))
        })
        .collect()
}

/// The runs that take the controller down every path that needs a permission.
const RUNS: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: git-token
  annotations: {tekton.dev/git-0: https://git.example.com}
type: kubernetes.io/basic-auth
stringData: {username: bot, password: hunter2}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder}
secrets: [{name: git-token}]
---
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: greet}
spec:
  workspaces: [{name: shared}]
  results: [{name: said}]
  sidecars:
  - {name: helper, image: adze-test/busybox:latest, script: sleep 30}
  steps:
  - {name: say, image: adze-test/busybox:latest, script: printf hi > $(results.said.path)}
---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: greeting}
spec:
  workspaces: [{name: shared}]
  tasks:
  - name: greet
    taskRef: {name: greet}
    workspaces: [{name: shared, workspace: shared}]
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: everything
  labels: {adze.dev/controller: "true"}
spec:
  taskRunTemplate: {serviceAccountName: builder}
  workspaces:
  - name: shared
    volumeClaimTemplate:
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Mi}}
  pipelineRef: {name: greeting}
---
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: hello}
spec:
  image: adze-test/busybox:latest
  script: echo hello
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: referencing
  labels: {adze.dev/controller: "true"}
spec:
  taskSpec:
    steps:
    - {name: hello, ref: {name: hello}}
---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: stopped
  labels: {adze.dev/controller: "true"}
spec:
  pipelineSpec:
    tasks:
    - name: nap
      taskSpec:
        steps: [{name: nap, image: adze-test/busybox:latest, script: sleep 60}]
"#;

#[test]
fn the_roles_grant_exactly_what_the_controller_uses() {
    let dir = tempfile::tempdir().expect("a directory");
    let audit = dir.path().join("audit.jsonl");
    let sim = Sim::start_with(&["--audit-log", audit.to_str().expect("UTF-8 path")]);
    let ns = sim.namespace("rbac");
    let controller = Controller::start(
        &sim,
        &[
            "--namespace",
            &ns,
            "--leader-election-namespace",
            &ns,
            "--lease-duration",
            "3s",
            "--feature-flag",
            "results-from=sidecar-logs",
        ],
    );
    create(&sim, &ns, RUNS);
    let limit = Duration::from_secs(90);
    let everything = wait_until(
        &sim,
        &ns,
        "pipelinerun/everything",
        limit,
        &controller,
        done,
    );
    assert_eq!(condition(&everything), ("True".into(), "Succeeded".into()));
    let referencing = wait_until(&sim, &ns, "taskrun/referencing", limit, &controller, done);
    assert_eq!(condition(&referencing), ("True".into(), "Succeeded".into()));
    wait_until(&sim, &ns, "taskrun/stopped-nap", limit, &controller, |t| {
        condition(t).1 == "Running"
    });
    patch(
        &sim,
        &ns,
        "pipelinerun/stopped",
        r#"{"spec":{"status":"Cancelled"}}"#,
    );
    let stopped = wait_until(&sim, &ns, "pipelinerun/stopped", limit, &controller, done);
    assert_eq!(condition(&stopped), ("False".into(), "Cancelled".into()));
    // The child's cancel (its Pod deleted) follows the parent's.
    let nap = wait_until(&sim, &ns, "taskrun/stopped-nap", limit, &controller, done);
    assert_eq!(condition(&nap), ("False".into(), "TaskRunCancelled".into()));
    drop(controller);

    let used = used(&audit);
    let granted = granted();
    let missing: Vec<&Permission> = used.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "the controller used what deploy/ does not grant: {missing:?}"
    );
    let unseen: Vec<&Permission> = granted
        .difference(&used)
        .filter(|(g, r, v)| {
            !GRANTED_UNSEEN
                .iter()
                .any(|(eg, er, ev)| (eg, er, ev) == (&g.as_str(), &r.as_str(), &v.as_str()))
        })
        .collect();
    assert!(
        unseen.is_empty(),
        "deploy/ grants what the controller never used: {unseen:?}\nused: {used:?}"
    );
}
