//! Interceptors: the checks and enrichments run before a trigger's bindings (spec §2.6, §4).
//!
//! The request and response mirror the InterceptorRequest/InterceptorResponse protocol of
//! spec §4.6, so a built-in run in-process behaves as the same interceptor behind HTTP.

mod bitbucket;
pub mod builtin;
mod cel;
#[cfg(test)]
mod fixture;
mod github;
mod gitlab;
mod params;
mod quote;
mod signature;
mod slack;

pub use builtin::Builtins;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Headers;

/// What one interceptor of a chain is given.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The body as the chain holds it (the raw request bytes unless an earlier step changed it).
    pub body: &'a [u8],
    /// Headers, canonical names with value lists.
    pub header: &'a Headers,
    /// Extensions added by earlier interceptors.
    pub extensions: &'a Map<String, Value>,
    /// This interceptor's own params only (spec C10).
    pub params: &'a Map<String, Value>,
    /// Where the event came from.
    pub context: &'a Context,
}

/// `context` of an InterceptorRequest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Context {
    /// The request-URI.
    pub event_url: String,
    /// The event id.
    pub event_id: String,
    /// `namespaces/<ns>/triggers/<name>` or `namespaces/<ns>/triggerGroups/<name>`.
    pub trigger_id: String,
}

impl Context {
    /// The namespace secrets are read from: the second segment of `trigger_id`.
    pub fn namespace(&self) -> &str {
        self.trigger_id.split('/').nth(1).unwrap_or("")
    }
}

/// An interceptor's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Whether the trigger goes on (`continue` on the wire).
    pub proceed: bool,
    /// Extensions to merge (top-level keys replace).
    pub extensions: Map<String, Value>,
    /// Why it stopped, for the outcome record.
    pub status: Status,
}

impl Response {
    /// Go on, adding nothing.
    pub fn proceed() -> Response {
        Response {
            proceed: true,
            extensions: Map::new(),
            status: Status::ok(),
        }
    }

    /// Go on with `extensions`.
    pub fn proceed_with(extensions: Map<String, Value>) -> Response {
        Response {
            extensions,
            ..Response::proceed()
        }
    }

    /// Stop the trigger with `code` and a message for the outcome record.
    pub fn stop(code: Code, message: impl Into<String>) -> Response {
        Response {
            proceed: false,
            extensions: Map::new(),
            status: Status {
                code,
                message: message.into(),
            },
        }
    }
}

/// gRPC-style status of an interceptor response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The code.
    pub code: Code,
    /// Human-readable reason; never holds a secret value.
    pub message: String,
}

impl Status {
    /// Success.
    pub fn ok() -> Status {
        Status {
            code: Code::Ok,
            message: String::new(),
        }
    }
}

/// The gRPC codes interceptors answer with (spec §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Code {
    /// 0.
    Ok,
    /// 3: the request is malformed for this interceptor (bad token, CEL error).
    InvalidArgument,
    /// 5: something the interceptor needs is missing.
    NotFound,
    /// 9: the request is well-formed but not allowed (signature, event type, filter).
    FailedPrecondition,
    /// 13: the interceptor itself failed.
    Internal,
}

impl Code {
    /// The numeric gRPC code.
    pub fn number(self) -> u8 {
        match self {
            Code::Ok => 0,
            Code::InvalidArgument => 3,
            Code::NotFound => 5,
            Code::FailedPrecondition => 9,
            Code::Internal => 13,
        }
    }
}

/// Where interceptors read Secrets from: Secret documents loaded with `-f`, or the API server.
pub trait Secrets: Send + Sync {
    /// The raw bytes of `data[key]` of Secret `name` in `namespace` (`stringData` merged in,
    /// `data` base64-decoded), or `None` when the Secret or the key does not exist.
    fn get(&self, namespace: &str, name: &str, key: &str) -> Option<Vec<u8>>;
}

/// Secrets held in memory, keyed by (namespace, name): what tests and `-f` files provide.
#[derive(Clone, Default)]
pub struct SecretMap(BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>);

/// Names and keys only: a secret value must never reach a log line.
impl std::fmt::Debug for SecretMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .0
            .iter()
            .flat_map(|((ns, name), data)| data.keys().map(move |k| format!("{ns}/{name}[{k}]")))
            .collect();
        f.debug_tuple("SecretMap").field(&keys).finish()
    }
}

impl SecretMap {
    /// No secrets.
    pub fn new() -> SecretMap {
        SecretMap::default()
    }

    /// Sets `data[key]` of Secret `namespace/name`.
    pub fn insert(&mut self, namespace: &str, name: &str, key: &str, value: impl Into<Vec<u8>>) {
        self.0
            .entry((namespace.to_string(), name.to_string()))
            .or_default()
            .insert(key.to_string(), value.into());
    }
}

impl Secrets for SecretMap {
    fn get(&self, namespace: &str, name: &str, key: &str) -> Option<Vec<u8>> {
        self.0
            .get(&(namespace.to_string(), name.to_string()))?
            .get(key)
            .cloned()
    }
}

/// Runs interceptors by reference: the built-ins in-process, others (later) over HTTP. The
/// chain of spec §2.6 is written against this trait so it can be tested with a fake.
pub trait Interceptors: Send + Sync {
    /// Calls the interceptor `name` (a ClusterInterceptor, or an Interceptor in the listener's
    /// namespace when `namespaced`). `Err` is what the spec calls catastrophic (unknown
    /// interceptor, transport failure): it stops the trigger like `continue: false` does, and
    /// is recorded differently.
    fn call(
        &self,
        name: &str,
        namespaced: bool,
        request: &Request<'_>,
    ) -> Result<Response, CallError>;
}

/// Why an interceptor could not be called at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No interceptor of that name exists.
    #[error("interceptor \"{name}\" not found: adze runs the built-ins github, gitlab, bitbucket, cel and slack")]
    Unknown {
        /// The name asked for.
        name: String,
    },
}
