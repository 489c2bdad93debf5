//! What can go wrong compiling or evaluating a CEL expression.

use std::fmt;

/// A place in an expression's source: 1-based line and column (in characters), and the byte
/// range it covers, so a caller can point inside the YAML string that holds the expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line within the expression.
    pub line: u32,
    /// 1-based column within that line, in characters.
    pub column: u32,
    /// Byte offset of the start within the expression.
    pub offset: usize,
    /// Length in bytes (at least 1 when the expression is not empty).
    pub len: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why an expression could not be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CelError {
    /// The text is not CEL.
    #[error("ERROR: <input>:{at}: {message}")]
    Syntax {
        /// The parser's message.
        message: String,
        /// Where the parser stopped.
        at: Position,
    },
    /// The expression names a variable the environment does not declare.
    #[error("ERROR: <input>:{at}: undeclared reference to '{name}'")]
    Undeclared {
        /// The identifier.
        name: String,
        /// Where it is used first.
        at: Position,
    },
    /// Evaluation failed (no such key, no matching overload, division by zero, …).
    #[error("{0}")]
    Evaluation(String),
    /// A guard (when-expression, filter) gave something other than a bool.
    #[error("The CEL expression {expression} is not evaluated to a boolean")]
    NotBool {
        /// The expression as evaluated.
        expression: String,
        /// The CEL type it gave instead.
        got: String,
    },
    /// The value an expression gave cannot be represented as JSON.
    #[error("the value of the CEL expression cannot be written as JSON: {0}")]
    Output(String),
}

impl CelError {
    /// Where in the expression the error is, for compile errors.
    pub fn position(&self) -> Option<Position> {
        match self {
            CelError::Syntax { at, .. } | CelError::Undeclared { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// The message without the `ERROR: <input>:l:c:` prefix, for located diagnostics.
    pub fn detail(&self) -> String {
        match self {
            CelError::Syntax { message, .. } => message.clone(),
            CelError::Undeclared { name, .. } => format!("undeclared reference to '{name}'"),
            other => other.to_string(),
        }
    }
}
