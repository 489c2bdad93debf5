//! `pipelines/observability-rollout` run end to end with `adze run` in Docker: Helm is the
//! recording fake tool (answered here from `fixtures/observability/helm/`), and the stack's
//! own HTTP APIs are [`crate::fake_stack`]. The scenarios assert the order in which the
//! pipeline installed and verified each phase, read from the fake server's log.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_server::{FakeServer, Recorder, ToolCall, ToolReply, Tools};
use crate::fake_stack::{self, Faults, GRAFANA_PASSWORD, GRAFANA_USER};
use crate::harness::{self, Cluster, PipelineRunDoc, RunOutcome};

/// The releases the pipeline installs, in its order, with the chart versions it pins.
const RELEASES: [(&str, &str); 5] = [
    ("kube-prometheus-stack", "72.9.1"),
    ("loki", "6.30.1"),
    ("alloy", "1.1.1"),
    ("tempo", "1.23.2"),
    ("opentelemetry-collector", "0.127.2"),
];

/// One release the fake Helm installed.
#[derive(Debug, Clone)]
struct Release {
    namespace: String,
    chart: String,
    version: String,
    revision: u32,
    /// The values Helm read on standard input (`--values -`).
    values: String,
}

/// A fake `helm` keeping the releases it installed, so `helm list` answers like Helm after
/// `helm upgrade --install`.
///
/// With a cluster, an install from a Pod also does Helm's API work there as the Pod's
/// ServiceAccount: it lists the release's history Secrets, makes the namespace when asked
/// (`--create-namespace`), creates the chart's objects (`fixtures/observability/charts/`)
/// and records the release in a `helm.sh/release.v1` Secret, as Helm does.
#[derive(Clone, Default)]
struct Helm {
    releases: Arc<Mutex<BTreeMap<String, Release>>>,
    cluster: Option<Arc<Cluster>>,
}

fn helm_fixture(name: &str) -> String {
    let path = fake_stack::fixtures().join("helm").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

impl Helm {
    fn tools(&self) -> Tools {
        let helm = self.clone();
        Arc::new(move |call: &ToolCall| {
            if call.tool != "helm" {
                return ToolReply::fail(
                    127,
                    format!("fake {}: not expected in this pipeline\n", call.tool),
                );
            }
            helm.answer(call)
        })
    }

    fn answer(&self, call: &ToolCall) -> ToolReply {
        let args: Vec<&str> = call.argv.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["repo", "add", name, _url, ..] => {
                ToolReply::ok(helm_fixture("repo-add.txt").replace("{name}", name))
            }
            ["upgrade", "--install", release, chart_ref, ..] => {
                let (Some(namespace), Some(version)) =
                    (call.flag("--namespace"), call.flag("--version"))
                else {
                    return ToolReply::fail(
                        1,
                        "Error: the fake helm needs --namespace and --version\n",
                    );
                };
                let chart = chart_ref
                    .rsplit('/')
                    .next()
                    .unwrap_or(chart_ref)
                    .to_string();
                let mut releases = self.releases.lock().unwrap();
                let revision = releases.get(*release).map_or(1, |r| r.revision + 1);
                if let (Some(cluster), Some(token)) = (&self.cluster, &call.token) {
                    let create_namespace = call.argv.iter().any(|a| a == "--create-namespace");
                    let install = Install {
                        release,
                        chart: &chart,
                        namespace,
                        revision,
                        create_namespace,
                    };
                    if let Err(stderr) = install.apply(cluster, token) {
                        return ToolReply::fail(1, format!("Error: {stderr}"));
                    }
                }
                releases.insert(
                    release.to_string(),
                    Release {
                        namespace: namespace.into(),
                        chart,
                        version: version.into(),
                        revision,
                        values: call.stdin.clone(),
                    },
                );
                ToolReply::ok(
                    helm_fixture("upgrade.txt")
                        .replace("{release}", release)
                        .replace("{namespace}", namespace)
                        .replace("{revision}", &revision.to_string()),
                )
            }
            ["list", ..] => {
                let wanted = call
                    .flag("--filter")
                    .unwrap_or("")
                    .trim_start_matches('^')
                    .trim_end_matches('$');
                let app_versions: Value = serde_json::from_str(&helm_fixture("app-versions.json"))
                    .expect("app-versions.json");
                let releases = self.releases.lock().unwrap();
                let listed: Vec<Value> = releases
                    .iter()
                    .filter(|(name, r)| {
                        name.as_str() == wanted
                            && Some(r.namespace.as_str()) == call.flag("--namespace")
                    })
                    .map(|(name, r)| {
                        json!({
                            "name": name,
                            "namespace": r.namespace,
                            "revision": r.revision.to_string(),
                            "updated": "2026-12-05 08:00:00.000000000 +0000 UTC",
                            "status": "deployed",
                            "chart": format!("{}-{}", r.chart, r.version),
                            "app_version": app_versions[&r.chart],
                        })
                    })
                    .collect();
                ToolReply::ok(Value::Array(listed).to_string())
            }
            _ => ToolReply::fail(
                1,
                format!(
                    "Error: the fake helm does not know `helm {}`\n",
                    call.args()
                ),
            ),
        }
    }

    fn release(&self, name: &str) -> Release {
        self.releases
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("release {name} was never installed"))
    }
}

