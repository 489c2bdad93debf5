//! The `cluster` resolver's objects under `adze controller`: read from the API server, in
//! any namespace the controller may read, as Tekton's cluster resolver does.

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::Client;
use serde_json::Value;

use super::objects::tekton;
use crate::api::Kind;
use crate::load::Bundle;
use crate::resolve::cluster::ClusterSource;

/// Gets Tasks, Pipelines and StepActions by namespace and name from the API server.
pub struct ApiServer {
    /// The client.
    pub client: Client,
    /// The runtime its calls run on; `get` is called from a reconcile's blocking thread.
    pub handle: tokio::runtime::Handle,
}

impl ClusterSource for ApiServer {
    fn get(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        _documents: &Bundle,
    ) -> Result<Option<String>, String> {
        let resource = match kind {
            Kind::StepAction => ApiResource::from_gvk(&GroupVersionKind::gvk(
                "tekton.dev",
                "v1beta1",
                "StepAction",
            )),
            other => tekton(other.as_str()),
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), namespace, &resource);
        // A list, not a get: `list` is what deploy/cluster-role.yaml already grants on these
        // kinds (the reconcile lists them too), and Tekton objects per namespace are few.
        let listed = self
            .handle
            .block_on(api.list(&ListParams::default()))
            .map_err(|e| format!("listing {kind}s in {namespace}: {e}"))?;
        let Some(mut object) = listed
            .items
            .into_iter()
            .find(|o| o.metadata.name.as_deref() == Some(name))
        else {
            return Ok(None);
        };
        object.types = Some(kube::api::TypeMeta {
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
        });
        let mut value = serde_json::to_value(&object).unwrap_or(Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.remove("status");
            if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("managedFields");
            }
        }
        serde_json::to_string_pretty(&value)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}
