//! `adze run`: run TaskRuns and PipelineRuns in local containers, with live progress, logs,
//! a summary, and the final object on stdout.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::config::{Invocation, RunFlags};
use super::gc::collect_orphans;
use super::input::{load_runs, Input};
use super::last_run;
use super::masking;
use super::output;
use super::output::print_object;
use super::progress::{self, LogMode, Mode, RenderOptions, SummaryRow};
use super::watchdog::Watchdog;
use super::Outcome;
use crate::api::{Object, PipelineRun, TaskRun};
use crate::compat;
use crate::config::RunDefaults;
use crate::events::fan_out::{self, Consumer, FanOut};
use crate::events::json_lines::JsonLines;
use crate::exec::backend::Backend;
use crate::exec::docker::registry_auth::RegistryAuth;
use crate::exec::docker::{DockerExecutor, DockerOptions};
use crate::exec::kubernetes::connect::ClusterOptions;
use crate::exec::kubernetes::{KubernetesExecutor, KubernetesOptions};
use crate::history::RecorderThread;
use crate::load::Bundle;
use crate::mask::Masker;
use crate::plan::pipeline::resolve_pipeline;
use crate::plan::task_run::task_spec_of_run;
use crate::reconcile::{ConditionStatus, PipelineTaskState, RunReason, Timestamp};
use crate::run::ownership::{Owner, RUN_ID_LABEL};
use crate::run::{
    Clock, Driver, ExecError, ExecEvent, ExecOutcome, Interrupt, Progress, ProgressSink, Recorded,
    RunError, RunOutcome, Selection, SystemClock, TaskRunDriver, TaskRunRecord, TaskRunReport,
    TaskRunRequest,
};
use crate::status::{self, RunIdentity};
use crate::validate::Flags;

/// How often the loop looks at the executor, signals and timeouts.
const TICK: Duration = Duration::from_millis(100);

