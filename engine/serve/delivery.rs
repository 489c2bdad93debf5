//! Delivery ids: the header a sender repeats, unchanged, when it redelivers an event.

use crate::triggers::Headers;

/// Headers that identify one delivery, in the order they are looked for: GitHub, GitLab,
/// Bitbucket (Cloud and Server), and CloudEvents (`Ce-Id` with its source).
const DELIVERY_HEADERS: &[&str] = &[
    "X-GitHub-Delivery",
    "X-Gitlab-Event-UUID",
    "X-Request-UUID",
    "X-Request-Id",
];

/// The sender's delivery id, prefixed with the header it came from so ids of different
/// senders never collide.
pub fn delivery_id(headers: &Headers) -> Option<String> {
    for name in DELIVERY_HEADERS {
        if let Some(id) = headers.first(name).filter(|v| !v.is_empty()) {
            return Some(format!("{}:{id}", name.to_ascii_lowercase()));
        }
    }
    let source = headers.first("Ce-Source").unwrap_or("");
    headers
        .first("Ce-Id")
        .filter(|v| !v.is_empty())
        .map(|id| format!("ce:{source}:{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_first_known_header_and_name_it() {
        let mut h = Headers::new();
        assert_eq!(delivery_id(&h), None);
        h.append("x-github-delivery", "72d3162e");
        assert_eq!(
            delivery_id(&h).as_deref(),
            Some("x-github-delivery:72d3162e")
        );
        let mut ce = Headers::new();
        ce.append("Ce-Id", "42");
        ce.append("Ce-Source", "/ci");
        assert_eq!(delivery_id(&ce).as_deref(), Some("ce:/ci:42"));
    }
}
