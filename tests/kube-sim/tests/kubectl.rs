//! The real `kubectl` (v1.32) against kube-sim's API server: create, get in every output,
//! watch, label, patch, delete, errors as kubectl prints them, namespaces, finalizers, raw
//! requests that must fail cleanly, and a clean exit on SIGTERM. Pods stay Pending here
//! (`--no-kubelet`); tests/kubectl_pods.rs runs them.

mod common;

use std::time::Duration;

use common::{eventually, Sim};
use serde_json::Value;

fn sim() -> &'static Sim {
    Sim::shared(&["--no-kubelet"])
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn create_then_get_as_json_yaml_jsonpath_and_table() {
    let sim = sim();
    let ns = sim.namespace("get-outputs");
    let created = sim.create(&format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {{generateName: settings-, namespace: {ns}, labels: {{app: web}}}}
data: {{greeting: hello}}
---
apiVersion: v1
kind: Secret
metadata: {{name: creds, namespace: {ns}}}
stringData: {{password: hunter2}}
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: build, namespace: {ns}}}
spec:
  taskSpec:
    steps: [{{name: s, image: adze-test/busybox:latest, script: echo hi}}]
"#
    ));
    assert!(created.contains("configmap/settings-"), "{created}");
    assert!(created.contains("secret/creds created"), "{created}");
    assert!(
        created.contains("taskrun.tekton.dev/build created"),
        "{created}"
    );

    let list = json(&sim.kubectl(&[
        "get",
        "configmaps",
        "-n",
        &ns,
        "-l",
        "app=web",
        "-o",
        "json",
    ]));
    let item = &list["items"][0];
    let name = item["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("settings-") && name.len() == "settings-".len() + 5);
    assert!(item["metadata"]["uid"].is_string());
    assert!(item["metadata"]["creationTimestamp"].is_string());
    assert!(item["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());

    let secret = sim.kubectl(&[
        "get",
        "secret",
        "creds",
        "-n",
        &ns,
        "-o",
        "jsonpath={.data.password}",
    ]);
    assert_eq!(secret, "aHVudGVyMg==");

    let yaml = sim.kubectl(&["get", "tr", "build", "-n", &ns, "-o", "yaml"]);
    assert!(yaml.contains("apiVersion: tekton.dev/v1"), "{yaml}");
    assert!(yaml.contains("kind: TaskRun"), "{yaml}");

    let table = sim.kubectl(&["get", "taskruns,configmaps", "-n", &ns]);
    assert!(
        table.contains("SUCCEEDED") && table.contains("taskrun.tekton.dev/build"),
        "{table}"
    );
    assert!(table.contains("configmap/settings-"), "{table}");

    let pods = sim.create(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: waiting, namespace: {ns}}}\n\
         spec: {{containers: [{{name: c, image: adze-test/busybox:latest}}]}}\n"
    ));
    assert!(pods.contains("pod/waiting created"));
    let table = sim.kubectl(&["get", "po", "-n", &ns]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(table.contains("waiting   0/1     Pending"), "{table}");
    let node = sim.kubectl(&[
        "get",
        "pod",
        "waiting",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.nodeName}",
    ]);
    assert_eq!(node, "kube-sim");
}

#[test]
fn errors_read_as_kubernetes_errors() {
    let sim = sim();
    let ns = sim.namespace("errors");
    let missing = sim.kubectl_fails(&["get", "configmap", "nope", "-n", &ns]);
    assert!(
        missing.contains(r#"Error from server (NotFound): configmaps "nope" not found"#),
        "{missing}"
    );
    let cm =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: twice, namespace: {ns}}}\n");
    sim.create(&cm);
    let again = sim.kubectl_with_input(&["create", "--validate=false", "-f", "-"], &cm);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(r#"Error from server (AlreadyExists): error when creating "STDIN": configmaps "twice" already exists"#),
        "{stderr}"
    );
    let no_ns = sim.kubectl_with_input(
        &["create", "--validate=false", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: absent}\n",
    );
    let stderr = String::from_utf8_lossy(&no_ns.stderr);
    assert!(
        stderr.contains(r#"namespaces "absent" not found"#),
        "{stderr}"
    );
    let bad_selector = sim.kubectl_fails(&["get", "cm", "-n", &ns, "-l", "a in b"]);
    assert!(bad_selector.contains("BadRequest"), "{bad_selector}");
    let bad_field =
        sim.kubectl_fails(&["get", "cm", "-n", &ns, "--field-selector", "status.phase=x"]);
    assert!(
        bad_field.contains("field label not supported"),
        "{bad_field}"
    );
}

