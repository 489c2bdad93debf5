//! The controller's loop: watch the runs it takes, give each unfinished one a reconcile of
//! its own, and tell running reconciles when their object's `spec.status` changes.
//!
//! # Design
//!
//! Two watches (PipelineRuns, TaskRuns), filtered by the server with the opt-in label unless
//! `--all`, feed one loop. Each run not yet done and not already being reconciled gets a
//! reconcile on a blocking thread ([`super::pipeline_run`], [`super::task_run`]); the loop
//! keeps only the [`Interrupt`] of each, to pass on `spec.status`, and forgets it when the
//! reconcile ends. A reconcile that could not finish (the API server failed) is tried again
//! after a backoff from a fresh read of its object. Nothing here is a record of any run: a
//! new loop (a restart, a new leader) rebuilds all of it from the watches.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use tokio::sync::mpsc;

use super::context::{Context, Ended};
use super::objects::{is_done, RunKey, RunKind};
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
}

/// What reaches the loop.
enum Message {
    /// A watch saw a run (created, changed, or listed at start).
    Seen(RunKind, DynamicObject),
    /// A watch saw a run deleted.
    Deleted(RunKind, DynamicObject),
    /// A reconcile ended.
    Ended(RunKey, Ended),
}

/// Watches and reconciles until the watches end (they retry on their own; they end only
/// when the process stops).
pub async fn run(ctx: Arc<Context>, scope: Scope, log: impl Fn(&RunKey, &str) + Send + 'static) {
    let (sender, mut messages) = mpsc::unbounded_channel();
    for kind in [RunKind::PipelineRun, RunKind::TaskRun] {
        tokio::spawn(watch(ctx.clone(), scope.clone(), kind, sender.clone()));
    }
    let mut running: HashMap<String, Interrupt> = HashMap::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut backoff: HashMap<String, Duration> = HashMap::new();
    while let Some(message) = messages.recv().await {
        match message {
            Message::Seen(kind, object) => {
                let key = RunKey::of(kind, &object);
                if !scope.selection.takes(object.metadata.labels.as_ref())
                    || is_done(&object)
                    || finished.contains(&key.uid)
                {
                    continue;
                }
                let (status, message) = spec_status(&object);
                if let Some(interrupt) = running.get(&key.uid) {
                    interrupt.set_spec_status(status, message);
                    continue;
                }
                let interrupt = Interrupt::new();
                interrupt.set_spec_status(status, message);
                running.insert(key.uid.clone(), interrupt.clone());
                log(&key, "reconciling");
                let (ctx, sender) = (ctx.clone(), sender.clone());
                tokio::task::spawn_blocking(move || {
                    let ended = match kind {
                        RunKind::PipelineRun => {
                            super::pipeline_run::reconcile(&ctx, &object, interrupt)
                        }
                        RunKind::TaskRun => super::task_run::reconcile(&ctx, &object, interrupt),
                    };
                    let _ = sender.send(Message::Ended(key, ended));
                });
            }
            Message::Deleted(kind, object) => {
                let key = RunKey::of(kind, &object);
                finished.remove(&key.uid);
                backoff.remove(&key.uid);
                if let Some(interrupt) = running.get(&key.uid) {
                    // Its children go with it (owner references); stop following them.
                    let cancelled = match kind {
                        RunKind::PipelineRun => "Cancelled",
                        RunKind::TaskRun => "TaskRunCancelled",
                    };
                    interrupt.set_spec_status(Some(cancelled.into()), None);
                }
            }
            Message::Ended(key, ended) => {
                running.remove(&key.uid);
                match ended {
                    Ended::Written => {
                        log(&key, "done");
                        finished.insert(key.uid.clone());
                        backoff.remove(&key.uid);
                    }
                    Ended::Gone => {
                        log(&key, "deleted while it ran");
                    }
                    Ended::Requeue(why) => {
                        let wait = backoff.entry(key.uid.clone()).or_insert(REQUEUE);
                        log(&key, &format!("{why}; trying again in {}s", wait.as_secs()));
                        tokio::spawn(requeue(ctx.clone(), key, *wait, sender.clone()));
                        *wait = (*wait * 2).min(REQUEUE_MAX);
                    }
                }
            }
        }
    }
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
    match api.get_opt(&key.name).await {
        Ok(Some(object)) if object.metadata.uid.as_deref() == Some(key.uid.as_str()) => {
            let _ = sender.send(Message::Seen(key.kind, object));
        }
        Ok(_) => {}
        // Still failing: the next reconcile attempt reports it and backs off further.
        Err(e) => {
            let _ = sender.send(Message::Ended(
                key,
                Ended::Requeue(format!("cannot read the run: {e}")),
            ));
        }
    }
}
