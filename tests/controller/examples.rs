//! Every upstream example the local executor runs, created with `kubectl create -f` and run
//! by `adze controller`: each run completes with the same [`Shape`] of status (read back
//! with `kubectl get -o json`) as `adze run` gives locally, the two files that need
//! `results-from=sidecar-logs` under a second controller that has the flag.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::shape::Shape;
use super::common::{examples_dir, require_docker, run_adze, runs_in, unpin_digests, yaml_files};
use super::{create, done, get, list, Controller, Sim};

/// Files whose results only fit through `results-from=sidecar-logs`, as Tekton's CI runs
/// them: a flag of the whole controller, so they go to a second kube-sim whose controller has
/// it, and run locally with it too. Their results are random: compared by length.
const SIDECAR_LOG_RESULTS: &[&str] = &[
    "pipelineruns/alpha/pipelinerun-large-results.yaml",
    "taskruns/beta/large-task-result.yaml",
];

const SIDECAR_LOGS_FLAG: [&str; 2] = ["--feature-flag", "results-from=sidecar-logs"];

/// One run may take this long (the slowest example takes ~15 s alone).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Files at once.
const CONCURRENCY: usize = 3;

/// One example file: its runs go to a namespace of their own.
struct Job {
    rel: String,
    text: String,
    namespace: String,
    /// Under `results-from=sidecar-logs` (see [`SIDECAR_LOG_RESULTS`]).
    sidecar_logs: bool,
}

