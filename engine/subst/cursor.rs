//! A position inside one `$(...)`, producing spans into the whole scanned string.
//!
//! The cursor only moves by whole chars, so every position, and so every span, is a char
//! boundary; slicing with them cannot panic.

use super::{ByteSpan, SubstError};

/// Where the parser is inside the reference that starts at `start`.
#[derive(Clone)]
pub(super) struct Cursor<'a> {
    src: &'a str,
    start: usize,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor just after the `$(` found at `start`.
    pub(super) fn new(src: &'a str, start: usize) -> Cursor<'a> {
        Cursor {
            src,
            start,
            pos: start + 2,
        }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn src(&self) -> &'a str {
        self.src
    }

    /// The expression text between `$(` and the cursor.
    pub(super) fn parsed(&self) -> &'a str {
        &self.src[self.start + 2..self.pos]
    }

    /// Everything from the cursor to the end of the scanned string.
    pub(super) fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        let matched = self.peek() == Some(c);
        if matched {
            self.pos += c.len_utf8();
        }
        matched
    }

    pub(super) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !keep(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// Consumes `c` or fails saying `what` was expected.
    pub(super) fn expect(&mut self, c: char, what: &str) -> Result<(), SubstError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// The span of the char at the cursor, or of the whole reference when it runs off the end.
    pub(super) fn here(&self) -> ByteSpan {
        match self.peek() {
            Some(c) => self.pos..self.pos + c.len_utf8(),
            None => self.start..self.src.len(),
        }
    }

    /// An error at the cursor: `what` was expected and something else (or the end) was found.
    pub(super) fn expected(&self, what: &str) -> SubstError {
        match self.peek() {
            Some(c) => SubstError::new(
                self.here(),
                format!("expected {what}, found `{}`", c.escape_debug()),
            ),
            None => SubstError::new(self.here(), format!("unclosed reference: expected {what}"))
                .with_hint("close the reference with `)`"),
        }
    }
}
