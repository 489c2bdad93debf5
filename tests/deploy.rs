//! The controller's deploy manifests (`deploy/`, issue 9 point 5): every file and both
//! kustomize renderings pass `kubernetes-validate --strict` (PyPI, offline schemas; install it
//! with `bash tests/setup-validator.sh`), `kubectl kustomize` renders the controller without
//! the CRDs and the CRDs on their own, every RBAC rule names the code that needs it, and a
//! kube-sim started without Tekton's CRDs takes both renderings with `kubectl create` and gives
//! them back unchanged with `kubectl get`.
//!
//! Not here yet: the test that the rules match what the controller's code calls (it comes with
//! the controller), and the image (docs/controller-deploy.md).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::kube_sim::Sim;
use serde::Deserialize;
use serde_json::{json, Value};

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Every manifest under deploy/ (kustomizations are not Kubernetes objects), sorted.
fn manifests() -> Vec<PathBuf> {
    let files: Vec<PathBuf> = common::yaml_files(&deploy_dir())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "kustomization.yaml"))
        .collect();
    assert!(files.len() >= 12, "manifests missing: {files:?}");
    files
}

/// `kubectl kustomize DIR`: the rendered YAML.
fn kustomize(dir: &Path) -> String {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs (v1.32 has kustomize built in)");
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The documents of a multi-document YAML text.
fn documents(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// (kind, name) of each object.
fn names(objects: &[Value]) -> BTreeSet<(String, String)> {
    objects
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or_default().to_owned(),
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(k, n)| ((*k).to_owned(), (*n).to_owned()))
        .collect()
}

fn controller_objects() -> BTreeSet<(String, String)> {
    set(&[
        ("Namespace", "adze-system"),
        ("ServiceAccount", "adze-controller"),
        ("ClusterRole", "adze-controller"),
        ("ClusterRoleBinding", "adze-controller"),
        ("Role", "adze-controller-leader-election"),
        ("RoleBinding", "adze-controller-leader-election"),
        ("Deployment", "adze-controller"),
    ])
}

const CRDS: [&str; 5] = [
    "pipelines.tekton.dev",
    "tasks.tekton.dev",
    "pipelineruns.tekton.dev",
    "taskruns.tekton.dev",
    "stepactions.tekton.dev",
];

#[test]
fn every_manifest_and_both_renderings_pass_kubernetes_validate_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = manifests();
    for (name, source) in [
        ("rendered-controller.yaml", deploy_dir()),
        ("rendered-crds.yaml", deploy_dir().join("crds")),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, kustomize(&source)).expect("write");
        files.push(path);
    }
    let stdout = common::assert_kubernetes_valid(&files);
    let passed = stdout.matches(" passed for resource ").count();
    let expected = manifests().len() + controller_objects().len() + CRDS.len();
    assert_eq!(passed, expected, "{stdout}");
}

