//! What RBAC roles grant, read from their YAML: for the tests that hold a component's
//! requests in kube-sim's audit log against the roles it ships (`deploy/`, a catalog
//! pipeline's `rbac.yaml`).

use std::collections::BTreeSet;

use serde_json::Value;

/// One thing a role grants: (apiGroup, resource[/subresource], verb); a non-resource URL is
/// ("", url, verb).
pub type Permission = (String, String, String);

/// Every permission the Roles and ClusterRoles among `text`'s YAML documents grant (other
/// kinds, such as ServiceAccounts and bindings, are skipped).
pub fn granted_by_yaml(text: &str) -> BTreeSet<Permission> {
    let mut out = BTreeSet::new();
    for doc in serde_yaml_ng::Deserializer::from_str(text) {
        let role: Value = serde::Deserialize::deserialize(doc).expect("a YAML document");
        if !matches!(role["kind"].as_str(), Some("Role" | "ClusterRole")) {
            continue;
        }
        for rule in role["rules"].as_array().into_iter().flatten() {
            let strings = |key: &str| -> Vec<String> {
                rule[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            };
            for verb in strings("verbs") {
                for url in strings("nonResourceURLs") {
                    out.insert((String::new(), url, verb.clone()));
                }
                for group in strings("apiGroups") {
                    for resource in strings("resources") {
                        out.insert((group.clone(), resource, verb.clone()));
                    }
                }
            }
        }
    }
    out
}
