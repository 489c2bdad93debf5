//! `adze serve`: a Tekton Triggers EventListener, durable, with a dashboard.
//!
//! The configuration file is read once, at startup, as `adze run` reads it
//! ([`Invocation::settle`]): `--pull`, `--executor`, `--parallel`, the Kubernetes flags and
//! `--image-map` not typed take its values, the runs started get its image map and default
//! params and workspaces, and the keys that do not apply to a server are named once as
//! ignored ([`ignored_by_serve`]). A change to the file takes a restart.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::config::{Invocation, RunFlags};
use super::input::Input;
use super::Outcome;
use crate::config::serve_keys::ignored_by_serve;
use crate::config::{RunDefaults, Settings, Source};
use crate::exec::backend::Backend;
use crate::exec::docker::DockerExecutor;
use crate::exec::kubernetes::connect::{connect, ClusterOptions};
use crate::exec::kubernetes::{KubernetesExecutor, KubernetesOptions};
use crate::serve::cluster_secrets::ClusterSecrets;
use crate::serve::create::CreateInCluster;
use crate::serve::local::LocalLauncher;
use crate::serve::tls::{Tls, TlsFiles};
use crate::serve::triggered::TriggersProcessor;
use crate::serve::{Launcher, ListenerIdentity, Options, Store};
use crate::triggers::interceptor::{Builtins, Secrets};
use crate::triggers::{BundleSecrets, Catalog};

/// The environment variable that may hold the API token instead of `--token-file`.
pub const TOKEN_ENV: &str = "ADZE_SERVE_TOKEN";

/// Options of `adze serve`. `--pull`, `--executor`, `--parallel`, the Kubernetes flags and
/// `--image-map` not given take the configuration file's values (see [`settle`]).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Where to listen. Loopback unless told otherwise; any other address needs a token.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// What happens to the runs triggers create: docker (run here, in containers),
    /// kubernetes (run here, as Pods), create (create the objects in the cluster for
    /// `adze controller` or Tekton to run).
    #[arg(long, default_value = "docker", value_parser = ["docker", "kubernetes", "create"])]
    executor: String,
    /// The EventListener to serve, when the files hold several.
    #[arg(long, value_name = "NAME")]
    listener: Option<String>,
    /// Most runs running at once; others wait in the queue.
    #[arg(long, default_value_t = 4, value_name = "N")]
    max_concurrent: usize,
    /// Most events and runs waiting at once; beyond it webhooks get 503 with Retry-After.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    queue_size: usize,
    /// Largest request body accepted; larger ones get 413. Bytes, or with Ki/Mi/Gi.
    #[arg(long, default_value = "10Mi", value_name = "SIZE", value_parser = parse_size)]
    max_body: usize,
    /// Answer webhooks after the interceptors ran: 202 when a trigger created runs, 403 when a
    /// signature or token check failed, 422 when every trigger declined or failed. (Tekton
    /// answers 202 at once, whatever happens next.)
    #[arg(long)]
    respond_after_interceptors: bool,
    /// The store of events, runs and logs (SQLite; created when missing), shared with the
    /// history of `adze run` (default: .adze/history.db, or .adze/serve.db when only that
    /// one exists).
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// A file holding the token the dashboard and the API ask for (or set $ADZE_SERVE_TOKEN).
    /// Required when --listen is not a loopback address.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (reloaded when the file changes).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Ask clients for a certificate chaining to these PEM CAs (mutual TLS).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// Serve even when a github, gitlab or bitbucket interceptor has no secretRef (Tekton
    /// then skips the signature check silently; adze refuses to start unless told).
    #[arg(long)]
    allow_unsigned: bool,
    /// When to pull images: always, missing, never (kubernetes: the Pods' imagePullPolicy,
    /// when this flag or the configuration sets it).
    #[arg(long, default_value = "missing", value_parser = ["always", "missing", "never"])]
    pull: String,
    /// Run at most N TaskRuns of each run at once (docker; 0: no limit).
    #[arg(long, default_value_t = 0, value_name = "N")]
    parallel: usize,
    /// Replace image references of the steps and sidecars of every run started, as `adze run
    /// --image-map` does (repeatable; adds to the configuration's imageMap).
    #[arg(long = "image-map", value_name = "FROM=TO")]
    image_maps: Vec<String>,
    /// Kubernetes: the namespace (default: the context's, else `default`); also the namespace
    /// of Triggers objects that name none.
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Kubernetes: the kubeconfig context.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Kubernetes: the kubeconfig file.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubernetes: the image holding `/adze-entrypoint`.
    #[arg(long, value_name = "IMAGE")]
    entrypoint_image: Option<String>,
}

