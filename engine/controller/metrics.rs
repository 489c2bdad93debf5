//! The controller's Prometheus metrics: a fixed set of counters, gauges and one histogram,
//! rendered in the text exposition format 0.0.4 for `GET /metrics`.
//!
//! # Design
//!
//! Every label of every series comes from a closed enum ([`Kind`], [`Outcome`], [`RunStatus`]),
//! so the registry is a few arrays of atomics indexed by those enums: no map, no lock on the
//! reconcile path, and every series exists (at 0) from the start, so a dashboard's `rate()`
//! never sees a series appear. A histogram keeps one counter per bucket and its sum in
//! nanoseconds; [`Metrics::render`] makes the buckets cumulative as the format requires.
//!
//! | series | type | labels |
//! | --- | --- | --- |
//! | `adze_controller_reconciles_total` | counter | `kind`, `outcome` |
//! | `adze_controller_reconcile_duration_seconds` | histogram | `kind` |
//! | `adze_controller_runs` | gauge | `kind`, `status` |
//! | `adze_controller_running_taskruns` | gauge | |
//! | `adze_controller_workqueue_depth` | gauge | |
//! | `adze_controller_is_leader` | gauge | |
//!
//! `adze_controller_runs` is set from a [`RunCounts`] snapshot the controller takes of its
//! cache, not counted up and down, so it cannot drift from the objects.
//!
//! # Invariants
//!
//! - The rendering is valid exposition format 0.0.4: one `# HELP` and `# TYPE` per family,
//!   label values escaped (`\\`, `\"`, `\n`), histogram buckets cumulative and ending at
//!   `le="+Inf"` equal to `_count`.
//! - Recording never blocks and never fails.
//!
//! # Not yet
//!
//! - No process metrics (`process_resident_memory_bytes`, …) and no kube-rs client metrics.

use crate::prometheus::{family, sample, Histogram};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the reconcile duration buckets, in seconds (Prometheus' defaults).
pub const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The kind of run a reconcile was about: the controller's own `RunKind`.
pub use super::objects::RunKind as Kind;

/// How a reconcile ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; the run waits for its next change.
    Success,
    /// Done for now; the run is to be looked at again after a delay (a timeout to watch).
    Requeue,
    /// Failed; the run is retried with backoff.
    Error,
}

impl Outcome {
    /// Every outcome, in rendering order.
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Requeue, Outcome::Error];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Requeue => "requeue",
            Outcome::Error => "error",
        }
    }
}

/// Where a run stands, from its `Succeeded` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// No condition yet, or held back by `spec.status` (`PipelineRunPending`,
    /// `TaskRunPending`).
    Pending,
    /// `Unknown`: started, not finished (a TaskRun whose Pod waits for a node included).
    Running,
    /// `True`.
    Succeeded,
    /// `False` for any reason other than a cancel.
    Failed,
    /// `False` because it was cancelled (`Cancelled`, `StoppedRunFinally`, …).
    Cancelled,
}

impl RunStatus {
    /// Every status, in rendering order.
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ];

    /// The status of a run whose `Succeeded` condition has `status` and `reason` (both
    /// `None` when it has no such condition yet).
    pub fn from_condition(status: Option<&str>, reason: Option<&str>) -> RunStatus {
        match (status, reason.unwrap_or_default()) {
            (Some("True"), _) => RunStatus::Succeeded,
            // PipelineRuns end `Cancelled` (hard or graceful), TaskRuns `TaskRunCancelled`;
            // `PipelineRunCancelled` is the v1beta1 spelling still found on old objects.
            (Some("False"), "Cancelled" | "TaskRunCancelled" | "PipelineRunCancelled") => {
                RunStatus::Cancelled
            }
            (Some("False"), _) => RunStatus::Failed,
            (Some(_), "PipelineRunPending" | "TaskRunPending") | (None, _) => RunStatus::Pending,
            (Some(_), _) => RunStatus::Running,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "Pending",
            RunStatus::Running => "Running",
            RunStatus::Succeeded => "Succeeded",
            RunStatus::Failed => "Failed",
            RunStatus::Cancelled => "Cancelled",
        }
    }
}

/// How many runs of each kind are in each status: one snapshot of the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunCounts {
    counts: [[i64; RunStatus::ALL.len()]; Kind::ALL.len()],
}

impl RunCounts {
    /// Counts one more run of `kind` in `status`.
    pub fn add(&mut self, kind: Kind, status: RunStatus) {
        self.counts[kind as usize][status as usize] += 1;
    }

