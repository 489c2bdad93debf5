//! What a PipelineRun reports about its children's results: the state and result arrays of a
//! matrixed task (§4.17), and the run's own `status.results` (§4.18).
//!
//! # Why
//!
//! Both are decided once the children are observed and are pure functions of what they
//! reported, so they live beside [`super::reconcile`] and follow its shape: the driver observes,
//! builds plain inputs, calls here, and writes the outcome into the status. No I/O, no clock.
//!
//! # Invariants
//!
//! - Matrixed runs are ordered by TaskRun name as bytes (`p-t-10` before `p-t-2`), whatever
//!   order the caller passes them in; every aggregated result is an array.
//! - Pipeline results come out in declaration order, each at most once; a result is either
//!   emitted whole or omitted (never half-substituted).
//! - A reference whose result is absent from a task that did not succeed omits its pipeline
//!   result silently; every other bad reference also names the result in the one
//!   `CouldntGetPipelineResult` error, each name once, in declaration order.
//! - No panics on any input.
//!
//! # Decisions the spec leaves open
//!
//! - A matrixed run that did not emit a string result contributes nothing to that result's
//!   array; array and object results of matrixed runs are not aggregated.
//! - A matrixed task with no runs is `Running`: the empty-array skip is the scheduler's call.
//! - As in Tekton, `R[i]` and `R[*]` of a string result give the string, a declared value with
//!   no reference at all is not emitted, and a whole array or object referenced inside longer
//!   text stays verbatim. A reference to anything but a task or finally result, or a malformed
//!   one, is invalid.
//!
//! # Not yet
//!
//! - `tasks.T.matrix.length` uses the admission formula (§4.17), not the real fan-out that
//!   [`MatrixAggregate::length`] counts; the caller computes it.
//! - Custom-task (`Run`) results, and shell-like `$(...)` text that Tekton's looser regex
//!   would call an invalid reference.
//! - Wiring into the condition: the caller turns [`ResultsError`] into `False/<reason>`.

use std::collections::HashMap;

use crate::api::pipeline::PipelineResult;
use crate::api::ParamValue;
use crate::subst::{scan, sole_reference, splice_array, substitute, Access, Var};

/// The condition reason for a pipeline result that references results that do not exist.
pub const COULDNT_GET_PIPELINE_RESULT: &str = "CouldntGetPipelineResult";

/// Where one matrixed TaskRun, or the matrixed task as a whole, stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunOutcome {
    /// Finished successfully.
    Succeeded,
    /// Finished unsuccessfully (failed, cancelled or timed out).
    Failed,
    /// Not finished yet (including waiting for a retry).
    Running,
}

/// One matrixed TaskRun as observed: its name, where it stands, and the results it emitted.
pub type MatrixRun = (String, RunOutcome, Vec<(String, ParamValue)>);

/// A matrixed task seen as one task: its state, its aggregated results and its run count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixAggregate {
    /// `Succeeded` iff every run succeeded; `Failed` iff every run is done and one failed.
    pub state: RunOutcome,
    /// Each string result as an array over the runs sorted by TaskRun name, in first-seen order.
    pub results: Vec<(String, ParamValue)>,
    /// How many runs were aggregated.
    pub length: usize,
}

impl MatrixAggregate {
    /// The length of aggregated result `result` (`tasks.T.matrix.R.length`), if any run emitted it.
    pub fn result_length(&self, result: &str) -> Option<usize> {
        self.results
            .iter()
            .find(|(name, _)| name == result)
            .and_then(|(_, value)| match value {
                ParamValue::Array(items) => Some(items.len()),
                _ => None,
            })
    }
}

