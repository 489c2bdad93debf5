//! The `git` resolver (stub until built).

use super::error::{Reason, ResolveError};
use super::request::ResolveRequest;
use super::resolved::Resolved;
use super::resolver::{ResolveContext, Resolver};

/// The `git` resolver.
pub struct GitResolver;

impl Resolver for GitResolver {
    fn name(&self) -> &'static str {
        "git"
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        _ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        Err(ResolveError::new(request, None, Reason::NotBuilt))
    }
}
