//! Diagnostics as rustc-style snippets (coloured on a terminal) or as JSON.

use codespan_reporting::diagnostic::{Diagnostic as Snippet, Label, Severity as SnippetSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::WriteColor, Config};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::load::Bundle;

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

/// Writes diagnostics as snippets; colour is decided by the writer.
pub fn emit(
    bundle: &Bundle,
    diags: &[Diagnostic],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let files = files(bundle);
    let config = Config::default();
    for d in diags {
        term::emit_to_write_style(out, &config, &files, &snippet(bundle, d))
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Renders diagnostics as plain text (what snapshot tests compare).
pub fn to_text(bundle: &Bundle, diags: &[Diagnostic]) -> String {
    let files = files(bundle);
    let config = Config::default();
    diags
        .iter()
        .map(|d| term::emit_into_string(&config, &files, &snippet(bundle, d)).unwrap_or_default())
        .collect()
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
}

impl Summary {
    /// Counts diagnostics.
    pub fn of(objects: usize, diags: &[Diagnostic]) -> Summary {
        Summary {
            objects,
            errors: diags.iter().filter(|d| d.is_error()).count(),
            warnings: diags.iter().filter(|d| !d.is_error()).count(),
        }
    }

    /// One line for a person: `2 errors, 1 warning in 3 objects`.
    pub fn line(&self) -> String {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        if self.errors == 0 && self.warnings == 0 {
            return format!("{} valid", plural(self.objects, "object"));
        }
        format!(
            "{}, {} in {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
            plural(self.objects, "object")
        )
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
