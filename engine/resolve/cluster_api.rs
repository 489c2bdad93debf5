//! The `cluster` resolver's objects read from a Kubernetes API server: what `adze
//! controller` and `adze run --executor kubernetes` resolve `cluster` references against.
//!
//! # Design
//!
//! [`ApiObjects`] answers [`ClusterSource::get`] from a list of the namespace's Tasks,
//! Pipelines or StepActions, without the fields only the server writes. It blocks on a runtime handle, so
//! it must be called outside that runtime (the resolution pass runs on the controller's
//! blocking reconcile threads, and before the CLI's run starts). For the CLI it connects
//! lazily: a run without `cluster` references never contacts the server for them.

use std::sync::OnceLock;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::Value;

use super::cluster::ClusterSource;
use crate::api::Kind;
use crate::exec::kubernetes::connect::{connect, ClusterOptions};
use crate::load::Bundle;

/// How the client is had: given, or made on first use from the kubeconfig flags.
enum Access {
    Client(kube::Client),
    Lazy {
        options: ClusterOptions,
        client: OnceLock<Result<kube::Client, String>>,
    },
}

/// Tasks, Pipelines and StepActions read from the API server.
pub struct ApiObjects {
    access: Access,
    handle: tokio::runtime::Handle,
    /// The runtime `handle` belongs to, when this source made its own.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl ApiObjects {
    /// Reads with `client`, its calls run on `handle`'s runtime.
    pub fn new(client: kube::Client, handle: tokio::runtime::Handle) -> Self {
        ApiObjects {
            access: Access::Client(client),
            handle,
            _runtime: None,
        }
    }

    /// Connects on first use with `options` (`--kubeconfig`, `--context`), on a runtime of
    /// its own.
    pub fn lazy(options: ClusterOptions) -> Result<Self, String> {
        // Multi-threaded: `Handle::block_on` cannot drive a current-thread runtime's I/O.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        Ok(ApiObjects {
            access: Access::Lazy {
                options,
                client: OnceLock::new(),
            },
            handle: runtime.handle().clone(),
            _runtime: Some(runtime),
        })
    }

    fn client(&self) -> Result<kube::Client, String> {
        match &self.access {
            Access::Client(client) => Ok(client.clone()),
            Access::Lazy { options, client } => client
                .get_or_init(|| {
                    self.handle
                        .block_on(connect(options))
                        .map(|cluster| cluster.client)
                        .map_err(|e| e.to_string())
                })
                .clone(),
        }
    }
}

/// The resource of `kind` as Tekton serves it.
fn resource(kind: Kind) -> Option<ApiResource> {
    let (version, kind) = match kind {
        Kind::Task => ("v1", "Task"),
        Kind::Pipeline => ("v1", "Pipeline"),
        Kind::StepAction => ("v1beta1", "StepAction"),
        _ => return None,
    };
    Some(ApiResource::from_gvk(&GroupVersionKind::gvk(
        "tekton.dev",
        version,
        kind,
    )))
}

impl ClusterSource for ApiObjects {
    fn place(&self) -> &'static str {
        "on the API server"
    }

    fn get(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        _documents: &Bundle,
    ) -> Result<Option<String>, String> {
        let resource =
            resource(kind).ok_or_else(|| format!("the cluster resolver does not fetch {kind}s"))?;
        let api: Api<DynamicObject> = Api::namespaced_with(self.client()?, namespace, &resource);
        // A list, not a get: `list` is what the controller's deploy/cluster-role.yaml already
        // grants on these kinds (its reconcile lists them too), and Tekton objects per
        // namespace are few.
        let listed = self
            .handle
            .block_on(api.list(&ListParams::default()))
            .map_err(|e| format!("listing {kind}s in {namespace}: {e}"))?;
        let found = listed
            .items
            .into_iter()
            .find(|o| o.metadata.name.as_deref() == Some(name));
        Ok(found.map(|mut object| {
            object.types = Some(kube::api::TypeMeta {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
            });
            let mut value = serde_json::to_value(&object).unwrap_or(Value::Null);
            without_server_fields(&mut value);
            value.to_string()
        }))
    }
}

/// Drops the fields only the server writes (`status`, `metadata.managedFields`).
pub fn without_server_fields(object: &mut Value) {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_fields_are_dropped() {
        let mut task = serde_json::json!({
            "kind": "Task",
            "metadata": {"name": "t", "managedFields": [{"manager": "kubectl"}]},
            "spec": {"steps": []},
            "status": {"x": 1}
        });
        without_server_fields(&mut task);
        assert_eq!(
            task,
            serde_json::json!({"kind": "Task", "metadata": {"name": "t"}, "spec": {"steps": []}})
        );
    }

    #[test]
    fn only_tekton_kinds_have_a_resource() {
        assert_eq!(resource(Kind::Task).map(|r| r.version), Some("v1".into()));
        assert_eq!(
            resource(Kind::StepAction).map(|r| r.version),
            Some("v1beta1".into())
        );
        assert!(resource(Kind::TaskRun).is_none());
    }
}
