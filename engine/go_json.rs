//! JSON text as Go's `encoding/json` writes it: what Triggers renders param values with
//! (spec §3.4), CEL's `marshalJSON` and overlays, and the EventListener's answers, so text
//! computed here is byte-identical to the reference's.
//!
//! Differences from `serde_json`'s compact writer: object keys sorted by byte order, numbers
//! as float64 (`1` for `1.0`, `1e+21`, `1e-7`), and `<`, `>`, `&`, U+2028, U+2029 escaped.

use serde_json::Value;

/// Compact JSON of `value` in Go's style.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// Appends the compact Go-style JSON of `value` to `out`.
pub fn write(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => {
            out.push('"');
            escape_into(s, out);
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                escape_into(k, out);
                out.push_str("\":");
                write(v, out);
            }
            out.push('}');
        }
    }
}

/// The body of a JSON string literal for `s` (no surrounding quotes), escaped as Go does.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, &mut out);
    out
}

fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // HTML-safe escaping, on by default in Go's encoder.
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
}

/// A float64 as Go's encoder writes it: shortest round-trip digits, plain decimal for
/// `1e-6 <= |f| < 1e21`, else exponent form with a signed exponent of at least one digit.
pub fn float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_take_go_float64_form() {
        for (f, text) in [
            (42.0, "42"),
            (1.0, "1"),
            (1e3, "1000"),
            (0.5, "0.5"),
            (1e-7, "1e-7"),
            (1e21, "1e+21"),
            (1.5e22, "1.5e+22"),
            (1e-6, "0.000001"),
            (-3.25, "-3.25"),
            (0.0, "0"),
            (123456789012345680000.0, "123456789012345680000"),
        ] {
            assert_eq!(float(f), text, "{f}");
        }
    }

    #[test]
    fn objects_sorted_strings_html_escaped() {
        let v = json!({"z": 1, "k": "<v>", "a": [true, null, 2.50, "x&y\u{2028}"], "B": "\u{1}\u{8}\"\\"});
        assert_eq!(
            to_string(&v),
            r#"{"B":"\u0001\b\"\\","a":[true,null,2.5,"x\u0026y\u2028"],"k":"\u003cv\u003e","z":1}"#
        );
    }
}
