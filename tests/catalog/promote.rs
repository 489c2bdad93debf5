//! The promote pipeline (`pipelines/promote`) run end to end with `adze run` in Docker.
//!
//! # Design
//!
//! - Two kube-sims stand in for staging (which also hosts dev, in namespace `shop-dev`) and
//!   production, each seeded with the Deployment `web` (and a status saying it is rolled
//!   out), NetworkPolicies and a ResourceQuota; `--server-version` sets their Kubernetes
//!   versions for the drift check.
//! - The manifests are a bare git repository made by the test (`base/` + `overlays/<env>`),
//!   served by `git daemon` on 127.0.0.1 with pushes allowed. Its `post-receive` hook is the
//!   GitOps controller: for each overlay a push changed it sets the image on that
//!   environment's Deployment in kube-sim, marks it rolled out, and tells the fake server
//!   (`sync <env> <image>`), so the verification tasks see what a real cluster would show.
//! - The smoke URLs are routes of the fake server (`/smoke/<env>`, recorded as
//!   `smoke <env>`); production's TLS endpoint is `openssl s_server` with certificates the
//!   test signs with its own CA, bound as the `ca-bundle` workspace.
//! - The approval gate runs locally, so it reads the `approvals` workspace, a folder the test
//!   writes into with the real `adze approve --approvals DIR`. The test knows the gate waits
//!   when the gate's container logged "waiting up to 3m for a decision on ...".
//!
//! # Invariants
//!
//! - Each scenario has its own clusters, repository, servers and run name, so scenarios run
//!   side by side.
//! - "Production untouched" is asserted three ways: no production commit in git, no write to
//!   production's kube-sim after the run started, no production sync or smoke call.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::common::pki::Pki;
use crate::fake_server::{FakeServer, Recorder, ToolCall, ToolReply};
use crate::harness::{self, Cluster, PipelineRunDoc, RunOutcome, TOOLS_IMAGE};

/// What every environment runs before the promotion.
const OLD_DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
/// What the pipeline promotes.
const NEW_DIGEST: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
/// The image's repository (the overlays' `newName`).
const REPOSITORY: &str = "registry.example.com/shop/web";

fn old_image() -> String {
    format!("{REPOSITORY}@{OLD_DIGEST}")
}

fn new_image() -> String {
    format!("{REPOSITORY}@{NEW_DIGEST}")
}

/// How long a scenario waits for the gate to start waiting.
const GATE_LIMIT: Duration = Duration::from_secs(200);

