//! Secrets read from `v1` `Secret` documents loaded with the Triggers objects (`-f`).
//!
//! Keyed by namespace and name: a Secret without `metadata.namespace` is in the default
//! namespace the caller names, the same rule [`super::Catalog::load`] applies to Triggers
//! objects, so a listener and its Secret written side by side without namespaces match.
//! `stringData` is merged over base64 `data`, as the API server does on write.
//!
//! Values never appear in `Debug` output or errors: only names and keys do.

use super::interceptor::SecretMap;
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

/// The Secrets of a bundle: a [`SecretMap`] filled from the loaded documents.
pub type BundleSecrets = SecretMap;

impl SecretMap {
    /// Reads every `v1` Secret of `bundle`; ones without a namespace go to `default_namespace`.
    pub fn load(bundle: &Bundle, default_namespace: &str) -> Result<SecretMap, SecretError> {
        let mut out = SecretMap::new();
        for r in bundle
            .resources
            .iter()
            .filter(|r| r.kind == "Secret" && r.api_version == "v1")
        {
            let namespace = r.value["metadata"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(default_namespace);
            let invalid = |message: String| SecretError {
                namespace: namespace.to_string(),
                name: r.name.clone(),
                message,
            };
            // `stringData` last: the API server merges it over `data`.
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
                    out.insert(namespace, &r.name, key, bytes);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;
    use crate::triggers::interceptor::Secrets;

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
        assert!(debug.starts_with("SecretMap"), "{debug}");
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
