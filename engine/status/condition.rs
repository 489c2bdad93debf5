//! The one `Succeeded` condition every run carries (§5.1).

use serde_json::{Map, Value};

use super::time::rfc3339;
use super::MapExt;
use crate::reconcile::Timestamp;

/// `{type: Succeeded, status, reason, message, lastTransitionTime}`.
///
/// `severity` is left out: it is always empty for `Succeeded`, and Knative omits it then.
pub fn succeeded(
    status: &str,
    reason: &str,
    message: &str,
    last_transition: Option<Timestamp>,
) -> Value {
    let mut c = Map::new();
    c.insert("type".into(), "Succeeded".into());
    c.insert("status".into(), status.into());
    c.put_str("reason", reason);
    c.put_str("message", message);
    c.put_opt(
        "lastTransitionTime",
        last_transition.map(|t| rfc3339(t).into()),
    );
    Value::Object(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_reason_message_and_time_are_left_out() {
        let c = succeeded("Unknown", "", "", None);
        assert_eq!(
            c,
            serde_json::json!({"type": "Succeeded", "status": "Unknown"})
        );
    }
}
