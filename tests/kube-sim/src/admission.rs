//! What the API server does to an object of each kind before storing it: the defaults
//! Kubernetes fills in (a Pod's node, restart policy and container defaults; a claim that is
//! immediately Bound; a namespace's phase), Secret `stringData` folded into `data`, and the
//! validation a kind needs so the kubelet never sees a Pod it cannot read.
//!
//! # Design
//!
//! Built-in kinds are checked by deserialising into their `k8s-openapi` type, so a wrong shape
//! ("containers": "x") is rejected with the field that failed, as the real server's decoder
//! rejects it; only the rules the decoder cannot express (a Pod needs containers, each with an
//! image) are written out. Custom kinds are stored as sent, as a CRD with
//! `x-kubernetes-preserve-unknown-fields` stores them.
//!
//! # Not yet
//!
//! - Immutability of a Pod's spec after creation, and most field validation of built-ins.

use base64::Engine;
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::resources::ResourceDef;
use crate::store::now;

fn decode_as<T: serde::de::DeserializeOwned>(
    resource: &ResourceDef,
    object: &Value,
) -> Result<(), ApiError> {
    serde_json::from_value::<T>(object.clone())
        .map(|_| ())
        .map_err(|e| {
            ApiError::BadRequest(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
                kind = resource.kind,
                version = resource.version,
            ))
        })
}

/// Rejects an object whose shape its kind does not allow.
pub fn validate(resource: &ResourceDef, object: &Value) -> Result<(), ApiError> {
    use k8s_openapi::api::{
        admissionregistration, apps, autoscaling, batch, coordination, core, events, networking,
        policy, rbac,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    match (resource.group, resource.plural) {
        ("", "pods") => {
            decode_as::<core::v1::Pod>(resource, object)?;
            let containers = object["spec"]["containers"].as_array();
            if containers.is_none_or(|c| c.is_empty()) {
                return Err(ApiError::invalid(
                    resource.kind,
                    name,
                    "spec.containers",
                    "Required value",
                ));
            }
            for field in ["initContainers", "containers"] {
                for (i, container) in object["spec"][field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if container["image"].as_str().is_none_or(str::is_empty) {
                        return Err(ApiError::invalid(
                            resource.kind,
                            name,
                            &format!("spec.{field}[{i}].image"),
                            "Required value",
                        ));
                    }
                }
            }
            Ok(())
        }
        ("", "configmaps") => {
            decode_as::<core::v1::ConfigMap>(resource, object)?;
            crate::version::validate_config_map(object)
        }
        ("", "nodes") => decode_as::<core::v1::Node>(resource, object),
        ("", "services") => decode_as::<core::v1::Service>(resource, object),
        ("batch", "jobs") => decode_as::<batch::v1::Job>(resource, object),
        ("autoscaling", "horizontalpodautoscalers") => {
            decode_as::<autoscaling::v2::HorizontalPodAutoscaler>(resource, object)
        }
        ("networking.k8s.io", "ingresses") => {
            decode_as::<networking::v1::Ingress>(resource, object)
        }
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => {
            decode_as::<admissionregistration::v1::MutatingWebhookConfiguration>(resource, object)
        }
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
            decode_as::<admissionregistration::v1::ValidatingWebhookConfiguration>(resource, object)
        }
        ("", "resourcequotas") => decode_as::<core::v1::ResourceQuota>(resource, object),
        ("networking.k8s.io", "networkpolicies") => {
            decode_as::<networking::v1::NetworkPolicy>(resource, object)
        }
        ("policy", "poddisruptionbudgets") => {
            decode_as::<policy::v1::PodDisruptionBudget>(resource, object)?;
            crate::disruption::validate(object)
        }
        ("apps", "replicasets") => decode_as::<apps::v1::ReplicaSet>(resource, object),
        ("apps", "daemonsets") => decode_as::<apps::v1::DaemonSet>(resource, object),
        ("apps", "statefulsets") => decode_as::<apps::v1::StatefulSet>(resource, object),
        ("", "secrets") => decode_as::<core::v1::Secret>(resource, object),
        ("", "serviceaccounts") => decode_as::<core::v1::ServiceAccount>(resource, object),
        ("", "persistentvolumeclaims") => {
            decode_as::<core::v1::PersistentVolumeClaim>(resource, object)
        }
        ("", "namespaces") => decode_as::<core::v1::Namespace>(resource, object),
        ("", "events") => decode_as::<core::v1::Event>(resource, object),
        ("events.k8s.io", "events") => decode_as::<events::v1::Event>(resource, object),
        ("coordination.k8s.io", "leases") => decode_as::<coordination::v1::Lease>(resource, object),
        ("apps", "deployments") => decode_as::<apps::v1::Deployment>(resource, object),
        ("rbac.authorization.k8s.io", "clusterroles") => {
            decode_as::<rbac::v1::ClusterRole>(resource, object)
        }
        ("rbac.authorization.k8s.io", "clusterrolebindings") => {
            decode_as::<rbac::v1::ClusterRoleBinding>(resource, object)
        }
        ("rbac.authorization.k8s.io", "roles") => decode_as::<rbac::v1::Role>(resource, object),
        ("rbac.authorization.k8s.io", "rolebindings") => {
            decode_as::<rbac::v1::RoleBinding>(resource, object)
        }
        ("apiextensions.k8s.io", "customresourcedefinitions") => {
            decode_as::<apiextensions::v1::CustomResourceDefinition>(resource, object)
        }
        _ => Ok(()),
    }
}