/// Arguments of `adze run`. `--pull`, `--executor`, `--logs`, `--parallel` and the
/// Kubernetes flags not given take the configuration file's values (see [`settle`]).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Set a run param (repeatable); JSON arrays/objects give array/object values.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Bind a workspace: `NAME=emptyDir` or `NAME=DIR` (repeatable).
    #[arg(short = 'w', long = "workspace", value_name = "NAME=emptyDir|DIR")]
    workspaces: Vec<String>,
    /// Run only the run with this name, when the files hold several.
    #[arg(long = "run", value_name = "NAME")]
    run: Option<String>,
    /// Replace image references of steps and sidecars before running: `FROM=TO`, an exact
    /// reference (`gcr.io/x/y:1=local/y:1`), a repository keeping tag and digest
    /// (`gcr.io/x/y=local/y`) or a prefix ending with `/` (`gcr.io/=localhost:5000/`);
    /// the longest match wins (repeatable; adds to the configuration's imageMap).
    #[arg(long = "image-map", value_name = "FROM=TO")]
    image_maps: Vec<String>,
    /// Print the final TaskRun/PipelineRun on stdout in this format.
    #[arg(short = 'o', long = "output", value_parser = ["yaml", "json"])]
    output: Option<String>,
    /// Write the run's events as they happen, one JSON object per line (`adze schema
    /// events`): on stdout, or into --events-file.
    #[arg(long, value_name = "FORMAT", value_parser = ["json"])]
    events: Option<String>,
    /// Write the events into FILE instead of stdout (implies --events json; works with -o).
    #[arg(long, value_name = "FILE")]
    events_file: Option<PathBuf>,
    /// When to pull images: always, missing (default), never.
    #[arg(long, default_value = "missing", value_parser = ["always", "missing", "never"])]
    pull: String,
    /// Run at most N TaskRuns at once (0: no limit).
    #[arg(long, default_value_t = 0, value_name = "N")]
    parallel: usize,
    /// Keep containers and directories after the run, for debugging.
    #[arg(long)]
    keep: bool,
    /// At the first failed step, stop the run and open a shell in a container of that
    /// step's image with its mounts, environment and working directory (Docker only).
    #[arg(long)]
    break_on_failure: bool,
    /// Open that shell just before step STEP (`task/step`, or `step`) runs; the run goes
    /// on when the shell exits (Docker only).
    #[arg(long, value_name = "STEP")]
    break_before: Option<String>,
    /// Fail where a cluster would, e.g. on results over Tekton's size limit; warn about
    /// alpha features `adze run` turns on (CEL when-expressions).
    #[arg(long)]
    strict: bool,
    /// Which step logs to show: none, failed (only of failed tasks), all.
    #[arg(long, default_value = "all", value_parser = ["none", "failed", "all"])]
    logs: String,
    /// Re-run only this pipeline task, reusing the last run's results for the others.
    #[arg(long, value_name = "TASK", conflicts_with = "from")]
    only: Option<String>,
    /// Re-run this pipeline task and everything after it, reusing the last run's results.
    #[arg(long, value_name = "TASK")]
    from: Option<String>,
    /// How long to wait for the container engine when it stops answering mid-run (a daemon
    /// restart). A step whose container still runs when the engine is back is watched
    /// again (dockerd with `--live-restore`); otherwise, or when the engine stays away, the
    /// interrupted TaskRuns fail with `PodEvicted` and adze exits 3.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_grace)]
    engine_grace: Duration,
    /// Where TaskRuns run: docker (containers on the local engine) or kubernetes (Pods
    /// through the API server of the kubeconfig's context).
    #[arg(long, default_value = "docker", value_parser = ["docker", "kubernetes"])]
    executor: String,
    /// Kubernetes: the namespace to run in (default: the context's, else `default`).
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Kubernetes: the kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Kubernetes: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubernetes: the image whose `/adze-entrypoint` every step runs through (default:
    /// $ADZE_ENTRYPOINT_IMAGE, else adze/adze:<adze version>).
    #[arg(long, value_name = "IMAGE")]
    entrypoint_image: Option<String>,
    /// Kubernetes before 1.29 (no native sidecars): the image that replaces each running
    /// sidecar's once the steps are done, as Tekton stops sidecars; its own entrypoint must
    /// exit 0 and the sidecar must not set `command` (default: the entrypoint image).
    #[arg(long, value_name = "IMAGE")]
    nop_image: Option<String>,
    /// Keep the N newest local runs in the history (.adze/history.db) and delete older ones
    /// with their logs and events after this run is recorded (0: keep all).
    #[arg(long, default_value_t = 50, value_name = "N")]
    keep_runs: usize,
    /// Show this value as `***` in logs, progress, the status output and the recorded run
    /// (repeatable). Values of every Secret loaded with the run are masked without it.
    #[arg(long = "mask", value_name = "VALUE")]
    masks: Vec<String>,
    /// Supply key KEY of Secret SECRET for this run without a file (repeatable): it
    /// overrides that key of a loaded Secret, or adds the Secret; the value is masked.
    #[arg(long = "secret", value_name = "SECRET/KEY=VALUE")]
    secrets: Vec<String>,
}

impl Args {
    /// True for `--executor kubernetes`.
    fn on_kubernetes(&self) -> bool {
        self.executor == "kubernetes"
    }

    /// The entrypoint image: the flag, the environment, or this version's.
    fn entrypoint_image(&self) -> String {
        crate::exec::backend::entrypoint_image(self.entrypoint_image.as_deref())
    }
}

/// A Go duration (`10s`, `1m30s`, `0s`) for `--engine-grace`.
fn parse_grace(text: &str) -> Result<Duration, String> {
    let d = crate::api::GoDuration::parse(text)
        .map_err(|_| format!("\"{text}\" is not a duration; write it like 10s, 500ms or 1m"))?;
    u64::try_from(d.0)
        .map(Duration::from_nanos)
        .map_err(|_| format!("\"{text}\" is negative; give 0s or more"))
}

/// The resolvers of the run: under `--executor kubernetes`, `cluster` references read the
/// API server of the kubeconfig's context, as Tekton's cluster resolver would; locally they
/// read the loaded documents.
fn resolvers(args: &Args) -> Result<crate::resolve::Resolvers, Outcome> {
    let mut resolvers = crate::resolve::Resolvers::standard();
    if args.on_kubernetes() {
        let options = ClusterOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
        };
        let objects = crate::resolve::cluster_api::ApiObjects::lazy(options).map_err(|e| {
            eprintln!("error: {e}");
            Outcome::Infrastructure
        })?;
        resolvers.add(Box::new(crate::resolve::cluster::ClusterResolver::new(
            Box::new(objects),
        )));
    }
    Ok(resolvers)
}

