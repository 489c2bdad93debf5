//! Remote references: `taskRef`, `pipelineRef` and step `ref`s with a `resolver` (git,
//! http, bundles, hub, cluster), fetched, cached on disk, and loaded as documents that
//! remember where they came from.
//!
//! # Design
//!
//! Resolution is a pass the shells run between loading and validating; the pure core
//! (`validate`, `plan`, `dag`, `subst`, `reconcile`) never fetches. The pass walks every
//! remote reference it can reach from the loaded runs, substitutes what Tekton substitutes
//! into resolver params, asks the [`Resolver`] named by `resolver:`, and adds the fetched
//! text to the [`Bundle`](crate::load::Bundle) as a new source file. The core then finds a
//! remote reference's object by resolver and substituted params, as it finds a named one by
//! name.
//!
//! The [`Resolver`] trait is blocking: `validate` and `plan` are synchronous, git runs as a
//! child process, and the async shells call the pass before their runtime starts or from
//! `spawn_blocking`. A resolver needing async I/O (http) runs a current-thread runtime of its
//! own inside the call.
//!
//! # Invariants
//!
//! - Every param a resolver passes to a program or a server is checked before any I/O:
//!   values starting with `-` never reach git, paths never leave a repository, local files
//!   are read only with `--allow-local-resolution`.
//! - Every error names the reference (file:line:col and object path), the resolver and the
//!   param at fault.
//! - `--offline` performs no network I/O: every remote reference comes from the cache or is
//!   an error naming it.
//!
//! # Not yet
//!
//! - A pipeline task's `pipelineRef` with a resolver (pipelines in pipelines) is not walked.
//! - The concise resolver syntax (a URL as `name`) is validated but not fetched.

pub mod bundles;
pub mod cache;
pub mod cluster;
pub mod cluster_api;
mod command;
pub mod defaults;
pub mod error;
pub mod git;
pub mod http;
pub mod http_client;
pub mod hub;
pub mod oci;
pub mod options;
pub mod pass;
pub mod request;
pub mod resolved;
pub mod resolver;
pub mod safety;
pub mod substitution;
pub mod walk;

pub use cache::{Cache, CacheKey};
pub use error::{Reason, ResolveError};
pub use options::ResolveOptions;
pub use pass::{resolve_references, resolve_references_of};
pub use request::{RefSite, ResolveRequest, ResolverParam};
pub use resolved::{Provenance, Resolved};
pub use resolver::{ResolveContext, Resolver, Resolvers};

impl Resolvers {
    /// Every resolver adze has: git, http, cluster, bundles, hub.
    pub fn standard() -> Self {
        let mut r = Self::empty();
        r.add(Box::new(git::GitResolver));
        r.add(Box::new(http::HttpResolver));
        r.add(Box::new(cluster::ClusterResolver::from_documents()));
        r.add(Box::new(bundles::BundlesResolver));
        r.add(Box::new(hub::HubResolver));
        r
    }
}