#[test]
fn raw_requests_that_are_malformed_fail_with_a_status() {
    let sim = sim();
    let ns = sim.namespace("raw");
    let broken = sim.dir().join("broken.json");
    std::fs::write(&broken, "{\"metadata\": ").unwrap();
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let stderr = sim.kubectl_fails(&["create", "--raw", &path, "-f", broken.to_str().unwrap()]);
    assert!(
        stderr.contains("BadRequest") || stderr.contains("json parse error"),
        "{stderr}"
    );

    let huge = sim.dir().join("huge.json");
    let data = "x".repeat(4 * 1024 * 1024);
    std::fs::write(
        &huge,
        format!(r#"{{"metadata":{{"name":"huge"}},"data":{{"k":"{data}"}}}}"#),
    )
    .unwrap();
    let stderr = sim.kubectl_fails(&["create", "--raw", &path, "-f", huge.to_str().unwrap()]);
    assert!(stderr.contains("Request entity too large"), "{stderr}");

    let stranger = sim.kubectl_fails(&["get", "configmaps", "-n", &ns, "--token", "wrong"]);
    assert!(stranger.contains("Unauthorized"), "{stranger}");

    let unknown = sim.kubectl_fails(&["get", "--raw", "/apis/nope.example/v1/things"]);
    assert!(unknown.contains("NotFound"), "{unknown}");
    let version = json(&sim.kubectl(&["get", "--raw", "/version"]));
    assert_eq!(version["major"], "1");
}

#[test]
fn get_watch_sees_every_change_and_delete_waits() {
    let sim = sim();
    let ns = sim.namespace("watching");
    let (mut watch, rx) = sim.kubectl_lines(&[
        "get",
        "configmaps",
        "-n",
        &ns,
        "-w",
        "--output-watch-events",
        "-o",
        "jsonpath={.type} {.object.metadata.name} {.object.data.v}{\"\\n\"}",
    ]);
    // Whether kubectl's initial list or its watch sees the new object, it prints ADDED.
    sim.create(&format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: w, namespace: {ns}}}\ndata: {{v: one}}\n"));
    let next = || {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("a watch line")
    };
    assert_eq!(next().trim(), "ADDED w one");
    sim.kubectl(&[
        "patch",
        "configmap",
        "w",
        "-n",
        &ns,
        "-p",
        r#"{"data":{"v":"two"}}"#,
    ]);
    assert_eq!(next().trim(), "MODIFIED w two");
    sim.kubectl(&["delete", "configmap", "w", "-n", &ns]);
    assert_eq!(next().trim(), "DELETED w two");
    let _ = watch.kill();
    let _ = watch.wait();
}

#[test]
fn finalizers_hold_a_deleted_object_until_they_are_removed() {
    let sim = sim();
    let ns = sim.namespace("finalizing");
    sim.create(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: held, namespace: {ns}, finalizers: [example.com/hold]}}\n"
    ));
    sim.kubectl(&["delete", "configmap", "held", "-n", &ns, "--wait=false"]);
    let marked = json(&sim.kubectl(&["get", "configmap", "held", "-n", &ns, "-o", "json"]));
    assert!(
        marked["metadata"]["deletionTimestamp"].is_string(),
        "{marked}"
    );
    sim.kubectl(&[
        "patch",
        "configmap",
        "held",
        "-n",
        &ns,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    let gone = sim.kubectl_fails(&["get", "configmap", "held", "-n", &ns]);
    assert!(gone.contains("NotFound"), "{gone}");
}

#[test]
fn namespaces_have_a_default_service_account_and_take_their_contents_with_them() {
    let sim = sim();
    let ns = sim.namespace("doomed");
    let account = sim.kubectl(&[
        "get",
        "sa",
        "default",
        "-n",
        &ns,
        "-o",
        "jsonpath={.metadata.name}",
    ]);
    assert_eq!(account, "default");
    sim.create(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: {ns}}}\n"
    ));
    let claim = sim.create(&format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: {ns}}}\n\
         spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
    ));
    assert!(claim.contains("persistentvolumeclaim/data created"));
    let phase = sim.kubectl(&[
        "get",
        "pvc",
        "data",
        "-n",
        &ns,
        "-o",
        "jsonpath={.status.phase}",
    ]);
    assert_eq!(phase, "Bound");
    sim.kubectl(&["delete", "namespace", &ns]);
    let gone = sim.kubectl_fails(&["get", "namespace", &ns]);
    assert!(gone.contains("NotFound"), "{gone}");
    let list = sim.kubectl(&["get", "configmaps", "-n", &ns, "-o", "name"]);
    assert_eq!(list.trim(), "");
}

