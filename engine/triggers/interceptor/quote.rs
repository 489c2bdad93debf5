//! Go's `%q` rendering of a string, which upstream interceptor messages quote values with.

use std::fmt::Write as _;

/// `s` as Go's `strconv.Quote` writes it: in double quotes, `"` and `\` escaped, control
/// characters as `\n`, `\t`, … or `\x1b`.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("sha256=ab"), "\"sha256=ab\"");
        assert_eq!(go_quote("a\"b\\c\nd\u{1b}"), "\"a\\\"b\\\\c\\nd\\x1b\"");
        assert_eq!(go_quote("é"), "\"é\"");
    }
}