/// Parses `10Mi`, `512Ki`, `1Gi`, `1048576`.
fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size: write e.g. 10Mi, 512Ki or 1048576"))?;
    let unit = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        other => return Err(format!("unknown unit {other:?}: use Ki, Mi or Gi")),
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("{text} is too large"))
}

/// `args` with the configuration file's values for the flags not given, and what the runs
/// take from the file otherwise; the keys the server ignores are named on stderr.
fn settle(args: &Args, invocation: &Invocation) -> Result<(Args, Settings), Outcome> {
    let (choice, settings) = invocation.settle(&RunFlags {
        pull: Some(&args.pull),
        executor: Some(&args.executor),
        logs: None,
        parallel: Some(&args.parallel),
        namespace: args.namespace.clone(),
        context: args.context.clone(),
        kubeconfig: args.kubeconfig.clone(),
        image_maps: &args.image_maps,
    })?;
    let mut settled = args.clone();
    settled.pull = settings.pull.value.clone();
    settled.executor = settings.executor.value.clone();
    settled.namespace = settings.namespace.value.clone();
    settled.context = settings.context.value.clone();
    settled.kubeconfig = settings.kubeconfig.value.clone();
    settled.parallel = settings.parallel.value;
    if let Some(path) = choice.path() {
        eprintln!(
            "adze serve: configuration {} (read once; restart to pick up changes)",
            path.display()
        );
        for ignored in ignored_by_serve(&settings, &settled.executor) {
            eprintln!(
                "warning: {}:{}: {} is ignored by adze serve: {}",
                path.display(),
                ignored.line,
                ignored.key,
                ignored.why
            );
        }
    }
    Ok((settled, settings))
}

/// Runs `adze serve`.
pub fn run(args: &Args, invocation: &Invocation) -> Outcome {
    let (settled, settings) = match settle(args, invocation) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    let args = &settled;
    let (bundle, flags) = match args.input.load_checked("serving") {
        Ok(loaded) => loaded,
        Err(o) => return o,
    };
    let namespace = args.namespace.clone().unwrap_or_else(|| "default".into());
    // Every Secret of -f (interceptor tokens included) is masked in the store and the logs;
    // values read later (a cluster's Secrets, the files as each run reloads them) are added.
    let (masker, short) = crate::mask::collect::masker_of(&bundle, &[]);
    for w in short {
        eprintln!("warning: {w}");
    }
    let (catalog, _) = Catalog::load(&bundle, &namespace);
    let listener = match choose_listener(&catalog, args.listener.as_deref()) {
        Ok(l) => l,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Invalid;
        }
    };
    let unsigned = unsigned_interceptors(&catalog);
    if !unsigned.is_empty() {
        let list = unsigned.join("\n  ");
        if args.allow_unsigned {
            eprintln!(
                "warning: these interceptors check no signature or token; anyone who can reach \
                 this server can trigger them:\n  {list}"
            );
        } else {
            eprintln!(
                "error: these interceptors have no secretRef, so they would accept unsigned \
                 requests from anyone:\n  {list}\n  help: add a secretRef param (a Secret loaded \
                 with -f), or pass --allow-unsigned to serve them anyway"
            );
            return Outcome::Invalid;
        }
    }
    let token = match token(args) {
        Ok(t) => t,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Invalid;
        }
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match Tls::load(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.client_ca.clone(),
        }) {
            Ok(t) => Some(Arc::new(t)),
            Err(e) => {
                eprintln!("error: {e}");
                return Outcome::Invalid;
            }
        },
        _ => None,
    };
    let secrets = match BundleSecrets::load(&bundle, &namespace) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Invalid;
        }
    };
    let store_path = args
        .store
        .clone()
        .unwrap_or_else(|| crate::history::store_path(std::path::Path::new("")));
    let store = match Store::open(&store_path) {
        Ok(s) => Arc::new(s.with_masker(masker.clone())),
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Infrastructure;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the server's runtime: {e}");
            return Outcome::Infrastructure;
        }
    };
    // In a cluster, interceptors also read the namespace's Secrets (after those of -f).
    let cluster = if args.executor == "docker" {
        None
    } else {
        let options = ClusterOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
        };
        match runtime.block_on(connect(&options)) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: {e}\n  help: {}", e.help());
                return Outcome::Infrastructure;
            }
        }
    };
    let secrets: Arc<dyn Secrets> = match &cluster {
        Some(c) => Arc::new(
            ClusterSecrets::new(secrets, c.client.clone(), runtime.handle().clone())
                .masking(masker.clone()),
        ),
        None => secrets,
    };
    let launcher = match launcher(args, &flags, &runtime, cluster, &masker, &settings) {
        Ok(l) => l,
        Err(outcome) => return outcome,
    };
    let identity = ListenerIdentity {
        name: listener.name.clone(),
        namespace: listener.namespace.clone(),
        uid: listener.uid.clone(),
    };
    let mut options = Options::new(args.listen);
    options.body_limit = args.max_body;
    options.queue_size = args.queue_size;
    options.max_concurrent = args.max_concurrent;
    options.respond_after_interceptors = args.respond_after_interceptors;
    options.payload_validation = listener.payload_validation;
    options.token = token;
    let processor = Arc::new(TriggersProcessor::new(
        Arc::new(catalog),
        &listener.name,
        Builtins::new(secrets),
    ));
    let scheme = if tls.is_some() { "https" } else { "http" };
    runtime.block_on(async {
        let running =
            match crate::serve::start(options, identity, store.clone(), processor, launcher, tls)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Outcome::Infrastructure;
                }
            };
        // One write, so whoever waits for this line never sees half of it.
        let ready = format!(
            "adze serve: EventListener {}/{} on {scheme}://{} (executor {}, store {})\n",
            listener.namespace,
            listener.name,
            running.addr,
            args.executor,
            store.path().display()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), ready.as_bytes());
        tokio::select! {
            _ = running.wait() => Outcome::Infrastructure,
            _ = shutdown() => {
                eprintln!("adze serve: stopping; unfinished events and runs are taken up at the next start");
                Outcome::Success
            }
        }
    })
}

