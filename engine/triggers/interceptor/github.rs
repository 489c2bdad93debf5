//! The `github` interceptor (spec §4.1): content type, event allow-list, the
//! `X-Hub-Signature-256` HMAC, and the changed files of a push.
//!
//! # Design
//!
//! Steps run in upstream's order and the first failure answers: form content type (3),
//! params (3), `eventTypes` (9, before any secret is read), `secretRef` (9), then
//! `addChangedFiles` (which skips the owners check), then `githubOwners`.
//!
//! # Invariants
//!
//! - Only `X-Hub-Signature-256` is read; the legacy SHA-1 `X-Hub-Signature` never
//!   authenticates (spec §5).
//! - An option adze cannot honour stops the trigger with code 13 and says so; it never
//!   lets the event through unchecked.
//!
//! # Not yet
//!
//! - `addChangedFiles` for `pull_request` (GitHub's PR-files API) and `githubOwners`
//!   (org/collaborator APIs and the repository's OWNERS file, even with `checkType: none`):
//!   adze makes no GitHub API calls yet, so these fail with code 13.

use serde_json::{Map, Value};

use super::params::{allow_event, decode, read_secret, required_header, SecretRef};
use super::signature::verify;
use super::{Code, Request, Response, Secrets};

/// The `github` params.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    secret_ref: Option<SecretRef>,
    event_types: Option<Vec<String>>,
    #[serde(default)]
    add_changed_files: Option<ChangedFiles>,
    #[serde(default)]
    github_owners: Option<Owners>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangedFiles {
    #[serde(default)]
    enabled: bool,
    personal_access_token: Option<SecretRef>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Owners {
    #[serde(default)]
    enabled: bool,
    personal_access_token: Option<SecretRef>,
    #[serde(default)]
    check_type: String,
}

/// Runs the interceptor: extensions to add, or the response that stops the trigger.
pub(super) fn process(
    secrets: &dyn Secrets,
    request: &Request<'_>,
) -> Result<Map<String, Value>, Response> {
    let header = request.header;
    if header.first("Content-Type") == Some("application/x-www-form-urlencoded") {
        return Err(Response::stop(
            Code::InvalidArgument,
            "form parameter encoding not supported, please change the hook to send JSON payloads",
        ));
    }
    let params: Params = decode(request.params)?;
    let event = header.first("X-GitHub-Event").unwrap_or("");
    allow_event(params.event_types.as_deref(), event)?;

    if let Some(secret) = &params.secret_ref {
        secret.require_key("github")?;
        let signature = required_header(header, "X-Hub-Signature-256", Code::FailedPrecondition)?;
        let key = read_secret(secrets, request.context, secret, "secret")?;
        verify(signature, request.body, &key)
            .map_err(|e| Response::stop(Code::FailedPrecondition, e.to_string()))?;
    }

    if let Some(changed) = params.add_changed_files.filter(|c| c.enabled) {
        if event != "push" && event != "pull_request" {
            return Ok(Map::new());
        }
        if let Some(token) = &changed.personal_access_token {
            if token.secret_key.is_empty() {
                return Err(Response::stop(
                    Code::FailedPrecondition,
                    "error getting secret: github interceptor githubToken.secretKey is empty",
                ));
            }
            // Unused for a push, but read as upstream does: a missing token Secret fails
            // the same way for every event.
            read_secret(secrets, request.context, token, "secret")?;
        }
        if event == "pull_request" {
            return Err(Response::stop(
                Code::Internal,
                "adze cannot list a pull request's changed files yet (addChangedFiles needs \
                 the GitHub API, which adze does not call); remove addChangedFiles or compute \
                 the list in the pipeline",
            ));
        }
        let files = push_changed_files(request.body).map_err(|e| {
            Response::stop(Code::FailedPrecondition, format!("error parsing body: {e}"))
        })?;
        return Ok(Map::from_iter([(
            "changed_files".to_owned(),
            Value::String(files),
        )]));
    }

    if let Some(owners) = params.github_owners.filter(|o| o.enabled) {
        if event != "pull_request" && event != "issue_comment" {
            return Ok(Map::new());
        }
        let token = match &owners.personal_access_token {
            None => Vec::new(),
            Some(t) if t.secret_key.is_empty() => {
                return Err(Response::stop(
                    Code::FailedPrecondition,
                    "error getting github token: github interceptor personalAccessToken.secretKey is empty",
                ))
            }
            Some(t) => read_secret(secrets, request.context, t, "github token")?,
        };
        if token.is_empty() && owners.check_type != "none" {
            return Err(Response::stop(
                Code::FailedPrecondition,
                "checkType is set to check org or repo members but no personalAccessToken was supplied",
            ));
        }
        return Err(Response::stop(
            Code::Internal,
            "adze cannot check GitHub owners yet (githubOwners needs the GitHub API for \
             members, collaborators and the OWNERS file, which adze does not call); remove \
             githubOwners or filter on body.sender.login with a cel interceptor",
        ));
    }
    Ok(Map::new())
}

/// The files a push touched: per commit its `added`, `modified` then `removed` paths,
/// joined with `,`. `repository.full_name` and, in each commit, all three lists are
/// required; a push without `commits` touched nothing.
fn push_changed_files(body: &[u8]) -> Result<String, String> {
    if body.is_empty() {
        return Err("body is empty".into());
    }
    let payload: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let repository = payload
        .get("repository")
        .and_then(Value::as_object)
        .ok_or("payload body missing 'repository' field")?;
    let full_name = repository
        .get("full_name")
        .and_then(Value::as_str)
        .ok_or("payload body missing 'repository.full_name' field")?;
    if !full_name.contains('/') {
        return Err(format!(
            "payload body 'repository.full_name' is {full_name:?}, not owner/name"
        ));
    }
    let mut files = Vec::new();
    for commit in payload
        .get("commits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for list in ["added", "modified", "removed"] {
            let paths = commit
                .get(list)
                .and_then(Value::as_array)
                .ok_or_else(|| format!("payload body missing 'commits.*.{list}' field"))?;
            files.extend(paths.iter().map(|p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }));
        }
    }
    Ok(files.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::interceptor::fixture::{headers, stop, Call};
    use crate::triggers::interceptor::SecretMap;
    use crate::triggers::Headers;
    use serde_json::json;

    const E1_BODY: &str = r#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"},"pusher":{"name":"octo"}}"#;
    const E1_SIGNATURE: &str =
        "sha256=036ac7155c521f803af158bca8e6a4870b975d837df65bbbf464418785a5881a";

    fn secrets() -> SecretMap {
        let mut s = SecretMap::new();
        s.insert("ci", "gh-secret", "token", "s3cr3t");
        s.insert("ci", "pat", "token", "ghp_x");
        s
    }

    fn e1_params() -> Value {
        json!({"secretRef": {"secretName": "gh-secret", "secretKey": "token"}, "eventTypes": ["push"]})
    }

    fn run(header: &Headers, body: &str, params: Value) -> Result<Map<String, Value>, Response> {
        let mut call = Call::new(&[], body, params);
        call.header = header.clone();
        process(&secrets(), &call.request())
    }

    fn e1_headers() -> Headers {
        headers(&[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", E1_SIGNATURE),
        ])
    }

    #[test]
    fn e1_push_with_a_valid_signature_proceeds() {
        assert_eq!(run(&e1_headers(), E1_BODY, e1_params()), Ok(Map::new()));
    }

    #[test]
    fn e2_a_wrong_signature_or_changed_body_fails_with_9() {
        let mut h = e1_headers();
        h.set(
            "X-Hub-Signature-256",
            vec![E1_SIGNATURE.replace("036a", "036b")],
        );
        assert_eq!(
            stop(run(&h, E1_BODY, e1_params())),
            (9, "payload signature check failed".into())
        );
        let changed = E1_BODY.replace("octo", "octa");
        assert_eq!(
            stop(run(&e1_headers(), &changed, e1_params())),
            (9, "payload signature check failed".into())
        );
    }

    #[test]
    fn e2_a_sha1_only_signature_is_not_read() {
        let h = headers(&[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            (
                "X-Hub-Signature",
                "sha1=247446ecb30d218ec73080e384c09d32f1be8bd1",
            ),
        ]);
        assert_eq!(
            stop(run(&h, E1_BODY, e1_params())),
            (9, "no X-Hub-Signature-256 header set".into())
        );
    }

    #[test]
    fn e2_event_types_are_checked_before_the_signature() {
        let h = headers(&[
            ("X-GitHub-Event", "ping"),
            ("X-Hub-Signature-256", "garbage"),
        ]);
        assert_eq!(
            stop(run(&h, E1_BODY, e1_params())),
            (9, "event type ping is not allowed".into())
        );
        let none = headers(&[]);
        assert_eq!(
            stop(run(&none, "{}", json!({"eventTypes": []}))),
            (9, "event type  is not allowed".into())
        );
        let push = headers(&[("X-GitHub-Event", "push")]);
        assert_eq!(run(&push, "{}", json!({})), Ok(Map::new()));
        assert_eq!(
            stop(run(&push, "{}", json!({"eventTypes": []}))),
            (9, "event type push is not allowed".into())
        );
    }

    #[test]
    fn form_content_type_is_rejected_first() {
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let (code, message) = stop(run(&h, "a=b", json!({"eventTypes": "malformed"})));
        assert_eq!(code, 3);
        assert!(
            message.starts_with("form parameter encoding not supported"),
            "{message}"
        );
    }

    #[test]
    fn secret_problems_fail_with_9_without_showing_the_secret() {
        let h = e1_headers();
        let empty_key = json!({"secretRef": {"secretName": "gh-secret", "secretKey": ""}});
        assert_eq!(
            stop(run(&h, E1_BODY, empty_key)),
            (9, "github interceptor secretRef.secretKey is empty".into())
        );
        let missing = json!({"secretRef": {"secretName": "nope", "secretKey": "token"}});
        let (code, message) = stop(run(&h, E1_BODY, missing));
        assert_eq!(code, 9);
        assert!(
            message.starts_with("error getting secret: cannot find token key in secret ci/nope")
        );
        let bad_hex = headers(&[("X-Hub-Signature-256", "sha256=xyz")]);
        let (code, message) = stop(run(&bad_hex, E1_BODY, e1_params_without_events()));
        assert_eq!(code, 9);
        assert!(
            message.starts_with("error decoding signature \"sha256=xyz\""),
            "{message}"
        );
        let unknown = headers(&[("X-Hub-Signature-256", "md5=00")]);
        assert_eq!(
            stop(run(&unknown, E1_BODY, e1_params_without_events())),
            (9, "unknown hash type prefix: \"md5\"".into())
        );
        let no_equals = headers(&[("X-Hub-Signature-256", "sha256")]);
        assert_eq!(
            stop(run(&no_equals, E1_BODY, e1_params_without_events())),
            (9, "error parsing signature \"sha256\"".into())
        );
        let wrong = headers(&[("X-Hub-Signature-256", "sha256=00")]);
        let (_, message) = stop(run(&wrong, E1_BODY, e1_params_without_events()));
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    fn e1_params_without_events() -> Value {
        json!({"secretRef": {"secretName": "gh-secret", "secretKey": "token"}})
    }

    #[test]
    fn malformed_params_fail_with_3() {
        let (code, message) = stop(run(&e1_headers(), E1_BODY, json!({"secretRef": "gh"})));
        assert_eq!(code, 3);
        assert!(
            message.starts_with("failed to parse interceptor params: secretRef: "),
            "{message}"
        );
    }

    #[test]
    fn changed_files_of_a_push() {
        let body = json!({
            "repository": {"full_name": "acme/app"},
            "commits": [
                {"added": ["a.rs"], "modified": ["b.rs", "c.rs"], "removed": []},
                {"added": [], "modified": [], "removed": ["d.rs"]}
            ]
        })
        .to_string();
        let h = headers(&[("X-GitHub-Event", "push")]);
        let params =
            json!({"addChangedFiles": {"enabled": true}, "githubOwners": {"enabled": true}});
        let ext = run(&h, &body, params.clone()).unwrap();
        assert_eq!(
            Value::Object(ext),
            json!({"changed_files": "a.rs,b.rs,c.rs,d.rs"})
        );
        let missing = json!({"repository": {"full_name": "acme/app"}, "commits": [{"added": [], "modified": []}]});
        assert_eq!(
            stop(run(&h, &missing.to_string(), params.clone())),
            (
                9,
                "error parsing body: payload body missing 'commits.*.removed' field".into()
            )
        );
        assert_eq!(
            stop(run(&h, "{}", params.clone())),
            (
                9,
                "error parsing body: payload body missing 'repository' field".into()
            )
        );
        // Other events pass without a list.
        let issues = headers(&[("X-GitHub-Event", "issues")]);
        assert_eq!(run(&issues, "{}", params), Ok(Map::new()));
    }

    #[test]
    fn options_that_need_the_github_api_fail_with_13_naming_the_option() {
        let pr = headers(&[("X-GitHub-Event", "pull_request")]);
        let (code, message) = stop(run(
            &pr,
            "{}",
            json!({"addChangedFiles": {"enabled": true}}),
        ));
        assert_eq!(code, 13);
        assert!(message.contains("addChangedFiles"), "{message}");
        let (code, message) = stop(run(
            &pr,
            "{}",
            json!({"githubOwners": {"enabled": true, "checkType": "none"}}),
        ));
        assert_eq!(code, 13);
        assert!(message.contains("githubOwners"), "{message}");
        let with_pat = json!({"githubOwners": {"enabled": true, "checkType": "all",
            "personalAccessToken": {"secretName": "pat", "secretKey": "token"}}});
        assert_eq!(stop(run(&pr, "{}", with_pat)).0, 13);
        assert_eq!(
            stop(run(&pr, "{}", json!({"githubOwners": {"enabled": true, "checkType": "all"}}))),
            (
                9,
                "checkType is set to check org or repo members but no personalAccessToken was supplied"
                    .into()
            )
        );
        let push = headers(&[("X-GitHub-Event", "push")]);
        assert_eq!(
            run(&push, "{}", json!({"githubOwners": {"enabled": true}})),
            Ok(Map::new())
        );
    }
}
