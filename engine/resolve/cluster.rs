//! The `cluster` resolver (stub until built).

use super::error::{Reason, ResolveError};
use super::request::ResolveRequest;
use super::resolved::Resolved;
use super::resolver::{ResolveContext, Resolver};

/// The `cluster` resolver.
pub struct ClusterResolver;

impl ClusterResolver {
    /// Reads objects from the loaded documents.
    pub fn from_documents() -> Self {
        ClusterResolver
    }
}

impl Resolver for ClusterResolver {
    fn name(&self) -> &'static str {
        "cluster"
    }

    fn is_local(&self) -> bool {
        true
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        _ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        Err(ResolveError::new(request, None, Reason::NotBuilt))
    }
}
