//! `cargo bench --bench executor`: what the Docker executor costs over plain `docker run`,
//! and how quickly the driver starts a task once its parent finished.
//!
//! Needs a running engine and `adze-test/busybox:latest` (`bash tests/setup-docker.sh`).
//!
//! Cases, measured in the same process, interleaved so drift hits both sides equally:
//! - `steps-20`: one TaskRun of 20 steps running `true`, versus 20 sequential
//!   `docker run --rm IMAGE true` through the docker CLI. Reports both wall times and the
//!   overhead ratio (adze / docker run − 1).
//! - `fan-out-16`: a pipeline `root → 16 parallel tasks → join`, all `true`. Reports the wall
//!   time and the scheduling delay: from a task's completion (as its executor job recorded
//!   it) to the driver handing each dependent to the executor; max and median over all
//!   edges that gated a start.
//! - `steps-10`: the question of whether steps should start at once (issue 8, point 4). Four
//!   sides, interleaved round by round: 10 sequential `docker run --rm IMAGE true`; one
//!   TaskRun of 10 `true` steps through today's executor; and the entrypoint prototype, every
//!   step container created and started at once through the Engine API and ordered only by
//!   `adze-entrypoint` through a shared `/tekton/run` (the static build bind-mounted
//!   read-only, as a Pod's `/tekton/bin`), without and with each container's output
//!   attached before its start as the executor streams logs. Each side's mean, standard
//!   deviation and range over the rounds, and the ratios to `docker run`: of the means, of
//!   the median round, and per round. The static entrypoint is `$ADZE_ENTRYPOINT`, else built into
//!   `<target>/static-entrypoint` as tests/setup-docker.sh builds it.
//!
//! `cargo bench --bench executor -- steps-10` runs only the cases whose name holds the word.
//! `ADZE_BENCH_ROUNDS` sets the rounds (default 3; `steps-10` runs at least 5); the best round
//! of each side is reported for the first two cases. On a shared machine take the ratios, not
//! the absolute times: the sides of one round run back to back under the same load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, RemoveContainerOptions,
};
use bollard::Docker;

use adze::api::Object;
use adze::exec::docker::DockerExecutor;
use adze::load::{Bundle, Origin};
use adze::plan::model::StepPlan;
use adze::reconcile::Timestamp;
use adze::run::{
    Clock, Driver, ExecError, ExecEvent, ExecOutcome, Executor, SystemClock, TaskRunRequest,
};

const IMAGE: &str = "adze-test/busybox:latest";

fn rounds() -> usize {
    std::env::var("ADZE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
}

fn docker_runs(n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let status = Command::new("docker")
            .args(["run", "--rm", "--pull", "never", IMAGE, "true"])
            .status()
            .expect("docker CLI runs");
        assert!(status.success(), "docker run failed");
    }
    start.elapsed()
}

fn adze_steps(executor: &mut DockerExecutor, n: usize, round: usize) -> Duration {
    let request = TaskRunRequest {
        name: format!("bench-steps-{round}"),
        pipeline_task: "bench".into(),
        finally: false,
        params: Vec::new(),
        steps: (0..n)
            .map(|i| StepPlan {
                name: format!("s{i}"),
                image: IMAGE.into(),
                command: vec!["true".into()],
                ..StepPlan::default()
            })
            .collect(),
        sidecars: Vec::new(),
        timeout: None,
        workspaces: Vec::new(),
        results: Vec::new(),
        volumes: Vec::new(),
        credentials: Vec::new(),
        pod: Default::default(),
        on_error: Default::default(),
        cluster: Default::default(),
    };
    let start = Instant::now();
    executor.start(&request).expect("starts");
    loop {
        executor.wait(Duration::from_millis(50));
        let events = executor.poll(Timestamp(0));
        if let Some(e) = events.first() {
            assert_eq!(e.outcome, ExecOutcome::Succeeded, "{e:?}");
            return start.elapsed();
        }
    }
}

/// Records when each TaskRun was handed over and when each finished.
struct Timing<'e> {
    inner: &'e mut DockerExecutor,
    started: HashMap<String, u64>,
    finished: HashMap<String, u64>,
}

