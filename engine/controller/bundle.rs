//! A run's world as the loader sees it: the run object and what it may reference in its
//! namespace (Tasks, Pipelines, StepActions, the service accounts it names and their
//! credential Secrets), read from the API server and loaded as if from files.
//!
//! Each object is added to a [`Bundle`] as its JSON text (JSON is YAML) under the name
//! `cluster:<namespace>/<Kind>/<name>`, so resolution, defaults and v1beta1 conversion are
//! exactly `adze run`'s. Server-owned fields (`status`, `managedFields`) are dropped first.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::Client;
use serde_json::Value;

use super::objects::tekton;
use crate::load::{Bundle, Origin};

/// Annotation prefixes of the Secrets Tekton turns into credential files.
const CREDENTIAL_ANNOTATIONS: [&str; 2] = ["tekton.dev/git-", "tekton.dev/docker-"];

/// Loads `run` (a TaskRun or PipelineRun as read) and what it may reference. Only the kinds
/// something loaded refers to are listed (a child TaskRun with an embedded spec lists none):
/// Pipelines for a `pipelineRef`, Tasks for a `taskRef`, StepActions for a step's `ref`.
pub async fn load(
    client: &Client,
    namespace: &str,
    run: &DynamicObject,
) -> Result<Bundle, kube::Error> {
    let mut bundle = Bundle::new();
    let run_json = serde_json::to_value(run).unwrap_or(Value::Null);
    add(&mut bundle, namespace, &run_json);
    let mut texts = vec![run_json.to_string()];
    for (key, kind) in [("pipelineRef", "Pipeline"), ("taskRef", "Task")] {
        if refers(&texts, key) {
            for object in list(client, namespace, &tekton(kind)).await? {
                texts.push(object.to_string());
                add(&mut bundle, namespace, &object);
            }
        }
    }
    if refers(&texts, "ref") {
        let step_actions = ApiResource::from_gvk(&GroupVersionKind::gvk(
            "tekton.dev",
            "v1beta1",
            "StepAction",
        ));
        // Clusters with older Tekton CRDs (or adze's own) may not serve StepActions at all.
        if let Ok(objects) = list(client, namespace, &step_actions).await {
            for object in objects {
                add(&mut bundle, namespace, &object);
            }
        }
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    for name in service_accounts(&run_json) {
        let Some(account) = accounts.get_opt(&name).await? else {
            continue;
        };
        add(
            &mut bundle,
            namespace,
            &serde_json::to_value(&account).unwrap_or(Value::Null),
        );
        let names = account
            .secrets
            .iter()
            .flatten()
            .filter_map(|s| s.name.clone());
        for secret in names {
            let Some(secret) = secrets.get_opt(&secret).await? else {
                continue;
            };
            if is_credential(&secret) {
                add(
                    &mut bundle,
                    namespace,
                    &serde_json::to_value(&secret).unwrap_or(Value::Null),
                );
            }
        }
    }
    Ok(bundle)
}

async fn list(
    client: &Client,
    namespace: &str,
    resource: &ApiResource,
) -> Result<Vec<Value>, kube::Error> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, resource);
    let listed = api.list(&ListParams::default()).await?;
    Ok(listed
        .items
        .into_iter()
        .map(|mut o| {
            // A list's items carry no type; the loader needs it.
            o.types = Some(kube::api::TypeMeta {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
            });
            serde_json::to_value(&o).unwrap_or(Value::Null)
        })
        .collect())
}

/// True when one of the objects' JSON texts has the key `key` (anywhere: an embedded spec
/// counts too). A false positive costs one list; a false negative cannot happen.
fn refers(texts: &[String], key: &str) -> bool {
    let quoted = format!("\"{key}\":");
    texts.iter().any(|t| t.contains(&quoted))
}

/// Adds one object, without the fields only the server writes.
fn add(bundle: &mut Bundle, namespace: &str, object: &Value) {
    let mut object = object.clone();
    let Some(map) = object.as_object_mut() else {
        return;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    let name = format!(
        "cluster:{namespace}/{}/{}",
        object["kind"].as_str().unwrap_or("?"),
        object["metadata"]["name"].as_str().unwrap_or("?")
    );
    let text = serde_json::to_string_pretty(&object).unwrap_or_default();
    bundle.add_source(&name, text, Origin::Input);
}

/// Every service account a run names, `default` included (Tekton's when none is named).
fn service_accounts(run: &Value) -> BTreeSet<String> {
    let spec = &run["spec"];
    let mut names = BTreeSet::from(["default".to_owned()]);
    let named = [
        &spec["serviceAccountName"],
        &spec["taskRunTemplate"]["serviceAccountName"],
    ];
    names.extend(named.iter().filter_map(|v| v.as_str()).map(str::to_owned));
    for specs in spec["taskRunSpecs"].as_array().into_iter().flatten() {
        if let Some(name) = specs["serviceAccountName"].as_str() {
            names.insert(name.to_owned());
        }
    }
    names
}

/// A Secret Tekton turns into credential files (`tekton.dev/git-*`, `tekton.dev/docker-*`).
fn is_credential(secret: &Secret) -> bool {
    secret
        .metadata
        .annotations
        .iter()
        .flatten()
        .any(|(k, _)| CREDENTIAL_ANNOTATIONS.iter().any(|p| k.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_service_account_and_default() {
        let run = serde_json::json!({"spec": {
            "taskRunTemplate": {"serviceAccountName": "builder"},
            "taskRunSpecs": [{"pipelineTaskName": "a", "serviceAccountName": "deployer"}, {}]
        }});
        let names: Vec<String> = service_accounts(&run).into_iter().collect();
        assert_eq!(names, ["builder", "default", "deployer"]);
    }

    #[test]
    fn only_kinds_something_refers_to_are_listed() {
        let texts = |v: Value| vec![v.to_string()];
        let embedded = texts(serde_json::json!({"spec": {"taskSpec": {"steps": [{"name": "s"}]}}}));
        assert!(!refers(&embedded, "taskRef") && !refers(&embedded, "ref"));
        let by_name = texts(serde_json::json!({"spec": {"taskRef": {"name": "t"}}}));
        assert!(refers(&by_name, "taskRef"));
        assert!(!refers(&by_name, "ref"), "taskRef is not a step's ref");
        let action = texts(serde_json::json!({"steps": [{"name": "s", "ref": {"name": "a"}}]}));
        assert!(refers(&action, "ref"));
    }

    #[test]
    fn server_fields_are_dropped_and_the_object_loads() {
        let mut bundle = Bundle::new();
        let task = serde_json::json!({
            "apiVersion": "tekton.dev/v1", "kind": "Task",
            "metadata": {"name": "t", "managedFields": [{"manager": "kubectl"}]},
            "spec": {"steps": [{"name": "s", "image": "busybox", "script": "true"}]},
            "status": {"whatever": 1}
        });
        add(&mut bundle, "ns", &task);
        assert!(bundle.diagnostics.is_empty(), "{:?}", bundle.diagnostics);
        assert_eq!(bundle.files[0].name, "cluster:ns/Task/t");
        assert!(!bundle.files[0].text.contains("managedFields"));
        assert!(!bundle.files[0].text.contains("whatever"));
    }
}
