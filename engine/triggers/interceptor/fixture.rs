//! Requests and expectations the built-ins' tests share.

use serde_json::{Map, Value};

use super::{Context, Request, Response};
use crate::triggers::Headers;

/// The owned parts of one interceptor request.
pub(super) struct Call {
    pub header: Headers,
    pub body: Vec<u8>,
    pub params: Map<String, Value>,
    pub extensions: Map<String, Value>,
    pub context: Context,
}

impl Call {
    /// A request of trigger `ci/t` at `/` with these headers, body and params.
    pub fn new(pairs: &[(&str, &str)], body: &str, params: Value) -> Call {
        Call {
            header: headers(pairs),
            body: body.as_bytes().to_vec(),
            params: params.as_object().cloned().unwrap_or_default(),
            extensions: Map::new(),
            context: Context {
                event_url: "/".into(),
                event_id: "e".into(),
                trigger_id: "namespaces/ci/triggers/t".into(),
            },
        }
    }

    /// The request the interceptor sees.
    pub fn request(&self) -> Request<'_> {
        Request {
            body: &self.body,
            header: &self.header,
            extensions: &self.extensions,
            params: &self.params,
            context: &self.context,
        }
    }
}

/// Headers from name/value pairs, in order.
pub(super) fn headers(pairs: &[(&str, &str)]) -> Headers {
    let mut header = Headers::new();
    for (name, value) in pairs {
        header.append(name, *value);
    }
    header
}

/// The code and message of a response that stops the trigger.
pub(super) fn stop(result: Result<Map<String, Value>, Response>) -> (u8, String) {
    let response = result.expect_err("the trigger stops");
    assert!(!response.proceed);
    (response.status.code.number(), response.status.message)
}
