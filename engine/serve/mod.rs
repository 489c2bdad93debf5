//! `adze serve`: a Tekton Triggers EventListener over HTTP, with a durable queue and history.
//!
//! # Design
//!
//! Events → filter → action → supervised job, each a separate piece:
//!
//! 1. [`accept`]: the request is read (size-capped), validated as JSON, given an event id,
//!    checked against the queue's capacity and written to the [`Store`]; only then is it
//!    answered `202` (spec §2.9), so an accepted event survives any crash after the answer.
//! 2. [`worker`]: each accepted event goes through the [`Processor`] (interceptors,
//!    bindings, templates); its per-trigger reports and the runs it creates are recorded in
//!    one transaction.
//! 3. The runs are started, at most `--max-concurrent` at once, by the [`Launcher`]: run
//!    locally through the driver, or created in a cluster for a controller to run.
//!
//! # Restarts
//!
//! On start the server takes up what the store says is unfinished: events accepted but not
//! processed are processed (their interceptors run then), and runs recorded but not finished
//! are launched again from the start. A run is re-run, not resumed: its containers died with
//! the process that drove them. `create` launches are idempotent (the object's name is
//! recorded before it is created, and "already exists" counts as created), so nothing is
//! created twice. A redelivery with a delivery id seen before (same body) is answered with
//! the first event's id and starts nothing.
//!
//! # Invariants
//!
//! - A `202` is sent only after the event is on disk; a `503` (queue full) or any error is
//!   sent before anything is written, and nothing starts from it.
//! - Every request that reaches the event endpoint is counted in `/metrics` by outcome.
//!
//! # Not yet
//!
//! - Retention: the store keeps every event and run.
//! - Impersonating a trigger's `serviceAccountName` when creating (`--executor create` uses the
//!   listener's identity for everything).
//! - One EventListener per server.

mod accept;
mod app;
mod auth;
pub mod cluster_secrets;
pub mod create;
mod dashboard;
pub mod delivery;
pub mod launch;
pub mod local;
pub mod metrics;
pub mod process;
pub mod queue;
pub mod response;
mod routes;
mod server;
pub mod tls;
pub mod triggered;
mod worker;

pub use app::{App, Options};
pub use launch::{Launched, Launcher, Report};
pub use process::{ListenerError, Processed, Processor, TriggerReport, Verdict};
pub use response::ListenerIdentity;
pub use server::{start, Running, ServeError};

pub use crate::store::Store;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
