//! `adze controller`: reconcile tekton.dev/v1 PipelineRuns and TaskRuns in a cluster.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::api::GoDuration;
use crate::controller::health::{self, Readiness, Routes, Server};
use crate::controller::leader::{ElectionConfig, LeaderElector};
use crate::controller::logging::{LogFormat, Logger, Record};
use crate::controller::manager::{self, Scope, Telemetry};
use crate::controller::metrics::Metrics;
use crate::controller::opt_in::{Selection, OPT_IN_LABEL, OPT_IN_VALUE};
use crate::controller::Context;
use crate::exec::kubernetes::connect::{connect, ClusterOptions};
use kube::runtime::events::{Recorder, Reporter};

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
    /// Serve Prometheus metrics at `http://ADDR/metrics`.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Serve `/healthz` and `/readyz` at ADDR (the same address as --metrics-addr is fine).
    #[arg(long, value_name = "ADDR")]
    health_addr: Option<SocketAddr>,
    /// How log lines look: text, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Reconcile only while holding the `adze-controller` Lease, so that of several replicas
    /// exactly one works; `--leader-elect=false` for a single controller that never waits.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    leader_elect: bool,
    /// The namespace of the Lease (default: the controller's own: the Pod's namespace, else
    /// the kubeconfig context's).
    #[arg(long, value_name = "NAMESPACE")]
    leader_election_namespace: Option<String>,
    /// TaskRuns reconciled at once (each follows its Pod); more wait in the work queue.
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_concurrent_taskruns: usize,
    /// How long the Lease holds without renewal; a standby replica takes over at most this
    /// long after the leader stops. Whole seconds, at least 3s.
    #[arg(long, default_value = "15s", value_name = "DURATION")]
    lease_duration: String,
    /// The cache of resolved remote references (default: $ADZE_RESOLVE_CACHE, else
    /// $XDG_CACHE_HOME/adze/resolve, else ~/.cache/adze/resolve).
    #[arg(long = "resolve-cache", value_name = "DIR")]
    resolve_cache: Option<PathBuf>,
}

impl Args {
    fn entrypoint_image(&self) -> String {
        crate::exec::backend::entrypoint_image(self.entrypoint_image.as_deref())
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
    let lease_duration = match lease_duration(&args.lease_duration) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: --lease-duration: {e}");
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
    let logger = Logger::stderr(args.log_format);
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
    let metrics = Arc::new(Metrics::new());
    let readiness = Readiness::new();
    let servers = match runtime.block_on(serve(args, &metrics, &readiness)) {
        Ok(servers) => servers,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Infrastructure;
        }
    };
    // The API server answered: this replica can work, leader or standby.
    readiness.set_ready();
    let scope = Scope {
        namespace: (!args.all_namespaces).then(|| cluster.namespace.clone()),
        selection: if args.all {
            Selection::All
        } else {
            Selection::OptedIn
        },
        max_task_runs: args.max_concurrent_taskruns,
    };
    let election = args.leader_elect.then(|| {
        let namespace = args
            .leader_election_namespace
            .clone()
            .unwrap_or_else(|| cluster.client.default_namespace().to_owned());
        ElectionConfig {
            lease_duration,
            renew_deadline: lease_duration * 2 / 3,
            retry_period: lease_duration * 2 / 15,
            ..ElectionConfig::new(namespace)
        }
    });
    let entrypoint_image = args.entrypoint_image();
    let client = cluster.client.clone();
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
        resolve: crate::resolve::ResolveOptions::new(crate::resolve::options::default_cache_dir(
            args.resolve_cache.clone(),
        )),
        default_resolver_type: flags.default_resolver_type.clone(),
        recorder: Recorder::new(
            client,
            Reporter {
                controller: "adze-controller".to_owned(),
                instance: std::env::var("POD_NAME").ok(),
            },
        ),
    });
    let telemetry = Telemetry {
        logger: logger.clone(),
        metrics: metrics.clone(),
    };
    let outcome = runtime.block_on(lead_and_reconcile(ctx, scope, election, telemetry));
    drop(servers);
    // Reconciles in flight stop with the process; the next controller resumes them.
    runtime.shutdown_background();
    outcome
}