impl Executor for Timing<'_> {
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError> {
        self.started
            .insert(task_run.pipeline_task.clone(), SystemClock.now().0);
        self.inner.start(task_run)
    }
    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        self.inner.cancel(name, message)
    }
    fn poll(&mut self, now: Timestamp) -> Vec<ExecEvent> {
        let events = self.inner.poll(now);
        for e in &events {
            let done = e.report.completion_time.map_or(0, |t| t.0);
            let task = e.task_run.trim_start_matches("bench-fan-");
            self.finished.insert(task.to_owned(), done);
        }
        events
    }
    fn wait(&mut self, timeout: Duration) -> bool {
        self.inner.wait(timeout)
    }
}

fn fan_out_yaml(width: usize) -> String {
    let mut tasks = String::from(
        "    - {name: root, taskSpec: {steps: [{image: IMAGE, command: ['true']}]}}\n",
    );
    let mut middle = Vec::new();
    for i in 0..width {
        tasks.push_str(&format!(
            "    - {{name: t{i}, runAfter: [root], taskSpec: {{steps: [{{image: IMAGE, command: ['true']}}]}}}}\n"
        ));
        middle.push(format!("t{i}"));
    }
    tasks.push_str(&format!(
        "    - {{name: join, runAfter: [{}], taskSpec: {{steps: [{{image: IMAGE, command: ['true']}}]}}}}\n",
        middle.join(", ")
    ));
    format!(
        "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {{name: bench-fan}}\nspec:\n  pipelineSpec:\n    tasks:\n{tasks}"
    )
    .replace("IMAGE", IMAGE)
}

/// Wall time, and every (parent completion → child start) delay in ms.
fn fan_out(width: usize) -> (Duration, Vec<u64>) {
    // A fresh executor per round: TaskRun names repeat between rounds.
    let mut executor = DockerExecutor::new().expect("engine reachable");
    let executor = &mut executor;
    let mut bundle = Bundle::new();
    bundle.add_source("bench.yaml", fan_out_yaml(width), Origin::Input);
    assert!(bundle.diagnostics.is_empty(), "{:?}", bundle.diagnostics);
    let pr = bundle
        .inputs()
        .find_map(|o| match &o.object {
            Object::PipelineRun(pr) => Some(pr.clone()),
            _ => None,
        })
        .expect("a PipelineRun");
    let mut timing = Timing {
        inner: executor,
        started: HashMap::new(),
        finished: HashMap::new(),
    };
    let start = Instant::now();
    let outcome = Driver::new(&bundle, &pr)
        .expect("resolves")
        .with_tick(Duration::from_millis(100))
        .run(&mut timing, &mut SystemClock)
        .expect("runs");
    let wall = start.elapsed();
    assert_eq!(
        outcome.condition.reason.as_str(),
        "Succeeded",
        "{:?}",
        outcome.condition
    );
    let mut delays = Vec::new();
    let root_done = timing.finished["root"];
    for i in 0..width {
        delays.push(timing.started[&format!("t{i}")].saturating_sub(root_done));
    }
    // The join waits for the last of the middle tasks.
    let last_middle = (0..width)
        .map(|i| timing.finished[&format!("t{i}")])
        .max()
        .unwrap_or(0);
    delays.push(timing.started["join"].saturating_sub(last_middle));
    (wall, delays)
}

/// The static entrypoint: `$ADZE_ENTRYPOINT`, else built as tests/setup-docker.sh builds it,
/// in `<target>/static-entrypoint`.
fn static_entrypoint() -> PathBuf {
    if let Some(path) = std::env::var_os("ADZE_ENTRYPOINT") {
        return PathBuf::from(path);
    }
    // This benchmark runs from <target>/release/deps/.
    let target = std::env::current_exe()
        .expect("own path")
        .ancestors()
        .nth(3)
        .expect("<target>/release/deps/executor-…")
        .join("static-entrypoint");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "-q", "-p", "adze-entrypoint", "--release"])
        .args(["--target", "x86_64-unknown-linux-gnu", "--target-dir"])
        .arg(&target)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "static build of adze-entrypoint failed");
    target.join("x86_64-unknown-linux-gnu/release/adze-entrypoint")
}

