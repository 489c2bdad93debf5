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
//! - `steps-10`: one TaskRun of 10 `true` steps through the executor, its steps started one
//!   by one (`ADZE_STEPS_AT_ONCE=0`) and all at once, ordered by the static entrypoint
//!   (issue 8, point 4), against 10 sequential `docker run --rm IMAGE true`, interleaved
//!   round by round. Each side's mean, standard deviation and range over the rounds, and the
//!   ratios to `docker run`: of the means, of the median round, and per round. The static
//!   entrypoint is `$ADZE_ENTRYPOINT`, else built into `<target>/static-entrypoint` as
//!   tests/setup-docker.sh builds it. The other cases run the executor as configured by the
//!   environment (at once when `$ADZE_ENTRYPOINT` names the static build).
//!
//! - `timeout-2s`: a TaskRun with a 2 s timeout whose one step sleeps 60 s: how long after
//!   the timeout it ends (its container stopped and the event delivered), median and max over
//!   at least 5 rounds.
//!
//! `cargo bench --bench executor -- steps-10` runs only the cases whose name holds the word.
//! `ADZE_BENCH_ROUNDS` sets the rounds (default 3; `steps-10` runs at least 5); the best round
//! of each side is reported for the first two cases. On a shared machine take the ratios, not
//! the absolute times: the sides of one round run back to back under the same load.

use std::collections::HashMap;
use std::path::PathBuf;
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
            .args(["run", "--rm", "--pull", "never", IMAGE, "true"])
            .status()
            .expect("docker CLI runs");
        assert!(status.success(), "docker run failed");
    }
    start.elapsed()
}

/// A TaskRun named `name` of `steps`, each running `command` in [`IMAGE`].
fn request(name: String, steps: usize, command: &[&str]) -> TaskRunRequest {
    TaskRunRequest {
        name,
        pipeline_task: "bench".into(),
        parent_tasks: Vec::new(),
        finally: false,
        params: Vec::new(),
        steps: (0..steps)
            .map(|i| StepPlan {
                name: format!("s{i}"),
                image: IMAGE.into(),
                command: command.iter().map(|c| (*c).to_owned()).collect(),
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
    }
}

/// Runs `request` to its end: how long it took and how it ended.
fn run_to_end(executor: &mut DockerExecutor, request: &TaskRunRequest) -> (Duration, ExecOutcome) {
    let start = Instant::now();
    executor.start(request).expect("starts");
    loop {
        executor.wait(Duration::from_millis(50));
        let events = executor.poll(Timestamp(0));
        if let Some(e) = events.into_iter().next() {
            return (start.elapsed(), e.outcome);
        }
    }
}

fn adze_steps(executor: &mut DockerExecutor, n: usize, round: usize) -> Duration {
    let (took, outcome) = run_to_end(
        executor,
        &request(format!("bench-steps-{round}"), n, &["true"]),
    );
    assert_eq!(outcome, ExecOutcome::Succeeded);
    took
}

/// `timeout-2s`: how long after its 2 s timeout a TaskRun whose step sleeps 60 s ends (its
/// container stopped, the event delivered); the tests only check that it ends at the timeout
/// and long before the step would.
fn timeout_2s(executor: &mut DockerExecutor, rounds: usize) {
    let timeout = Duration::from_secs(2);
    let mut late: Vec<Duration> = (1..=rounds)
        .map(|round| {
            let mut request = request(format!("bench-timeout-{round}"), 1, &["sleep", "60"]);
            request.timeout = Some(adze::api::GoDuration::parse("2s").expect("duration"));
            let (took, outcome) = run_to_end(executor, &request);
            assert!(
                matches!(&outcome, ExecOutcome::Failed { reason, .. } if reason == "TaskRunTimeout"),
                "{outcome:?}"
            );
            took.saturating_sub(timeout)
        })
        .collect();
    late.sort_unstable();
    let median = late[late.len() / 2];
    let max = late[late.len() - 1];
    println!(
        "timeout-2s: ended after its 2 s timeout by: median {median:.2?}, max {max:.2?} over {rounds} rounds (all: {late:.2?})"
    );
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

/// `steps-10`: sequential `docker run`, and the executor with steps one by one and at once,
/// interleaved round by round.
fn steps_10(executor: &mut DockerExecutor, rounds: usize) {
    // The executor reads both variables when a TaskRun starts.
    std::env::set_var("ADZE_ENTRYPOINT", static_entrypoint());
    let mut side = |at_once: bool, round: usize| {
        std::env::set_var("ADZE_STEPS_AT_ONCE", if at_once { "1" } else { "0" });
        adze_steps(executor, 10, round)
    };
    side(true, 0);
    let (mut raw, mut one_by_one, mut at_once) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        raw.push(docker_runs(10));
        one_by_one.push(side(false, 100 + round));
        at_once.push(side(true, 200 + round));
    }
    println!("steps-10: {rounds} rounds, sides interleaved within each round");
    report(&format!("10 x `docker run --rm {IMAGE} true`"), &raw, &raw);
    report("one TaskRun of 10 steps, one by one", &one_by_one, &raw);
    report("one TaskRun of 10 steps, all at once", &at_once, &raw);
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
    if wanted("timeout-2s") {
        timeout_2s(&mut executor, rounds.max(5));
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
