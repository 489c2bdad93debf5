//! Regression tests for every input the cargo-fuzz targets (`fuzz/`, see `fuzz/README.md`)
//! crashed on. Each input is kept as a file under `tests/fuzz-regressions/<target>/` and fed
//! through the same code path as its fuzz target, so the crash stays fixed; the named tests
//! below also check that the result is sensible, not merely that nothing panics.
//!
//! To add a crash: copy the minimized input (`cargo fuzz tmin`) to
//! `tests/fuzz-regressions/<target>/<short-name>`, fix the bug, and add a named test saying
//! what the input should produce.

use std::path::{Path, PathBuf};

use adze::diagnostic::Diagnostic;
use adze::load::{Bundle, Origin};
use adze::report::diagnostics::to_text;
use adze::subst::{scan, splice_array, substitute, Var};
use adze::validate::{validate, Flags};

/// What the `load` fuzz target does with one input.
struct Loaded {
    bundle: Bundle,
    /// Load-time and validation diagnostics together.
    diagnostics: Vec<Diagnostic>,
    /// Every diagnostic rendered as text.
    rendered: String,
}

/// The `load` fuzz target's code path: load, validate, render every diagnostic.
fn load(data: &[u8]) -> Option<Loaded> {
    let text = std::str::from_utf8(data).ok()?;
    let mut bundle = Bundle::new();
    bundle.add_source("fuzz.yaml", text.to_string(), Origin::Input);
    let validated = validate(&bundle, &Flags::default());
    let mut rendered = to_text(&bundle, &bundle.diagnostics);
    rendered.push_str(&to_text(&bundle, &validated));
    let mut diagnostics = bundle.diagnostics.clone();
    diagnostics.extend(validated);
    Some(Loaded {
        bundle,
        diagnostics,
        rendered,
    })
}

/// The `subst` fuzz target's code path and invariants.
fn subst(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_scan(text);
    assert_eq!(substitute(text, |_| None), text);
    let canonical = substitute(text, |var| Some(format!("$({var})")));
    check_scan(&canonical);
    let items: Vec<String> = text.split('\n').map(String::from).collect();
    let spliced = splice_array(&items, elements, |var| Some(var.to_string()));
    assert!(spliced.len() <= items.len() * 2);
}

fn check_scan(text: &str) {
    let found = scan(text);
    let mut last_end = 0;
    for reference in &found.refs {
        assert!(reference.span.start >= last_end);
        assert_eq!(
            &text[reference.span.clone()],
            format!("$({})", reference.text)
        );
        last_end = reference.span.end;
    }
    for error in &found.errors {
        assert!(!error.span.is_empty());
        assert!(text.get(error.span.clone()).is_some());
    }
}

fn elements(var: &Var) -> Option<Vec<String>> {
    Some(vec![var.to_string(), String::new()])
}

/// The saved crash inputs of one target, sorted by name.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).expect("readable crash input");
            (p, data)
        })
        .collect()
}

/// One saved input by name.
fn input(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn codes(loaded: &Loaded) -> Vec<&'static str> {
    loaded.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn every_saved_load_input_loads_without_panicking() {
    let saved = inputs("load");
    assert!(!saved.is_empty(), "tests/fuzz-regressions/load is empty");
    for (path, data) in saved {
        let outcome = std::panic::catch_unwind(|| load(&data).map(|l| l.rendered.len()));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

#[test]
fn every_saved_subst_input_keeps_the_invariants() {
    for (path, data) in inputs("subst") {
        let outcome = std::panic::catch_unwind(|| subst(&data));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

/// `0x-8000000000000000`: `from_str_radix` took the `-` as the number's own sign, and the
/// plain scalar's negation (`-0x-…` = -i64::MIN) overflowed. A hex or octal body with a sign
/// is not an integer in the core schema, so the scalar is a string.
#[test]
fn signed_hex_digits_are_a_string_not_an_overflow() {
    let loaded = load(&input("load", "hex-int-min-negated")).expect("UTF-8 input");
    assert!(
        loaded.bundle.objects.is_empty(),
        "the Pipeline has a type error"
    );
    let Some(resource) = loaded.bundle.resources.first() else {
        panic!("the ConfigMap is kept: {:?}", codes(&loaded));
    };
    assert_eq!(resource.value["data"]["a"], "-0x-8000000000000000");
    assert_eq!(resource.value["data"]["b"], "0x+10");
    assert_eq!(resource.value["data"]["c"], "0o-7");
    assert_eq!(resource.value["data"]["d"], -16);
    // In a typed field the string is a type error, reported and rendered.
    assert_eq!(codes(&loaded), ["schema/type"]);
    assert!(loaded.rendered.contains("retries"), "{}", loaded.rendered);
}
