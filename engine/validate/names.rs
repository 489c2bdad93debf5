//! Name formats and duplicate detection (spec §2.1).

use std::collections::HashMap;

use super::Ctx;
use crate::diagnostic::Diagnostic;

/// Longest DNS-1123 label.
pub const MAX_LABEL: usize = 63;

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LABEL
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// The message Kubernetes uses for a bad label.
pub fn dns1123_label_message(value: &str) -> String {
    if value.len() > MAX_LABEL {
        format!("invalid value \"{value}\": must be no more than 63 characters")
    } else {
        format!(
            "invalid value \"{value}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        )
    }
}

/// A lowercase, dash-separated suggestion for a bad name (`Build_Image` → `build-image`).
pub fn suggest_label(value: &str) -> String {
    let mut out: String = value
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '-' => c,
            _ => '-',
        })
        .collect();
    out.truncate(MAX_LABEL);
    out.trim_matches('-').to_string()
}

/// Reports `value` at `path` unless it is a DNS-1123 label.
pub fn check_label(ctx: &mut Ctx<'_>, value: &str, path: &str) {
    if !is_dns1123_label(value) {
        let fix = suggest_label(value);
        let d = ctx.error("names/dns-label", path, dns1123_label_message(value));
        d.hint = Some(if fix.is_empty() || fix == value {
            "use lowercase letters, digits and '-', at most 63 characters".into()
        } else {
            format!("try \"{fix}\"")
        });
    }
}

/// How names are compared when looking for duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Exact match.
    Exact,
    /// ASCII case-insensitive (Tekton lower-cases some names first).
    CaseInsensitive,
}

/// Reports every name that repeats an earlier one. `items` yields (name, path of the name).
pub fn check_unique<'n>(
    ctx: &mut Ctx<'_>,
    what: &str,
    items: impl IntoIterator<Item = (&'n str, String)>,
    compare: Compare,
) {
    let mut seen: HashMap<String, String> = HashMap::new();
    for (name, path) in items {
        if name.is_empty() {
            continue;
        }
        let key = match compare {
            Compare::Exact => name.to_string(),
            Compare::CaseInsensitive => name.to_ascii_lowercase(),
        };
        if let Some(first) = seen.get(&key) {
            let message = format!(
                "expected exactly one, got both: {what} \"{name}\" is declared more than once"
            );
            ctx.push(
                Diagnostic::error("names/duplicate", message)
                    .at(path)
                    .related(first.clone(), "first declared here")
                    .hint(format!("rename or remove one: {what} names must be unique")),
            );
        } else {
            seen.insert(key, path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["a", "build-1", "0abc", &"a".repeat(63)] {
            assert!(is_dns1123_label(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
    }

    #[test]
    fn subdomains() {
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_subdomain("A.b"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_label("Build_Image"), "build-image");
        assert_eq!(suggest_label("_x_"), "x");
    }
}
