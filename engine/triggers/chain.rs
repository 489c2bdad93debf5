//! The interceptor chain of one trigger or group (spec §2.6).
//!
//! # Design
//!
//! The chain owns a copy of the body, headers and extensions; each `ref` interceptor is
//! called through [`Interceptors`] with only its own params and may add extensions (a
//! shallow merge: top-level keys replace). The first `continue: false` or call error stops
//! the chain. The legacy `webhook` interceptor is recognised and refused: adze makes no HTTP
//! calls to other services yet.

use serde_json::{Map, Value};

use super::api::TriggerInterceptor;
use super::interceptor::{Code, Context, Interceptors, Request};
use super::Headers;
use crate::go_json;

/// What flows through the chain and on to the bindings.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The body (raw bytes, unless the form pre-step converted it).
    pub body: Vec<u8>,
    /// Headers.
    pub header: Headers,
    /// Extensions so far.
    pub extensions: Map<String, Value>,
}

/// How a chain ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// Every interceptor said continue.
    Continue(State),
    /// An interceptor answered `continue: false`.
    Rejected {
        /// `ref.name`, or `interceptors[i]` for one without a name.
        interceptor: String,
        /// Its status code.
        code: Code,
        /// Its message.
        message: String,
    },
    /// An interceptor could not be called, or is not supported.
    Failed {
        /// As in `Rejected`.
        interceptor: String,
        /// Why.
        message: String,
    },
}

/// Runs `interceptors` in order from `state` (spec §2.6).
pub fn run(
    list: &[TriggerInterceptor],
    mut state: State,
    context: &Context,
    interceptors: &dyn Interceptors,
) -> Ended {
    if list.is_empty() {
        return Ended::Continue(state);
    }
    let first_is_webhook = list[0].webhook.is_some() && list[0].reference.is_none();
    if !first_is_webhook || !state.extensions.is_empty() {
        if let Some(json) = form_as_json(&state.header, &state.body) {
            state.body = json.into_bytes();
        }
    }
    for (i, ic) in list.iter().enumerate() {
        let Some(r) = ic.reference.as_ref().filter(|r| !r.name.is_empty()) else {
            let message = if ic.webhook.is_some() {
                "the legacy webhook interceptor is not supported yet; serve it as a ClusterInterceptor and use `ref`"
            } else {
                "interceptor has neither ref nor webhook"
            };
            return Ended::Failed {
                interceptor: format!("interceptors[{i}]"),
                message: message.into(),
            };
        };
        let params: Map<String, Value> = ic
            .params
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect();
        let request = Request {
            body: &state.body,
            header: &state.header,
            extensions: &state.extensions,
            params: &params,
            context,
        };
        match interceptors.call(&r.name, r.kind == "NamespacedInterceptor", &request) {
            Err(e) => {
                return Ended::Failed {
                    interceptor: r.name.clone(),
                    message: e.to_string(),
                }
            }
            Ok(response) if !response.proceed => {
                return Ended::Rejected {
                    interceptor: r.name.clone(),
                    code: response.status.code,
                    message: response.status.message,
                }
            }
            Ok(response) => state.extensions.extend(response.extensions),
        }
    }
    Ended::Continue(state)
}

/// The form pre-step: a `application/x-www-form-urlencoded` body of more than one key
/// becomes the JSON of its map (`{"k":["v"]}`); anything else stays as it is.
pub fn form_as_json(header: &Headers, body: &[u8]) -> Option<String> {
    if header.first("Content-Type") != Some("application/x-www-form-urlencoded") {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut form: Map<String, Value> = Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        if pair.contains(';') {
            return None;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (unescape(k)?, unescape(v)?);
        match form.entry(k).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(values) => values.push(Value::String(v)),
            _ => return None,
        }
    }
    (form.len() > 1).then(|| go_json::to_string(&Value::Object(form)))
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; a bad escape fails the parse.
fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_header() -> Headers {
        let mut h = Headers::new();
        h.append("content-type", "application/x-www-form-urlencoded");
        h
    }

    /// C14: only a form body with more than one key is converted.
    #[test]
    fn form_pre_step_conditions() {
        let h = form_header();
        assert_eq!(
            form_as_json(&h, b"b=2&a=1+x&a=%2F").as_deref(),
            Some(r#"{"a":["1 x","/"],"b":["2"]}"#)
        );
        assert_eq!(form_as_json(&h, b"payload=%7B%7D"), None);
        assert_eq!(form_as_json(&h, b"a=%zz&b=1"), None);
        assert_eq!(form_as_json(&h, b"a=1;b=2&c=3"), None);
        let mut json = Headers::new();
        json.append("Content-Type", "application/json");
        assert_eq!(form_as_json(&json, b"a=1&b=2"), None);
        let mut charset = Headers::new();
        charset.append(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
        assert_eq!(form_as_json(&charset, b"a=1&b=2"), None);
    }
}
