//! Payload validation (spec §2.2 step 2): the body must be a JSON object (or `null`), and a
//! body that is not gets Go's `encoding/json` message, word for word, because senders and
//! tests compare it.
//!
//! Go's scanner names the context a bad byte was found in ("looking for beginning of
//! value", "after object key", …); a small scanner below tracks the same contexts.

/// Checks that `body` is what Go's `json.Unmarshal` into a `map[string]interface{}` accepts,
/// returning its error message otherwise.
pub fn validate_object(body: &[u8]) -> Result<(), String> {
    let mut scanner = Scanner { bytes: body, at: 0 };
    scanner.skip_space();
    let first = scanner.peek();
    scanner.value()?;
    scanner.skip_space();
    if let Some(c) = scanner.peek() {
        return Err(invalid(c, "after top-level value"));
    }
    match first {
        Some(b'{') | Some(b'n') => Ok(()),
        Some(b'[') => Err(unmarshal("array")),
        Some(b'"') => Err(unmarshal("string")),
        Some(b't') | Some(b'f') => Err(unmarshal("bool")),
        _ => Err(unmarshal("number")),
    }
}

fn unmarshal(what: &str) -> String {
    format!("json: cannot unmarshal {what} into Go value of type map[string]interface {{}}")
}

const EOF: &str = "unexpected end of JSON input";

