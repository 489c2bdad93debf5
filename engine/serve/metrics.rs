//! `/metrics` of `adze serve`: webhook requests by outcome, trigger verdicts, runs by final
//! state, run durations, queue depth.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::process::Verdict;
use crate::prometheus::{family, sample, Histogram};
use crate::store::RunState;

/// Upper bounds of the run duration buckets, in seconds: runs take seconds to an hour.
pub const RUN_DURATION_BUCKETS: [f64; 10] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// How a request to the event endpoint ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook {
    /// Written and answered `202`.
    Accepted,
    /// A redelivery, answered with the first event's id.
    Duplicate,
    /// Not a JSON object: `400`.
    Invalid,
    /// Over the size limit: `413`.
    TooLarge,
    /// The queue was full: `503`.
    QueueFull,
    /// The handler ran out of time: `503`.
    Timeout,
    /// Reading or recording failed: `500`.
    Error,
}

impl Webhook {
    const ALL: [Webhook; 7] = [
        Webhook::Accepted,
        Webhook::Duplicate,
        Webhook::Invalid,
        Webhook::TooLarge,
        Webhook::QueueFull,
        Webhook::Timeout,
        Webhook::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Webhook::Accepted => "accepted",
            Webhook::Duplicate => "duplicate",
            Webhook::Invalid => "invalid",
            Webhook::TooLarge => "too_large",
            Webhook::QueueFull => "queue_full",
            Webhook::Timeout => "timeout",
            Webhook::Error => "error",
        }
    }
}

const VERDICTS: [Verdict; 4] = [
    Verdict::Created,
    Verdict::Unauthenticated,
    Verdict::Declined,
    Verdict::Failed,
];

const FINAL_STATES: [RunState; 3] = [RunState::Succeeded, RunState::Failed, RunState::Created];

/// The counters; shared by every handler and worker.
#[derive(Debug)]
pub struct Metrics {
    webhooks: [AtomicU64; Webhook::ALL.len()],
    verdicts: [AtomicU64; VERDICTS.len()],
    runs: [AtomicU64; FINAL_STATES.len()],
    durations: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every series at 0.
    pub fn new() -> Metrics {
        Metrics {
            webhooks: Default::default(),
            verdicts: Default::default(),
            runs: Default::default(),
            durations: Histogram::new(&RUN_DURATION_BUCKETS),
        }
    }

    /// Counts one request to the event endpoint.
    pub fn webhook(&self, outcome: Webhook) {
        let i = Webhook::ALL.iter().position(|w| *w == outcome).unwrap_or(0);
        self.webhooks[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts the verdicts of one event's triggers.
    pub fn triggers(&self, verdicts: &[Verdict]) {
        for v in verdicts {
            let i = VERDICTS.iter().position(|x| x == v).unwrap_or(0);
            self.verdicts[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a run that reached `state` after `elapsed_ms`.
    pub fn run_finished(&self, state: RunState, elapsed_ms: i64) {
        if let Some(i) = FINAL_STATES.iter().position(|s| *s == state) {
            self.runs[i].fetch_add(1, Ordering::Relaxed);
        }
        self.durations
            .observe(Duration::from_millis(elapsed_ms.max(0) as u64));
    }

    /// The text exposition, with `queue_depth` events and runs waiting now.
    pub fn render(&self, queue_depth: usize) -> String {
        let mut out = String::new();
        let name = "adze_serve_webhook_requests_total";
        family(
            &mut out,
            name,
            "counter",
            "Requests to the event endpoint, by outcome.",
        );
        for (w, n) in Webhook::ALL.iter().zip(&self.webhooks) {
            sample(
                &mut out,
                name,
                &[("outcome", w.as_str())],
                n.load(Ordering::Relaxed),
            );
        }
        let name = "adze_serve_trigger_outcomes_total";
        family(
            &mut out,
            name,
            "counter",
            "Triggers run on accepted events, by verdict.",
        );
        for (v, n) in VERDICTS.iter().zip(&self.verdicts) {
            let label = serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            sample(
                &mut out,
                name,
                &[("verdict", &label)],
                n.load(Ordering::Relaxed),
            );
        }
        let name = "adze_serve_runs_total";
        family(
            &mut out,
            name,
            "counter",
            "Runs that reached a final state here, by state.",
        );
        for (s, n) in FINAL_STATES.iter().zip(&self.runs) {
            sample(
                &mut out,
                name,
                &[("state", s.as_str())],
                n.load(Ordering::Relaxed),
            );
        }
        let name = "adze_serve_run_duration_seconds";
        family(
            &mut out,
            name,
            "histogram",
            "Time from a run's start to its end here, in seconds.",
        );
        self.durations.render(&mut out, name, &[]);
        let name = "adze_serve_queue_depth";
        family(
            &mut out,
            name,
            "gauge",
            "Events waiting to be processed plus runs waiting to start.",
        );
        sample(&mut out, name, &[], queue_depth);
        out
    }
}
