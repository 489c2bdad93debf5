//! `adze doctor`: checks what `adze run` needs (container engine, images of the given files,
//! the cluster under `--executor kubernetes`) and prints one line per check with a fix for
//! each failure; exits 1 when any check fails.

use std::path::PathBuf;

use super::config::{parse_image_maps, Invocation};
use super::Outcome;
use crate::config::{CommandLine, ImageMap};
use crate::doctor::{self, cluster, container_engine, images::Images, Check};
use crate::exec::docker::registry_auth::RegistryAuth;
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
    /// Replace image references before checking them: `FROM=TO` (repeatable; with the
    /// `imageMap` of `.adze.yaml`, as `adze run --image-map`).
    #[arg(long = "image-map", value_name = "FROM=TO")]
    image_maps: Vec<String>,
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
pub fn run(args: &Args, invocation: &Invocation) -> Outcome {
    // The images a run would use: the same `--image-map` and `.adze.yaml` rules as `adze run`.
    let image_map = match parse_image_maps(&args.image_maps).and_then(|image_map| {
        let cli = CommandLine {
            image_map,
            ..CommandLine::default()
        };
        invocation.settings(&cli)
    }) {
        Ok((_, settings)) => settings.run_defaults().image_map,
        Err(outcome) => return outcome,
    };
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
    let checks = runtime.block_on(checks(args, &image_map));
    print!("{}", doctor::render::report(&checks));
    if doctor::passed(&checks) {
        Outcome::Success
    } else {
        Outcome::Failed
    }
}

async fn checks(args: &Args, image_map: &ImageMap) -> Vec<Check> {
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
            let images = Images::of_bundle(&bundle).mapped(image_map);
            // The logins `adze run` pulls with: the Docker CLI's.
            let auth = RegistryAuth::from_environment();
            checks.extend(doctor::images::check(docker.as_ref(), &auth, &images).await);
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
