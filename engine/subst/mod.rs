//! Tekton's `$(...)` variables: finding them in a string, and substituting them (spec §3).
//!
//! Every field Tekton substitutes is also a place where shell lives (scripts, args), so the first
//! job here is deciding, for each `$(`, whether it opens a Tekton variable or shell's command
//! substitution: only a known root (`params`, `tasks`, `results`, …) followed by `.` or `[`
//! makes a reference; `$(date)`, `$( x )`, `$((1+2))` are shell, and `$$` is Kubernetes' escape
//! for `$`. A reference that starts like Tekton's but does not parse is reported with the span of
//! the offending text, so validation can point at it, and substitution leaves it verbatim.
//!
//! Invariants: spans are byte offsets on char boundaries of the scanned string; references
//! come in source order and never overlap; no input makes anything here panic. Substitution
//! is one pass: text it inserts is not scanned again (a later stage of §3.6 does that by
//! calling it again).

mod cursor;
mod error;
mod parse;
mod replace;
mod scan;
mod var;

pub use error::SubstError;
pub use replace::{splice_array, substitute};
pub use scan::{scan, sole_reference, Reference, Scan};
pub use var::{Access, Var};

/// Byte range of something inside the string that was scanned.
pub type ByteSpan = std::ops::Range<usize>;