/// The listener served, as the CLI found it.
struct Chosen {
    name: String,
    namespace: String,
    uid: String,
    payload_validation: bool,
}

fn choose_listener(catalog: &Catalog, asked: Option<&str>) -> Result<Chosen, String> {
    let names: Vec<&str> = catalog.listeners.iter().map(|l| l.name.as_str()).collect();
    let entry = match asked {
        Some(name) => catalog
            .listeners
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| {
                format!(
                    "no EventListener named {name} in the files (they hold: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            })?,
        None => match catalog.listeners.as_slice() {
            [one] => one,
            [] => {
                return Err(
                    "the files hold no EventListener\n  help: pass the file that \
                            defines the triggers.tekton.dev/v1beta1 EventListener to serve"
                        .into(),
                )
            }
            _ => {
                return Err(format!(
                    "the files hold {} EventListeners ({}); choose one with --listener NAME",
                    names.len(),
                    names.join(", ")
                ))
            }
        },
    };
    let meta = &entry.object.metadata;
    let uid = meta
        .uid
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| stable_uid(&entry.namespace, &entry.name));
    let payload_validation = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get("tekton.dev/payload-validation"))
        .is_none_or(|v| v != "false");
    Ok(Chosen {
        name: entry.name.clone(),
        namespace: entry.namespace.clone(),
        uid,
        payload_validation,
    })
}

/// A uid that stays the same across restarts for the same listener, shaped like a v4 UUID.
fn stable_uid(namespace: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("adze-eventlistener/{namespace}/{name}"));
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&digest[..8]);
    crate::status::uid_from_seed(u64::from_le_bytes(seed))
}

/// `trigger: interceptor` for every authenticating built-in without a `secretRef`.
fn unsigned_interceptors(catalog: &Catalog) -> Vec<String> {
    use crate::triggers::api::TriggerInterceptor;
    let check = |owner: String, list: &[TriggerInterceptor], out: &mut Vec<String>| {
        for i in list {
            let Some(r) = &i.reference else { continue };
            let name = r.name.to_ascii_lowercase();
            if !["github", "gitlab", "bitbucket"].contains(&name.as_str()) {
                continue;
            }
            if !i.params.iter().any(|p| p.name == "secretRef") {
                out.push(format!("{owner}: {name} interceptor without secretRef"));
            }
        }
    };
    let mut out = Vec::new();
    for l in &catalog.listeners {
        for (i, t) in l.object.spec.triggers.iter().enumerate() {
            let owner = if t.name.is_empty() {
                format!("EventListener {} spec.triggers[{i}]", l.name)
            } else {
                format!("EventListener {} trigger {}", l.name, t.name)
            };
            check(owner, &t.interceptors, &mut out);
        }
        for g in &l.object.spec.trigger_groups {
            check(
                format!("EventListener {} triggerGroup {}", l.name, g.name),
                &g.interceptors,
                &mut out,
            );
        }
    }
    for t in &catalog.triggers {
        check(
            format!("Trigger {}/{}", t.namespace, t.name),
            &t.object.spec.interceptors,
            &mut out,
        );
    }
    out
}

