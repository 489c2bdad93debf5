//! Diagnostics: what the loader and the validator report about a user's files.
//!
//! A diagnostic carries a stable rule code (documented in the README), the Tekton-style
//! object path it is about, and a resolved source location, so every renderer (terminal
//! snippets, JSON) shows the same facts.

use serde::Serialize;

pub use crate::load::source::Anchor;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Tekton would reject the object.
    Error,
    /// Accepted by Tekton, but likely a mistake or a risk.
    Warning,
}

/// A position in a loaded file, resolved from an object path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Index of the file in the loader's file table.
    #[serde(skip)]
    pub file: usize,
    /// The file's display name.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Length of the underlined text in characters (at least 1).
    pub len: u32,
}

/// One finding about the user's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable rule code, e.g. `names/dns-label`.
    pub code: &'static str,
    /// What is wrong, in Tekton's words where Tekton has words for it.
    pub message: String,
    /// Object path the finding is about, e.g. `spec.tasks[0].name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The object, as `Kind/name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Where in the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Which part of the field to point at.
    #[serde(skip)]
    pub anchor: Anchor,
    /// Another place the finding is about (the first of two duplicates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<Related>,
}

/// A second place a diagnostic points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    /// Object path in the same object.
    pub field: String,
    /// What is there, e.g. "first declared here".
    pub message: String,
    /// Where in the source, once located.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Diagnostic {
    /// A new error with a rule code and message.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            field: None,
            object: None,
            location: None,
            hint: None,
            anchor: Anchor::Value,
            related: None,
        }
    }

    /// A new warning with a rule code and message.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    /// Sets the object path the diagnostic is about.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds a hint on how to fix it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Points at the field's key rather than its value.
    pub fn at_key(mut self) -> Self {
        self.anchor = Anchor::Key;
        self
    }

    /// Points at a byte range inside the field's string value.
    pub fn inside(mut self, start: usize, len: usize) -> Self {
        self.anchor = Anchor::Inside(start, len);
        self
    }

    /// Also points at `field` (in the same object) with `message`.
    pub fn related(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.related = Some(Related {
            field: field.into(),
            message: message.into(),
            location: None,
        });
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
