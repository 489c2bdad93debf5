//! One incoming request, as every trigger sees it.

use super::Headers;

/// An accepted request: what interceptors, bindings and templates are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// UUIDv4 assigned on acceptance: the 202 body, the `triggers-eventid` label,
    /// `$(context.eventID)` and interceptors' `context.event_id`.
    pub id: String,
    /// Path and query of the request (no scheme or host): `requestURL`, `event_url`.
    pub request_uri: String,
    /// Headers in canonical form; `Host` is not among them.
    pub header: Headers,
    /// The exact bytes received (signatures cover them; never re-serialised).
    pub body: Vec<u8>,
}