/// `args` with the configuration file's values for the flags not given, and what the run
/// takes from the file otherwise (default params and workspaces, the image map).
fn settle(args: &Args, invocation: &Invocation) -> Result<(Args, RunDefaults), Outcome> {
    let (_, settings) = invocation.settle(&RunFlags {
        pull: Some(&args.pull),
        executor: Some(&args.executor),
        logs: Some(&args.logs),
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
    settled.logs = settings.logs.value.clone();
    settled.parallel = settings.parallel.value;
    Ok((settled, settings.run_defaults()))
}

/// Runs `adze run`.
pub fn run(args: &Args, invocation: &Invocation) -> Outcome {
    let (settled, defaults) = match settle(args, invocation) {
        Ok(settled) => settled,
        Err(outcome) => return outcome,
    };
    let args = &settled;
    // After the configuration file, which may choose the executor.
    if let Err(outcome) = super::break_session::docker_only(
        args.break_on_failure,
        args.break_before.as_deref(),
        args.on_kubernetes(),
    ) {
        return outcome;
    }
    let flags = match args.input.run_flags_or_report(args.strict) {
        Ok(flags) => flags,
        Err(outcome) => return outcome,
    };
    let resolvers = match resolvers(args) {
        Ok(resolvers) => resolvers,
        Err(outcome) => return outcome,
    };
    let (mut bundle, objects) = match load_runs(
        &args.input,
        &flags,
        &args.params,
        &args.workspaces,
        &defaults,
        args.run.as_deref(),
        "running",
        &resolvers,
    ) {
        Ok(loaded) => loaded,
        Err(outcome) => return outcome,
    };
    let masker = match masking::for_run(&mut bundle, &args.secrets, &args.masks) {
        Ok(m) => m,
        Err(outcome) => return outcome,
    };
    let object = match objects.as_slice() {
        [one] => one,
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|o| format!("{}/{}", o.kind(), o.display_name()))
                .collect();
            eprintln!(
                "error: the files hold {} runs ({}); adze runs one at a time\n  help: choose one with --run NAME",
                many.len(),
                names.join(", ")
            );
            return Outcome::Invalid;
        }
    };
    let unsupported = compat::check::check_run(&bundle, object, args.strict);
    if !unsupported.is_empty() {
        // Dropped before the run starts: the report holds the stderr lock.
        let mut report = args.input.report();
        args.input
            .write_diagnostics(&mut report, &bundle, &unsupported);
        let refused = unsupported.iter().filter(|d| d.is_error()).count();
        if refused > 0 {
            report.line(&format!(
                "refused: adze run cannot run this as written: fix the {refused} error(s) above \
                 (docs/compatibility.md lists what adze run supports)"
            ));
            return Outcome::Invalid;
        }
    }
    if (args.only.is_some() || args.from.is_some()) && !matches!(object, Object::PipelineRun(_)) {
        eprintln!("error: --only and --from choose tasks of a PipelineRun; this is a TaskRun");
        return Outcome::Invalid;
    }
    let break_before =
        match super::break_session::check(args.break_before.as_deref(), &bundle, object) {
            Ok(before) => before,
            Err(outcome) => return outcome,
        };
    let session = match Session::start(args, &flags, masker, break_before) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    match object {
        Object::PipelineRun(pr) => run_pipeline(args, &bundle, pr, session),
        Object::TaskRun(tr) => run_task(args, &bundle, tr, session),
        other => {
            eprintln!("error: cannot run a {}", other.kind());
            Outcome::Invalid
        }
    }
}

/// What every run needs while it runs: the executor, the event consumers, signals.
struct Session {
    executor: Backend,
    sink: ProgressSink,
    /// Hands the run's events to the display and, with `--events`, the JSON-lines writer.
    consumers: FanOut,
    interrupt: Interrupt,
    /// Removes the run's containers should this process die without doing it.
    watchdog: Option<Watchdog>,
    /// `--keep`: leave what the run created.
    keep: bool,
    /// Records the run in the history; taken by the run before the session ends.
    history: Option<RecorderThread>,
    /// Masks secret values in everything the run prints and records.
    masker: Arc<Masker>,
}

