//! The `http` resolver (stub until built).

use super::error::{Reason, ResolveError};
use super::request::ResolveRequest;
use super::resolved::Resolved;
use super::resolver::{ResolveContext, Resolver};

/// The `http` resolver.
pub struct HttpResolver;

impl Resolver for HttpResolver {
    fn name(&self) -> &'static str {
        "http"
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        _ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        Err(ResolveError::new(request, None, Reason::NotBuilt))
    }
}
