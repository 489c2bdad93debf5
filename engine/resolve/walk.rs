//! Finding the remote references still to fetch: every `pipelineRef`, pipeline and finally
//! task `taskRef`, TaskRun `taskRef` and step `ref` with a `resolver`, reachable from the
//! loaded runs, Pipelines and Tasks, with their params substituted as Tekton would.
//!
//! A reference reached through an object that is itself still unresolved is found on the
//! next round, once that object is fetched; the pass repeats until nothing new turns up.

use std::collections::HashSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::request::{RefSite, ResolveRequest};
use super::substitution::{params_scope, ref_key};
use crate::api::{Kind, Object, Param, PipelineRun, PipelineSpec, TaskRun, TaskSpec};
use crate::diagnostic::Anchor;
use crate::load::remote::RemoteKey;
use crate::load::{Bundle, Loaded};
use crate::plan::scope::Scope;

/// The references not fetched yet, each once: those of the loaded objects and of `runs`
/// (runs not among the documents, such as the ones `-p`/`-w` make for a lone Pipeline).
pub fn pending<'b>(bundle: &'b Bundle, runs: &'b [Object]) -> Vec<ResolveRequest> {
    let mut walker = Walker {
        bundle,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    for loaded in bundle.inputs() {
        walker.object(loaded);
    }
    for run in runs {
        match run {
            Object::PipelineRun(pr) => walker.pipeline_run(None, pr),
            Object::TaskRun(tr) => walker.task_run(None, tr),
            _ => {}
        }
    }
    walker.out
}

struct Walker<'b> {
    bundle: &'b Bundle,
    seen: HashSet<RemoteKey>,
    out: Vec<ResolveRequest>,
}

impl<'b> Walker<'b> {
    fn object(&mut self, loaded: &'b Loaded) {
        match &loaded.object {
            Object::PipelineRun(pr) => self.pipeline_run(Some(loaded), pr),
            Object::TaskRun(tr) => self.task_run(Some(loaded), tr),
            Object::Pipeline(p) => {
                let scope = params_scope(&p.spec.params, &[]);
                self.pipeline(&p.spec, &scope, loaded, "spec");
            }
            Object::Task(t) => {
                let scope = params_scope(&t.spec.params, &[]);
                self.steps(&t.spec, &scope, loaded, "spec");
            }
            Object::StepAction(_) => {}
        }
    }

    /// `loaded` is `None` for a run made up by adze: it has no position of its own.
    fn pipeline_run(&mut self, loaded: Option<&'b Loaded>, pr: &'b PipelineRun) {
        let mut run_scope = params_scope(&[], &pr.spec.params);
        add_context(&mut run_scope, "pipelineRun", &pr.metadata);
        let (spec, holder, prefix) = match (&pr.spec.pipeline_spec, &pr.spec.pipeline_ref) {
            (Some(spec), _) => match loaded {
                Some(loaded) => (spec, loaded, "spec.pipelineSpec"),
                None => return,
            },
            (None, Some(r)) if has_resolver(r.resolver.as_deref()) => {
                let Some(loaded) = loaded else { return };
                let Some(found) = self.remote(
                    Kind::Pipeline,
                    r.resolver.as_deref().unwrap_or_default(),
                    &r.params,
                    &run_scope,
                    loaded,
                    "spec.pipelineRef",
                ) else {
                    return;
                };
                let Object::Pipeline(p) = &found.object else {
                    return;
                };
                (&p.spec, found, "spec")
            }
            (None, Some(r)) => {
                let Some(found) = r
                    .name
                    .as_deref()
                    .and_then(|n| self.bundle.find(Kind::Pipeline, n).ok())
                else {
                    return;
                };
                let Object::Pipeline(p) = &found.object else {
                    return;
                };
                (&p.spec, found, "spec")
            }
            (None, None) => return,
        };
        let (values, _) = crate::plan::pipeline::pipeline_params(spec, pr);
        let mut scope = Scope {
            params: values,
            ..Scope::default()
        };
        add_context(&mut scope, "pipelineRun", &pr.metadata);
        self.pipeline(spec, &scope, holder, prefix);
    }

    fn task_run(&mut self, loaded: Option<&'b Loaded>, tr: &'b TaskRun) {
        let mut run_scope = params_scope(&[], &tr.spec.params);
        add_context(&mut run_scope, "taskRun", &tr.metadata);
        match (&tr.spec.task_spec, &tr.spec.task_ref) {
            (Some(ts), _) => {
                let Some(loaded) = loaded else { return };
                let scope = params_scope(&ts.params, &tr.spec.params);
                self.steps(ts, &scope, loaded, "spec.taskSpec");
            }
            (None, Some(r)) => {
                if let Some((task, holder)) = self.task_ref(r, &run_scope, loaded, "spec.taskRef") {
                    let scope = params_scope(&task.params, &tr.spec.params);
                    self.steps(task, &scope, holder, "spec");
                }
            }
            (None, None) => {}
        }
    }

