//! `adze controller`: reconcile tekton.dev/v1 PipelineRuns and TaskRuns in a cluster.

use std::path::PathBuf;
use std::sync::Arc;

use crate::controller::manager::{self, Scope};
use crate::controller::opt_in::{Selection, OPT_IN_LABEL, OPT_IN_VALUE};
use crate::controller::Context;
use crate::exec::kubernetes::connect::{connect, ClusterOptions};

use super::input::parse_flags;
use super::Outcome;

/// Options of `adze controller`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Watch runs in this namespace only (default: the kubeconfig context's, or the Pod's).
    #[arg(long, conflicts_with = "all_namespaces")]
    namespace: Option<String>,
    /// Watch runs in every namespace.
    #[arg(long)]
    all_namespaces: bool,
    /// Take every run, not only those labelled `adze.dev/controller: "true"` (for clusters
    /// without Tekton, whose controller would run the others too).
    #[arg(long)]
    all: bool,
    /// The kubeconfig (default: in-cluster, then `$KUBECONFIG`, then `~/.kube/config`).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current one).
    #[arg(long)]
    context: Option<String>,
    /// The image holding `/adze-entrypoint`, which every Pod's init container copies.
    #[arg(long, value_name = "IMAGE")]
    entrypoint_image: Option<String>,
    /// The image that replaces a finished run's sidecars where the server has no native
    /// sidecars (Kubernetes before 1.29); its entrypoint must exit 0.
    #[arg(long, value_name = "IMAGE")]
    nop_image: Option<String>,
    /// A cluster feature flag the controller honours, e.g. `results-from=sidecar-logs`
    /// (Tekton reads these from its `feature-flags` ConfigMap).
    #[arg(long = "feature-flag", value_name = "NAME=VALUE")]
    feature_flags: Vec<String>,
}

impl Args {
    fn entrypoint_image(&self) -> String {
        self.entrypoint_image
            .clone()
            .or_else(|| {
                std::env::var("ADZE_ENTRYPOINT_IMAGE")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| format!("adze/adze:{}", env!("CARGO_PKG_VERSION")))
    }
}

/// Runs the controller until it is stopped.
pub fn run(args: &Args) -> Outcome {
    let flags = match parse_flags(&args.feature_flags) {
        Ok(flags) => flags,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Invalid;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start a runtime: {e}");
            return Outcome::Infrastructure;
        }
    };
    let options = ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
    };
    let cluster = match runtime.block_on(connect(&options)) {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("error: {e}\n  help: {}", e.help());
            return Outcome::Infrastructure;
        }
    };
    let scope = Scope {
        namespace: (!args.all_namespaces).then(|| cluster.namespace.clone()),
        selection: if args.all {
            Selection::All
        } else {
            Selection::OptedIn
        },
    };
    let entrypoint_image = args.entrypoint_image();
    let ctx = Arc::new(Context {
        handle: runtime.handle().clone(),
        nop_image: args
            .nop_image
            .clone()
            .unwrap_or_else(|| entrypoint_image.clone()),
        entrypoint_image,
        cluster,
        results_from: flags.results_from,
        max_result_size: flags.max_result_size,
    });
    let taken = match scope.selection {
        Selection::All => "every run".to_owned(),
        Selection::OptedIn => format!("runs labelled {OPT_IN_LABEL}={OPT_IN_VALUE}"),
    };
    let place = match &scope.namespace {
        Some(ns) => format!("namespace {ns}"),
        None => "every namespace".to_owned(),
    };
    eprintln!(
        "adze controller: reconciling {taken} in {place} on {}",
        ctx.cluster.server
    );
    runtime.block_on(async {
        tokio::select! {
            () = manager::run(ctx.clone(), scope, |key, message| {
                eprintln!("{key}: {message}");
            }) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    });
    // Reconciles in flight stop with the process; the next controller resumes them.
    runtime.shutdown_background();
    Outcome::Success
}
