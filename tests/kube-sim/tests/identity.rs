//! Identities and RBAC with the real kubectl: a ServiceAccount's token from `kubectl create
//! token` is allowed what its Role grants and refused the rest with Kubernetes' exact 403,
//! `kubectl auth can-i` agrees, `kubectl auth whoami` names it, a deleted account's token stops working, the audit log
//! names the account; and Pods (run in Docker by the kubelet) reach the API as their
//! ServiceAccount through kubectl's in-cluster configuration (on the host's network and
//! on Docker's bridge), succeeding or failing as the Role says.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

use common::{eventually, Sim};

/// The kube-sim these tests share, and its audit log.
struct Shared {
    sim: Sim,
    audit_log: PathBuf,
    _dir: tempfile::TempDir,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let audit_log = dir.path().join("audit.log");
        let sim = Sim::start(&["--audit-log", audit_log.to_str().expect("a UTF-8 path")]);
        Shared {
            sim,
            audit_log,
            _dir: dir,
        }
    })
}

/// A ServiceAccount `name` in `ns`, a Role of the same name with `rules` (YAML flow
/// sequence), and the RoleBinding between them.
fn account_with_role(ns: &str, name: &str, rules: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: {ns}}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: {name}, namespace: {ns}}}\n\
         rules: {rules}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {name}, namespace: {ns}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {name}}}\n\
         subjects: [{{kind: ServiceAccount, name: {name}, namespace: {ns}}}]\n"
    )
}