impl Session {
    /// Connects to the engine, starts the event consumers (the display, `--events`, the
    /// history) and installs the signal handlers; `flags` says where the Kubernetes executor
    /// reads results from; `masker` masks every event before any consumer reads it;
    /// `break_before` is the step of `--break-before`.
    fn start(
        args: &Args,
        flags: &Flags,
        masker: Arc<Masker>,
        break_before: Option<crate::run::breakpoints::StepRef>,
    ) -> Result<Session, Outcome> {
        // Before anything starts: a bad `--events` is the user's to fix, and costs nothing.
        let json_lines = events_writer(args)?;
        let (sink, events) = ProgressSink::channel();
        // Masked before anything reads the channel: renderer, events, history alike.
        let sink = sink.masked(masker.clone());
        let interrupt = Interrupt::new();
        let options = DockerOptions {
            progress: sink.clone(),
            logs: args.logs != "none",
            keep: args.keep,
            strict: args.strict,
            pull: args.pull.parse().unwrap_or_default(),
            parallel: (args.parallel > 0).then_some(args.parallel),
            engine_grace: args.engine_grace,
            breakpoints: super::break_session::breakpoints(
                args.break_on_failure,
                break_before,
                &interrupt,
            ),
            registry_auth: Arc::new(RegistryAuth::from_environment().masking(masker.clone())),
            ..DockerOptions::default()
        };
        let (executor, watchdog) = if args.on_kubernetes() {
            let options = KubernetesOptions {
                cluster: ClusterOptions {
                    kubeconfig: args.kubeconfig.clone(),
                    context: args.context.clone(),
                    namespace: args.namespace.clone(),
                },
                entrypoint_image: args.entrypoint_image(),
                nop_image: args
                    .nop_image
                    .clone()
                    .unwrap_or_else(|| args.entrypoint_image()),
                progress: sink.clone(),
                logs: args.logs != "none",
                keep: args.keep,
                run_id: Owner::current().run_id.clone(),
                image_pull_policy: Some(
                    args.pull
                        .parse::<crate::exec::docker::PullPolicy>()
                        .unwrap_or_default()
                        .image_pull_policy()
                        .to_owned(),
                ),
                results_from: flags.results_from,
                max_result_size: flags.max_result_size,
                task_run_owner: None,
                adopt: false,
                started: None,
            };
            match KubernetesExecutor::connect(options) {
                Ok(e) => (Backend::Kubernetes(e), None),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Err(Outcome::Infrastructure);
                }
            }
        } else {
            let executor = match DockerExecutor::with_options(options) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Err(Outcome::Infrastructure);
                }
            };
            collect_orphans(&executor);
            let watchdog = match Watchdog::spawn() {
                Ok(w) => Some(w),
                Err(e) => {
                    eprintln!(
                        "warning: cannot start the watchdog that removes this run's containers if \
                         adze is killed ({e}); the next `adze run` or `adze gc` removes them then"
                    );
                    None
                }
            };
            (Backend::Docker(executor), watchdog)
        };
        let tty = std::io::stderr().is_terminal();
        let color = color_of(args);
        let history = super::history::recorder(args.keep_runs, masker.clone());
        let mut consumers = vec![progress::consumer(RenderOptions {
            mode: if tty { Mode::Tty } else { Mode::Plain },
            logs: match args.logs.as_str() {
                "none" => LogMode::None,
                "failed" => LogMode::Failed,
                _ => LogMode::All,
            },
            color,
        })];
        consumers.extend(json_lines);
        consumers.push(Box::new(history.consumer()));
        let consumers = fan_out::spawn(events, consumers);
        watch_signals(&executor, interrupt.clone(), sink.clone());
        Ok(Session {
            executor,
            sink,
            consumers,
            interrupt,
            watchdog,
            keep: args.keep,
            history: Some(history),
            masker,
        })
    }

    /// Stops the executor (ending its TaskRuns and signal watchers) and waits for the
    /// renderer to print everything.
    fn finish(self) {
        // Ending the executor ends its TaskRuns, signal watchers and progress senders; what
        // it says about the objects it leaves is printed after the progress.
        let notes = self.executor.finish(self.keep, &Owner::current().run_id);
        if let Some(w) = self.watchdog {
            w.release();
        }
        drop(self.sink);
        self.consumers.finish();
        for line in notes {
            masking::eprintln(&self.masker, &line);
        }
    }
}

