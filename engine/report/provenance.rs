//! Where every remote reference came from, for `adze plan`: resolver, params, commit or
//! digest, and whether the cache answered.

use std::fmt::Write;

use serde::Serialize;

use crate::load::Bundle;
use crate::resolve::ResolverParam;

/// One fetched object, as `adze plan -o yaml|json` shows it under `remoteRefs`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRef {
    /// `Task`, `Pipeline` or `StepAction`.
    pub kind: String,
    /// The fetched object's name.
    pub name: String,
    /// Where the reference is written (`file:line:col`).
    pub referenced_at: String,
    /// The resolver.
    pub resolver: String,
    /// Params after substitution.
    pub params: Vec<ResolverParam>,
    /// Repository or document URL, OCI reference, or `namespace/name`.
    pub source: String,
    /// The commit a git revision resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The digest of what was fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// True when the on-disk cache answered.
    pub cache_hit: bool,
}

/// Every object the resolution pass fetched, in the order fetched.
pub fn remote_refs(bundle: &Bundle) -> Vec<RemoteRef> {
    bundle
        .remote_objects()
        .iter()
        .map(|r| {
            let object = &bundle.objects[r.object].object;
            RemoteRef {
                kind: r.key.kind.to_string(),
                name: object.display_name(),
                referenced_at: r.referenced_at.clone(),
                resolver: r.provenance.resolver.clone(),
                params: r.provenance.params.clone(),
                source: r.provenance.source.clone(),
                commit: r.provenance.commit.clone(),
                digest: r.provenance.digest.clone(),
                cache_hit: r.provenance.cache_hit,
            }
        })
        .collect()
}

/// The `remote refs:` section of a text plan; empty when nothing was fetched.
pub fn text(refs: &[RemoteRef]) -> String {
    let mut out = String::new();
    if refs.is_empty() {
        return out;
    }
    let _ = writeln!(out, "remote refs:");
    for r in refs {
        let params = r
            .params
            .iter()
            .map(|p| format!("{}={}", p.name, p.value))
            .collect::<Vec<_>>()
            .join(" ");
        let cached = if r.cache_hit { ", from cache" } else { "" };
        let _ = writeln!(
            out,
            "  {} {}  ← {} {params}  (at {}{cached})",
            r.kind, r.name, r.resolver, r.referenced_at
        );
        if let Some(commit) = &r.commit {
            let _ = writeln!(out, "    commit {commit}");
        }
        if let Some(digest) = &r.digest {
            let _ = writeln!(out, "    digest {digest}");
        }
    }
    out
}