/// Folds a Secret's `stringData` into base64 `data` (stringData wins), as every write does.
fn fold_string_data(object: &mut Value) {
    let Some(string_data) = object.as_object_mut().and_then(|o| o.remove("stringData")) else {
        return;
    };
    let Value::Object(string_data) = string_data else {
        return;
    };
    if !object["data"].is_object() {
        object["data"] = json!({});
    }
    for (key, value) in string_data {
        let text = value
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string());
        object["data"][key] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

fn set_default(object: &mut Value, field: &str, value: Value) {
    if object[field].is_null() {
        object[field] = value;
    }
}

fn default_pod(object: &mut Value) {
    let spec = &mut object["spec"];
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "serviceAccountName", json!("default"));
    let account = spec["serviceAccountName"].clone();
    set_default(spec, "serviceAccount", account);
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    for field in ["initContainers", "containers"] {
        if let Some(containers) = spec.get_mut(field).and_then(Value::as_array_mut) {
            for container in containers {
                set_default(
                    container,
                    "terminationMessagePath",
                    json!("/dev/termination-log"),
                );
                set_default(container, "terminationMessagePolicy", json!("File"));
                let image = container["image"].as_str().unwrap_or_default();
                let tagged = image
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| last.contains(':'));
                let policy = if !tagged || image.ends_with(":latest") {
                    "Always"
                } else {
                    "IfNotPresent"
                };
                set_default(container, "imagePullPolicy", json!(policy));
            }
        }
    }
    object["status"] = json!({
        "phase": "Pending",
        "conditions": [{ "type": "PodScheduled", "status": "True", "lastTransitionTime": now() }],
        "qosClass": "BestEffort",
    });
}

fn default_claim(object: &mut Value) {
    let uid = object["metadata"]["uid"]
        .as_str()
        .unwrap_or("unknown")
        .to_owned();
    set_default(
        &mut object["spec"],
        "volumeName",
        json!(format!("pvc-{uid}")),
    );
    set_default(&mut object["spec"], "volumeMode", json!("Filesystem"));
    let requested = object["spec"]["resources"]["requests"].clone();
    object["status"] = json!({
        "phase": "Bound",
        "accessModes": object["spec"]["accessModes"].clone(),
        "capacity": requested,
    });
}

/// Prepares a new object before the store names it: status subresource rules and defaults
/// that do not need the object's name or uid.
pub fn before_create(resource: &ResourceDef, object: &mut Value) {
    if resource.status_subresource {
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
    }
    match (resource.group, resource.plural) {
        ("", "secrets") => {
            fold_string_data(object);
            set_default(object, "type", json!("Opaque"));
        }
        ("", "pods") => default_pod(object),
        ("", "namespaces") => {
            object["spec"] = json!({ "finalizers": ["kubernetes"] });
            object["status"] = json!({ "phase": "Active" });
        }
        _ => {}
    }
}

/// Defaults that need the stored name or uid; returns the status to write, if any.
pub fn after_create(resource: &ResourceDef, object: &Value) -> Option<Value> {
    match (resource.group, resource.plural) {
        ("", "persistentvolumeclaims") => {
            let mut claim = object.clone();
            default_claim(&mut claim);
            Some(claim)
        }
        ("", "namespaces") => {
            let mut namespace = object.clone();
            let name = object["metadata"]["name"].clone();
            if !namespace["metadata"]["labels"].is_object() {
                namespace["metadata"]["labels"] = json!({});
            }
            namespace["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
            Some(namespace)
        }
        _ => None,
    }
}

/// Prepares an updated or patched object (the whole object, before status rules).
pub fn before_write(resource: &ResourceDef, object: &mut Value) {
    if resource.is("", "secrets") {
        fold_string_data(object);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn string_data_is_folded_into_base64_data() {
        let secrets = find("", "v1", "secrets").unwrap();
        let mut secret = json!({ "metadata": { "name": "s" }, "data": { "a": "eA==" },
                                 "stringData": { "b": "hello" } });
        before_create(secrets, &mut secret);
        assert_eq!(secret["data"], json!({ "a": "eA==", "b": "aGVsbG8=" }));
        assert_eq!(secret["type"], "Opaque");
        assert!(secret.get("stringData").is_none());
    }

    #[test]
    fn pods_are_pending_and_left_for_the_scheduler_to_bind() {
        let pods = find("", "v1", "pods").unwrap();
        let mut pod = json!({ "metadata": { "name": "p" }, "status": { "phase": "Running" },
            "spec": { "containers": [{ "name": "c", "image": "adze-test/busybox:latest" },
                                     { "name": "d", "image": "debian:12" }] } });
        validate(pods, &pod).unwrap();
        before_create(pods, &mut pod);
        assert!(pod["spec"].get("nodeName").is_none());
        assert_eq!(pod["status"]["phase"], "Pending");
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(
            pod["spec"]["containers"][1]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn malformed_pods_are_rejected() {
        let pods = find("", "v1", "pods").unwrap();
        let no_containers = json!({ "metadata": { "name": "p" }, "spec": { "containers": [] } });
        assert!(matches!(
            validate(pods, &no_containers),
            Err(ApiError::Invalid { .. })
        ));
        let wrong_shape = json!({ "metadata": { "name": "p" }, "spec": { "containers": "x" } });
        assert!(matches!(
            validate(pods, &wrong_shape),
            Err(ApiError::BadRequest(_))
        ));
        let no_image =
            json!({ "metadata": { "name": "p" }, "spec": { "containers": [{ "name": "c" }] } });
        assert!(matches!(
            validate(pods, &no_image),
            Err(ApiError::Invalid { .. })
        ));
    }
}