    fn pipeline(
        &mut self,
        spec: &'b PipelineSpec,
        scope: &Scope,
        holder: &'b Loaded,
        prefix: &str,
    ) {
        let lists = [("tasks", &spec.tasks), ("finally", &spec.finally)];
        for (field, tasks) in lists {
            for (i, pt) in tasks.iter().enumerate() {
                let at = format!("{prefix}.{field}[{i}]");
                let given: Vec<Param> = pt
                    .params
                    .iter()
                    .map(|p| Param {
                        name: p.name.clone(),
                        value: scope.subst_value(&p.value),
                    })
                    .collect();
                match (&pt.task_spec, &pt.task_ref) {
                    (Some(ts), _) => {
                        let task_scope = params_scope(&ts.params, &given);
                        self.steps(ts, &task_scope, holder, &format!("{at}.taskSpec"));
                    }
                    (None, Some(r)) => {
                        let at = format!("{at}.taskRef");
                        if let Some((task, found)) = self.task_ref(r, scope, Some(holder), &at) {
                            let task_scope = params_scope(&task.params, &given);
                            self.steps(task, &task_scope, found, "spec");
                        }
                    }
                    (None, None) => {}
                }
            }
        }
    }

    /// The Task a taskRef names (fetched, or loaded by name), and the object holding it.
    fn task_ref(
        &mut self,
        r: &'b crate::api::TaskRef,
        scope: &Scope,
        holder: Option<&'b Loaded>,
        at: &str,
    ) -> Option<(&'b TaskSpec, &'b Loaded)> {
        if r.api_version.as_deref().is_some_and(|v| !v.is_empty()) {
            return None;
        }
        let found = if has_resolver(r.resolver.as_deref()) {
            self.remote(
                Kind::Task,
                r.resolver.as_deref().unwrap_or_default(),
                &r.params,
                scope,
                holder?,
                at,
            )?
        } else {
            let name = scope.subst(r.name.as_deref()?);
            self.bundle.find(Kind::Task, &name).ok()?
        };
        match &found.object {
            Object::Task(t) => Some((&t.spec, found)),
            _ => None,
        }
    }

    fn steps(&mut self, spec: &TaskSpec, scope: &Scope, holder: &'b Loaded, prefix: &str) {
        for (j, step) in spec.steps.iter().enumerate() {
            let Some(r) = &step.ref_ else { continue };
            if has_resolver(r.resolver.as_deref()) {
                self.remote(
                    Kind::StepAction,
                    r.resolver.as_deref().unwrap_or_default(),
                    &r.params,
                    scope,
                    holder,
                    &format!("{prefix}.steps[{j}].ref"),
                );
            }
        }
    }

    /// The fetched object of a remote reference, or `None` after noting it as pending.
    fn remote(
        &mut self,
        kind: Kind,
        resolver: &str,
        params: &[Param],
        scope: &Scope,
        holder: &'b Loaded,
        at: &str,
    ) -> Option<&'b Loaded> {
        let key = ref_key(kind, resolver, params, scope)?;
        if let Some(found) = self.bundle.find_remote(&key) {
            return Some(found);
        }
        if self.seen.insert(key.clone()) {
            let location = self.bundle.locate(
                holder.file,
                &holder.root,
                &format!("{at}.resolver"),
                Anchor::Value,
            );
            let params = {
                // The order written, with values substituted.
                let mut ordered = Vec::new();
                for p in params {
                    if let Some(v) = key.params.iter().find(|k| k.name == p.name) {
                        if !ordered.contains(v) {
                            ordered.push(v.clone());
                        }
                    }
                }
                ordered
            };
            let param_locations = params
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let at = format!("{at}.params[{i}].value");
                    let l = self
                        .bundle
                        .locate(holder.file, &holder.root, &at, Anchor::Value);
                    (p.name.clone(), l)
                })
                .collect();
            self.out.push(ResolveRequest {
                kind,
                resolver: resolver.to_string(),
                params,
                site: RefSite {
                    location: Some(location),
                    field: at.to_string(),
                    object: format!("{}/{}", holder.object.kind(), holder.object.display_name()),
                    param_locations,
                },
            });
        }
        None
    }
}

fn has_resolver(resolver: Option<&str>) -> bool {
    resolver.is_some_and(|r| !r.is_empty())
}

/// `context.<prefix>.name` and `.namespace` of a run.
fn add_context(scope: &mut Scope, prefix: &str, meta: &ObjectMeta) {
    if let Some(name) = meta.name.as_deref().filter(|n| !n.is_empty()) {
        scope
            .context
            .insert(format!("{prefix}.name"), name.to_string());
    }
    let namespace = meta.namespace.as_deref().unwrap_or("default");
    scope
        .context
        .insert(format!("{prefix}.namespace"), namespace.to_string());
}
