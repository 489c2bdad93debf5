//! The server's shared state: its options and what every handler and worker shares
//! (the routes are in [`routes`](super::routes)).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::process::Processor;
use super::queue::Queue;
use super::response::ListenerIdentity;
use super::{Launcher, Store};
use crate::triggers::Event;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Largest body accepted; larger ones get `413`.
    pub body_limit: usize,
    /// Most events and runs waiting at once; beyond it requests get `503`.
    pub queue_size: usize,
    /// Most runs running at once.
    pub max_concurrent: usize,
    /// Answer only after the interceptors ran (`403`/`422` instead of `202` when nothing runs).
    pub respond_after_interceptors: bool,
    /// Whether bodies must be JSON objects (`tekton.dev/payload-validation`).
    pub payload_validation: bool,
    /// Longest a request may take before `503 EventListener Timeout!`.
    pub handler_timeout: Duration,
    /// The token the dashboard and the API ask for (`Authorization: Bearer`, the `adze_token`
    /// cookie, or `?token=`); none: open (loopback only, the CLI makes sure).
    pub token: Option<String>,
}

impl Options {
    /// Tekton's defaults (10 MiB body cap added), listening on `listen`.
    pub fn new(listen: SocketAddr) -> Options {
        Options {
            listen,
            body_limit: 10 * 1024 * 1024,
            queue_size: 1000,
            max_concurrent: 4,
            respond_after_interceptors: false,
            payload_validation: true,
            handler_timeout: Duration::from_secs(30),
            token: None,
        }
    }
}

/// What every handler and worker shares.
pub struct App {
    /// Options.
    pub options: Options,
    /// Who answers.
    pub listener: ListenerIdentity,
    /// History and queue.
    pub store: Arc<Store>,
    /// The queue's bound.
    pub queue: Queue,
    /// Triggers.
    pub processor: Arc<dyn Processor>,
    /// Runs.
    pub launcher: Arc<dyn Launcher>,
    /// Accepted events to process.
    pub(super) events: mpsc::UnboundedSender<Event>,
    /// Recorded runs to launch.
    pub(super) runs: mpsc::UnboundedSender<String>,
    /// Counters for `/metrics`.
    pub metrics: super::metrics::Metrics,
}