/// The `--events` writer, if asked for: on stdout, or into `--events-file` (created or
/// truncated now, so a path that cannot be written fails before the run starts).
fn events_writer(args: &Args) -> Result<Option<Box<dyn Consumer>>, Outcome> {
    let out: Box<dyn std::io::Write + Send> = match (&args.events, &args.events_file) {
        (None, None) => return Ok(None),
        (_, Some(path)) => match std::fs::File::create(path) {
            Ok(file) => Box::new(file),
            Err(e) => {
                eprintln!(
                    "error: cannot write the events to {}: {e}\n  help: give --events-file a \
                     path in a directory you can write",
                    path.display()
                );
                return Err(Outcome::Invalid);
            }
        },
        (Some(_), None) if args.output.is_some() => {
            eprintln!(
                "error: --events json writes to stdout, where -o prints the final object\n  \
                 help: add --events-file PATH to write the events there"
            );
            return Err(Outcome::Invalid);
        }
        (Some(_), None) => Box::new(std::io::stdout()),
    };
    Ok(Some(Box::new(JsonLines::new(out))))
}

/// Ctrl-C and SIGTERM: the first cancels gracefully, the second kills, the third exits.
fn watch_signals(executor: &Backend, interrupt: Interrupt, sink: ProgressSink) {
    let force = executor.force_handle();
    executor.runtime().spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        loop {
            let terminated = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminated => {}
            }
            let count = interrupt.trigger();
            if count >= 3 {
                eprintln!(
                    "interrupted three times: exiting now; the run's watchdog removes its \
                     containers (`adze gc` lists anything left)"
                );
                std::process::exit(130);
            }
            if let (2, Some(force)) = (count, &force) {
                force.force();
            }
            sink.send(Progress::Interrupted { force: count >= 2 });
        }
    });
}

/// A name for a run with only `generateName`, and the identity the final object shows.
fn identity(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> RunIdentity {
    let uid = status::new_uid();
    let name = match (&meta.name, &meta.generate_name) {
        (Some(n), _) if !n.is_empty() => n.clone(),
        (_, Some(g)) => {
            let suffix: String = uid
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(5)
                .collect();
            format!("{g}{suffix}")
        }
        _ => "run".to_owned(),
    };
    RunIdentity {
        name,
        namespace: meta
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned()),
        uid,
        created: SystemClock.now(),
    }
}

/// Kubernetes: creates the ConfigMaps, Secrets and claims loaded beside the run that the
/// namespace lacks, as the local run reads them from the files; the exit when it cannot.
fn create_loaded(session: &Session, bundle: &Bundle) -> Result<(), Outcome> {
    let Backend::Kubernetes(kube) = &session.executor else {
        return Ok(());
    };
    kube.create_loaded(bundle).map_err(|e| {
        eprintln!("error: {e}");
        if e.is_unreachable() {
            Outcome::Infrastructure
        } else {
            Outcome::Invalid
        }
    })
}

