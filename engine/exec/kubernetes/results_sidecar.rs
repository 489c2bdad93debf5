//! `results-from: sidecar-logs` (spec §3): the `tekton-log-results` sidecar Tekton injects,
//! and reading what it prints.
//!
//! The sidecar runs the entrypoint image's `adze-entrypoint sidecar-log-results`, which waits
//! for every step's post file under `/tekton/run` and prints each result file as one JSON line
//! `{"name","value","type"}` (Tekton's `SidecarLogResult`: type `task`, or `step` with name
//! `<step>.<result>`). The steps then leave results out of their termination messages, so
//! the 4096 bytes per step no longer bound them; instead each line may hold at most
//! `max-result-size` bytes, and a longer one fails the TaskRun with
//! `TaskRunResultLargerThanAllowedLimit` and Tekton's message.
//!
//! The sidecar mounts each step's run volume and `/tekton/results` read-only, runs as adze's
//! own containers do (non-root, read-only root filesystem), and is the last sidecar: a native
//! one (an init container with `restartPolicy: Always`) when the server has them. It exits
//! by itself once it has printed, so it is never stopped with the no-op image.

use k8s_openapi::api::core::v1::{Container, VolumeMount};

use super::containers::own_container;
use super::step_command::RUN_DIR;
use super::volumes::{run_volume, RESULTS_VOLUME};
use crate::reconcile::task_run::sidecar_container;
use crate::run::TaskRunRequest;

/// The injected sidecar's name (reserved: validation refuses it for a Task's own sidecar).
pub use crate::validate::steps::RESERVED_SIDECAR_NAME as RESULTS_SIDECAR;

/// The results sidecar's container, `sidecar-tekton-log-results`.
pub fn container(request: &TaskRunRequest, entrypoint_image: &str, native: bool) -> Container {
    let results: Vec<&str> = request
        .results
        .iter()
        // A result with a `value` comes from step results, filled in by the executor.
        .filter(|r| r.value.is_none())
        .map(|r| r.name.as_str())
        .collect();
    let steps: Vec<&str> = request.steps.iter().map(|s| s.name.as_str()).collect();
    let step_results: serde_json::Map<String, serde_json::Value> = request
        .steps
        .iter()
        .filter(|s| !s.results.is_empty())
        .map(|s| (s.name.clone(), serde_json::json!(s.results)))
        .collect();
    let mut args = vec![
        "sidecar-log-results".to_owned(),
        "-results-dir".to_owned(),
        "/tekton/results".to_owned(),
        "-result-names".to_owned(),
        results.join(","),
        "-step-names".to_owned(),
        steps.join(","),
    ];
    if !step_results.is_empty() {
        args.push("-step-results".to_owned());
        args.push(serde_json::Value::Object(step_results).to_string());
    }
    let mut mounts = vec![VolumeMount {
        name: RESULTS_VOLUME.to_owned(),
        mount_path: "/tekton/results".to_owned(),
        read_only: Some(true),
        ..VolumeMount::default()
    }];
    mounts.extend((0..request.steps.len()).map(|i| VolumeMount {
        name: run_volume(i),
        mount_path: format!("{RUN_DIR}/{i}"),
        read_only: Some(true),
        ..VolumeMount::default()
    }));
    Container {
        restart_policy: native.then(|| "Always".to_owned()),
        ..own_container(
            &sidecar_container(RESULTS_SIDECAR),
            entrypoint_image,
            args,
            mounts,
        )
    }
}

/// The results the sidecar printed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogResults {
    /// Task results, in the order printed.
    pub task_results: Vec<(String, String)>,
    /// Step results: (step, result, value), in the order printed.
    pub step_results: Vec<(String, String, String)>,
}

