//! Every upstream Tekton example runs through `adze run --executor kubernetes` against a
//! kube-sim started by this test, with the same outcome and status fields as the local
//! executor gives.
//!
//! One kube-sim serves the whole binary (`target/debug/kube-sim`, beside `adze`; `cargo test
//! --workspace` builds both). Each run goes twice, through the Kubernetes executor (in a
//! namespace of its own, so runs go three at a time and same-named runs never collide) and
//! through the local Docker executor, and [`Shape`] — the condition's status and reason, the
//! results, each step's name and terminated exit code and reason, each child's name and
//! status — must be equal. Run names are generated (`generateName`), so each side's own run
//! name is replaced by `<run>` before comparing.
//!
//! The files of [`SIDECAR_LOG_RESULTS`] run with `--feature-flag results-from=sidecar-logs`
//! on both sides, as Tekton's CI runs them. `ADZE_TEST_ENTRYPOINT_IMAGE` replaces the
//! entrypoint image (see [`entrypoint_image`]).
//!
//! Differences that remain are listed in [`EXCEPTIONS`] with the difference observed and why;
//! an excepted file whose runs all match fails the test, so the list only shrinks. Digests
//! are rewritten as in `tests/run_examples.rs` (see `tests/common/mod.rs`).

mod common;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::kube_sim::Sim;
use common::shape::Shape;
use common::{examples_dir, require_docker, run_adze, runs_in, unpin_digests, yaml_files};

/// Files (relative to the examples folder) whose Kubernetes run differs from the local one,
/// with the difference observed and why.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Files run with `--feature-flag results-from=sidecar-logs` on both sides, as Tekton's own
/// CI runs them: their results together exceed a step's 4096-byte termination message (each
/// stays under 4096 bytes), which only the results sidecar carries. Only these: the flag
/// adds a sidecar to every Pod, whose readiness the first step then waits for, and stating
/// any flag makes gated features errors, as on a cluster; the other examples are the
/// termination-message path, which must stay covered.
const SIDECAR_LOG_RESULTS: &[&str] = &[
    "pipelineruns/alpha/pipelinerun-large-results.yaml",
    "taskruns/beta/large-task-result.yaml",
];

/// Files whose results are random (read from /dev/urandom): their values are compared by
/// length, the rest of the shape as usual.
const RANDOM_RESULTS: &[&str] = SIDECAR_LOG_RESULTS;

/// One run may take this long before it is interrupted (the slowest example takes ~15 s).
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// Runs at once: each is a few containers on two shared cores.
const CONCURRENCY: usize = 3;

/// The whole test, both executors, must stay well under the 15 minutes CI allows.
const TOTAL_BUDGET: Duration = Duration::from_secs(8 * 60);

