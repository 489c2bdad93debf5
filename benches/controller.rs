//! `cargo bench --bench controller`: what `adze controller` costs per PipelineRun, against
//! kube-sim with its no-op Pod runner (`--kubelet noop`: every container exits 0 at once), so
//! that what is measured is the controller and the API traffic, not Docker.
//!
//! Each case starts a fresh kube-sim (`--audit-log`) and a fresh controller (one namespace,
//! no leader election, `--metrics-addr` on a free port), creates N PipelineRuns of M tasks
//! with one `kubectl create`, and waits until the controller's
//! `adze_controller_reconciles_total` counts N PipelineRun reconciles ended (one drives its
//! run to the end); then it checks with `kubectl` that each one Succeeded with its M
//! TaskRuns and Pods, and prints:
//!
//! - the wall time from `kubectl create` to the last run finished, and PipelineRuns per second;
//! - reconciles per second (`adze_controller_reconciles_total`, its growth over the wall time;
//!   an adze reconcile drives one run to its end, so this counts runs, not events);
//! - the controller's API requests (from the audit log: every request whose user agent is not
//!   kubectl's), per PipelineRun by verb, their rate, and the busiest second;
//! - creation to first Pod: from the audit event of a PipelineRun's create to that of its first
//!   Pod's create (the audit log's microsecond timestamps; median and max over the runs);
//! - for chains, the gap between consecutive Pods of one run (a task's Pod created → the next
//!   task's Pod created: the noop Pod completes, the TaskRun and PipelineRun are reconciled);
//! - the controller's peak resident memory (`VmHWM` of /proc/PID/status).
//!
//! Cases: `chain` (N runs, each a chain of M tasks by `runAfter`), `fan-out` (N runs: a root,
//! M−2 parallel tasks, a join), `chain-50` (one run, a 50-task chain: the shape of the
//! Tekton report this compares with). `ADZE_BENCH_RUNS` (default 20) and `ADZE_BENCH_TASKS`
//! (default 10) set N and M of the first two; an argument keeps only the cases whose name
//! holds it (`cargo bench --bench controller -- chain-50`).
//!
//! `ADZE_BENCH_BIN` names another adze binary to measure (the harness itself does no work
//! worth optimising: `cargo test --bench controller` with `ADZE_BENCH_BIN=target/release/adze`
//! measures a release build without building the bench profile).
//!
//! Needs `kubectl` on PATH. kube-sim is built beside the benchmarked adze first (`cargo build
//! --release -p kube-sim`) and started as the controller tests start it
//! (`tests/common/kube_sim.rs`). No Docker engine is used.

use std::collections::{BTreeMap, HashMap};
// Only part of the shared helper is used here.
#[allow(dead_code)]
#[path = "../tests/common/kube_sim.rs"]
mod kube_sim;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use kube_sim::Sim;

/// The namespace every case runs in (each case has its own kube-sim).
const NAMESPACE: &str = "bench";

/// The entrypoint image the controller names in Pods; the no-op runner never pulls it.
const ENTRYPOINT_IMAGE: &str = "adze-test/entrypoint:latest";

/// How long one case may take before the benchmark gives up on it.
const CASE_LIMIT: Duration = Duration::from_secs(180);

/// The shape of each PipelineRun's graph.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// t0 → t1 → … → tM−1.
    Chain,
    /// root → M−2 parallel tasks → join.
    FanOut,
}

