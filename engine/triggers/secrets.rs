//! Secrets read from `v1` `Secret` documents loaded with the Triggers objects (`-f`).
//!
//! Keyed by namespace and name: a Secret without `metadata.namespace` is in the default
//! namespace the caller names, the same rule [`super::Catalog::load`] applies to Triggers
//! objects, so a listener and its Secret written side by side without namespaces match.
//! `stringData` is merged over base64 `data`, as the API server does on write.
//!
//! Values never appear in `Debug` output or errors: only names and keys do.

use std::collections::BTreeMap;

use super::interceptor::Secrets;
use crate::load::Bundle;
use crate::run::config_data::base64_decode;

/// A Secret document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Secret {namespace}/{name}: {message}")]
pub struct SecretError {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// What is wrong (never a value).
    pub message: String,
}

/// The Secrets of a bundle.
#[derive(Clone, Default)]
pub struct BundleSecrets(BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>);

impl std::fmt::Debug for BundleSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .0
            .iter()
            .flat_map(|((ns, name), data)| data.keys().map(move |k| format!("{ns}/{name}[{k}]")))
            .collect();
        f.debug_tuple("BundleSecrets").field(&keys).finish()
    }
}

impl BundleSecrets {
    /// Reads every `v1` Secret of `bundle`; ones without a namespace go to `default_namespace`.
    pub fn load(bundle: &Bundle, default_namespace: &str) -> Result<BundleSecrets, SecretError> {
        let mut out = BTreeMap::new();
        for r in bundle
            .resources
            .iter()
            .filter(|r| r.kind == "Secret" && r.api_version == "v1")
        {
            let namespace = r.value["metadata"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(default_namespace)
                .to_string();
            let invalid = |message: String| SecretError {
                namespace: namespace.clone(),
                name: r.name.clone(),
                message,
            };
            let mut data = BTreeMap::new();
            for (field, encoded) in [("data", true), ("stringData", false)] {
                let Some(map) = r.value.get(field).filter(|v| !v.is_null()) else {
                    continue;
                };
                let map = map.as_object().ok_or_else(|| {
                    invalid(format!("`{field}` must be a mapping of keys to strings"))
                })?;
                for (key, value) in map {
                    let text = value
                        .as_str()
                        .ok_or_else(|| invalid(format!("`{field}.{key}` must be a string")))?;
                    let bytes = if encoded {
                        base64_decode(text).ok_or_else(|| {
                            invalid(format!("`{field}.{key}` is not valid base64"))
                        })?
                    } else {
                        text.as_bytes().to_vec()
                    };
                    data.insert(key.clone(), bytes);
                }
            }
            out.insert((namespace.clone(), r.name.clone()), data);
        }
        Ok(BundleSecrets(out))
    }
}

impl Secrets for BundleSecrets {
    fn get(&self, namespace: &str, name: &str, key: &str) -> Option<Vec<u8>> {
        self.0
            .get(&(namespace.to_string(), name.to_string()))?
            .get(key)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;

    fn load(text: &str) -> Result<BundleSecrets, SecretError> {
        let mut b = Bundle::new();
        b.add_source("s.yaml", text.to_string(), Origin::Input);
        BundleSecrets::load(&b, "default")
    }

    #[test]
    fn string_data_wins_namespaces_separate_values_hidden() {
        let s = load(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: gh, namespace: ci}\ndata: {token: czNjcjN0, both: b2xk}\nstringData: {both: new}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: gh}\nstringData: {token: other}\n",
        )
        .unwrap();
        assert_eq!(s.get("ci", "gh", "token").as_deref(), Some(&b"s3cr3t"[..]));
        assert_eq!(s.get("ci", "gh", "both").as_deref(), Some(&b"new"[..]));
        assert_eq!(
            s.get("default", "gh", "token").as_deref(),
            Some(&b"other"[..])
        );
        assert_eq!(s.get("ci", "gh", "missing"), None);
        assert_eq!(s.get("dev", "gh", "token"), None);
        let debug = format!("{s:?}");
        assert!(debug.contains("ci/gh[token]"), "{debug}");
        assert!(
            !debug.contains("s3cr3t") && !debug.contains("other") && !debug.contains("czNjcjN0"),
            "{debug}"
        );
    }

    #[test]
    fn bad_base64_names_the_key_not_the_value() {
        let e = load(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: gh}\ndata: {token: 'not base64!'}\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Secret default/gh: `data.token` is not valid base64"
        );
    }
}
