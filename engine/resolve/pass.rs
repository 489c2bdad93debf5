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
    resolve_references_of(bundle, &[], resolvers, options)
}

/// [`resolve_references`], also walking `runs` that are not among the documents (the runs
/// `-p`/`-w` make for files holding only a Pipeline or Task).
pub fn resolve_references_of(
    bundle: &mut Bundle,
    runs: &[crate::api::Object],
    resolvers: &Resolvers,
    options: &ResolveOptions,
) -> Vec<Diagnostic> {
    bundle.resolution_ran = true;
    let cache = Cache::new(options.cache_dir.clone());
    let mut failed: Vec<RemoteKey> = Vec::new();
    let mut out = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let requests: Vec<ResolveRequest> = walk::pending(bundle, runs)
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use crate::load::Origin;
    use crate::resolve::{Provenance, Resolved, Resolver};

    /// Serves texts by the `path` param and records every request.
    struct Fake {
        texts: HashMap<&'static str, &'static str>,
        calls: Mutex<Vec<ResolveRequest>>,
    }

    impl Resolver for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }

        fn resolve(
            &self,
            request: &ResolveRequest,
            _ctx: &ResolveContext<'_>,
        ) -> Result<Resolved, ResolveError> {
            self.calls.lock().unwrap().push(request.clone());
            let path = request.param("path").unwrap_or("");
            let text = self.texts.get(path).ok_or_else(|| {
                ResolveError::new(request, Some("path"), Reason::NotFound(path.into()))
            })?;
            Ok(Resolved {
                source_name: format!("fake:{path}"),
                text: text.to_string(),
                provenance: Provenance {
                    resolver: "fake".into(),
                    params: request.params.clone(),
                    source: path.into(),
                    commit: None,
                    digest: None,
                    cache_hit: false,
                },
            })
        }
    }

    const RUN: &str = "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {name: r}\nspec:\n  params: [{name: rev, value: v1}]\n  pipelineRef:\n    resolver: fake\n    params:\n    - {name: path, value: p.yaml}\n    - {name: rev, value: $(params.rev)}\n";
    const PIPELINE: &str = "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  params: [{name: task, default: t.yaml}]\n  tasks:\n  - name: a\n    taskRef:\n      resolver: fake\n      params: [{name: path, value: $(params.task)}]\n";
    const TASK: &str = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  steps:\n  - name: s\n    ref:\n      resolver: fake\n      params: [{name: path, value: sa.yaml}]\n";
    const ACTION: &str = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {name: sa}\nspec:\n  image: busybox\n  script: echo hi\n";

    fn fake() -> Fake {
        Fake {
            texts: [
                ("p.yaml", PIPELINE),
                ("t.yaml", TASK),
                ("sa.yaml", ACTION),
                ("wrong.yaml", PIPELINE),
            ]
            .into(),
            calls: Mutex::new(Vec::new()),
        }
    }

    fn bundle(text: &str) -> Bundle {
        let mut b = Bundle::new();
        b.add_source("run.yaml", text.to_string(), Origin::Input);
        b
    }

    fn resolvers(f: Fake) -> Resolvers {
        let mut r = Resolvers::empty();
        r.add(Box::new(f));
        r
    }

    #[test]
    fn a_run_resolves_its_pipeline_then_tasks_then_step_actions_with_params_substituted() {
        let cache = tempfile::tempdir().unwrap();
        let options = ResolveOptions::new(cache.path().to_path_buf());
        let mut b = bundle(RUN);
        let diags = resolve_references(&mut b, &resolvers(fake()), &options);
        assert!(diags.is_empty(), "{diags:?}");
        let fetched: Vec<_> = b
            .remote_objects()
            .iter()
            .map(|r| {
                (
                    r.key.kind,
                    r.key
                        .params
                        .iter()
                        .map(|p| p.value.clone())
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(
            fetched,
            [
                (
                    crate::api::Kind::Pipeline,
                    vec!["p.yaml".into(), "v1".into()]
                ),
                (crate::api::Kind::Task, vec!["t.yaml".into()]),
                (crate::api::Kind::StepAction, vec!["sa.yaml".into()]),
            ]
        );
        let run = crate::plan::runs(&b)[0].clone();
        let plan = crate::plan::plan(&b, &run).expect("plans with the fetched objects");
        assert_eq!(plan.target, "p");
        assert_eq!(plan.tasks[0].task, "t");
        assert!(
            crate::validate::validate(&b, &crate::validate::Flags::default())
                .iter()
                .all(|d| !d.is_error())
        );
    }

    #[test]
    fn offline_answers_from_the_cache_and_names_what_is_missing() {
        let cache = tempfile::tempdir().unwrap();
        let mut options = ResolveOptions::new(cache.path().to_path_buf());
        resolve_references(&mut bundle(RUN), &resolvers(fake()), &options);
        options.offline = true;
        let offline = fake();
        let mut b = bundle(RUN);
        let r = resolvers(offline);
        assert!(resolve_references(&mut b, &r, &options).is_empty());
        assert!(b.remote_objects().iter().all(|o| o.provenance.cache_hit));
        let other = RUN.replace("value: v1", "value: v2");
        let diags = resolve_references(&mut bundle(&other), &r, &options);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].message.contains("--offline"),
            "{}",
            diags[0].message
        );
        assert_eq!(diags[0].location.as_ref().unwrap().line, 7);
    }

    #[test]
    fn the_wrong_kind_and_a_failing_fetch_are_reported_once_at_the_reference() {
        let cache = tempfile::tempdir().unwrap();
        let options = ResolveOptions::new(cache.path().to_path_buf());
        let text = "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: a}\nspec:\n  taskRef:\n    resolver: fake\n    params: [{name: path, value: wrong.yaml}]\n---\napiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {name: b}\nspec:\n  taskRef:\n    resolver: fake\n    params: [{name: path, value: missing.yaml}]\n";
        let f = fake();
        let r = resolvers(f);
        let diags = resolve_references(&mut bundle(text), &r, &options);
        let messages: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("holds no Task (found: Pipeline)"));
        assert!(messages[1].contains("param \"path\": missing.yaml"));
        assert_eq!(diags[1].location.as_ref().unwrap().line, 15);
    }
}