#[test]
fn labels_annotations_and_strategic_patches_on_pods() {
    let sim = sim();
    let ns = sim.namespace("patching");
    sim.create(&format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: {ns}}}\nspec:\n  containers:\n\
         \x20 - {{name: a, image: adze-test/busybox:latest, env: [{{name: X, value: '1'}}]}}\n\
         \x20 - {{name: b, image: adze-test/busybox:latest}}\n"
    ));
    sim.kubectl(&["label", "pod", "p", "-n", &ns, "tier=front"]);
    sim.kubectl(&["annotate", "pod", "p", "-n", &ns, "note=yes"]);
    sim.kubectl(&[
        "patch",
        "pod",
        "p",
        "-n",
        &ns,
        "-p",
        r#"{"spec":{"containers":[{"name":"a","env":[{"name":"Y","value":"2"}]}]}}"#,
    ]);
    let pod = json(&sim.kubectl(&["get", "pod", "p", "-n", &ns, "-o", "json"]));
    assert_eq!(pod["metadata"]["labels"]["tier"], "front");
    assert_eq!(pod["metadata"]["annotations"]["note"], "yes");
    let containers = pod["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 2, "merged by name, not replaced");
    assert_eq!(containers[0]["env"].as_array().unwrap().len(), 2);
    let selected = sim.kubectl(&[
        "get",
        "pods",
        "-n",
        &ns,
        "--field-selector",
        "status.phase=Pending,spec.nodeName=kube-sim",
        "-o",
        "name",
    ]);
    assert_eq!(selected.trim(), "pod/p");
    let stderr = sim.kubectl_fails(&[
        "patch",
        "pod",
        "p",
        "-n",
        &ns,
        "--subresource=status",
        "--type=json",
        "-p",
        r#"[{"op":"test","path":"/status/phase","value":"Running"}]"#,
    ]);
    assert!(
        stderr.contains("Invalid") || stderr.contains("invalid"),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_the_server_with_exit_zero() {
    let own = Sim::start(&["--no-kubelet"]);
    own.kubectl(&["get", "namespaces"]);
    let status = own
        .terminate(Duration::from_secs(10))
        .expect("kube-sim exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    eventually(Duration::from_secs(2), "the port to close", || {
        own.kubectl_command(&["get", "ns", "--request-timeout=1s"])
            .output()
            .is_ok_and(|o| !o.status.success())
    });
}

#[test]
fn kubectl_apply_client_side_and_server_side() {
    let sim = sim();
    let ns = sim.namespace("applying");
    let manifest = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: applied, namespace: {ns}}}\ndata: {{v: {value}}}\n---\n\
             apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {{name: p, namespace: {ns}}}\n\
             spec: {{description: {value}, tasks: []}}\n"
        )
    };
    let apply = |args: &[&str], yaml: &str| {
        let output = sim.kubectl_with_input(args, yaml);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let client_side = ["apply", "--validate=false", "-f", "-"];
    assert!(apply(&client_side, &manifest("one")).contains("configmap/applied created"));
    assert!(apply(&client_side, &manifest("one")).contains("configmap/applied unchanged"));
    assert!(apply(&client_side, &manifest("two")).contains("configmap/applied configured"));
    let server_side = ["apply", "--server-side", "--validate=false", "-f", "-"];
    assert!(apply(&server_side, &manifest("three")).contains("serverside-applied"));
    let value = sim.kubectl(&[
        "get",
        "cm",
        "applied",
        "-n",
        &ns,
        "-o",
        "jsonpath={.data.v}",
    ]);
    assert_eq!(value, "three");
    let description = sim.kubectl(&[
        "get",
        "pipeline",
        "p",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.description}",
    ]);
    assert_eq!(description, "three");
    let dry = sim.kubectl_with_input(
        &["create", "--dry-run=server", "--validate=false", "-f", "-"],
        &manifest("x"),
    );
    assert!(String::from_utf8_lossy(&dry.stderr).contains("dryRun is not supported"));
}

