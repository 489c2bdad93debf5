//! The tekton.dev objects as the controller reads and writes them: their API resources, a
//! run's identity, and status writes retried with backoff.

use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::Client;
use serde_json::Value;

use crate::reconcile::Timestamp;
use crate::status::{parse_rfc3339, RunIdentity};

/// `tekton.dev/v1` `kind` as an API resource (`TaskRun` → `taskruns`).
pub fn tekton(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("tekton.dev", "v1", kind))
}

/// The two kinds the controller reconciles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunKind {
    /// `PipelineRun`.
    PipelineRun,
    /// `TaskRun`.
    TaskRun,
}

impl RunKind {
    /// Every kind, in the order metrics render them.
    pub const ALL: [RunKind; 2] = [RunKind::PipelineRun, RunKind::TaskRun];

    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::PipelineRun => "PipelineRun",
            RunKind::TaskRun => "TaskRun",
        }
    }

    /// Its API resource.
    pub fn resource(self) -> ApiResource {
        tekton(self.as_str())
    }
}

/// One run object: what every log line and status write names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunKey {
    /// Its kind.
    pub kind: RunKind,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`: a run deleted and created again under its name is another run.
    pub uid: String,
}

impl RunKey {
    /// The key of a run object as read from the API server.
    pub fn of(kind: RunKind, object: &DynamicObject) -> RunKey {
        RunKey {
            kind,
            namespace: object.metadata.namespace.clone().unwrap_or_default(),
            name: object.metadata.name.clone().unwrap_or_default(),
            uid: object.metadata.uid.clone().unwrap_or_default(),
        }
    }

    /// The identity the status renderers take.
    pub fn identity(&self, object: &DynamicObject) -> RunIdentity {
        RunIdentity {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            uid: self.uid.clone(),
            created: object
                .metadata
                .creation_timestamp
                .as_ref()
                .and_then(|t| parse_rfc3339(&t.0.to_string()))
                .unwrap_or(Timestamp(0)),
        }
    }
}

impl std::fmt::Display for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

/// True once the run's `Succeeded` condition is `True` or `False`: nothing more to do.
pub fn is_done(object: &DynamicObject) -> bool {
    succeeded(&object.data)
        .and_then(|c| c["status"].as_str())
        .is_some_and(|s| s == "True" || s == "False")
}

/// The `Succeeded` condition of a run's `status`, if it has one.
pub fn succeeded(data: &Value) -> Option<&Value> {
    data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Succeeded")
}

/// A time the run's status records (`startTime`, `finallyStartTime`).
pub fn status_time(data: &Value, field: &str) -> Option<Timestamp> {
    data["status"][field].as_str().and_then(parse_rfc3339)
}

/// How many times a write is tried before the run is requeued.
const WRITE_ATTEMPTS: u32 = 6;

/// Merges `status` into the run's status subresource, retrying what may pass on a second
/// try (the server's 5xx and 429, a connection cut) with exponential backoff. A merge patch
/// carries no `resourceVersion`, so a concurrent write never makes it conflict: the fields it
/// names are re-applied as they are. `Ok(false)` when the run is gone.
pub async fn write_status(
    client: &Client,
    key: &RunKey,
    status: &Value,
) -> Result<bool, kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &key.namespace, &key.kind.resource());
    let patch = serde_json::json!({ "status": status });
    let mut delay = Duration::from_millis(100);
    for attempt in 1.. {
        match api
            .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => return Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(false),
            Err(e) if attempt < WRITE_ATTEMPTS && retryable(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// An API error worth trying again: the server's own trouble, throttling, or no answer.
pub fn retryable(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(s) => s.code >= 500 || s.code == 429,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_done_once_its_condition_is_true_or_false() {
        let with = |status: &str| {
            let mut o = DynamicObject::new("r", &tekton("TaskRun"));
            o.data = serde_json::json!({"status": {"conditions": [
                {"type": "Succeeded", "status": status}
            ]}});
            o
        };
        assert!(is_done(&with("True")));
        assert!(is_done(&with("False")));
        assert!(!is_done(&with("Unknown")));
        assert!(!is_done(&DynamicObject::new("r", &tekton("TaskRun"))));
        assert_eq!(tekton("PipelineRun").plural, "pipelineruns");
    }

    #[test]
    fn only_server_trouble_is_retried() {
        let api = |code: u16| {
            kube::Error::Api(kube::core::ErrorResponse {
                status: "Failure".into(),
                message: String::new(),
                reason: String::new(),
                code,
            })
        };
        assert!(retryable(&api(503)));
        assert!(retryable(&api(429)));
        assert!(!retryable(&api(422)));
        assert!(!retryable(&api(403)));
    }
}
