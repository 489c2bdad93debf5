//! Result entries: `{name, type, value}` for TaskRuns and steps, `{name, value}` for
//! PipelineRuns.

use serde_json::{json, Value};

use crate::api::ParamValue;
use crate::reconcile::results::PipelineRunResult;

/// A TaskRun or step result (`TaskRunResult`): the type follows the value's shape.
pub(super) fn typed(results: &[(String, ParamValue)]) -> Vec<Value> {
    results
        .iter()
        .map(|(name, value)| {
            json!({
                "name": name,
                "type": value.param_type().as_str(),
                "value": value.to_json(),
            })
        })
        .collect()
}

/// A PipelineRun result (`PipelineRunResult`), which carries no type.
pub(super) fn untyped(results: &[PipelineRunResult]) -> Vec<Value> {
    results
        .iter()
        .map(|r| json!({"name": r.name, "value": r.value.to_json()}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_results_carry_the_type_of_their_value() {
        let results = vec![
            ("digest".to_owned(), ParamValue::String("sha256:1".into())),
            (
                "tags".to_owned(),
                ParamValue::Array(vec!["a".into(), "b".into()]),
            ),
            (
                "meta".to_owned(),
                ParamValue::Object([("k".to_owned(), "v".to_owned())].into()),
            ),
        ];
        assert_eq!(
            typed(&results),
            vec![
                json!({"name": "digest", "type": "string", "value": "sha256:1"}),
                json!({"name": "tags", "type": "array", "value": ["a", "b"]}),
                json!({"name": "meta", "type": "object", "value": {"k": "v"}}),
            ]
        );
    }

    #[test]
    fn pipeline_results_have_no_type() {
        let results = [PipelineRunResult {
            name: "commit".into(),
            value: ParamValue::String("abc123".into()),
        }];
        assert_eq!(
            untyped(&results),
            vec![json!({"name": "commit", "value": "abc123"})]
        );
    }
}