fn run_pipeline(args: &Args, bundle: &Bundle, pr: &PipelineRun, mut session: Session) -> Outcome {
    let history = session.history.take();
    let masker = session.masker.clone();
    let id = identity(&pr.metadata);
    let mut named = pr.clone();
    named.metadata.name = Some(id.name.clone());
    let key = pr
        .metadata
        .name
        .clone()
        .or_else(|| pr.metadata.generate_name.clone())
        .unwrap_or_else(|| "run".to_owned());
    // Absolute, so a message about the record says where it is.
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let record_file = last_run::path(&base, &key);
    let selection = match (&args.only, &args.from) {
        (Some(t), _) => Some(Selection::Only(t.clone())),
        (None, Some(t)) => Some(Selection::From(t.clone())),
        (None, None) => None,
    };
    let previous = match selection {
        Some(_) => match last_run::load(&record_file) {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "error: {e}\n  help: run the PipelineRun once without --only/--from to \
                     record a new last run, then re-run part of it"
                );
                session.finish();
                return Outcome::Invalid;
            }
        },
        None => Recorded::new(),
    };
    let driver = if args.on_kubernetes() {
        Driver::for_cluster(bundle, &named)
    } else {
        Driver::new(bundle, &named)
    };
    let driver = driver.and_then(|d| match &selection {
        Some(s) => d.with_selection(s, &previous),
        None => Ok(d),
    });
    let driver = match driver {
        Ok(d) => d
            .with_keep(args.keep)
            .with_strict(args.strict)
            .with_tick(TICK)
            .with_progress(session.sink.clone())
            .with_interrupt(session.interrupt.clone()),
        Err(e) => {
            session.finish();
            return run_error(&e, &masker);
        }
    };
    if let Err(outcome) = create_loaded(&session, bundle) {
        session.finish();
        return outcome;
    }
    if let Some(h) = &history {
        h.begin(super::history::local_run(
            &args.input,
            &args.params,
            &args.executor,
            "PipelineRun",
            &named,
            &id,
        ));
    }
    let result = driver.run(session.executor.executor(), &mut SystemClock);
    session.finish();
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return run_error(&e, &masker),
    };
    let reused: Recorded = match &selection {
        Some(_) => previous
            .into_iter()
            .filter(|(task, _)| {
                !outcome
                    .task_runs
                    .iter()
                    .any(|r| &r.request.pipeline_task == task)
            })
            .collect(),
        None => Recorded::new(),
    };
    let mut host_faults = out_of_space_faults(outcome.task_runs.iter());
    if outcome.condition.reason == RunReason::CouldntCreateWorkspacePVC {
        host_faults.push(outcome.condition.message.clone());
    }
    // A full disk is the host's fault and worth exit 3; another failure (a read-only
    // checkout) only costs later `--only`/`--from`, so it stays a warning.
    if let Err(e) = last_run::save(&record_file, &key, &outcome, &reused, &masker) {
        if e.out_of_space() {
            host_faults.push(format!("cannot record the run for --only/--from: {e}"));
        } else {
            eprintln!("warning: cannot record the run for --only/--from: {e}");
        }
    }
    eprint!("{}", summary(&outcome, &reused, args, &masker));
    let object = resolve_pipeline(bundle, &named).map(|(spec, _)| {
        let mut object = status::pipeline_run_object(&named, &id, spec, &outcome);
        masker.mask_json(&mut object);
        object
    });
    if let Some(format) = &args.output {
        match &object {
            Ok(object) => print_object(format, object),
            Err(e) => masking::eprintln(
                &masker,
                &format!("error: cannot render the PipelineRun: {e}"),
            ),
        }
    }
    if let Some(h) = history {
        let succeeded = outcome.condition.status == ConditionStatus::True;
        h.finish(Some(super::history::end(succeeded, object.ok())));
    }
    let (status, reason, message) = (
        outcome.condition.status,
        outcome.condition.reason.as_str(),
        &outcome.condition.message,
    );
    masking::eprintln(
        &masker,
        &format!("PipelineRun {}: {reason}: {message}", id.name),
    );
    keep_hint(args);
    let host_fault = report_host_faults(&host_faults, &masker);
    if let Some(lost) = &outcome.engine_lost {
        return engine_lost(lost, &masker);
    }
    if host_fault {
        return Outcome::Infrastructure;
    }
    match status {
        ConditionStatus::True => Outcome::Success,
        _ => Outcome::Failed,
    }
}

fn run_task(args: &Args, bundle: &Bundle, tr: &TaskRun, mut session: Session) -> Outcome {
    let history = session.history.take();
    let masker = session.masker.clone();
    let id = identity(&tr.metadata);
    let mut named = tr.clone();
    named.metadata.name = Some(id.name.clone());
    let driver = if args.on_kubernetes() {
        TaskRunDriver::for_cluster(bundle, &named)
    } else {
        TaskRunDriver::with_workspace_base(bundle, &named, &std::env::temp_dir(), args.keep)
    };
    let driver = match driver {
        Ok(d) => d
            .with_strict(args.strict)
            .with_tick(TICK)
            .with_progress(session.sink.clone())
            .with_interrupt(session.interrupt.clone()),
        Err(e @ RunError::RunDirectory { .. }) => {
            session.finish();
            // Nothing can start without its workspace directory, but the TaskRun still ends
            // with a status, as on a cluster whose workspace volume cannot be created.
            let record = unstarted(bundle, &named, WORKSPACE_NOT_CREATED, &e.to_string());
            if let Some(format) = &args.output {
                let mut object = status::task_run_object(&named, &id, &record);
                masker.mask_json(&mut object);
                print_object(format, &object);
            }
            eprintln!("TaskRun {}: {WORKSPACE_NOT_CREATED}", id.name);
            return run_error(&e, &masker);
        }
        Err(e) => {
            session.finish();
            return run_error(&e, &masker);
        }
    };
    if let Err(outcome) = create_loaded(&session, bundle) {
        session.finish();
        return outcome;
    }
    if let Some(h) = &history {
        h.begin(super::history::local_run(
            &args.input,
            &args.params,
            &args.executor,
            "TaskRun",
            &named,
            &id,
        ));
    }
    let result = driver.run(session.executor.executor(), &mut SystemClock);
    session.finish();
    let record = match result {
        Ok(r) => r,
        Err(e) => return run_error(&e, &masker),
    };
    eprint!("{}", task_summary(&record, args, &masker));
    let mut object = status::task_run_object(&named, &id, &record);
    masker.mask_json(&mut object);
    if let Some(format) = &args.output {
        print_object(format, &object);
    }
    if let Some(h) = history {
        let succeeded = matches!(
            record.event.as_ref().map(|e| &e.outcome),
            Some(ExecOutcome::Succeeded)
        );
        h.finish(Some(super::history::end(succeeded, Some(object))));
    }
    keep_hint(args);
    let outcome = match record.event.as_ref().map(|e| &e.outcome) {
        Some(ExecOutcome::Succeeded) => {
            eprintln!("TaskRun {}: Succeeded", id.name);
            Outcome::Success
        }
        Some(ExecOutcome::Failed { reason, message }) => {
            masking::eprintln(
                &masker,
                &format!("TaskRun {}: {reason}: {message}", id.name),
            );
            Outcome::Failed
        }
        Some(ExecOutcome::EngineLost { reason, message }) => {
            eprintln!("TaskRun {}: {reason}", id.name);
            engine_lost(message, &masker)
        }
        Some(ExecOutcome::Cancelled) | None => {
            eprintln!("TaskRun {}: TaskRunCancelled", id.name);
            Outcome::Failed
        }
    };
    if report_host_faults(&out_of_space_faults(std::iter::once(&record)), &masker) {
        return Outcome::Infrastructure;
    }
    outcome
}

