//! Finding `$(...)` expressions in a binding value and turning each into a JSONPath
//! (spec §3.1, §3.2, §3.5).
//!
//! This is not `subst::scan`: Triggers splits at every `$(` and balances parentheses inside
//! each piece, so `$($(body.b))` holds one expression, `body.b`, and the text around it is
//! literal. Tekton's own variables (`$(params.x)`) are never looked for here.

use super::header::canonical_header_name;
use super::jsonpath::{Path, PathError};

/// One expression: its text as written, `$(` and `)` included, and the inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression<'a> {
    /// `$(body.x)`: what the rendered value replaces.
    pub original: &'a str,
    /// `body.x`.
    pub inner: &'a str,
}

/// Every expression of `value`, in order (spec §3.1).
pub fn expressions(value: &str) -> Vec<Expression<'_>> {
    let mut out = Vec::new();
    let mut starts = value.match_indices("$(").map(|(i, _)| i).peekable();
    while let Some(start) = starts.next() {
        let segment_end = starts.peek().copied().unwrap_or(value.len());
        let segment = &value[start + 2..segment_end];
        let mut depth = 0usize;
        for (i, c) in segment.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    out.push(Expression {
                        original: &value[start..start + 2 + i + 1],
                        inner: &segment[..i],
                    });
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
    }
    out
}

/// Byte offset of the first `$(` that has no `)` before the next `$(` (admission rejects
/// these in TriggerBinding params: `$(body.a $(body.b)`).
pub fn unterminated(value: &str) -> Option<usize> {
    let starts: Vec<usize> = value.match_indices("$(").map(|(i, _)| i).collect();
    starts.windows(2).find_map(|w| {
        let between = &value[w[0] + 2..w[1]];
        (!between.contains(')')).then_some(w[0])
    })
}

/// The JSONPath action of an expression's inside: `p`, `.p`, `{p}`, `{.p}` → `.p`, with the
/// header name of a bare `header.` form canonicalised (spec §3.5).
pub fn to_path(inner: &str) -> Result<Path, PathError> {
    if inner.is_empty() {
        return Err(PathError("jsonpath expression cannot be empty".into()));
    }
    let braced = inner
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .filter(|s| !s.is_empty());
    let body = braced.unwrap_or(inner);
    let spec = body
        .strip_prefix('.')
        .filter(|s| !s.is_empty())
        .unwrap_or(body);
    if body.contains(['{', '}']) || spec.is_empty() {
        return Err(PathError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"
                .into(),
        ));
    }
    // A name holding a non-token character (`[`, space) is left alone by the canonicaliser.
    match inner.strip_prefix("header.") {
        Some(name) => Path::parse(&format!(".header.{}", canonical_header_name(name))),
        None => Path::parse(&format!(".{spec}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inners(value: &str) -> Vec<&str> {
        expressions(value).into_iter().map(|e| e.inner).collect()
    }

    #[test]
    fn scanning_balances_parentheses() {
        assert_eq!(inners("a-$(body.x)-$(header.y)"), ["body.x", "header.y"]);
        assert_eq!(
            inners("$(body.a[?(@.b == 'c')].d)"),
            ["body.a[?(@.b == 'c')].d"]
        );
        assert_eq!(inners("$(x"), Vec::<&str>::new());
        assert_eq!(inners("$($(body.b))"), ["body.b"]);
        assert_eq!(expressions("$($(body.b))")[0].original, "$(body.b)");
        assert_eq!(inners("$()"), [""]);
        assert_eq!(inners("plain"), Vec::<&str>::new());
    }

    #[test]
    fn unterminated_expressions_before_another() {
        assert_eq!(unterminated("$(body.a $(body.b)"), Some(0));
        assert_eq!(unterminated("x $(body.a) $(body.b)"), None);
        assert_eq!(unterminated("$(body.a"), None);
    }

    #[test]
    fn four_forms_and_header_canonicalisation() {
        let p = |s: &str| to_path(s).unwrap();
        assert_eq!(p("body.a"), p(".body.a"));
        assert_eq!(p("body.a"), p("{body.a}"));
        assert_eq!(p("body.a"), p("{.body.a}"));
        assert_eq!(p("header.x-github-event"), p("header.X-Github-Event"));
        // Only the bare form is canonicalised.
        assert_ne!(p("{header.x-foo}"), p("header.X-Foo"));
        assert_ne!(p(".header.x-foo"), p("header.X-Foo"));
        assert!(to_path("{body.a").is_err());
        assert!(to_path("").is_err());
        assert!(to_path("{}").is_err());
    }

    #[test]
    fn random_strings_never_panic() {
        const PIECES: &[&str] = &[
            "$(", ")", "(", "$", "{", "}", ".", "body", "header.", "x", "é", "[", "]", " ",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = next() % 14;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            for e in expressions(&text) {
                assert!(text.contains(e.original));
                assert_eq!(e.original, format!("$({})", e.inner));
                let _ = to_path(e.inner);
            }
            let _ = unterminated(&text);
        }
    }
}
