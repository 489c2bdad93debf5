//! The table printed when a run ends: one row per task, fitting the terminal.

use std::time::Duration;

use console::{measure_text_width, truncate_str};

use super::duration::format_duration;
use super::lines::{one_line, verdict, Mark};
use super::palette::Paint;
use crate::reconcile::PipelineTaskState;

/// Space between columns.
const GAP: &str = "  ";
/// The reason column never shrinks below its heading.
const MIN_REASON: usize = "REASON".len();
/// When even that does not fit, task names shrink, but not below this.
const MIN_TASK: usize = 8;

/// One task's line in the summary table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SummaryRow {
    /// The pipeline task (or TaskRun) name.
    pub task: String,
    /// `Succeeded`, `Failed`, `Skipped`, … (coloured by its first word).
    pub status: String,
    /// Why, when it did not succeed; may be empty.
    pub reason: String,
    /// How long it ran, when it ran.
    pub duration: Option<Duration>,
}

impl SummaryRow {
    /// A row from a task's final state and its TaskRun's condition message.
    pub(crate) fn from_state(
        task: &str,
        state: &PipelineTaskState,
        message: &str,
        duration: Option<Duration>,
    ) -> SummaryRow {
        let v = verdict(state);
        let mut status = v.text.to_string();
        if let Some(first) = status.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let reason = match (v.detail, message.trim()) {
            (Some(d), "") => d,
            (Some(d), m) if d == m => d,
            (Some(d), m) => format!("{d}: {m}"),
            (None, m) => m.to_string(),
        };
        SummaryRow {
            task: task.to_string(),
            status,
            reason,
            duration,
        }
    }
}

/// A one-screen table (task, status, reason, duration) fitting `width` columns (truncate long
/// reasons with …), coloured status when `color`. Every line ends with a newline.
pub(crate) fn summary_table(rows: &[SummaryRow], width: usize, color: bool) -> String {
    let p = Paint { color };
    let header = ["TASK", "STATUS", "REASON", "DURATION"].map(str::to_string);
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                one_line(&r.task),
                one_line(&r.status),
                one_line(&r.reason),
                r.duration.map_or_else(|| "-".to_string(), format_duration),
            ]
        })
        .collect();
    let natural = |i: usize| {
        cells
            .iter()
            .chain(std::iter::once(&header))
            .map(|c| measure_text_width(&c[i]))
            .max()
            .unwrap_or(0)
    };
    let (mut task_w, status_w, reason_nat, duration_w) =
        (natural(0), natural(1), natural(2), natural(3));

    // The reason takes what is left; if not even its heading fits, task names give way.
    let fixed = task_w + status_w + duration_w + 3 * GAP.len();
    let reason_w = reason_nat.min(width.saturating_sub(fixed)).max(MIN_REASON);
    let total = fixed + reason_w;
    if total > width {
        task_w = task_w
            .saturating_sub(total - width)
            .max(MIN_TASK.min(task_w));
    }

    let mut out = String::new();
    let mut row = |cells: &[String; 4], status: String, heading: bool| {
        let task = truncate_str(&cells[0], task_w, "…");
        let reason = truncate_str(&cells[2], reason_w, "…");
        let paint = |s: &str| if heading { p.bold(s) } else { s.to_string() };
        let line = [
            pad(&paint(&task), task_w, &task),
            pad(&status, status_w, &cells[1]),
            pad(&paint(&reason), reason_w, &reason),
            format!(
                "{}{}",
                " ".repeat(duration_w.saturating_sub(measure_text_width(&cells[3]))),
                paint(&cells[3])
            ),
        ]
        .join(GAP);
        out.push_str(&line);
        out.push('\n');
    };
    row(&header, p.bold(&header[1]), true);
    for c in &cells {
        row(c, status(p, &c[1]), false);
    }
    out
}

/// `painted` followed by enough spaces to fill `width`, measured on the unpainted `raw`.
fn pad(painted: &str, width: usize, raw: &str) -> String {
    let fill = width.saturating_sub(measure_text_width(raw));
    format!("{painted}{}", " ".repeat(fill))
}