/// Makes `dir` readable (and `writable` if asked) by the steps' user (65532).
fn open_up(dir: &Path, writable: bool) {
    let mode = if writable { 0o777 } else { 0o755 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Runs a command, panicking with its stderr when it fails; its stdout.
fn sh(program: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits until something accepts connections on `port`.
fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process this test started, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// --- clusters --------------------------------------------------------------------------

/// How staging differs from production in a scenario (nothing, by default).
#[derive(Default)]
struct Drift {
    /// Staging's Kubernetes version instead of 1.31.2 (production runs 1.31.4: patch
    /// levels may differ).
    staging_version: Option<&'static str>,
    /// Staging lacks production's NetworkPolicy `deny-all`.
    staging_lacks_deny_all: bool,
    /// Staging's `limits.memory` quota instead of production's 8Gi.
    staging_memory: Option<&'static str>,
}

/// The seed of one environment namespace: the Deployment, and (for `shop`) its policies.
fn seed_namespace(ns: &str, deny_all: bool, memory: &str) -> String {
    let mut yaml = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\n\
         spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n\
         \x20   metadata: {{labels: {{app: web}}}}\n    spec:\n      containers:\n\
         \x20       - {{name: web, image: \"{image}\"}}\n",
        image = old_image()
    );
    if ns != "shop" {
        return yaml;
    }
    if deny_all {
        yaml.push_str(&format!(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n\
             metadata: {{name: deny-all, namespace: {ns}}}\n\
             spec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n"
        ));
    }
    yaml.push_str(&format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n\
         metadata: {{name: allow-web, namespace: {ns}}}\n\
         spec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  ingress:\n\
         \x20   - from: [{{podSelector: {{matchLabels: {{app: ingress}}}}}}]\n\
         \x20     ports: [{{port: 8080}}]\n\
         ---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {{name: compute, namespace: {ns}}}\n\
         spec:\n  hard: {{requests.cpu: \"4\", limits.memory: {memory}, pods: \"50\"}}\n"
    ));
    yaml
}

/// Marks `ns/web` rolled out at its current generation, as the Deployment controller would.
fn rolled_out(cluster: &Cluster, ns: &str) {
    let generation = cluster.get(Some(ns), "deployment/web")["metadata"]["generation"]
        .as_i64()
        .unwrap_or(1);
    cluster.set_status(
        Some(ns),
        "deployment/web",
        &json!({
            "observedGeneration": generation, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 2, "availableReplicas": 2,
        }),
    );
}

/// The image `ns/web` runs in `cluster`.
fn running_image(cluster: &Cluster, ns: &str) -> String {
    cluster.get(Some(ns), "deployment/web")["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

// --- git --------------------------------------------------------------------------------

/// The bare repository of the manifests, served by `git daemon`.
struct Remote {
    /// `git://127.0.0.1:N/shop-deploy.git`.
    url: String,
    bare: PathBuf,
    _daemon: Server,
}

impl Remote {
    /// Creates the layout, pushes it, installs `hook` as post-receive and starts serving.
    fn start(dir: &Path, hook: &str) -> Remote {
        let bare = dir.join("shop-deploy.git");
        let work = dir.join("work");
        std::fs::create_dir_all(dir).expect("the repository's folder");
        sh(
            "git",
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
            dir,
        );
        std::fs::create_dir_all(work.join("base")).unwrap();
        std::fs::write(
            work.join("base/deployment.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n\
             \x20 selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n\
             \x20     labels: {app: web}\n    spec:\n      containers:\n        - name: web\n\
             \x20         image: shop/web\n",
        )
        .unwrap();
        std::fs::write(
            work.join("base/kustomization.yaml"),
            "resources:\n  - deployment.yaml\n",
        )
        .unwrap();
        for env in ["dev", "staging", "production"] {
            let overlay = work.join("overlays").join(env);
            std::fs::create_dir_all(&overlay).unwrap();
            std::fs::write(
                overlay.join("kustomization.yaml"),
                format!(
                    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
                     resources:\n  - ../../base\n# The image is set by the promote pipeline.\n\
                     images:\n  - name: shop/web\n    newName: {REPOSITORY}\n    digest: {OLD_DIGEST}\n"
                ),
            )
            .unwrap();
        }
        sh("git", &["init", "-q", "-b", "main"], &work);
        sh("git", &["add", "-A"], &work);
        sh(
            "git",
            &[
                "-c",
                "user.name=test",
                "-c",
                "user.email=test@example.com",
                "commit",
                "-qm",
                "layout",
            ],
            &work,
        );
        sh(
            "git",
            &["push", "-q", bare.to_str().unwrap(), "main"],
            &work,
        );
        let hook_path = bare.join("hooks/post-receive");
        std::fs::write(&hook_path, hook).unwrap();
        std::fs::set_permissions(&hook_path, std::fs::Permissions::from_mode(0o755)).unwrap();

        let port = free_port();
        let daemon = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", dir.display()),
                "--export-all",
                "--enable=receive-pack",
                "--informative-errors",
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let daemon = Server(daemon);
        wait_listening(port, "git daemon");
        Remote {
            url: format!("git://127.0.0.1:{port}/shop-deploy.git"),
            bare,
            _daemon: daemon,
        }
    }

    fn git(&self, args: &[&str]) -> String {
        let mut all = vec!["--git-dir", self.bare.to_str().unwrap()];
        all.extend_from_slice(args);
        sh("git", &all, &self.bare)
    }

    /// The commits' subjects, oldest first.
    fn subjects(&self) -> Vec<String> {
        self.git(&["log", "--reverse", "--format=%s", "main"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The head commit's SHA.
    fn head(&self) -> String {
        self.git(&["rev-parse", "main"]).trim().to_owned()
    }
}

/// The post-receive hook standing in for a GitOps controller (see the module docs).
fn gitops_hook(staging: &Cluster, production: &Cluster, fake_url: &str) -> String {
    format!(
        r#"#!/usr/bin/env bash
# The test's GitOps controller: applies each overlay a push changed to its cluster.
set -euo pipefail
while read -r old new ref; do
  for env in dev staging production; do
    if [ -z "$(git diff --name-only "$old" "$new" -- "overlays/$env/kustomization.yaml")" ]; then continue; fi
    image=$(git show "$new:overlays/$env/kustomization.yaml" |
      awk '$1 == "newName:" {{ n = $2 }} $1 == "digest:" {{ d = $2 }} END {{ print n "@" d }}')
    case $env in
      dev) kc={staging}; ns=shop-dev ;;
      staging) kc={staging}; ns=shop ;;
      production) kc={production}; ns=shop ;;
    esac
    k() {{ kubectl --kubeconfig "$kc" -n "$ns" "$@" >/dev/null; }}
    k patch deployment web --type=json \
      -p "[{{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/image\",\"value\":\"$image\"}}]"
    generation=$(kubectl --kubeconfig "$kc" -n "$ns" get deployment web -o jsonpath='{{.metadata.generation}}')
    k patch deployment web --subresource=status --type=merge \
      -p "{{\"status\":{{\"observedGeneration\":$generation,\"replicas\":2,\"updatedReplicas\":2,\"readyReplicas\":2,\"availableReplicas\":2}}}}"
    curl -sS -X POST --data-binary "sync $env $image" {fake_url}/gitops >/dev/null
  done
done
"#,
        staging = staging.sim.kubeconfig.display(),
        production = production.sim.kubeconfig.display(),
    )
}

// --- TLS --------------------------------------------------------------------------------

/// Opens production's CA bundle to the steps (they run as another user).
fn ca_bundle(dir: &Path) -> Pki {
    let pki = Pki::new(dir);
    open_up(dir, false);
    pki
}

/// Serves a certificate `name` from `pki` for shop.example.com (valid `days` days) on
/// 127.0.0.1; the endpoint.
fn serve_tls(pki: &Pki, name: &str, days: u32) -> (String, Server) {
    let (cert, key) = pki.issue(name, "shop.example.com", "serverAuth", days);
    let port = free_port();
    let child = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-www",
            "-quiet",
        ])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let server = Server(child);
    wait_listening(port, "openssl s_server");
    (format!("127.0.0.1:{port}"), server)
}

// --- one scenario's world ------------------------------------------------------------------

/// Staging, production, the repository, the fake server and production's TLS endpoint.
struct World {
    staging: Cluster,
    production: Cluster,
    remote: Remote,
    fakes: FakeServer,
    tls_endpoint: String,
    _tls: Server,
    /// The `approvals` workspace (what `adze approve --approvals` writes).
    approvals: PathBuf,
    /// The `ca-bundle` workspace.
    ca_bundle: PathBuf,
    /// The run's files (PipelineRun, kubeconfig Secrets).
    files: PathBuf,
    /// Writes to production before the run started.
    production_writes_before: usize,
    _scratch: tempfile::TempDir,
}

/// The fake server's routes: smoke URLs and the hook's sync reports.
fn routes(recorder: Recorder) -> Router {
    Router::new()
        .route(
            "/smoke/{env}",
            get(
                |State(r): State<Recorder>, UrlPath(env): UrlPath<String>| async move {
                    r.record(format!("smoke {env}"));
                    "ok\n"
                },
            ),
        )
        .route(
            "/gitops",
            post(|State(r): State<Recorder>, body: String| async move {
                r.record(body);
                ""
            }),
        )
        .with_state(recorder)
}

impl World {
    fn start(drift: &Drift) -> World {
        let staging = Cluster::start(&[
            "--server-version",
            drift.staging_version.unwrap_or("1.31.2"),
        ]);
        let production = Cluster::start(&["--server-version", "1.31.4"]);
        staging.apply(&seed_namespace("shop-dev", true, "8Gi"));
        staging.apply(&seed_namespace(
            "shop",
            !drift.staging_lacks_deny_all,
            drift.staging_memory.unwrap_or("8Gi"),
        ));
        production.apply(&seed_namespace("shop", true, "8Gi"));
        rolled_out(&staging, "shop-dev");
        rolled_out(&staging, "shop");
        rolled_out(&production, "shop");

        let recorder = Recorder::default();
        let fakes = FakeServer::start(
            recorder.clone(),
            Arc::new(|call: &ToolCall| {
                ToolReply::fail(127, format!("no fake {} here\n", call.tool))
            }),
            routes(recorder),
        );
        let scratch = tempfile::tempdir().expect("a directory");
        let remote = Remote::start(
            &scratch.path().join("git"),
            &gitops_hook(&staging, &production, &fakes.url),
        );
        let pki = ca_bundle(&scratch.path().join("ca-bundle"));
        let (tls_endpoint, tls) = serve_tls(&pki, "production", 90);
        let approvals = scratch.path().join("approvals");
        std::fs::create_dir_all(&approvals).unwrap();
        open_up(&approvals, false);
        let files = scratch.path().join("files");
        std::fs::create_dir_all(&files).unwrap();
        let production_writes_before = production.audit().iter().filter(|e| e.is_write()).count();
        World {
            staging,
            production,
            remote,
            fakes,
            tls_endpoint,
            _tls: tls,
            approvals,
            ca_bundle: pki.dir.clone(),
            files,
            production_writes_before,
            _scratch: scratch,
        }
    }

    /// The PipelineRun `name` of the catalog's promote pipeline, against this world.
    fn run_doc(&self, name: &str, approval_timeout: &str) -> PipelineRunDoc {
        let smoke = |env: &str| format!("{}/smoke/{env}", self.fakes.url);
        PipelineRunDoc::new(name, "promote")
            .param("image", new_image())
            .param("imageName", "shop/web")
            .param("gitUrl", self.remote.url.clone())
            .param("deployment", "web")
            .param("devNamespace", "shop-dev")
            .param("stagingNamespace", "shop")
            .param("productionNamespace", "shop")
            .param("devSmokeUrl", smoke("dev"))
            .param("stagingSmokeUrl", smoke("staging"))
            .param("productionSmokeUrl", smoke("production"))
            .param("rolloutTimeout", "30s")
            .param("driftNamespaces", json!(["shop"]))
            .param("tlsEndpoints", json!([self.tls_endpoint]))
            .param("approvalTimeout", approval_timeout)
            .param("approvalPollInterval", "1")
            .param("approvers", json!(["alice", "bob"]))
            .param("toolsImage", TOOLS_IMAGE)
            .param("gitImage", TOOLS_IMAGE)
            .param("opensslImage", TOOLS_IMAGE)
            .empty_dir_workspace("source")
            .secret_workspace("dev-kubeconfig", "staging-kubeconfig")
            .secret_workspace("staging-kubeconfig", "staging-kubeconfig")
            .secret_workspace("production-kubeconfig", "production-kubeconfig")
            .timeout("10m")
    }

    /// Starts `adze run` of `doc` on a thread; the run's outcome when joined.
    fn start_run(&self, doc: &PipelineRunDoc) -> JoinHandle<RunOutcome> {
        let run = self.files.join("run.yaml");
        std::fs::write(
            &run,
            format!(
                "{}---\n{}---\n{}",
                doc.to_yaml(),
                self.staging.kubeconfig_secret("staging-kubeconfig"),
                self.production.kubeconfig_secret("production-kubeconfig"),
            ),
        )
        .unwrap();
        let approvals = format!("approvals={}", self.approvals.display());
        let ca = format!("ca-bundle={}", self.ca_bundle.display());
        std::thread::spawn(move || {
            let (a_name, a_dir) = approvals.split_once('=').unwrap();
            let (c_name, c_dir) = ca.split_once('=').unwrap();
            harness::run_pipeline(&[run], &[], &[(a_name, a_dir), (c_name, c_dir)])
        })
    }

    /// `adze approve ARGS --approvals <the approvals workspace>`.
    fn approve(&self, args: &[&str]) -> RunOutcome {
        let mut command = Command::new(env!("CARGO_BIN_EXE_adze"));
        command
            .arg("approve")
            .args(args)
            .arg("--approvals")
            .arg(&self.approvals)
            .env("NO_COLOR", "1");
        crate::common::run_command(command, Duration::from_secs(30))
    }

    /// Counts production's writes so far as set-up: [`World::assert_production_untouched`]
    /// looks at what comes after.
    fn production_set_up(&mut self) {
        self.production_writes_before = self
            .production
            .audit()
            .iter()
            .filter(|e| e.is_write())
            .count();
    }

    /// Asserts that nothing reached production: no commit to its overlay, no write to its
    /// cluster since the run started, no sync or smoke call, and the old image running.
    fn assert_production_untouched(&self) {
        let subjects = self.remote.subjects();
        assert!(
            !subjects.iter().any(|s| s.starts_with("promote production")),
            "production was promoted in git: {subjects:?}"
        );
        let writes: Vec<String> = self
            .production
            .audit()
            .iter()
            .filter(|e| e.is_write())
            .skip(self.production_writes_before)
            .map(|e| e.line())
            .collect();
        assert!(writes.is_empty(), "the run wrote to production: {writes:?}");
        let events = self.fakes.recorder.events();
        assert!(
            !events.iter().any(|e| e.contains("production")),
            "production was synced or smoke-tested: {events:?}"
        );
        assert_eq!(running_image(&self.production, "shop"), old_image());
    }
}

/// Waits until the approval gate of `task_run` logged that it waits; panics when the run
/// ends first or the gate never waits.
fn wait_for_gate(task_run: &str, run: &JoinHandle<RunOutcome>) {
    let deadline = Instant::now() + GATE_LIMIT;
    let filter = format!("label=adze.dev/run={task_run}");
    loop {
        let ids = Command::new("docker")
            .args(["ps", "-q", "--filter", &filter])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for id in ids.split_whitespace() {
            let Ok(mut child) = Command::new("docker")
                .args(["logs", id])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
            else {
                continue;
            };
            let mut logs = String::new();
            let _ = child.stdout.take().map(|mut o| o.read_to_string(&mut logs));
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut logs));
            let _ = child.wait();
            if logs.contains("for a decision on") {
                return;
            }
        }
        assert!(
            !run.is_finished(),
            "the run ended before its approval gate ({task_run}) waited"
        );
        assert!(
            Instant::now() < deadline,
            "the approval gate ({task_run}) did not start waiting within {GATE_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn finish(run: JoinHandle<RunOutcome>) -> RunOutcome {
    run.join().expect("the run's thread")
}

// --- scenarios ------------------------------------------------------------------------------

#[test]
fn production_waits_for_approval_and_proceeds_after_adze_approve() {
    let world = World::start(&Drift::default());
    let run = world.start_run(&world.run_doc("promote-approved", "3m"));
    wait_for_gate("promote-approved-approval", &run);

    // Waiting: dev and staging are promoted and verified, production is untouched.
    let (sync_dev, sync_staging, sync_production) = (
        format!("sync dev {}", new_image()),
        format!("sync staging {}", new_image()),
        format!("sync production {}", new_image()),
    );
    let before = world.fakes.recorder.events();
    harness::assert_in_order(
        &before,
        &[&sync_dev, "smoke dev", &sync_staging, "smoke staging"],
    );
    world.assert_production_untouched();
    assert_eq!(running_image(&world.staging, "shop"), new_image());

    // A decision by someone who is not an approver is ignored: the run keeps waiting.
    let mallory = world.approve(&["promote-approved", "--by", "mallory"]);
    assert_eq!(mallory.code, Some(0), "{}", mallory.stderr);
    std::thread::sleep(Duration::from_secs(3));
    assert!(!run.is_finished(), "the gate accepted mallory's decision");
    world.assert_production_untouched();
    // A second decision needs --replace, which an approver uses.
    let refused = world.approve(&["promote-approved", "--by", "alice"]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("already approved by mallory"),
        "{}",
        refused.stderr
    );
    let alice = world.approve(&[
        "promote-approved",
        "--replace",
        "--by",
        "alice",
        "--message",
        "staging looks good",
    ]);
    assert_eq!(alice.code, Some(0), "{}", alice.stderr);

    let outcome = finish(run);
    assert_eq!(outcome.code, Some(0), "{}", harness::explain(&outcome));
    assert!(
        outcome
            .stderr
            .contains("ignoring the decision of mallory: not among the approvers"),
        "{}",
        harness::explain(&outcome)
    );
    assert!(
        outcome.stderr.contains("approved by alice at"),
        "{}",
        harness::explain(&outcome)
    );
    let results = harness::results(&outcome);
    assert_eq!(results["approvedBy"], "alice");
    assert!(crate::common::is_rfc3339(
        results["approvedAt"].as_str().unwrap_or_default()
    ));
    assert_eq!(results["productionCommit"], world.remote.head().as_str());
    assert_eq!(results["driftReport"], "");

    // One commit per environment, in order, each by the pipeline.
    let subjects = world.remote.subjects();
    let promoted = format!("web@{NEW_DIGEST}");
    assert_eq!(
        subjects,
        [
            "layout".to_owned(),
            format!("promote dev: {promoted}"),
            format!("promote staging: {promoted}"),
            format!("promote production: {promoted}"),
        ]
    );
    assert_eq!(
        world
            .remote
            .git(&["log", "-1", "--format=%an <%ae>", "main"])
            .trim(),
        "adze promote <adze-promote@users.noreply.adze.dev>"
    );
    assert_eq!(running_image(&world.production, "shop"), new_image());

    // Production was read (drift check) before the approval and written only after it.
    let timeline = harness::timeline(&world.fakes.recorder, &world.production.audit(), |e| {
        e.resource == "networkpolicies" || (e.is_write() && e.resource == "deployments")
    });
    harness::assert_in_order(
        &timeline,
        &[
            "smoke staging",
            "list networkpolicies shop/",
            "patch deployments shop/web",
            &sync_production,
            "smoke production",
        ],
    );
}

#[test]
fn a_rejected_promotion_stops_before_production_with_the_reason() {
    let world = World::start(&Drift::default());
    let run = world.start_run(&world.run_doc("promote-rejected", "3m"));
    wait_for_gate("promote-rejected-approval", &run);
    let bob = world.approve(&[
        "promote-rejected",
        "--reject",
        "--by",
        "bob",
        "-m",
        "error budget spent",
    ]);
    assert_eq!(bob.code, Some(0), "{}", bob.stderr);

    let outcome = finish(run);
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    assert!(
        outcome
            .stderr
            .contains("rejected by bob: error budget spent"),
        "{}",
        harness::explain(&outcome)
    );
    world.assert_production_untouched();
    assert_eq!(running_image(&world.staging, "shop"), new_image());
}

#[test]
fn an_approval_nobody_gives_times_out_before_production() {
    let world = World::start(&Drift::default());
    let run = world.start_run(&world.run_doc("promote-unanswered", "4s"));
    let outcome = finish(run);
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    assert!(
        outcome.stderr.contains(
            "no approval within 4s (nobody approved; approve with: adze approve promote-unanswered)"
        ),
        "{}",
        harness::explain(&outcome)
    );
    world.assert_production_untouched();
}

#[test]
fn drift_between_staging_and_production_is_listed_and_stops_before_the_approval() {
    let world = World::start(&Drift {
        staging_version: Some("1.30.8"),
        staging_lacks_deny_all: true,
        staging_memory: Some("4Gi"),
    });
    let outcome = finish(world.start_run(&world.run_doc("promote-drifted", "3m")));
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    for line in [
        "staging differs from production in 3 way(s):",
        "Kubernetes version: production runs 1.31 (v1.31.4), staging runs 1.30 (v1.30.8)",
        "production has NetworkPolicy shop/deny-all, staging does not",
        "ResourceQuota shop/compute: limits.memory is 8Gi in production, 4Gi in staging",
    ] {
        assert!(
            outcome.stderr.contains(line),
            "no {line:?} in:\n{}",
            harness::explain(&outcome)
        );
    }
    // Equal policies and quotas are not reported: allow-web and the other limits match.
    assert!(
        !outcome.stderr.contains("allow-web differs"),
        "{}",
        harness::explain(&outcome)
    );
    assert!(
        !outcome.stderr.contains("for a decision on"),
        "the approval gate ran"
    );
    world.assert_production_untouched();
}

#[test]
fn an_expiring_certificate_fails_the_tls_check_and_names_it() {
    let scratch = tempfile::tempdir().unwrap();
    let pki = ca_bundle(&scratch.path().join("ca-bundle"));
    let (healthy, _healthy) = serve_tls(&pki, "healthy", 90);
    let (expiring, _expiring) = serve_tls(&pki, "expiring", 3);
    let run = scratch.path().join("run.yaml");
    std::fs::write(
        &run,
        format!(
            r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: tls-expiring}}
spec:
  taskRef: {{name: tls-check}}
  podTemplate: {{hostNetwork: true}}
  params:
    - {{name: endpoints, value: ["{healthy}", "{expiring}"]}}
    - {{name: minDaysValid, value: "14"}}
    - {{name: opensslImage, value: "{TOOLS_IMAGE}"}}
"#
        ),
    )
    .unwrap();
    let outcome = harness::run_pipeline(&[run], &[], &[("ca-bundle", pki.dir.to_str().unwrap())]);
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    let log = &outcome.stderr;
    let ok =
        format!("{healthy}: ok, subject CN=shop.example.com, issuer CN=adze-test-ca, notAfter ");
    assert!(
        log.contains(&ok),
        "no {ok:?} in:\n{}",
        harness::explain(&outcome)
    );
    assert!(
        log.contains("chain verified against the CA bundle ca.crt"),
        "{}",
        harness::explain(&outcome)
    );
    let failed = format!("{expiring}: FAIL it expires on ");
    assert!(
        log.contains(&failed),
        "no {failed:?} in:\n{}",
        harness::explain(&outcome)
    );
    assert!(
        log.contains("within the 14 days required: renew it"),
        "{}",
        harness::explain(&outcome)
    );
    assert!(
        log.contains("1 of 2 endpoint(s) failed the TLS check"),
        "{}",
        harness::explain(&outcome)
    );
}

#[test]
fn a_tag_is_refused_before_anything_is_committed() {
    let scratch = tempfile::tempdir().unwrap();
    let remote = Remote::start(&scratch.path().join("git"), "#!/bin/sh\nexit 0\n");
    let run = scratch.path().join("run.yaml");
    std::fs::write(
        &run,
        format!(
            r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: promote-tag}}
spec:
  taskRef: {{name: promote-image}}
  podTemplate: {{hostNetwork: true}}
  params:
    - {{name: gitUrl, value: "{url}"}}
    - {{name: environment, value: staging}}
    - {{name: image, value: "{REPOSITORY}:1.4.2"}}
    - {{name: gitImage, value: "{TOOLS_IMAGE}"}}
    - {{name: toolsImage, value: "{TOOLS_IMAGE}"}}
  workspaces:
    - {{name: source, emptyDir: {{}}}}
"#,
            url = remote.url
        ),
    )
    .unwrap();
    let outcome = harness::run_pipeline(&[run], &[], &[]);
    assert_eq!(outcome.code, Some(1), "{}", harness::explain(&outcome));
    assert!(
        outcome.stderr.contains(&format!(
            "the image {REPOSITORY}:1.4.2 has no digest: a tag can be moved to other content after it was tested"
        )),
        "{}",
        harness::explain(&outcome)
    );
    assert_eq!(remote.subjects(), ["layout"]);
}

// --- in the cluster ---------------------------------------------------------------------------

/// The pipeline tasks that never talk to an API: their Pods mount no token (as the example).
const TOKENLESS_TASKS: [&str; 8] = [
    "promote-dev",
    "verify-dev",
    "promote-staging",
    "verify-staging",
    "drift-check",
    "tls-check",
    "promote-production",
    "verify-production",
];

/// Where the PipelineRuns run: namespace `adze-pipelines` of the staging cluster.
const HOME: &str = "adze-pipelines";

/// Waits until the approval gate of the in-cluster run `task_run` logged that it waits.
fn wait_for_gate_in_cluster(cluster: &Cluster, task_run: &str) {
    let deadline = Instant::now() + GATE_LIMIT;
    loop {
        let pod = cluster
            .sim
            .try_kubectl(&[
                "get",
                "taskrun",
                task_run,
                "-n",
                HOME,
                "-o",
                "jsonpath={.status.podName}",
            ])
            .unwrap_or_default();
        if !pod.is_empty() {
            let logs = cluster
                .sim
                .try_kubectl(&["logs", &pod, "-n", HOME, "--all-containers"])
                .unwrap_or_default();
            if logs.contains("for a decision on") {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the approval gate ({task_run}) did not start waiting within {GATE_LIMIT:?}:\n{}",
            harness::task_runs_summary(cluster, HOME)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn under_adze_controller_each_identity_needs_only_its_roles_in_rbac_yaml() {
    let mut world = World::start(&Drift::default());
    let rbac = harness::rbac_yaml("promote");
    let environment = rbac_yaml_environment(&rbac);
    world.production.apply(&environment);
    let production_token = world.production.token("shop", "promote-verifier");
    world.production_set_up();
    let (home, production) = (&world.staging, &world.production);

    // Where the runs run: the runner, the gate's Role and the approvers' Role, bound (besides
    // the group the file names) to a ServiceAccount `alice` the test approves as.
    home.apply(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {HOME}}}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: alice, namespace: {HOME}}}\n"
    ));
    home.apply(&harness::documents_in(&rbac, HOME));
    home.kubectl(&[
        "patch",
        "rolebinding",
        "promote-approver",
        "-n",
        HOME,
        "--type=json",
        "-p",
        &json!([{"op": "add", "path": "/subjects/-",
                 "value": {"kind": "ServiceAccount", "name": "alice", "namespace": HOME}}])
        .to_string(),
    ]);
    harness::install_catalog(home, HOME);
    // Each environment: the verifier's account and Roles in its namespace, its token in the
    // environment's kubeconfig Secret where the runs run.
    home.apply(&environment.replace("namespace: shop\n", "namespace: shop-dev\n"));
    home.apply(&environment);
    let kubeconfigs = [
        (
            "dev-kubeconfig",
            home.kubeconfig_as(&home.token("shop-dev", "promote-verifier")),
        ),
        (
            "staging-kubeconfig",
            home.kubeconfig_as(&home.token("shop", "promote-verifier")),
        ),
        (
            "production-kubeconfig",
            production.kubeconfig_as(&production_token),
        ),
    ];
    for (name, kubeconfig) in &kubeconfigs {
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": HOME},
            "stringData": {"kubeconfig": kubeconfig},
        });
        home.apply(&secret.to_string());
    }
    let ca = std::fs::read_to_string(world.ca_bundle.join("ca.crt")).expect("the CA");
    home.apply(
        &json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "ca-bundle", "namespace": HOME},
            "data": {"ca.crt": ca},
        })
        .to_string(),
    );

    let mut run = world
        .run_doc("in-cluster", "3m")
        .label("adze.dev/controller", "true")
        .service_account("promote-runner")
        .secret_workspace("dev-kubeconfig", "dev-kubeconfig")
        .workspace(json!({"name": "ca-bundle", "configMap": {"name": "ca-bundle"}}));
    for task in TOKENLESS_TASKS {
        run = run.task_run_spec(json!({
            "pipelineTaskName": task,
            "podTemplate": {"automountServiceAccountToken": false},
        }));
    }
    let controller = harness::start_controller(home, HOME);
    harness::create_run(home, HOME, &run);
    wait_for_gate_in_cluster(home, "in-cluster-approval");
    world.assert_production_untouched();

    // alice approves through the API with the approvers' Role.
    let alice = world.files.join("alice.kubeconfig");
    std::fs::write(&alice, home.kubeconfig_as(&home.token(HOME, "alice"))).unwrap();
    let mut approve = Command::new(env!("CARGO_BIN_EXE_adze"));
    approve
        .args([
            "approve",
            "in-cluster",
            "--namespace",
            HOME,
            "--by",
            "alice",
        ])
        .arg("--kubeconfig")
        .arg(&alice)
        .env("NO_COLOR", "1");
    let approved = crate::common::run_command(approve, Duration::from_secs(30));
    assert_eq!(approved.code, Some(0), "{}", approved.stderr);

    let finished = harness::wait_finished(
        home,
        HOME,
        "in-cluster",
        Duration::from_secs(300),
        &controller,
    );
    assert_eq!(
        finished["status"]["conditions"][0]["status"],
        "True",
        "{}\n{}controller:\n{}",
        finished["status"]["conditions"],
        harness::task_runs_summary(home, HOME),
        controller.stderr()
    );
    let results = harness::results_of(&finished);
    assert_eq!(results["approvedBy"], "alice", "{results:?}");
    assert_eq!(running_image(production, "shop"), new_image());

    // Each identity was refused nothing, and asked only for what its own Roles grant.
    let public = harness::public_info();
    let identities = [
        (
            home,
            format!("system:serviceaccount:{HOME}:promote-runner"),
            vec!["promote-approval-gate"],
        ),
        (
            home,
            format!("system:serviceaccount:{HOME}:alice"),
            vec!["promote-approver"],
        ),
        (
            home,
            "system:serviceaccount:shop-dev:promote-verifier".to_owned(),
            vec!["promote-rollout-verify"],
        ),
        (
            home,
            "system:serviceaccount:shop:promote-verifier".to_owned(),
            vec!["promote-rollout-verify", "promote-drift-check"],
        ),
        (
            production,
            "system:serviceaccount:shop:promote-verifier".to_owned(),
            vec!["promote-rollout-verify", "promote-drift-check"],
        ),
    ];
    for (cluster, user, roles) in identities {
        let audit = cluster.audit();
        let denied = harness::denied(&audit, &user);
        assert!(denied.is_empty(), "{user} was refused: {denied:?}");
        let granted: std::collections::BTreeSet<_> = roles
            .iter()
            .flat_map(|role| harness::granted_by_role(&rbac, role))
            .collect();
        let used = harness::requests_of(&audit, &user, 0);
        let extra: Vec<_> = used
            .iter()
            .filter(|p| !granted.contains(*p) && !public.contains(*p))
            .collect();
        assert!(
            extra.is_empty(),
            "{user} used what {roles:?} do not grant: {extra:?}"
        );
        // Every rule of the roles was needed.
        let unused: Vec<_> = granted.difference(&used).collect();
        assert!(
            unused.is_empty(),
            "{user} never used {unused:?} of {roles:?}"
        );
    }

    // The runner's token was mounted only where the gate reads the run.
    let pods = home.get(Some(HOME), "pods");
    for pod in pods["items"].as_array().into_iter().flatten() {
        let task = pod["metadata"]["labels"]["tekton.dev/pipelineTask"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            pod["spec"]["serviceAccountName"], "promote-runner",
            "pod of {task}"
        );
        let automount = pod["spec"]["automountServiceAccountToken"].as_bool();
        assert_eq!(
            automount == Some(false),
            TOKENLESS_TASKS.contains(&task),
            "pod of {task}: automountServiceAccountToken {automount:?}"
        );
    }
}

/// The environment part of the promote rbac.yaml (namespace `shop`).
fn rbac_yaml_environment(rbac: &str) -> String {
    harness::documents_in(rbac, "shop")
}
