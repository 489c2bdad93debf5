//! The objects representative TaskRuns become, as YAML snapshots; each object read back into
//! its `k8s-openapi` type; the refusals. The TaskRuns are the files of
//! `tests/pod-translation/`, which tests/pod_translation.rs also passes through
//! `kubernetes-validate --strict`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::*;
use crate::api::{Object, WorkspaceBinding};
use crate::load::{Bundle, Origin};
use crate::run::{ClusterWorkspace, RunIdentity, TaskRunDriver};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pod-translation");

/// The request the cluster driver resolves from fixture `file`.
fn request(file: &str) -> TaskRunRequest {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{file}")).expect("fixture");
    let mut bundle = Bundle::new();
    bundle.add_source(file, text, Origin::Input);
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

fn options(request: &TaskRunRequest) -> PodOptions {
    PodOptions {
        entrypoint_image: "adze-test/entrypoint:latest".into(),
        namespace: "ci".into(),
        task_run_owner: Some(OwnerReference {
            api_version: "tekton.dev/v1".into(),
            kind: "TaskRun".into(),
            name: request.name.clone(),
            uid: "6f1d2c3b-0000-4000-8000-000000000001".into(),
            ..OwnerReference::default()
        }),
        pipeline_run_owner: None,
        run_id: "run-7".into(),
        native_sidecars: false,
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
        results_sidecar: false,
    }
}

/// The objects as YAML documents in creation order; each must read back as it was.
fn documents(objects: &PodObjects) -> String {
    fn doc<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(object: &T) -> String {
        let text = serde_yaml_ng::to_string(object).expect("serialises");
        let back: T = serde_yaml_ng::from_str(&text).expect("reads back");
        assert_eq!(&back, object, "round trip of\n{text}");
        text
    }
    let mut docs: Vec<String> = objects.claims.iter().map(doc).collect();
    docs.extend(objects.scripts.as_ref().map(doc));
    docs.extend(objects.credentials.as_ref().map(doc));
    docs.push(doc(&objects.pod));
    docs.join("---\n")
}

fn snapshot_of(file: &str, adjust: impl FnOnce(&mut TaskRunRequest, &mut PodOptions)) -> String {
    let mut request = request(file);
    let mut options = options(&request);
    adjust(&mut request, &mut options);
    let objects = translate(&request, &options).expect("translates");
    assert_eq!(
        objects,
        translate(&request, &options).expect("translates"),
        "deterministic"
    );
    documents(&objects)
}

#[test]
fn a_script_task() {
    insta::assert_snapshot!(snapshot_of("script.yaml", |_, _| {}));
}

#[test]
fn a_command_task_with_params_and_results() {
    insta::assert_snapshot!(snapshot_of("command-results.yaml", |_, _| {}));
}

#[test]
fn ordinary_sidecars() {
    insta::assert_snapshot!(snapshot_of("sidecars.yaml", |_, _| {}));
}

#[test]
fn results_from_sidecar_logs() {
    insta::assert_snapshot!(snapshot_of("command-results.yaml", |_, o| {
        o.results_sidecar = true;
    }));
}

#[test]
fn the_results_sidecar_is_the_last_native_sidecar() {
    let request = request("sidecars.yaml");
    let mut options = options(&request);
    options.native_sidecars = true;
    options.results_sidecar = true;
    let pod = translate(&request, &options).expect("translates").pod;
    let spec = pod.spec.expect("spec");
    let inits = spec.init_containers.expect("init containers");
    let last = inits.last().expect("a sidecar");
    assert_eq!(last.name, "sidecar-tekton-log-results");
    assert_eq!(last.restart_policy.as_deref(), Some("Always"));
    assert_eq!(last.image.as_deref(), Some("adze-test/entrypoint:latest"));
    // Every step waits for the sidecars, the results sidecar among them.
    let first = &spec.containers[0];
    assert!(first.args.iter().flatten().any(|a| a == super::READY_FILE));
}

#[test]
fn native_sidecars() {
    insta::assert_snapshot!(snapshot_of("sidecars.yaml", |_, o| o.native_sidecars = true));
}

#[test]
fn every_workspace_kind_in_a_pipeline_run() {
    insta::assert_snapshot!(snapshot_of("workspaces.yaml", |r, o| {
        // As the pipeline driver fills them for a pipeline task.
        r.pipeline_task = "sources".into();
        r.cluster.pipeline_run = Some(RunIdentity {
            name: "nightly".into(),
            uid: None,
        });
        o.pipeline_run_owner = Some(OwnerReference {
            api_version: "tekton.dev/v1".into(),
            kind: "PipelineRun".into(),
            name: "nightly".into(),
            uid: "0b9e8f7a-0000-4000-8000-000000000002".into(),
            ..OwnerReference::default()
        });
    }));
}

#[test]
fn a_pod_template_service_account_and_credentials() {
    insta::assert_snapshot!(snapshot_of("pod-template.yaml", |_, _| {}));
}

#[test]
fn timeouts_output_files_and_on_error() {
    insta::assert_snapshot!(snapshot_of("timeouts-outputs.yaml", |_, _| {}));
}

#[test]
fn every_taskrun_of_a_pipeline_run_names_the_same_claim() {
    let claim = |task_run: &str| {
        let mut r = request("workspaces.yaml");
        r.name = task_run.into();
        r.cluster.pipeline_run = Some(RunIdentity {
            name: "nightly".into(),
            uid: Some("uid-1".into()),
        });
        let objects = translate(&r, &options(&r)).expect("translates");
        objects.claims[0].metadata.name.clone()
    };
    assert_eq!(claim("nightly-a"), claim("nightly-b"));
}

#[test]
fn the_token_is_mounted_only_for_a_named_service_account() {
    let mut r = request("pod-template.yaml");
    let token = |r: &TaskRunRequest| {
        let pod = translate(r, &options(r)).expect("translates").pod;
        pod.spec.expect("spec").automount_service_account_token
    };
    assert_eq!(token(&r), Some(true), "as the podTemplate says");
    r.cluster.service_account_name = None;
    assert_eq!(token(&r), Some(false), "no account named: no token");
}

#[test]
fn a_binding_without_a_source_or_with_a_host_directory_is_refused() {
    let mut r = request("script.yaml");
    r.cluster.workspaces.push(ClusterWorkspace {
        name: "w".into(),
        binding: WorkspaceBinding {
            name: "w".into(),
            ..WorkspaceBinding::default()
        },
        mount_path: "/workspace/w".into(),
        ..ClusterWorkspace::default()
    });
    let err = translate(&r, &options(&r)).expect_err("no source");
    assert!(
        matches!(&err, TranslateError::UnsupportedWorkspace { workspace, .. } if workspace == "w")
    );
    assert!(err.to_string().contains("has no volume source"), "{err}");
    r.cluster.workspaces[0].binding.persistent_volume_claim = Some(
        k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
            claim_name: "dir:/home/me/src".into(),
            read_only: None,
        },
    );
    let err = translate(&r, &options(&r)).expect_err("host directory");
    assert!(err.to_string().contains("/home/me/src"), "{err}");
}