/// One `helm upgrade --install` done in a cluster.
struct Install<'a> {
    release: &'a str,
    chart: &'a str,
    namespace: &'a str,
    revision: u32,
    create_namespace: bool,
}

impl Install<'_> {
    /// Does Helm's API work as the bearer of `token`; kubectl's stderr when refused.
    fn apply(&self, cluster: &Cluster, token: &str) -> Result<(), String> {
        let ns = self.namespace;
        let history = format!("owner=helm,name={}", self.release);
        cluster.kubectl_as(
            token,
            &["get", "secrets", "-n", ns, "-l", &history, "-o", "name"],
        )?;
        if self.create_namespace
            && cluster
                .kubectl_as(token, &["get", "namespace", ns, "-o", "name"])
                .is_err()
        {
            cluster.kubectl_as(token, &["create", "namespace", ns])?;
        }
        let path = fake_stack::fixtures()
            .join("charts")
            .join(format!("{}.yaml", self.chart));
        let objects = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
            .replace("{namespace}", ns);
        // Helm validates against the chart's schema, not the server's OpenAPI document.
        let create = |name: &str, contents: &str| {
            let file = cluster.write(name, contents);
            let file = file.to_str().expect("UTF-8 path");
            cluster.kubectl_as(token, &["create", "--validate=false", "-f", file])
        };
        create(&format!("chart-{}.yaml", self.release), &objects)?;
        let record = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "helm.sh/release.v1",
            "metadata": {
                "name": format!("sh.helm.release.v1.{}.v{}", self.release, self.revision),
                "namespace": ns,
                "labels": {
                    "owner": "helm",
                    "name": self.release,
                    "status": "deployed",
                    "version": self.revision.to_string(),
                },
            },
            "stringData": { "release": format!("{} {}", self.chart, self.revision) },
        });
        create(
            &format!("release-{}.json", self.release),
            &record.to_string(),
        )?;
        Ok(())
    }
}

/// One scenario: the fake server (Helm and the stack) and what the run did.
struct Rollout {
    fake: FakeServer,
    helm: Helm,
    outcome: RunOutcome,
}

/// The Secret with Grafana's admin credentials the verification reads (its workspace).
fn grafana_secret() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "kube-prometheus-stack-grafana"},
        "stringData": {"admin-user": GRAFANA_USER, "admin-password": GRAFANA_PASSWORD},
    })
}

/// A run `name` against the fake stack at `url`, every check retrying for at most
/// `verify_timeout` seconds, once a second.
fn rollout_doc(name: &str, url: &str, verify_timeout: u32) -> PipelineRunDoc {
    let mut run = PipelineRunDoc::new(name, "observability-rollout")
        .param("toolsImage", harness::TOOLS_IMAGE)
        .param("verifyTimeoutSeconds", verify_timeout.to_string())
        .param("verifyIntervalSeconds", "1")
        .secret_workspace("grafana-credentials", "kube-prometheus-stack-grafana")
        .fake_url(url)
        .timeout("5m");
    for param in [
        "prometheusUrl",
        "grafanaUrl",
        "lokiUrl",
        "otlpUrl",
        "tempoUrl",
        "alertmanagerUrl",
    ] {
        run = run.param(param, url);
    }
    run
}

/// Runs the pipeline against a fake stack with `faults`, every check retrying for at most
/// `verify_timeout` seconds, once a second.
fn roll_out(name: &str, faults: Faults, verify_timeout: u32) -> Rollout {
    let recorder = Recorder::default();
    let helm = Helm::default();
    let fake = FakeServer::start(
        recorder.clone(),
        helm.tools(),
        fake_stack::router(recorder, faults),
    );
    let dir = tempfile::tempdir().expect("a directory");
    let run = rollout_doc(name, &fake.url, verify_timeout);
    let file: PathBuf = dir.path().join("run.yaml");
    let docs = format!(
        "{}---\n{}",
        serde_yaml_ng::to_string(&grafana_secret()).expect("render the Secret"),
        run.to_yaml()
    );
    std::fs::write(&file, docs).expect("write the PipelineRun");
    let outcome = harness::run_pipeline(&[file], &[], &[]);
    Rollout {
        fake,
        helm,
        outcome,
    }
}

