//! A resolver Tekton has and adze does not yet: every request fails with a clear error.

use super::error::{Reason, ResolveError};
use super::request::ResolveRequest;
use super::resolved::Resolved;
use super::resolver::{ResolveContext, Resolver};

/// Refuses every request of resolver `.0`.
pub struct NotBuilt(pub &'static str);

impl Resolver for NotBuilt {
    fn name(&self) -> &'static str {
        self.0
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        _ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        Err(ResolveError::new(request, None, Reason::NotBuilt))
    }
}
