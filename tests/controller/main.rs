//! `adze controller` against kube-sim, driven with the real `kubectl`: runs created as
//! objects complete with Tekton's status; the opt-in label, a controller killed mid-run,
//! and `spec.status` patches behave as the issue asks.
//!
//! Each case has a namespace of its own and a controller watching only it, on the kube-sim
//! the binary shares; the upstream examples run on a kube-sim of their own, under one
//! controller watching every namespace.

#[path = "../common/mod.rs"]
mod common;
mod examples;
mod lifecycle;
mod observability;
mod rbac;
mod resolution;
mod triggered;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::kube_sim::Sim;
use common::running::Running;

/// The entrypoint image `tests/setup-docker.sh` builds.
const ENTRYPOINT_IMAGE: &str = "adze-test/entrypoint:latest";

/// A running `adze controller`.
struct Controller(Running);

impl Controller {
    /// Starts one against `sim` with `args` (e.g. `--namespace x`), once it watches.
    fn start(sim: &Sim, args: &[&str]) -> Controller {
        Controller(Running::start(
            Controller::command(sim, args),
            "adze controller: reconciling",
        ))
    }

    /// Starts one that waits for the Lease, once it says so.
    fn start_waiting(sim: &Sim, args: &[&str]) -> Controller {
        Controller(Running::start(
            Controller::command(sim, args),
            "adze controller: waiting to lead",
        ))
    }

    fn command(sim: &Sim, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
        command
            .arg("controller")
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .args(["--entrypoint-image", ENTRYPOINT_IMAGE])
            .args(args);
        command
    }

    /// Waits until its log shows `marker`.
    fn wait_for(&self, marker: &str) {
        self.0.wait_for(marker);
    }

    /// Kills it with SIGKILL.
    fn kill(&mut self) {
        self.0.kill();
    }

    /// Its log so far.
    fn log(&self) -> String {
        self.0.stderr()
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.0.kill();
    }
}

/// Creates the objects of `yaml` in `namespace` with `kubectl create`; the names created.
fn create(sim: &Sim, namespace: &str, yaml: &str) -> Vec<String> {
    let file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile_in(sim.dir())
        .expect("a file");
    std::fs::write(file.path(), yaml).expect("write the objects");
    let out = sim.kubectl(&[
        "create",
        "--validate=false",
        "-n",
        namespace,
        "-f",
        path(file.path()),
    ]);
    // `pipelinerun.tekton.dev/name created`
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `kubectl patch --type merge` of one object (`kind/name`) with `body`.
fn patch(sim: &Sim, namespace: &str, object: &str, body: &str) {
    sim.kubectl(&[
        "patch", "-n", namespace, object, "--type", "merge", "-p", body,
    ]);
}

/// `kubectl get -o json` of one object.
fn get(sim: &Sim, namespace: &str, object: &str) -> Value {
    let out = sim.kubectl(&["get", "-n", namespace, object, "-o", "json"]);
    serde_json::from_str(&out).expect("kubectl prints JSON")
}

/// The items of `kubectl get KIND -o json`.
fn list(sim: &Sim, namespace: &str, kind: &str) -> Vec<Value> {
    let out = sim.kubectl(&["get", "-n", namespace, kind, "-o", "json"]);
    let list: Value = serde_json::from_str(&out).expect("kubectl prints JSON");
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The `Succeeded` condition's status and reason.
fn condition(object: &Value) -> (String, String) {
    let c = object["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Succeeded"))
        .cloned()
        .unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (text(&c["status"]), text(&c["reason"]))
}

/// True once the run's condition is final.
fn done(object: &Value) -> bool {
    matches!(condition(object).0.as_str(), "True" | "False")
}

/// Reads `object` until `ready` holds for it (panics after `limit`, with the controller's log).
fn wait_until(
    sim: &Sim,
    namespace: &str,
    object: &str,
    limit: Duration,
    controller: &Controller,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let until = Instant::now() + limit;
    loop {
        let seen = get(sim, namespace, object);
        if ready(&seen) {
            return seen;
        }
        assert!(
            Instant::now() < until,
            "{object} in {namespace} not ready after {}s: {}\ncontroller:\n{}",
            limit.as_secs(),
            seen["status"],
            controller.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
