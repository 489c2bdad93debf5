//! `cargo bench --bench plan`: time and peak heap of load + validate + plan.
//!
//! Cases:
//! - `pipeline-N` (N = 100, 1,000, 10,000): one Pipeline of N tasks with embedded taskSpecs,
//!   each task consuming the `out` result of up to 3 earlier tasks, plus a PipelineRun.
//! - `multi-doc-1MB`: one ~1 MB file of many Tasks, Pipelines (taskRef, runAfter, when,
//!   finally, workspaces, results) and PipelineRuns, all planned.
//!
//! No criterion: a warm-up iteration, then K timed iterations per case; min and median per
//! phase. Peak heap comes from a counting global allocator, switched on for one extra
//! untimed iteration per case (peak − baseline, the input text's copy included).
//!
//! Set `ADZE_BENCH_ONLY=<case name>` to run a single case (e.g. under `perf record`).
//! Set `ADZE_BENCH_WRITE=<dir>` to write each case's input to `<dir>/<case name>.yaml` and
//! exit without measuring: the files whole-process timings of `adze plan` and `adze validate`
//! run on (README, Performance).

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use adze::load::{Bundle, Origin};
use adze::plan::{plan, runs};
use adze::validate::{validate, Flags};

// ---------------------------------------------------------------------------------------------
// Counting allocator

struct Counting;

/// Counting is on only while measuring peak heap, so timed iterations pay no atomics.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since counting was switched on (may dip below zero
/// when memory allocated before is freed).
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