    /// How many runs of `kind` are in `status`.
    pub fn get(&self, kind: Kind, status: RunStatus) -> i64 {
        self.counts[kind as usize][status as usize]
    }
}

/// The registry; share it behind an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    reconciles: [[AtomicU64; Outcome::ALL.len()]; Kind::ALL.len()],
    durations: [Histogram; Kind::ALL.len()],
    runs: [[AtomicI64; RunStatus::ALL.len()]; Kind::ALL.len()],
    running_task_runs: AtomicI64,
    workqueue_depth: AtomicI64,
    is_leader: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// An empty registry: every series at 0.
    pub fn new() -> Metrics {
        Metrics {
            reconciles: Default::default(),
            durations: Kind::ALL.map(|_| Histogram::new(&DURATION_BUCKETS)),
            runs: Default::default(),
            running_task_runs: AtomicI64::new(0),
            workqueue_depth: AtomicI64::new(0),
            is_leader: AtomicBool::new(false),
        }
    }

    /// Counts one reconcile of a `kind` that ended with `outcome` after `elapsed`.
    pub fn record_reconcile(&self, kind: Kind, outcome: Outcome, elapsed: Duration) {
        self.reconciles[kind as usize][outcome as usize].fetch_add(1, Ordering::Relaxed);
        self.durations[kind as usize].observe(elapsed);
    }

    /// Replaces the runs-by-status gauges with `counts`.
    pub fn set_runs(&self, counts: &RunCounts) {
        for kind in Kind::ALL {
            for status in RunStatus::ALL {
                self.runs[kind as usize][status as usize]
                    .store(counts.get(kind, status), Ordering::Relaxed);
            }
        }
    }

    /// Sets how many TaskRuns have a running Pod.
    pub fn set_running_task_runs(&self, n: i64) {
        self.running_task_runs.store(n, Ordering::Relaxed);
    }

    /// Sets how many runs wait in the work queue.
    pub fn set_workqueue_depth(&self, n: i64) {
        self.workqueue_depth.store(n, Ordering::Relaxed);
    }

    /// Sets whether this replica holds the Lease.
    pub fn set_leader(&self, leading: bool) {
        self.is_leader.store(leading, Ordering::Relaxed);
    }

    /// The registry in the text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "adze_controller_reconciles_total",
            "counter",
            "Reconciles of runs, by kind and outcome.",
        );
        for kind in Kind::ALL {
            for outcome in Outcome::ALL {
                let value =
                    self.reconciles[kind as usize][outcome as usize].load(Ordering::Relaxed);
                sample(
                    &mut out,
                    "adze_controller_reconciles_total",
                    &[("kind", kind.as_str()), ("outcome", outcome.as_str())],
                    value,
                );
            }
        }
        let name = "adze_controller_reconcile_duration_seconds";
        family(
            &mut out,
            name,
            "histogram",
            "Time one reconcile of a run took, in seconds.",
        );
        for kind in Kind::ALL {
            self.durations[kind as usize].render(&mut out, name, &[("kind", kind.as_str())]);
        }
        family(
            &mut out,
            "adze_controller_runs",
            "gauge",
            "Runs the controller sees, by kind and status.",
        );
        for kind in Kind::ALL {
            for status in RunStatus::ALL {
                let value = self.runs[kind as usize][status as usize].load(Ordering::Relaxed);
                sample(
                    &mut out,
                    "adze_controller_runs",
                    &[("kind", kind.as_str()), ("status", status.as_str())],
                    value,
                );
            }
        }
        let gauges = [
            (
                "adze_controller_running_taskruns",
                "TaskRuns whose Pod is running.",
                self.running_task_runs.load(Ordering::Relaxed),
            ),
            (
                "adze_controller_workqueue_depth",
                "Runs waiting in the work queue.",
                self.workqueue_depth.load(Ordering::Relaxed),
            ),
            (
                "adze_controller_is_leader",
                "1 when this replica holds the leader Lease, else 0.",
                i64::from(self.is_leader.load(Ordering::Relaxed)),
            ),
        ];
        for (name, help, value) in gauges {
            family(&mut out, name, "gauge", help);
            sample(&mut out, name, &[], value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix} in\n{text}"))
    }

    #[test]
    fn buckets_are_cumulative_and_inf_equals_count() {
        let metrics = Metrics::new();
        for ms in [1, 7, 7, 300, 20_000] {
            metrics.record_reconcile(Kind::TaskRun, Outcome::Success, Duration::from_millis(ms));
        }
        let text = metrics.render();
        let b = |le: &str| {
            line(
                &text,
                &format!(
                    "adze_controller_reconcile_duration_seconds_bucket{{kind=\"TaskRun\",le=\"{le}\"}}"
                ),
            )
            .rsplit(' ')
            .next()
            .unwrap()
            .to_owned()
        };
        assert_eq!(b("0.005"), "1");
        assert_eq!(b("0.01"), "3");
        assert_eq!(b("0.25"), "3");
        assert_eq!(b("0.5"), "4");
        assert_eq!(b("10"), "4");
        assert_eq!(b("+Inf"), "5");
        assert_eq!(
            line(
                &text,
                "adze_controller_reconcile_duration_seconds_count{kind=\"TaskRun\"}"
            ),
            "adze_controller_reconcile_duration_seconds_count{kind=\"TaskRun\"} 5"
        );
        assert_eq!(
            line(
                &text,
                "adze_controller_reconcile_duration_seconds_sum{kind=\"TaskRun\"}"
            ),
            "adze_controller_reconcile_duration_seconds_sum{kind=\"TaskRun\"} 20.315"
        );
    }

    #[test]
    fn each_family_has_one_help_and_type_before_its_samples() {
        let text = Metrics::new().render();
        let mut families = Vec::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                families.push(rest.split(' ').next().unwrap().to_owned());
            } else if !l.starts_with("# HELP ") {
                let name = l.split(['{', ' ']).next().unwrap();
                let family = families.last().expect("a sample before any TYPE");
                assert!(name.starts_with(family.as_str()), "{name} under {family}");
            }
        }
        let mut unique = families.clone();
        unique.dedup();
        assert_eq!(families, unique);
        assert_eq!(families.len(), 6);
    }

    #[test]
    fn run_gauges_follow_the_latest_snapshot() {
        let metrics = Metrics::new();
        let mut counts = RunCounts::default();
        counts.add(Kind::PipelineRun, RunStatus::Running);
        counts.add(Kind::PipelineRun, RunStatus::Running);
        metrics.set_runs(&counts);
        let running = "adze_controller_runs{kind=\"PipelineRun\",status=\"Running\"}";
        assert_eq!(line(&metrics.render(), running), format!("{running} 2"));
        metrics.set_runs(&RunCounts::default());
        assert_eq!(line(&metrics.render(), running), format!("{running} 0"));
    }

    #[test]
    fn statuses_follow_tektons_conditions() {
        let of = |status, reason| RunStatus::from_condition(status, reason);
        assert_eq!(of(None, None), RunStatus::Pending);
        assert_eq!(
            of(Some("Unknown"), Some("PipelineRunPending")),
            RunStatus::Pending
        );
        assert_eq!(of(Some("Unknown"), Some("Running")), RunStatus::Running);
        assert_eq!(
            of(Some("Unknown"), Some("PipelineRunStopping")),
            RunStatus::Running
        );
        assert_eq!(of(Some("True"), Some("Completed")), RunStatus::Succeeded);
        assert_eq!(of(Some("False"), Some("Cancelled")), RunStatus::Cancelled);
        assert_eq!(
            of(Some("False"), Some("TaskRunCancelled")),
            RunStatus::Cancelled
        );
        assert_eq!(of(Some("False"), Some("TaskRunTimeout")), RunStatus::Failed);
        assert_eq!(of(Some("False"), None), RunStatus::Failed);
    }

    #[test]
    fn a_rendered_registry() {
        let metrics = Metrics::new();
        metrics.record_reconcile(
            Kind::PipelineRun,
            Outcome::Success,
            Duration::from_millis(3),
        );
        metrics.record_reconcile(
            Kind::PipelineRun,
            Outcome::Requeue,
            Duration::from_millis(40),
        );
        metrics.record_reconcile(Kind::TaskRun, Outcome::Error, Duration::from_millis(1200));
        let mut counts = RunCounts::default();
        counts.add(Kind::PipelineRun, RunStatus::Running);
        counts.add(Kind::TaskRun, RunStatus::Running);
        counts.add(Kind::TaskRun, RunStatus::Succeeded);
        counts.add(Kind::TaskRun, RunStatus::Cancelled);
        metrics.set_runs(&counts);
        metrics.set_running_task_runs(1);
        metrics.set_workqueue_depth(4);
        metrics.set_leader(true);
        insta::assert_snapshot!(metrics.render());
    }
}
