//! The controller's loop: watch the runs it takes, give each unfinished one a reconcile of
//! its own, and tell running reconciles when their object's `spec.status` changes.
//!
//! # Design
//!
//! Two watches (PipelineRuns, TaskRuns), filtered by the server with the opt-in label unless
//! `--all`, feed one loop. Each run not yet done and not already being reconciled gets a
//! reconcile on a blocking thread (`super::pipeline_run`, `super::task_run`); the loop
//! keeps only the [`Interrupt`] of each, to pass on `spec.status`, and forgets it when the
//! reconcile ends. A reconcile that could not finish (the API server failed) is tried again
//! after a backoff from a fresh read of its object. Nothing here is a record of any run: a
//! new loop (a restart, a new leader) rebuilds all of it from the watches.
//!
//! A reconcile drives its run to the end, so `adze_controller_reconcile_duration_seconds`
//! measures whole runs (or the part a controller saw); the work-queue depth counts runs
//! waiting for a retry or for one of the `--max-concurrent-taskruns` TaskRun slots, and the
//! runs by status are the watches' view of every run taken.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use tokio::sync::{mpsc, Semaphore};

use super::context::{Context, Ended};
use super::logging::{Logger, Record, RunRef};
use super::metrics::{Metrics, Outcome, RunCounts, RunStatus};
use super::objects::{is_done, succeeded, RunKey, RunKind};
use super::opt_in::Selection;
use crate::run::Interrupt;

/// The first wait before a failed reconcile is tried again; it doubles up to a minute.
const REQUEUE: Duration = Duration::from_secs(1);
const REQUEUE_MAX: Duration = Duration::from_secs(60);

/// Which runs the loop takes, and where.
#[derive(Debug, Clone)]
pub struct Scope {
    /// One namespace, or `None` for every namespace.
    pub namespace: Option<String>,
    /// Opted-in runs only, or all.
    pub selection: Selection,
    /// TaskRuns reconciled at once (`--max-concurrent-taskruns`); the others wait in the work
    /// queue. PipelineRuns are not bounded: each waits on its children, so bounding them
    /// could leave every slot to a run whose children cannot start.
    pub max_task_runs: usize,
}

/// Where the loop reports: logs and metrics.
#[derive(Clone)]
pub struct Telemetry {
    /// One line per event, naming the run.
    pub logger: Logger,
    /// The Prometheus registry `/metrics` serves.
    pub metrics: Arc<Metrics>,
}

impl Telemetry {
    fn log(&self, key: &RunKey, message: &str) {
        let run = RunRef::new(key.kind.as_str(), &key.namespace, &key.name);
        self.logger.log(Record::info(message).run(&run));
    }
}

/// What reaches the loop.
enum Message {
    /// A watch saw a run (created, changed, or listed at start).
    Seen(RunKind, DynamicObject),
    /// A watch saw a run deleted.
    Deleted(RunKind, DynamicObject),
    /// A reconcile ended after running for the given time.
    Ended(RunKey, Ended, Duration),
    /// A run waiting for a retry was read again (`None`: it is gone or changed identity).
    Retried(RunKey, Option<DynamicObject>),
}

/// Watches and reconciles until the watches end (they retry on their own; they end only
/// when the process stops).
pub async fn run(ctx: Arc<Context>, scope: Scope, telemetry: Telemetry) {
    let (sender, mut messages) = mpsc::unbounded_channel();
    for kind in RunKind::ALL {
        tokio::spawn(watch(ctx.clone(), scope.clone(), kind, sender.clone()));
    }
    let mut state = State {
        ctx,
        slots: Arc::new(Semaphore::new(scope.max_task_runs.max(1))),
        queued: Arc::new(AtomicUsize::new(0)),
        scope,
        telemetry,
        sender,
        running: HashMap::new(),
        finished: HashSet::new(),
        backoff: HashMap::new(),
        waiting: HashSet::new(),
        statuses: HashMap::new(),
    };
    while let Some(message) = messages.recv().await {
        match message {
            Message::Seen(kind, object) => state.seen(kind, object),
            Message::Deleted(kind, object) => state.deleted(kind, &object),
            Message::Ended(key, ended, elapsed) => state.ended(key, ended, elapsed),
            Message::Retried(key, object) => state.retried(key, object),
        }
        state.publish();
    }
}

