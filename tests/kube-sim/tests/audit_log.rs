//! `kube-sim --audit-log FILE` with the real `kubectl`: each request kubectl makes appears as
//! one audit event, with the verb, resource, namespace and name the API server's authorizer
//! would see, kubectl's user agent and the response code.

mod common;

use std::time::Duration;

use common::{eventually, Sim};
use serde_json::Value;

/// The events logged so far.
fn events(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// (verb, resource, subresource, namespace, name, code) of kubectl's resource requests.
fn kubectl_requests(events: &[Value]) -> Vec<(String, String, String, String, String, u64)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    events
        .iter()
        .filter(|e| text(&e["userAgent"]).starts_with("kubectl"))
        .filter(|e| e.get("objectRef").is_some())
        .map(|e| {
            let o = &e["objectRef"];
            (
                text(&e["verb"]),
                text(&o["resource"]),
                text(&o["subresource"]),
                text(&o["namespace"]),
                text(&o["name"]),
                e["responseStatus"]["code"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn request(
    verb: &str,
    resource: &str,
    ns: &str,
    name: &str,
    code: u64,
) -> (String, String, String, String, String, u64) {
    (
        verb.into(),
        resource.into(),
        String::new(),
        ns.into(),
        name.into(),
        code,
    )
}

#[test]
fn kubectl_requests_are_logged_with_their_verbs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let sim = Sim::start(&["--no-kubelet", "--audit-log", log.to_str().unwrap()]);
    let ns = sim.namespace("audited");
    sim.create(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {ns}}}\ndata: {{a: b}}\n"
    ));
    sim.kubectl(&["get", "configmap", "settings", "-n", &ns, "-o", "json"]);
    sim.kubectl(&["get", "configmaps", "-n", &ns, "-o", "json"]);
    sim.kubectl(&["label", "configmap", "settings", "-n", &ns, "team=ci"]);
    sim.kubectl_fails(&["get", "configmap", "missing", "-n", &ns]);
    sim.kubectl(&["delete", "configmap", "settings", "-n", &ns, "--wait=false"]);
    sim.kubectl(&["delete", "configmaps", "--all", "-n", &ns, "--wait=false"]);
    sim.kubectl(&[
        "get",
        "taskruns.tekton.dev",
        "-n",
        &ns,
        "--watch-only",
        "--request-timeout=1s",
    ]);

    let mut seen = Vec::new();
    eventually(Duration::from_secs(10), "the watch is logged", || {
        seen = kubectl_requests(&events(&log));
        seen.iter().any(|r| r.0 == "watch")
    });
    for expected in [
        request("create", "namespaces", "", &ns, 201),
        request("create", "configmaps", &ns, "settings", 201),
        request("get", "configmaps", &ns, "settings", 200),
        request("list", "configmaps", &ns, "", 200),
        request("patch", "configmaps", &ns, "settings", 200),
        request("get", "configmaps", &ns, "missing", 404),
        request("delete", "configmaps", &ns, "settings", 200),
        request("watch", "taskruns", &ns, "", 200),
    ] {
        assert!(
            seen.contains(&expected),
            "{expected:?} is not in the audit log:\n{seen:#?}"
        );
    }
    // `delete --all` lists, then deletes what it found one by one (nothing is left here).
    assert!(
        seen.iter()
            .filter(|r| r.0 == "list" && r.1 == "configmaps")
            .count()
            >= 2,
        "{seen:#?}"
    );

    let all = events(&log);
    let watch = all
        .iter()
        .find(|e| e["verb"] == "watch")
        .expect("a watch event");
    assert_eq!(watch["stage"], "ResponseStarted");
    assert_eq!(watch["objectRef"]["apiGroup"], "tekton.dev");
    assert_eq!(watch["user"]["username"], "kube-sim");
    // Discovery is logged too, as non-resource requests.
    assert!(
        all.iter().any(|e| {
            let uri = e["requestURI"].as_str().unwrap_or_default();
            uri.split('?').next() == Some("/api") && e.get("objectRef").is_none()
        }),
        "no discovery request logged: {:?}",
        all.iter()
            .filter(|e| e.get("objectRef").is_none())
            .map(|e| &e["requestURI"])
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_unwritable_audit_log_stops_kube_sim_with_a_clear_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kube-sim"))
        .args(["--listen", "127.0.0.1:0", "--kubeconfig"])
        .arg(std::env::temp_dir().join("kube-sim-audit-unused-kubeconfig"))
        .args(["--no-kubelet", "--audit-log", "/nonexistent/dir/audit.log"])
        .output()
        .expect("kube-sim runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot open the audit log /nonexistent/dir/audit.log"),
        "{stderr}"
    );
}
