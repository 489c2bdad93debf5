//! What the built-ins share: decoding `interceptor_params`, the `eventTypes` allow-list and
//! reading a `secretRef` from the trigger's namespace.
//!
//! # Design
//!
//! Each helper answers `Err(Response)` with the code and message that stop the trigger, so
//! a built-in reads as its list of checks joined by `?`.
//!
//! # Invariants
//!
//! - Secrets are read from the namespace of `context.trigger_id` only, raw (no trimming).
//! - `eventTypes: null` is absent (every event passes); `[]` rejects every event.
//!
//! # Not yet
//!
//! - Go matches param names case-insensitively (`secretref` works upstream); here they
//!   must be spelled as documented (`secretRef`), or they are ignored as unknown fields.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Code, Context, Response, Secrets};
use crate::triggers::Headers;

/// `secretRef` / `personalAccessToken`: a key of a Secret in the trigger's namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SecretRef {
    /// The Secret.
    #[serde(default)]
    pub secret_name: String,
    /// The key of its `data`.
    #[serde(default)]
    pub secret_key: String,
}

impl SecretRef {
    /// Refuses an empty `secretKey` (code 9), before any header or Secret is read.
    pub fn require_key(&self, interceptor: &str) -> Result<(), Response> {
        if self.secret_key.is_empty() {
            return Err(Response::stop(
                Code::FailedPrecondition,
                format!("{interceptor} interceptor secretRef.secretKey is empty"),
            ));
        }
        Ok(())
    }
}

/// The params `gitlab` and `bitbucket` take.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SecretAndEvents {
    /// The shared secret or HMAC key.
    pub secret_ref: Option<SecretRef>,
    /// The allowed events, when present.
    pub event_types: Option<Vec<String>>,
}

/// The first value of header `name` (any case), which must be there and non-empty; else
/// the trigger stops with `code` and `no <name> header set`.
pub(super) fn required_header<'h>(
    header: &'h Headers,
    name: &str,
    code: Code,
) -> Result<&'h str, Response> {
    header
        .first(name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| Response::stop(code, format!("no {name} header set")))
}

/// Decodes an interceptor's params; unknown fields are ignored, as upstream's decoder does.
/// A malformed value stops the trigger with code 3, naming the field.
pub(super) fn decode<T: DeserializeOwned>(params: &Map<String, Value>) -> Result<T, Response> {
    serde_path_to_error::deserialize(Value::Object(params.clone())).map_err(|e| {
        let at = e.path().to_string();
        let detail = e.inner().to_string();
        let message = if at == "." {
            format!("failed to parse interceptor params: {detail}")
        } else {
            format!("failed to parse interceptor params: {at}: {detail}")
        };
        Response::stop(Code::InvalidArgument, message)
    })
}

/// The `eventTypes` check: absent (or `null`) lets every event through, present (even `[]`)
/// only the listed ones. `actual` is the event header's first value, `""` when missing.
pub(super) fn allow_event(event_types: Option<&[String]>, actual: &str) -> Result<(), Response> {
    match event_types {
        Some(allowed) if !allowed.iter().any(|e| e == actual) => Err(Response::stop(
            Code::FailedPrecondition,
            format!("event type {actual} is not allowed"),
        )),
        _ => Ok(()),
    }
}

/// The raw bytes of `secret` in the trigger's namespace (no trimming: a trailing newline in
/// the Secret is part of it). Missing → code 9; the message names the Secret, never a value.
pub(super) fn read_secret(
    secrets: &dyn Secrets,
    context: &Context,
    secret: &SecretRef,
    what: &str,
) -> Result<Vec<u8>, Response> {
    let namespace = context.namespace();
    secrets
        .get(namespace, &secret.secret_name, &secret.secret_key)
        .ok_or_else(|| {
            Response::stop(
                Code::FailedPrecondition,
                format!(
                    "error getting {what}: cannot find {} key in secret {namespace}/{} \
                     (Secrets are read from the trigger's namespace)",
                    secret.secret_key, secret.secret_name
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::interceptor::SecretMap;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct P {
        secret_ref: Option<SecretRef>,
        event_types: Option<Vec<String>>,
    }

    #[test]
    fn malformed_params_name_the_field() {
        let params = json!({"eventTypes": "push"}).as_object().cloned().unwrap();
        let stop = decode::<P>(&params).unwrap_err();
        assert_eq!(stop.status.code, Code::InvalidArgument);
        assert_eq!(
            stop.status.message,
            "failed to parse interceptor params: eventTypes: invalid type: string \"push\", expected a sequence"
        );
        let p: P = decode(
            &json!({"eventTypes": null, "other": 1})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
        assert!(p.event_types.is_none() && p.secret_ref.is_none());
    }

    #[test]
    fn event_types_absent_pass_all_empty_reject_all() {
        assert!(allow_event(None, "push").is_ok());
        assert!(allow_event(Some(&["push".into()]), "push").is_ok());
        let stop = allow_event(Some(&[]), "push").unwrap_err();
        assert_eq!(stop.status.message, "event type push is not allowed");
        assert_eq!(stop.status.code, Code::FailedPrecondition);
    }

    #[test]
    fn secrets_come_from_the_trigger_namespace() {
        let mut secrets = SecretMap::new();
        secrets.insert("ci", "gh", "token", "s3cr3t");
        secrets.insert("other", "gh", "token", "nope");
        let context = Context {
            event_url: "/".into(),
            event_id: "e".into(),
            trigger_id: "namespaces/ci/triggers/t".into(),
        };
        let r = SecretRef {
            secret_name: "gh".into(),
            secret_key: "token".into(),
        };
        assert_eq!(
            read_secret(&secrets, &context, &r, "secret").unwrap(),
            b"s3cr3t"
        );
        let missing = SecretRef {
            secret_key: "missing".into(),
            ..r
        };
        let stop = read_secret(&secrets, &context, &missing, "secret").unwrap_err();
        assert!(
            stop.status
                .message
                .starts_with("error getting secret: cannot find missing key in secret ci/gh"),
            "{}",
            stop.status.message
        );
    }
}
