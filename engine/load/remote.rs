//! Objects fetched for remote references, and how the core finds them again.
//!
//! # Design
//!
//! The resolution pass (`crate::resolve`) adds each fetched text as a source file of the
//! bundle, with [`Origin::Remote`]: diagnostics about it point into the fetched text. A
//! remote object is never found by name (Tekton does not put it in any namespace); it is
//! found by the reference that fetched it: kind, resolver and params after substitution,
//! the params compared as a set.

use super::{Bundle, Loaded, Origin};
use crate::api::{Kind, Param, ParamValue};
use crate::resolve::{Provenance, Resolved, ResolverParam};

/// What identifies a remote reference: kind, resolver, params sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteKey {
    /// The kind the reference resolves to.
    pub kind: Kind,
    /// The resolver.
    pub resolver: String,
    /// Params after substitution, sorted.
    pub params: Vec<ResolverParam>,
}

impl RemoteKey {
    /// The key of a reference.
    pub fn new(kind: Kind, resolver: &str, params: &[ResolverParam]) -> Self {
        let mut params = params.to_vec();
        params.sort();
        RemoteKey {
            kind,
            resolver: resolver.to_string(),
            params,
        }
    }
}

/// One fetched object.
#[derive(Debug, Clone)]
pub struct RemoteObject {
    /// The reference that fetched it.
    pub key: RemoteKey,
    /// Index into [`Bundle::objects`].
    pub object: usize,
    /// Where it came from.
    pub provenance: Provenance,
    /// Where it was first referenced (`file:line:col`), for `adze plan`.
    pub referenced_at: String,
}

/// Resolver params as strings: arrays and objects (which no resolver takes) as JSON.
pub fn resolver_params(params: &[Param]) -> Vec<ResolverParam> {
    params
        .iter()
        .map(|p| ResolverParam {
            name: p.name.clone(),
            value: match &p.value {
                ParamValue::String(s) => s.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            },
        })
        .collect()
}

impl Bundle {
    /// Adds a fetched text and records its object of `key.kind` as what `key` resolves to.
    /// Returns the kinds found instead when the text holds none of that kind.
    pub fn add_remote(
        &mut self,
        key: RemoteKey,
        resolved: Resolved,
        referenced_at: String,
    ) -> Result<usize, Vec<String>> {
        if let Some(i) = self.remote.iter().position(|r| r.key == key) {
            return Ok(i);
        }
        let file = self.files.len();
        self.add_source(&resolved.source_name, resolved.text, Origin::Remote);
        let in_file: Vec<usize> = (0..self.objects.len())
            .filter(|&i| self.objects[i].file == file)
            .collect();
        let Some(&object) = in_file
            .iter()
            .find(|&&i| self.objects[i].object.kind() == key.kind)
        else {
            let mut found: Vec<String> = in_file
                .iter()
                .map(|&i| self.objects[i].object.kind().to_string())
                .collect();
            found.extend(
                self.resources
                    .iter()
                    .filter(|r| r.file == file)
                    .map(|r| r.kind.clone()),
            );
            return Err(found);
        };
        self.remote.push(RemoteObject {
            key,
            object,
            provenance: resolved.provenance,
            referenced_at,
        });
        Ok(self.remote.len() - 1)
    }

    /// The object a remote reference resolved to, if the pass fetched it.
    pub fn find_remote(&self, key: &RemoteKey) -> Option<&Loaded> {
        self.remote
            .iter()
            .find(|r| &r.key == key)
            .map(|r| &self.objects[r.object])
    }

    /// Every object fetched for a remote reference, in the order fetched.
    pub fn remote_objects(&self) -> &[RemoteObject] {
        &self.remote
    }

    /// The fetched objects themselves.
    pub fn remotes(&self) -> impl Iterator<Item = &Loaded> {
        self.objects.iter().filter(|o| o.origin == Origin::Remote)
    }
}
