//! `kube-sim --listen 127.0.0.1:PORT --kubeconfig PATH`: serves until SIGTERM or SIGINT, then
//! removes every container it started and exits 0. Start failures exit 2.
//!
//! Hidden options, for tests: `--no-kubelet` (serve the API alone; Pods stay Pending),
//! `--watch-history N` (how many changes a watch can resume from), `--state-dir DIR`,
//! `--sandbox-image IMAGE` (default `adze-test/busybox:latest`), `--exit-with-stdin` (also
//! stop when standard input closes), `--server-version 1.29.4` (what `/version` reports at
//! start, default 1.33.0; see `kube_sim::version` for changing it at runtime), `--node-name
//! NAME` (the node whose Pods the kubelet runs, default `kube-sim`) and `--without-tekton-crds` (start without the tekton.dev
//! CustomResourceDefinitions, as a cluster without Tekton, so a client can create them),
//! `--kubelet noop` (Pods complete at once without Docker, every container exiting 0; for
//! benchmarks) and `--audit-log FILE` (one audit event per request, as JSON lines).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// A Kubernetes API stand-in whose kubelet runs Pods in the local Docker engine.
#[derive(Debug, Parser)]
#[command(name = "kube-sim", version)]
struct Args {
    /// Address to serve on; port 0 picks a free port.
    #[arg(long)]
    listen: SocketAddr,
    /// Where to write a kubeconfig for this server (context `kube-sim`, namespace `default`).
    #[arg(long)]
    kubeconfig: PathBuf,
    /// Serve the API without running Pods (they stay Pending); for API-only tests.
    #[arg(long, hide = true)]
    no_kubelet: bool,
    /// How Pods run: `docker` (the default) or `noop` (each container exits 0 at once, no
    /// engine needed).
    #[arg(long, hide = true, value_enum, default_value_t = PodRunner::Docker)]
    kubelet: PodRunner,
    /// Append one audit event (audit.k8s.io/v1, level Metadata) per API request to FILE.
    #[arg(long, hide = true, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// How many changes a watch can resume from before it gets 410 Expired.
    #[arg(long, hide = true, default_value_t = 10_000)]
    watch_history: usize,
    /// Host directory for claims and volumes (default: a temporary one, removed at exit).
    #[arg(long, hide = true)]
    state_dir: Option<PathBuf>,
    /// The image of each Pod's sandbox holder (present locally, with `sleep`).
    #[arg(long, hide = true)]
    sandbox_image: Option<String>,
    /// Also stop (cleanly) when standard input closes: a test harness that dies, even by
    /// SIGKILL, closes the pipe, so its kube-sim never outlives it.
    #[arg(long, hide = true)]
    exit_with_stdin: bool,
    /// The Kubernetes version `/version` reports at start, MAJOR.MINOR[.PATCH] (default
    /// 1.33.0); e.g. 1.28, a server without native sidecars. The ConfigMap
    /// kube-system/kube-sim-version changes it at runtime.
    #[arg(long, hide = true, value_name = "MAJOR.MINOR[.PATCH]")]
    server_version: Option<kube_sim::resources::ServerVersion>,
    /// The own node's name: the kubelet runs only Pods bound to it; Pods created without a
    /// node are bound to it; Pods of other nodes are stored and never run.
    #[arg(long, hide = true, default_value = kube_sim::nodes::DEFAULT_NODE_NAME)]
    node_name: String,
    /// Start without the tekton.dev CustomResourceDefinitions, as a cluster without Tekton,
    /// so that a client can create its own (the tekton.dev kinds are served all the same).
    #[arg(long, hide = true)]
    without_tekton_crds: bool,
}

/// What runs Pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PodRunner {
    /// Containers in the local Docker engine.
    Docker,
    /// No containers: each exits 0 at once.
    Noop,
}

/// Resolves when standard input reaches end of file (or fails).
async fn stdin_closed() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 256];
    while let Ok(n) = stdin.read(&mut buffer).await {
        if n == 0 {
            return;
        }
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the only way to stop is to be killed; serve on.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kube-sim: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(serve(args));
    // The stdin reader blocks in a thread the runtime would wait for on drop; everything
    // worth finishing (the kubelet's cleanup) has finished by now.
    runtime.shutdown_background();
    code
}

async fn serve(args: Args) -> ExitCode {
    let options = kube_sim::server::Options {
        listen: args.listen,
        kubeconfig: args.kubeconfig,
        no_kubelet: args.no_kubelet,
        noop_kubelet: args.kubelet == PodRunner::Noop,
        audit_log: args.audit_log,
        watch_history: args.watch_history,
        state_dir: args.state_dir,
        sandbox_image: args.sandbox_image,
        server_version: args.server_version.unwrap_or_default(),
        without_tekton_crds: args.without_tekton_crds,
        node_name: args.node_name,
    };
    let exit_with_stdin = args.exit_with_stdin;
    let stop = async move {
        tokio::select! {
            _ = stop_signal() => {}
            _ = async {
                if exit_with_stdin {
                    stdin_closed().await
                } else {
                    std::future::pending().await
                }
            } => {}
        }
    };
    match kube_sim::server::run(options, stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kube-sim: {error}");
            ExitCode::from(2)
        }
    }
}
