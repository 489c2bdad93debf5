//! Pipeline-level substitution at start time: params and context from a [`Scope`], and
//! `$(tasks.T.results.R)` from the results TaskRuns have produced so far.

use std::collections::HashMap;

use crate::api::pipeline::PipelineTask;
use crate::api::{ParamValue, TaskSpec, WhenExpression};
use crate::plan::pipeline::stage_embedded_spec;
use crate::plan::scope::Scope;
use crate::subst::{self, Access, Var};

/// Results produced so far, by pipeline task, in emission order.
pub(super) type Produced = HashMap<String, Vec<(String, ParamValue)>>;

/// What one substitution at start time knows.
pub(super) struct Values<'a> {
    /// Pipeline params, context and workspaces.
    pub scope: &'a Scope,
    /// Results of finished tasks.
    pub results: &'a Produced,
}

impl Values<'_> {
    fn result(&self, task: &str, result: &str) -> Option<&ParamValue> {
        self.results
            .get(task)?
            .iter()
            .find(|(name, _)| name == result)
            .map(|(_, value)| value)
    }

    fn string(&self, var: &Var) -> Option<String> {
        match var {
            Var::TaskResult {
                task,
                result,
                access,
            } => match (self.result(task, result)?, access) {
                (ParamValue::String(s), Access::Whole | Access::Star) => Some(s.clone()),
                (ParamValue::Array(a), Access::Index(i)) => a.get(*i).cloned(),
                (ParamValue::Object(o), Access::Key(k)) => o.get(k).cloned(),
                _ => None,
            },
            other => self.scope.string(other),
        }
    }

    fn array(&self, var: &Var) -> Option<Vec<String>> {
        match var {
            Var::TaskResult { task, result, .. } => match self.result(task, result)? {
                ParamValue::Array(a) => Some(a.clone()),
                _ => None,
            },
            other => self.scope.array(other),
        }
    }

    /// Substitutes a string; unknown references stay verbatim, as in Tekton.
    pub fn subst(&self, s: &str) -> String {
        subst::substitute(s, |v| self.string(v))
    }

    /// Substitutes a param value, turning a lone whole array/object reference into that value.
    pub fn value(&self, value: &ParamValue) -> ParamValue {
        match value {
            ParamValue::String(s) => {
                let whole = subst::sole_reference(s)
                    .filter(|r| r.var.is_whole_collection())
                    .and_then(|r| match &r.var {
                        Var::TaskResult { task, result, .. } => self.result(task, result).cloned(),
                        Var::Param { name, .. } => self.scope.params.get(name).cloned(),
                        _ => None,
                    })
                    .filter(|v| !matches!(v, ParamValue::String(_)));
                whole.unwrap_or_else(|| ParamValue::String(self.subst(s)))
            }
            ParamValue::Array(items) => ParamValue::Array(subst::splice_array(
                items,
                |v| self.array(v),
                |v| self.string(v),
            )),
            ParamValue::Object(map) => ParamValue::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.subst(v)))
                    .collect(),
            ),
        }
    }

    /// Whether every `in`/`notin` expression holds (CEL is refused before the run starts).
    pub fn when_holds(&self, when: &[WhenExpression]) -> bool {
        when.iter().all(|w| {
            let input = w.input.as_deref().map_or_else(String::new, |i| {
                // A whole-array input compares as its JSON text, as Tekton does.
                match subst::sole_reference(i).and_then(|r| self.array(&r.var)) {
                    Some(items) => serde_json::to_string(&items).unwrap_or_default(),
                    None => self.subst(i),
                }
            });
            let values = subst::splice_array(
                w.values.as_deref().unwrap_or(&[]),
                |v| self.array(v),
                |v| self.string(v),
            );
            let contains = values.contains(&input);
            if w.operator.as_deref() == Some("notin") {
                !contains
            } else {
                contains
            }
        })
    }

    /// Writes context and task results into an embedded spec; its params are left for the
    /// TaskRun stage, where the PipelineTask's values take precedence.
    pub fn stage_spec(&self, spec: &TaskSpec) -> TaskSpec {
        stage_embedded_spec(spec, &|var: &Var| match var {
            Var::TaskResult { .. } | Var::Context { .. } => self.string(var),
            _ => None,
        })
    }
}

/// Every `(task, result)` a pipeline task references, once each, in first-seen order.
pub(super) fn consumed_results(pt: &PipelineTask) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut collect = |s: &str| {
        if !s.contains("$(") {
            return;
        }
        for r in subst::scan(s).refs {
            if let Var::TaskResult { task, result, .. } = r.var {
                if !out.iter().any(|(t, n)| *t == task && *n == result) {
                    out.push((task, result));
                }
            }
        }
    };
    for p in &pt.params {
        p.value.strings().into_iter().for_each(&mut collect);
    }
    for w in &pt.when {
        w.input
            .iter()
            .chain(w.values.iter().flatten())
            .for_each(|s| collect(s));
    }
    if let Some(ts) = &pt.task_spec {
        ts.for_each_string(&mut collect);
    }
    out
}
