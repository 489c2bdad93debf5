//! What a resolver returns: the fetched YAML text and where it came from.

use serde::{Deserialize, Serialize};

use super::request::ResolverParam;

/// The text a resolver fetched and its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// The display name of the fetched text in diagnostics, e.g.
    /// `git:https://host/repo@<sha>:task/x.yaml` (positions are appended as `:line:col`).
    pub source_name: String,
    /// The YAML text (one or more documents; the first of the requested kind is used).
    pub text: String,
    /// Where it came from.
    pub provenance: Provenance,
}

/// Where a resolved object came from, shown by `adze plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// The resolver's name.
    pub resolver: String,
    /// The params after substitution, in the order written.
    pub params: Vec<ResolverParam>,
    /// What was fetched: a repository or document URL, an OCI reference, `namespace/name`.
    pub source: String,
    /// The git commit the revision resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The content digest (`sha256:…`): an OCI manifest's, or the fetched text's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// True when the text came from the on-disk cache rather than the server.
    #[serde(default)]
    pub cache_hit: bool,
}

/// `sha256:<hex>` of some bytes: the digest recorded for fetched text.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
