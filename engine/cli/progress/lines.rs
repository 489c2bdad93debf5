//! The text of every line either renderer prints, so bars and plain output say the same thing.

use std::borrow::Cow;
use std::time::Duration;

use super::duration::format_duration;
use super::palette::Paint;
use crate::reconcile::{CancelCause, PipelineTaskState};
use crate::run::Stream;

/// The symbol in front of a finished task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// ✓
    Succeeded,
    /// ✗ in red.
    Failed,
    /// ✗ in yellow: failed, but `onError: continue` let the pipeline go on.
    Ignored,
    /// ⊘: never ran or was stopped on purpose.
    Skipped,
    /// •: an end the driver should not report (not started, still running).
    Other,
}

impl Mark {
    /// The painted symbol.
    pub fn glyph(self, p: Paint) -> String {
        match self {
            Mark::Succeeded => p.good("✓"),
            Mark::Failed => p.bad("✗"),
            Mark::Ignored => p.warn("✗"),
            Mark::Skipped => p.warn("⊘"),
            Mark::Other => p.dim("•"),
        }
    }
}

/// How a task ended, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Verdict {
    /// The symbol.
    pub mark: Mark,
    /// `succeeded`, `failed (ignored)`, `skipped`, …
    pub text: &'static str,
    /// The reason after a colon (`StepFailed`, the skip reason), if any.
    pub detail: Option<String>,
}

/// How a task ended, from its final state.
pub(super) fn verdict(state: &PipelineTaskState) -> Verdict {
    let (mark, text, detail) = match state {
        PipelineTaskState::Succeeded => (Mark::Succeeded, "succeeded", None),
        PipelineTaskState::Failed { reason, ignored } => (
            if *ignored {
                Mark::Ignored
            } else {
                Mark::Failed
            },
            if *ignored {
                "failed (ignored)"
            } else {
                "failed"
            },
            Some(reason.clone()),
        ),
        PipelineTaskState::Cancelled {
            cause: CancelCause::Cancelled,
        } => (Mark::Skipped, "cancelled", None),
        // A timeout fails the PipelineRun (§4.19), so it is drawn as a failure.
        PipelineTaskState::Cancelled {
            cause: CancelCause::TimedOut,
        } => (Mark::Failed, "cancelled (timed out)", None),
        PipelineTaskState::Skipped { reason } => {
            (Mark::Skipped, "skipped", Some(reason.as_str().to_string()))
        }
        PipelineTaskState::ValidationFailed { message } => {
            (Mark::Failed, "failed validation", Some(message.clone()))
        }
        PipelineTaskState::NotStarted => (Mark::Other, "not started", None),
        PipelineTaskState::Running { .. } => (Mark::Other, "still running", None),
    };
    Verdict {
        mark,
        text,
        detail: detail.filter(|d| !d.is_empty()),
    }
}

/// `▸ build started (3 steps)`; `name` is already painted.
pub(super) fn started(p: Paint, name: &str, finally: bool, steps: usize) -> String {
    let plural = if steps == 1 { "step" } else { "steps" };
    let finally = if finally { "finally, " } else { "" };
    format!("{} {name} started ({finally}{steps} {plural})", p.dim("▸"))
}

/// `✗ test failed in 1.1s: StepFailed`; `name` is already painted.
pub(super) fn finished(
    p: Paint,
    name: &str,
    verdict: &Verdict,
    elapsed: Option<Duration>,
) -> String {
    format!(
        "{} {name} {}",
        verdict.mark.glyph(p),
        verdict_text(verdict, elapsed)
    )
}

/// `failed in 1.1s: StepFailed`: a finished line without its mark and name.
pub(super) fn verdict_text(verdict: &Verdict, elapsed: Option<Duration>) -> String {
    let mut line = verdict.text.to_string();
    if let Some(d) = elapsed {
        line.push_str(" in ");
        line.push_str(&format_duration(d));
    }
    if let Some(detail) = &verdict.detail {
        line.push_str(": ");
        line.push_str(&one_line(detail));
    }
    line
}

/// The TaskRun's condition message under its finished line, indented, one line per line.
pub(super) fn message(p: Paint, message: &str) -> Vec<String> {
    message
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("  {}", p.dim(&clean(l, p.color))))
        .collect()
}

/// `· build/compile started`; `name` is already painted.
pub(super) fn step_started(p: Paint, name: &str, step: &str) -> String {
    format!("{} {name}/{step} started", p.dim("·"))
}

/// `· build/compile exited with code 1`; `name` is already painted.
pub(super) fn step_failed(p: Paint, name: &str, step: &str, code: i32) -> String {
    format!("{} {name}/{step} exited with code {code}", p.dim("·"))
}

/// `[build/compile] text`, the prefix in the task's colour; stderr text is dimmed.
pub(super) fn log(
    p: Paint,
    colour: usize,
    task: &str,
    step: &str,
    stream: Stream,
    text: &str,
) -> String {
    let prefix = p.task(colour, &format!("[{task}/{step}]"));
    let text = clean(text, p.color);
    match stream {
        Stream::Stdout => format!("{prefix} {text}"),
        Stream::Stderr => format!("{prefix} {}", p.dim(&text)),
    }
}

/// `[build] … 12 earlier lines not shown`, where held output was cut.
pub(super) fn dropped(p: Paint, colour: usize, task: &str, count: usize) -> String {
    let prefix = p.task(colour, &format!("[{task}]"));
    let plural = if count == 1 { "line" } else { "lines" };
    format!(
        "{prefix} {}",
        p.dim(&format!("… {count} earlier {plural} not shown"))
    )
}