/// The shape of each top-level run of the job under the controller, by the name it was
/// written with (`name`, else `generateName`).
fn controller_shapes(
    sim: &Sim,
    controller: &Controller,
    job: &Job,
) -> Result<Vec<(String, Shape)>, String> {
    sim.namespace(&job.namespace);
    let created = create(sim, &job.namespace, &job.text);
    let runs: Vec<&String> = created
        .iter()
        .filter(|o| o.starts_with("pipelinerun.") || o.starts_with("taskrun."))
        .collect();
    let mut shapes = Vec::new();
    for run in runs {
        let until = Instant::now() + RUN_LIMIT;
        let object = loop {
            let object = get(sim, &job.namespace, run);
            if done(&object) {
                break object;
            }
            if Instant::now() > until {
                return Err(format!(
                    "{run} not done after {}s: {}\ncontroller log:\n{}",
                    RUN_LIMIT.as_secs(),
                    object["status"],
                    tail(&controller.log(), 20)
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let meta = &object["metadata"];
        let written = meta["generateName"]
            .as_str()
            .or(meta["name"].as_str())
            .unwrap_or_default()
            .to_owned();
        shapes.push((written, Shape::of(&object, "")));
    }
    Ok(shapes)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The local shape of the run written as `written`.
fn local_shape(job: &Job, written: &str, several: bool) -> Result<Shape, String> {
    let work = tempfile::tempdir().expect("temporary directory");
    let file = job.rel.replace('/', "__");
    std::fs::write(work.path().join(&file), &job.text).expect("write the copy");
    let mut args = vec![
        "run", &file, "-o", "json", "--color", "never", "--pull", "never",
    ];
    if job.sidecar_logs {
        args.extend(SIDECAR_LOGS_FLAG);
    }
    if several {
        args.extend(["--run", written]);
    }
    let out = run_adze(work.path(), &args, RUN_LIMIT);
    match out.json() {
        Some(json) => Ok(Shape::of(&json, "")),
        None => Err(format!(
            "local run: exit {:?}\n{}",
            out.code,
            out.stderr_tail(10)
        )),
    }
}

fn compare(sim: &Sim, controller: &Controller, job: &Job) -> Option<String> {
    let shapes: Vec<(String, Shape)> = match controller_shapes(sim, controller, job) {
        Ok(shapes) => shapes,
        Err(e) => return Some(format!("{}: {e}", job.rel)),
    };
    let several = runs_in(&job.text).len() > 1;
    let mut differences = Vec::new();
    for (written, controller_shape) in shapes {
        let (controller_shape, local) = match local_shape(job, &written, several) {
            Ok(local) if job.sidecar_logs => (
                controller_shape.results_by_length(),
                Ok(local.results_by_length()),
            ),
            local => (controller_shape, local),
        };
        match local {
            Ok(local) if local == controller_shape => {}
            Ok(local) => differences.push(format!(
                "{} ({written}): differs\n  controller: {controller_shape:?}\n  local:      {local:?}",
                job.rel
            )),
            Err(e) => differences.push(format!("{} ({written}): {e}", job.rel)),
        }
    }
    if let Err(e) = owned_and_deleted_with_their_runs(sim, &job.namespace) {
        differences.push(format!("{}: {e}", job.rel));
    }
    (!differences.is_empty()).then(|| differences.join("\n\n"))
}

/// Every TaskRun and Pod of the namespace is owned by a run of it (a PipelineRun's TaskRuns
/// and child PipelineRuns by the PipelineRun, Pods by their TaskRun); deleting the top-level
/// runs deletes them all.
fn owned_and_deleted_with_their_runs(sim: &Sim, namespace: &str) -> Result<(), String> {
    let owner_kind = |o: &Value| -> String {
        o["metadata"]["ownerReferences"][0]["kind"]
            .as_str()
            .unwrap_or("none")
            .to_owned()
    };
    for pod in list(sim, namespace, "pods") {
        if owner_kind(&pod) != "TaskRun" {
            return Err(format!(
                "Pod {} is owned by {}",
                pod["metadata"]["name"],
                owner_kind(&pod)
            ));
        }
    }
    let mut top = Vec::new();
    // A child TaskRun, or a pipeline in a pipeline, is owned by its PipelineRun.
    for kind in ["pipelinerun", "taskrun"] {
        for run in list(sim, namespace, &format!("{kind}s")) {
            let name = run["metadata"]["name"].as_str().unwrap_or_default();
            match owner_kind(&run).as_str() {
                "PipelineRun" => {}
                "none" => top.push(format!("{kind}/{name}")),
                other => return Err(format!("{kind} {name} is owned by a {other}")),
            }
        }
    }
    let mut args = vec!["delete", "-n", namespace, "--wait=false"];
    args.extend(top.iter().map(String::as_str));
    sim.kubectl(&args);
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let left = list(sim, namespace, "taskruns").len()
            + list(sim, namespace, "pods").len()
            + list(sim, namespace, "pipelineruns").len();
        if left == 0 {
            return Ok(());
        }
        if Instant::now() > until {
            return Err(format!(
                "{left} runs and Pods outlived their top-level runs"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn upstream_examples_complete_under_the_controller_as_locally() {
    let Some(examples) = examples_dir() else {
        return;
    };
    require_docker();
    let start = Instant::now();
    let every = ["--all-namespaces", "--all", "--leader-elect=false"];
    let sim = Sim::start();
    let controller = Controller::start(&sim, &every);
    let flagged_sim = Sim::start();
    let flagged = Controller::start(&flagged_sim, &[&every[..], &SIDECAR_LOGS_FLAG[..]].concat());
    let mut jobs = VecDeque::new();
    let mut runs = 0;
    for file in yaml_files(&examples) {
        let rel = file
            .strip_prefix(&examples)
            .expect("file under the folder")
            .to_string_lossy()
            .replace('\\', "/");
        let text = unpin_digests(&std::fs::read_to_string(&file).expect("readable example"));
        runs += runs_in(&text).len();
        jobs.push_back(Job {
            sidecar_logs: SIDECAR_LOG_RESULTS.contains(&rel.as_str()),
            rel,
            text,
            namespace: format!("example-{}", jobs.len()),
        });
    }
    assert!(
        runs >= 50,
        "expected the upstream examples, found {runs} runs"
    );
    let files = jobs.len();
    let queue = Mutex::new(jobs);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENCY {
            scope.spawn(|| loop {
                let Some(job) = queue.lock().expect("queue").pop_front() else {
                    return;
                };
                let (sim, controller) = if job.sidecar_logs {
                    (&flagged_sim, &flagged)
                } else {
                    (&sim, &controller)
                };
                if let Some(failure) = compare(sim, controller, &job) {
                    failures.lock().expect("failures").push(failure);
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("failures");
    eprintln!(
        "{runs} runs of {files} files under the controller in {:.0}s: {} files differ",
        start.elapsed().as_secs_f64(),
        failures.len()
    );
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {files} files differ from the local run:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn sidecar_log_files_exist() {
    let Some(examples) = examples_dir() else {
        return;
    };
    for name in SIDECAR_LOG_RESULTS {
        assert!(
            examples.join(name).is_file(),
            "{name} is not an example any more"
        );
    }
}

/// Unused fields of a status must not make two shapes differ (a sanity check of the helper).
#[test]
fn shapes_of_the_same_status_are_equal() {
    let object: Value = serde_json::json!({
        "metadata": {"name": "r-1"},
        "status": {"conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}]}
    });
    assert_eq!(Shape::of(&object, ""), Shape::of(&object, ""));
}
