//! The resources this server knows, and the discovery documents built from them (`/api`,
//! `/apis`, `/apis/<group>/<version>`, and the CustomResourceDefinitions of tekton.dev).
//!
//! Some kinds are stored and nothing more: Deployments, ReplicaSets, DaemonSets,
//! StatefulSets, Jobs and HorizontalPodAutoscalers (no workload controller makes Pods or
//! writes their status: a test writes it through the `status` subresource), Services (no
//! cluster IP, no endpoints), Ingresses, Nodes other than kube-sim's own, NetworkPolicies,
//! ResourceQuotas (no quota controller), admission webhook configurations (never called) and
//! CustomResourceDefinitions (which kinds are served comes from [`RESOURCES`], not from the
//! stored CRDs). They exist so that manifests
//! such as adze's `deploy/`, and a cluster's state seeded for a test, can be created, read
//! back and deleted. PodDisruptionBudgets have a controller ([`crate::disruption`]) and Pods
//! the `eviction` subresource ([`crate::eviction`]). The RBAC kinds are what [`crate::rbac`]
//! authorizes ServiceAccount requests by.
//!
//! # Design
//!
//! One static table, [`RESOURCES`], is the truth for routing, discovery, scope and which
//! resources have a `status` subresource; nothing else lists resources. Discovery is served in
//! the legacy format only: kubectl and kube-rs ask for aggregated discovery
//! (`apidiscovery.k8s.io/v2`) first and fall back to the legacy lists when the response's
//! `Content-Type` is plain `application/json`, as every pre-1.26 server answers.
//!
//! # Invariants
//!
//! - Each (group, version, plural) appears once; the tekton.dev versions are stored apart (no
//!   conversion between v1beta1 and v1).

use serde_json::{json, Value};

/// The verbs of every resource.
const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One resource kind served at `/api/v1` or `/apis/<group>/<version>`.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceDef {
    /// API group; empty for core.
    pub group: &'static str,
    /// API version (`v1`, `v1beta1`).
    pub version: &'static str,
    /// The URL name (`pods`).
    pub plural: &'static str,
    /// Lower-case singular (`pod`).
    pub singular: &'static str,
    /// The kind (`Pod`).
    pub kind: &'static str,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
    /// kubectl's abbreviations (`po`).
    pub short_names: &'static [&'static str],
    /// Categories (`all`, `tekton`).
    pub categories: &'static [&'static str],
    /// Whether `status` is a subresource: spec writes ignore status and status writes ignore the rest.
    pub status_subresource: bool,
    /// Whether this is a CustomResourceDefinition-backed kind (no strategic merge patch).
    pub custom: bool,
}

impl ResourceDef {
    /// `apiVersion` of its objects (`v1`, `tekton.dev/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this is the core Pod resource.
    pub fn is(&self, group: &str, plural: &str) -> bool {
        self.group == group && self.plural == plural
    }
}

macro_rules! resource {
    ($group:expr, $version:expr, $plural:expr, $singular:expr, $kind:expr, $namespaced:expr,
     short: [$($short:expr),*], categories: [$($cat:expr),*], status: $status:expr,
     custom: $custom:expr) => {
        ResourceDef {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $namespaced,
            short_names: &[$($short),*],
            categories: &[$($cat),*],
            status_subresource: $status,
            custom: $custom,
        }
    };
}

const TEKTON: &str = "tekton.dev";
const RBAC: &str = "rbac.authorization.k8s.io";
const NETWORKING: &str = "networking.k8s.io";
const POLICY: &str = "policy";
const ADMISSION: &str = "admissionregistration.k8s.io";
const TEKTON_CATEGORIES: [&str; 2] = ["tekton", "tekton-pipelines"];

