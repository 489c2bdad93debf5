//! The decision `adze approve` records for a PipelineRun waiting at an approval gate (the
//! catalog's `approval-gate` task), in the two places the gate looks: a JSON file under
//! `.adze/approvals/` for local runs, annotations on the PipelineRun in a cluster.
//!
//! # Design
//!
//! - One record type, [`ApprovalRecord`], with two encodings: [`ApprovalRecord::to_json`] (the
//!   file `<run>.json`, `{decision, by, at, message}`) and [`ApprovalRecord::annotations`]
//!   (`adze.dev/approval`, `adze.dev/approved-by`, `adze.dev/approved-at`,
//!   `adze.dev/approval-message`). The gate's script reads exactly these names; changing one
//!   here breaks `tasks/approval-gate`.
//! - The run name becomes a file name, so it is checked as a Kubernetes object name
//!   (RFC 1123 subdomain) first: no `/`, no `..`, nothing a path could escape with.
//!
//! # Invariants
//!
//! - A record always has a decision, a non-empty `by` without control characters, and an
//!   RFC 3339 `at`; [`ApprovalRecord::from_json`] and [`ApprovalRecord::from_annotations`]
//!   refuse anything else rather than guess.
//!
//! # Not yet
//!
//! - `by` is what the approver says (or their kubeconfig user's name); in a cluster the API
//!   server's audit log holds who really patched the run. Asking the server
//!   (SelfSubjectReview) is not done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::reconcile::Timestamp;
use crate::status::{parse_rfc3339, rfc3339};

/// Where `adze approve` writes local decisions, relative to the working directory.
pub const APPROVALS_DIR: &str = ".adze/approvals";

/// The PipelineRun annotation holding the decision (`approved` or `rejected`).
pub const DECISION_ANNOTATION: &str = "adze.dev/approval";
/// The PipelineRun annotation naming who decided.
pub const BY_ANNOTATION: &str = "adze.dev/approved-by";
/// The PipelineRun annotation holding when the decision was made (RFC 3339).
pub const AT_ANNOTATION: &str = "adze.dev/approved-at";
/// The PipelineRun annotation holding the approver's message.
pub const MESSAGE_ANNOTATION: &str = "adze.dev/approval-message";

/// The longest message accepted: the gate passes it on in a result, and results are small.
pub const MAX_MESSAGE: usize = 500;

/// What the approver decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The run may go on.
    Approved,
    /// The run must stop.
    Rejected,
}

impl Decision {
    /// The word the record and the annotation hold.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }
    }

    fn parse(text: &str) -> Option<Decision> {
        match text {
            "approved" => Some(Decision::Approved),
            "rejected" => Some(Decision::Rejected),
            _ => None,
        }
    }
}

/// One decision on one run: the content of `.adze/approvals/<run>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRecord {
    /// Approved or rejected.
    pub decision: Decision,
    /// Who decided.
    pub by: String,
    /// When, RFC 3339 UTC (`2026-12-05T09:00:00Z`).
    pub at: String,
    /// Why, in the approver's words; may be empty.
    #[serde(default)]
    pub message: String,
}

/// Why a decision or a run name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// The run name cannot name a PipelineRun (and so cannot name a file either).
    #[error("\"{name}\" is not a PipelineRun name: {reason}")]
    RunName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `by` is empty or holds control characters.
    #[error("the approver's name {by:?} is not usable: {reason}")]
    By {
        /// The name given.
        by: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The message is longer than [`MAX_MESSAGE`].
    #[error("the message has {len} characters; keep it to {MAX_MESSAGE}")]
    MessageTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// A stored record (file or annotations) is not one this module writes.
    #[error("not an approval record: {0}")]
    Unreadable(String),
}

impl ApprovalRecord {
    /// A decision by `by` at `at`, checked as [`ApprovalRecord::from_json`] would check it.
    pub fn new(
        decision: Decision,
        by: &str,
        at: Timestamp,
        message: &str,
    ) -> Result<ApprovalRecord, ApprovalError> {
        let record = ApprovalRecord {
            decision,
            by: by.trim().to_owned(),
            at: rfc3339(at),
            message: message.trim().to_owned(),
        };
        record.check()?;
        Ok(record)
    }

