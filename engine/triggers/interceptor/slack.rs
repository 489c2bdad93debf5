//! The `slack` interceptor (spec §4.5): copies requested fields of a slash-command form
//! into extensions.
//!
//! # Design
//!
//! The chain's form pre-step (spec §2.6) has usually turned the body into `{"k":["v",…]}`
//! already; a body it left alone (a form with a single key) is parsed as the form itself,
//! so both give the same extensions.
//!
//! # Invariants
//!
//! - Slack's signature is required to be present but, as upstream, never verified: this
//!   interceptor authenticates nothing (spec §5).
//!
//! # Not yet
//!
//! - Verifying `X-Slack-Signature` (upstream does not either).

use serde_json::{Map, Value};

use super::params::decode;
use super::{Code, Request, Response};

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    #[serde(default)]
    requested_fields: Vec<String>,
}

/// Runs the interceptor: the requested fields as string lists, or the stopping response.
pub(super) fn process(request: &Request<'_>) -> Result<Map<String, Value>, Response> {
    let params: Params = decode(request.params)?;
    let header = request.header;
    let form = header
        .first("Content-Type")
        .is_some_and(|t| t.contains("application/x-www-form-urlencoded"));
    let signed = header
        .first("X-Slack-Signature")
        .is_some_and(|s| !s.is_empty());
    if !form || !signed {
        return Err(Response::stop(
            Code::InvalidArgument,
            "slack needs Content-Type application/x-www-form-urlencoded and an X-Slack-Signature header",
        ));
    }
    if params.requested_fields.is_empty() {
        return Err(Response::stop(
            Code::NotFound,
            "slack interceptor has no requestedFields: list the form fields to copy into extensions",
        ));
    }
    let fields = form_fields(request.body);
    let mut extensions = Map::new();
    for field in &params.requested_fields {
        let values = fields.get(field).ok_or_else(|| {
            Response::stop(
                Code::NotFound,
                format!("requested field {field} is not in the form body"),
            )
        })?;
        extensions.insert(field.clone(), values.clone());
    }
    Ok(extensions)
}

/// The form as name → list of strings: from the chain's JSON, or parsed from the raw form.
fn form_fields(body: &[u8]) -> Map<String, Value> {
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        return map
            .into_iter()
            .map(|(k, v)| {
                let list = match v {
                    Value::Array(items) => Value::Array(
                        items
                            .into_iter()
                            .map(|i| match i {
                                Value::String(s) => Value::String(s),
                                other => Value::String(other.to_string()),
                            })
                            .collect(),
                    ),
                    Value::String(s) => Value::Array(vec![Value::String(s)]),
                    other => Value::Array(vec![Value::String(other.to_string())]),
                };
                (k, list)
            })
            .collect();
    }
    let mut fields = Map::new();
    for (name, value) in form_urlencoded::parse(body) {
        if let Value::Array(values) = fields
            .entry(name.into_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::String(value.into_owned()));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::interceptor::Context;
    use crate::triggers::Headers;
    use serde_json::json;

    fn run(
        pairs: &[(&str, &str)],
        body: &str,
        params: Value,
    ) -> Result<Map<String, Value>, Response> {
        let mut header = Headers::new();
        for (k, v) in pairs {
            header.append(k, *v);
        }
        let context = Context {
            event_url: "/".into(),
            event_id: "e".into(),
            trigger_id: "namespaces/ci/triggers/t".into(),
        };
        let params = params.as_object().cloned().unwrap_or_default();
        let extensions = Map::new();
        process(&Request {
            body: body.as_bytes(),
            header: &header,
            extensions: &extensions,
            params: &params,
            context: &context,
        })
    }

    const FORM: &[(&str, &str)] = &[
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("X-Slack-Signature", "v0=abc"),
    ];

    #[test]
    fn requested_fields_are_copied_as_lists() {
        let params = json!({"requestedFields": ["text", "user_id"]});
        let from_json = run(
            FORM,
            r#"{"text":["build main"],"user_id":["U1"],"x":["y"]}"#,
            params.clone(),
        );
        assert_eq!(
            from_json.map(Value::Object),
            Ok(json!({"text": ["build main"], "user_id": ["U1"]}))
        );
        let raw = run(FORM, "text=build+main&user_id=U1", params);
        assert_eq!(
            raw.map(Value::Object),
            Ok(json!({"text": ["build main"], "user_id": ["U1"]}))
        );
    }

    #[test]
    fn missing_headers_fail_with_3_missing_fields_with_5() {
        let params = json!({"requestedFields": ["text"]});
        let code = |r: Result<Map<String, Value>, Response>| r.unwrap_err().status.code.number();
        assert_eq!(
            code(run(
                &[("Content-Type", "application/x-www-form-urlencoded")],
                "text=a",
                params.clone()
            )),
            3
        );
        assert_eq!(
            code(run(
                &[("X-Slack-Signature", "v0=abc")],
                "text=a",
                params.clone()
            )),
            3
        );
        assert_eq!(code(run(FORM, "other=a", params)), 5);
        assert_eq!(code(run(FORM, "text=a", json!({}))), 5);
        assert_eq!(
            code(run(FORM, "text=a", json!({"requestedFields": "text"}))),
            3
        );
    }
}