/// Why the sidecar's log could not be read as results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogResultsError {
    /// A line is longer than `max-result-size` (Tekton's `ErrSizeExceeded`).
    #[error("{size} bytes results size exceeds configured limit of {limit} bytes")]
    TooLarge {
        /// The result's name, when the line is readable.
        name: String,
        /// The line's length in bytes.
        size: usize,
        /// `max-result-size`.
        limit: usize,
    },
    /// A line is not a result as the sidecar prints them.
    #[error("invalid result line {line:?}: {reason}")]
    Invalid {
        /// The line, shortened.
        line: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The sidecar's log could not be had (it did not exit, or the API server refused).
    #[error("{0}")]
    Unavailable(String),
}

/// One line as printed; Tekton's field names.
#[derive(serde::Deserialize)]
struct Line {
    name: String,
    value: String,
    #[serde(rename = "type")]
    kind: String,
}

/// Reads the sidecar's log: one result per line, each at most `limit` bytes.
pub fn parse_log(log: &str, limit: usize) -> Result<LogResults, LogResultsError> {
    let mut out = LogResults::default();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let parsed: Result<Line, _> = serde_json::from_str(line);
        if line.len() > limit {
            return Err(LogResultsError::TooLarge {
                name: parsed.map(|l| l.name).unwrap_or_default(),
                size: line.len(),
                limit,
            });
        }
        let invalid = |reason: String| LogResultsError::Invalid {
            line: line.chars().take(80).collect(),
            reason,
        };
        let parsed = parsed.map_err(|e| invalid(e.to_string()))?;
        match parsed.kind.as_str() {
            "task" => out.task_results.push((parsed.name, parsed.value)),
            "step" => {
                let (step, result) = parsed
                    .name
                    .split_once('.')
                    .ok_or_else(|| invalid("a step result is named <step>.<result>".to_owned()))?;
                out.step_results
                    .push((step.to_owned(), result.to_owned(), parsed.value.clone()));
            }
            other => return Err(invalid(format!("unknown result type {other:?}"))),
        }
    }
    Ok(out)
}

/// Tekton's failure message for a result over `max-result-size`.
pub fn too_large_message(task_run: &str, limit: usize) -> String {
    format!("TaskRun \"{task_run}\" failed: results exceeded size limit {limit} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_task_and_step_results() {
        let log = concat!(
            "{\"name\":\"digest\",\"value\":\"sha256:abc\",\"type\":\"task\"}\n",
            "\n",
            "{\"name\":\"build.url\",\"value\":\"https://x\\n\",\"type\":\"step\"}\n",
        );
        let got = parse_log(log, 4096).unwrap();
        assert_eq!(
            got.task_results,
            [("digest".to_owned(), "sha256:abc".to_owned())]
        );
        assert_eq!(
            got.step_results,
            [(
                "build".to_owned(),
                "url".to_owned(),
                "https://x\n".to_owned()
            )]
        );
        assert_eq!(parse_log("", 4096).unwrap(), LogResults::default());
    }

    #[test]
    fn a_line_over_the_limit_is_too_large() {
        let line = format!(
            "{{\"name\":\"big\",\"value\":\"{}\",\"type\":\"task\"}}",
            "x".repeat(100)
        );
        assert!(parse_log(&line, line.len()).is_ok());
        let error = parse_log(&line, line.len() - 1).unwrap_err();
        assert_eq!(
            error,
            LogResultsError::TooLarge {
                name: "big".into(),
                size: line.len(),
                limit: line.len() - 1
            }
        );
        assert_eq!(
            error.to_string(),
            format!(
                "{} bytes results size exceeds configured limit of {} bytes",
                line.len(),
                line.len() - 1
            )
        );
        assert_eq!(
            too_large_message("tr", 4096),
            "TaskRun \"tr\" failed: results exceeded size limit 4096 bytes"
        );
    }

    #[test]
    fn other_lines_are_invalid() {
        for log in [
            "not json",
            "{\"name\":\"a\",\"value\":\"b\",\"type\":\"artifact\"}",
            "{\"name\":\"nodot\",\"value\":\"b\",\"type\":\"step\"}",
        ] {
            assert!(
                matches!(parse_log(log, 4096), Err(LogResultsError::Invalid { .. })),
                "{log}"
            );
        }
    }
}
