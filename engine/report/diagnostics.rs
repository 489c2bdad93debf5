//! Diagnostics as rustc-style snippets (coloured on a terminal), repeated warnings counted
//! rather than listed ([`grouping`]), or as JSON (always everything).

use codespan_reporting::diagnostic::{Diagnostic as Snippet, Label, Severity as SnippetSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::termcolor::{Color, ColorSpec, NoColor, WriteColor};
use codespan_reporting::term::{self, Config};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::load::Bundle;
use crate::report::grouping::{self, thousands, Entry};

/// Sorts diagnostics by file, line and column, errors before warnings at one spot.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location
                .as_ref()
                .map(|l| (l.file, l.line, l.column))
                .unwrap_or((usize::MAX, 0, 0))
        };
        key(a).cmp(&key(b)).then(a.severity.cmp(&b.severity))
    });
}

fn files(bundle: &Bundle) -> SimpleFiles<&str, &str> {
    let mut files = SimpleFiles::new();
    for f in &bundle.files {
        files.add(f.name.as_str(), f.text.as_str());
    }
    files
}

/// Byte range of a location in its file.
fn span_of(
    file: &crate::load::source::SourceFile,
    loc: &crate::diagnostic::Location,
) -> (usize, usize) {
    let at = |col| {
        file.offset(crate::load::yaml::Pos {
            line: loc.line,
            col,
        })
    };
    let start = at(loc.column);
    (start, at(loc.column + loc.len).max(start))
}

fn snippet(bundle: &Bundle, d: &Diagnostic) -> Snippet<usize> {
    let severity = match d.severity {
        Severity::Error => SnippetSeverity::Error,
        Severity::Warning => SnippetSeverity::Warning,
    };
    let mut s = Snippet::new(severity)
        .with_code(d.code)
        .with_message(&d.message);
    if let Some(loc) = &d.location {
        if let Some(file) = bundle.files.get(loc.file) {
            let (start, end) = span_of(file, loc);
            let label = match (&d.field, &d.object) {
                (Some(f), Some(o)) if !f.is_empty() => format!("{f} in {o}"),
                (_, Some(o)) => o.clone(),
                (Some(f), None) => f.clone(),
                (None, None) => String::new(),
            };
            let mut labels = vec![Label::primary(loc.file, start..end).with_message(label)];
            if let Some(r) = &d.related {
                if let Some(rl) = r.location.as_ref().filter(|rl| rl.file == loc.file) {
                    let (a, b) = span_of(file, rl);
                    labels.push(Label::secondary(rl.file, a..b).with_message(&r.message));
                }
            }
            s = s.with_labels(labels);
        }
    }
    if let Some(h) = &d.hint {
        s = s.with_notes(vec![format!("help: {h}")]);
    }
    s
}

/// Writes diagnostics as snippets, errors and the first `per_code` warnings of each rule code
/// in full and the other warnings as one count line per code ([`grouping`]; `usize::MAX`
/// lists everything). Colour is decided by the writer. Returns how many warnings were left
/// out, for the summary line.
pub fn emit(
    bundle: &Bundle,
    diags: &[Diagnostic],
    per_code: usize,
    out: &mut dyn WriteColor,
) -> std::io::Result<usize> {
    let files = files(bundle);
    let config = Config::default();
    let listing = grouping::group(diags, per_code);
    for entry in &listing.entries {
        match *entry {
            Entry::Listed(d) => {
                term::emit_to_write_style(out, &config, &files, &snippet(bundle, d))
                    .map_err(std::io::Error::other)?
            }
            Entry::More { code, count } => {
                out.set_color(ColorSpec::new().set_fg(Some(Color::Yellow)))?;
                out.write_all(grouping::more_line(code, count).as_bytes())?;
                out.reset()?;
                out.write_all(b"\n\n")?;
            }
        }
    }
    Ok(listing.hidden)
}

/// Renders every diagnostic as plain text (what fuzzing and snapshot tests compare).
pub fn to_text(bundle: &Bundle, diags: &[Diagnostic]) -> String {
    to_text_grouped(bundle, diags, usize::MAX)
}