    fn check(&self) -> Result<(), ApprovalError> {
        let by_error = |reason| ApprovalError::By {
            by: self.by.clone(),
            reason,
        };
        if self.by.is_empty() {
            return Err(by_error("it is empty"));
        }
        if self.by.chars().any(char::is_control) {
            return Err(by_error("it holds control characters"));
        }
        if self.by.chars().count() > 253 {
            return Err(by_error("it is longer than 253 characters"));
        }
        let len = self.message.chars().count();
        if len > MAX_MESSAGE {
            return Err(ApprovalError::MessageTooLong { len });
        }
        if parse_rfc3339(&self.at).is_none() {
            return Err(ApprovalError::Unreadable(format!(
                "\"at\" is {:?}, not an RFC 3339 time",
                self.at
            )));
        }
        Ok(())
    }

    /// The file's content: pretty JSON and a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a record file, refusing unknown fields and unusable values.
    pub fn from_json(text: &str) -> Result<ApprovalRecord, ApprovalError> {
        let record: ApprovalRecord =
            serde_json::from_str(text).map_err(|e| ApprovalError::Unreadable(e.to_string()))?;
        record.check()?;
        Ok(record)
    }

    /// The annotations that carry this record on a PipelineRun.
    pub fn annotations(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            (DECISION_ANNOTATION, self.decision.as_str().to_owned()),
            (BY_ANNOTATION, self.by.clone()),
            (AT_ANNOTATION, self.at.clone()),
            (MESSAGE_ANNOTATION, self.message.clone()),
        ])
    }

    /// The record a PipelineRun's annotations hold; `Ok(None)` when nobody decided yet.
    pub fn from_annotations(
        annotations: &BTreeMap<String, String>,
    ) -> Result<Option<ApprovalRecord>, ApprovalError> {
        let Some(decision) = annotations.get(DECISION_ANNOTATION) else {
            return Ok(None);
        };
        let decision = Decision::parse(decision).ok_or_else(|| {
            ApprovalError::Unreadable(format!(
                "{DECISION_ANNOTATION} is {decision:?}; it must be \"approved\" or \"rejected\""
            ))
        })?;
        let field = |key: &str| annotations.get(key).cloned().unwrap_or_default();
        let record = ApprovalRecord {
            decision,
            by: field(BY_ANNOTATION),
            at: field(AT_ANNOTATION),
            message: field(MESSAGE_ANNOTATION),
        };
        record.check()?;
        Ok(Some(record))
    }

    /// One line for people: `approved by alice at 2026-12-05T09:00:00Z: ship it`.
    pub fn describe(&self) -> String {
        let mut line = format!("{} by {} at {}", self.decision.as_str(), self.by, self.at);
        if !self.message.is_empty() {
            line.push_str(": ");
            line.push_str(&self.message);
        }
        line
    }
}

