//! ConfigMaps and Secrets as a run reads them: workspace files and environment values.
//!
//! On a cluster the kubelet reads these objects from the API server; `adze run` has none, so it
//! reads the ConfigMap and Secret documents loaded beside the pipeline (kept in
//! [`Bundle::resources`]). A reference to one that was not loaded is an error that names the
//! object and says to pass its file, unless the reference is `optional`, which Kubernetes
//! also tolerates.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as corev1;

use super::RunError;
use crate::load::{Bundle, Resource};
pub use crate::plan::model::ConfigKind;

/// The loaded object of that kind and name.
fn find<'b>(bundle: &'b Bundle, kind: ConfigKind, name: &str) -> Option<&'b Resource> {
    bundle
        .resources
        .iter()
        .find(|r| r.kind == kind.as_str() && r.name == name)
}

/// Whether the object is loaded; for checks made before anything starts.
pub fn exists(bundle: &Bundle, kind: ConfigKind, name: &str) -> bool {
    find(bundle, kind, name).is_some()
}

/// Every key of the object with its decoded bytes; `None` when it is not loaded.
pub fn entries(
    bundle: &Bundle,
    kind: ConfigKind,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, RunError> {
    let Some(resource) = find(bundle, kind, name) else {
        return Ok(None);
    };
    let invalid = |message: String| RunError::InvalidObject {
        kind: kind.as_str(),
        name: name.to_owned(),
        message,
    };
    let (text_field, base64_field) = match kind {
        ConfigKind::ConfigMap => ("data", "binaryData"),
        ConfigKind::Secret => ("stringData", "data"),
    };
    let mut out = BTreeMap::new();
    // Text fields go last: a Secret's `stringData` wins over `data`, as the API server merges.
    for (field, encoded) in [(base64_field, true), (text_field, false)] {
        let Some(map) = resource.value.get(field) else {
            continue;
        };
        if map.is_null() {
            continue;
        }
        let Some(map) = map.as_object() else {
            return Err(invalid(format!(
                "`{field}` must be a mapping of keys to strings"
            )));
        };
        for (key, value) in map {
            let Some(text) = value.as_str() else {
                return Err(invalid(format!("`{field}.{key}` must be a string")));
            };
            let bytes = if encoded {
                base64_decode(text)
                    .ok_or_else(|| invalid(format!("`{field}.{key}` is not valid base64")))?
            } else {
                text.as_bytes().to_vec()
            };
            out.insert(key.clone(), bytes);
        }
    }
    Ok(Some(out))
}

/// The files a ConfigMap or Secret volume shows: every key, or only `items` at their paths.
/// A missing object is an empty volume when `optional`, an error otherwise.
pub fn volume_files(
    bundle: &Bundle,
    kind: ConfigKind,
    name: &str,
    items: &[corev1::KeyToPath],
    optional: bool,
    needed_by: &str,
) -> Result<Vec<(String, Vec<u8>)>, RunError> {
    let Some(entries) = entries(bundle, kind, name)? else {
        if optional {
            return Ok(Vec::new());
        }
        return Err(missing(kind, name, needed_by));
    };
    if items.is_empty() {
        return Ok(entries.into_iter().collect());
    }
    let mut files = Vec::with_capacity(items.len());
    for item in items {
        let Some(bytes) = entries.get(&item.key) else {
            if optional {
                continue;
            }
            return Err(RunError::MissingKey {
                kind: kind.as_str(),
                name: name.to_owned(),
                key: item.key.clone(),
                needed_by: needed_by.to_owned(),
            });
        };
        let escapes = item.path.starts_with('/') || item.path.split('/').any(|p| p == "..");
        if escapes || item.path.is_empty() {
            return Err(RunError::InvalidObject {
                kind: kind.as_str(),
                name: name.to_owned(),
                message: format!(
                    "item path \"{}\" ({needed_by}) must be relative and stay inside the volume",
                    item.path
                ),
            });
        }
        files.push((item.path.clone(), bytes.clone()));
    }
    Ok(files)
}

/// One key's value as text (`valueFrom.configMapKeyRef`/`secretKeyRef`); `None` when the
/// object or key is missing and the reference is `optional`.
pub fn key_value(
    bundle: &Bundle,
    kind: ConfigKind,
    name: &str,
    key: &str,
    optional: bool,
    needed_by: &str,
) -> Result<Option<String>, RunError> {
    let Some(entries) = entries(bundle, kind, name)? else {
        return if optional {
            Ok(None)
        } else {
            Err(missing(kind, name, needed_by))
        };
    };
    match entries.get(key) {
        Some(bytes) => Ok(Some(String::from_utf8_lossy(bytes).into_owned())),
        None if optional => Ok(None),
        None => Err(RunError::MissingKey {
            kind: kind.as_str(),
            name: name.to_owned(),
            key: key.to_owned(),
            needed_by: needed_by.to_owned(),
        }),
    }
}

/// The error for an object that was not loaded.
pub fn missing(kind: ConfigKind, name: &str, needed_by: &str) -> RunError {
    RunError::MissingObject {
        kind: kind.as_str(),
        name: name.to_owned(),
        needed_by: needed_by.to_owned(),
    }
}

/// Decodes standard base64 (padding optional, whitespace ignored); `None` if malformed.
///
/// A few lines here instead of a dependency: Secret data is the only base64 adze reads.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = clean
        .strip_suffix(b"==")
        .or_else(|| clean.strip_suffix(b"="));
    let body = body.unwrap_or(&clean);
    if body.len() % 4 == 1 || (body.len() != clean.len() && !clean.len().is_multiple_of(4)) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("aGV5").as_deref(), Some(&b"hey"[..]));
        assert_eq!(base64_decode("aGV5\n").as_deref(), Some(&b"hey"[..]));
        assert_eq!(base64_decode("").as_deref(), Some(&b""[..]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*==").as_deref(), None);
        assert_eq!(base64_decode("aGk=x"), None);
    }

    fn bundle(yaml: &str) -> Bundle {
        let mut b = Bundle::new();
        b.add_source("t.yaml", yaml.to_owned(), crate::load::Origin::Input);
        b
    }

    #[test]
    fn secret_data_is_decoded_and_string_data_wins() {
        let b = bundle(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n\
             data: {a: aGVsbG8=, b: eA==}\nstringData: {b: plain}\n",
        );
        let e = entries(&b, ConfigKind::Secret, "s").unwrap().unwrap();
        assert_eq!(e["a"], b"hello");
        assert_eq!(e["b"], b"plain");
        assert_eq!(
            key_value(&b, ConfigKind::Secret, "s", "a", false, "x").unwrap(),
            Some("hello".into())
        );
    }

    #[test]
    fn missing_objects_and_keys_are_errors_unless_optional() {
        let b = bundle("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {k: v}\n");
        let err = key_value(&b, ConfigKind::ConfigMap, "nope", "k", false, "step \"s\"");
        let text = err.unwrap_err().to_string();
        assert!(text.contains("ConfigMap \"nope\""), "{text}");
        assert!(text.contains("pass the YAML file"), "{text}");
        assert_eq!(
            key_value(&b, ConfigKind::ConfigMap, "nope", "k", true, "x").unwrap(),
            None
        );
        assert!(key_value(&b, ConfigKind::ConfigMap, "cm", "other", false, "x").is_err());
        let items = [corev1::KeyToPath {
            key: "k".into(),
            path: "dir/file".into(),
            mode: None,
        }];
        assert_eq!(
            volume_files(&b, ConfigKind::ConfigMap, "cm", &items, false, "x").unwrap(),
            vec![("dir/file".to_owned(), b"v".to_vec())]
        );
        let escaping = [corev1::KeyToPath {
            key: "k".into(),
            path: "../x".into(),
            mode: None,
        }];
        assert!(volume_files(&b, ConfigKind::ConfigMap, "cm", &escaping, false, "x").is_err());
    }
}