/// Every resource served.
pub static RESOURCES: &[ResourceDef] = &[
    resource!("", "v1", "namespaces", "namespace", "Namespace", false,
        short: ["ns"], categories: [], status: true, custom: false),
    resource!("", "v1", "pods", "pod", "Pod", true,
        short: ["po"], categories: ["all"], status: true, custom: false),
    resource!("", "v1", "configmaps", "configmap", "ConfigMap", true,
        short: ["cm"], categories: [], status: false, custom: false),
    resource!("", "v1", "secrets", "secret", "Secret", true,
        short: [], categories: [], status: false, custom: false),
    resource!("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true,
        short: ["sa"], categories: [], status: false, custom: false),
    resource!("", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
        "PersistentVolumeClaim", true,
        short: ["pvc"], categories: [], status: true, custom: false),
    resource!("", "v1", "services", "service", "Service", true,
        short: ["svc"], categories: ["all"], status: true, custom: false),
    resource!("", "v1", "nodes", "node", "Node", false,
        short: ["no"], categories: [], status: true, custom: false),
    resource!("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true,
        short: ["quota"], categories: [], status: true, custom: false),
    resource!("", "v1", "events", "event", "Event", true,
        short: ["ev"], categories: [], status: false, custom: false),
    resource!("events.k8s.io", "v1", "events", "event", "Event", true,
        short: ["ev"], categories: [], status: false, custom: false),
    resource!("coordination.k8s.io", "v1", "leases", "lease", "Lease", true,
        short: [], categories: [], status: false, custom: false),
    resource!("apiextensions.k8s.io", "v1", "customresourcedefinitions",
        "customresourcedefinition", "CustomResourceDefinition", false,
        short: ["crd", "crds"], categories: ["api-extensions"], status: true, custom: false),
    resource!("apps", "v1", "deployments", "deployment", "Deployment", true,
        short: ["deploy"], categories: ["all"], status: true, custom: false),
    resource!("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true,
        short: ["rs"], categories: ["all"], status: true, custom: false),
    resource!("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true,
        short: ["ds"], categories: ["all"], status: true, custom: false),
    resource!("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true,
        short: ["sts"], categories: ["all"], status: true, custom: false),
    resource!("batch", "v1", "jobs", "job", "Job", true,
        short: [], categories: ["all"], status: true, custom: false),
    resource!("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
        "HorizontalPodAutoscaler", true,
        short: ["hpa"], categories: ["all"], status: true, custom: false),
    resource!(ADMISSION, "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration",
        "MutatingWebhookConfiguration", false,
        short: [], categories: ["api-extensions"], status: false, custom: false),
    resource!(ADMISSION, "v1", "validatingwebhookconfigurations",
        "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false,
        short: [], categories: ["api-extensions"], status: false, custom: false),
    resource!(NETWORKING, "v1", "ingresses", "ingress", "Ingress", true,
        short: ["ing"], categories: [], status: true, custom: false),
    resource!(NETWORKING, "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true,
        short: ["netpol"], categories: [], status: false, custom: false),
    resource!(POLICY, "v1", "poddisruptionbudgets", "poddisruptionbudget",
        "PodDisruptionBudget", true,
        short: ["pdb"], categories: [], status: true, custom: false),
    resource!(RBAC, "v1", "clusterroles", "clusterrole", "ClusterRole", false,
        short: [], categories: [], status: false, custom: false),
    resource!(RBAC, "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding",
        false, short: [], categories: [], status: false, custom: false),
    resource!(RBAC, "v1", "roles", "role", "Role", true,
        short: [], categories: [], status: false, custom: false),
    resource!(RBAC, "v1", "rolebindings", "rolebinding", "RoleBinding", true,
        short: [], categories: [], status: false, custom: false),
    resource!(TEKTON, "v1", "pipelines", "pipeline", "Pipeline", true,
        short: [], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: false, custom: true),
    resource!(TEKTON, "v1", "tasks", "task", "Task", true,
        short: [], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: false, custom: true),
    resource!(TEKTON, "v1", "pipelineruns", "pipelinerun", "PipelineRun", true,
        short: ["pr", "prs"], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: true, custom: true),
    resource!(TEKTON, "v1", "taskruns", "taskrun", "TaskRun", true,
        short: ["tr", "trs"], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: true, custom: true),
    resource!(TEKTON, "v1beta1", "pipelines", "pipeline", "Pipeline", true,
        short: [], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: false, custom: true),
    resource!(TEKTON, "v1beta1", "tasks", "task", "Task", true,
        short: [], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: false, custom: true),
    resource!(TEKTON, "v1beta1", "pipelineruns", "pipelinerun", "PipelineRun", true,
        short: ["pr", "prs"], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: true, custom: true),
    resource!(TEKTON, "v1beta1", "taskruns", "taskrun", "TaskRun", true,
        short: ["tr", "trs"], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: true, custom: true),
    resource!(TEKTON, "v1beta1", "customruns", "customrun", "CustomRun", true,
        short: [], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: true, custom: true),
    resource!(TEKTON, "v1beta1", "stepactions", "stepaction", "StepAction", true,
        short: [], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: false, custom: true),
    resource!(TEKTON, "v1alpha1", "stepactions", "stepaction", "StepAction", true,
        short: [], categories: [TEKTON_CATEGORIES[0], TEKTON_CATEGORIES[1]], status: false, custom: true),
];

