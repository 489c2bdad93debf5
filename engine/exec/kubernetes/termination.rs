//! Reading a step container's termination message: the `{"key","value","type"}` entries the
//! entrypoint writes (§4.3, §4.6), split into Tekton's bookkeeping, task results, step results
//! and artifacts (types 5 and 6).

use crate::reconcile::task_run::{MarkerReason, TerminationMarkers};
use crate::status::parse_rfc3339;

/// Tekton's `ResultType` of a task result entry.
const TASK_RESULT: u8 = 1;
/// Tekton's `ResultType` of an internal entry (`StartedAt`, `ExitCode`, `Reason`).
const INTERNAL: u8 = 3;
/// Tekton's `ResultType` of a step result entry.
const STEP_RESULT: u8 = 4;
/// Tekton's `ResultType` of a step's `provenance.json`.
const STEP_ARTIFACTS: u8 = 5;
/// Tekton's `ResultType` of the Task's `provenance.json` (`$(artifacts.path)`).
const TASK_RUN_ARTIFACTS: u8 = 6;

/// What one step's termination message says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StepMessage {
    /// `StartedAt`, `ExitCode` and `Reason`.
    pub markers: TerminationMarkers,
    /// Task results the step saw under `/tekton/results`, in the message's order.
    pub task_results: Vec<(String, String)>,
    /// The step's own results, in the message's order.
    pub step_results: Vec<(String, String)>,
    /// The text of the step's `provenance.json`, when it wrote one.
    pub step_artifacts: Option<String>,
    /// The text of the Task's `provenance.json` as this step left it.
    pub task_artifacts: Option<String>,
    /// Why the entrypoint could not write the whole message (internal entry `Error`), e.g.
    /// Tekton's "Termination message is above max allowed size 4096, …".
    pub error: Option<String>,
    /// What the entrypoint noticed without failing the step (internal entries `Warning`),
    /// e.g. a `$(steps.S.results.R)` no earlier step wrote.
    pub warnings: Vec<String>,
}

/// The start of the entrypoint's error for a message over the size limit.
const TOO_LARGE: &str = "Termination message is above max allowed size";

impl StepMessage {
    /// The step's results did not fit in its termination message.
    pub fn results_too_large(&self) -> bool {
        self.error
            .as_deref()
            .is_some_and(|e| e.starts_with(TOO_LARGE))
    }
}

/// One entry as written; unknown fields are ignored, as Tekton's reader does.
#[derive(serde::Deserialize)]
struct Entry {
    key: String,
    value: String,
    #[serde(rename = "type", default)]
    kind: u8,
}

/// Parses a termination message; `None` when it is not the entrypoint's JSON (a step that
/// never reached the entrypoint, or a container that wrote something else there).
pub fn parse(message: &str) -> Option<StepMessage> {
    let entries: Vec<Entry> = serde_json::from_str(message.trim()).ok()?;
    let mut out = StepMessage::default();
    for entry in entries {
        match entry.kind {
            INTERNAL => match entry.key.as_str() {
                "StartedAt" => out.markers.started_at = parse_rfc3339(&entry.value),
                "ExitCode" => out.markers.exit_code = entry.value.trim().parse().ok(),
                "Reason" => out.markers.reason = marker_reason(&entry.value),
                "Error" => out.error = Some(entry.value),
                "Warning" => out.warnings.push(entry.value),
                _ => {}
            },
            TASK_RESULT => out.task_results.push((entry.key, entry.value)),
            STEP_RESULT => out.step_results.push((entry.key, entry.value)),
            STEP_ARTIFACTS => out.step_artifacts = Some(entry.value),
            TASK_RUN_ARTIFACTS => out.task_artifacts = Some(entry.value),
            // Anything newer is not read yet.
            _ => {}
        }
    }
    Some(out)
}

/// The entrypoint's `Reason` value.
fn marker_reason(value: &str) -> Option<MarkerReason> {
    Some(match value {
        "Skipped" => MarkerReason::Skipped,
        "TimeoutExceeded" => MarkerReason::TimeoutExceeded,
        "Continued" => MarkerReason::Continued,
        "Cancelled" => MarkerReason::Cancelled,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Timestamp;

    #[test]
    fn entries_are_split_by_type() {
        let m = parse(
            r#"[{"key":"StartedAt","value":"2025-03-02T09:00:12.5Z","type":3},
                {"key":"digest","value":"sha256:abc","type":1},
                {"key":"ExitCode","value":"7","type":3},
                {"key":"Reason","value":"Continued","type":3},
                {"key":"url","value":"https://x","type":4}]"#,
        )
        .unwrap();
        assert_eq!(m.markers.started_at, Some(Timestamp(1_740_906_012_500)));
        assert_eq!(m.markers.exit_code, Some(7));
        assert_eq!(m.markers.reason, Some(MarkerReason::Continued));
        assert_eq!(m.task_results, [("digest".into(), "sha256:abc".into())]);
        assert_eq!(m.step_results, [("url".into(), "https://x".into())]);
    }

    #[test]
    fn artifacts_are_the_provenance_texts() {
        let m = parse(
            r#"[{"key":"/tekton/run/0/status/artifacts/provenance.json","value":"{\"inputs\":[]}","type":5},
                {"key":"/tekton/artifacts/provenance.json","value":"{}","type":6}]"#,
        )
        .unwrap();
        assert_eq!(m.step_artifacts.as_deref(), Some(r#"{"inputs":[]}"#));
        assert_eq!(m.task_artifacts.as_deref(), Some("{}"));
    }

    #[test]
    fn a_message_too_large_is_told() {
        let m = parse(
            r#"[{"key":"StartedAt","value":"2025-03-02T09:00:12.5Z","type":3},
                {"key":"Error","value":"Termination message is above max allowed size 4096, caused by large task result.","type":3}]"#,
        )
        .unwrap();
        assert!(m.results_too_large());
        assert!(!StepMessage::default().results_too_large());
    }

    #[test]
    fn other_writers_and_garbage_are_not_markers() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("Error: boom"), None);
        assert_eq!(parse(r#"{"key":"x"}"#), None);
        let m = parse(
            r#"[{"key":"Reason","value":"Nonsense","type":3},{"key":"a","value":"b","type":9}]"#,
        )
        .unwrap();
        assert_eq!(m, StepMessage::default());
    }
}
