//! The error for a reference that starts like Tekton's but does not parse.

use super::ByteSpan;

/// A malformed reference, with the exact byte span of the problem and a message + hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SubstError {
    /// Byte range of the offending text in the scanned string (the whole reference if it is unclosed).
    pub span: ByteSpan,
    /// What is wrong and what was expected instead.
    pub message: String,
    /// How to fix it, when the fix is clear.
    pub hint: Option<String>,
}

impl SubstError {
    pub(super) fn new(span: ByteSpan, message: impl Into<String>) -> SubstError {
        SubstError {
            span,
            message: message.into(),
            hint: None,
        }
    }

    pub(super) fn with_hint(mut self, hint: impl Into<String>) -> SubstError {
        self.hint = Some(hint.into());
        self
    }
}
