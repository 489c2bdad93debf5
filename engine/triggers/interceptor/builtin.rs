//! The built-in interceptors (`github`, `gitlab`, `bitbucket`, `cel`, `slack`) run
//! in-process behind [`Interceptors`], as the spec allows when behaviour is identical.
//!
//! # Design
//!
//! [`Builtins`] owns the [`Secrets`] and dispatches by name, lower-cased as the core
//! interceptors server lowercases its path. Each built-in is a function from the request to
//! extensions or a stopping [`Response`]; this module turns that into the wire-shaped answer.
//!
//! # Invariants
//!
//! - No request, header or params value makes a built-in panic (tested on random input).
//! - Unknown names and namespaced references are [`CallError::Unknown`]: adze has no
//!   `Interceptor` objects, and never guesses.
//!
//! # Not yet
//!
//! - Namespaced `Interceptor` and `ClusterInterceptor` objects (custom HTTP interceptors).

use std::sync::Arc;

use super::{bitbucket, cel, github, gitlab, slack};
use super::{CallError, Interceptors, Request, Response, Secrets};

/// The built-in interceptors, reading Secrets from `secrets`.
#[derive(Clone)]
pub struct Builtins {
    secrets: Arc<dyn Secrets>,
}

impl Builtins {
    /// Built-ins that read Secrets (`secretRef`, `compareSecret`) from `secrets`.
    pub fn new(secrets: Arc<dyn Secrets>) -> Builtins {
        Builtins { secrets }
    }
}

impl std::fmt::Debug for Builtins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Secrets stay out of debug output.
        f.debug_struct("Builtins").finish_non_exhaustive()
    }
}

impl Interceptors for Builtins {
    fn call(
        &self,
        name: &str,
        namespaced: bool,
        request: &Request<'_>,
    ) -> Result<Response, CallError> {
        let unknown = || CallError::Unknown {
            name: name.to_owned(),
        };
        if namespaced {
            return Err(unknown());
        }
        let secrets = &*self.secrets;
        let outcome = match name.to_ascii_lowercase().as_str() {
            "github" => github::process(secrets, request),
            "gitlab" => gitlab::process(secrets, request),
            "bitbucket" => bitbucket::process(secrets, request),
            "cel" => cel::process(&self.secrets, request),
            "slack" => slack::process(request),
            _ => return Err(unknown()),
        };
        Ok(outcome.map_or_else(|stop| stop, Response::proceed_with))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::interceptor::{Code, Context, SecretMap};
    use crate::triggers::Headers;
    use serde_json::{json, Map, Value};

    fn builtins() -> Builtins {
        let mut secrets = SecretMap::new();
        secrets.insert("ci", "gh-secret", "token", "s3cr3t");
        Builtins::new(Arc::new(secrets))
    }

    fn context() -> Context {
        Context {
            event_url: "/".into(),
            event_id: "e".into(),
            trigger_id: "namespaces/ci/triggers/on-push".into(),
        }
    }

    #[test]
    fn names_are_case_insensitive_and_unknown_or_namespaced_are_errors() {
        let b = builtins();
        let header = Headers::new();
        let (params, extensions, context) = (Map::new(), Map::new(), context());
        let request = Request {
            body: b"{}",
            header: &header,
            extensions: &extensions,
            params: &params,
            context: &context,
        };
        for name in ["github", "GitHub", "GITLAB", "bitbucket", "cel", "Cel"] {
            assert_eq!(
                b.call(name, false, &request),
                Ok(Response::proceed()),
                "{name}"
            );
        }
        assert_eq!(
            b.call("gitea", false, &request),
            Err(CallError::Unknown {
                name: "gitea".into()
            })
        );
        assert!(matches!(
            b.call("github", true, &request),
            Err(CallError::Unknown { .. })
        ));
        assert!(!format!("{b:?}").contains("s3cr3t"));
    }

    #[test]
    fn e1_through_the_trait_github_then_cel() {
        let b = builtins();
        let body = br#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"},"pusher":{"name":"octo"}}"#;
        let mut header = Headers::new();
        header.append("Content-Type", "application/json");
        header.append("X-GitHub-Event", "push");
        header.append(
            "X-Hub-Signature-256",
            "sha256=036ac7155c521f803af158bca8e6a4870b975d837df65bbbf464418785a5881a",
        );
        let context = context();
        let extensions = Map::new();
        let github = json!({"secretRef": {"secretName": "gh-secret", "secretKey": "token"}, "eventTypes": ["push"]});
        let github = github.as_object().cloned().unwrap();
        let request = Request {
            body,
            header: &header,
            extensions: &extensions,
            params: &github,
            context: &context,
        };
        assert_eq!(b.call("github", false, &request), Ok(Response::proceed()));
        let cel = json!({"overlays": [
            {"key": "short_sha", "expression": "body.after.truncate(7)"},
            {"key": "branch", "expression": "body.ref.split('/')[2]"}
        ]});
        let cel = cel.as_object().cloned().unwrap();
        let response = b
            .call(
                "cel",
                false,
                &Request {
                    params: &cel,
                    ..request
                },
            )
            .unwrap();
        assert!(response.proceed);
        assert_eq!(
            Value::Object(response.extensions),
            json!({"short_sha": "6113728", "branch": "main"})
        );
        let mut ping = header.clone();
        ping.set("X-GitHub-Event", vec!["ping".into()]);
        let response = b
            .call(
                "github",
                false,
                &Request {
                    header: &ping,
                    ..request
                },
            )
            .unwrap();
        assert_eq!(response.status.code, Code::FailedPrecondition);
        assert_eq!(response.status.message, "event type ping is not allowed");
    }

    /// xorshift64: reproducible noise without a dependency.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[(self.next() % items.len() as u64) as usize]
        }

