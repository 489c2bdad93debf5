//! What a user sees when a bundle or a hub cannot give what a reference asks for: each
//! failure names the reference, the resolver, the param at fault and what is wrong, and
//! nothing is run. One `adze validate` of TaskRuns, one per failure, snapshot-tested.

use super::hub_server::HubServer;
use super::registry::{free_port, Registry};
use super::{adze, greeting_task};

/// A TaskRun named `name` whose taskRef uses `resolver` with `params` (`name: value` pairs).
fn task_run(name: &str, resolver: &str, params: &[(&str, &str)]) -> String {
    let mut yaml = format!(
        "---\napiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: {name}\nspec:\n  \
         taskRef:\n    resolver: {resolver}\n    params:\n"
    );
    for (param, value) in params {
        yaml.push_str(&format!("    - {{name: {param}, value: \"{value}\"}}\n"));
    }
    yaml
}

/// `(TaskRun name, resolver, params)`.
type Case = (&'static str, &'static str, Vec<(&'static str, String)>);

#[test]
fn bundle_and_hub_failures_name_the_reference_the_param_and_the_cause() {
    let registry = Registry::start();
    let hub = HubServer::start();
    let dir = tempfile::tempdir().unwrap();
    let host = registry.host();
    let down = format!("127.0.0.1:{}", free_port());

    let hello = greeting_task("hello", "hello");
    registry.push_bundle(
        "adze/catalog",
        "v1",
        &[
            ("task", "hello", &hello),
            ("pipeline", "hello-pipeline", "kind: Pipeline\n"),
        ],
    );
    registry.push_bundle("adze/tampered", "v1", &[("task", "hello", &hello)]);
    let layer = {
        let manifest = super::common::http::get(
            registry.addr,
            "/v2/adze/tampered/manifests/v1",
            &[("Accept", "application/vnd.oci.image.manifest.v1+json")],
        )
        .json();
        manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    };
    registry.tamper(&layer);
    // Other content than adze/tampered: blobs (manifests too) are stored once per digest.
    let pinned_task = greeting_task("hello", "pinned");
    let pinned = registry.push_bundle("adze/pinned", "v1", &[("task", "hello", &pinned_task)]);
    registry.tamper_manifest(&pinned);
    // Over the 4 MiB default cap: refused from its descriptor, before any download.
    let big = vec![b'a'; 5 * 1024 * 1024];
    let big_digest = registry.push_blob("adze/big", &big);
    registry.push_manifest(
        "adze/big",
        "v1",
        vec![serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": big_digest,
            "size": big.len(),
            "annotations": {
                "dev.tekton.image.apiVersion": "v1",
                "dev.tekton.image.kind": "task",
                "dev.tekton.image.name": "hello",
            }
        })],
    );
    hub.publish(
        "task",
        "tekton-catalog-tasks",
        "hub-greet",
        &["0.1.0", "0.2.0"],
        &greeting_task("hub-greet", "hi"),
    );

    let bundle = |reference: &str, name: &str| {
        vec![
            ("bundle", reference.to_string()),
            ("name", name.to_string()),
        ]
    };
    let cases: Vec<Case> = vec![
        (
            "tampered-layer",
            "bundles",
            bundle(&format!("{host}/adze/tampered:v1"), "hello"),
        ),
        (
            "tampered-manifest",
            "bundles",
            bundle(&format!("{host}/adze/pinned@{pinned}"), "hello"),
        ),
        (
            "missing-object",
            "bundles",
            bundle(&format!("{host}/adze/catalog:v1"), "goodbye"),
        ),
        (
            "oversized-layer",
            "bundles",
            bundle(&format!("{host}/adze/big:v1"), "hello"),
        ),
        (
            "registry-down",
            "bundles",
            bundle(&format!("{down}/adze/catalog:v1"), "hello"),
        ),
        (
            "unknown-tag",
            "bundles",
            bundle(&format!("{host}/adze/catalog:v9"), "hello"),
        ),
        (
            "bad-reference",
            "bundles",
            bundle(&format!("{host}/../v2/_catalog"), "hello"),
        ),
        ("no-bundle-param", "bundles", vec![("name", "hello".into())]),
        ("service-account", "bundles", {
            let mut p = bundle(&format!("{host}/adze/catalog:v1"), "hello");
            p.push(("serviceAccount", "builder".into()));
            p
        }),
        ("unknown-secret", "bundles", {
            let mut p = bundle(&format!("{host}/adze/catalog:v1"), "hello");
            p.push(("secret", "registry-creds".into()));
            p
        }),
        (
            "no-version-meets",
            "hub",
            vec![("name", "hub-greet".into()), ("version", ">= 1.0".into())],
        ),
        (
            "not-on-the-hub",
            "hub",
            vec![("name", "nothing-here".into()), ("version", "0.1".into())],
        ),
        (
            "hub-name-with-a-path",
            "hub",
            vec![("name", "../../admin".into()), ("version", "0.1".into())],
        ),
    ];
    let mut yaml = String::new();
    for (name, resolver, params) in &cases {
        let params: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
        yaml.push_str(&task_run(name, resolver, &params));
    }
    let hub_url = hub.url();
    let out = adze(dir.path(), "validate", &yaml, &["--hub-url", &hub_url]);
    assert_eq!(
        out.code,
        Some(2),
        "validate must fail:\n{}{}",
        out.stdout,
        out.stderr
    );
    let shown = format!("{}{}", out.stdout, out.stderr)
        .replace(&host, "[registry]")
        .replace(&down, "[nothing-listening]")
        .replace(&hub_url, "[hub]")
        .replace(&dir.path().display().to_string(), "[dir]");
    for (name, _, _) in &cases {
        assert!(
            shown.contains(&format!("TaskRun/{name}")) || shown.contains(name),
            "no failure reported for {name}:\n{shown}"
        );
    }
    assert!(
        !hub.requests().iter().any(|r| r.contains("admin")),
        "a refused name never reaches the hub: {:?}",
        hub.requests()
    );
    insta::assert_snapshot!("bundle_and_hub_failures", shown);
}