/// The entrypoint image: `tests/setup-docker.sh`'s, or `ADZE_TEST_ENTRYPOINT_IMAGE` (an image
/// of a worktree's own static entrypoint, without retagging the shared one).
fn entrypoint_image() -> String {
    std::env::var("ADZE_TEST_ENTRYPOINT_IMAGE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "adze-test/entrypoint:latest".to_owned())
}

/// One run of one file, to go through both executors.
struct Job {
    /// The file, relative to the examples folder.
    rel: String,
    /// Its text with digests rewritten.
    text: String,
    /// `--run` when the file holds several runs.
    select: Option<String>,
    /// The namespace of its Kubernetes run.
    namespace: String,
}

/// The shape one executor gave, or why there is none.
fn shape_of(dir: &Path, file: &str, extra: &[&str], select: Option<&str>) -> Result<Shape, String> {
    let mut args = vec![
        "run", file, "-o", "json", "--color", "never", "--pull", "never",
    ];
    args.extend(extra);
    if let Some(name) = select {
        args.extend(["--run", name]);
    }
    let out = run_adze(dir, &args, RUN_LIMIT);
    if out.timed_out {
        return Err(format!(
            "interrupted after {}s\n{}",
            RUN_LIMIT.as_secs(),
            out.stderr_tail(15)
        ));
    }
    match out.json() {
        Some(json) => Ok(Shape::of(&json, &out.stderr)),
        None => Err(format!(
            "exit {:?}, no JSON on stdout\n{}",
            out.code,
            out.stderr_tail(15)
        )),
    }
}

/// Runs one job through both executors; `None` when they agree.
fn compare(job: &Job, sim: &Sim) -> Option<String> {
    sim.namespace(&job.namespace);
    // Each side in its own folder: the local run records its last run beside the file.
    let work = tempfile::tempdir().expect("temporary directory");
    let file = job.rel.replace('/', "__");
    for side in ["kubernetes", "docker"] {
        std::fs::create_dir(work.path().join(side)).expect("side folder");
        std::fs::write(work.path().join(side).join(&file), &job.text).expect("write copy");
    }
    let kubeconfig = sim.kubeconfig.to_string_lossy().into_owned();
    let entrypoint_image = entrypoint_image();
    let mut kube_args = vec![
        "--executor",
        "kubernetes",
        "--kubeconfig",
        &kubeconfig,
        "--namespace",
        &job.namespace,
        "--entrypoint-image",
        &entrypoint_image,
    ];
    let mut local_args = Vec::new();
    if SIDECAR_LOG_RESULTS.contains(&job.rel.as_str()) {
        for args in [&mut kube_args, &mut local_args] {
            args.extend(["--feature-flag", "results-from=sidecar-logs"]);
        }
    }
    let select = job.select.as_deref();
    let random = RANDOM_RESULTS.contains(&job.rel.as_str());
    let kube = shape_of(&work.path().join("kubernetes"), &file, &kube_args, select).map(|s| {
        if random {
            s.results_by_length()
        } else {
            s
        }
    });
    let local = shape_of(&work.path().join("docker"), &file, &local_args, select).map(|s| {
        if random {
            s.results_by_length()
        } else {
            s
        }
    });
    let which = select.map(|r| format!(" --run {r}")).unwrap_or_default();
    match (kube, local) {
        (Ok(k), Ok(l)) if k == l => None,
        (Ok(k), Ok(l)) => Some(format!(
            "{}{which}: differs\n  kubernetes: {k:?}\n  local:      {l:?}",
            job.rel
        )),
        (k, l) => Some(format!(
            "{}{which}:\n  kubernetes: {}\n  local: {}",
            job.rel,
            k.map(|s| format!("{s:?}")).unwrap_or_else(|e| e),
            l.map(|s| format!("{s:?}")).unwrap_or_else(|e| e),
        )),
    }
}

#[test]
fn upstream_examples_match_between_kubernetes_and_local() {
    let Some(examples) = examples_dir() else {
        return;
    };
    require_docker();
    let files = yaml_files(&examples);
    assert!(
        files.len() >= 50,
        "expected the upstream examples, found {} files",
        files.len()
    );
    let start = Instant::now();
    let sim = Sim::start();
    let mut jobs = VecDeque::new();
    let mut relative_names = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&examples)
            .expect("file under the folder")
            .to_string_lossy()
            .replace('\\', "/");
        relative_names.push(rel.clone());
        let text = unpin_digests(&std::fs::read_to_string(file).expect("readable example"));
        let runs = runs_in(&text);
        for run in &runs {
            jobs.push_back(Job {
                rel: rel.clone(),
                text: text.clone(),
                select: (runs.len() > 1).then(|| run.clone()),
                namespace: format!("example-{}", jobs.len()),
            });
        }
    }
    let mut failures: Vec<String> = EXCEPTIONS
        .iter()
        .filter(|(name, _)| !relative_names.iter().any(|r| r == name))
        .map(|(name, _)| format!("{name}: listed in EXCEPTIONS but not in the examples folder"))
        .collect();
    let total = jobs.len();
    let queue = Mutex::new(jobs);
    let differences: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENCY {
            scope.spawn(|| loop {
                let Some(job) = queue.lock().expect("queue").pop_front() else {
                    return;
                };
                if let Some(difference) = compare(&job, &sim) {
                    differences
                        .lock()
                        .expect("differences")
                        .push((job.rel.clone(), difference));
                }
            });
        }
    });
    let differences = differences.into_inner().expect("differences");
    for (rel, difference) in &differences {
        if !EXCEPTIONS.iter().any(|(name, _)| name == rel) {
            failures.push(difference.clone());
        }
    }
    for (name, _) in EXCEPTIONS {
        if relative_names.iter().any(|r| r == name) && !differences.iter().any(|(r, _)| r == name) {
            failures.push(format!(
                "{name}: matches now; remove it from EXCEPTIONS in tests/run_examples_kubernetes.rs"
            ));
        }
    }
    let elapsed = start.elapsed();
    eprintln!(
        "compared {total} runs in {:.0}s: {} differ",
        elapsed.as_secs_f64(),
        differences.len()
    );
    if elapsed > TOTAL_BUDGET {
        failures.push(format!(
            "took {:.0}s, over the {}s budget",
            elapsed.as_secs_f64(),
            TOTAL_BUDGET.as_secs()
        ));
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {total} runs differ between the executors:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_shape_ignores_the_generated_run_name() {
    let json = |name: &str, exit: i64| {
        serde_json::json!({
            "metadata": {"name": name},
            "status": {
                "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded"}],
                "results": [{"name": "r", "value": format!("{name}-x")}],
                "steps": [{"name": "s", "terminated": {"exitCode": exit, "reason": "Completed"}}],
                "childReferences": [{"name": format!("{name}-t")}]
            }
        })
    };
    let table = |name: &str| {
        format!("TASK  STATUS  REASON  DURATION\n{name}  Succeeded    1.0s\nTaskRun {name}: ok\n")
    };
    let a1 = Shape::of(&json("a-1", 0), &table("a-1"));
    assert_eq!(a1.tasks, [("<run>".to_owned(), "Succeeded".to_owned())]);
    assert_eq!(a1, Shape::of(&json("a-2", 0), &table("a-2")));
    assert_ne!(a1, Shape::of(&json("a-1", 1), &table("a-1")));
}