/// What adze could not write for these TaskRuns (and their retried attempts) because the
/// host's disk is full.
fn out_of_space_faults<'a>(records: impl Iterator<Item = &'a TaskRunRecord>) -> Vec<String> {
    records
        .flat_map(|r| r.retries.iter().chain(&r.event))
        .filter_map(|e| e.report.out_of_space.clone())
        .collect()
}

/// Says which of adze's own files could not be written (for lack of space, or the run
/// directory at all), after the status object: the run's outcome is the host's fault, so it
/// exits 3 whatever the steps did. Returns whether there was any.
fn report_host_faults(faults: &[String], masker: &Masker) -> bool {
    for fault in faults {
        masking::eprintln(masker, &format!("error: {fault}"));
    }
    if faults.is_empty() {
        return false;
    }
    eprintln!(
        "  help: adze writes TaskRun directories under $TMPDIR (now {}) and the last run \
         under .adze/runs in the working directory; make room there, or point TMPDIR at a \
         filesystem with room, and run again",
        std::env::temp_dir().display()
    );
    true
}

/// The run ended because the engine stopped: an infrastructure fault, exit 3.
fn engine_lost(message: &str, masker: &Masker) -> Outcome {
    let message = masker.mask(message);
    eprintln!(
        "error: {message}\n  help: check the engine (`adze doctor` says what to fix) and run again; a daemon \
         restarted with `--live-restore` within --engine-grace is waited for"
    );
    Outcome::Infrastructure
}

/// Prints the final object on stdout.
/// Tekton's reason for a run whose workspace volume could not be created.
const WORKSPACE_NOT_CREATED: &str = "CouldntCreateWorkspacePVC";

/// The record of a TaskRun that failed with `reason` before anything of it was created.
fn unstarted(bundle: &Bundle, tr: &TaskRun, reason: &str, message: &str) -> TaskRunRecord {
    let name = tr.metadata.name.clone().unwrap_or_default();
    let now = SystemClock.now();
    TaskRunRecord {
        request: TaskRunRequest {
            name: name.clone(),
            ..TaskRunRequest::default()
        },
        spec: task_spec_of_run(bundle, tr)
            .map(|(spec, _)| spec)
            .unwrap_or_default(),
        event: Some(ExecEvent {
            task_run: name,
            outcome: ExecOutcome::Failed {
                reason: reason.to_owned(),
                message: message.to_owned(),
            },
            results: Vec::new(),
            report: TaskRunReport {
                message: message.to_owned(),
                start_time: Some(now),
                completion_time: Some(now),
                ..TaskRunReport::default()
            },
        }),
        retries: Vec::new(),
    }
}