        fn bytes(&mut self) -> Vec<u8> {
            let len = self.next() % 64;
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    #[test]
    fn no_input_makes_a_builtin_panic() {
        let b = builtins();
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        let bodies: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"null".to_vec(),
            b"[1,2]".to_vec(),
            b"{\"commits\":[1,{\"added\":[1]}],\"repository\":{\"full_name\":\"x\"}}".to_vec(),
            b"{\"a\":{\"b\":[1,2.5,\"\xc3\xa9\"]},\"n\":1e308}".to_vec(),
            b"text=a&user_id=b".to_vec(),
        ];
        let values = [
            json!(null),
            json!(1),
            json!("x"),
            json!([]),
            json!(["push", 1]),
            json!({"secretName": "gh-secret", "secretKey": "token"}),
            json!({"secretName": 1}),
            json!({"enabled": true, "checkType": "none"}),
            json!({"enabled": "yes"}),
            json!("body.a.b[2].truncate(1) + string(body.n)"),
            json!("header.canonical('x').compareSecret('token', 'gh-secret')"),
            json!([{"key": "a.-1.\\.b", "expression": "body"}, {"key": "a.0.c", "expression": "[b'x', 1u, null]"}]),
            json!([{"key": "*", "expression": "1"}, {"key": 1}]),
            json!("'é'.truncate(1).parseURL()"),
            json!("1 / 0 == 1"),
            json!("[].first().last()"),
        ];
        let names = [
            "secretRef",
            "eventTypes",
            "addChangedFiles",
            "githubOwners",
            "filter",
            "overlays",
            "requestedFields",
        ];
        let header_names = [
            "Content-Type",
            "X-GitHub-Event",
            "X-Hub-Signature-256",
            "X-Hub-Signature",
            "X-Gitlab-Token",
            "X-Gitlab-Event",
            "X-Event-Key",
            "X-Slack-Signature",
        ];
        let header_values = [
            "",
            "push",
            "pull_request",
            "issue_comment",
            "application/x-www-form-urlencoded",
            "sha256=036ac7155c521f803af158bca8e6a4870b975d837df65bbbf464418785a5881a",
            "sha1=zz",
            "sha512=",
            "=",
            "é=é",
        ];
        let trigger_ids = ["namespaces/ci/triggers/t", "", "namespaces", "a/b/c/d/e"];
        for round in 0..3000 {
            let body = if round % 3 == 0 {
                noise.bytes()
            } else {
                noise.pick(&bodies).clone()
            };
            let mut header = Headers::new();
            for _ in 0..noise.next() % 5 {
                let (name, value) = (*noise.pick(&header_names), *noise.pick(&header_values));
                header.append(name, value);
            }
            let mut params = Map::new();
            for _ in 0..noise.next() % 4 {
                params.insert(noise.pick(&names).to_string(), noise.pick(&values).clone());
            }
            let extensions = match noise.pick(&values) {
                Value::Object(map) => map.clone(),
                _ => Map::new(),
            };
            let context = Context {
                event_url: "/x?y=%zz".into(),
                event_id: "e".into(),
                trigger_id: noise.pick(&trigger_ids).to_string(),
            };
            let request = Request {
                body: &body,
                header: &header,
                extensions: &extensions,
                params: &params,
                context: &context,
            };
            for name in ["github", "gitlab", "bitbucket", "cel", "slack"] {
                let response = b.call(name, false, &request).expect("a built-in");
                assert!(!response.status.message.contains("s3cr3t"));
                assert_eq!(response.proceed, response.status.code == Code::Ok);
            }
        }
    }
}