/// Step `i` of `n` as the entrypoint prototype runs it: `true`, after step `i-1`'s marker.
fn entrypoint_step(i: usize, entrypoint: &Path, run_dir: &Path) -> ContainerCreateBody {
    let mut cmd = Vec::new();
    if i > 0 {
        cmd.extend([
            "-wait_file".to_string(),
            format!("/tekton/run/{}/out", i - 1),
        ]);
    }
    cmd.extend([
        "-post_file".to_string(),
        format!("/tekton/run/{i}/out"),
        "-termination_path".into(),
        format!("/tekton/run/{i}/termination"),
        "-step_metadata_dir".into(),
        format!("/tekton/run/{i}/status"),
        "--".into(),
        "true".into(),
    ]);
    ContainerCreateBody {
        image: Some(IMAGE.into()),
        entrypoint: Some(vec!["/tekton/bin/entrypoint".into()]),
        cmd: Some(cmd),
        labels: Some([("adze.dev/bench".to_string(), "steps-10".to_string())].into()),
        host_config: Some(HostConfig {
            binds: Some(vec![
                format!("{}:/tekton/bin/entrypoint:ro", entrypoint.display()),
                format!("{}:/tekton/run", run_dir.display()),
            ]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The prototype: every step's container created, started, waited for and removed at once,
/// ordered only by the entrypoint; wall time until the last is removed. With `attach`, each
/// container's output is attached before its start and read to the end, as the executor
/// streams step logs.
fn entrypoint_steps(
    runtime: &tokio::runtime::Runtime,
    docker: &Docker,
    entrypoint: &Path,
    n: usize,
    round: usize,
    attach: bool,
) -> Duration {
    let run_dir = tempfile::tempdir().expect("temporary directory");
    let start = Instant::now();
    let exits: Vec<i64> = runtime.block_on(async {
        let mut steps = tokio::task::JoinSet::new();
        for i in 0..n {
            let docker = docker.clone();
            let body = entrypoint_step(i, entrypoint, run_dir.path());
            let name = format!("adze-bench-{}-{round}-{i}", std::process::id());
            steps.spawn(async move {
                let options = CreateContainerOptions {
                    name: Some(name),
                    ..Default::default()
                };
                let id = docker.create_container(Some(options), body).await?.id;
                let reader = if attach {
                    let options = AttachContainerOptions {
                        stream: true,
                        stdout: true,
                        stderr: true,
                        ..Default::default()
                    };
                    let mut output = docker.attach_container(&id, Some(options)).await?.output;
                    Some(tokio::spawn(async move {
                        while futures_util::StreamExt::next(&mut output).await.is_some() {}
                    }))
                } else {
                    None
                };
                docker.start_container(&id, None).await?;
                let mut wait = docker.wait_container(&id, None);
                let code = match futures_util::StreamExt::next(&mut wait).await {
                    Some(Ok(response)) => response.status_code,
                    Some(Err(bollard::errors::Error::DockerContainerWaitError {
                        code, ..
                    })) => code,
                    other => panic!("waiting for step {i}: {other:?}"),
                };
                let remove = RemoveContainerOptions {
                    force: true,
                    ..Default::default()
                };
                if let Some(reader) = reader {
                    reader.await.expect("log reader");
                }
                docker.remove_container(&id, Some(remove)).await?;
                Ok::<_, bollard::errors::Error>(code)
            });
        }
        let mut exits = Vec::new();
        while let Some(joined) = steps.join_next().await {
            exits.push(joined.expect("step task").expect("engine call"));
        }
        exits
    });
    let elapsed = start.elapsed();
    assert!(exits.iter().all(|code| *code == 0), "exit codes {exits:?}");
    assert!(
        run_dir.path().join(format!("{}/out", n - 1)).exists(),
        "the last step did not run"
    );
    elapsed
}

/// Mean, standard deviation, min and max of `times`, in seconds.
fn spread(times: &[Duration]) -> (f64, f64, f64, f64) {
    let secs: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    let n = secs.len().max(1) as f64;
    let mean = secs.iter().sum::<f64>() / n;
    let variance = secs.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let min = secs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = secs.iter().copied().fold(0.0, f64::max);
    (mean, variance.sqrt(), min, max)
}

fn report(label: &str, times: &[Duration], baseline: &[Duration]) {
    let (mean, sd, min, max) = spread(times);
    let (base_mean, ..) = spread(baseline);
    let mut ratios: Vec<f64> = times
        .iter()
        .zip(baseline)
        .map(|(t, b)| t.as_secs_f64() / b.as_secs_f64())
        .collect();
    let per_round: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    ratios.sort_by(f64::total_cmp);
    // The median round resists the one round a neighbour's build happened to land on.
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "steps-10: {label:<44} mean {mean:.3} s ± {sd:.3} (min {min:.3}, max {max:.3}); \
         {:.2}× docker run by means, median round {median:.2}× (per round: {})",
        mean / base_mean,
        per_round.join(" ")
    );
}

/// `steps-10`: sequential `docker run`, today's executor and the entrypoint prototype,
/// interleaved round by round.
fn steps_10(executor: &mut DockerExecutor, rounds: usize) {
    let entrypoint = static_entrypoint();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let docker = Docker::connect_with_local_defaults().expect("engine reachable");
    entrypoint_steps(&runtime, &docker, &entrypoint, 2, 0, true);
    let (mut raw, mut ours) = (Vec::new(), Vec::new());
    let (mut prototype, mut attached) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        raw.push(docker_runs(10));
        ours.push(adze_steps(executor, 10, 100 + round));
        prototype.push(entrypoint_steps(
            &runtime,
            &docker,
            &entrypoint,
            10,
            round,
            false,
        ));
        attached.push(entrypoint_steps(
            &runtime,
            &docker,
            &entrypoint,
            10,
            100 + round,
            true,
        ));
    }
    println!("steps-10: {rounds} rounds, sides interleaved within each round");
    report(&format!("10 x `docker run --rm {IMAGE} true`"), &raw, &raw);
    report("one TaskRun of 10 steps, today's executor", &ours, &raw);
    report(
        "10 containers at once, ordered by entrypoint",
        &prototype,
        &raw,
    );
    report(
        "the same, each container's output attached",
        &attached,
        &raw,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; another argument keeps only the cases whose name holds it.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |case: &str| filter.is_empty() || filter.iter().any(|f| case.contains(f.as_str()));
    let rounds = rounds();
    let mut executor = DockerExecutor::new().expect(
        "the executor benchmark needs a Docker engine and adze-test images: run `bash tests/setup-docker.sh`",
    );
    // Warm-up: the image's layers in the page cache, the engine's caches.
    docker_runs(2);
    adze_steps(&mut executor, 2, 0);

    if wanted("steps-20") {
        steps_20(&mut executor, rounds);
    }
    if wanted("steps-10") {
        steps_10(&mut executor, rounds.max(5));
    }
    if wanted("fan-out-16") {
        fan_out_16(rounds);
    }
}

/// `steps-20`: today's executor against sequential `docker run`, best round of each.
fn steps_20(executor: &mut DockerExecutor, rounds: usize) {
    let mut raw = Vec::new();
    let mut ours = Vec::new();
    for round in 1..=rounds {
        raw.push(docker_runs(20));
        ours.push(adze_steps(executor, 20, round));
    }
    let best_raw = raw.iter().min().copied().unwrap_or_default();
    let best_ours = ours.iter().min().copied().unwrap_or_default();
    let ratio = best_ours.as_secs_f64() / best_raw.as_secs_f64() - 1.0;
    println!("steps-20: 20 x `docker run --rm {IMAGE} true`: best {best_raw:.2?} of {rounds} (all: {raw:.2?})");
    println!("steps-20: one TaskRun of 20 `true` steps:      best {best_ours:.2?} of {rounds} (all: {ours:.2?})");
    println!("steps-20: overhead over docker run: {:+.1}%", ratio * 100.0);
}

/// `fan-out-16`: wall time and scheduling delay of a root → 16 → join pipeline.
fn fan_out_16(rounds: usize) {
    let mut walls = Vec::new();
    let mut delays = Vec::new();
    for _ in 0..rounds {
        let (wall, d) = fan_out(16);
        walls.push(wall);
        delays.extend(d);
    }
    delays.sort_unstable();
    let median = delays.get(delays.len() / 2).copied().unwrap_or(0);
    let max = delays.last().copied().unwrap_or(0);
    let best_wall = walls.iter().min().copied().unwrap_or_default();
    println!("fan-out-16: root -> 16 parallel -> join, wall best {best_wall:.2?} of {rounds} (all: {walls:.2?})");
    println!(
        "fan-out-16: scheduling delay (parent done -> dependent handed to the executor): median {median} ms, max {max} ms over {} edges",
        delays.len()
    );
}