#[test]
fn the_validator_rejects_a_misspelled_deployment_field() {
    // The control: a pass above means the manifests were checked against the schemas.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(deploy_dir().join("deployment.yaml")).expect("read");
    assert!(text.contains("\n  replicas: 2\n"));
    let path = dir.path().join("bad-deployment.yaml");
    std::fs::write(&path, text.replace("\n  replicas: 2\n", "\n  replica: 2\n")).expect("write");
    let out = common::kubernetes_validate(&[path]);
    assert!(!out.status.success(), "a misspelled field passed");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("replica"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn kustomize_renders_the_controller_without_the_crds_and_the_crds_apart() {
    let controller = documents(&kustomize(&deploy_dir()));
    assert_eq!(names(&controller), controller_objects());

    let deployment = controller
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["metadata"]["labels"]["app.kubernetes.io/version"],
        version
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "adze-controller");
    assert_eq!(pod["automountServiceAccountToken"], true);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let container = &pod["containers"][0];
    assert_eq!(container["image"], format!("adze/adze:{version}"));
    assert_eq!(
        container["args"],
        json!([
            "controller",
            "--all-namespaces",
            "--metrics-addr",
            "0.0.0.0:9090",
            "--health-addr",
            "0.0.0.0:8081"
        ])
    );
    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    for bound in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                container["resources"][bound][resource].is_string(),
                "no {bound}.{resource}"
            );
        }
    }
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    let health = container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == "health")
        .expect("a health port");
    assert_eq!(health["containerPort"], 8081);
    assert_eq!(container["livenessProbe"]["httpGet"]["port"], "health");
    assert_eq!(container["readinessProbe"]["httpGet"]["port"], "health");

    let binding = controller
        .iter()
        .find(|o| o["kind"] == "ClusterRoleBinding")
        .expect("a ClusterRoleBinding");
    assert_eq!(
        binding["subjects"],
        json!([{ "kind": "ServiceAccount", "name": "adze-controller", "namespace": "adze-system" }])
    );

    let crds = documents(&kustomize(&deploy_dir().join("crds")));
    let crd_names: BTreeSet<&str> = crds
        .iter()
        .map(|c| c["metadata"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(crd_names, CRDS.into_iter().collect::<BTreeSet<_>>());
    for crd in &crds {
        let name = crd["metadata"]["name"].as_str().unwrap_or_default();
        let versions = crd["spec"]["versions"].as_array().expect("versions");
        let storage: Vec<&str> = versions
            .iter()
            .filter(|v| v["storage"] == true)
            .map(|v| v["name"].as_str().unwrap_or_default())
            .collect();
        let expected_storage = if name.starts_with("stepactions") {
            "v1beta1"
        } else {
            "v1"
        };
        assert_eq!(storage, [expected_storage], "{name}");
        for version in versions {
            assert_eq!(version["served"], true, "{name}");
            assert_eq!(version["subresources"]["status"], json!({}), "{name}");
            let schema = &version["schema"]["openAPIV3Schema"]["properties"];
            for part in ["spec", "status"] {
                assert_eq!(
                    schema[part]["x-kubernetes-preserve-unknown-fields"], true,
                    "{name} {part}"
                );
            }
            let columns: Vec<&str> = version["additionalPrinterColumns"]
                .as_array()
                .map(|c| c.iter().filter_map(|c| c["name"].as_str()).collect())
                .unwrap_or_default();
            if name.contains("runs.") {
                assert_eq!(
                    columns,
                    ["Succeeded", "Reason", "StartTime", "CompletionTime"],
                    "{name}"
                );
            } else {
                assert!(columns.is_empty(), "{name}");
            }
        }
    }
}

#[test]
fn every_rbac_rule_names_the_code_that_needs_it() {
    for file in ["cluster-role.yaml", "leader-election-role.yaml"] {
        let text = std::fs::read_to_string(deploy_dir().join(file)).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        let mut rules = 0;
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("- apiGroups:") {
                continue;
            }
            rules += 1;
            // The comment block right above the rule.
            let comment: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .take_while(|l| l.trim_start().starts_with('#'))
                .copied()
                .collect();
            assert!(
                comment.iter().any(|l| l.contains("engine/")),
                "{file}: the rule at line {} does not name the code that needs it",
                i + 1
            );
        }
        let parsed = documents(&text);
        let count = parsed[0]["rules"].as_array().map_or(0, Vec::len);
        assert!(
            count > 0 && rules == count,
            "{file}: {rules} of {count} rules seen"
        );
    }
}

/// Whether everything in `expected` is in `actual` (objects: each key; arrays: same length,
/// element by element); the server adds uid, resourceVersion and the like.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(av, ev)| contains(av, ev))
        }
        _ => actual == expected,
    }
}