/// Errors that stop a run before or outside Tekton's semantics, with their exit status.
fn run_error(e: &RunError, masker: &Masker) -> Outcome {
    masking::eprintln(masker, &format!("error: {e}"));
    match e {
        RunError::Exec(ExecError::Unavailable(_)) => Outcome::Infrastructure,
        RunError::Exec(_) | RunError::Stalled(_) | RunError::View(_) => Outcome::Infrastructure,
        RunError::RunDirectory { .. } => Outcome::Infrastructure,
        RunError::Plan(_)
        | RunError::InvalidTimeout { .. }
        | RunError::Selection(_)
        | RunError::MissingObject { .. }
        | RunError::MissingKey { .. }
        | RunError::InvalidObject { .. }
        | RunError::Workspace { .. }
        | RunError::Volume { .. }
        | RunError::PodTemplate { .. } => Outcome::Invalid,
    }
}

/// With `--keep`: how to look at what was kept, and how to remove it.
fn keep_hint(args: &Args) {
    if args.keep && !args.on_kubernetes() {
        let id = &Owner::current().run_id;
        eprintln!(
            "kept: containers stay on the engine: `docker ps -a --filter label={RUN_ID_LABEL}={id}`; \
             remove them with `adze gc --yes --include-kept --run-id {id}`"
        );
    }
}

fn duration(record: Option<&TaskRunRecord>) -> Option<Duration> {
    let report = &record?.event.as_ref()?.report;
    let (Some(Timestamp(a)), Some(Timestamp(b))) = (report.start_time, report.completion_time)
    else {
        return None;
    };
    Some(Duration::from_millis(b.saturating_sub(a)))
}

/// The summary table of a PipelineRun.
fn summary(outcome: &RunOutcome, reused: &Recorded, args: &Args, masker: &Masker) -> String {
    let rows: Vec<SummaryRow> = outcome
        .task_states
        .iter()
        .map(|(task, state)| {
            let record = outcome
                .task_runs
                .iter()
                .find(|r| &r.request.pipeline_task == task);
            // A success's message ("All Steps have completed executing") says nothing.
            let message = record
                .and_then(|r| r.event.as_ref())
                .filter(|e| e.outcome != ExecOutcome::Succeeded)
                .map(|e| masker.mask(&e.report.message).into_owned())
                .unwrap_or_default();
            let not_run = |status: &str, reason: &str| SummaryRow {
                task: task.clone(),
                status: status.to_owned(),
                reason: reason.to_owned(),
                duration: None,
            };
            match state {
                PipelineTaskState::Succeeded if record.is_none() && reused.contains_key(task) => {
                    not_run("Reused", "results of the last run")
                }
                PipelineTaskState::Succeeded
                    if record.is_none()
                        && !outcome
                            .child_references
                            .iter()
                            .any(|c| &c.pipeline_task == task) =>
                {
                    not_run("Not run", "not selected")
                }
                other => SummaryRow::from_state(task, other, &message, duration(record)),
            }
        })
        .collect();
    progress::summary_table(&rows, progress::terminal_width(), color_of(args))
}

/// The summary table of a standalone TaskRun: one row per step.
fn task_summary(record: &TaskRunRecord, args: &Args, masker: &Masker) -> String {
    let Some(event) = &record.event else {
        return String::new();
    };
    let (status, reason) = match &event.outcome {
        ExecOutcome::Succeeded => ("Succeeded".to_owned(), String::new()),
        ExecOutcome::Failed { reason, message } | ExecOutcome::EngineLost { reason, message } => {
            ("Failed".to_owned(), format!("{reason}: {message}"))
        }
        ExecOutcome::Cancelled => ("Cancelled".to_owned(), event.report.message.clone()),
    };
    let rows = [SummaryRow {
        task: record.request.name.clone(),
        status,
        reason: masker.mask(&reason).into_owned(),
        duration: duration(Some(record)),
    }];
    progress::summary_table(&rows, progress::terminal_width(), color_of(args))
}

fn color_of(args: &Args) -> bool {
    output::color(&args.input.color)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_grace_takes_go_durations_and_refuses_the_rest() {
        assert_eq!(parse_grace("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_grace("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_grace("0s"), Ok(Duration::ZERO));
        assert_eq!(
            parse_grace("soon"),
            Err("\"soon\" is not a duration; write it like 10s, 500ms or 1m".into())
        );
        assert_eq!(
            parse_grace("-1s"),
            Err("\"-1s\" is negative; give 0s or more".into())
        );
    }
}
