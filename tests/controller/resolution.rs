//! Remote references under `adze controller`: a PipelineRun whose Task comes from the
//! `http` resolver (a file server on loopback), and one whose Task the `cluster` resolver
//! reads from another namespace through the API server, run to success; one whose reference
//! is refused fails with Tekton's `CouldntGetTask`, naming the param, and creates nothing
//! (`CouldntGetPipeline` for a `pipelineRef`, `TaskRunResolutionFailed` for a TaskRun's).

use std::time::Duration;

use super::common::resolve_servers::HttpServer;
use super::{condition, create, done, list, wait_until, Controller, Sim};

const LIMIT: Duration = Duration::from_secs(90);

const TASK: &str = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: fetched\nspec:\n  steps:\n  - name: say\n    image: adze-test/busybox:latest\n    script: echo fetched-over-http\n";

fn run(name: &str, task_ref: &str) -> String {
    format!(
        "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: {name}\n  labels: {{adze.dev/controller: \"true\"}}\nspec:\n  pipelineSpec:\n    tasks:\n    - name: remote\n      taskRef:\n{task_ref}"
    )
}

#[test]
fn remote_task_refs_are_fetched_and_refused_ones_fail_the_run() {
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(root.path().join("tasks")).expect("mkdir");
    std::fs::write(root.path().join("tasks/fetched.yaml"), TASK).expect("write");
    let http = HttpServer::start(root.path().to_path_buf(), "u:p");
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-resolve");
    let cache = root.path().join("cache");
    let controller = Controller::start(
        sim,
        &[
            "--namespace",
            &ns,
            "--leader-elect=false",
            "--resolve-cache",
            cache.to_str().expect("utf-8 path"),
        ],
    );
    let fetched = format!(
        "        resolver: http\n        params:\n        - {{name: url, value: \"{}/tasks/fetched.yaml\"}}\n",
        http.base()
    );
    let refused = "        resolver: git\n        params:\n        - {name: url, value: \"https://example.com/r.git\"}\n        - {name: revision, value: \"--upload-pack=touch /tmp/x\"}\n        - {name: pathInRepo, value: t.yaml}\n";
    let library = sim.namespace("ctl-resolve-lib");
    create(
        sim,
        &library,
        &TASK.replace("name: fetched", "name: shared"),
    );
    let from_cluster = format!(
        "        resolver: cluster\n        params:\n        - {{name: kind, value: task}}\n        - {{name: name, value: shared}}\n        - {{name: namespace, value: {library}}}\n"
    );
    create(sim, &ns, &run("fetched", &fetched));
    create(sim, &ns, &run("refused", refused));
    // The same refusal on a PipelineRun's pipelineRef and on a TaskRun's taskRef.
    let labelled = "  labels: {adze.dev/controller: \"true\"}\n";
    create(
        sim,
        &ns,
        &format!(
            "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: refused-pipeline\n\
             {labelled}spec:\n  pipelineRef:\n{}",
            refused.replace("      ", "  ")
        ),
    );
    create(
        sim,
        &ns,
        &format!(
            "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: refused-task-run\n\
             {labelled}spec:\n  taskRef:\n{}",
            refused.replace("      ", "  ")
        ),
    );
    create(sim, &ns, &run("from-cluster", &from_cluster));

    let ok = wait_until(sim, &ns, "pipelinerun/fetched", LIMIT, &controller, done);
    let child = super::get(sim, &ns, "taskrun/fetched-remote");
    assert_eq!(
        condition(&ok),
        ("True".into(), "Succeeded".into()),
        "{}\nchild: {}",
        ok["status"],
        child["status"]
    );
    assert!(http
        .requests()
        .iter()
        .any(|r| r.contains("/tasks/fetched.yaml")));

    // Another namespace's Task, read from the API server as Tekton's cluster resolver does.
    let shared = wait_until(
        sim,
        &ns,
        "pipelinerun/from-cluster",
        LIMIT,
        &controller,
        done,
    );
    assert_eq!(
        condition(&shared),
        ("True".into(), "Succeeded".into()),
        "{}",
        shared["status"]
    );

    let failed = wait_until(sim, &ns, "pipelinerun/refused", LIMIT, &controller, done);
    assert_eq!(
        condition(&failed),
        ("False".into(), "CouldntGetTask".into()),
        "{}",
        failed["status"]
    );
    let message = failed["status"]["conditions"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("param \"revision\""), "{message}");
    let children: Vec<String> = list(sim, &ns, "taskruns")
        .iter()
        .filter(|t| t["metadata"]["labels"]["tekton.dev/pipelineRun"] == "refused")
        .map(|t| t["metadata"]["name"].to_string())
        .collect();
    assert!(children.is_empty(), "{children:?}");

    // Tekton's reasons for the other two references.
    for (object, reason) in [
        ("pipelinerun/refused-pipeline", "CouldntGetPipeline"),
        ("taskrun/refused-task-run", "TaskRunResolutionFailed"),
    ] {
        let failed = wait_until(sim, &ns, object, LIMIT, &controller, done);
        assert_eq!(
            condition(&failed),
            ("False".into(), reason.into()),
            "{object}: {}",
            failed["status"]
        );
    }
    assert!(list(sim, &ns, "pods")
        .iter()
        .all(|p| p["metadata"]["labels"]["tekton.dev/taskRun"] != "refused-task-run"));
}