#[test]
fn a_healthy_stack_is_rolled_out_phase_by_phase_each_gated_on_its_check() {
    let Rollout {
        fake,
        helm,
        outcome,
    } = roll_out("observability-healthy", Faults::default(), 20);
    let events = fake.recorder.events();
    assert_eq!(
        outcome.code,
        Some(0),
        "{}\n--- fake server log ---\n{}",
        harness::explain(&outcome),
        harness::numbered(&events)
    );

    let trace_id = harness::results(&outcome)["traceId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(trace_id.len(), 32, "traceId result: {trace_id:?}");
    harness::assert_in_order(
        &events,
        &[
            // Phase 1: metrics, then its checks.
            "helm upgrade --install kube-prometheus-stack ",
            "prometheus targets state=active",
            "grafana datasources authorized=true",
            "grafana health prometheus",
            // Phase 2: logs, only after the metrics checks.
            "helm upgrade --install loki ",
            "helm upgrade --install alloy ",
            "loki push probe=",
            "loki query {job=\"adze-verify\",probe=",
            "loki query {namespace=\"monitoring\"}",
            // Phase 3: traces, only after Loki returned the test line.
            "helm upgrade --install tempo ",
            "helm upgrade --install opentelemetry-collector ",
            &format!("otlp traces {trace_id}"),
            &format!("tempo trace {trace_id} found=true"),
            // Phase 4: alerting.
            "alertmanager post AdzeRolloutProbe probe=",
            "alertmanager get alertname=\"AdzeRolloutProbe\",probe=",
        ],
    );

    // Every install is pinned, atomic and waits, in the pipeline's namespace.
    for (release, version) in RELEASES {
        let call = harness::position(&events, &format!("helm upgrade --install {release} "));
        let line = &events[call];
        for flag in [
            &format!("--version {version}") as &str,
            "--namespace monitoring",
            "--atomic",
            "--wait",
            "--timeout 10m",
            "--values -",
        ] {
            assert!(line.contains(flag), "{flag} missing in: {line}");
        }
        let installed = helm.release(release);
        assert_eq!(installed.revision, 1, "{release} installed once");
        assert_eq!(installed.version, version);
    }
    // The values went to Helm unchanged: the YAML a person wrote in the params.
    assert!(helm
        .release("loki")
        .values
        .contains("deploymentMode: SingleBinary"));
    assert!(helm
        .release("opentelemetry-collector")
        .values
        .contains("endpoint: tempo:4317"));
    assert!(helm
        .release("alloy")
        .values
        .contains("loki.source.kubernetes \"pods\""));

    // Grafana's Alertmanager datasource has no health check: it is not asked.
    assert!(
        !events.iter().any(|e| e == "grafana health alertmanager"),
        "{}",
        harness::numbered(&events)
    );

    let results = harness::results(&outcome);
    for name in [
        "prometheusStackRevision",
        "lokiRevision",
        "alloyRevision",
        "tempoRevision",
        "otelCollectorRevision",
    ] {
        assert_eq!(results[name], json!("1"), "result {name} in {results:?}");
    }
    let probe = results["lokiProbeId"].as_str().unwrap_or_default();
    assert!(
        events
            .iter()
            .any(|e| e == &format!("loki push probe={probe} lines=1")),
        "probe {probe}"
    );
    assert!(
        results["alertFingerprint"]
            .as_str()
            .is_some_and(|f| !f.is_empty()),
        "{results:?}"
    );
}

#[test]
fn loki_losing_the_test_line_stops_the_rollout_before_the_traces_phase() {
    let Rollout { fake, outcome, .. } = roll_out(
        "observability-loki-drops",
        Faults {
            loki_drops_pushes: true,
        },
        4,
    );
    let events = fake.recorder.events();
    assert_eq!(
        outcome.code,
        Some(1),
        "{}\n{}",
        harness::explain(&outcome),
        harness::numbered(&events)
    );

    harness::assert_in_order(
        &events,
        &[
            "helm upgrade --install kube-prometheus-stack ",
            "grafana health prometheus",
            "helm upgrade --install loki ",
            "helm upgrade --install alloy ",
            "loki push probe=",
            "loki query {job=\"adze-verify\",probe=",
        ],
    );
    // Loki was asked again and again until the timeout, never for the agent's lines (the test
    // line comes first), and nothing of the traces or alerting phases happened.
    let queries = events
        .iter()
        .filter(|e| e.starts_with("loki query {job=\"adze-verify\""))
        .count();
    assert!(
        queries >= 2,
        "Loki was queried {queries} time(s):\n{}",
        harness::numbered(&events)
    );
    for absent in [
        "loki query {namespace=",
        "helm upgrade --install tempo ",
        "helm upgrade --install opentelemetry-collector ",
        "otlp traces",
        "tempo trace",
        "alertmanager",
    ] {
        assert!(
            !events.iter().any(|e| e.contains(absent)),
            "{absent:?} happened:\n{}",
            harness::numbered(&events)
        );
    }

    // The reason names Loki and what it did, in the failed task's log and the run's status.
    assert!(
        outcome.stderr.contains("verify-loki: Loki at")
            && outcome
                .stderr
                .contains("accepted the test line but did not return it within 4s"),
        "{}",
        harness::explain(&outcome)
    );
    let (status, reason, message) = harness::condition(&outcome);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "Failed"),
        "{message}"
    );
    let run = outcome.json().unwrap_or(Value::Null);
    let names = |list: &Value, key: &str| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c[key].as_str().map(String::from))
            .collect()
    };
    assert_eq!(
        names(&run["status"]["childReferences"], "pipelineTaskName"),
        [
            "install-metrics",
            "verify-metrics",
            "install-logs",
            "install-log-agent",
            "verify-logs"
        ],
        "the tasks that ran"
    );
    assert_eq!(
        names(&run["status"]["skippedTasks"], "name"),
        [
            "install-traces",
            "install-trace-collector",
            "verify-traces",
            "verify-alerting"
        ],
        "the tasks skipped"
    );
}

