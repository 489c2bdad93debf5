//! When-expressions as the status shows them: with the run's params, context and the
//! results of finished tasks substituted (§5.3, `skippedTasks[].whenExpressions`).
//!
//! Tekton records the expressions it evaluated, after substitution, so a reader sees why a
//! task was skipped (`input: feature-x` rather than `input: $(params.branch)`). References
//! this module cannot resolve stay verbatim, as they do in Tekton.

use std::collections::HashMap;

use serde_json::Value;

use super::{to_json, RunIdentity};
use crate::api::{ParamValue, PipelineRun, PipelineSpec, WhenExpression};
use crate::plan::pipeline::pipeline_params;
use crate::plan::scope::Scope;
use crate::run::RunOutcome;
use crate::subst::{self, Access, Var};

/// What substitution into a finished run's when-expressions knows.
pub(super) struct WhenValues<'a> {
    scope: Scope,
    /// Results each pipeline task's TaskRun emitted.
    results: HashMap<&'a str, &'a [(String, ParamValue)]>,
}

impl<'a> WhenValues<'a> {
    /// The values of run `pr` (named `pipeline`) that finished as `outcome`.
    pub(super) fn new(
        pr: &PipelineRun,
        id: &RunIdentity,
        pipeline: &str,
        spec: &PipelineSpec,
        outcome: &'a RunOutcome,
    ) -> WhenValues<'a> {
        let mut scope = Scope {
            params: pipeline_params(spec, pr).0,
            ..Scope::default()
        };
        for (key, value) in [
            ("pipelineRun.name", id.name.as_str()),
            ("pipelineRun.namespace", id.namespace.as_str()),
            ("pipelineRun.uid", id.uid.as_str()),
            ("pipeline.name", pipeline),
        ] {
            scope.context.insert(key.to_owned(), value.to_owned());
        }
        let results = outcome
            .task_runs
            .iter()
            .filter_map(|r| {
                let event = r.event.as_ref()?;
                Some((r.request.pipeline_task.as_str(), event.results.as_slice()))
            })
            .collect();
        WhenValues { scope, results }
    }

    /// The expressions, substituted, as `WhenExpression` JSON.
    pub(super) fn render(&self, when: &[WhenExpression]) -> Vec<Value> {
        when.iter()
            .map(|w| {
                to_json(&WhenExpression {
                    input: w.input.as_deref().map(|i| self.subst(i)),
                    operator: w.operator.clone(),
                    values: w.values.as_deref().map(|v| {
                        subst::splice_array(v, |var| self.array(var), |var| self.string(var))
                    }),
                    cel: w.cel.as_deref().map(|c| self.subst(c)),
                })
            })
            .collect()
    }

    fn subst(&self, s: &str) -> String {
        subst::substitute(s, |var| self.string(var))
    }

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::run::PipelineRunSpec;
    use crate::api::{Param, ParamSpec};
    use crate::reconcile::{Condition, Timestamp};
    use serde_json::json;

    #[test]
    fn array_params_splice_into_values_and_context_is_known() {
        let spec = PipelineSpec {
            params: vec![ParamSpec {
                name: "envs".into(),
                default: Some(ParamValue::Array(vec!["dev".into(), "prod".into()])),
                ..ParamSpec::default()
            }],
            ..PipelineSpec::default()
        };
        let pr = PipelineRun {
            spec: PipelineRunSpec {
                params: vec![Param {
                    name: "unused".into(),
                    value: ParamValue::String("x".into()),
                }],
                ..PipelineRunSpec::default()
            },
            ..PipelineRun::default()
        };
        let id = RunIdentity {
            name: "pr-1".into(),
            namespace: "ci".into(),
            uid: "u".into(),
            created: Timestamp(0),
        };
        let outcome = RunOutcome {
            condition: Condition::pending("pr-1"),
            task_states: Vec::new(),
            pipeline_results: Default::default(),
            child_references: Vec::new(),
            task_runs: Vec::new(),
            start_time: None,
            completion_time: None,
            finally_start_time: None,
        };
        let values = WhenValues::new(&pr, &id, "deploy", &spec, &outcome);
        let when = [WhenExpression {
            input: Some("$(context.pipelineRun.name)/$(context.pipeline.name)".into()),
            operator: Some("notin".into()),
            values: Some(vec![
                "$(params.envs[*])".into(),
                "$(tasks.t.results.r)".into(),
            ]),
            cel: None,
        }];
        assert_eq!(
            values.render(&when),
            vec![json!({
                "input": "pr-1/deploy",
                "operator": "notin",
                "values": ["dev", "prod", "$(tasks.t.results.r)"],
            })]
        );
    }
}