/// The groups under `/apis`, each with its versions, preferred first.
const GROUPS: &[(&str, &[&str])] = &[
    ("events.k8s.io", &["v1"]),
    ("coordination.k8s.io", &["v1"]),
    ("apiextensions.k8s.io", &["v1"]),
    ("apps", &["v1"]),
    ("batch", &["v1"]),
    ("autoscaling", &["v2"]),
    (ADMISSION, &["v1"]),
    (NETWORKING, &["v1"]),
    (POLICY, &["v1"]),
    (RBAC, &["v1"]),
    (TEKTON, &["v1", "v1beta1", "v1alpha1"]),
];

/// The resource `plural` of `group/version`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Whether `group/version` is served at all.
pub fn serves_version(group: &str, version: &str) -> bool {
    RESOURCES
        .iter()
        .any(|r| r.group == group && r.version == version)
}

/// The core Namespace resource.
pub fn namespaces() -> &'static ResourceDef {
    find("", "v1", "namespaces").expect("the namespaces resource is in the table")
}

pub use crate::version::{version_info, ServerVersion};

/// `GET /api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }],
    })
}

fn group_document(name: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({ "groupVersion": format!("{name}/{v}"), "version": v }))
        .collect();
    json!({
        "name": name,
        "versions": versions,
        "preferredVersion": versions[0],
    })
}

