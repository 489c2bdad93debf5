//! The `cel` interceptor (spec §4.4): a filter that must hold, and overlays that compute
//! extensions, over the request's `body`, `header`, `extensions` and `requestURL`.
//!
//! # Design
//!
//! The CEL side (environment, Triggers functions, value mapping) lives in [`crate::cel`];
//! this module decodes params and the body, turns CEL errors into upstream's codes and
//! messages, and writes overlay results at their key paths. Every overlay sees the same
//! original variables, never an earlier overlay's result.
//!
//! # Invariants
//!
//! - A filter passes only when it gives the bool `true`: an error is code 3, anything else
//!   code 9.
//! - `compareSecret` reads Secrets of the trigger's namespace only, whatever namespace the
//!   expression names.
//!
//! # Not yet
//!
//! - Key paths follow sjson for `.` and `\.` and numeric parts under a new parent (arrays);
//!   sjson's `:` (force a key) and `-1` on an existing non-array are not interpreted.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::quote::go_quote;
use super::{Code, Request, Response, Secrets};
use crate::cel::{CelError, Expression, SecretSource, TriggersRequest, TriggersScope};
use crate::triggers::canonical_header_name;

#[derive(Debug, Default, serde::Deserialize)]
struct Params {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    overlays: Vec<Overlay>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Overlay {
    #[serde(default)]
    key: String,
    #[serde(default)]
    expression: String,
}

/// `compareSecret`'s view of the Secrets: the trigger's namespace only.
struct NamespaceSecrets {
    secrets: Arc<dyn Secrets>,
    namespace: String,
}

impl SecretSource for NamespaceSecrets {
    fn secret(&self, name: &str, key: &str) -> Option<Vec<u8>> {
        self.secrets.get(&self.namespace, name, key)
    }
}

/// Runs the interceptor: the overlays' extensions (empty without overlays), or the
/// response that stops the trigger.
pub(super) fn process(
    secrets: &Arc<dyn Secrets>,
    request: &Request<'_>,
) -> Result<Map<String, Value>, Response> {
    let params: Params = super::params::decode(request.params)?;
    let body = body_object(request.body).map_err(|e| {
        Response::stop(
            Code::InvalidArgument,
            format!("error making the evaluation context: failed to parse the body as JSON: {e}"),
        )
    })?;
    let scope = TriggersScope::new(
        &TriggersRequest {
            body,
            header: request
                .header
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_vec()))
                .collect(),
            extensions: request.extensions.clone(),
            request_url: request.context.event_url.clone(),
        },
        Arc::new(NamespaceSecrets {
            secrets: secrets.clone(),
            namespace: request.context.namespace().to_owned(),
        }),
        canonical_header_name,
    );

    if !params.filter.is_empty() {
        let filter = compile(&scope, &params.filter)?;
        let holds = scope
            .filter(&filter)
            .map_err(|e| evaluation_failed(&params.filter, &e))?;
        if !holds {
            return Err(Response::stop(
                Code::FailedPrecondition,
                format!("expression {} did not return true", params.filter),
            ));
        }
    }

    let mut extensions = Value::Object(Map::new());
    for overlay in &params.overlays {
        let expression = compile(&scope, &overlay.expression)?;
        let value = scope.overlay(&expression).map_err(|e| match e {
            CelError::Output(message) => Response::stop(
                Code::Internal,
                format!("failed to convert overlay result to type: {message}"),
            ),
            other => evaluation_failed(&overlay.expression, &other),
        })?;
        set_path(&mut extensions, &overlay.key, value).map_err(|e| {
            Response::stop(
                Code::Internal,
                format!("failed to set extensions key '{}': {e}", overlay.key),
            )
        })?;
    }
    // Keys sorted, as Go writes the map it decoded the overlays into.
    extensions.sort_all_objects();
    match extensions {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

/// The body as the `body` variable: empty or `null` is `{}`, anything else must be an object.
fn body_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body).map_err(|e| e.to_string())? {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        other => Err(format!(
            "the body is {}, not a JSON object",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                _ => "a bool",
            }
        )),
    }
}

fn compile(scope: &TriggersScope, source: &str) -> Result<Expression, Response> {
    scope.compile(source).map_err(|e| {
        let message = match &e {
            CelError::Syntax { .. } => {
                format!("failed to parse expression {}: {e}", go_quote(source))
            }
            CelError::Undeclared { .. } => {
                format!("expression {} check failed: {e}", go_quote(source))
            }
            _ => format!("expression {} failed to evaluate: {e}", go_quote(source)),
        };
        Response::stop(
            Code::InvalidArgument,
            format!("error evaluating cel expression: {message}"),
        )
    })
}

fn evaluation_failed(source: &str, error: &CelError) -> Response {
    Response::stop(
        Code::InvalidArgument,
        format!(
            "error evaluating cel expression: expression {} failed to evaluate: {error}",
            go_quote(source)
        ),
    )
}

/// One step of a key path.
#[derive(Debug, PartialEq, Eq)]
struct Part {
    text: String,
    /// Written with a backslash somewhere: never an array index.
    escaped: bool,
}

