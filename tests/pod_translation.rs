//! The objects `adze::exec::kubernetes::translate` makes from the TaskRuns of
//! `tests/pod-translation/` pass `kubernetes-validate --strict` (PyPI, offline schemas), the
//! check the API server's schema would make. A missing validator fails the test: install it
//! with `bash tests/setup-validator.sh` (tests/run-all.sh does).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use adze::api::Object;
use adze::exec::kubernetes::{translate, ImageCommand, PodObjects, PodOptions};
use adze::load::{Bundle, Origin};
use adze::run::{RunIdentity, TaskRunDriver, TaskRunRequest};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pod-translation")
}

fn request(path: &Path) -> TaskRunRequest {
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut bundle = Bundle::new();
    bundle.add_source(&path.display().to_string(), text, Origin::Input);
    assert!(bundle.diagnostics.is_empty(), "{:?}", bundle.diagnostics);
    let tr = bundle
        .inputs()
        .find_map(|o| match &o.object {
            Object::TaskRun(tr) => Some(tr.clone()),
            _ => None,
        })
        .expect("a TaskRun");
    TaskRunDriver::for_cluster(&bundle, &tr)
        .expect("resolves")
        .request()
        .clone()
}

fn owner(kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: "tekton.dev/v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        ..OwnerReference::default()
    }
}

/// Every fixture with ordinary and with native sidecars, once standalone and once as part of
/// a PipelineRun, and with the `results-from: sidecar-logs` sidecar (ordinary and native).
fn all_objects() -> Vec<(String, PodObjects)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "fixtures missing: {files:?}");
    let mut out = Vec::new();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        for (variant, native, in_pipeline, results_sidecar) in [
            ("ordinary", false, false, false),
            ("native", true, false, false),
            ("pipeline", false, true, false),
            ("sidecar-logs", false, false, true),
            ("native-sidecar-logs", true, false, true),
        ] {
            let mut request = request(&file);
            let mut options = PodOptions {
                entrypoint_image: "adze-test/entrypoint:latest".into(),
                namespace: "ci".into(),
                task_run_owner: Some(owner("TaskRun", &request.name, "uid-task-run")),
                pipeline_run_owner: None,
                run_id: "run-1".into(),
                native_sidecars: native,
                image_commands: BTreeMap::from([(
                    "adze-test/debian:bookworm".to_owned(),
                    ImageCommand {
                        entrypoint: Vec::new(),
                        cmd: vec!["bash".into()],
                    },
                )]),
                sidecars_ready_at_start: false,
                image_pull_policy: None,
                attempt: 0,
                results_sidecar,
            };
            if in_pipeline {
                request.pipeline_task = "task".into();
                request.cluster.pipeline_run = Some(RunIdentity {
                    name: "nightly".into(),
                    uid: Some("uid-pipeline-run".into()),
                });
                options.pipeline_run_owner =
                    Some(owner("PipelineRun", "nightly", "uid-pipeline-run"));
            }
            let objects =
                translate(&request, &options).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            out.push((format!("{stem}-{variant}"), objects));
        }
    }
    out
}

/// Writes one file per object; returns their paths.
fn write(dir: &Path, name: &str, objects: &PodObjects) -> Vec<PathBuf> {
    let mut docs: Vec<(String, String)> = Vec::new();
    for (i, claim) in objects.claims.iter().enumerate() {
        docs.push((
            format!("claim-{i}"),
            serde_yaml_ng::to_string(claim).unwrap(),
        ));
    }
    if let Some(cm) = &objects.scripts {
        docs.push(("scripts".into(), serde_yaml_ng::to_string(cm).unwrap()));
    }
    if let Some(secret) = &objects.credentials {
        docs.push((
            "credentials".into(),
            serde_yaml_ng::to_string(secret).unwrap(),
        ));
    }
    docs.push((
        "pod".into(),
        serde_yaml_ng::to_string(&objects.pod).unwrap(),
    ));
    docs.into_iter()
        .map(|(kind, text)| {
            let path = dir.join(format!("{name}-{kind}.yaml"));
            std::fs::write(&path, text).expect("write");
            path
        })
        .collect()
}

#[test]
fn every_generated_object_passes_kubernetes_validate_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (name, objects) in all_objects() {
        files.extend(write(dir.path(), &name, &objects));
    }
    common::assert_kubernetes_valid(&files);
    let kinds = ["Pod", "ConfigMap", "Secret", "PersistentVolumeClaim"];
    for kind in kinds {
        assert!(
            files.iter().any(|f| std::fs::read_to_string(f)
                .unwrap()
                .contains(&format!("kind: {kind}\n"))),
            "no {kind} was validated"
        );
    }
}

#[test]
fn the_validator_rejects_what_the_api_server_would() {
    // The control: a Pod with a field the schema does not have must fail, so a pass above
    // means the objects were checked.
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, objects) = all_objects().remove(0);
    let mut pod = serde_json::to_value(&objects.pod).unwrap();
    pod["spec"]["containers"][0]["comand"] = serde_json::json!(["sh"]);
    let path = dir.path().join("bad-pod.yaml");
    std::fs::write(&path, serde_yaml_ng::to_string(&pod).unwrap()).unwrap();
    let out = common::kubernetes_validate(&[path]);
    assert!(
        !out.status.success(),
        "an unknown field passed:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
