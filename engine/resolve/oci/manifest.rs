//! Image manifests (OCI and Docker schema 2) and their layer descriptors, as far as a Tekton
//! bundle needs them.

use std::collections::BTreeMap;

use serde::Deserialize;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// OCI image index (a manifest of manifests).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The `Accept` header of a manifest request: the two single-image kinds a bundle is pushed
/// as, and the two index kinds, so an index is recognised and refused by name rather than
/// converted or misread by the registry.
pub const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// An image manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's media type, when it states it.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The layers, in order.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// An index's manifests: present only when the document is an index.
    #[serde(default)]
    pub manifests: Option<Vec<serde_json::Value>>,
}

/// A content descriptor: what a layer is, where it is, how big.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The blob's media type.
    #[serde(default)]
    pub media_type: String,
    /// `sha256:…` of the blob.
    pub digest: String,
    /// The blob's size in bytes.
    pub size: u64,
    /// Annotations (Tekton's `dev.tekton.image.*` live here).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// Why a manifest cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The body is not a manifest.
    #[error("the manifest is not valid JSON of an image manifest: {0}")]
    Malformed(String),
    /// An index or list, or another kind of document.
    #[error(
        "the reference names {0}, not a single image manifest; a Tekton bundle is one image \
         (point the reference at it, by tag or digest)"
    )]
    NotAnImage(String),
}

impl Manifest {
    /// Parses a manifest served with `content_type`, refusing indexes and unknown kinds.
    pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<Manifest, ManifestError> {
        let manifest: Manifest =
            serde_json::from_slice(body).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        let declared = manifest
            .media_type
            .as_deref()
            .or(content_type.map(|c| c.split(';').next().unwrap_or(c).trim()));
        match declared {
            Some(OCI_INDEX) => return Err(ManifestError::NotAnImage("an OCI image index".into())),
            Some(DOCKER_LIST) => {
                return Err(ManifestError::NotAnImage("a Docker manifest list".into()))
            }
            _ => {}
        }
        if manifest.manifests.is_some() {
            return Err(ManifestError::NotAnImage("an image index".into()));
        }
        if manifest.schema_version != 2 {
            return Err(ManifestError::NotAnImage(format!(
                "a schema {} manifest",
                manifest.schema_version
            )));
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oci_manifest_with_annotated_layers_parses() {
        let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aa","size":2},
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:bb","size":10,
              "annotations":{"dev.tekton.image.kind":"task","dev.tekton.image.name":"hello"}}]}"#;
        let m = Manifest::parse(body, None).unwrap();
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].annotations["dev.tekton.image.name"], "hello");
    }

    #[test]
    fn indexes_are_refused_by_name() {
        let body = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert_eq!(
            Manifest::parse(body, Some(OCI_INDEX)),
            Err(ManifestError::NotAnImage("an OCI image index".into()))
        );
        assert!(matches!(
            Manifest::parse(body, None),
            Err(ManifestError::NotAnImage(_))
        ));
        assert!(matches!(
            Manifest::parse(b"{}", None),
            Err(ManifestError::Malformed(_))
        ));
    }
}
