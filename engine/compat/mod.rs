//! Field coverage: what `adze run` does with every field of the Tekton types it reads.
//!
//! # Why
//!
//! A field adze reads but does not act on is the worst kind of difference from Tekton: the
//! run "works" and does something else. So every field reachable from the five kinds is
//! classified in one [`table`], and the classification is enforced twice: by a unit test
//! that walks the types (derived from the Rust types through their JSON schemas, so a field
//! added to a type or to an embedded `k8s-openapi` type on an upgrade fails the test until it
//! is classified), and at run time by [`check`], which refuses or warns about what a document
//! actually sets before anything starts. `docs/compatibility.md` is rendered from the same
//! table ([`doc`]) and a test keeps it current.
//!
//! # Invariants
//!
//! - Every field reachable from the kinds through [`Support::PerField`] rows has exactly one
//!   row; every row names a reachable field ([`walk::coverage`] reports both mistakes).
//! - [`check`] never reports a field the document does not set, and reports each set field at
//!   its own location with the table's reason.
//!
//! # Not yet
//!
//! - `adze validate` and `adze plan` do not report these (they judge Tekton validity, not what
//!   the local executor can do); only `adze run` does.

pub mod check;
pub mod doc;
pub mod schema;
pub mod table;
pub mod walk;

/// What `adze run` does with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Works as Tekton runs it.
    Honoured,
    /// Works, with the difference given.
    Differs(&'static str),
    /// Accepted and recorded, but has no effect locally (a warning says so); the reason.
    NoEffect(&'static str),
    /// Works locally as described, and the run warns when it is used; refused under `--strict`
    /// before anything starts.
    Warned(&'static str),
    /// Refused before anything starts; the reason.
    Refused(&'static str),
    /// Classified field by field: the rows of the field's type apply.
    PerField,
}

impl Support {
    /// The short label used in the compatibility table.
    pub fn label(self) -> &'static str {
        match self {
            Support::Honoured => "honoured",
            Support::Differs(_) => "honoured, differs",
            Support::NoEffect(_) => "no effect locally",
            Support::Warned(_) => "honoured with a warning",
            Support::Refused(_) => "refused",
            Support::PerField => "per field",
        }
    }

    /// The reason or difference, if the row has one.
    pub fn note(self) -> Option<&'static str> {
        match self {
            Support::Differs(s)
            | Support::NoEffect(s)
            | Support::Warned(s)
            | Support::Refused(s) => Some(s),
            Support::Honoured | Support::PerField => None,
        }
    }
}

/// The row for `Type.field`, if there is one.
pub fn support(type_name: &str, field: &str) -> Option<Support> {
    table::FIELDS
        .iter()
        .find(|(path, _)| {
            path.split_once('.')
                .is_some_and(|(t, f)| t == type_name && f == field)
        })
        .map(|(_, s)| *s)
}