#[test]
fn kube_sim_takes_the_crds_and_the_controller_and_gives_them_back() {
    // A cluster without Tekton: the CRDs are created first, as the documentation says.
    let sim = Sim::start_with(&["--no-kubelet", "--without-tekton-crds"]);
    let before = sim.kubectl(&["get", "crd", "-o", "name"]);
    assert!(before.trim().is_empty(), "{before}");
    let mut sent = Vec::new();
    for (name, source) in [
        ("crds.yaml", deploy_dir().join("crds")),
        ("controller.yaml", deploy_dir()),
    ] {
        let text = kustomize(&source);
        let path = sim.dir().join(name);
        std::fs::write(&path, &text).expect("write");
        let path = path.to_str().expect("UTF-8 path").to_owned();
        let created = sim.kubectl(&["create", "--validate=false", "-f", &path]);
        let objects = documents(&text);
        assert_eq!(created.lines().count(), objects.len(), "{created}");
        assert!(
            created.lines().all(|l| l.ends_with(" created")),
            "{created}"
        );
        let read = sim.kubectl(&["get", "-f", &path, "-o", "json"]);
        let read: Value = serde_json::from_str(&read).expect("JSON");
        let read = read["items"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![read]);
        assert_eq!(read.len(), objects.len());
        for object in &objects {
            let back = read
                .iter()
                .find(|r| {
                    r["kind"] == object["kind"]
                        && r["metadata"]["name"] == object["metadata"]["name"]
                })
                .unwrap_or_else(|| panic!("{} not read back", object["metadata"]["name"]));
            assert!(
                contains(back, object),
                "{} {} changed:\nsent {object:#}\nread {back:#}",
                object["kind"],
                object["metadata"]["name"]
            );
            assert!(back["metadata"]["uid"].is_string());
        }
        sent.extend(objects);
    }
    assert_eq!(sent.len(), controller_objects().len() + CRDS.len());

    let crds = sim.kubectl(&["get", "crd", "-o", "name"]);
    let crds: BTreeSet<&str> = crds.lines().collect();
    let expected: BTreeSet<String> = CRDS
        .iter()
        .map(|n| format!("customresourcedefinition.apiextensions.k8s.io/{n}"))
        .collect();
    assert_eq!(
        crds,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    // Namespaced objects landed in adze-system.
    let names = sim.kubectl(&[
        "get",
        "deployments,serviceaccounts,roles,rolebindings",
        "-n",
        "adze-system",
        "-o",
        "name",
    ]);
    for name in [
        "deployment.apps/adze-controller",
        "serviceaccount/adze-controller",
        "role.rbac.authorization.k8s.io/adze-controller-leader-election",
        "rolebinding.rbac.authorization.k8s.io/adze-controller-leader-election",
    ] {
        assert!(names.lines().any(|l| l == name), "{name} missing:\n{names}");
    }
}

/// The in-cluster EventListener (issue 10): its kustomization renders, its Role grants only
/// what `adze serve --executor create` calls, and the Triggers objects its ConfigMap ships
/// pass `adze validate` as they are mounted.
#[test]
fn the_eventlistener_renders_with_least_privilege_and_its_triggers_validate() {
    let objects = documents(&kustomize(&deploy_dir().join("eventlistener")));
    assert_eq!(
        names(&objects),
        set(&[
            ("Namespace", "adze-triggers"),
            ("ServiceAccount", "adze-eventlistener"),
            ("Role", "adze-eventlistener"),
            ("RoleBinding", "adze-eventlistener"),
            ("ConfigMap", "adze-triggers"),
            ("PersistentVolumeClaim", "adze-eventlistener-store"),
            ("Deployment", "adze-eventlistener"),
            ("Service", "adze-eventlistener"),
        ])
    );
    let role = objects.iter().find(|o| o["kind"] == "Role").unwrap();
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns", "taskruns"], "verbs": ["create", "get"]},
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
        ])
    );
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(deployment["spec"]["replicas"], 1, "one writer of the store");
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    let args: Vec<&str> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    for expected in [
        ["--executor", "create"],
        ["--token-file", "/etc/adze/token/token"],
    ] {
        assert!(args.windows(2).any(|w| w == expected), "{args:?}");
    }
    let config = objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in config["data"].as_object().unwrap() {
        std::fs::write(dir.path().join(file), text.as_str().unwrap()).unwrap();
    }
    let out = common::run_adze(
        dir.path(),
        &["validate", "-f", "."],
        std::time::Duration::from_secs(30),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}
