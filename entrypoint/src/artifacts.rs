//! Artifacts (alpha, `enable-artifacts`, §3/§4.3): a step's `provenance.json`
//! (`$(step.artifacts.path)`, under its status directory) and the Task's
//! (`$(artifacts.path)`, `/tekton/artifacts/provenance.json`) are reported in the termination
//! message as types 5 and 6, keyed by their path, as Tekton's entrypoint reports them; and
//! `$(steps.S.inputs.A)` / `$(steps.S.outputs.A)` become the JSON text of artifact `A`'s
//! `values` from an earlier step's file when the step starts.
//!
//! A script step's file (in the read-only scripts volume) is substituted into a copy beside
//! the step's run directory and run from there; Tekton rewrites it in place.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::termination::{Entry, EntryType};

/// A provenance file's name, in a step's `artifacts/` and in the Task's directory.
pub const PROVENANCE: &str = "provenance.json";

/// The step's and the Task's provenance files that exist, as termination entries (the file's
/// text verbatim, keyed by its path).
pub fn entries(step_dir: Option<&Path>, task_dir: &Path) -> Vec<Entry> {
    let step = step_dir.map(|d| {
        (
            d.join("artifacts").join(PROVENANCE),
            EntryType::StepArtifacts,
        )
    });
    let task = Some((task_dir.join(PROVENANCE), EntryType::TaskRunArtifacts));
    step.into_iter()
        .chain(task)
        .filter_map(|(path, kind)| {
            let bytes = fs::read(&path).ok()?;
            Some(Entry {
                key: path.display().to_string(),
                value: String::from_utf8_lossy(&bytes).into_owned(),
                kind,
            })
        })
        .collect()
}

/// `text` with every `$(steps.S.inputs.A)` / `$(steps.S.outputs.A)` whose step declared `A`
/// in `<steps_dir>/step-S/artifacts/provenance.json` replaced by the JSON of its `values`.
pub fn substitute(text: &str, steps_dir: &Path) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("$(steps.") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        match candidate
            .find(')')
            .and_then(|end| Some((end, value(&candidate[2..end], steps_dir)?)))
        {
            Some((end, value)) => {
                out.push_str(&value);
                rest = &candidate[end + 1..];
            }
            None => {
                out.push_str("$(");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of `steps.S.inputs.A` or `steps.S.outputs.A`, if the file declares it.
fn value(reference: &str, steps_dir: &Path) -> Option<String> {
    let mut parts = reference.split('.');
    let (Some("steps"), Some(step), Some(list), Some(name), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if list != "inputs" && list != "outputs" {
        return None;
    }
    let file = steps_dir
        .join(format!("step-{step}"))
        .join("artifacts")
        .join(PROVENANCE);
    let provenance: Value = serde_json::from_str(&fs::read_to_string(file).ok()?).ok()?;
    provenance
        .get(list)?
        .as_array()?
        .iter()
        .find(|a| a.get("name").and_then(Value::as_str) == Some(name))?
        .get("values")
        .map(Value::to_string)
}

/// The script to run instead of `program` when it is a file under `scripts_dir` holding
/// artifact references: a substituted copy written to `copy_dir` (mode 0755). `None` leaves
/// `program` as it is; a copy that cannot be written is reported and `program` kept.
pub fn substituted_script(
    program: &str,
    scripts_dir: &Path,
    steps_dir: &Path,
    copy_dir: &Path,
) -> Option<PathBuf> {
    let path = Path::new(program);
    if !path.starts_with(scripts_dir) {
        return None;
    }
    let text = fs::read_to_string(path).ok()?;
    let substituted = substitute(&text, steps_dir);
    if substituted == text {
        return None;
    }
    let copy = copy_dir.join(path.file_name()?);
    let write = || -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        fs::write(&copy, &substituted)?;
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o755))
    };
    match write() {
        Ok(()) => Some(copy),
        Err(error) => {
            eprintln!(
                "adze-entrypoint: cannot write the script with its artifacts substituted to {}: {error}; running it unsubstituted",
                copy.display()
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVENANCE_JSON: &str = r#"{"inputs":[{"name":"src","values":[{"uri":"git:x"}]}],
        "outputs":[{"name":"image","values":[{"uri":"oci:y","digest":{"sha256":"ab"}}]}]}"#;

    fn steps() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let artifacts = dir.path().join("step-produce/artifacts");
        fs::create_dir_all(&artifacts).unwrap();
        fs::write(artifacts.join(PROVENANCE), PROVENANCE_JSON).unwrap();
        dir
    }

    #[test]
    fn references_become_the_values_json() {
        let dir = steps();
        assert_eq!(
            substitute(
                "in=$(steps.produce.inputs.src) out=$(steps.produce.outputs.image) $(steps.produce.results.r) $(date)",
                dir.path()
            ),
            r#"in=[{"uri":"git:x"}] out=[{"uri":"oci:y","digest":{"sha256":"ab"}}] $(steps.produce.results.r) $(date)"#
        );
        assert_eq!(
            substitute(
                "$(steps.produce.outputs.nope) $(steps.other.inputs.src)",
                dir.path()
            ),
            "$(steps.produce.outputs.nope) $(steps.other.inputs.src)"
        );
    }

    #[test]
    fn provenance_files_are_types_5_and_6_keyed_by_path() {
        let dir = steps();
        let task = tempfile::tempdir().unwrap();
        fs::write(task.path().join(PROVENANCE), "{}").unwrap();
        let step_dir = dir.path().join("step-produce");
        let found = entries(Some(&step_dir), task.path());
        let kinds: Vec<_> = found.iter().map(|e| (e.kind, e.value.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (EntryType::StepArtifacts, PROVENANCE_JSON),
                (EntryType::TaskRunArtifacts, "{}")
            ]
        );
        assert!(found[0]
            .key
            .ends_with("step-produce/artifacts/provenance.json"));
        assert!(entries(None, &dir.path().join("none")).is_empty());
    }

    #[test]
    fn a_script_with_references_runs_from_a_substituted_copy() {
        let dir = steps();
        let scripts = tempfile::tempdir().unwrap();
        let copy_dir = tempfile::tempdir().unwrap();
        let script = scripts.path().join("script-1-use");
        fs::write(
            &script,
            "#!/bin/sh\necho '$(steps.produce.outputs.image)'\n",
        )
        .unwrap();
        let plain = scripts.path().join("script-2-plain");
        fs::write(&plain, "#!/bin/sh\necho hi\n").unwrap();
        let program = script.display().to_string();
        let copy = substituted_script(&program, scripts.path(), dir.path(), copy_dir.path())
            .expect("a copy");
        assert_eq!(
            fs::read_to_string(copy).unwrap(),
            "#!/bin/sh\necho '[{\"uri\":\"oci:y\",\"digest\":{\"sha256\":\"ab\"}}]'\n"
        );
        let plain = plain.display().to_string();
        assert_eq!(
            substituted_script(&plain, scripts.path(), dir.path(), copy_dir.path()),
            None
        );
    }
}