/// What the loop knows between messages: which runs have a reconcile, and what the
/// metrics count. All of it is rebuilt from the watches by a new loop.
struct State {
    ctx: Arc<Context>,
    scope: Scope,
    /// One permit per TaskRun reconcile in flight.
    slots: Arc<Semaphore>,
    /// TaskRuns waiting for a slot.
    queued: Arc<AtomicUsize>,
    telemetry: Telemetry,
    sender: mpsc::UnboundedSender<Message>,
    /// Runs with a reconcile in flight, by uid, with what passes `spec.status` on.
    running: HashMap<String, (RunKind, Interrupt)>,
    /// Runs whose final status this loop wrote and the watch has not brought back yet.
    finished: HashSet<String>,
    /// The next wait of runs whose reconcile failed.
    backoff: HashMap<String, Duration>,
    /// Runs waiting for a retry: the work-queue depth.
    waiting: HashSet<String>,
    /// Every run taken, as last seen: the runs by status.
    statuses: HashMap<String, (RunKind, RunStatus)>,
}

impl State {
    fn seen(&mut self, kind: RunKind, object: DynamicObject) {
        let key = RunKey::of(kind, &object);
        if !self.scope.selection.takes(object.metadata.labels.as_ref()) {
            return;
        }
        self.statuses
            .insert(key.uid.clone(), (kind, status_of(&object)));
        if is_done(&object) {
            // The watch caught up with the final status: nothing older can arrive now.
            self.finished.remove(&key.uid);
            return;
        }
        if self.finished.contains(&key.uid) {
            return;
        }
        let (status, message) = spec_status(&object);
        if let Some((_, interrupt)) = self.running.get(&key.uid) {
            interrupt.set_spec_status(status, message);
            return;
        }
        let interrupt = Interrupt::new();
        interrupt.set_spec_status(status, message);
        self.running
            .insert(key.uid.clone(), (kind, interrupt.clone()));
        self.waiting.remove(&key.uid);
        self.telemetry.log(&key, "reconciling");
        let (ctx, sender) = (self.ctx.clone(), self.sender.clone());
        let (slots, queued) = (self.slots.clone(), self.queued.clone());
        tokio::spawn(async move {
            let slot = match kind {
                RunKind::PipelineRun => None,
                RunKind::TaskRun => {
                    queued.fetch_add(1, Ordering::SeqCst);
                    let slot = slots.acquire_owned().await.ok();
                    queued.fetch_sub(1, Ordering::SeqCst);
                    slot
                }
            };
            let reconciled = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                let ended = match kind {
                    RunKind::PipelineRun => {
                        super::pipeline_run::reconcile(&ctx, &object, interrupt)
                    }
                    RunKind::TaskRun => super::task_run::reconcile(&ctx, &object, interrupt),
                };
                drop(slot);
                let _ = sender.send(Message::Ended(key, ended, started.elapsed()));
            });
            let _ = reconciled.await;
        });
    }

    fn deleted(&mut self, kind: RunKind, object: &DynamicObject) {
        let key = RunKey::of(kind, object);
        self.finished.remove(&key.uid);
        self.backoff.remove(&key.uid);
        self.waiting.remove(&key.uid);
        self.statuses.remove(&key.uid);
        if let Some((_, interrupt)) = self.running.get(&key.uid) {
            // Its children go with it (owner references); stop following them.
            let cancelled = match kind {
                RunKind::PipelineRun => "Cancelled",
                RunKind::TaskRun => "TaskRunCancelled",
            };
            interrupt.set_spec_status(Some(cancelled.into()), None);
        }
    }

    fn ended(&mut self, key: RunKey, ended: Ended, elapsed: Duration) {
        self.running.remove(&key.uid);
        let outcome = match ended {
            Ended::Written => {
                self.telemetry.log(&key, "done");
                self.finished.insert(key.uid.clone());
                self.backoff.remove(&key.uid);
                Outcome::Success
            }
            Ended::Gone => {
                self.telemetry.log(&key, "deleted while it ran");
                Outcome::Success
            }
            Ended::Pending => {
                self.telemetry.log(&key, "pending");
                self.backoff.remove(&key.uid);
                Outcome::Success
            }
            Ended::Requeue(why) => {
                let wait = self.backoff.entry(key.uid.clone()).or_insert(REQUEUE);
                let note = format!("{why}; trying again in {}s", wait.as_secs());
                self.telemetry.log(&key, &note);
                self.waiting.insert(key.uid.clone());
                let retry = requeue(self.ctx.clone(), key.clone(), *wait, self.sender.clone());
                tokio::spawn(retry);
                *wait = (*wait * 2).min(REQUEUE_MAX);
                Outcome::Requeue
            }
        };
        self.telemetry
            .metrics
            .record_reconcile(key.kind, outcome, elapsed);
    }

    fn retried(&mut self, key: RunKey, object: Option<DynamicObject>) {
        match object {
            Some(object) => self.seen(key.kind, object),
            None => {
                self.waiting.remove(&key.uid);
            }
        }
    }

    /// The gauges, from what the loop knows now.
    fn publish(&self) {
        let metrics = &self.telemetry.metrics;
        let mut counts = RunCounts::default();
        for (kind, status) in self.statuses.values() {
            counts.add(*kind, *status);
        }
        metrics.set_runs(&counts);
        let task_runs = self
            .running
            .values()
            .filter(|(kind, _)| *kind == RunKind::TaskRun)
            .count();
        metrics.set_running_task_runs(i64::try_from(task_runs).unwrap_or(i64::MAX));
        let depth = self.waiting.len() + self.queued.load(Ordering::SeqCst);
        metrics.set_workqueue_depth(i64::try_from(depth).unwrap_or(i64::MAX));
    }
}

