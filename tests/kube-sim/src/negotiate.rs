//! Content negotiation: which representation a client asked for in `Accept` (plain objects,
//! a server-side printed Table, or `PartialObjectMetadata`), and which patch format its
//! `Content-Type` names.
//!
//! # Design
//!
//! The first media type of the `Accept` list that this server can produce wins; anything else
//! (protobuf, aggregated discovery, `*/*`) falls through to plain JSON, which every client
//! accepts as its last choice.

use crate::cluster::PatchKind;
use crate::table::IncludeObject;

/// How objects are rendered in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The objects themselves.
    Json,
    /// A `meta.k8s.io/v1` Table.
    Table,
    /// `PartialObjectMetadata` / `PartialObjectMetadataList`.
    Metadata,
}

/// The representation the `Accept` header asks for.
pub fn representation(accept: &str) -> Representation {
    for media in accept.split(',') {
        let mut parts = media.split(';').map(str::trim);
        let base = parts.next().unwrap_or_default();
        if base != "application/json" {
            continue;
        }
        let mut kind = None;
        let mut group = None;
        for param in parts {
            match param.split_once('=') {
                Some(("as", v)) => kind = Some(v),
                Some(("g", v)) => group = Some(v),
                _ => {}
            }
        }
        match (kind, group) {
            (None, _) => return Representation::Json,
            (Some("Table"), Some("meta.k8s.io")) => return Representation::Table,
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => {
                return Representation::Metadata
            }
            _ => {}
        }
    }
    Representation::Json
}

/// The `includeObject` query parameter of a Table request.
pub fn include_object(value: Option<&str>) -> IncludeObject {
    match value {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

/// The patch format a PATCH's `Content-Type` names.
pub fn patch_kind(content_type: &str) -> Option<PatchKind> {
    let base = content_type.split(';').next().unwrap_or_default().trim();
    match base {
        "application/merge-patch+json" => Some(PatchKind::Merge),
        "application/json-patch+json" => Some(PatchKind::Json),
        "application/strategic-merge-patch+json" => Some(PatchKind::Strategic),
        "application/apply-patch+yaml" | "application/apply-patch+json" => Some(PatchKind::Apply),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_asks_for_a_table() {
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(representation(accept), Representation::Table);
    }

    #[test]
    fn aggregated_discovery_and_protobuf_fall_back_to_json() {
        let accept =
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        assert_eq!(representation(accept), Representation::Json);
        assert_eq!(
            representation("application/vnd.kubernetes.protobuf"),
            Representation::Json
        );
        assert_eq!(representation(""), Representation::Json);
        let metadata = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
        assert_eq!(representation(metadata), Representation::Metadata);
    }

    #[test]
    fn patch_types() {
        assert_eq!(
            patch_kind("application/merge-patch+json"),
            Some(PatchKind::Merge)
        );
        assert_eq!(
            patch_kind("application/apply-patch+yaml; charset=utf-8"),
            Some(PatchKind::Apply)
        );
        assert_eq!(patch_kind("text/plain"), None);
    }
}