/// Splits an sjson key path: `.` separates, `\\` makes the next character literal.
fn key_path(key: &str) -> Result<Vec<Part>, String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    let mut parts = Vec::new();
    let mut part = Part {
        text: String::new(),
        escaped: false,
    };
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                part.escaped = true;
                part.text.extend(chars.next());
            }
            '.' => parts.push(std::mem::replace(
                &mut part,
                Part {
                    text: String::new(),
                    escaped: false,
                },
            )),
            '*' | '?' => return Err("wildcard characters are not allowed in a key".into()),
            c => part.text.push(c),
        }
    }
    parts.push(part);
    Ok(parts)
}

/// Whether a part indexes an array: digits only (or `-1`, append), not escaped.
fn index(part: &Part) -> Option<Option<usize>> {
    if part.escaped {
        return None;
    }
    if part.text == "-1" {
        return Some(None);
    }
    if !part.text.is_empty() && part.text.bytes().all(|b| b.is_ascii_digit()) {
        return part.text.parse().ok().map(Some);
    }
    None
}

/// Writes `value` at `key` in `doc` (an object), making parents as sjson does: objects,
/// or arrays (padded with `null`) when the next part is an index. Later writes win.
fn set_path(doc: &mut Value, key: &str, value: Value) -> Result<(), String> {
    let parts = key_path(key)?;
    let mut node = doc;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let fresh = || match parts.get(i + 1).and_then(index) {
            Some(_) => Value::Array(Vec::new()),
            None => Value::Object(Map::new()),
        };
        let slot: &mut Value = match (node, index(part)) {
            (Value::Array(items), Some(at)) => {
                let at = at.unwrap_or(items.len());
                if items.len() <= at {
                    items.resize(at + 1, Value::Null);
                }
                &mut items[at]
            }
            (node, _) => {
                if !node.is_object() {
                    *node = Value::Object(Map::new());
                }
                match node {
                    Value::Object(map) => map.entry(part.text.clone()).or_insert(Value::Null),
                    _ => return Err("a parent of the key is not an object".into()),
                }
            }
        };
        if last {
            *slot = value;
            return Ok(());
        }
        if !(slot.is_object() || slot.is_array()) {
            *slot = fresh();
        }
        node = slot;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::interceptor::fixture::{stop, Call};
    use crate::triggers::interceptor::SecretMap;
    use crate::triggers::Headers;
    use serde_json::json;

    fn run_with(
        body: &str,
        header: &Headers,
        extensions: Value,
        params: Value,
    ) -> Result<Map<String, Value>, Response> {
        let mut secrets = SecretMap::new();
        secrets.insert("ci", "hook", "token", "s3cr3t");
        secrets.insert("elsewhere", "hook", "token", "other");
        let secrets: Arc<dyn Secrets> = Arc::new(secrets);
        let mut call = Call::new(&[], body, params);
        call.header = header.clone();
        call.extensions = extensions.as_object().cloned().unwrap_or_default();
        call.context.event_url = "/hook?x=1".into();
        process(&secrets, &call.request())
    }

    fn run(body: &str, params: Value) -> Result<Map<String, Value>, Response> {
        let mut header = Headers::new();
        header.append("Content-Type", "application/json");
        header.append("X-GitHub-Event", "pull_request");
        header.append("X-Token", "s3cr3t");
        run_with(body, &header, json!({"sha": "abc"}), params)
    }

    #[test]
    fn e3_a_filter_that_does_not_hold_fails_with_9() {
        let body = r#"{"action":"closed","number":7}"#;
        assert_eq!(
            stop(run(
                body,
                json!({"filter": "body.action in ['opened', 'synchronize']"})
            )),
            (
                9,
                "expression body.action in ['opened', 'synchronize'] did not return true".into()
            )
        );
        let open = r#"{"action":"opened","number":7}"#;
        assert_eq!(
            run(
                open,
                json!({"filter": "body.action in ['opened', 'synchronize']"})
            ),
            Ok(Map::new())
        );
    }

    #[test]
    fn e3_double_plus_int_fails_with_3() {
        let body = r#"{"action":"closed","number":7}"#;
        let (code, message) = stop(run(body, json!({"filter": "body.number + 1 > 2"})));
        assert_eq!(code, 3);
        assert!(
            message.starts_with(
                "error evaluating cel expression: expression \"body.number + 1 > 2\" failed to evaluate: "
            ),
            "{message}"
        );
        assert_eq!(
            run(
                body,
                json!({"filter": "body.number + 1.0 > 2.0 && body.number == 7"})
            ),
            Ok(Map::new())
        );
    }

    #[test]
    fn e1_overlays() {
        let body =
            r#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246"}"#;
        let ext = run(
            body,
            json!({"overlays": [
                {"key": "short_sha", "expression": "body.after.truncate(7)"},
                {"key": "branch", "expression": "body.ref.split('/')[2]"}
            ]}),
        )
        .unwrap();
        assert_eq!(
            Value::Object(ext),
            json!({"short_sha": "6113728", "branch": "main"})
        );
    }

    #[test]
    fn e5_nested_overlay_keys() {
        let body = r#"{"title":"fix \"quotes\"\nnow","labels":[{"name":"bug"},{"name":"ci"}],"n":3,"ok":true,"meta":{"z":1,"k":"<v>"}}"#;
        let ext = run(
            body,
            json!({"overlays": [
                {"key": "pr.title", "expression": "body.title.upperAscii()"},
                {"key": "pr.labels", "expression": "body.labels.map(l, l.name)"}
            ]}),
        )
        .unwrap();
        let text = serde_json::to_string(&ext).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"pr":{"labels":["bug","ci"],"title":"FIX \"QUOTES\"\nNOW"}}"#
        );
    }

    #[test]
    fn overlays_see_the_original_variables_and_later_writes_win() {
        let ext = run(
            r#"{"a": 1}"#,
            json!({"overlays": [
                {"key": "x", "expression": "'first'"},
                {"key": "x", "expression": "has(extensions.x) ? 'saw' : 'second'"},
                {"key": "extensions.sha", "expression": "extensions.sha"},
                {"key": "dev\\.tekton\\.dev/foo", "expression": "body.a"},
                {"key": "list.1", "expression": "true"},
                {"key": "bytes", "expression": "b'hi'"},
                {"key": "url", "expression": "requestURL"}
            ]}),
        )
        .unwrap();
        assert_eq!(
            Value::Object(ext),
            json!({
                "x": "second",
                "extensions": {"sha": "abc"},
                "dev.tekton.dev/foo": 1,
                "list": [null, true],
                "bytes": "aGk=",
                "url": "/hook?x=1"
            })
        );
        let nested = run("{}", json!({"overlays": [{"key": "a.b.0", "expression": "1"}, {"key": "a.b.2", "expression": "2"}]}))
            .unwrap();
        assert_eq!(Value::Object(nested), json!({"a": {"b": [1, null, 2]}}));
    }

    #[test]
    fn overlay_values_without_json_form_fail_with_13() {
        for expression in ["null", "1u", "body.missing_or_null"] {
            let result = run(
                r#"{"missing_or_null": null}"#,
                json!({"overlays": [{"key": "k", "expression": expression}]}),
            );
            let (code, message) = stop(result);
            assert_eq!(code, 13, "{expression}: {message}");
            assert!(
                message.starts_with("failed to convert overlay result to type: "),
                "{message}"
            );
        }
        let (code, _) = stop(run(
            "{}",
            json!({"overlays": [{"key": "", "expression": "1"}]}),
        ));
        assert_eq!(code, 13);
    }

    #[test]
    fn no_overlays_no_extensions_and_an_empty_filter_passes() {
        assert_eq!(run("", json!({})), Ok(Map::new()));
        assert_eq!(run("null", json!({"filter": ""})), Ok(Map::new()));
        assert_eq!(
            run("", json!({"filter": "size(body) == 0"})),
            Ok(Map::new())
        );
    }

    #[test]
    fn compile_errors_body_and_params_fail_with_3() {
        let (code, message) = stop(run("{}", json!({"filter": "body.("})));
        assert_eq!(code, 3);
        assert!(message.starts_with("error evaluating cel expression: failed to parse expression \"body.(\": ERROR: <input>:1:"), "{message}");
        let (code, message) = stop(run("{}", json!({"filter": "params.x == 1"})));
        assert_eq!(code, 3);
        assert!(
            message.contains("check failed")
                && message.contains("undeclared reference to 'params'"),
            "{message}"
        );
        let (code, message) = stop(run("[1,2]", json!({"filter": "true"})));
        assert_eq!(code, 3);
        assert_eq!(message, "error making the evaluation context: failed to parse the body as JSON: the body is an array, not a JSON object");
        let (code, message) = stop(run("{", json!({})));
        assert_eq!(code, 3);
        assert!(message.starts_with(
            "error making the evaluation context: failed to parse the body as JSON: "
        ));
        assert_eq!(stop(run("{}", json!({"overlays": {"key": "x"}}))).0, 3);
        assert_eq!(
            stop(run(
                "{}",
                json!({"overlays": [{"key": "k", "expression": "1 +"}]})
            ))
            .0,
            3
        );
        assert_eq!(
            stop(run(
                "{}",
                json!({"overlays": [{"key": "k", "expression": "body.nope"}]})
            ))
            .0,
            3
        );
    }

    #[test]
    fn header_functions_and_secrets_from_the_trigger_namespace() {
        let filter = "header.match('x-github-event', 'pull_request') \
                      && header.canonical('x-token').compareSecret('token', 'hook', 'elsewhere')";
        assert_eq!(run("{}", json!({"filter": filter})), Ok(Map::new()));
        let (code, message) = stop(run(
            "{}",
            json!({"filter": "'x'.compareSecret('token', 'absent')"}),
        ));
        assert_eq!(code, 3);
        assert!(!message.contains("s3cr3t"), "{message}");
        assert_eq!(
            stop(run(
                "{}",
                json!({"filter": "header['x-github-event'][0] == 'pull_request'"})
            ))
            .0,
            3,
            "header keys are canonical"
        );
    }
}