/// kubectl with `token` instead of the kubeconfig's admin token.
fn as_token(sim: &Sim, token: &str, args: &[&str]) -> Output {
    let mut all = vec!["--token", token];
    all.extend_from_slice(args);
    sim.kubectl_command(&all).output().expect("kubectl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_service_account_token_gets_what_its_role_grants_and_a_403_for_the_rest() {
    let Shared { sim, audit_log, .. } = shared();
    let ns = sim.namespace("identity-tokens");
    sim.create(&account_with_role(
        &ns,
        "upgrader",
        "[{apiGroups: [''], resources: [configmaps], verbs: [get, list, create]}]",
    ));
    let token = sim
        .kubectl(&["create", "token", "upgrader", "-n", &ns])
        .trim()
        .to_owned();
    assert!(!token.is_empty());
    let user = format!("system:serviceaccount:{ns}:upgrader");

    let listed = as_token(sim, &token, &["get", "configmaps", "-n", &ns, "-o", "name"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let made = sim
        .kubectl_command(&[
            "--token",
            &token,
            "create",
            "--validate=false",
            "-n",
            &ns,
            "-f",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made}\n")?;
            child.wait_with_output()
        })
        .expect("kubectl runs");
    assert!(made.status.success(), "{}", text(&made.stderr));

    for (args, message) in [
        (
            vec!["get", "pods", "-n", &ns],
            format!("pods is forbidden: User \"{user}\" cannot list resource \"pods\" in API group \"\" in the namespace \"{ns}\""),
        ),
        (
            vec!["delete", "configmap", "made", "-n", &ns],
            format!("configmaps \"made\" is forbidden: User \"{user}\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"{ns}\""),
        ),
        (
            vec!["get", "configmaps", "-n", "default"],
            format!("configmaps is forbidden: User \"{user}\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""),
        ),
        (
            vec!["get", "namespaces"],
            format!("namespaces is forbidden: User \"{user}\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"),
        ),
        (
            vec!["get", "deployments.apps", "web", "-n", &ns],
            format!("deployments.apps \"web\" is forbidden: User \"{user}\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"{ns}\""),
        ),
    ] {
        let denied = as_token(sim, &token, &args);
        assert!(!denied.status.success(), "{args:?} was allowed");
        assert_eq!(
            text(&denied.stderr),
            format!("Error from server (Forbidden): {message}\n"),
            "{args:?}"
        );
    }

    let can_i = |args: &[&str]| {
        let mut all = vec!["auth", "can-i"];
        all.extend_from_slice(args);
        text(&as_token(sim, &token, &all).stdout).trim().to_owned()
    };
    assert_eq!(can_i(&["create", "configmaps", "-n", &ns]), "yes");
    assert_eq!(can_i(&["delete", "configmaps", "-n", &ns]), "no");
    assert_eq!(can_i(&["get", "pods", "-n", &ns]), "no");

    let whoami = as_token(
        sim,
        &token,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert_eq!(text(&whoami.stdout), user, "{}", text(&whoami.stderr));

    // The audit log names the account, with its groups, on allowed and refused requests.
    let log = std::fs::read_to_string(audit_log).expect("the audit log");
    let events: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["user"]["username"] == user.as_str())
        .collect();
    let codes: Vec<u64> = events
        .iter()
        .filter_map(|e| e["responseStatus"]["code"].as_u64())
        .collect();
    assert!(codes.contains(&200) && codes.contains(&403), "{codes:?}");
    assert_eq!(
        events[0]["user"]["groups"],
        serde_json::json!([
            "system:serviceaccounts",
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated"
        ])
    );

    // Deleting the account revokes its tokens.
    sim.kubectl(&["delete", "serviceaccount", "upgrader", "-n", &ns]);
    let revoked = as_token(sim, &token, &["get", "configmaps", "-n", &ns]);
    assert!(!revoked.status.success());
    assert!(
        text(&revoked.stderr).contains("Unauthorized"),
        "{}",
        text(&revoked.stderr)
    );
}

/// A Pod on the host's network that runs kubectl as ServiceAccount `account`.
fn kubectl_pod(ns: &str, name: &str, account: &str, script: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  \
         serviceAccountName: {account}\n  hostNetwork: true\n  restartPolicy: Never\n{extra}  \
         containers:\n  - name: main\n    image: adze-test/kube-tools:bookworm\n    \
         imagePullPolicy: Never\n    command: [bash, -c]\n    args: ['{script}']\n"
    )
}

fn phase(sim: &Sim, ns: &str, name: &str) -> String {
    sim.kubectl(&[
        "get",
        "pod",
        name,
        "-n",
        ns,
        "-o",
        "jsonpath={.status.phase}",
    ])
}

fn finished(sim: &Sim, ns: &str, name: &str) -> String {
    let mut last = String::new();
    eventually(
        Duration::from_secs(90),
        &format!("Pod {name} to finish"),
        || {
            last = phase(sim, ns, name);
            last == "Succeeded" || last == "Failed"
        },
    );
    last
}

#[test]
fn pods_reach_the_api_as_their_service_account_and_rbac_decides() {
    let Shared { sim, .. } = shared();
    let ns = sim.namespace("identity-pods");
    sim.create(&account_with_role(
        &ns,
        "reader",
        "[{apiGroups: [''], resources: [configmaps], verbs: [list]}]",
    ));
    sim.create(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {ns}}}\ndata: {{a: b}}\n"
    ));
    sim.create(&kubectl_pod(
        &ns,
        "allowed",
        "reader",
        "kubectl get configmaps -o name",
        "",
    ));
    sim.create(&kubectl_pod(
        &ns,
        "denied",
        "reader",
        "kubectl get secrets -o name",
        "",
    ));
    // Off the host's network, the Pod reaches kube-sim on the Docker bridge's gateway.
    sim.create(
        &kubectl_pod(
            &ns,
            "bridged",
            "reader",
            "echo $KUBERNETES_SERVICE_HOST; kubectl get configmaps -o name",
            "",
        )
        .replace("  hostNetwork: true\n", ""),
    );
    sim.create(&kubectl_pod(
        &ns,
        "opted-out",
        "reader",
        "if [ -e /var/run/secrets/kubernetes.io/serviceaccount/token ]; then echo mounted; \
         else echo absent; fi; kubectl get configmaps 2>&1",
        "  automountServiceAccountToken: false\n",
    ));

    assert_eq!(finished(sim, &ns, "allowed"), "Succeeded");
    let logs = sim.kubectl(&["logs", "allowed", "-n", &ns]);
    assert!(logs.contains("configmap/settings"), "{logs}");

    assert_eq!(finished(sim, &ns, "denied"), "Failed");
    assert_eq!(
        sim.kubectl(&["logs", "denied", "-n", &ns]),
        format!(
            "Error from server (Forbidden): secrets is forbidden: User \
             \"system:serviceaccount:{ns}:reader\" cannot list resource \"secrets\" in API \
             group \"\" in the namespace \"{ns}\"\n"
        )
    );

    assert_eq!(finished(sim, &ns, "bridged"), "Succeeded");
    let logs = sim.kubectl(&["logs", "bridged", "-n", &ns]);
    assert!(
        !logs.starts_with("127.0.0.1") && logs.ends_with("configmap/settings\n"),
        "{logs}"
    );

    // Without the token, kubectl falls back to no credentials at all and is refused. (Its
    // stderr goes to stdout: the engine does not keep the order of lines across streams.)
    assert_eq!(finished(sim, &ns, "opted-out"), "Failed");
    let logs = sim.kubectl(&["logs", "opted-out", "-n", &ns]);
    assert!(logs.starts_with("absent\n"), "{logs}");
    assert!(!logs.contains("settings"), "{logs}");
}
