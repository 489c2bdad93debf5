//! The one trait every resolver implements, and the set of resolvers a command uses (the
//! standard set is built in the parent module, which knows every resolver).

use std::collections::BTreeMap;

use super::cache::{Cache, CacheKey};
use super::error::{Reason, ResolveError};
use super::options::ResolveOptions;
use super::request::ResolveRequest;
use super::resolved::Resolved;
use crate::load::Bundle;

/// What a resolver may use besides the request.
pub struct ResolveContext<'a> {
    /// The pass's settings.
    pub options: &'a ResolveOptions,
    /// The on-disk cache (for content keys such as a git commit or an OCI digest).
    pub cache: &'a Cache,
    /// The loaded documents: the `cluster` resolver's objects, Secrets for credentials.
    pub documents: &'a Bundle,
}

/// A way of fetching a Tekton object named by resolver params.
///
/// Blocking on purpose: `validate` and `plan` are synchronous, git is a child process, and
/// the async callers (`run`, `serve`, the controller) call it from `spawn_blocking` or before
/// their runtime starts. A resolver that needs async I/O runs its own current-thread runtime
/// inside `resolve`.
pub trait Resolver: Send + Sync {
    /// The name written in `resolver:`.
    fn name(&self) -> &'static str;

    /// True for resolvers that read nothing over the network (`cluster` from the loaded
    /// documents): they run under `--offline` and are never cached.
    fn is_local(&self) -> bool {
        false
    }

    /// Fetches the text the request names. Checks every param before any I/O.
    fn resolve(
        &self,
        request: &ResolveRequest,
        ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError>;
}

/// The resolvers of one command, by name.
#[derive(Default)]
pub struct Resolvers {
    by_name: BTreeMap<&'static str, Box<dyn Resolver>>,
}

impl Resolvers {
    /// No resolvers.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a resolver.
    pub fn add(&mut self, resolver: Box<dyn Resolver>) {
        self.by_name.insert(resolver.name(), resolver);
    }

    /// True when resolver `name` reads only what is already loaded (see
    /// [`Resolver::is_local`]).
    pub fn is_local(&self, name: &str) -> bool {
        self.by_name.get(name).is_some_and(|r| r.is_local())
    }

    /// Resolves one request: from the cache under `--offline`, else from the resolver,
    /// storing what it returns in the cache.
    pub fn resolve(
        &self,
        request: &ResolveRequest,
        ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        let resolver = self
            .by_name
            .get(request.resolver.as_str())
            .ok_or_else(|| ResolveError::new(request, None, Reason::UnknownResolver))?;
        if resolver.is_local() {
            return resolver.resolve(request, ctx);
        }
        let key = CacheKey::for_params(&request.resolver, &request.params);
        if ctx.options.offline {
            let mut hit = ctx.cache.get(&key).ok_or_else(|| {
                ResolveError::new(
                    request,
                    None,
                    Reason::NotCached(ctx.cache.dir().display().to_string()),
                )
            })?;
            hit.provenance.cache_hit = true;
            return Ok(hit);
        }
        let resolved = resolver.resolve(request, ctx)?;
        let mut stored = resolved.clone();
        stored.provenance.cache_hit = false;
        // A cache that cannot be written only costs a later --offline run; the fetch worked.
        let _ = ctx.cache.put(&key, &stored);
        Ok(resolved)
    }
}