fn token(args: &Args) -> Result<Option<String>, String> {
    let from_file = match &args.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read --token-file {}: {e}", path.display()))?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let token = from_file
        .or_else(|| std::env::var(TOKEN_ENV).ok())
        .filter(|t| !t.is_empty());
    if token.is_none() && !args.listen.ip().is_loopback() {
        return Err(format!(
            "--listen {} is reachable from other machines, and the dashboard and API would be \
             open to them\n  help: give a token with --token-file FILE or ${TOKEN_ENV}, or \
             listen on 127.0.0.1",
            args.listen
        ));
    }
    Ok(token)
}

fn launcher(
    args: &Args,
    flags: &crate::validate::Flags,
    runtime: &tokio::runtime::Runtime,
    connected: Option<crate::exec::kubernetes::connect::Cluster>,
    masker: &Arc<crate::mask::Masker>,
    settings: &Settings,
) -> Result<Arc<dyn Launcher>, Outcome> {
    let defaults: RunDefaults = settings.run_defaults();
    let pull: crate::exec::docker::PullPolicy = args.pull.parse().unwrap_or_default();
    let cluster = ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
    };
    let files: Vec<PathBuf> = args.input.paths().cloned().collect();
    let resolve = args.input.resolve_options();
    match args.executor.as_str() {
        "create" => {
            let Some(connected) = connected else {
                return Err(Outcome::Infrastructure);
            };
            Ok(Arc::new(CreateInCluster::new(
                connected,
                runtime.handle().clone(),
            )))
        }
        "kubernetes" => {
            let entrypoint_image =
                crate::exec::backend::entrypoint_image(args.entrypoint_image.as_deref());
            // Neither flag nor file: each container's own imagePullPolicy holds, as in a
            // cluster where Tekton leaves it alone.
            let image_pull_policy = (settings.pull.source != Source::Default)
                .then(|| pull.image_pull_policy().to_owned());
            let results_from = flags.results_from;
            let max_result_size = flags.max_result_size;
            let engine = move |sink| {
                let options = KubernetesOptions {
                    cluster: cluster.clone(),
                    entrypoint_image: entrypoint_image.clone(),
                    nop_image: entrypoint_image.clone(),
                    progress: sink,
                    logs: true,
                    keep: false,
                    run_id: crate::run::ownership::Owner::current().run_id.clone(),
                    image_pull_policy: image_pull_policy.clone(),
                    results_from,
                    max_result_size,
                    task_run_owner: None,
                    adopt: false,
                    started: None,
                };
                KubernetesExecutor::connect(options)
                    .map(Backend::Kubernetes)
                    .map_err(|e| e.to_string())
            };
            Ok(Arc::new(
                LocalLauncher::new(files, Box::new(engine), flags.clone(), true)
                    .with_resolution(resolve.clone())
                    .with_masker(masker.clone())
                    .with_defaults(defaults),
            ))
        }
        _ => {
            // Fail at start, not at the first webhook, when the engine is not there.
            match DockerExecutor::new() {
                // Containers of runs a killed server drove: they are re-run, so the old
                // ones go.
                Ok(executor) => super::gc::collect_orphans(&executor),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Err(Outcome::Infrastructure);
                }
            }
            let parallel = (args.parallel > 0).then_some(args.parallel);
            // One set of logins for the server's life: a helper runs once per registry.
            let registry_auth = Arc::new(
                crate::exec::docker::registry_auth::RegistryAuth::from_environment()
                    .masking(masker.clone()),
            );
            let engine = move |sink| {
                let options = crate::exec::docker::DockerOptions {
                    progress: sink,
                    logs: true,
                    pull,
                    parallel,
                    registry_auth: registry_auth.clone(),
                    ..Default::default()
                };
                DockerExecutor::with_options(options)
                    .map(Backend::Docker)
                    .map_err(|e| e.to_string())
            };
            Ok(Arc::new(
                LocalLauncher::new(files, Box::new(engine), flags.clone(), false)
                    .with_resolution(resolve)
                    .with_masker(masker.clone())
                    .with_defaults(defaults),
            ))
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("10Mi"), Ok(10 << 20));
        assert_eq!(parse_size("512Ki"), Ok(512 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("10MB").is_err());
        assert!(parse_size("x").is_err());
    }

    #[test]
    fn stable_uids_are_v4_shaped_and_stable() {
        let a = stable_uid("ci", "gh");
        assert_eq!(a, stable_uid("ci", "gh"));
        assert_ne!(a, stable_uid("ci", "gl"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
