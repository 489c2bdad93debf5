//! Where reports for people go: one buffered, coloured writer on stderr per report.
//!
//! # Why
//!
//! stderr is unbuffered and the snippet renderer writes a diagnostic in dozens of fragments,
//! so 30,000 warnings written straight to it were four million `write` calls and most of the
//! time `adze plan` took. A report (diagnostics, then its closing line) is rendered into one
//! buffer that reaches the stream in large writes.
//!
//! # Invariants
//!
//! - A [`Report`] holds the stderr lock until it is dropped: other threads' output (a panic
//!   message, progress) cannot interleave with it. Keep one for one report only; never
//!   across a run, where the progress thread writes to stderr.
//! - Dropping a [`Report`] flushes it (the buffer's own drop); a closed stderr is ignored,
//!   as the command's outcome is its exit status.

use std::io::{self, BufWriter, IsTerminal, Write};

use codespan_reporting::term::termcolor::{Ansi, ColorSpec, NoColor, WriteColor};

/// Big enough that a typical report is one `write`, and thousands of snippets are a few
/// hundred.
const BUFFER: usize = 64 * 1024;

/// Whether `--color WHEN` (auto, always, never) means colour on stderr: for `auto`, only on
/// a terminal, without `NO_COLOR`, and not on a `TERM=dumb` one.
pub fn color(when: &str) -> bool {
    match when {
        "always" => true,
        "never" => false,
        _ => {
            io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// A buffered writer on locked stderr, with or without colour escapes.
pub struct Report {
    out: Box<dyn WriteColor>,
}

impl Report {
    /// A report on stderr; `color` decides whether colour escapes are written.
    pub fn stderr(color: bool) -> Report {
        let buffered = BufWriter::with_capacity(BUFFER, io::stderr().lock());
        let out: Box<dyn WriteColor> = if color {
            Box::new(Ansi::new(buffered))
        } else {
            Box::new(NoColor::new(buffered))
        };
        Report { out }
    }

    /// Writes one line.
    pub fn line(&mut self, text: &str) {
        // A closed stderr is no reason to fail the command: its outcome is the exit status.
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.write_all(b"\n");
    }
}

impl Write for Report {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl WriteColor for Report {
    fn supports_color(&self) -> bool {
        self.out.supports_color()
    }

    fn set_color(&mut self, spec: &ColorSpec) -> io::Result<()> {
        self.out.set_color(spec)
    }

    fn reset(&mut self) -> io::Result<()> {
        self.out.reset()
    }
}

/// Prints an object on stdout as YAML (`yaml`) or JSON (`json`).
pub fn print_object(format: &str, value: &serde_json::Value) {
    let text = match format {
        "json" => serde_json::to_string_pretty(value).map(|s| s + "\n"),
        _ => serde_yaml_ng::to_string(value)
            .map_err(|e| serde_json::Error::io(std::io::Error::other(e))),
    };
    match text {
        Ok(t) => print!("{t}"),
        Err(e) => eprintln!("error: cannot render the object: {e}"),
    }
}

/// Writes generated text (a completion script, a man page) to stdout; a closed stdout is an
/// error message and exit 3, not a panic.
pub fn print_bytes(bytes: &[u8]) -> super::Outcome {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => super::Outcome::Success,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            super::Outcome::Infrastructure
        }
    }
}