/// Folds the matrixed TaskRuns `(name, outcome, results)` of one PipelineTask into one task (§4.17).
pub fn aggregate_matrix(runs: &[MatrixRun]) -> MatrixAggregate {
    let mut sorted: Vec<&MatrixRun> = runs.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let all_succeeded = sorted.iter().all(|run| run.1 == RunOutcome::Succeeded);
    let any_running = sorted.iter().any(|run| run.1 == RunOutcome::Running);
    let state = if sorted.is_empty() || any_running {
        RunOutcome::Running
    } else if all_succeeded {
        RunOutcome::Succeeded
    } else {
        RunOutcome::Failed
    };

    let mut results: Vec<(String, Vec<String>)> = Vec::new();
    for (_, _, emitted) in &sorted {
        for (name, value) in emitted {
            let ParamValue::String(value) = value else {
                continue;
            };
            match results.iter_mut().find(|(known, _)| known == name) {
                Some((_, items)) => items.push(value.clone()),
                None => results.push((name.clone(), vec![value.clone()])),
            }
        }
    }
    MatrixAggregate {
        state,
        results: results
            .into_iter()
            .map(|(name, items)| (name, ParamValue::Array(items)))
            .collect(),
        length: runs.len(),
    }
}

/// What one PipelineTask left behind for pipeline results: whether it succeeded, and its results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskResults {
    /// True only when the task's status is `Succeeded` (not failed, skipped or not run).
    pub succeeded: bool,
    /// Every result it emitted, failed tasks included; a matrixed task gives its arrays.
    pub results: Vec<(String, ParamValue)>,
}

/// One entry of the PipelineRun's `status.results`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineRunResult {
    /// The declared result's name.
    pub name: String,
    /// The substituted, type-corrected value.
    pub value: ParamValue,
}

/// Why the PipelineRun must end `False` because of its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsError {
    /// Always [`COULDNT_GET_PIPELINE_RESULT`].
    pub reason: &'static str,
    /// Tekton's message, naming the invalid results.
    pub message: String,
}

/// The PipelineRun's results and, if some references were invalid, the error to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineResultsOutcome {
    /// The emitted results, in declaration order.
    pub results: Vec<PipelineRunResult>,
    /// Set when a reference was invalid for a reason other than its task not succeeding.
    pub error: Option<ResultsError>,
}

/// Computes `status.results` of PipelineRun `pr_name` from its tasks' and finally tasks' results (§4.18).
pub fn pipeline_results(
    pr_name: &str,
    declared: &[PipelineResult],
    task_results: &HashMap<String, TaskResults>,
    finally_results: &HashMap<String, TaskResults>,
) -> PipelineResultsOutcome {
    let sources = Sources {
        tasks: task_results,
        finally: finally_results,
    };
    let mut outcome = PipelineResultsOutcome::default();
    let mut invalid: Vec<&str> = Vec::new();
    for result in declared {
        match sources.check(&result.value) {
            Check::Valid => outcome.results.push(PipelineRunResult {
                name: result.name.clone(),
                value: sources.apply(&result.value),
            }),
            Check::Omitted => {}
            Check::Invalid => {
                if !invalid.contains(&result.name.as_str()) {
                    invalid.push(&result.name);
                }
            }
        }
    }
    if !invalid.is_empty() {
        outcome.error = Some(ResultsError {
            reason: COULDNT_GET_PIPELINE_RESULT,
            message: format!(
                "Failed to get PipelineResult from TaskRun Results for PipelineRun {pr_name}: \
                 invalid pipelineresults [{}], the referenced results don't exist",
                invalid.join(" ")
            ),
        });
    }
    outcome
}

/// Whether a declared value can be emitted.
enum Check {
    /// Every reference resolves.
    Valid,
    /// Not emitted, without error.
    Omitted,
    /// Not emitted, and reported.
    Invalid,
}

/// What one reference stands for.
enum Resolved<'a> {
    /// A string, to be inserted textually.
    Text(&'a str),
    /// A whole array or object, for type correction and splicing.
    Collection(&'a ParamValue),
    /// The result is absent and its task did not succeed.
    Absent,
    /// Any other unresolvable reference.
    Invalid,
}

/// The results a pipeline result may reference.
struct Sources<'a> {
    tasks: &'a HashMap<String, TaskResults>,
    finally: &'a HashMap<String, TaskResults>,
}

