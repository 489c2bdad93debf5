//! The `bitbucket` interceptor (spec §4.3): `X-Event-Key` allow-list and Bitbucket Server's
//! `X-Hub-Signature` HMAC.
//!
//! # Design
//!
//! Params (3), `eventTypes` (9), then `secretRef`: an empty key is 9, a missing signature 3,
//! an unreadable Secret or a bad signature 9. The signature rule is GitHub's
//! ([`super::signature`]).
//!
//! # Invariants
//!
//! - The HMAC covers the exact received bytes and is compared in constant time.
//!
//! # Not yet
//!
//! - Nothing known. (Bitbucket Cloud signs nothing: configure `eventTypes` only.)

use serde_json::{Map, Value};

use super::params::{allow_event, decode, read_secret, required_header, SecretAndEvents};
use super::signature::verify;
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
        header.first("X-Event-Key").unwrap_or(""),
    )?;
    if let Some(secret) = &params.secret_ref {
        secret.require_key("bitbucket")?;
        let signature = required_header(header, "X-Hub-Signature", Code::InvalidArgument)?;
        let key = read_secret(secrets, request.context, secret, "secret")?;
        verify(signature, request.body, &key)
            .map_err(|e| Response::stop(Code::FailedPrecondition, e.to_string()))?;
    }
    Ok(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::interceptor::fixture::{stop, Call};
    use crate::triggers::interceptor::SecretMap;
    use serde_json::json;

    const BODY: &str = r#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"},"pusher":{"name":"octo"}}"#;
    const SIGNATURE: &str =
        "sha256=036ac7155c521f803af158bca8e6a4870b975d837df65bbbf464418785a5881a";

    fn run(pairs: &[(&str, &str)], params: Value) -> Result<Map<String, Value>, Response> {
        let mut secrets = SecretMap::new();
        secrets.insert("ci", "bb", "token", "s3cr3t");
        process(&secrets, &Call::new(pairs, BODY, params).request())
    }

    fn params() -> Value {
        json!({"secretRef": {"secretName": "bb", "secretKey": "token"}, "eventTypes": ["repo:refs_changed"]})
    }

    #[test]
    fn a_server_signature_and_event_proceed() {
        let ok = run(
            &[
                ("X-Event-Key", "repo:refs_changed"),
                ("X-Hub-Signature", SIGNATURE),
            ],
            params(),
        );
        assert_eq!(ok, Ok(Map::new()));
        // Cloud: no secret, event types only.
        let cloud = run(
            &[("X-Event-Key", "repo:push")],
            json!({"eventTypes": ["repo:push"]}),
        );
        assert_eq!(cloud, Ok(Map::new()));
    }

    #[test]
    fn signature_and_event_failures_use_upstream_codes() {
        assert_eq!(
            stop(run(&[("X-Event-Key", "repo:refs_changed")], params())),
            (3, "no X-Hub-Signature header set".into())
        );
        assert_eq!(
            stop(run(
                &[
                    ("X-Event-Key", "repo:refs_changed"),
                    ("X-Hub-Signature", &SIGNATURE.replace("036a", "136a"))
                ],
                params()
            )),
            (9, "payload signature check failed".into())
        );
        assert_eq!(
            stop(run(
                &[("X-Event-Key", "pr:opened"), ("X-Hub-Signature", SIGNATURE)],
                params()
            )),
            (9, "event type pr:opened is not allowed".into())
        );
        assert_eq!(
            stop(run(
                &[("X-Hub-Signature", SIGNATURE)],
                json!({"secretRef": {"secretName": "bb", "secretKey": ""}})
            )),
            (
                9,
                "bitbucket interceptor secretRef.secretKey is empty".into()
            )
        );
        assert_eq!(
            stop(run(
                &[("X-Hub-Signature", "sha256=q")],
                json!({"secretRef": {"secretName": "bb", "secretKey": "token"}})
            ))
            .0,
            9
        );
        let (code, message) = stop(run(
            &[("X-Hub-Signature", SIGNATURE)],
            json!({"secretRef": {"secretName": "bb", "secretKey": "other"}}),
        ));
        assert_eq!(code, 9);
        assert!(
            message.contains("cannot find other key in secret ci/bb"),
            "{message}"
        );
    }
}
