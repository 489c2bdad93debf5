//! The listener's HTTP answers, byte for byte as Tekton's sink writes them (spec §2.9).

use std::fmt::Write as _;

/// Who answered: the listener's identity as every response names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerIdentity {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`.
    pub uid: String,
}

/// The `202` body: `{"eventListener","namespace","eventListenerUID","eventID"}` in that order,
/// empty `namespace`/`eventID` omitted, plus a newline unless it is a CloudEvent answer.
pub fn accepted_body(listener: &ListenerIdentity, event_id: &str, newline: bool) -> String {
    let mut out = String::from("{");
    field(&mut out, "eventListener", &listener.name, false);
    if !listener.namespace.is_empty() {
        field(&mut out, "namespace", &listener.namespace, true);
    }
    field(&mut out, "eventListenerUID", &listener.uid, true);
    if !event_id.is_empty() {
        field(&mut out, "eventID", event_id, true);
    }
    out.push('}');
    if newline {
        out.push('\n');
    }
    out
}

/// The `400` body for a body that is not a JSON object: `eventListenerUID` is empty and there
/// is no `eventID` (none was assigned).
pub fn invalid_body(listener: &ListenerIdentity, parser_error: &str) -> String {
    let mut out = String::from("{");
    field(&mut out, "eventListener", &listener.name, false);
    if !listener.namespace.is_empty() {
        field(&mut out, "namespace", &listener.namespace, true);
    }
    field(&mut out, "eventListenerUID", "", true);
    field(
        &mut out,
        "errorMessage",
        &format!("Invalid event body format : {parser_error}"),
        true,
    );
    out.push_str("}\n");
    out
}

/// The headers of a binary-mode CloudEvent `202` (spec §2.9, E8).
pub fn cloud_event_headers(
    listener: &ListenerIdentity,
    event_id: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("Ce-Specversion", "1.0".to_string()),
        ("Ce-Id", event_id.to_string()),
        (
            "Ce-Type",
            "dev.tekton.event.triggers.accepted.v1".to_string(),
        ),
        ("Ce-Source", listener.name.clone()),
        (
            "Ce-Subject",
            format!(
                "{}.{} accepted {event_id}",
                listener.namespace, listener.name
            ),
        ),
    ]
}

/// Whether a request is a CloudEvent: its media type, or a `Ce-Specversion` header.
pub fn is_cloud_event(content_type: Option<&str>, spec_version: Option<&str>) -> bool {
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    matches!(
        media.as_deref(),
        Some("application/cloudevents+json" | "application/cloudevents-batch+json")
    ) || matches!(spec_version, Some("1.0" | "0.3"))
}

fn field(out: &mut String, name: &str, value: &str, comma: bool) {
    if comma {
        out.push(',');
    }
    let _ = write!(out, "\"{name}\":\"{}\"", crate::go_json::escape(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener() -> ListenerIdentity {
        ListenerIdentity {
            name: "gh-listener".into(),
            namespace: "ci".into(),
            uid: "3f0c9a52-1b7e-4a8e-9a37-2c5d0f1e7b11".into(),
        }
    }

    #[test]
    fn accepted_body_is_the_sinks_byte_for_byte() {
        assert_eq!(
            accepted_body(&listener(), "E", true),
            "{\"eventListener\":\"gh-listener\",\"namespace\":\"ci\",\
             \"eventListenerUID\":\"3f0c9a52-1b7e-4a8e-9a37-2c5d0f1e7b11\",\"eventID\":\"E\"}\n"
        );
        let no_ns = ListenerIdentity {
            namespace: String::new(),
            uid: String::new(),
            ..listener()
        };
        assert_eq!(
            accepted_body(&no_ns, "E", false),
            "{\"eventListener\":\"gh-listener\",\"eventListenerUID\":\"\",\"eventID\":\"E\"}"
        );
    }

    #[test]
    fn invalid_body_escapes_like_go() {
        assert_eq!(
            invalid_body(
                &listener(),
                "invalid character '<' looking for beginning of value"
            ),
            "{\"eventListener\":\"gh-listener\",\"namespace\":\"ci\",\"eventListenerUID\":\"\",\
             \"errorMessage\":\"Invalid event body format : invalid character '\\u003c' looking \
             for beginning of value\"}\n"
        );
    }

    #[test]
    fn cloud_events_are_recognised_by_media_type_or_header() {
        assert!(is_cloud_event(
            Some("application/cloudevents+json; charset=utf-8"),
            None
        ));
        assert!(is_cloud_event(Some("application/json"), Some("1.0")));
        assert!(!is_cloud_event(Some("application/json"), None));
        assert!(!is_cloud_event(None, Some("2.0")));
        let h = cloud_event_headers(&listener(), "E");
        assert!(h.contains(&("Ce-Subject", "ci.gh-listener accepted E".to_string())));
    }
}