/// `GET /apis`.
pub fn group_list() -> Value {
    let groups: Vec<Value> = GROUPS
        .iter()
        .map(|(name, versions)| group_document(name, versions))
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `GET /apis/<group>`, if the group is served.
pub fn group(name: &str) -> Option<Value> {
    let (name, versions) = GROUPS.iter().find(|(g, _)| *g == name)?;
    let mut document = group_document(name, versions);
    document["kind"] = json!("APIGroup");
    document["apiVersion"] = json!("v1");
    Some(document)
}

/// `GET /api/v1` or `/apis/<group>/<version>`: the resources and their subresources.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    if !serves_version(group, version) {
        return None;
    }
    let mut resources = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        resources.push(json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": VERBS,
            "shortNames": r.short_names,
            "categories": r.categories,
        }));
        if r.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        if r.is("", "pods") {
            resources.push(json!({
                "name": "pods/log",
                "singularName": "",
                "namespaced": true,
                "kind": "Pod",
                "verbs": ["get"],
            }));
            // kubectl drain evicts (rather than deletes) only when discovery lists this,
            // with the group and version of the Eviction body it should send.
            resources.push(json!({
                "name": "pods/eviction",
                "singularName": "",
                "namespaced": true,
                "group": POLICY,
                "version": "v1",
                "kind": "Eviction",
                "verbs": ["create"],
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// The CustomResourceDefinitions of every custom kind, as `kubectl get crd` would show them.
pub fn custom_resource_definitions() -> Vec<Value> {
    let mut crds: Vec<Value> = Vec::new();
    for r in RESOURCES.iter().filter(|r| r.custom) {
        let name = format!("{}.{}", r.plural, r.group);
        let version = json!({
            "name": r.version,
            "served": true,
            "storage": false,
            "schema": { "openAPIV3Schema": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
            } },
            "subresources": if r.status_subresource { json!({ "status": {} }) } else { json!({}) },
        });
        if let Some(crd) = crds.iter_mut().find(|c| c["metadata"]["name"] == name) {
            if let Some(versions) = crd["spec"]["versions"].as_array_mut() {
                versions.push(version);
            }
            continue;
        }
        crds.push(json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": { "name": name, "labels": { "app.kubernetes.io/part-of": "tekton-pipelines" } },
            "spec": {
                "group": r.group,
                "names": {
                    "plural": r.plural,
                    "singular": r.singular,
                    "kind": r.kind,
                    "listKind": format!("{}List", r.kind),
                    "shortNames": r.short_names,
                    "categories": r.categories,
                },
                "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                "versions": [version],
            },
            "status": {
                "acceptedNames": { "plural": r.plural, "kind": r.kind },
                "conditions": [{ "type": "Established", "status": "True", "reason": "InitialNamesAccepted" }],
                "storedVersions": [r.version],
            },
        }));
    }
    // The preferred version (v1, listed first in GROUPS) is the storage version.
    for crd in &mut crds {
        if let Some(versions) = crd["spec"]["versions"].as_array_mut() {
            let storage = versions.iter().position(|v| v["name"] == "v1").unwrap_or(0);
            versions[storage]["storage"] = json!(true);
        }
    }
    crds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_is_listed_once() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "{} listed twice",
                    a.plural
                );
            }
        }
    }

    #[test]
    fn core_discovery_has_pods_log_and_short_names() {
        let list = resource_list("", "v1").unwrap();
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"pods/log"));
        assert!(names.contains(&"pods/status"));
        let eviction = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "pods/eviction")
            .unwrap();
        // What kubectl drain's CheckEvictionSupport looks for.
        assert_eq!(
            (&eviction["group"], &eviction["version"], &eviction["kind"]),
            (&json!("policy"), &json!("v1"), &json!("Eviction"))
        );
        for (plural, short) in [("nodes", "no"), ("resourcequotas", "quota")] {
            let found = list["resources"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == plural)
                .unwrap();
            assert_eq!(found["shortNames"], json!([short]));
        }
        assert_eq!(
            resource_list("policy", "v1").unwrap()["resources"][0]["shortNames"],
            json!(["pdb"])
        );
        assert!(group("networking.k8s.io").is_some());
        let pvc = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "persistentvolumeclaims")
            .unwrap();
        assert_eq!(pvc["shortNames"], json!(["pvc"]));
    }

    #[test]
    fn deployments_rbac_and_crds_are_discovered_with_every_verb() {
        let groups = group_list();
        for name in ["apps", "rbac.authorization.k8s.io", "apiextensions.k8s.io"] {
            assert!(
                groups["groups"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|g| g["name"] == name),
                "{name} missing"
            );
        }
        let apps = resource_list("apps", "v1").unwrap();
        let deployments = &apps["resources"][0];
        assert_eq!(deployments["name"], "deployments");
        assert_eq!(deployments["shortNames"], json!(["deploy"]));
        assert_eq!(apps["resources"][1]["name"], "deployments/status");
        let rbac = resource_list("rbac.authorization.k8s.io", "v1").unwrap();
        let scopes: Vec<(&str, bool)> = rbac["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap(),
                    r["namespaced"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            scopes,
            [
                ("clusterroles", false),
                ("clusterrolebindings", false),
                ("roles", true),
                ("rolebindings", true)
            ]
        );
        let crds = resource_list("apiextensions.k8s.io", "v1").unwrap();
        assert_eq!(crds["resources"][0]["verbs"], json!(VERBS));
    }

    #[test]
    fn tekton_crds_store_v1() {
        let crds = custom_resource_definitions();
        let taskruns = crds
            .iter()
            .find(|c| c["metadata"]["name"] == "taskruns.tekton.dev")
            .unwrap();
        let versions = taskruns["spec"]["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert!(versions
            .iter()
            .any(|v| v["name"] == "v1" && v["storage"] == true));
        assert!(crds
            .iter()
            .any(|c| c["metadata"]["name"] == "stepactions.tekton.dev"));
    }
}
