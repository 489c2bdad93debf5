//! HTTP header names in Go's canonical form, as Triggers stores and compares them.

use std::collections::BTreeMap;

/// Go's `textproto.CanonicalMIMEHeaderKey`: the first letter and each letter after `-`
/// upper-case, the rest lower-case (`x-github-event` → `X-Github-Event`). A name holding a
/// byte that is not a header token character is returned unchanged, as Go does.
pub fn canonical_header_name(name: &str) -> String {
    if !name.bytes().all(is_token_byte) {
        return name.to_string();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Request headers: canonical name → every value, in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Headers(BTreeMap<String, Vec<String>>);

impl Headers {
    /// No headers.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Adds one value under the canonical form of `name`.
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0
            .entry(canonical_header_name(name))
            .or_default()
            .push(value.into());
    }

    /// Replaces every value of `name`.
    pub fn set(&mut self, name: &str, values: Vec<String>) {
        self.0.insert(canonical_header_name(name), values);
    }

    /// Every value of `name` (any case).
    pub fn values(&self, name: &str) -> &[String] {
        self.0
            .get(&canonical_header_name(name))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The first value of `name` (any case), as interceptors read it.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.values(name).first().map(String::as_str)
    }

    /// All values of `name` joined with `,`, as `$(header.name)` renders them.
    pub fn joined(&self, name: &str) -> Option<String> {
        let values = self.values(name);
        (!values.is_empty()).then(|| values.join(","))
    }

    /// Canonical name → values, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_go_canonical_form() {
        assert_eq!(canonical_header_name("x-github-event"), "X-Github-Event");
        assert_eq!(canonical_header_name("X-GitHub-Event"), "X-Github-Event");
        assert_eq!(canonical_header_name("content-TYPE"), "Content-Type");
        assert_eq!(
            canonical_header_name("x-hub-signature-256"),
            "X-Hub-Signature-256"
        );
        // Not a token: left alone, as Go does.
        assert_eq!(canonical_header_name("x foo"), "x foo");
        assert_eq!(canonical_header_name("a[0]"), "a[0]");
    }

    #[test]
    fn repeated_headers_keep_order_and_join_with_commas() {
        let mut h = Headers::new();
        h.append("accept", "a");
        h.append("Accept", "b");
        assert_eq!(h.values("ACCEPT"), ["a", "b"]);
        assert_eq!(h.joined("accept").as_deref(), Some("a,b"));
        assert_eq!(h.first("accept"), Some("a"));
        assert_eq!(h.joined("missing"), None);
    }
}