#[test]
fn deleting_an_owner_deletes_what_it_owns_in_every_cascade_mode() {
    let sim = sim();
    let ns = sim.namespace("cascades");
    for (run, cascade, survives) in [
        ("bg", "background", false),
        ("fg", "foreground", false),
        ("or", "orphan", true),
    ] {
        sim.create(&format!(
            "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: {run}, namespace: {ns}}}\nspec: {{}}\n"
        ));
        let uid = sim.kubectl(&[
            "get",
            "tr",
            run,
            "-n",
            &ns,
            "-o",
            "jsonpath={.metadata.uid}",
        ]);
        sim.create(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {run}-scripts\n  namespace: {ns}\n  ownerReferences:\n  \
             - {{apiVersion: tekton.dev/v1, kind: TaskRun, name: {run}, uid: {uid}}}\n"
        ));
        sim.kubectl(&[
            "delete",
            "tr",
            run,
            "-n",
            &ns,
            &format!("--cascade={cascade}"),
        ]);
        let dependent = format!("{run}-scripts");
        if survives {
            let owners = sim.kubectl(&[
                "get",
                "cm",
                &dependent,
                "-n",
                &ns,
                "-o",
                "jsonpath={.metadata.ownerReferences}",
            ]);
            assert_eq!(owners, "", "{cascade}");
        } else {
            eventually(Duration::from_secs(5), "the dependent to go", || {
                sim.kubectl_command(&["get", "cm", &dependent, "-n", &ns])
                    .output()
                    .is_ok_and(|o| !o.status.success())
            });
        }
    }
}

#[test]
fn deployments_rbac_and_crds_are_stored_and_read_back() {
    // Stored only: no Deployment controller, no authorisation, no serving from CRDs; what
    // kubectl sends comes back, in discovery and through create, get, patch and delete.
    let sim = sim();
    let ns = sim.namespace("stored-kinds");
    let resources = sim.kubectl(&["api-resources", "-o", "name"]);
    for name in [
        "deployments.apps",
        "clusterroles.rbac.authorization.k8s.io",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "roles.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io",
        "customresourcedefinitions.apiextensions.k8s.io",
    ] {
        assert!(
            resources.lines().any(|l| l == name),
            "{name} not in:\n{resources}"
        );
    }
    let created = sim.create(&format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, image: adze-test/busybox:latest}}]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: reader, namespace: {ns}}}