/// Go's `invalid character 'c' <context>`, with Go's quoting of the character.
fn invalid(c: u8, context: &str) -> String {
    let quoted = match c {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        b'\n' => "'\\n'".to_string(),
        b'\r' => "'\\r'".to_string(),
        b'\t' => "'\\t'".to_string(),
        0x20..=0x7e => format!("'{}'", c as char),
        // Go quotes other control bytes and non-ASCII as \x.. (strconv.Quote of one byte).
        _ => format!("'\\x{c:02x}'"),
    };
    format!("invalid character {quoted} {context}")
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Result<u8, String> {
        let c = self.peek().ok_or(EOF)?;
        self.at += 1;
        Ok(c)
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// One value, leading space skipped. Iterative, so a deeply nested body cannot overflow
    /// the stack; nesting stops at 10,000 levels as Go's decoder does.
    fn value(&mut self) -> Result<(), String> {
        // Open containers, innermost last: `{` or `[`.
        let mut open: Vec<u8> = Vec::new();
        'value: loop {
            if open.len() > 10_000 {
                return Err("exceeded max depth".into());
            }
            self.skip_space();
            let c = self.next()?;
            match c {
                b'{' => {
                    self.skip_space();
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                    } else {
                        self.key()?;
                        open.push(b'{');
                        continue 'value;
                    }
                }
                b'[' => {
                    self.skip_space();
                    if self.peek() == Some(b']') {
                        self.at += 1;
                    } else {
                        open.push(b'[');
                        continue 'value;
                    }
                }
                b'"' => self.string()?,
                b'-' | b'0'..=b'9' => self.number(c)?,
                b't' => self.literal(b"rue", "true")?,
                b'f' => self.literal(b"alse", "false")?,
                b'n' => self.literal(b"ull", "null")?,
                _ => return Err(invalid(c, "looking for beginning of value")),
            }
            // A value ended: close what it ends, until a `,` asks for the next one.
            while let Some(&container) = open.last() {
                self.skip_space();
                match (container, self.next()?) {
                    (b'{', b',') => {
                        self.key()?;
                        continue 'value;
                    }
                    (b'{', b'}') | (b'[', b']') => {
                        open.pop();
                    }
                    (b'{', c) => return Err(invalid(c, "after object key:value pair")),
                    (_, b',') => continue 'value,
                    (_, c) => return Err(invalid(c, "after array element")),
                }
            }
            return Ok(());
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> Result<(), String> {
        self.skip_space();
        match self.next()? {
            b'"' => self.string()?,
            c => return Err(invalid(c, "looking for beginning of object key string")),
        }
        self.skip_space();
        match self.next()? {
            b':' => Ok(()),
            c => Err(invalid(c, "after object key")),
        }
    }

    fn string(&mut self) -> Result<(), String> {
        loop {
            match self.next()? {
                b'"' => return Ok(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            let h = self.next()?;
                            if !h.is_ascii_hexdigit() {
                                return Err(invalid(h, "in \\u hexadecimal character escape"));
                            }
                        }
                    }
                    c => return Err(invalid(c, "in string escape code")),
                },
                c if c < 0x20 => return Err(invalid(c, "in string literal")),
                _ => {}
            }
        }
    }

    fn number(&mut self, first: u8) -> Result<(), String> {
        let mut c = first;
        if c == b'-' {
            c = self.next()?;
            if !c.is_ascii_digit() {
                return Err(invalid(c, "in numeric literal"));
            }
        }
        if c != b'0' {
            self.digits();
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            let d = self.next()?;
            if !d.is_ascii_digit() {
                return Err(invalid(d, "after decimal point in numeric literal"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            let mut d = self.next()?;
            if d == b'+' || d == b'-' {
                d = self.next()?;
            }
            if !d.is_ascii_digit() {
                return Err(invalid(d, "in exponent of numeric literal"));
            }
            self.digits();
        }
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, rest: &[u8], word: &str) -> Result<(), String> {
        for &want in rest {
            let c = self.next()?;
            if c != want {
                return Err(invalid(
                    c,
                    &format!("in literal {word} (expecting '{}')", want as char),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_null_pass() {
        for ok in [
            &b"{}"[..],
            b" {\"a\": [1, 2.5e-3, \"x\\u00e9\", true, null]} ",
            b"null",
        ] {
            assert_eq!(
                validate_object(ok),
                Ok(()),
                "{}",
                String::from_utf8_lossy(ok)
            );
        }
    }

    #[test]
    fn go_messages_for_what_is_not_an_object() {
        let cases: &[(&[u8], &str)] = &[
            // Spec §7 E6.
            (b"{\"ref\": ", "unexpected end of JSON input"),
            (
                b"[1,2]",
                "json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
            (b"", "unexpected end of JSON input"),
            (
                b"<x>",
                "invalid character '<' looking for beginning of value",
            ),
            (
                b"\"s\"",
                "json: cannot unmarshal string into Go value of type map[string]interface {}",
            ),
            (
                b"42",
                "json: cannot unmarshal number into Go value of type map[string]interface {}",
            ),
            (
                b"true",
                "json: cannot unmarshal bool into Go value of type map[string]interface {}",
            ),
            (b"{} x", "invalid character 'x' after top-level value"),
            (
                b"{a}",
                "invalid character 'a' looking for beginning of object key string",
            ),
            (b"{\"a\" 1}", "invalid character '1' after object key"),
            (
                b"{\"a\":1 \"b\"}",
                "invalid character '\"' after object key:value pair",
            ),
            (b"[1 2]", "invalid character '2' after array element"),
            (
                b"{\"a\":tru}",
                "invalid character '}' in literal true (expecting 'e')",
            ),
            (
                b"{\"a\":\"\\q\"}",
                "invalid character 'q' in string escape code",
            ),
            (
                b"{\"a\":\"x\ny\"}",
                "invalid character '\\n' in string literal",
            ),
            (b"{\"a\":-x}", "invalid character 'x' in numeric literal"),
            (
                b"{\"a\":1.}",
                "invalid character '}' after decimal point in numeric literal",
            ),
            (
                b"{\"a\":1e}",
                "invalid character '}' in exponent of numeric literal",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(
                validate_object(body).unwrap_err(),
                *want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn deep_nesting_and_random_bytes_never_panic() {
        let deep = "[".repeat(20_000);
        assert!(validate_object(deep.as_bytes()).is_err());
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2_000 {
            let len = (seed % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let alphabet = b"{}[]\":,.-+eE0123456789tfnul \\x";
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = validate_object(&bytes);
        }
    }
}
