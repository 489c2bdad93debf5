//! `adze doctor`: checks what `adze run` needs (container engine, images of the given files,
//! the cluster under `--executor kubernetes`) and prints one line per check with a fix for
//! each failure; exits 1 when any check fails.

use std::path::PathBuf;

use super::Outcome;
use crate::doctor::{self, cluster, container_engine, images::Images, Check};
use crate::exec::kubernetes::connect::ClusterOptions;
use crate::load::{Bundle, Origin};

/// Arguments of `adze doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tekton YAML files or directories whose images to check.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Extra directory to follow taskRef/pipelineRef names into (after the files given, and
    /// before the built-in catalog), as `adze run --catalog`.
    #[arg(long = "catalog", value_name = "DIR")]
    catalogs: Vec<PathBuf>,
    /// The executor to check for: docker (the local engine) or kubernetes (also the
    /// kubeconfig and its API server).
    #[arg(long, default_value = "docker", value_parser = ["docker", "kubernetes"])]
    executor: String,
    /// Kubernetes: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubernetes: the kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
}

/// Runs the checks and prints the report on stdout.
pub fn run(args: &Args) -> Outcome {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Outcome::Infrastructure;
        }
    };
    let checks = runtime.block_on(checks(args));
    print!("{}", doctor::render::report(&checks));
    if doctor::passed(&checks) {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}

async fn checks(args: &Args) -> Vec<Check> {
    let (mut checks, docker) = container_engine::check().await;
    if !args.files.is_empty() {
        let mut bundle = Bundle::new();
        let mut loaded = true;
        for f in &args.files {
            if let Err(e) = bundle.load_path(f, Origin::Input) {
                checks.push(Check::fail(
                    "files",
                    e.to_string(),
                    "pass existing Tekton YAML files or directories",
                ));
                loaded = false;
            }
        }
        for dir in &args.catalogs {
            if let Err(e) = bundle.load_path(dir, Origin::Catalog) {
                checks.push(Check::fail(
                    "catalog",
                    e.to_string(),
                    "pass an existing directory of Tekton YAML to --catalog",
                ));
                loaded = false;
            }
        }
        bundle.load_builtin();
        if loaded {
            let images = Images::of_bundle(&bundle);
            checks.extend(doctor::images::check(docker.as_ref(), &images).await);
        }
    }
    if args.executor == "kubernetes" {
        let options = ClusterOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: None,
        };
        checks.extend(cluster::check(&options).await);
    }
    checks
}
