//! Every upstream Tekton example must pass `adze validate` and `adze plan` unchanged.
//!
//! The examples stay outside the repository; the folder comes from `ADZE_TEKTON_EXAMPLES`
//! (default `../shared/examples/tekton`). Under CI (`CI=true`) a missing folder fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::{examples_dir, yaml_files};

fn adze(args: &[&str], file: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_adze"))
        .args(args)
        .arg("--color")
        .arg("never")
        .arg(file)
        .output()
        .expect("adze runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.code() == Some(0), text)
}

#[test]
fn upstream_examples_validate_and_plan() {
    let Some(dir) = examples_dir() else { return };
    let files = yaml_files(&dir);
    assert!(
        files.len() >= 50,
        "expected the upstream examples, found {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        for cmd in ["validate", "plan"] {
            let (ok, output) = adze(&[cmd], file);
            if !ok {
                failures.push(format!("adze {cmd} {}:\n{output}", file.display()));
            }
        }
        let (_, output) = adze(&["plan", "-o", "json"], file);
        let json = output
            .lines()
            .skip_while(|l| !l.starts_with(['{', '[']))
            .collect::<Vec<_>>()
            .join("\n");
        if serde_json::from_str::<serde_json::Value>(&json).is_err() {
            failures.push(format!(
                "adze plan -o json {}: not JSON:\n{output}",
                file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The field-coverage check refuses nothing the upstream examples use (they all run), and
/// what it warns about is listed here so a change in the table shows up in review.
#[test]
fn upstream_examples_use_no_field_adze_run_refuses() {
    use adze::compat::check::check_run;
    use adze::load::{Bundle, Origin};

    let Some(dir) = examples_dir() else { return };
    let mut refused = Vec::new();
    let mut warned = std::collections::BTreeSet::new();
    for file in yaml_files(&dir) {
        let mut bundle = Bundle::new();
        bundle
            .load_path(&file, Origin::Input)
            .expect("readable example");
        for run in adze::plan::runs(&bundle) {
            for d in check_run(&bundle, &run.object, false) {
                let line = format!("{}: {} ({:?})", file.display(), d.message, d.field);
                if d.is_error() {
                    refused.push(line);
                } else {
                    warned.insert(format!("{} {}", d.code, d.message));
                }
            }
        }
    }
    assert!(
        refused.is_empty(),
        "refused in upstream examples:\n{}",
        refused.join("\n")
    );
    eprintln!("warnings seen in the upstream examples: {warned:#?}");
}
