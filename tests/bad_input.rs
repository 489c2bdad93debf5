//! The bad-input corpus: every file in `tests/bad-input/` holds one realistic Tekton
//! document with exactly one mistake, and `adze validate` must reject it with a located,
//! helpful diagnostic.
//!
//! Files are named `NN-family-what.yaml`; `family` is the rule family (the part of the
//! diagnostic code before `/`, e.g. `names` for `names/dns-label`) the mistake belongs to,
//! so a file that stops triggering its rule fails here rather than silently passing.
//!
//! The rendered diagnostics are snapshot-tested (one snapshot per file), so a reviewer sees
//! exactly what a user would see. Regenerate with
//! `INSTA_UPDATE=always cargo test --test bad_input` and read every changed snapshot.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Every corpus file is invalid: exit status 2.
fn check_status(file: &str, code: Option<i32>, output: &str) {
    assert_eq!(
        code,
        Some(2),
        "{file}: expected exit status 2 (invalid); output:\n{output}"
    );
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input")
}

/// Corpus file names, sorted.
fn corpus() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("tests/bad-input exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 45,
        "the corpus shrank to {} files",
        names.len()
    );
    names
}

/// `family` of `NN-family-what.yaml`.
fn family(file: &str) -> &str {
    let mut parts = file.splitn(3, '-');
    let number = parts.next().unwrap_or_default();
    assert!(
        number.len() == 2 && number.bytes().all(|b| b.is_ascii_digit()),
        "{file}: corpus files are named NN-family-what.yaml"
    );
    parts
        .next()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| panic!("{file}: no family in the name"))
}

/// Runs the real binary from the corpus folder, so paths in its output are relative.
fn adze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_adze"))
        .args(args)
        .current_dir(corpus_dir())
        .output()
        .expect("adze runs")
}

/// Runs `check` on every corpus file and reports every file that failed, not just the first.
fn for_each_file(check: impl Fn(&str)) {
    let mut failed = Vec::new();
    for file in corpus() {
        if catch_unwind(AssertUnwindSafe(|| check(&file))).is_err() {
            failed.push(file);
        }
    }
    assert!(
        failed.is_empty(),
        "{} corpus file(s) failed:\n  {}",
        failed.len(),
        failed.join("\n  ")
    );
}

#[test]
fn bad_input_is_rejected_with_located_diagnostics() {
    for_each_file(|file| {
        let out = adze(&["validate", "--color", "never", file]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("panicked"),
            "{file}: adze panicked:\n{stderr}"
        );
        check_status(file, out.status.code(), &stderr);
        let name = file.trim_end_matches(".yaml");
        insta::assert_snapshot!(name, stderr);
    });
}

#[test]
fn bad_input_json_report_names_the_rule_family() {
    for_each_file(|file| {
        let out = adze(&["validate", "-o", "json", file]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{file}: adze panicked:\n{stderr}"
        );
        check_status(file, out.status.code(), &stdout);
        let report: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{file}: -o json is not JSON ({e}):\n{stdout}"));
        assert_eq!(
            report["valid"],
            Value::Bool(false),
            "{file}: report says valid:\n{stdout}"
        );
        let diagnostics = report["diagnostics"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no diagnostics list"));
        let errors: Vec<&Value> = diagnostics
            .iter()
            .filter(|d| d["severity"] == "error")
            .collect();
        assert!(
            !errors.is_empty(),
            "{file}: invalid but no error diagnostic:\n{stdout}"
        );
        for d in &errors {
            let location = &d["location"];
            let line = location["line"].as_u64().unwrap_or(0);
            let column = location["column"].as_u64().unwrap_or(0);
            assert!(
                line >= 1 && column >= 1,
                "{file}: error without a usable location: {d}"
            );
            assert_eq!(
                location["path"],
                Value::String(file.to_string()),
                "{file}: error located in another file: {d}"
            );
        }
        let want = family(file);
        let codes: Vec<&str> = errors.iter().filter_map(|d| d["code"].as_str()).collect();
        assert!(
            codes.iter().any(|c| c.split('/').next() == Some(want)),
            "{file}: expected an error in rule family `{want}/`, got {codes:?}"
        );
    });
}