/// The run's status as the metrics count it.
fn status_of(object: &DynamicObject) -> RunStatus {
    let condition = succeeded(&object.data);
    let field = |name: &str| condition.and_then(|c| c[name].as_str());
    RunStatus::from_condition(field("status"), field("reason"))
}

/// The object's `spec.status` and `spec.statusMessage`.
fn spec_status(object: &DynamicObject) -> (Option<String>, Option<String>) {
    let spec = &object.data["spec"];
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    (text(&spec["status"]), text(&spec["statusMessage"]))
}

/// Forwards one kind's watch events to the loop, with the watcher's own backoff on errors.
async fn watch(
    ctx: Arc<Context>,
    scope: Scope,
    kind: RunKind,
    sender: mpsc::UnboundedSender<Message>,
) {
    let resource = kind.resource();
    let api: Api<DynamicObject> = match &scope.namespace {
        Some(ns) => Api::namespaced_with(ctx.client().clone(), ns, &resource),
        None => Api::all_with(ctx.client().clone(), &resource),
    };
    let mut config = watcher::Config::default();
    if let Some(selector) = scope.selection.label_selector() {
        config = config.labels(&selector);
    }
    let mut events = watcher::watcher(api, config).default_backoff().boxed();
    while let Some(event) = events.next().await {
        let message = match event {
            Ok(Event::Apply(o) | Event::InitApply(o)) => Message::Seen(kind, o),
            Ok(Event::Delete(o)) => Message::Deleted(kind, o),
            Ok(Event::Init | Event::InitDone) | Err(_) => continue,
        };
        if sender.send(message).is_err() {
            return;
        }
    }
}

/// Reads the run again after `wait` and hands it to the loop as if a watch had seen it.
async fn requeue(
    ctx: Arc<Context>,
    key: RunKey,
    wait: Duration,
    sender: mpsc::UnboundedSender<Message>,
) {
    tokio::time::sleep(wait).await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client().clone(), &key.namespace, &key.kind.resource());
    let message = match api.get_opt(&key.name).await {
        Ok(Some(object)) if object.metadata.uid.as_deref() == Some(key.uid.as_str()) => {
            Message::Retried(key, Some(object))
        }
        Ok(_) => Message::Retried(key, None),
        // Still failing: counted as one more failed attempt, which backs off further.
        Err(e) => Message::Ended(
            key,
            Ended::Requeue(format!("cannot read the run: {e}")),
            Duration::ZERO,
        ),
    };
    let _ = sender.send(message);
}