#[test]
fn a_step_whose_image_command_is_unknown_is_refused_by_name() {
    let r = request("command-results.yaml");
    let mut o = options(&r);
    o.image_commands.clear();
    let err = translate(&r, &o).expect_err("unresolved image");
    assert_eq!(
        err,
        TranslateError::MissingImageCommand {
            step: "image-default".into(),
            image: "adze-test/debian:bookworm".into(),
        }
    );
}

#[test]
fn a_volume_named_like_an_internal_one_is_refused() {
    let mut r = request("pod-template.yaml");
    r.cluster.volumes[0].name = "tekton-internal-home".into();
    let err = translate(&r, &options(&r)).expect_err("clash");
    assert!(
        matches!(err, TranslateError::DuplicateVolume { name, .. } if name == "tekton-internal-home")
    );
}

#[test]
fn env_from_stays_a_reference() {
    let mut r = request("script.yaml");
    r.steps[0]
        .env_sources
        .push(crate::plan::model::EnvSource::All {
            kind: crate::plan::model::ConfigKind::Secret,
            object: "ci-env".into(),
            prefix: "CI_".into(),
            optional: true,
        });
    let pod = translate(&r, &options(&r)).expect("translates").pod;
    let step = &pod.spec.expect("spec").containers[0];
    let from = step.env_from.as_ref().expect("envFrom");
    assert_eq!(from[0].prefix.as_deref(), Some("CI_"));
    assert_eq!(
        from[0].secret_ref.as_ref().map(|s| s.name.as_str()),
        Some("ci-env")
    );
}

#[test]
fn the_pull_policy_option_replaces_every_containers_own() {
    let r = request("sidecars.yaml");
    let mut o = options(&r);
    o.image_pull_policy = Some("Never".into());
    let spec = translate(&r, &o)
        .expect("translates")
        .pod
        .spec
        .expect("spec");
    let policies: Vec<(&str, Option<&str>)> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .map(|c| (c.name.as_str(), c.image_pull_policy.as_deref()))
        .collect();
    assert_eq!(
        policies,
        [
            ("prepare", Some("IfNotPresent")),
            ("step-query", Some("Never")),
            ("sidecar-db", Some("Never")),
            ("sidecar-cache", Some("Never")),
        ]
    );
}

