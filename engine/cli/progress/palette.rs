//! Colours, applied only when colour is on, so the same code produces plain text otherwise.

use console::Style;

/// Task prefixes cycle through these; green, red and yellow are left to verdicts so a task's
/// colour is never mistaken for its outcome.
const TASK_COLOURS: [fn(Style) -> Style; 6] = [
    Style::cyan,
    Style::magenta,
    Style::blue,
    |s| s.cyan().bright(),
    |s| s.magenta().bright(),
    |s| s.blue().bright(),
];

/// Paints text, or leaves it alone when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Paint {
    /// Whether escape codes are emitted.
    pub color: bool,
}

impl Paint {
    fn apply(self, style: Style, text: &str) -> String {
        if self.color {
            // Forced: whether stderr is a terminal was already decided by the caller.
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    /// A task's name in the `index`-th task colour.
    pub fn task(self, index: usize, text: &str) -> String {
        let colour = TASK_COLOURS[index % TASK_COLOURS.len()];
        self.apply(colour(Style::new()), text)
    }

    /// Success.
    pub fn good(self, text: &str) -> String {
        self.apply(Style::new().green(), text)
    }

    /// Failure.
    pub fn bad(self, text: &str) -> String {
        self.apply(Style::new().red(), text)
    }

    /// Something to notice that is not a failure.
    pub fn warn(self, text: &str) -> String {
        self.apply(Style::new().yellow(), text)
    }

    /// Less important text.
    pub fn dim(self, text: &str) -> String {
        self.apply(Style::new().dim(), text)
    }

    /// Headings.
    pub fn bold(self, text: &str) -> String {
        self.apply(Style::new().bold(), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_colour_is_the_text_itself() {
        let p = Paint { color: false };
        assert_eq!(p.task(3, "build"), "build");
        assert_eq!(p.bad("x"), "x");
    }

    #[test]
    fn colour_wraps_in_escape_codes_and_task_colours_cycle() {
        let p = Paint { color: true };
        assert_eq!(p.good("ok"), "\u{1b}[32mok\u{1b}[0m");
        assert_ne!(p.task(0, "a"), p.task(1, "a"));
        assert_eq!(p.task(0, "a"), p.task(6, "a"));
    }
}
