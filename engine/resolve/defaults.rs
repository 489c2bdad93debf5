//! Tekton's defaulting of references under the `default-resolver-type` feature flag: a
//! reference with resolver `params` but neither `name` nor `resolver` gets the default
//! resolver, before validation (as Tekton's defaulting webhook does before admission).

use crate::api::{Object, PipelineSpec, TaskSpec};
use crate::load::Bundle;

/// Sets `resolver` on every reference of the loaded inputs that has params but neither a
/// name nor a resolver. Returns how many were set.
pub fn apply_default_resolver(bundle: &mut Bundle, resolver: &str) -> usize {
    let mut set = 0;
    let mut fill = |name: &Option<String>, current: &mut Option<String>, has_params: bool| {
        let unnamed = name.as_deref().is_none_or(str::is_empty);
        let unset = current.as_deref().is_none_or(str::is_empty);
        if has_params && unnamed && unset {
            *current = Some(resolver.to_string());
            set += 1;
        }
    };
    for loaded in bundle
        .objects
        .iter_mut()
        .filter(|o| o.origin == crate::load::Origin::Input)
    {
        match &mut loaded.object {
            Object::PipelineRun(pr) => {
                if let Some(r) = &mut pr.spec.pipeline_ref {
                    let has = !r.params.is_empty();
                    fill(&r.name, &mut r.resolver, has);
                }
                if let Some(spec) = &mut pr.spec.pipeline_spec {
                    pipeline(spec, &mut fill);
                }
            }
            Object::Pipeline(p) => pipeline(&mut p.spec, &mut fill),
            Object::TaskRun(tr) => {
                if let Some(r) = &mut tr.spec.task_ref {
                    let has = !r.params.is_empty();
                    fill(&r.name, &mut r.resolver, has);
                }
                if let Some(spec) = &mut tr.spec.task_spec {
                    task(spec, &mut fill);
                }
            }
            Object::Task(t) => task(&mut t.spec, &mut fill),
            Object::StepAction(_) => {}
        }
    }
    set
}

type Fill<'f> = dyn FnMut(&Option<String>, &mut Option<String>, bool) + 'f;

fn pipeline(spec: &mut PipelineSpec, fill: &mut Fill<'_>) {
    for pt in spec.tasks.iter_mut().chain(spec.finally.iter_mut()) {
        if let Some(r) = &mut pt.task_ref {
            let has = !r.params.is_empty();
            fill(&r.name, &mut r.resolver, has);
        }
        if let Some(ts) = &mut pt.task_spec {
            task(ts, fill);
        }
    }
}

fn task(spec: &mut TaskSpec, fill: &mut Fill<'_>) {
    for step in &mut spec.steps {
        if let Some(r) = &mut step.ref_ {
            let has = !r.params.is_empty();
            fill(&r.name, &mut r.resolver, has);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;

    #[test]
    fn only_references_with_params_and_no_name_or_resolver_get_the_default() {
        let mut b = Bundle::new();
        b.add_source(
            "p.yaml",
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  tasks:\n  - name: a\n    taskRef:\n      params: [{name: url, value: u}]\n  - name: b\n    taskRef: {name: local}\n  - name: c\n    taskRef:\n      resolver: http\n      params: [{name: url, value: u}]\n  finally:\n  - name: d\n    taskSpec:\n      steps:\n      - ref:\n          params: [{name: url, value: u}]\n".into(),
            Origin::Input,
        );
        assert_eq!(apply_default_resolver(&mut b, "git"), 2);
        let Object::Pipeline(p) = &b.objects[0].object else {
            panic!("a Pipeline")
        };
        let resolver = |i: usize| p.spec.tasks[i].task_ref.as_ref().unwrap().resolver.clone();
        assert_eq!(resolver(0).as_deref(), Some("git"));
        assert_eq!(resolver(1), None);
        assert_eq!(resolver(2).as_deref(), Some("http"));
        let step = &p.spec.finally[0].task_spec.as_ref().unwrap().steps[0];
        assert_eq!(step.ref_.as_ref().unwrap().resolver.as_deref(), Some("git"));
    }
}