#[test]
fn two_workspaces_bound_to_one_template_share_one_claim() {
    let mut r = request("workspaces.yaml");
    let mut twin = r
        .cluster
        .workspaces
        .iter()
        .find(|w| w.binding.volume_claim_template.is_some())
        .expect("a template binding")
        .clone();
    twin.name = "cache-again".into();
    twin.mount_path = "/workspace/cache-again".into();
    r.cluster.workspaces.push(twin);
    let objects = translate(&r, &options(&r)).expect("translates");
    assert_eq!(objects.claims.len(), 1);
    let volumes = objects.pod.spec.expect("spec").volumes.expect("volumes");
    let claimed: Vec<&str> = volumes
        .iter()
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.as_str())
        .filter(|n| n.starts_with("cache-"))
        .collect();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0], claimed[1]);
}

#[test]
fn sidecars_ready_at_start_leave_the_first_step_unheld() {
    let r = request("sidecars.yaml");
    let mut o = options(&r);
    o.sidecars_ready_at_start = true;
    let spec = translate(&r, &o)
        .expect("translates")
        .pod
        .spec
        .expect("spec");
    let args = spec.containers[0].args.clone().unwrap_or_default();
    assert!(
        !args.iter().any(|a| a.contains("/tekton/downward")),
        "{args:?}"
    );
    assert!(!spec
        .volumes
        .iter()
        .flatten()
        .any(|v| v.downward_api.is_some()));
}

#[test]
fn a_retry_has_its_own_pod_config_map_and_secret() {
    let mut request = request("pod-template.yaml");
    request.steps[0].script = Some("#!/bin/sh\necho again\n".into());
    let mut options = options(&request);
    options.attempt = 2;
    let objects = translate(&request, &options).expect("translates");
    let name = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.name.clone().unwrap_or_default()
    };
    assert_eq!(
        name(&objects.pod.metadata),
        format!("{}-pod-retry2", request.name)
    );
    let scripts = objects.scripts.as_ref().expect("scripts");
    let secret = objects.credentials.as_ref().expect("credentials");
    assert_eq!(
        name(&scripts.metadata),
        format!("{}-scripts-retry2", request.name)
    );
    assert_eq!(
        name(&secret.metadata),
        format!("{}-credentials-retry2", request.name)
    );
    // The Pod mounts this attempt's, not the first one's.
    let volumes = objects.pod.spec.as_ref().and_then(|s| s.volumes.clone());
    let volumes = volumes.unwrap_or_default();
    assert!(volumes.iter().any(|v| v
        .config_map
        .as_ref()
        .is_some_and(|c| c.name == name(&scripts.metadata))));
    assert!(volumes.iter().any(|v| v
        .secret
        .as_ref()
        .is_some_and(|s| s.secret_name == Some(name(&secret.metadata)))));
}

#[test]
fn only_step_i_can_write_its_run_directory() {
    let request = request("script.yaml");
    assert!(request.steps.len() >= 2, "the fixture has two steps");
    let objects = translate(&request, &options(&request)).expect("translates");
    let spec = objects.pod.spec.expect("spec");
    let volumes = spec.volumes.unwrap_or_default();
    for i in 0..request.steps.len() {
        let name = format!("tekton-internal-run-{i}");
        assert!(volumes
            .iter()
            .any(|v| v.name == name && v.empty_dir.is_some()));
    }
    assert!(!volumes.iter().any(|v| v.name == "tekton-internal-run"));
    for (i, container) in spec.containers.iter().enumerate() {
        let mounts = container.volume_mounts.clone().unwrap_or_default();
        for j in 0..request.steps.len() {
            let run = mounts
                .iter()
                .find(|m| m.mount_path == format!("/tekton/run/{j}"))
                .unwrap_or_else(|| panic!("step {i} mounts /tekton/run/{j}"));
            assert_eq!(run.name, format!("tekton-internal-run-{j}"));
            assert_eq!(run.read_only, (i != j).then_some(true), "step {i}, run {j}");
            let status = mounts
                .iter()
                .find(|m| m.mount_path == format!("/tekton/steps/{j}"))
                .expect("status mount");
            assert_eq!(status.name, run.name);
            assert_eq!(status.sub_path.as_deref(), Some("status"));
            assert_eq!(status.read_only, run.read_only);
        }
    }
    // `prepare` makes every step's directories, so it mounts every run volume.
    let prepare = &spec.init_containers.expect("init")[0];
    let mounts = prepare.volume_mounts.clone().unwrap_or_default();
    for j in 0..request.steps.len() {
        assert!(mounts
            .iter()
            .any(|m| m.name == format!("tekton-internal-run-{j}") && m.read_only.is_none()));
    }
}
