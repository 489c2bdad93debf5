//! CEL (Common Expression Language), through one wrapper around the `cel` crate: Tekton's
//! `when: [{cel: ...}]` guards, and the Triggers CEL interceptor's filters and overlays
//! ([`TriggersScope`]).
//!
//! # Design
//!
//! - [`Expression::compile`] parses once and checks every free identifier against the names
//!   the caller declares, like cel-go's checker does for undeclared references; errors carry
//!   a [`Position`] inside the expression so validation can point at the exact character of
//!   the YAML string.
//! - Evaluation is a pure function of the expression and its [`Variables`], given as JSON
//!   values: a webhook body is JSON already, and results map back to JSON
//!   ([`Expression::evaluate`]) for overlays. Guards use [`Expression::evaluate_bool`].
//! - Tekton's when-expressions declare no variables: `$(params…)`/`$(tasks…)` are substituted
//!   into the text first (so they must sit inside quotes), then [`guard`] evaluates it, with
//!   the standard library only, as Tekton Pipelines does.
//! - Triggers expressions ([`TriggersScope`]) get cel-go's strings, lists, math and encoders
//!   libraries (the crate's), `sets` and Triggers' own functions (`truncate`, `compareSecret`,
//!   `parseJSON`, …; spec §4.4). JSON numbers are doubles there, as in cel-go: `body.n == 1`
//!   holds, `body.n + 1` has no overload. `compareSecret` reads Secrets through a
//!   [`SecretSource`] the caller passes in, so this module knows nothing of Triggers' types.
//! - Overlay results are written as Triggers' Go writes them (bytes as base64, `null` and
//!   uints refused); `marshalJSON` sorts keys and escapes `<>&` like Go's encoder.
//!
//! # Invariants
//!
//! - No panics on any input text or variable value; every failure is a [`CelError`].
//! - The crate is used nowhere else in adze: everything CEL goes through this module. (The
//!   separate `adze-entrypoint` crate evaluates step guards with it too, inside containers.)
//!
//! # Not yet
//!
//! - Static type checking beyond undeclared names (cel-go rejects `1 + 'a'` when compiling;
//!   here it fails when evaluated — for the Triggers interceptor both are code 3, with
//!   different messages).
//! - `timestamp`/`duration` (the crate's `chrono` feature, left off to keep the build small).
//! - `parseURL` splits URLs like Go's `url.Parse` for the common forms, without its host
//!   validation: a malformed host or port is accepted here, an error there.

mod error;
mod expression;
mod functions;
mod output;
mod triggers;

pub use error::{CelError, Position};
pub use expression::{guard, Expression, Variables};
pub use functions::SecretSource;
pub use triggers::{TriggersRequest, TriggersScope};