/// The status painted by its meaning; the words are the caller's, so this reads them.
fn status(p: Paint, status: &str) -> String {
    let lower = status.to_ascii_lowercase();
    let mark = if lower.contains("ignored") {
        Mark::Ignored
    } else if lower.starts_with("succeeded") {
        Mark::Succeeded
    } else if lower.starts_with("failed") || lower.contains("timed out") {
        Mark::Failed
    } else if lower.starts_with("cancelled") || lower.starts_with("skipped") {
        Mark::Skipped
    } else {
        return status.to_string();
    };
    match mark {
        Mark::Succeeded => p.good(status),
        Mark::Failed => p.bad(status),
        _ => p.warn(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::{CancelCause, SkipReason};

    fn rows() -> Vec<SummaryRow> {
        vec![
            SummaryRow::from_state(
                "build",
                &PipelineTaskState::Succeeded,
                "",
                Some(Duration::from_millis(3_200)),
            ),
            SummaryRow::from_state(
                "unit-tests",
                &PipelineTaskState::Failed {
                    reason: "StepFailed".to_string(),
                    ignored: false,
                },
                "\"step-test\" exited with code 1",
                Some(Duration::from_millis(64_000)),
            ),
            SummaryRow::from_state(
                "lint",
                &PipelineTaskState::Failed {
                    reason: "StepFailed".to_string(),
                    ignored: true,
                },
                "",
                Some(Duration::from_millis(850)),
            ),
            SummaryRow::from_state(
                "deploy",
                &PipelineTaskState::Skipped {
                    reason: SkipReason::WhenFalse,
                },
                "",
                None,
            ),
            SummaryRow::from_state(
                "cleanup",
                &PipelineTaskState::Cancelled {
                    cause: CancelCause::Cancelled,
                },
                "TaskRun cancelled as the PipelineRun it belongs to has been cancelled.",
                Some(Duration::from_secs(3_720)),
            ),
        ]
    }

    fn widest(table: &str) -> usize {
        table.lines().map(measure_text_width).max().unwrap_or(0)
    }

    #[test]
    fn wide_terminal_shows_everything() {
        let table = summary_table(&rows(), 200, false);
        insta::assert_snapshot!("summary_wide", table);
    }

    #[test]
    fn narrow_terminal_truncates_reasons() {
        let table = summary_table(&rows(), 60, false);
        insta::assert_snapshot!("summary_narrow", table);
        assert_eq!(widest(&table), 60);
    }

    #[test]
    fn very_narrow_terminal_shrinks_task_names_then_overflows() {
        let mut rows = rows();
        rows[0].task = "a-very-long-pipeline-task-name".to_string();
        let table = summary_table(&rows, 50, false);
        assert_eq!(widest(&table), 50, "{table}");
        assert!(table.contains("a-very-long-p…  Succeeded"), "{table}");
        // Nothing fits in 10 columns; the table still comes out whole, just wider.
        let tiny = summary_table(&rows, 10, false);
        assert_eq!(tiny.lines().count(), rows.len() + 1);
    }

    #[test]
    fn no_colour_means_no_escape_codes_and_colour_paints_status() {
        assert!(!summary_table(&rows(), 80, false).contains('\u{1b}'));
        let coloured = summary_table(&rows(), 80, true);
        assert!(
            coloured.contains("\u{1b}[32mSucceeded\u{1b}[0m"),
            "{coloured}"
        );
        assert!(coloured.contains("\u{1b}[31mFailed\u{1b}[0m"), "{coloured}");
        // Colour changes no visible width.
        assert_eq!(
            widest(&console::strip_ansi_codes(&coloured)),
            widest(&summary_table(&rows(), 80, false))
        );
    }

    #[test]
    fn an_empty_run_is_just_the_heading() {
        assert_eq!(
            summary_table(&[], 80, false),
            "TASK  STATUS  REASON  DURATION\n"
        );
    }

    #[test]
    fn from_state_does_not_repeat_a_message_equal_to_the_reason() {
        let row = SummaryRow::from_state(
            "t",
            &PipelineTaskState::ValidationFailed {
                message: "bad ref".to_string(),
            },
            "bad ref",
            None,
        );
        assert_eq!(row.status, "Failed validation");
        assert_eq!(row.reason, "bad ref");
    }
}
