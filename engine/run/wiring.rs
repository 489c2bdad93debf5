//! Pipeline-level substitution at start time: params and context from a [`Scope`],
//! `$(tasks.T.results.R)` from the results TaskRuns have produced so far, and the execution
//! status variables finally tasks read (`$(tasks.T.status)`, `$(tasks.T.reason)`,
//! `$(tasks.status)`).

use std::collections::HashMap;

use super::artifacts::{values_json, ArtifactList};
use crate::api::pipeline::PipelineTask;
use crate::api::{ParamValue, TaskSpec, WhenExpression};
use crate::cel::CelError;
use crate::plan::pipeline::stage_embedded_spec;
use crate::plan::scope::Scope;
use crate::reconcile::PipelineTaskState;
use crate::subst::{self, Access, Var};

/// Results produced so far, by pipeline task, in emission order.
pub(super) type Produced = HashMap<String, Vec<(String, ParamValue)>>;

/// What `$(tasks.T.status)` and `$(tasks.T.reason)` say of each DAG task, and
/// `$(tasks.status)` of them all.
#[derive(Debug, Clone, Default)]
pub(super) struct Statuses {
    /// By DAG task: (`Succeeded`|`Failed`|`None`, the TaskRun's condition reason or "").
    pub tasks: HashMap<String, (&'static str, String)>,
    /// `Succeeded`, `Failed`, `Completed` or `None`.
    pub overall: &'static str,
    /// `$(tasks.T.matrix.length)`: how many TaskRuns each started matrixed task has.
    pub matrix_lengths: HashMap<String, usize>,
}

impl Statuses {
    /// The statuses of the DAG tasks in their current states (spec §3, execution status).
    pub fn of<'s>(states: impl Iterator<Item = (&'s str, &'s PipelineTaskState)>) -> Statuses {
        let mut tasks = HashMap::new();
        let (mut all_succeeded, mut any_failed, mut any_skipped) = (true, false, false);
        for (name, state) in states {
            let entry = match state {
                PipelineTaskState::Succeeded => ("Succeeded", "Succeeded".to_owned()),
                PipelineTaskState::Failed { reason, .. } => ("Failed", reason.clone()),
                PipelineTaskState::Cancelled { .. } => ("Failed", "TaskRunCancelled".to_owned()),
                _ => ("None", String::new()),
            };
            all_succeeded &= entry.0 == "Succeeded";
            any_failed |= entry.0 == "Failed";
            any_skipped |= matches!(state, PipelineTaskState::Skipped { .. });
            tasks.insert(name.to_owned(), entry);
        }
        let overall = if any_failed {
            "Failed"
        } else if all_succeeded {
            "Succeeded"
        } else if any_skipped {
            "Completed"
        } else {
            "None"
        };
        Statuses {
            tasks,
            overall,
            matrix_lengths: HashMap::new(),
        }
    }
}

/// What one substitution at start time knows.
pub(super) struct Values<'a> {
    /// Pipeline params, context and workspaces.
    pub scope: &'a Scope,
    /// Results of finished tasks.
    pub results: &'a Produced,
    /// Execution status of the DAG tasks, for finally tasks.
    pub statuses: &'a Statuses,
    /// Each finished task's artifacts (`provenance.json`), for `$(tasks.T.outputs.A)`.
    pub artifacts: &'a HashMap<String, serde_json::Value>,
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
            Var::TaskStatus { task } => self.statuses.tasks.get(task).map(|s| s.0.to_owned()),
            Var::TaskReason { task } => self.statuses.tasks.get(task).map(|s| s.1.clone()),
            Var::TasksStatus => Some(self.statuses.overall.to_owned()),
            Var::TaskOutputs { task, name } => {
                values_json(self.artifacts.get(task)?, ArtifactList::Outputs, name)
            }
            Var::TaskInputs { task, name } => {
                values_json(self.artifacts.get(task)?, ArtifactList::Inputs, name)
            }
            Var::MatrixLength { task } => self
                .statuses
                .matrix_lengths
                .get(task)
                .map(ToString::to_string),
            Var::MatrixResultLength { task, result } => match self.result(task, result)? {
                ParamValue::Array(items) => Some(items.len().to_string()),
                _ => None,
            },
            other => self.scope.string(other),
        }
    }

    fn array(&self, var: &Var) -> Option<Vec<String>> {
        match var {
            // `[i]` picks one element: a string, not the array.
            Var::TaskResult {
                task,
                result,
                access: Access::Whole | Access::Star,
            } => match self.result(task, result)? {
                ParamValue::Array(a) => Some(a.clone()),
                _ => None,
            },
            Var::TaskResult { .. } => None,
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

    /// The expressions with what is known substituted, as the status records them;
    /// unknown references stay verbatim.
    pub fn substitute_when(&self, when: &[WhenExpression]) -> Vec<WhenExpression> {
        when.iter()
            .map(|w| WhenExpression {
                input: w.input.as_deref().map(|i| self.subst(i)),
                operator: w.operator.clone(),
                values: w
                    .values
                    .as_deref()
                    .map(|v| subst::splice_array(v, |var| self.array(var), |var| self.string(var))),
                cel: w.cel.as_deref().map(|c| self.subst(c)),
            })
            .collect()
    }

    /// Whether every expression holds: `in`/`notin` by comparing strings, `cel` by evaluating
    /// the text once what is known is substituted (unknown references stay verbatim, as in
    /// Tekton, so a quoted one is just a string). A CEL failure fails the run.
    pub fn when_holds(&self, when: &[WhenExpression]) -> Result<bool, CelError> {
        let mut holds = true;
        for w in when {
            holds &= match &w.cel {
                Some(cel) => crate::cel::guard(&self.subst(cel))?,
                None => self.input_holds(w),
            };
        }
        Ok(holds)
    }

    fn input_holds(&self, w: &WhenExpression) -> bool {
        {
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
            crate::api::param::operator_holds(w.operator.as_deref(), &input, &values)
        }
    }

    /// Writes context and task results into an embedded spec; its params are left for the
    /// TaskRun stage, where the PipelineTask's values take precedence.
    pub fn stage_spec(&self, spec: &TaskSpec) -> TaskSpec {
        stage_embedded_spec(spec, &|var: &Var| match var {
            Var::TaskResult { .. }
            | Var::Context { .. }
            | Var::TaskOutputs { .. }
            | Var::TaskInputs { .. } => self.string(var),
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
            .chain(&w.cel)
            .for_each(|s| collect(s));
    }
    if let Some(ts) = &pt.task_spec {
        ts.for_each_string(&mut collect);
    }
    out
}
