//! CEL (Common Expression Language), through one wrapper around the `cel` crate: Tekton's
//! `when: [{cel: ...}]` guards now, the Triggers CEL interceptor (filters, overlays on a JSON
//! body) later.
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
//!   into the text first (so they must sit inside quotes), then [`guard`] evaluates it.
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
//!   here it fails when evaluated).
//! - `timestamp`/`duration` (the crate's `chrono` feature, left off to keep the build small)
//!   and the Triggers extension functions (`split`, `parseJSON`, …), which the interceptor
//!   will add as functions of the evaluation context.

mod error;
mod expression;

pub use error::{CelError, Position};
pub use expression::{guard, Expression, Variables};