impl Sources<'_> {
    fn check(&self, value: &ParamValue) -> Check {
        let mut found = false;
        let mut absent = false;
        for text in value.strings() {
            let scanned = scan(text);
            if !scanned.errors.is_empty() {
                return Check::Invalid;
            }
            for reference in &scanned.refs {
                found = true;
                match self.resolve(&reference.var) {
                    Resolved::Text(_) | Resolved::Collection(_) => {}
                    Resolved::Absent => absent = true,
                    Resolved::Invalid => return Check::Invalid,
                }
            }
        }
        if found && !absent {
            Check::Valid
        } else {
            Check::Omitted
        }
    }

    /// Substitutes a value whose references all resolve, correcting a sole whole reference's type.
    fn apply(&self, value: &ParamValue) -> ParamValue {
        let text = |var: &Var| match self.resolve(var) {
            Resolved::Text(s) => Some(s.to_owned()),
            _ => None,
        };
        match value {
            ParamValue::String(s) => {
                let whole = sole_reference(s).and_then(|r| match self.resolve(&r.var) {
                    Resolved::Collection(v) => Some(v.clone()),
                    _ => None,
                });
                whole.unwrap_or_else(|| ParamValue::String(substitute(s, text)))
            }
            ParamValue::Array(items) => {
                let array = |var: &Var| match self.resolve(var) {
                    Resolved::Collection(ParamValue::Array(items)) => Some(items.clone()),
                    _ => None,
                };
                ParamValue::Array(splice_array(items, array, text))
            }
            ParamValue::Object(map) => ParamValue::Object(
                map.iter()
                    .map(|(key, v)| (key.clone(), substitute(v, text)))
                    .collect(),
            ),
        }
    }

    fn resolve(&self, var: &Var) -> Resolved<'_> {
        let (producers, task, result, access) = match var {
            Var::TaskResult {
                task,
                result,
                access,
            } => (self.tasks, task, result, access),
            Var::FinallyResult {
                task,
                result,
                access,
            } => (self.finally, task, result, access),
            _ => return Resolved::Invalid,
        };
        let producer = producers.get(task);
        let value = producer.and_then(|p| {
            p.results
                .iter()
                .find(|(name, _)| name == result)
                .map(|(_, value)| value)
        });
        let Some(value) = value else {
            return match producer {
                Some(p) if p.succeeded => Resolved::Invalid,
                _ => Resolved::Absent,
            };
        };
        match (value, access) {
            (ParamValue::String(s), Access::Whole | Access::Star | Access::Index(_)) => {
                Resolved::Text(s)
            }
            (ParamValue::Array(items), Access::Index(i)) => items
                .get(*i)
                .map_or(Resolved::Invalid, |s| Resolved::Text(s)),
            (ParamValue::Object(map), Access::Key(key)) => map
                .get(key)
                .map_or(Resolved::Invalid, |s| Resolved::Text(s)),
            (ParamValue::Array(_) | ParamValue::Object(_), Access::Whole | Access::Star) => {
                Resolved::Collection(value)
            }
            _ => Resolved::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::child_name;

    const PR: &str = "pr";

    fn s(v: &str) -> ParamValue {
        ParamValue::String(v.to_owned())
    }

    fn arr(items: &[&str]) -> ParamValue {
        ParamValue::Array(items.iter().map(|i| (*i).to_owned()).collect())
    }

    fn obj(pairs: &[(&str, &str)]) -> ParamValue {
        ParamValue::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn run(i: usize, outcome: RunOutcome, results: &[(&str, ParamValue)]) -> MatrixRun {
        (
            child_name(PR, &format!("-t-{i}")),
            outcome,
            results
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn state_of(outcomes: &[RunOutcome]) -> RunOutcome {
        let runs: Vec<_> = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| run(i, *o, &[]))
            .collect();
        aggregate_matrix(&runs).state
    }

    fn declared(name: &str, value: ParamValue) -> PipelineResult {
        PipelineResult {
            name: name.to_owned(),
            value,
            ..PipelineResult::default()
        }
    }

    fn task(succeeded: bool, results: &[(&str, ParamValue)]) -> TaskResults {
        TaskResults {
            succeeded,
            results: results
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone()))
                .collect(),
        }
    }

    /// Tasks `a` (succeeded) and `f` (failed), with one result of each type.
    fn tasks() -> HashMap<String, TaskResults> {
        HashMap::from([
            (
                "a".to_owned(),
                task(
                    true,
                    &[
                        ("str", s("hello")),
                        ("arr", arr(&["x", "y"])),
                        ("obj", obj(&[("k", "v"), ("l", "w")])),
                    ],
                ),
            ),
            ("f".to_owned(), task(false, &[("wrote", s("partial"))])),
        ])
    }

    fn results_of(values: &[(&str, ParamValue)]) -> PipelineResultsOutcome {
        let declared: Vec<_> = values.iter().map(|(n, v)| declared(n, v.clone())).collect();
        pipeline_results(PR, &declared, &tasks(), &HashMap::new())
    }

    /// The value of the single declared result `r`, which must be emitted without error.
    fn value_of(value: ParamValue) -> ParamValue {
        let outcome = results_of(&[("r", value)]);
        assert_eq!(outcome.error, None);
        assert_eq!(outcome.results.len(), 1);
        outcome.results[0].value.clone()
    }

    fn invalid_message(names: &str) -> String {
        format!(
            "Failed to get PipelineResult from TaskRun Results for PipelineRun pr: invalid \
             pipelineresults [{names}], the referenced results don't exist"
        )
    }

    #[test]
    fn matrix_succeeded_iff_all_runs_succeeded() {
        use RunOutcome::*;
        assert_eq!(state_of(&[Succeeded, Succeeded, Succeeded]), Succeeded);
        assert_eq!(state_of(&[Succeeded]), Succeeded);
    }

    #[test]
    fn matrix_failed_iff_all_done_and_one_failed() {
        use RunOutcome::*;
        assert_eq!(state_of(&[Succeeded, Failed, Succeeded]), Failed);
        assert_eq!(state_of(&[Failed, Failed]), Failed);
    }

    #[test]
    fn matrix_running_while_any_run_is_unfinished() {
        use RunOutcome::*;
        assert_eq!(state_of(&[Failed, Running, Succeeded]), Running);
        assert_eq!(state_of(&[Succeeded, Running]), Running);
        assert_eq!(state_of(&[]), Running);
    }

    #[test]
    fn matrix_results_follow_taskrun_name_order_ten_before_two() {
        let mut runs: Vec<_> = (0..12)
            .map(|i| run(i, RunOutcome::Succeeded, &[("r", s(&i.to_string()))]))
            .collect();
        runs.reverse();
        let aggregate = aggregate_matrix(&runs);
        let expected = arr(&["0", "1", "10", "11", "2", "3", "4", "5", "6", "7", "8", "9"]);
        assert_eq!(aggregate.results, vec![("r".to_owned(), expected)]);
        assert_eq!(runs[0].0, "pr-t-11");
    }

    #[test]
    fn matrix_collects_each_string_result_and_skips_others() {
        let runs = vec![
            run(1, RunOutcome::Succeeded, &[("b", s("b1")), ("a", s("a1"))]),
            run(
                0,
                RunOutcome::Failed,
                &[("a", s("a0")), ("x", arr(&["no"]))],
            ),
        ];
        let aggregate = aggregate_matrix(&runs);
        assert_eq!(
            aggregate.results,
            vec![
                ("a".to_owned(), arr(&["a0", "a1"])),
                ("b".to_owned(), arr(&["b1"])),
            ]
        );
    }

    #[test]
    fn matrix_lengths() {
        let runs: Vec<_> = (0..3)
            .map(|i| {
                let results = if i == 1 { vec![] } else { vec![("r", s("v"))] };
                run(i, RunOutcome::Succeeded, &results)
            })
            .collect();
        let aggregate = aggregate_matrix(&runs);
        assert_eq!(aggregate.length, 3);
        assert_eq!(aggregate.result_length("r"), Some(2));
        assert_eq!(aggregate.result_length("missing"), None);
    }

    #[test]
    fn string_reference_replaced_inside_text() {
        let value = value_of(s(
            "pre-$(tasks.a.results.str)-mid $(tasks.a.results.str) post",
        ));
        assert_eq!(value, s("pre-hello-mid hello post"));
    }

    #[test]
    fn array_index_selects_element() {
        assert_eq!(value_of(s("<$(tasks.a.results.arr[1])>")), s("<y>"));
    }

    #[test]
    fn array_index_out_of_bounds_is_invalid() {
        let outcome = results_of(&[("r", s("$(tasks.a.results.arr[2])"))]);
        assert_eq!(outcome.results, []);
        let error = outcome.error.expect("invalid reference");
        assert_eq!(error.reason, "CouldntGetPipelineResult");
        assert_eq!(error.message, invalid_message("r"));
    }

    #[test]
    fn whole_array_reference_becomes_array() {
        assert_eq!(value_of(s("$(tasks.a.results.arr[*])")), arr(&["x", "y"]));
        assert_eq!(value_of(s("$(tasks.a.results.arr)")), arr(&["x", "y"]));
    }

    #[test]
    fn whole_object_reference_becomes_object() {
        let expected = obj(&[("k", "v"), ("l", "w")]);
        assert_eq!(value_of(s("$(tasks.a.results.obj[*])")), expected);
        assert_eq!(value_of(s("$(tasks.a.results.obj)")), expected);
    }

    #[test]
    fn whole_collection_inside_text_stays_verbatim() {
        let text = "all: $(tasks.a.results.arr[*]) $(tasks.a.results.str)";
        assert_eq!(value_of(s(text)), s("all: $(tasks.a.results.arr[*]) hello"));
    }

    #[test]
    fn object_key_selects_value() {
        assert_eq!(value_of(s("k=$(tasks.a.results.obj.k)")), s("k=v"));
    }

    #[test]
    fn object_missing_key_is_invalid() {
        let outcome = results_of(&[("r", s("$(tasks.a.results.obj.nope)"))]);
        assert_eq!(outcome.results, []);
        let error = outcome.error.expect("invalid reference");
        assert_eq!(error.message, invalid_message("r"));
    }

    #[test]
    fn array_value_splices_whole_arrays() {
        let value = arr(&["$(tasks.a.results.arr[*])", "s=$(tasks.a.results.str)"]);
        assert_eq!(value_of(value), arr(&["x", "y", "s=hello"]));
    }

    #[test]
    fn object_value_substitutes_each_value() {
        let value = obj(&[("one", "$(tasks.a.results.obj.l)"), ("two", "lit")]);
        assert_eq!(value_of(value), obj(&[("one", "w"), ("two", "lit")]));
    }

    #[test]
    fn absent_result_of_failed_task_is_silently_omitted() {
        let outcome = results_of(&[("r", s("$(tasks.f.results.never)"))]);
        assert_eq!(outcome, PipelineResultsOutcome::default());
    }

    #[test]
    fn absent_result_of_skipped_task_is_silently_omitted() {
        let mut tasks = tasks();
        tasks.insert("skipped".to_owned(), task(false, &[]));
        let declared = [
            declared("r", s("$(tasks.skipped.results.x)")),
            declared("q", s("$(tasks.not-run.results.x)")),
        ];
        let outcome = pipeline_results(PR, &declared, &tasks, &HashMap::new());
        assert_eq!(outcome, PipelineResultsOutcome::default());
    }

    #[test]
    fn failed_task_result_still_feeds() {
        assert_eq!(value_of(s("$(tasks.f.results.wrote)")), s("partial"));
    }

    #[test]
    fn absent_result_of_succeeded_task_is_invalid() {
        let outcome = results_of(&[("r", s("$(tasks.a.results.nope)"))]);
        assert_eq!(outcome.results, []);
        let error = outcome.error.expect("invalid reference");
        assert_eq!(error.message, invalid_message("r"));
    }

    #[test]
    fn invalid_results_listed_once_in_declaration_order() {
        let outcome = results_of(&[
            ("z", s("$(tasks.a.results.nope) $(tasks.a.results.arr[9])")),
            ("ok", s("$(tasks.a.results.str)")),
            ("quiet", s("$(tasks.f.results.never)")),
            ("b", s("$(tasks.f.results.never) $(tasks.a.results.obj.q)")),
        ]);
        let names: Vec<_> = outcome.results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ok"]);
        let error = outcome.error.expect("invalid references");
        assert_eq!(error.message, invalid_message("z b"));
    }

    #[test]
    fn entries_in_declaration_order() {
        let outcome = results_of(&[
            ("second", s("$(tasks.a.results.str)")),
            ("first", s("$(tasks.a.results.arr[0])")),
        ]);
        assert_eq!(
            outcome.results,
            vec![
                PipelineRunResult {
                    name: "second".to_owned(),
                    value: s("hello"),
                },
                PipelineRunResult {
                    name: "first".to_owned(),
                    value: s("x"),
                },
            ]
        );
        assert_eq!(outcome.error, None);
    }

    #[test]
    fn finally_results_are_read_from_finally_tasks() {
        let finally = HashMap::from([("fin".to_owned(), task(true, &[("done", s("yes"))]))]);
        let declared = [
            declared("r", s("$(finally.fin.results.done)")),
            declared("q", s("$(finally.a.results.str)")),
        ];
        let outcome = pipeline_results(PR, &declared, &tasks(), &finally);
        assert_eq!(
            outcome.results,
            vec![PipelineRunResult {
                name: "r".to_owned(),
                value: s("yes"),
            }]
        );
        assert_eq!(outcome.error, None);
    }

    #[test]
    fn non_result_reference_is_invalid() {
        let outcome = results_of(&[("r", s("$(params.p)"))]);
        assert_eq!(outcome.results, []);
        assert_eq!(outcome.error.map(|e| e.message), Some(invalid_message("r")));
    }

    #[test]
    fn value_without_reference_is_not_emitted() {
        assert_eq!(
            results_of(&[("r", s("literal"))]),
            PipelineResultsOutcome::default()
        );
    }

    #[test]
    fn matrix_aggregate_feeds_pipeline_result() {
        let runs: Vec<_> = (0..11)
            .map(|i| run(i, RunOutcome::Succeeded, &[("r", s(&format!("v{i}")))]))
            .collect();
        let aggregate = aggregate_matrix(&runs);
        let tasks = HashMap::from([(
            "t".to_owned(),
            TaskResults {
                succeeded: aggregate.state == RunOutcome::Succeeded,
                results: aggregate.results,
            },
        )]);
        let declared = [
            declared("all", s("$(tasks.t.results.r[*])")),
            declared("third", s("$(tasks.t.results.r[2])")),
        ];
        let outcome = pipeline_results(PR, &declared, &tasks, &HashMap::new());
        let values: Vec<_> = outcome.results.iter().map(|r| r.value.clone()).collect();
        assert_eq!(
            values,
            [
                arr(&["v0", "v1", "v10", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9"]),
                s("v10"),
            ]
        );
    }
}
