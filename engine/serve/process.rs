//! From an accepted event to what it came to: the seam between the server and the Triggers
//! model, so the server is tested with a fake and the model without a server.

use crate::store::NewRun;
use crate::triggers::Event;

/// How one trigger's outcome counts when the answer waits for the interceptors
/// (`--respond-after-interceptors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The trigger failed (binding, template, an interceptor that could not be called).
    Failed,
    /// An interceptor declined the event (event type, CEL filter): nothing to do.
    Declined,
    /// A signature or token check failed.
    Unauthenticated,
    /// The trigger created its runs.
    Created,
}

/// One trigger's outcome, as recorded and shown.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TriggerReport {
    /// How it counts.
    pub verdict: Verdict,
    /// What happened, as JSON (the trigger, which interceptor stopped it and why, the runs
    /// it created): what the store keeps and the dashboard shows.
    pub detail: serde_json::Value,
}

/// Everything one event came to.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    /// One report per trigger reached, in a stable order.
    pub triggers: Vec<TriggerReport>,
    /// The runs to record and start, in creation order.
    pub runs: Vec<NewRun>,
}

/// Failures of the whole request rather than of one trigger (spec §2.2: `500`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ListenerError(pub String);

/// Runs every trigger of the listener on an event.
pub trait Processor: Send + Sync {
    /// What `event` comes to; blocking (interceptors may compute HMACs over large bodies).
    fn process(&self, event: &Event, now_ms: i64) -> Result<Processed, ListenerError>;
}