/// The pipeline's tasks as (name, runAfter, the Task it refers to), in file order.
fn pipeline_tasks() -> Vec<(String, Vec<String>, String)> {
    let path = harness::repo().join("pipelines/observability-rollout/observability-rollout.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pipeline: Value = serde_yaml_ng::from_str(&text).expect("the pipeline is YAML");
    pipeline["spec"]["tasks"]
        .as_array()
        .expect("spec.tasks")
        .iter()
        .map(|t| {
            let after = t["runAfter"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(String::from))
                .collect();
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                after,
                t["taskRef"]["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn each_task_waits_for_the_one_before_it_so_phases_never_overlap() {
    let tasks = pipeline_tasks();
    let names: Vec<&str> = tasks.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "install-metrics",
            "verify-metrics",
            "install-logs",
            "install-log-agent",
            "verify-logs",
            "install-traces",
            "install-trace-collector",
            "verify-traces",
            "verify-alerting"
        ]
    );
    assert!(tasks[0].1.is_empty(), "the first task waits for nothing");
    for pair in tasks.windows(2) {
        assert_eq!(
            pair[1].1,
            [pair[0].0.clone()],
            "{} must run after exactly {}",
            pair[1].0,
            pair[0].0
        );
    }
    let refs: Vec<&str> = tasks.iter().map(|(_, _, r)| r.as_str()).collect();
    assert_eq!(
        refs,
        [
            "helm-upgrade-install",
            "verify-prometheus-grafana",
            "helm-upgrade-install",
            "helm-upgrade-install",
            "verify-loki",
            "helm-upgrade-install",
            "helm-upgrade-install",
            "verify-tempo",
            "verify-alertmanager"
        ]
    );
}

/// The verification tasks, which speak HTTP to the stack and need no token.
const VERIFY_TASKS: [&str; 4] = [
    "verify-metrics",
    "verify-logs",
    "verify-traces",
    "verify-alerting",
];

#[test]
fn under_adze_controller_helm_needs_nothing_beyond_what_rbac_yaml_grants() {
    let cluster = Arc::new(Cluster::start(&[]));
    cluster.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: adze-pipelines}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n",
    );
    let rbac = harness::rbac_yaml("observability-rollout");
    cluster.apply(&rbac);
    harness::install_catalog(&cluster, "adze-pipelines");
    let mut secret = grafana_secret();
    secret["metadata"]["namespace"] = json!("adze-pipelines");
    cluster.apply(&secret.to_string());

    let recorder = Recorder::default();
    let helm = Helm {
        cluster: Some(cluster.clone()),
        ..Helm::default()
    };
    let fake = FakeServer::start(
        recorder.clone(),
        helm.tools(),
        fake_stack::router(recorder, Faults::default()),
    );
    // As the example PipelineRun: the ServiceAccount for every task, no token where the
    // task speaks only HTTP to the stack.
    let mut run = rollout_doc("in-cluster", &fake.url, 30)
        .label("adze.dev/controller", "true")
        .service_account("observability-rollout");
    for task in VERIFY_TASKS {
        run = run.task_run_spec(json!({
            "pipelineTaskName": task,
            "podTemplate": {"automountServiceAccountToken": false},
        }));
    }
    let controller = harness::start_controller(&cluster, "adze-pipelines");
    let finished = harness::create_and_wait(
        &cluster,
        "adze-pipelines",
        &run,
        Duration::from_secs(240),
        &controller,
    );
    let sa = "system:serviceaccount:adze-pipelines:observability-rollout";
    let audit = cluster.audit();
    let denied = harness::denied(&audit, sa);
    assert!(denied.is_empty(), "rbac.yaml does not allow: {denied:?}");
    let events = fake.recorder.events();
    assert_eq!(
        finished["status"]["conditions"][0]["status"],
        "True",
        "{}\n{}--- fake server log ---\n{}\ncontroller:\n{}",
        finished["status"]["conditions"],
        harness::task_runs_summary(&cluster, "adze-pipelines"),
        harness::numbered(&events),
        controller.stderr()
    );

    // Every request went out as the ServiceAccount and is one rbac.yaml grants.
    let used = harness::requests_of(&audit, sa, 0);
    let mut granted = crate::common::rbac_rules::granted_by_yaml(&rbac);
    granted.extend(harness::public_info());
    let ungranted: Vec<_> = used.difference(&granted).collect();
    assert!(ungranted.is_empty(), "used but not granted: {ungranted:?}");
    // Helm's work was done, by the ServiceAccount: the cluster-wide objects, the ones in the
    // release namespace and in kube-system, and each release's record.
    let created: std::collections::BTreeSet<(String, String)> = audit
        .iter()
        .filter(|e| e.user == sa && e.verb == "create" && (200..300).contains(&e.code))
        .map(|e| (e.resource.clone(), e.namespace.clone()))
        .collect();
    for (resource, namespace) in [
        ("customresourcedefinitions", ""),
        ("clusterroles", ""),
        ("clusterrolebindings", ""),
        ("validatingwebhookconfigurations", ""),
        ("mutatingwebhookconfigurations", ""),
        ("services", "kube-system"),
        ("services", "monitoring"),
        ("deployments", "monitoring"),
        ("statefulsets", "monitoring"),
        ("daemonsets", "monitoring"),
        ("jobs", "monitoring"),
        ("roles", "monitoring"),
        ("rolebindings", "monitoring"),
        ("horizontalpodautoscalers", "monitoring"),
        ("networkpolicies", "monitoring"),
        ("poddisruptionbudgets", "monitoring"),
        ("persistentvolumeclaims", "monitoring"),
        ("secrets", "monitoring"),
    ] {
        assert!(
            created.contains(&(resource.to_owned(), namespace.to_owned())),
            "no {resource} created in {namespace:?} as the ServiceAccount: {created:?}"
        );
    }
    let records = cluster.kubectl(&[
        "get",
        "secrets",
        "-n",
        "monitoring",
        "-l",
        "owner=helm",
        "-o",
        "name",
    ]);
    let mut names: Vec<&str> = records.lines().collect();
    names.sort_unstable();
    let mut expected: Vec<String> = RELEASES
        .iter()
        .map(|(release, _)| format!("secret/sh.helm.release.v1.{release}.v1"))
        .collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "one release record per chart");

    // The Pods ran as the ServiceAccount; the verification Pods had no token.
    let pods = cluster.get(Some("adze-pipelines"), "pods");
    let pods = pods["items"].as_array().cloned().unwrap_or_default();
    assert!(!pods.is_empty(), "the controller's Pods are listed");
    for pod in &pods {
        let task = pod["metadata"]["labels"]["tekton.dev/pipelineTask"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            pod["spec"]["serviceAccountName"], "observability-rollout",
            "pod of {task}"
        );
        let automount = pod["spec"]["automountServiceAccountToken"].as_bool();
        if VERIFY_TASKS.contains(&task) {
            assert_eq!(automount, Some(false), "pod of {task} mounts no token");
        } else {
            assert_ne!(automount, Some(false), "pod of {task} has its token");
        }
    }

    // The check has teeth: the namespace's default ServiceAccount may not install a chart.
    let token = cluster.token("adze-pipelines", "default");
    let refused = Install {
        release: "kube-prometheus-stack",
        chart: "kube-prometheus-stack",
        namespace: "monitoring",
        revision: 2,
        create_namespace: false,
    }
    .apply(&cluster, &token)
    .expect_err("the default ServiceAccount is refused");
    assert!(refused.contains("forbidden"), "{refused}");
}
