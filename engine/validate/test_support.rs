//! Loading YAML and finding diagnostics, shared by the validator's tests.

use crate::diagnostic::{Diagnostic, Severity};
use crate::load::{Bundle, Origin};
use crate::validate::{validate, Flags};

/// Loads `yaml` as one input file and validates it with `flags`.
pub fn check_with(yaml: &str, flags: &Flags) -> Vec<Diagnostic> {
    let mut b = Bundle::new();
    b.add_source("t.yaml", yaml.to_string(), Origin::Input);
    let load_errors: Vec<_> = b.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(load_errors.is_empty(), "load errors: {load_errors:#?}");
    validate(&b, flags)
}

/// Loads and validates with default flags.
pub fn check(yaml: &str) -> Vec<Diagnostic> {
    check_with(yaml, &Flags::default())
}

/// The only diagnostic with `code`; panics with all diagnostics otherwise.
#[track_caller]
pub fn only<'d>(diags: &'d [Diagnostic], code: &str) -> &'d Diagnostic {
    let found: Vec<_> = diags.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one {code}, got: {diags:#?}");
    found[0]
}

/// Field path, line and column of a diagnostic.
pub fn at(d: &Diagnostic) -> (&str, u32, u32) {
    let loc = d.location.as_ref().expect("located");
    (d.field.as_deref().unwrap_or(""), loc.line, loc.column)
}

/// Asserts that no diagnostic is an error.
#[track_caller]
pub fn assert_no_errors(diags: &[Diagnostic]) {
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
}

/// Asserts that no diagnostic has `code`.
#[track_caller]
pub fn assert_none(diags: &[Diagnostic], code: &str) {
    let found: Vec<_> = diags.iter().filter(|d| d.code == code).collect();
    assert!(found.is_empty(), "unexpected {code}: {found:#?}");
}

/// The upstream Tekton examples: `ADZE_TEKTON_EXAMPLES`, else `../shared/examples/tekton`
/// next to the crate; `None` when absent (a failure under `CI=true`).
pub fn examples_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("ADZE_TEKTON_EXAMPLES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/examples/tekton")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is missing",
        dir.display()
    );
    None
}

/// Every `.yaml`/`.yml` file under `dir`, sorted.
pub fn yaml_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("readable folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A Task document named `t` whose `spec:` is `spec` (indented by the caller).
pub fn task_with_spec(spec: &str) -> String {
    format!("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {{name: t}}\nspec:\n{spec}")
}