/// Checks that `name` can be a PipelineRun's name (an RFC 1123 subdomain: lower-case letters,
/// digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters).
pub fn check_run_name(name: &str) -> Result<(), ApprovalError> {
    let fail = |reason| {
        Err(ApprovalError::RunName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > 253 {
        return fail("it is longer than 253 characters");
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    if !name.chars().all(allowed) {
        return fail("use only lower-case letters, digits, '-' and '.'");
    }
    let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alphanumeric(name.chars().next()) || !alphanumeric(name.chars().last()) {
        return fail("it must start and end with a letter or a digit");
    }
    if name.split('.').any(str::is_empty) {
        return fail("it has an empty part between dots");
    }
    Ok(())
}

/// The file a local decision on `run` is written to, inside `dir`.
pub fn record_path(dir: &Path, run: &str) -> PathBuf {
    dir.join(format!("{run}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-05T09:00:00Z.
    const AT: Timestamp = Timestamp(1_796_461_200_000);

    fn alice() -> ApprovalRecord {
        ApprovalRecord::new(Decision::Approved, "alice", AT, "ship it").unwrap()
    }

    #[test]
    fn the_file_holds_decision_by_at_and_message() {
        let json: serde_json::Value = serde_json::from_str(&alice().to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "decision": "approved",
                "by": "alice",
                "at": "2026-12-05T09:00:00Z",
                "message": "ship it",
            })
        );
        assert!(alice().to_json().ends_with("}\n"));
    }

    #[test]
    fn a_written_record_reads_back_the_same() {
        let rejected = ApprovalRecord::new(Decision::Rejected, "bob", AT, "").unwrap();
        for record in [alice(), rejected] {
            assert_eq!(ApprovalRecord::from_json(&record.to_json()), Ok(record));
        }
    }

    #[test]
    fn names_and_messages_are_trimmed() {
        let record = ApprovalRecord::new(Decision::Approved, "  alice\n", AT, " ok \n").unwrap();
        assert_eq!(
            (record.by.as_str(), record.message.as_str()),
            ("alice", "ok")
        );
    }

    #[test]
    fn unusable_approvers_and_messages_are_refused() {
        let refused = |by: &str, message: &str| {
            ApprovalRecord::new(Decision::Approved, by, AT, message).unwrap_err()
        };
        assert!(matches!(
            refused("", ""),
            ApprovalError::By {
                reason: "it is empty",
                ..
            }
        ));
        assert!(matches!(
            refused("al\u{7}ice", ""),
            ApprovalError::By { .. }
        ));
        assert_eq!(
            refused("alice", &"x".repeat(MAX_MESSAGE + 1)),
            ApprovalError::MessageTooLong {
                len: MAX_MESSAGE + 1
            }
        );
        // Exactly the limit is fine; a multi-line message is too.
        ApprovalRecord::new(Decision::Approved, "alice", AT, &"é".repeat(MAX_MESSAGE)).unwrap();
        ApprovalRecord::new(Decision::Approved, "alice", AT, "one\ntwo").unwrap();
    }

    #[test]
    fn files_that_are_not_records_are_refused() {
        for text in [
            "",
            "{}",
            "[]",
            r#"{"decision": "maybe", "by": "a", "at": "2026-12-05T09:00:00Z"}"#,
            r#"{"decision": "approved", "by": "", "at": "2026-12-05T09:00:00Z"}"#,
            r#"{"decision": "approved", "by": "a", "at": "yesterday"}"#,
            r#"{"decision": "approved", "by": "a", "at": "2026-12-05T09:00:00Z", "extra": 1}"#,
        ] {
            assert!(
                matches!(
                    ApprovalRecord::from_json(text),
                    Err(ApprovalError::Unreadable(_)) | Err(ApprovalError::By { .. })
                ),
                "{text:?} was accepted"
            );
        }
        // The message may be absent: an older or hand-written file.
        let bare = r#"{"decision": "rejected", "by": "bob", "at": "2026-12-05T09:00:00Z"}"#;
        assert_eq!(ApprovalRecord::from_json(bare).unwrap().message, "");
    }

    #[test]
    fn annotations_carry_the_record_and_read_back() {
        let record = alice();
        let annotations = record.annotations();
        assert_eq!(annotations[DECISION_ANNOTATION], "approved");
        assert_eq!(annotations[BY_ANNOTATION], "alice");
        assert_eq!(annotations[AT_ANNOTATION], "2026-12-05T09:00:00Z");
        assert_eq!(annotations[MESSAGE_ANNOTATION], "ship it");
        let on_run: BTreeMap<String, String> = annotations
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain([("other".to_owned(), "x".to_owned())])
            .collect();
        assert_eq!(ApprovalRecord::from_annotations(&on_run), Ok(Some(record)));
    }

    #[test]
    fn a_run_without_the_decision_annotation_is_undecided() {
        let annotations = BTreeMap::from([(BY_ANNOTATION.to_owned(), "alice".to_owned())]);
        assert_eq!(ApprovalRecord::from_annotations(&annotations), Ok(None));
    }

    #[test]
    fn a_decision_annotation_of_another_word_is_refused() {
        let annotations = BTreeMap::from([
            (DECISION_ANNOTATION.to_owned(), "yes".to_owned()),
            (BY_ANNOTATION.to_owned(), "alice".to_owned()),
            (AT_ANNOTATION.to_owned(), "2026-12-05T09:00:00Z".to_owned()),
        ]);
        let e = ApprovalRecord::from_annotations(&annotations).unwrap_err();
        assert!(
            e.to_string()
                .contains("must be \"approved\" or \"rejected\""),
            "{e}"
        );
    }

    #[test]
    fn describe_reads_as_a_sentence() {
        assert_eq!(
            alice().describe(),
            "approved by alice at 2026-12-05T09:00:00Z: ship it"
        );
        let bare = ApprovalRecord::new(Decision::Rejected, "bob", AT, "").unwrap();
        assert_eq!(bare.describe(), "rejected by bob at 2026-12-05T09:00:00Z");
    }

    #[test]
    fn run_names_are_kubernetes_names_and_safe_file_names() {
        for good in ["shop-promote-x7k2p", "a", "run.1", "0run"] {
            assert_eq!(check_run_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "../etc/passwd",
            "a/b",
            "Run",
            "-run",
            "run-",
            "a..b",
            ".hidden",
            "run name",
        ] {
            assert!(check_run_name(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(check_run_name(&"a".repeat(254)).is_err());
    }

    #[test]
    fn the_record_file_is_named_after_the_run() {
        assert_eq!(
            record_path(Path::new(".adze/approvals"), "shop-1"),
            PathBuf::from(".adze/approvals/shop-1.json")
        );
    }
}