/// Renders diagnostics as plain text the way `emit` groups them.
pub fn to_text_grouped(bundle: &Bundle, diags: &[Diagnostic], per_code: usize) -> String {
    let mut out = NoColor::new(Vec::new());
    // Writing into memory cannot fail; a rendering error leaves what was rendered so far.
    let _ = emit(bundle, diags, per_code, &mut out);
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// Counts for the closing line.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Objects checked.
    pub objects: usize,
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Warnings counted but not listed (text output without `--all-warnings`); JSON output
    /// lists everything, so it never carries this.
    #[serde(skip)]
    pub hidden: usize,
}

impl Summary {
    /// Counts diagnostics.
    pub fn of(objects: usize, diags: &[Diagnostic]) -> Summary {
        Summary {
            objects,
            errors: diags.iter().filter(|d| d.is_error()).count(),
            warnings: diags.iter().filter(|d| !d.is_error()).count(),
            hidden: 0,
        }
    }

    /// The same counts, noting that `hidden` warnings were not listed.
    pub fn with_hidden(self, hidden: usize) -> Summary {
        Summary { hidden, ..self }
    }

    /// One line for a person: `2 errors, 1 warning in 3 objects`, and how many warnings
    /// were not listed when some were not.
    pub fn line(&self) -> String {
        let plural =
            |n: usize, w: &str| format!("{} {w}{}", thousands(n), if n == 1 { "" } else { "s" });
        if self.errors == 0 && self.warnings == 0 {
            return format!("{} valid", plural(self.objects, "object"));
        }
        let mut line = format!(
            "{}, {} in {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
            plural(self.objects, "object")
        );
        if self.hidden > 0 {
            line.push_str(&format!(
                "; {} not listed (--all-warnings lists them)",
                plural(self.hidden, "warning")
            ));
        }
        line
    }
}

/// The `-o json` document of `adze validate`.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// True when no error was found.
    pub valid: bool,
    /// Counts.
    pub summary: Summary,
    /// Every finding.
    pub diagnostics: &'a [Diagnostic],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;
    use crate::validate::{validate, Flags};

    /// A Task pasting five params into its script (five `security/script-injection`
    /// warnings), one with an undeclared param (an error), and a remote resolver (another
    /// rule's warning).
    const TASK: &str = "\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: paste
spec:
  params:
  - name: a
  - name: b
  - name: c
  - name: d
  - name: e
  steps:
  - name: echo
    image: busybox
    script: |
      echo $(params.a) $(params.b) $(params.c)
      echo $(params.d) $(params.e) $(params.f)
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: remote
spec:
  taskRef:
    resolver: git
";

    fn diagnostics() -> (Bundle, Vec<Diagnostic>) {
        let mut bundle = Bundle::new();
        bundle.add_source("paste.yaml", TASK.to_string(), Origin::Input);
        let mut diags = bundle.diagnostics.clone();
        diags.extend(validate(&bundle, &Flags::default()));
        sort(&mut diags);
        (bundle, diags)
    }

    #[test]
    fn grouped_text_lists_errors_and_the_first_warnings_of_each_code() {
        let (bundle, diags) = diagnostics();
        let codes: Vec<_> = diags.iter().map(|d| (d.severity, d.code)).collect();
        assert!(
            codes
                .iter()
                .filter(|c| **c == (Severity::Warning, "security/script-injection"))
                .count()
                == 5
                && codes.iter().any(|(s, _)| *s == Severity::Error)
                && codes.contains(&(Severity::Warning, "refs/remote-resolver")),
            "the fixture no longer produces what this test is about: {codes:?}"
        );
        let text = to_text_grouped(&bundle, &diags, grouping::SHOWN_PER_CODE);
        let summary = Summary::of(2, &diags).with_hidden(2);
        insta::assert_snapshot!("grouped", format!("{text}invalid: {}\n", summary.line()));
    }

    #[test]
    fn without_a_limit_every_warning_is_listed() {
        let (bundle, diags) = diagnostics();
        let text = to_text(&bundle, &diags);
        assert_eq!(
            text.matches("warning[security/script-injection]").count(),
            5
        );
        assert!(!text.contains("more like this"), "{text}");
    }

    #[test]
    fn summary_counts_warnings_not_listed() {
        let summary = Summary {
            objects: 2,
            errors: 0,
            warnings: 29_993,
            hidden: 29_984,
        };
        assert_eq!(
            summary.line(),
            "0 errors, 29,993 warnings in 2 objects; 29,984 warnings not listed (--all-warnings lists them)"
        );
        assert_eq!(
            summary.with_hidden(0).line(),
            "0 errors, 29,993 warnings in 2 objects"
        );
    }
}