rules: [{{apiGroups: [""], resources: [pods], verbs: [get]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: reader, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: stored-kinds-reader}}
rules: [{{apiGroups: [tekton.dev], resources: [taskruns], verbs: [get, list]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: stored-kinds-reader}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: stored-kinds-reader}}
subjects: [{{kind: ServiceAccount, name: default, namespace: {ns}}}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: widgets.example.com}}
spec:
  group: example.com
  names: {{kind: Widget, plural: widgets, singular: widget}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
"#
    ));
    for line in [
        "deployment.apps/web created",
        "role.rbac.authorization.k8s.io/reader created",
        "rolebinding.rbac.authorization.k8s.io/reader created",
        "clusterrole.rbac.authorization.k8s.io/stored-kinds-reader created",
        "clusterrolebinding.rbac.authorization.k8s.io/stored-kinds-reader created",
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created",
    ] {
        assert!(created.contains(line), "{line} missing from:\n{created}");
    }

    let deployment = json(&sim.kubectl(&["get", "deploy", "web", "-n", &ns, "-o", "json"]));
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "adze-test/busybox:latest"
    );
    // Nothing acts on it: no status, no Pods.
    assert!(deployment["status"].is_null() || deployment["status"] == serde_json::json!({}));
    let pods = sim.kubectl(&["get", "pods", "-n", &ns, "-o", "name"]);
    assert!(pods.trim().is_empty(), "{pods}");
    // Strategic merge patch by the containers' merge key, as for a Pod template.
    sim.kubectl(&[
        "patch",
        "deployment",
        "web",
        "-n",
        &ns,
        "-p",
        r#"{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","image":"adze-test/nop:latest"}]}}}}"#,
    ]);
    let patched = json(&sim.kubectl(&["get", "deployment", "web", "-n", &ns, "-o", "json"]));
    assert_eq!(patched["spec"]["replicas"], 3);
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"][0]["image"],
        "adze-test/nop:latest"
    );

    let role = json(&sim.kubectl(&["get", "clusterrole", "stored-kinds-reader", "-o", "json"]));
    assert_eq!(
        role["rules"][0]["verbs"],
        serde_json::json!(["get", "list"])
    );
    let binding = json(&sim.kubectl(&["get", "rolebinding", "reader", "-n", &ns, "-o", "json"]));
    assert_eq!(binding["roleRef"]["name"], "reader");
    let crd = json(&sim.kubectl(&["get", "crd", "widgets.example.com", "-o", "json"]));
    assert_eq!(crd["spec"]["names"]["kind"], "Widget");

    // Built-in kinds are decoded as their type: a ClusterRoleBinding's roleRef is an object.
    let refused = sim.kubectl_with_input(
        &["create", "--validate=false", "-f", "-"],
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n\
         metadata: {name: bad-role}\nroleRef: reader\n",
    );
    assert!(!refused.status.success());
    let refused = String::from_utf8_lossy(&refused.stderr);
    assert!(refused.contains("expected RoleRef"), "{refused}");

    sim.kubectl(&["delete", "clusterrolebinding", "stored-kinds-reader"]);
    sim.kubectl(&["delete", "clusterrole", "stored-kinds-reader"]);
    sim.kubectl(&["delete", "crd", "widgets.example.com"]);
    sim.kubectl(&["delete", "deployment", "web", "-n", &ns]);
    let gone = sim.kubectl_fails(&["get", "crd", "widgets.example.com"]);
    assert!(gone.contains("NotFound"), "{gone}");
}

#[test]
fn without_tekton_crds_a_client_creates_them() {
    // A cluster without Tekton: no tekton.dev CRDs until someone installs them.
    let bare = Sim::start(&["--no-kubelet", "--without-tekton-crds"]);
    let crds = bare.kubectl(&["get", "crd", "-o", "name"]);
    assert!(crds.trim().is_empty(), "{crds}");
    let crd = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: taskruns.tekton.dev}
spec:
  group: tekton.dev
  names: {kind: TaskRun, plural: taskruns, singular: taskrun}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;
    let created = bare.create(crd);
    assert!(created.contains("taskruns.tekton.dev created"), "{created}");
    let crds = bare.kubectl(&["get", "crd", "-o", "name"]);
    assert_eq!(
        crds.trim(),
        "customresourcedefinition.apiextensions.k8s.io/taskruns.tekton.dev"
    );
    // On the default server the same create is a conflict: Tekton's CRDs are there.
    let output = sim().kubectl_with_input(&["create", "--validate=false", "-f", "-"], crd);
    assert!(!output.status.success());
    let taken = String::from_utf8_lossy(&output.stderr);
    assert!(taken.contains("AlreadyExists"), "{taken}");
}

#[test]
fn metrics_are_the_text_of_the_kube_sim_metrics_config_map() {
    let sim = sim();
    assert_eq!(sim.kubectl(&["get", "--raw", "/metrics"]), "");
    sim.create(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {name: kube-sim-metrics, namespace: kube-system}
data:
  metrics: |
    apiserver_requested_deprecated_apis{group="batch",removed_release="1.25",resource="cronjobs",subresource="",version="v1beta1"} 1
"#,
    );
    let text = sim.kubectl(&["get", "--raw", "/metrics"]);
    assert_eq!(
        text,
        "apiserver_requested_deprecated_apis{group=\"batch\",removed_release=\"1.25\",resource=\"cronjobs\",subresource=\"\",version=\"v1beta1\"} 1\n"
    );
}