/// Waits for the Lease (when electing), then reconciles until a signal or the Lease is lost.
async fn lead_and_reconcile(
    ctx: Arc<Context>,
    scope: Scope,
    election: Option<ElectionConfig>,
    telemetry: Telemetry,
) -> Outcome {
    let logger = telemetry.logger.clone();
    let mut leadership = None;
    if let Some(config) = election {
        let elector = match LeaderElector::new(ctx.client().clone(), config, logger.clone()) {
            Ok(elector) => elector,
            Err(e) => {
                eprintln!("error: {e}");
                return Outcome::Invalid;
            }
        };
        logger.log(Record::info(format!(
            "adze controller: waiting to lead (Lease {}/{}, as {})",
            elector.config().namespace,
            elector.config().lease_name,
            elector.identity()
        )));
        let acquired = tokio::select! {
            acquired = elector.acquire() => acquired,
            () = stop_signal() => return Outcome::Success,
        };
        match acquired {
            Ok(l) => leadership = Some(l),
            Err(e) => {
                eprintln!("error: {e}");
                return Outcome::Infrastructure;
            }
        }
        telemetry.metrics.set_leader(true);
    }
    let taken = match scope.selection {
        Selection::All => "every run".to_owned(),
        Selection::OptedIn => format!("runs labelled {OPT_IN_LABEL}={OPT_IN_VALUE}"),
    };
    let place = match &scope.namespace {
        Some(ns) => format!("namespace {ns}"),
        None => "every namespace".to_owned(),
    };
    logger.log(Record::info(format!(
        "adze controller: reconciling {taken} in {place} on {}",
        ctx.cluster.server
    )));
    let lost = async {
        match &mut leadership {
            Some(l) => l.lost().await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        () = manager::run(ctx, scope, telemetry.clone()) => Outcome::Success,
        () = lost => {
            logger.log(Record::error(
                "adze controller: lost the Lease; exiting so that only the new leader works",
            ));
            Outcome::Infrastructure
        }
        () = stop_signal() => Outcome::Success,
    };
    telemetry.metrics.set_leader(false);
    if let Some(leadership) = leadership {
        // Hand over at once instead of making the standby wait for the Lease to expire.
        let _ = leadership.release().await;
    }
    outcome
}

/// The metrics and health endpoints, on one address or two.
async fn serve(
    args: &Args,
    metrics: &Arc<Metrics>,
    readiness: &Readiness,
) -> Result<Vec<Server>, health::ServeError> {
    let mut servers = Vec::new();
    match (args.metrics_addr, args.health_addr) {
        (Some(m), Some(h)) if m == h => {
            let routes = Routes::new()
                .metrics(metrics.clone())
                .health(readiness.clone());
            servers.push(health::serve(m, routes).await?);
        }
        (m, h) => {
            if let Some(m) = m {
                let routes = Routes::new().metrics(metrics.clone());
                servers.push(health::serve(m, routes).await?);
            }
            if let Some(h) = h {
                let routes = Routes::new().health(readiness.clone());
                servers.push(health::serve(h, routes).await?);
            }
        }
    }
    Ok(servers)
}

/// SIGINT or SIGTERM (Kubernetes stops a Pod with SIGTERM).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `--lease-duration`: a Go duration of whole seconds, at least 3s.
fn lease_duration(text: &str) -> Result<Duration, String> {
    let parsed = GoDuration::parse(text).map_err(|e| e.to_string())?;
    let nanos = u64::try_from(parsed.0).map_err(|_| "must be positive".to_owned())?;
    let duration = Duration::from_nanos(nanos);
    if duration.subsec_nanos() != 0 || duration < Duration::from_secs(3) {
        return Err(format!("{text} must be whole seconds, at least 3s"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_durations_are_whole_seconds_from_three() {
        assert_eq!(lease_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(lease_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(lease_duration("2s").is_err());
        assert!(lease_duration("3.5s").is_err());
        assert!(lease_duration("-5s").is_err());
        assert!(lease_duration("soon").is_err());
    }
}
