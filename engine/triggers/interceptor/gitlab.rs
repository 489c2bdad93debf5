//! The `gitlab` interceptor (spec §4.2): `X-Gitlab-Event` allow-list and the
//! `X-Gitlab-Token` shared secret.
//!
//! # Design
//!
//! Params (3), `eventTypes` (9), then `secretRef`: an empty key is 9, a missing token header
//! 3, an unreadable Secret 9, a token that differs 3 — upstream's codes.
//!
//! # Invariants
//!
//! - The token is compared with the Secret's raw bytes in constant time; neither appears in
//!   a message.
//!
//! # Not yet
//!
//! - Nothing known.

use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::params::{allow_event, decode, read_secret, required_header, SecretAndEvents};
use super::{Code, Request, Response, Secrets};

/// Runs the interceptor: extensions to add (none), or the response that stops the trigger.
pub(super) fn process(
    secrets: &dyn Secrets,
    request: &Request<'_>,
) -> Result<Map<String, Value>, Response> {
    let params: SecretAndEvents = decode(request.params)?;
    let header = request.header;
    allow_event(
        params.event_types.as_deref(),
        header.first("X-Gitlab-Event").unwrap_or(""),
    )?;
    if let Some(secret) = &params.secret_ref {
        secret.require_key("gitlab")?;
        let token = required_header(header, "X-GitLab-Token", Code::InvalidArgument)?;
        let expected = read_secret(secrets, request.context, secret, "secret")?;
        if !bool::from(token.as_bytes().ct_eq(&expected)) {
            return Err(Response::stop(
                Code::InvalidArgument,
                "Invalid X-GitLab-Token",
            ));
        }
    }
    Ok(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::interceptor::fixture::{stop, Call};
    use crate::triggers::interceptor::SecretMap;
    use serde_json::json;

    fn run(pairs: &[(&str, &str)], params: Value) -> Result<Map<String, Value>, Response> {
        let mut secrets = SecretMap::new();
        secrets.insert("ci", "gl", "token", "t0ken");
        process(&secrets, &Call::new(pairs, "{}", params).request())
    }

    fn params() -> Value {
        json!({"secretRef": {"secretName": "gl", "secretKey": "token"}, "eventTypes": ["Push Hook"]})
    }

    #[test]
    fn a_matching_token_and_event_proceed() {
        let ok = run(
            &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "t0ken")],
            params(),
        );
        assert_eq!(ok, Ok(Map::new()));
    }

    #[test]
    fn token_and_event_failures_use_upstream_codes() {
        assert_eq!(
            stop(run(
                &[
                    ("X-Gitlab-Event", "Push Hook"),
                    ("X-Gitlab-Token", "t0ken\n")
                ],
                params()
            )),
            (3, "Invalid X-GitLab-Token".into())
        );
        assert_eq!(
            stop(run(
                &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "t0ke")],
                params()
            )),
            (3, "Invalid X-GitLab-Token".into())
        );
        assert_eq!(
            stop(run(&[("X-Gitlab-Event", "Push Hook")], params())),
            (3, "no X-GitLab-Token header set".into())
        );
        assert_eq!(
            stop(run(
                &[
                    ("X-Gitlab-Event", "Merge Request Hook"),
                    ("X-Gitlab-Token", "t0ken")
                ],
                params()
            )),
            (9, "event type Merge Request Hook is not allowed".into())
        );
        assert_eq!(
            stop(run(
                &[("X-Gitlab-Token", "t0ken")],
                json!({"secretRef": {"secretName": "gl", "secretKey": ""}})
            )),
            (9, "gitlab interceptor secretRef.secretKey is empty".into())
        );
        let (code, message) = stop(run(
            &[("X-Gitlab-Token", "t0ken")],
            json!({"secretRef": {"secretName": "missing", "secretKey": "token"}}),
        ));
        assert_eq!(code, 9);
        assert!(message.starts_with("error getting secret: "), "{message}");
        assert_eq!(stop(run(&[], json!({"eventTypes": 1}))).0, 3);
    }
}
