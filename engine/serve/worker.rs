//! The workers behind the endpoint: process accepted events, launch recorded runs.

use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};

use super::app::App;
use super::launch::{Launched, Report};
use super::process::{Processed, Verdict};
use crate::store::{RunState, StoreError};
use crate::triggers::Event;

/// Why an event could not be processed now (it stays in the store, processed at next start).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The listener itself failed (spec §2.2: `500`).
    #[error("{0}")]
    Listener(#[from] super::ListenerError),
    /// The outcome could not be recorded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The processing thread panicked (a bug).
    #[error("processing the event failed: {0}")]
    Panicked(String),
}

/// Runs the triggers on `event`, records what they came to, and queues its runs. Returns
/// each trigger's verdict.
pub(super) async fn process_event(
    app: &Arc<App>,
    event: Event,
) -> Result<Vec<Verdict>, ProcessError> {
    let processor = app.processor.clone();
    let now = super::now_ms();
    let id = event.id.clone();
    let processed = tokio::task::spawn_blocking(move || processor.process(&event, now))
        .await
        .map_err(|e| ProcessError::Panicked(e.to_string()));
    let Processed { triggers, runs } = match processed {
        Ok(Ok(p)) => p,
        Ok(Err(listener)) => {
            // Recorded so the event is not retried forever; the listener's error is its outcome.
            let outcome = serde_json::json!({ "error": listener.0 });
            app.store.record_outcomes(&id, outcome, Vec::new()).await?;
            app.queue.release();
            return Err(listener.into());
        }
        Err(e) => {
            app.queue.release();
            return Err(e);
        }
    };
    let verdicts: Vec<Verdict> = triggers.iter().map(|t| t.verdict).collect();
    let detail: Vec<serde_json::Value> = triggers.into_iter().map(|t| t.detail).collect();
    let names: Vec<String> = runs.iter().map(|r| r.name.clone()).collect();
    app.queue.force(names.len());
    if let Err(e) = app
        .store
        .record_outcomes(&id, serde_json::Value::Array(detail), runs)
        .await
    {
        app.queue.release();
        for _ in &names {
            app.queue.release();
        }
        return Err(e.into());
    }
    app.queue.release();
    app.metrics.triggers(&verdicts);
    for name in names {
        let _ = app.runs.send(name);
    }
    Ok(verdicts)
}

/// Processes events as they are accepted, one at a time per worker.
pub(super) async fn events(app: Arc<App>, mut queue: mpsc::UnboundedReceiver<Event>) {
    // Events are independent (spec §2.2): several at once, so their outcomes share the
    // store's group commits instead of waiting for one fsync each.
    let slots = Arc::new(Semaphore::new(EVENTS_AT_ONCE));
    while let Some(event) = queue.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let id = event.id.clone();
            if let Err(e) = process_event(&app, event).await {
                let message = app.store.masker().mask(&e.to_string()).into_owned();
                eprintln!("adze serve: event {id}: {message}");
            }
            drop(permit);
        });
    }
}

/// Events processed at once.
const EVENTS_AT_ONCE: usize = 16;

/// Launches recorded runs, at most `max_concurrent` at once.
pub(super) async fn runs(app: Arc<App>, mut queue: mpsc::UnboundedReceiver<String>) {
    let slots = Arc::new(Semaphore::new(app.options.max_concurrent.max(1)));
    while let Some(name) = queue.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let app = app.clone();
        tokio::spawn(async move {
            launch(&app, &name).await;
            drop(permit);
        });
    }
}

async fn launch(app: &Arc<App>, name: &str) {
    let run = match app.store.run(name) {
        Ok(Some(run)) => run,
        Ok(None) => {
            eprintln!("adze serve: run {name} is not in the store");
            app.queue.release();
            return;
        }
        Err(e) => {
            eprintln!("adze serve: cannot read run {name}: {e}");
            app.queue.release();
            return;
        }
    };
    let started = super::now_ms();
    if let Err(e) = app
        .store
        .set_run_state(name, RunState::Running, None, started)
        .await
    {
        eprintln!("adze serve: cannot mark {name} running: {e}");
    }
    app.queue.release();
    let launcher = app.launcher.clone();
    let report = Report::new(app.store.clone(), tokio::runtime::Handle::current(), name);
    let launched = tokio::task::spawn_blocking(move || launcher.launch(&run, &report))
        .await
        .unwrap_or_else(|e| Launched {
            state: RunState::Failed,
            status: Some(serde_json::json!({ "error": format!("the launch panicked: {e}") })),
        });
    let finished = super::now_ms();
    app.metrics
        .run_finished(launched.state, finished.saturating_sub(started));
    if let Err(e) = app
        .store
        .set_run_state(name, launched.state, launched.status, finished)
        .await
    {
        let message = app.store.masker().mask(&e.to_string()).into_owned();
        eprintln!("adze serve: cannot record how {name} ended: {message}");
    }
}