/// One measured case.
struct Case {
    name: String,
    runs: usize,
    tasks: usize,
    shape: Shape,
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// The PipelineRuns of a case, as one multi-document YAML.
fn pipeline_runs_yaml(case: &Case) -> String {
    let step = "taskSpec: {steps: [{image: adze-test/busybox:latest, command: ['true']}]}";
    let mut tasks = String::new();
    match case.shape {
        Shape::Chain => {
            for i in 0..case.tasks {
                let after = match i {
                    0 => String::new(),
                    _ => format!(", runAfter: [t{:02}]", i - 1),
                };
                tasks.push_str(&format!("      - {{name: t{i:02}{after}, {step}}}\n"));
            }
        }
        Shape::FanOut => {
            let middle: Vec<String> = (0..case.tasks.saturating_sub(2))
                .map(|i| format!("t{i:02}"))
                .collect();
            tasks.push_str(&format!("      - {{name: root, {step}}}\n"));
            for name in &middle {
                tasks.push_str(&format!(
                    "      - {{name: {name}, runAfter: [root], {step}}}\n"
                ));
            }
            tasks.push_str(&format!(
                "      - {{name: join, runAfter: [{}], {step}}}\n",
                middle.join(", ")
            ));
        }
    }
    (0..case.runs)
        .map(|r| {
            format!(
                "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: {}\n  \
                 labels: {{adze.dev/controller: \"true\"}}\nspec:\n  pipelineSpec:\n    tasks:\n{tasks}",
                run_name(case, r)
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn run_name(case: &Case, index: usize) -> String {
    format!("{}-{index:03}", case.name)
}

/// Builds kube-sim beside the measured adze, in its profile (`cargo bench` builds only this
/// package; a kube-sim left there by an earlier build may be stale, and an up-to-date build
/// is a no-op), and has [`Sim`] start that one.
fn build_kube_sim() {
    let adze = adze();
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build.args(["build", "-q", "-p", "kube-sim"]);
    if adze.parent().and_then(Path::file_name) == Some("release".as_ref()) {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "building kube-sim failed");
    std::env::set_var("ADZE_KUBE_SIM", adze.with_file_name("kube-sim"));
}

/// A kube-sim with the no-op runner, its audit log, and what the bench asks of it.
struct Bench {
    sim: Sim,
    audit: PathBuf,
    /// Holds the audit log; removed after the kube-sim stops.
    _dir: tempfile::TempDir,
}

impl Bench {
    fn start() -> Bench {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let audit = dir.path().join("audit.log");
        let path = audit.to_str().expect("UTF-8 path");
        let sim = Sim::start_with(&["--kubelet", "noop", "--audit-log", path]);
        sim.namespace(NAMESPACE);
        Bench {
            sim,
            audit,
            _dir: dir,
        }
    }

    /// `kubectl create -f` of `yaml` in the bench namespace.
    fn create(&self, yaml: &str) {
        let path = self.sim.dir().join("runs.yaml");
        std::fs::write(&path, yaml).expect("write the objects");
        let path = path.to_str().expect("UTF-8 path");
        self.sim
            .kubectl(&["create", "--validate=false", "-n", NAMESPACE, "-f", path]);
    }

    fn list(&self, kind: &str) -> Vec<Value> {
        let out = self
            .sim
            .kubectl(&["get", kind, "-n", NAMESPACE, "-o", "json"]);
        let list: Value = serde_json::from_str(&out).expect("kubectl prints JSON");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit)
            .expect("the audit log")
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// The adze to measure: `$ADZE_BENCH_BIN` (e.g. a release build made earlier, when this
/// harness is built in another profile), else the one cargo built with this benchmark.
fn adze() -> PathBuf {
    std::env::var_os("ADZE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_adze")))
}

/// A running `adze controller`; killed when dropped.
struct Controller {
    child: Child,
    metrics: String,
    log: Arc<Mutex<String>>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Controller {
    fn start(sim: &Sim) -> Controller {
        let metrics = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(adze())
            .arg("controller")
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .args(["--namespace", NAMESPACE, "--leader-elect=false"])
            .args([
                "--entrypoint-image",
                ENTRYPOINT_IMAGE,
                "--metrics-addr",
                &metrics,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("adze controller starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready, watching) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("adze controller: reconciling") {
                    let _ = ready.send(());
                }
                let mut log = lines.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let controller = Controller {
            child,
            metrics,
            log,
        };
        if watching.recv_timeout(Duration::from_secs(30)).is_err() {
            panic!("the controller did not start:\n{}", controller.log());
        }
        controller
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Samples of `/metrics` as (series with labels, value).
    fn scrape(&self) -> HashMap<String, f64> {
        let mut stream = TcpStream::connect(&self.metrics).expect("the metrics endpoint");
        write!(
            stream,
            "GET /metrics HTTP/1.0\r\nHost: {}\r\n\r\n",
            self.metrics
        )
        .expect("send the request");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read the metrics");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                Some((series.to_owned(), value.parse().ok()?))
            })
            .collect()
    }

    /// The sum of every series of `family` whose labels contain all of `labels`.
    fn total(samples: &HashMap<String, f64>, family: &str, labels: &[&str]) -> f64 {
        samples
            .iter()
            .filter(|(series, _)| {
                series.strip_prefix(family).is_some_and(|rest| {
                    (rest.is_empty() || rest.starts_with('{'))
                        && labels.iter().all(|l| rest.contains(l))
                })
            })
            .map(|(_, v)| v)
            .sum()
    }

    /// `VmHWM` of the controller process, in KiB.
    fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status of the controller");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Microseconds since the Unix epoch of an audit timestamp (`2026-12-05T01:02:03.456789Z`).
fn micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    if b.len() < 27 || b[26] != b'Z' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?;
    Some(seconds * 1_000_000 + num(20..26)?)
}

fn median_max(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let median = values.get(values.len() / 2).copied().unwrap_or(f64::NAN);
    (median, values.last().copied().unwrap_or(f64::NAN))
}

/// What the audit log says about one case's run.
struct Traffic {
    /// The controller's requests after the runs were created, by verb.
    by_verb: BTreeMap<String, usize>,
    /// The same, by `verb resource[/subresource]`.
    by_target: BTreeMap<String, usize>,
    /// Their total.
    total: usize,
    /// The most requests the controller made within one second.
    busiest_second: usize,
    /// The user agent the controller sent.
    user_agent: String,
    /// ms from each PipelineRun's create to its first Pod's create.
    first_pod_ms: Vec<f64>,
    /// ms between consecutive Pod creates of one run (chains).
    pod_gaps_ms: Vec<f64>,
}

fn traffic(events: &[Value], case: &Case, since: usize) -> Traffic {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let is_kubectl = |e: &Value| text(&e["userAgent"]).starts_with("kubectl");
    let mut created: HashMap<String, i64> = HashMap::new();
    let mut pods: HashMap<String, Vec<i64>> = HashMap::new();
    let mut traffic = Traffic {
        by_verb: BTreeMap::new(),
        by_target: BTreeMap::new(),
        total: 0,
        busiest_second: 0,
        user_agent: String::new(),
        first_pod_ms: Vec::new(),
        pod_gaps_ms: Vec::new(),
    };
    let mut per_second: HashMap<i64, usize> = HashMap::new();
    for event in &events[since..] {
        let object = &event["objectRef"];
        let (verb, resource, name) = (
            text(&event["verb"]),
            text(&object["resource"]),
            text(&object["name"]),
        );
        let at = micros(&text(&event["requestReceivedTimestamp"]));
        if is_kubectl(event) {
            if verb == "create" && resource == "pipelineruns" {
                if let Some(done) = micros(&text(&event["stageTimestamp"])) {
                    created.insert(name, done);
                }
            }
            continue;
        }
        traffic.total += 1;
        traffic.user_agent = match text(&event["userAgent"]) {
            agent if agent.is_empty() => "none sent".into(),
            agent => agent,
        };
        *traffic.by_verb.entry(verb.clone()).or_default() += 1;
        let sub = text(&object["subresource"]);
        let target = match sub.is_empty() {
            true => format!("{verb} {resource}"),
            false => format!("{verb} {resource}/{sub}"),
        };
        *traffic.by_target.entry(target).or_default() += 1;
        if let Some(at) = at {
            *per_second.entry(at / 1_000_000).or_default() += 1;
            if verb == "create" && resource == "pods" {
                if let Some(run) = (0..case.runs)
                    .map(|r| run_name(case, r))
                    .find(|run| name.starts_with(&format!("{run}-")))
                {
                    pods.entry(run).or_default().push(at);
                }
            }
        }
    }
    traffic.busiest_second = per_second.values().copied().max().unwrap_or(0);
    for (run, mut times) in pods {
        times.sort_unstable();
        if let (Some(start), Some(first)) = (created.get(&run), times.first()) {
            traffic.first_pod_ms.push((first - start) as f64 / 1000.0);
        }
        if case.shape == Shape::Chain {
            for pair in times.windows(2) {
                traffic
                    .pod_gaps_ms
                    .push((pair[1] - pair[0]) as f64 / 1000.0);
            }
        }
    }
    traffic
}

/// Runs one case and prints its figures.
fn measure(case: &Case) {
    let bench = Bench::start();
    let controller = Controller::start(&bench.sim);
    let before = Controller::total(
        &controller.scrape(),
        "adze_controller_reconciles_total",
        &[],
    );
    let since = bench.events().len();
    let yaml = pipeline_runs_yaml(case);

    let start = Instant::now();
    bench.create(&yaml);
    // A reconcile drives its run to the end, so N finished PipelineRun reconciles are N
    // finished runs; the `adze_controller_runs` gauge can lag behind its last status write.
    let finished = |samples: &HashMap<String, f64>| {
        Controller::total(
            samples,
            "adze_controller_reconciles_total",
            &["kind=\"PipelineRun\"", "outcome=\"success\""],
        )
    };
    let samples = loop {
        let samples = controller.scrape();
        if finished(&samples) >= case.runs as f64 {
            break samples;
        }
        assert!(
            start.elapsed() < CASE_LIMIT,
            "{}: not finished after {}s ({} of {}):\n{}",
            case.name,
            CASE_LIMIT.as_secs(),
            finished(&samples),
            case.runs,
            controller.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed();
    let reconciles = Controller::total(&samples, "adze_controller_reconciles_total", &[]) - before;
    let by_kind = |kind: &str| {
        Controller::total(
            &samples,
            "adze_controller_reconciles_total",
            &[&format!("kind=\"{kind}\"")],
        )
    };
    let peak_kib = controller.peak_memory_kib();

    // The controller's word is checked against the objects.
    let runs = bench.list("pipelineruns");
    let succeeded = runs
        .iter()
        .filter(|r| {
            r["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Succeeded" && c["status"] == "True")
            })
        })
        .count();
    assert_eq!(
        succeeded, case.runs,
        "{}: not every run succeeded",
        case.name
    );
    let (task_runs, pods) = (bench.list("taskruns").len(), bench.list("pods").len());
    assert_eq!(task_runs, case.runs * case.tasks, "{}: TaskRuns", case.name);
    assert_eq!(pods, case.runs * case.tasks, "{}: Pods", case.name);
    drop(controller);
    let traffic = traffic(&bench.events(), case, since);

    let n = case.runs as f64;
    let secs = wall.as_secs_f64();
    let label = &case.name;
    println!(
        "{label}: {} PipelineRuns x {} tasks ({:?}), {} TaskRuns and Pods, all Succeeded",
        case.runs, case.tasks, case.shape, task_runs
    );
    println!(
        "{label}: wall {secs:.2} s (kubectl create -> last run finished); {:.2} PipelineRuns/s, {:.1} TaskRuns/s",
        n / secs,
        task_runs as f64 / secs
    );
    println!(
        "{label}: reconciles {reconciles:.0} ({:.0} PipelineRun, {:.0} TaskRun): {:.1}/s, {:.1} per PipelineRun \
         (an adze reconcile drives its run to the end: not Tekton's one pass per event)",
        by_kind("PipelineRun"),
        by_kind("TaskRun"),
        reconciles / secs,
        reconciles / n
    );
    let verbs: Vec<String> = traffic
        .by_verb
        .iter()
        .map(|(v, c)| format!("{v} {:.1}", *c as f64 / n))
        .collect();
    println!(
        "{label}: API requests {} ({:.1} per PipelineRun: {}); {:.1}/s, busiest second {} (user agent: {})",
        traffic.total,
        traffic.total as f64 / n,
        verbs.join(", "),
        traffic.total as f64 / secs,
        traffic.busiest_second,
        traffic.user_agent
    );
    let targets: Vec<String> = traffic
        .by_target
        .iter()
        .map(|(t, c)| format!("{t} {c}"))
        .collect();
    println!("{label}: requests by target: {}", targets.join(", "));
    let mut first = traffic.first_pod_ms.clone();
    let (median, max) = median_max(&mut first);
    println!(
        "{label}: PipelineRun created -> its first Pod created: median {median:.1} ms, max {max:.1} ms over {} runs",
        first.len()
    );
    if case.shape == Shape::Chain {
        let mut gaps = traffic.pod_gaps_ms.clone();
        let (median, max) = median_max(&mut gaps);
        println!(
            "{label}: chain step (a task's Pod created -> the next task's Pod created): median {median:.1} ms, max {max:.1} ms over {} edges",
            gaps.len()
        );
    }
    println!(
        "{label}: controller peak RSS (VmHWM) {:.1} MiB",
        peak_kib as f64 / 1024.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; another argument keeps only the cases whose name holds it.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |case: &str| filter.is_empty() || filter.iter().any(|f| case.contains(f.as_str()));
    build_kube_sim();
    let runs = env_number("ADZE_BENCH_RUNS", 20);
    let tasks = env_number("ADZE_BENCH_TASKS", 10).max(3);
    let cases = [
        Case {
            name: "chain".into(),
            runs,
            tasks,
            shape: Shape::Chain,
        },
        Case {
            name: "fan-out".into(),
            runs,
            tasks,
            shape: Shape::FanOut,
        },
        Case {
            name: "chain-50".into(),
            runs: 1,
            tasks: 50,
            shape: Shape::Chain,
        },
    ];
    for case in cases.iter().filter(|c| wanted(&c.name)) {
        measure(case);
    }
    println!(
        "reference (Tekton, not measured here): its controller's client defaults to 5 QPS \
         with a burst of 10 towards the API server (-kube-api-qps, -kube-api-burst); \
         tektoncd/pipeline#3521 (v0.17, 2020) reported a pipeline of 50 tasks chained by \
         params and results taking about a minute before its first Pod (40 tasks: 10 s, \
         60 tasks: 41 min). The chains here use runAfter, not results."
    );
}
