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
//!
//! `ADZE_BENCH_ROUNDS` sets the rounds (default 3); the best round of each side is reported.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

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
            .args(["run", "--rm", IMAGE, "true"])
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

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a name filter we do not need.
    let rounds = rounds();
    let mut executor = DockerExecutor::new().expect(
        "the executor benchmark needs a Docker engine and adze-test images: run `bash tests/setup-docker.sh`",
    );
    // Warm-up: the image's layers in the page cache, the engine's caches.
    docker_runs(2);
    adze_steps(&mut executor, 2, 0);

    let mut raw = Vec::new();
    let mut ours = Vec::new();
    for round in 1..=rounds {
        raw.push(docker_runs(20));
        ours.push(adze_steps(&mut executor, 20, round));
    }
    let best_raw = raw.iter().min().copied().unwrap_or_default();
    let best_ours = ours.iter().min().copied().unwrap_or_default();
    let ratio = best_ours.as_secs_f64() / best_raw.as_secs_f64() - 1.0;
    println!("steps-20: 20 x `docker run --rm {IMAGE} true`: best {best_raw:.2?} of {rounds} (all: {raw:.2?})");
    println!("steps-20: one TaskRun of 20 `true` steps:      best {best_ours:.2?} of {rounds} (all: {ours:.2?})");
    println!("steps-20: overhead over docker run: {:+.1}%", ratio * 100.0);

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
