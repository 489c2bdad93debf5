//! The resolution pass the shells run after loading: fetch every remote reference, add
//! what was fetched to the bundle, repeat for references inside fetched objects.

use super::cache::Cache;
use super::error::{Reason, ResolveError};
use super::options::ResolveOptions;
use super::request::ResolveRequest;
use super::resolver::{ResolveContext, Resolvers};
use super::walk;
use crate::diagnostic::Diagnostic;
use crate::load::remote::RemoteKey;
use crate::load::Bundle;

/// How deep references may nest (a PipelineRun → Pipeline → Task → StepAction is 3).
const MAX_ROUNDS: usize = 8;

/// Resolves every remote reference reachable from the bundle's inputs and adds the fetched
/// objects to it. Failures come back as located error diagnostics (code
/// `refs/resolution-failed`), one per reference.
pub fn resolve_references(
    bundle: &mut Bundle,
    resolvers: &Resolvers,
    options: &ResolveOptions,
) -> Vec<Diagnostic> {
    bundle.resolution_ran = true;
    let cache = Cache::new(options.cache_dir.clone());
    let mut failed: Vec<RemoteKey> = Vec::new();
    let mut out = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let requests: Vec<ResolveRequest> = walk::pending(bundle)
            .into_iter()
            .filter(|r| !failed.contains(&key_of(r)))
            .collect();
        if requests.is_empty() {
            break;
        }
        let results: Vec<_> = {
            let ctx = ResolveContext {
                options,
                cache: &cache,
                documents: bundle,
            };
            requests
                .into_iter()
                .map(|r| {
                    let result = resolvers.resolve(&r, &ctx);
                    (r, result)
                })
                .collect()
        };
        for (request, result) in results {
            let key = key_of(&request);
            let referenced_at = request
                .site
                .location
                .as_ref()
                .map(|l| format!("{}:{}:{}", l.path, l.line, l.column))
                .unwrap_or_else(|| request.site.field.clone());
            let added = result.and_then(|resolved| {
                bundle
                    .add_remote(key.clone(), resolved, referenced_at)
                    .map_err(|found| {
                        let found = if found.is_empty() {
                            "no Kubernetes object".to_string()
                        } else {
                            found.join(", ")
                        };
                        ResolveError::new(
                            &request,
                            None,
                            Reason::WrongKind {
                                expected: request.kind.to_string(),
                                found,
                            },
                        )
                    })
            });
            if let Err(e) = added {
                failed.push(key);
                out.push(diagnostic(&e));
            }
        }
    }
    out
}

fn key_of(r: &ResolveRequest) -> RemoteKey {
    RemoteKey::new(r.kind, &r.resolver, &r.params)
}

/// The diagnostic of a failed reference, at the reference.
pub fn diagnostic(e: &ResolveError) -> Diagnostic {
    let param = e
        .param
        .as_deref()
        .map(|p| format!(" param \"{p}\""))
        .unwrap_or_default();
    let mut d = Diagnostic::error(
        "refs/resolution-failed",
        format!(
            "cannot resolve {}: resolver \"{}\"{param}: {}",
            e.site.field, e.resolver, e.reason
        ),
    )
    .hint(e.hint());
    d.field = Some(e.site.field.clone());
    // An error about one param points at its value; others at `resolver:`.
    let at_param = e.param.as_deref().and_then(|p| {
        e.site
            .param_locations
            .iter()
            .find(|(name, _)| name == p)
            .map(|(_, l)| l.clone())
    });
    d.location = at_param.or_else(|| e.site.location.clone());
    if !e.site.object.is_empty() {
        d.object = Some(e.site.object.clone());
    }
    d
}