/// `warning: [build] message` (the task only when known).
pub(super) fn warning(p: Paint, task: Option<&str>, message: &str) -> String {
    let label = p.warn("warning:");
    let message = one_line(message);
    match task {
        Some(task) => format!("{label} [{task}] {message}"),
        None => format!("{label} {message}"),
    }
}

/// What the first and the second Ctrl-C do.
pub(super) fn interrupted(p: Paint, force: bool) -> String {
    let what = if force {
        "killing containers"
    } else {
        "cancelling (press Ctrl-C again to force)"
    };
    format!("{} {what}", p.warn("interrupt:"))
}

/// `⇣ pulling alpine:3.20`.
pub(super) fn pulling(p: Paint, image: &str) -> String {
    format!("{} pulling {image}", p.dim("⇣"))
}

/// `⇣ Downloaded newer image for alpine:3.20`, from the engine's closing `Status:` line.
pub(super) fn pulled(p: Paint, status: &str) -> String {
    format!("{} {}", p.dim("⇣"), one_line(status))
}

/// The closing status of a pull (`Status: Downloaded newer image for …`), if `status` is one.
pub(super) fn pull_done(status: &str) -> Option<&str> {
    status.strip_prefix("Status:").map(str::trim)
}

/// Makes a line safe to print: only what a terminal would leave visible after a carriage
/// return, no control characters, and no escape codes at all when colour is off (a step's own
/// colours are kept when it is on).
pub(super) fn clean(text: &str, color: bool) -> Cow<'_, str> {
    let text = text.trim_end_matches('\r');
    let text = text.rsplit('\r').next().unwrap_or(text);
    let text = if color {
        Cow::Borrowed(text)
    } else {
        console::strip_ansi_codes(text)
    };
    if text
        .chars()
        .any(|c| c.is_control() && c != '\t' && !(color && c == '\u{1b}'))
    {
        Cow::Owned(
            text.chars()
                .filter(|&c| !c.is_control() || c == '\t' || (color && c == '\u{1b}'))
                .collect(),
        )
    } else {
        text
    }
}

/// Text for a single line: newlines and tabs become spaces, controls go.
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\n' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::SkipReason;

    const PLAIN: Paint = Paint { color: false };

    #[test]
    fn verdicts_name_every_state() {
        let failed = |ignored| PipelineTaskState::Failed {
            reason: "StepFailed".to_string(),
            ignored,
        };
        let line = |s: &PipelineTaskState| finished(PLAIN, "t", &verdict(s), None);
        assert_eq!(line(&PipelineTaskState::Succeeded), "✓ t succeeded");
        assert_eq!(line(&failed(false)), "✗ t failed: StepFailed");
        assert_eq!(line(&failed(true)), "✗ t failed (ignored): StepFailed");
        assert_eq!(
            line(&PipelineTaskState::Cancelled {
                cause: CancelCause::Cancelled
            }),
            "⊘ t cancelled"
        );
        assert_eq!(
            line(&PipelineTaskState::Cancelled {
                cause: CancelCause::TimedOut
            }),
            "✗ t cancelled (timed out)"
        );
        assert_eq!(
            line(&PipelineTaskState::Skipped {
                reason: SkipReason::ParentSkipped
            }),
            "⊘ t skipped: Parent Tasks were skipped"
        );
        assert_eq!(
            line(&PipelineTaskState::ValidationFailed {
                message: "no result \"x\"\nfrom a".to_string()
            }),
            "✗ t failed validation: no result \"x\" from a"
        );
        assert_eq!(line(&PipelineTaskState::NotStarted), "• t not started");
    }

    #[test]
    fn an_empty_reason_leaves_no_colon() {
        let v = verdict(&PipelineTaskState::Failed {
            reason: String::new(),
            ignored: false,
        });
        assert_eq!(
            finished(PLAIN, "t", &v, Some(Duration::from_millis(1_100))),
            "✗ t failed in 1.1s"
        );
    }

    #[test]
    fn started_counts_steps() {
        assert_eq!(started(PLAIN, "b", false, 3), "▸ b started (3 steps)");
        assert_eq!(
            started(PLAIN, "c", true, 1),
            "▸ c started (finally, 1 step)"
        );
    }

    #[test]
    fn clean_keeps_what_a_terminal_would_show() {
        assert_eq!(clean("50%\r100%\r", false), "100%");
        assert_eq!(clean("\u{1b}[31mred\u{1b}[0m", false), "red");
        assert_eq!(
            clean("\u{1b}[31mred\u{1b}[0m", true),
            "\u{1b}[31mred\u{1b}[0m"
        );
        assert_eq!(clean("a\u{7}b\tc", false), "ab\tc");
        assert!(matches!(clean("plain", false), Cow::Borrowed(_)));
    }

    #[test]
    fn stderr_lines_are_dimmed_only_with_colour() {
        assert_eq!(log(PLAIN, 0, "b", "s", Stream::Stderr, "x"), "[b/s] x");
        let coloured = log(Paint { color: true }, 0, "b", "s", Stream::Stderr, "x");
        assert!(coloured.ends_with("\u{1b}[2mx\u{1b}[0m"), "{coloured:?}");
    }

    #[test]
    fn pull_done_reads_the_engines_status_line() {
        assert_eq!(
            pull_done("Status: Image is up to date for alpine"),
            Some("Image is up to date for alpine")
        );
        assert_eq!(pull_done("Downloading"), None);
    }
}