#[inline]
fn grow(n: usize) {
    if ENABLED.load(Ordering::Relaxed) {
        let now = CURRENT.fetch_add(n as isize, Ordering::Relaxed) + n as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

#[inline]
fn shrink(n: usize) {
    if ENABLED.load(Ordering::Relaxed) {
        CURRENT.fetch_sub(n as isize, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                grow(new_size - layout.size());
            } else {
                shrink(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap figures per phase of the counted iteration, in bytes above the baseline.
#[derive(Default, Clone, Copy)]
struct Heap {
    /// Highest live bytes while loading / validating / planning.
    peak_load: isize,
    peak_validate: isize,
    peak_plan: isize,
    /// Live bytes once loaded (what the Bundle keeps, input text included).
    bundle: isize,
}

/// At a phase boundary: the phase's peak so far, then restart the peak from live bytes.
fn phase_mark() -> (isize, isize) {
    let peak = PEAK.load(Ordering::SeqCst);
    let now = CURRENT.load(Ordering::SeqCst);
    PEAK.store(now, Ordering::SeqCst);
    (peak, now)
}

/// Runs `f` with allocation counting on; returns its value and the peak of live heap bytes
/// above what was live when it started (the baseline).
fn with_peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    CURRENT.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    ENABLED.store(true, Ordering::SeqCst);
    let value = f();
    ENABLED.store(false, Ordering::SeqCst);
    (value, PEAK.load(Ordering::SeqCst).max(0) as usize)
}

// ---------------------------------------------------------------------------------------------
// Generated inputs

/// The earlier tasks task `i` consumes: i-1, i/2, i/3 when distinct and < i.
fn deps(i: usize) -> Vec<usize> {
    let mut d: Vec<usize> = Vec::with_capacity(3);
    if i == 0 {
        return d;
    }
    for j in [i - 1, i / 2, i / 3] {
        if j < i && !d.contains(&j) {
            d.push(j);
        }
    }
    d
}

/// One Pipeline of `n` tasks with embedded taskSpecs wired by results, and a PipelineRun.
fn generated_pipeline(n: usize) -> String {
    let mut s = String::with_capacity(n * 520 + 512);
    let name = format!("gen-{n}");
    let _ = write!(
        s,
        "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata:\n  name: {name}\nspec:\n  tasks:\n"
    );
    for i in 0..n {
        let d = deps(i);
        let _ = writeln!(s, "  - name: t{i}");
        if !d.is_empty() {
            s.push_str("    params:\n");
            for (k, j) in d.iter().enumerate() {
                let _ = write!(
                    s,
                    "    - name: in{k}\n      value: $(tasks.t{j}.results.out)\n"
                );
            }
        }
        s.push_str("    taskSpec:\n");
        if !d.is_empty() {
            s.push_str("      params:\n");
            for k in 0..d.len() {
                let _ = write!(s, "      - name: in{k}\n        type: string\n");
            }
        }
        s.push_str("      results:\n      - name: out\n        type: string\n");
        s.push_str("      steps:\n      - name: run\n        image: busybox\n        script: |\n");
        let _ = writeln!(s, "          #!/bin/sh");
        for k in 0..d.len() {
            let _ = writeln!(s, "          echo \"in{k}=$(params.in{k})\"");
        }
        let _ = writeln!(s, "          printf 't{i}' > $(results.out.path)");
    }
    let _ = write!(
        s,
        "---\napiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n  name: {name}-run\nspec:\n  pipelineRef:\n    name: {name}\n"
    );
    s
}

/// A realistic multi-document file of about `target` bytes: groups of 4 Tasks, a Pipeline
/// using them (taskRef, runAfter, when, finally, workspaces, pipeline results), and 2
/// PipelineRuns of it, repeated.
fn multi_document(target: usize) -> (String, usize) {
    let mut s = String::with_capacity(target + 16 * 1024);
    let mut g = 0;
    while s.len() < target {
        multi_group(&mut s, g);
        g += 1;
    }
    (s, g)
}

fn multi_group(s: &mut String, g: usize) {
    // Tasks
    let _ = write!(
        s,
        r#"---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: clone-{g}
  labels:
    app.kubernetes.io/version: "0.{g}"
  annotations:
    tekton.dev/displayName: "git clone {g}"
spec:
  description: Clones a repository into the source workspace.
  params:
  - name: url
    type: string
    description: Repository URL.
  - name: revision
    type: string
    default: main
  - name: depth
    type: string
    default: "1"
  workspaces:
  - name: source
    description: Where the repository is cloned.
  results:
  - name: commit
    description: The commit cloned.
  - name: url
    description: The URL cloned.
  steps:
  - name: clone
    image: alpine/git:2.45.2
    workingDir: $(workspaces.source.path)
    env:
    - name: GIT_URL
      value: $(params.url)
    - name: GIT_REVISION
      value: $(params.revision)
    script: |
      #!/bin/sh
      set -eu
      git init -q .
      git fetch --depth "$(params.depth)" "$GIT_URL" "$GIT_REVISION"
      git checkout -q FETCH_HEAD
      git rev-parse HEAD | tr -d '\n' > $(results.commit.path)
      printf '%s' "$GIT_URL" > $(results.url.path)
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build-{g}
spec:
  params:
  - name: commit
    type: string
  - name: flags
    type: array
    default: ["-v", "-trimpath"]
  - name: goos
    type: string
    default: linux
  workspaces:
  - name: source
  - name: cache
    optional: true
  results:
  - name: digest
  stepTemplate:
    env:
    - name: GOOS
      value: $(params.goos)
    - name: CGO_ENABLED
      value: "0"
  steps:
  - name: build
    image: golang:1.23
    workingDir: $(workspaces.source.path)
    command: ["go"]
    args: ["build", "$(params.flags[*])", "-o", "bin/app", "./..."]
  - name: digest
    image: busybox
    workingDir: $(workspaces.source.path)
    script: |
      #!/bin/sh
      echo "built $(params.commit)"
      sha256sum bin/app | cut -d' ' -f1 | tr -d '\n' > $(results.digest.path)
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: test-{g}
spec:
  params:
  - name: packages
    type: string
    default: ./...
  - name: timeout
    type: string
    default: 10m
  workspaces:
  - name: source
    readOnly: true
  results:
  - name: passed
  - name: report
  steps:
  - name: unit
    image: golang:1.23
    workingDir: $(workspaces.source.path)
    timeout: 15m
    script: |
      #!/bin/sh
      set -e
      go test -timeout $(params.timeout) $(params.packages) | tee /tmp/report.txt
      printf 'true' > $(results.passed.path)
      tail -n 20 /tmp/report.txt > $(results.report.path)
  - name: vet
    image: golang:1.23
    workingDir: $(workspaces.source.path)
    onError: continue
    command: ["go", "vet", "$(params.packages)"]
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: notify-{g}
spec:
  params:
  - name: status
    type: string
  - name: message
    type: string
    default: ""
  steps:
  - name: send
    image: curlimages/curl:8.8.0
    env:
    - name: STATUS
      value: $(params.status)
    script: |
      #!/bin/sh
      echo "pipeline finished: $STATUS $(params.message)"
"#
    );
    // Pipeline
    let _ = write!(
        s,
        r#"---
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: ci-{g}
  labels:
    team: platform
spec:
  description: Clone, build, test and notify.
  params:
  - name: repo-url
    type: string
  - name: revision
    type: string
    default: main
  - name: run-tests
    type: string
    default: "true"
  - name: build-flags
    type: array
    default: ["-v"]
  workspaces:
  - name: shared
  - name: gocache
    optional: true
  results:
  - name: commit
    value: $(tasks.clone.results.commit)
  - name: digest
    value: $(tasks.build.results.digest)
  tasks:
  - name: clone
    taskRef:
      name: clone-{g}
    params:
    - name: url
      value: $(params.repo-url)
    - name: revision
      value: $(params.revision)
    workspaces:
    - name: source
      workspace: shared
  - name: build
    taskRef:
      name: build-{g}
    retries: 1
    timeout: 30m
    params:
    - name: commit
      value: $(tasks.clone.results.commit)
    - name: flags
      value: ["$(params.build-flags[*])"]
    workspaces:
    - name: source
      workspace: shared
    - name: cache
      workspace: gocache
  - name: test
    taskRef:
      name: test-{g}
    runAfter: ["clone"]
    when:
    - input: $(params.run-tests)
      operator: in
      values: ["true"]
    workspaces:
    - name: source
      workspace: shared
  - name: lint
    runAfter: ["clone"]
    taskSpec:
      workspaces:
      - name: source
      steps:
      - name: lint
        image: golangci/golangci-lint:v1.59
        workingDir: $(workspaces.source.path)
        script: |
          golangci-lint run --timeout 5m ./...
    workspaces:
    - name: source
      workspace: shared
  finally:
  - name: notify
    taskRef:
      name: notify-{g}
    params:
    - name: status
      value: $(tasks.status)
    - name: message
      value: "build $(tasks.build.status), test $(tasks.test.status)"
"#
    );
    // PipelineRuns
    for r in 0..2 {
        let _ = write!(
            s,
            r#"---
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: ci-{g}-run-{r}
  labels:
    trigger: push
spec:
  pipelineRef:
    name: ci-{g}
  params:
  - name: repo-url
    value: https://github.com/example/service-{g}.git
  - name: revision
    value: release-{r}
  - name: build-flags
    value: ["-v", "-race"]
  timeouts:
    pipeline: 1h
    tasks: 50m
    finally: 10m
  workspaces:
  - name: shared
    emptyDir: {{}}
  - name: gocache
    persistentVolumeClaim:
      claimName: gocache-{g}
  taskRunTemplate:
    serviceAccountName: ci-bot
"#
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Measurement

struct Case {
    name: String,
    tasks: usize,
    docs: usize,
    text: String,
    /// Fewest timed iterations.
    min_iters: usize,
}

/// Measuring time per case to aim for.
const BUDGET: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Sample {
    load: Duration,
    validate: Duration,
    plan: Duration,
    total: Duration,
}

struct Outcome {
    samples: Vec<Sample>,
    peak_bytes: usize,
    heap: Heap,
    runs: usize,
}

/// One load + validate + plan; panics on any error.
/// With `heap`, also records per-phase heap figures (only meaningful while counting).
fn once(case: &Case, heap: Option<&mut Heap>) -> (Sample, usize) {
    let text = case.text.clone();
    let t0 = Instant::now();
    let mut b = Bundle::new();
    b.add_source("gen.yaml", text, Origin::Input);
    let t1 = Instant::now();
    let after_load = heap.is_some().then(phase_mark);
    let diags = validate(&b, &Flags::default());
    let t2 = Instant::now();
    let after_validate = heap.is_some().then(phase_mark);
    let rs = runs(&b);
    let n = rs.len();
    let mut plans = Vec::with_capacity(n);
    for r in rs {
        match plan(&b, r) {
            Ok(p) => plans.push(p),
            Err(e) => panic!("{}: plan failed: {e}", case.name),
        }
    }
    let t3 = Instant::now();
    if let (Some(h), Some((peak_load, bundle)), Some((peak_validate, _))) =
        (heap, after_load, after_validate)
    {
        *h = Heap {
            peak_load,
            peak_validate,
            peak_plan: PEAK.load(Ordering::SeqCst),
            bundle,
        };
    }
    let errors: Vec<_> = b
        .diagnostics
        .iter()
        .chain(diags.iter())
        .filter(|d| d.is_error())
        .collect();
    if !errors.is_empty() {
        panic!(
            "{}: {} error diagnostics, first: {:?}",
            case.name,
            errors.len(),
            errors[0]
        );
    }
    assert!(n > 0, "{}: no runs to plan", case.name);
    std::hint::black_box(&plans);
    drop(plans);
    drop(diags);
    drop(b);
    (
        Sample {
            load: t1 - t0,
            validate: t2 - t1,
            plan: t3 - t2,
            total: t3 - t0,
        },
        n,
    )
}

fn measure(case: &Case) -> Outcome {
    // Warm-up (untimed), then one iteration with allocation counting for the peak heap;
    // the timed iterations run with counting off.
    let (warm, _) = once(case, None);
    let mut heap = Heap::default();
    let ((_, runs), peak_bytes) = with_peak(|| once(case, Some(&mut heap)));
    // K: enough iterations for about BUDGET of measuring, within [min_iters, 200].
    let k = (BUDGET.as_secs_f64() / warm.total.as_secs_f64().max(1e-6)).ceil() as usize;
    let k = k.clamp(case.min_iters, 200);
    let samples = (0..k).map(|_| once(case, None).0).collect();
    Outcome {
        samples,
        peak_bytes,
        heap,
        runs,
    }
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let min = v[0];
    let mid = v.len() / 2;
    let median = if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2
    };
    (min, median)
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 100.0 {
        format!("{ms:.0}")
    } else if ms >= 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.2}")
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.2} MB", bytes as f64 / (1 << 20) as f64)
    } else {
        format!("{} KB", (bytes + 512) / 1024)
    }
}

// ---------------------------------------------------------------------------------------------
// Machine

fn machine() {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into());
    println!("machine: nproc={nproc}; cpu: {cpu}; {rustc}");
    println!(
        "build: {} profile",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}

// ---------------------------------------------------------------------------------------------

/// Writes each case's input as `<dir>/<case name>.yaml`.
fn write_inputs(cases: &[Case], dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    for case in cases {
        let path = dir.join(format!("{}.yaml", case.name));
        std::fs::write(&path, &case.text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        println!("wrote {} ({})", path.display(), size(case.text.len()));
    }
}

// ---------------------------------------------------------------------------------------------

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let only = std::env::var("ADZE_BENCH_ONLY").ok();
    machine();

    let mut cases = Vec::new();
    for n in [100, 1_000, 10_000] {
        cases.push(Case {
            name: format!("pipeline-{n}"),
            tasks: n,
            docs: 2,
            text: generated_pipeline(n),
            min_iters: if n >= 10_000 { 3 } else { 5 },
        });
    }
    let (text, groups) = multi_document(1 << 20);
    cases.push(Case {
        name: "multi-doc-1MB".into(),
        tasks: groups * 5,
        docs: groups * 7,
        text,
        min_iters: 5,
    });
    if let Some(only) = &only {
        cases.retain(|c| &c.name == only);
        assert!(!cases.is_empty(), "no case named {only}");
    }
    if let Some(dir) = std::env::var_os("ADZE_BENCH_WRITE") {
        write_inputs(&cases, std::path::Path::new(&dir));
        return;
    }

    println!();
    println!(
        "{:<15} {:>6} {:>5} {:>9} {:>5} | {:>17} {:>17} {:>17} {:>17} | {:>10}",
        "case", "tasks", "docs", "bytes", "iters", "load", "validate", "plan", "total", "peak heap"
    );
    println!(
        "{:<15} {:>6} {:>5} {:>9} {:>5} | {:>17} {:>17} {:>17} {:>17} | {:>10}",
        "", "", "", "", "", "min / med ms", "min / med ms", "min / med ms", "min / med ms", "MB"
    );
    println!("{}", "-".repeat(146));

    let mut results: Vec<(String, usize, Duration, usize)> = Vec::new();
    let mut heaps: Vec<(String, usize, Heap)> = Vec::new();
    for case in &cases {
        let o = measure(case);
        let col = |f: fn(&Sample) -> Duration| {
            let (min, med) = stats(o.samples.iter().map(f).collect());
            format!("{} / {}", ms(min), ms(med))
        };
        let (_, total_med) = stats(o.samples.iter().map(|s| s.total).collect());
        println!(
            "{:<15} {:>6} {:>5} {:>9} {:>5} | {:>17} {:>17} {:>17} {:>17} | {:>10.1}",
            case.name,
            case.tasks,
            case.docs,
            size(case.text.len()),
            o.samples.len(),
            col(|s| s.load),
            col(|s| s.validate),
            col(|s| s.plan),
            col(|s| s.total),
            o.peak_bytes as f64 / (1 << 20) as f64,
        );
        if case.name.starts_with("multi") {
            println!("{:<15} ({} runs planned)", "", o.runs);
        }
        results.push((case.name.clone(), case.tasks, total_med, o.peak_bytes));
        heaps.push((case.name.clone(), case.text.len(), o.heap));
    }

    let mb = |b: isize| b as f64 / (1 << 20) as f64;
    println!();
    println!("heap by phase, MB above the baseline (one counted iteration; the input text's copy is included)");
    println!(
        "{:<15} {:>9} {:>13} {:>13} {:>13} {:>13} {:>16}",
        "case", "input", "peak: load", "validate", "plan", "kept by Bundle", "Bundle / input"
    );
    for (name, len, h) in &heaps {
        println!(
            "{:<15} {:>9.2} {:>13.1} {:>13.1} {:>13.1} {:>13.1} {:>15.1}x",
            name,
            *len as f64 / (1 << 20) as f64,
            mb(h.peak_load),
            mb(h.peak_validate),
            mb(h.peak_plan),
            mb(h.bundle),
            h.bundle as f64 / *len as f64,
        );
    }

    let get = |name: &str| results.iter().find(|r| r.0 == name);
    println!();
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    if let (Some(a), Some(b)) = (get("pipeline-100"), get("pipeline-1000")) {
        let r = b.2.as_secs_f64() / a.2.as_secs_f64();
        println!("ratio total(1000)/total(100)   = {r:.2}  (medians)");
    }
    if let (Some(a), Some(b)) = (get("pipeline-1000"), get("pipeline-10000")) {
        let r = b.2.as_secs_f64() / a.2.as_secs_f64();
        println!("ratio total(10000)/total(1000) = {r:.2}  (medians)");
    }
    println!();
    if let Some(b) = get("pipeline-1000") {
        println!(
            "{}  1,000 tasks in <= 50 ms            (median {} ms)",
            verdict(b.2 <= Duration::from_millis(50)),
            ms(b.2)
        );
    }
    if let Some(c) = get("pipeline-10000") {
        println!(
            "{}  10,000 tasks in <= 1 s             (median {} ms)",
            verdict(c.2 <= Duration::from_secs(1)),
            ms(c.2)
        );
    }
    if let (Some(b), Some(c)) = (get("pipeline-1000"), get("pipeline-10000")) {
        let r = c.2.as_secs_f64() / b.2.as_secs_f64();
        println!(
            "{}  growth: 10x tasks costs <= 12x time (10000/1000 = {r:.2}x)",
            verdict(r <= 12.0)
        );
    }
    if let Some(c) = get("pipeline-10000") {
        let mb = c.3 as f64 / (1 << 20) as f64;
        println!(
            "{}  peak heap for 10,000 tasks <= 200 MB ({mb:.1} MB)",
            verdict(c.3 <= 200 << 20)
        );
    }
}
