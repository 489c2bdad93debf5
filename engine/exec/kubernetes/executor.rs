//! [`KubernetesExecutor`]: the driver's [`Executor`] on an API server. Each TaskRun becomes
//! the objects [`translate`](super::translate) builds; the executor creates them, watches the
//! Pod, streams its step logs, and turns what it sees into the same [`ExecEvent`] the local
//! executor reports, through [`evaluate`].
//!
//! # Design
//!
//! Like the Docker executor it owns a small tokio runtime and one task per TaskRun; the trait's
//! calls stay synchronous. A TaskRun's task polls its Pod (every [`POLL`]) and feeds a
//! [`TaskRunView`] to [`evaluate`], the same pure function that decides the local executor's
//! status: timeouts and cancels are `evaluate`'s verdicts, after which the Pod is deleted.
//! Everything created is recorded in [`Created`], so a cancelled run, a finished one (unless
//! `keep`) and an API server that went away can all say or undo exactly what exists.
//!
//! Once the steps are done the Pod may still run (ordinary sidecars being replaced by the
//! no-op image): it is deleted then, unless `keep`, in which case it is left to finish.
//! Under `results-from: sidecar-logs` the results come from the `tekton-log-results`
//! container's log, read once it has exited (`results_sidecar.rs`); the termination messages
//! still give the step states.
//!
//! # Not yet
//!
//! - Watching the Pod instead of polling it; reading logs by stream (`stdout`/`stderr` are
//!   not told apart: the API server merges them).
//! - Image ENTRYPOINT/CMD from a registry: steps without `command` read their image's from
//!   the local Docker engine ([`super::image_command`]).
//! - Retries of failed API calls other than creates (reads of the Pod tolerate about five
//!   seconds of failures); `keep-pod-on-cancel`.
//! - A no-op image with an entrypoint of its own by default (see [`KubernetesOptions::nop_image`]).
//! - A step's `durationMs` (the `stepFinished` event): its start is the entrypoint's, to the
//!   millisecond, but its end is the kubelet's `finishedAt`, which Kubernetes keeps in whole
//!   seconds, so a sub-second step may report 0 and any step up to a second too little. The
//!   entrypoint does not record when the command ended.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use futures_util::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret};
use kube::api::{DeleteParams, LogParams, Patch, PatchParams, PostParams};
use kube::Api;
use tokio::sync::watch;

use super::cluster_secrets::ClusterSecrets;
use super::connect::{Cluster, ClusterOptions};
use super::loaded_objects::LoadedObjectError;
use super::observe::{observe, unschedulable, PodView};
use super::results_sidecar::{self, LogResults, LogResultsError, RESULTS_SIDECAR};
use super::{image_command, translate, PodObjects, PodOptions, READY_ANNOTATION};
use crate::api::ParamValue;
use crate::exec::docker::results::typed;
use crate::reconcile::task_run::{
    evaluate, sidecar_container, ContainerObservation, StepObservation, TaskRunAction,
    TaskRunSpecStatus, TaskRunView,
};
use crate::reconcile::{ConditionStatus, Timestamp};
use crate::run::{
    Clock, ExecError, ExecEvent, ExecOutcome, Executor, Progress, ProgressSink, StepReport, Stream,
    SystemClock, TaskRunReport, TaskRunRequest,
};
use crate::validate::ResultsFrom;

/// How often a TaskRun's Pod is read.
const POLL: Duration = Duration::from_millis(250);

/// What `adze run --executor kubernetes` configures.
#[derive(Debug, Clone, Default)]
pub struct KubernetesOptions {
    /// Where the cluster is.
    pub cluster: ClusterOptions,
    /// The image holding `/adze-entrypoint` (`--entrypoint-image`).
    pub entrypoint_image: String,
    /// The image that replaces a running ordinary sidecar's once the steps are done (servers
    /// without native sidecars, `--nop-image`); its own entrypoint must exit 0 (the
    /// entrypoint image, the CLI's default, has none).
    pub nop_image: String,
    /// Where progress goes.
    pub progress: ProgressSink,
    /// Stream step logs.
    pub logs: bool,
    /// Leave every object in place after the run.
    pub keep: bool,
    /// The invocation's id, the `adze.dev/run-id` label of everything created.
    pub run_id: String,
    /// `imagePullPolicy` of every step and sidecar (`--pull`); `None` keeps each one's own.
    pub image_pull_policy: Option<String>,
    /// Where results are read from (`--feature-flag results-from=…`).
    pub results_from: ResultsFrom,
    /// The largest result line under `results-from: sidecar-logs`
    /// (`--feature-flag max-result-size=…`).
    pub max_result_size: usize,
    /// The TaskRun object that owns the Pod and its ConfigMap and Secret (`adze controller`):
    /// deleting the TaskRun deletes them.
    pub task_run_owner: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
    /// Objects that already exist under their names are the ones an earlier incarnation of
    /// the controller created for this same TaskRun: use them instead of failing
    /// (`adze controller` resumes a run without creating anything twice).
    pub adopt: bool,
    /// When the TaskRun started, if before this executor (a resumed run): its timeout
    /// counts from then, not from the resumption.
    pub started: Option<Timestamp>,
}

/// One object the executor created, to list or delete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Created {
    /// `Pod`, `ConfigMap`, `Secret` or `PersistentVolumeClaim`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
}

/// Runs TaskRuns as Pods through the Kubernetes API.
pub struct KubernetesExecutor {
    /// The runtime the executor made for itself (`adze run`); `None` on the controller's.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    cluster: Cluster,
    options: Arc<KubernetesOptions>,
    events: mpsc::Receiver<ExecEvent>,
    sender: mpsc::Sender<ExecEvent>,
    ready: VecDeque<ExecEvent>,
    cancels: HashMap<String, watch::Sender<Option<String>>>,
    created: Arc<Mutex<Vec<Created>>>,
    /// How many attempts of each TaskRun were started: the driver starts the same name again
    /// for a retry, whose objects must not meet the earlier attempt's.
    attempts: HashMap<String, u32>,
    /// The cluster Secrets whose values the run's masker has.
    secrets: Arc<ClusterSecrets>,
}

impl KubernetesExecutor {
    /// Connects to the cluster; an unreachable or unauthorised server is
    /// [`ExecError::Unavailable`], naming it.
    pub fn connect(options: KubernetesOptions) -> Result<KubernetesExecutor, ExecError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| ExecError::Unavailable(format!("cannot start a runtime: {e}")))?;
        let cluster = runtime
            .block_on(super::connect::connect(&options.cluster))
            .map_err(|e| ExecError::Unavailable(format!("{e}\n  help: {}", e.help())))?;
        let mut executor =
            KubernetesExecutor::on_runtime(runtime.handle().clone(), cluster, options);
        executor.runtime = Some(runtime);
        Ok(executor)
    }

    /// An executor on a runtime and a connection that already exist (`adze controller`, one
    /// per run); its calls must come from outside the runtime's worker threads.
    pub fn on_runtime(
        handle: tokio::runtime::Handle,
        cluster: Cluster,
        options: KubernetesOptions,
    ) -> KubernetesExecutor {
        let (sender, events) = mpsc::channel();
        KubernetesExecutor {
            runtime: None,
            handle,
            cluster,
            options: Arc::new(options),
            events,
            sender,
            ready: VecDeque::new(),
            cancels: HashMap::new(),
            created: Arc::new(Mutex::new(Vec::new())),
            attempts: HashMap::new(),
            secrets: Arc::default(),
        }
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.cluster.server
    }

    /// The namespace runs are created in.
    pub fn namespace(&self) -> &str {
        &self.cluster.namespace
    }

    /// Every object created so far and not deleted.
    pub fn created(&self) -> Vec<Created> {
        let mut all = self.created.lock().map(|c| c.clone()).unwrap_or_default();
        all.sort();
        all
    }

    /// Deletes every object still recorded (the claims last); what could not be deleted is
    /// returned with the reason.
    pub fn clean_up(&self) -> Vec<(Created, String)> {
        let created = self.created();
        let cluster = self.cluster.clone();
        let record = self.created.clone();
        self.handle.block_on(async move {
            let mut failed = Vec::new();
            let mut ordered = created;
            ordered.sort_by_key(|c| c.kind == "PersistentVolumeClaim");
            for object in ordered {
                match delete(&cluster, object.kind, &object.name).await {
                    Ok(()) => forget(&record, &object),
                    Err(e) => failed.push((object, e)),
                }
            }
            failed
        })
    }

    /// Creates the ConfigMaps, Secrets and claims loaded beside the run that the namespace
    /// lacks, recording each one so it goes with the run ([`super::loaded_objects`]).
    pub fn create_loaded(&self, bundle: &crate::load::Bundle) -> Result<(), LoadedObjectError> {
        let record = self.created.clone();
        self.handle.block_on(super::loaded_objects::create_loaded(
            &self.cluster,
            bundle,
            &self.options.run_id,
            |c| {
                if let Ok(mut all) = record.lock() {
                    all.push(c);
                }
            },
        ))
    }

    /// The runtime the executor's tasks run on, for the CLI's signal handlers.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

impl Executor for KubernetesExecutor {
    fn start(&mut self, request: &TaskRunRequest) -> Result<(), ExecError> {
        let images =
            image_command::resolve(&self.handle, request).map_err(|message| ExecError::Start {
                task_run: request.name.clone(),
                message,
            })?;
        let attempt = {
            let started = self.attempts.entry(request.name.clone()).or_default();
            *started += 1;
            *started - 1
        };
        let pod_options = PodOptions {
            entrypoint_image: self.options.entrypoint_image.clone(),
            namespace: self.cluster.namespace.clone(),
            task_run_owner: self.options.task_run_owner.clone(),
            pipeline_run_owner: None,
            run_id: self.options.run_id.clone(),
            native_sidecars: self.cluster.native_sidecars(),
            image_commands: images,
            sidecars_ready_at_start: false,
            image_pull_policy: self.options.image_pull_policy.clone(),
            attempt,
            results_sidecar: self.options.results_from == ResultsFrom::SidecarLogs,
        };
        let objects = translate(request, &pod_options).map_err(|e| ExecError::Start {
            task_run: request.name.clone(),
            message: e.to_string(),
        })?;
        let (cancel, cancelled) = watch::channel(None);
        self.cancels.insert(request.name.clone(), cancel);
        let run = TaskRunTask {
            cluster: self.cluster.clone(),
            options: self.options.clone(),
            request: request.clone(),
            attempt,
            created: self.created.clone(),
            cancelled,
            logs: Vec::new(),
            secrets: self.secrets.clone(),
        };
        let sender = self.sender.clone();
        self.handle.spawn(async move {
            let event = run.run(objects).await;
            let _ = sender.send(event);
        });
        Ok(())
    }

    fn cancel(&mut self, name: &str, message: &str) -> Result<(), ExecError> {
        if let Some(cancel) = self.cancels.get(name) {
            let _ = cancel.send(Some(message.to_owned()));
        }
        Ok(())
    }

    fn poll(&mut self, _now: Timestamp) -> Vec<ExecEvent> {
        let mut out: Vec<ExecEvent> = self.ready.drain(..).collect();
        out.extend(self.events.try_iter());
        for event in &out {
            self.cancels.remove(&event.task_run);
        }
        out
    }

    fn wait(&mut self, timeout: Duration) -> bool {
        if let Ok(event) = self.events.recv_timeout(timeout) {
            self.ready.push_back(event);
        }
        true
    }
}

/// One TaskRun's life on the cluster.
struct TaskRunTask {
    cluster: Cluster,
    options: Arc<KubernetesOptions>,
    request: TaskRunRequest,
    /// Which attempt of the TaskRun this is (see [`PodOptions::attempt`]).
    attempt: u32,
    created: Arc<Mutex<Vec<Created>>>,
    cancelled: watch::Receiver<Option<String>>,
    /// The step log streams, drained before the TaskRun is reported finished.
    logs: Vec<tokio::task::JoinHandle<()>>,
    /// The cluster Secrets whose values the run's masker has (shared by the run's TaskRuns).
    secrets: Arc<ClusterSecrets>,
}

/// How long a finished TaskRun waits for its log streams to deliver their last lines.
const LOG_DRAIN: Duration = Duration::from_secs(5);

/// How long a TaskRun whose steps are done waits for the results sidecar to print and exit
/// (it needs only to read the result files: milliseconds).
const RESULTS_WAIT: Duration = Duration::from_secs(30);

/// Why a TaskRun ended before its Pod could tell.
enum Early {
    /// An object could not be created: `PodCreationFailed`.
    Create(String),
    /// The API server stopped answering.
    Lost(String),
}

impl TaskRunTask {
    async fn run(mut self, objects: PodObjects) -> ExecEvent {
        let created_at = match self.attempt {
            // A retry is a new attempt with a timeout of its own.
            0 => self.options.started.unwrap_or_else(|| SystemClock.now()),
            _ => SystemClock.now(),
        };
        let pod_name = objects.pod.metadata.name.clone().unwrap_or_default();
        self.learn_secrets(&objects).await;
        if let Err(early) = self.create(objects).await {
            return self.early_event(early, &pod_name, created_at);
        }
        let outcome = self.watch(&pod_name, created_at).await;
        // The driver prints the summary once the TaskRun is reported: its logs come first.
        for stream in std::mem::take(&mut self.logs) {
            let _ = tokio::time::timeout(LOG_DRAIN, stream).await;
        }
        if !self.options.keep {
            for (kind, name) in self.own_objects(&pod_name) {
                if delete(&self.cluster, kind, &name).await.is_ok() {
                    forget(&self.created, &Created { kind, name });
                }
            }
        }
        outcome
    }

    /// Adds the values of the cluster Secrets the Pod reads to the run's masker, before
    /// anything of the Pod can show them ([`super::cluster_secrets`]).
    async fn learn_secrets(&self, objects: &PodObjects) {
        let (Some(masker), Some(spec)) = (self.options.progress.masker(), &objects.pod.spec) else {
            return;
        };
        let own = objects
            .credentials
            .as_ref()
            .and_then(|s| s.metadata.name.as_deref());
        for message in self.secrets.learn(&self.cluster, spec, own, masker).await {
            self.options.progress.send(Progress::Warning {
                task_run: Some(self.request.name.clone()),
                message,
            });
        }
    }

    /// Creates the claims (unless they exist), the ConfigMap, the Secret and the Pod.
    async fn create(&self, objects: PodObjects) -> Result<(), Early> {
        let ns = &self.cluster.namespace;
        let client = self.cluster.client.clone();
        for claim in objects.claims {
            let name = claim.metadata.name.clone().unwrap_or_default();
            let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
            match with_retries(|| api.create(&CREATE, &claim)).await {
                Ok(_) => self.record("PersistentVolumeClaim", name),
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(classify(e, "PersistentVolumeClaim", &name)),
            }
        }
        if let Some(cm) = objects.scripts {
            let name = cm.metadata.name.clone().unwrap_or_default();
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
            self.adopting(with_retries(|| api.create(&CREATE, &cm)).await)
                .map_err(|e| classify(e, "ConfigMap", &name))?;
            self.record("ConfigMap", name);
        }
        if let Some(secret) = objects.credentials {
            let name = secret.metadata.name.clone().unwrap_or_default();
            let api: Api<Secret> = Api::namespaced(client.clone(), ns);
            self.adopting(with_retries(|| api.create(&CREATE, &secret)).await)
                .map_err(|e| classify(e, "Secret", &name))?;
            self.record("Secret", name);
        }
        let name = objects.pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client, ns);
        self.adopting(with_retries(|| api.create(&CREATE, &objects.pod)).await)
            .map_err(|e| classify(e, "Pod", &name))?;
        self.record("Pod", name);
        Ok(())
    }

    /// A create's outcome, where "already exists" counts as created when adopting: the
    /// names are the TaskRun's own, so the object is the one an earlier controller made.
    fn adopting<T>(&self, created: Result<T, kube::Error>) -> Result<(), kube::Error> {
        match created {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && self.options.adopt => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn record(&self, kind: &'static str, name: String) {
        if let Ok(mut c) = self.created.lock() {
            c.push(Created { kind, name });
        }
    }

    /// The Pod, ConfigMap and Secret of this TaskRun (claims belong to the run).
    fn own_objects(&self, pod: &str) -> Vec<(&'static str, String)> {
        let mine = |c: &Created| {
            c.name == pod
                || c.name == super::scripts_name(&self.request.name, self.attempt)
                || c.name == super::credentials_name(&self.request.name, self.attempt)
        };
        self.created
            .lock()
            .map(|c| {
                c.iter()
                    .filter(|c| c.kind != "PersistentVolumeClaim" && mine(c))
                    .map(|c| (c.kind, c.name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Reads the Pod until [`evaluate`] says the TaskRun is done.
    async fn watch(&mut self, pod_name: &str, created: Timestamp) -> ExecEvent {
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &self.cluster.namespace);
        let steps: Vec<String> = self.request.steps.iter().map(|s| s.name.clone()).collect();
        let sidecars: Vec<String> = self
            .request
            .sidecars
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let mut seen = Seen::new(steps.len());
        let results_sidecar = self.options.results_from == ResultsFrom::SidecarLogs;
        let mut ready_marked = sidecars.is_empty() && !results_sidecar;
        let mut sidecars_stopped = false;
        let mut failures = 0u32;
        let mut waiting_for: Option<String> = None;
        loop {
            let pod = match api.get(pod_name).await {
                Ok(p) => {
                    failures = 0;
                    p
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    return self.early_event(
                        Early::Lost(format!("the Pod \"{pod_name}\" was deleted while it ran")),
                        pod_name,
                        created,
                    )
                }
                Err(e) => {
                    failures += 1;
                    // A few seconds of silence is a hiccup; more is a server gone away.
                    if failures > 20 {
                        return self.early_event(
                            Early::Lost(format!(
                                "the Kubernetes API server {} stopped answering: {e}",
                                self.cluster.server
                            )),
                            pod_name,
                            created,
                        );
                    }
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            let view = observe(&pod, &steps, &sidecars);
            self.report_steps(&view, &mut seen, pod_name);
            let why = unschedulable(&pod);
            if why.is_some() && why != waiting_for {
                self.warn_unschedulable(pod_name, why.as_deref().unwrap_or_default());
            }
            waiting_for = why;
            if !ready_marked && sidecars_ready(&pod) {
                ready_marked = self.mark_ready(&api, pod_name).await;
            }
            if !sidecars_stopped && !self.cluster.native_sidecars() && view.steps_done() {
                sidecars_stopped = self.stop_sidecars(&api, &pod).await;
            }
            let now = SystemClock.now();
            let mut task_view = self.task_run_view(&view, created);
            if let Some(failure) = container_failure(&view, &self.request.name) {
                let _ = api.delete(pod_name, &DeleteParams::default()).await;
                return self.event(&view, task_view, now, Some(failure));
            }
            if let Some(message) = self.cancelled.borrow().clone() {
                task_view.spec_status = TaskRunSpecStatus::Cancelled { message };
            }
            let finished = matches!(
                view.pod.phase,
                crate::reconcile::task_run::PodPhase::Succeeded
                    | crate::reconcile::task_run::PodPhase::Failed
            );
            if let Some(update) = evaluate(&task_view, now) {
                if update.condition.status != ConditionStatus::Unknown {
                    let kill = matches!(
                        update.action,
                        TaskRunAction::KillPod | TaskRunAction::Retry { kill_pod: true, .. }
                    );
                    if kill && !finished {
                        // A timeout or cancel: the Pod goes, as Tekton deletes it.
                        let _ = api
                            .delete(pod_name, &DeleteParams::default().grace_period(0))
                            .await;
                        return self.event(&view, task_view, now, None);
                    }
                    let mut view = view;
                    let mut failure = None;
                    if results_sidecar {
                        match self.log_results(&api, pod_name).await {
                            Ok(log) => merge_log_results(&mut view, log),
                            Err(e) => failure = self.log_results_failure(e),
                        }
                    }
                    if !finished && !self.options.keep {
                        // The steps are done; what still runs (sidecars) goes with the Pod.
                        let _ = api
                            .delete(pod_name, &DeleteParams::default().grace_period(0))
                            .await;
                    }
                    return self.event(&view, task_view, now, failure);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = self.cancelled.changed() => {}
            }
        }
    }

    /// Says what a Pod that cannot start waits for: it stays Pending (a missing claim,
    /// ConfigMap or Secret may still appear) until the TaskRun's timeout ends it.
    fn warn_unschedulable(&self, pod: &str, why: &str) {
        let timeout = match self.request.timeout {
            Some(t) if !t.is_zero() => format!("its timeout ({t}) ends it"),
            _ => "it is cancelled (it has no timeout)".to_owned(),
        };
        self.options.progress.send(Progress::Warning {
            task_run: Some(self.request.name.clone()),
            message: format!(
                "Pod \"{pod}\" cannot start: {why}; it waits for that until {timeout}"
            ),
        });
    }

    /// Sends StepStarted/StepFinished once per step (see [`Seen::changes`]) and starts each
    /// step's log stream.
    fn report_steps(&mut self, view: &PodView, seen: &mut Seen, pod: &str) {
        let sink = self.options.progress.clone();
        for change in seen.changes(&view.steps) {
            match change {
                StepChange::Started(i) => {
                    let step = &view.steps[i].name;
                    sink.send(Progress::StepStarted {
                        task_run: self.request.name.clone(),
                        step: step.clone(),
                    });
                    if self.options.logs {
                        self.stream_logs(pod, step);
                    }
                }
                StepChange::Finished {
                    index,
                    exit_code,
                    duration_ms,
                } => sink.send(Progress::StepFinished {
                    task_run: self.request.name.clone(),
                    step: view.steps[index].name.clone(),
                    exit_code,
                    duration_ms,
                }),
            }
        }
    }

    /// Follows a step container's log into the progress sink, line by line.
    fn stream_logs(&mut self, pod: &str, step: &str) {
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &self.cluster.namespace);
        let params = LogParams {
            container: Some(crate::reconcile::task_run::step_container(step)),
            follow: true,
            ..LogParams::default()
        };
        let (pod, step, task_run) = (pod.to_owned(), step.to_owned(), self.request.name.clone());
        let sink = self.options.progress.clone();
        let stream = tokio::spawn(async move {
            let Ok(stream) = api.log_stream(&pod, &params).await else {
                return;
            };
            let mut lines = stream.lines();
            while let Some(Ok(line)) = lines.next().await {
                sink.send(Progress::Log {
                    task_run: task_run.clone(),
                    step: step.clone(),
                    stream: Stream::Stdout,
                    line,
                });
            }
        });
        self.logs.push(stream);
    }

    /// Sets `tekton.dev/ready: READY`, which releases the first step (§4.9).
    async fn mark_ready(&self, api: &Api<Pod>, pod: &str) -> bool {
        let patch = serde_json::json!({"metadata": {"annotations": {READY_ANNOTATION: "READY"}}});
        api.patch(pod, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .is_ok()
    }

    /// What the results sidecar printed, once it has exited (it waits for the steps' post
    /// files, so it ends just after the last step).
    async fn log_results(&self, api: &Api<Pod>, pod: &str) -> Result<LogResults, LogResultsError> {
        let container = sidecar_container(RESULTS_SIDECAR);
        let waited = tokio::time::timeout(RESULTS_WAIT, async {
            loop {
                if let Ok(p) = api.get(pod).await {
                    let status = p.status.unwrap_or_default();
                    let done = status
                        .container_statuses
                        .iter()
                        .flatten()
                        .chain(status.init_container_statuses.iter().flatten())
                        .find(|c| c.name == container)
                        .and_then(|c| c.state.as_ref())
                        .is_some_and(|s| s.terminated.is_some());
                    if done {
                        return;
                    }
                }
                tokio::time::sleep(POLL).await;
            }
        })
        .await;
        if waited.is_err() {
            return Err(LogResultsError::Unavailable(format!(
                "container \"{container}\" of Pod \"{pod}\" did not exit within {}s of the \
                 last step; its log holds the results",
                RESULTS_WAIT.as_secs()
            )));
        }
        let params = LogParams {
            container: Some(container.clone()),
            ..LogParams::default()
        };
        let log = api.logs(pod, &params).await.map_err(|e| {
            LogResultsError::Unavailable(format!(
                "cannot read the log of container \"{container}\": {e}"
            ))
        })?;
        results_sidecar::parse_log(&log, self.options.max_result_size)
    }

    /// The failure of a TaskRun whose results sidecar said too much (Tekton's reason and
    /// message); other problems are warnings, and the results they hid are then missing.
    fn log_results_failure(&self, error: LogResultsError) -> Option<(String, String)> {
        if let LogResultsError::TooLarge { .. } = error {
            return Some((
                "TaskRunResultLargerThanAllowedLimit".to_owned(),
                results_sidecar::too_large_message(
                    &self.request.name,
                    self.options.max_result_size,
                ),
            ));
        }
        self.options.progress.send(Progress::Warning {
            task_run: Some(self.request.name.clone()),
            message: format!("cannot read the results from the sidecar: {error}"),
        });
        None
    }

    /// Replaces each running ordinary sidecar's image with the no-op image (Tekton's way).
    async fn stop_sidecars(&self, api: &Api<Pod>, pod: &Pod) -> bool {
        let Some(spec) = &pod.spec else {
            return true;
        };
        let containers: Vec<serde_json::Value> = spec
            .containers
            .iter()
            .map(|c| {
                // The results sidecar exits by itself once it has printed; stopping it
                // would lose them.
                let stop =
                    c.name.starts_with("sidecar-") && c.name != sidecar_container(RESULTS_SIDECAR);
                let image = if stop {
                    self.options.nop_image.as_str()
                } else {
                    c.image.as_deref().unwrap_or_default()
                };
                serde_json::json!({"name": c.name, "image": image})
            })
            .collect();
        let patch = serde_json::json!({"spec": {"containers": containers}});
        api.patch(
            pod.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await
        .is_ok()
    }

    fn task_run_view(&self, view: &PodView, created: Timestamp) -> TaskRunView {
        TaskRunView {
            name: self.request.name.clone(),
            created,
            start: Some(created),
            timeout: self.request.timeout,
            spec_status: TaskRunSpecStatus::None,
            previous: None,
            retries: 0,
            previous_attempts: 0,
            pipeline_task_on_error: self.request.on_error,
            pod: Some(view.pod.clone()),
            steps: view.steps.clone(),
            sidecars: view.sidecars.clone(),
        }
    }

    /// The finished TaskRun, with `failure` overriding `evaluate`'s verdict.
    fn event(
        &self,
        view: &PodView,
        task_view: TaskRunView,
        now: Timestamp,
        failure: Option<(String, String)>,
    ) -> ExecEvent {
        // What the entrypoint noticed without failing a step, said as the local run says it.
        for (step, message) in view.steps.iter().zip(&view.messages) {
            for warning in &message.warnings {
                self.options.progress.send(Progress::Warning {
                    task_run: Some(self.request.name.clone()),
                    message: format!("step \"{}\": {warning}", step.name),
                });
            }
        }
        let update = evaluate(&task_view, now);
        let (mut outcome, mut message, states) = match update {
            Some(u) => {
                let outcome = ExecOutcome::of_condition(&u.condition);
                (outcome, u.condition.message, u.steps)
            }
            None => (ExecOutcome::Succeeded, String::new(), Vec::new()),
        };
        let failure = failure.or_else(|| self.results_too_large(view, &outcome));
        if let Some((reason, text)) = failure {
            outcome = ExecOutcome::Failed {
                reason,
                message: text.clone(),
            };
            message = text;
        }
        let (results, mismatch) = self.results(view);
        // The controller validates results once the Pod is done; a cancel or timeout stays.
        let completed = match &outcome {
            ExecOutcome::Succeeded => true,
            ExecOutcome::Failed { reason, .. } => reason != "TaskRunTimeout",
            _ => false,
        };
        if let (Some(m), true) = (mismatch, completed) {
            outcome = ExecOutcome::Failed {
                reason: "TaskRunValidationFailed".to_owned(),
                message: m.clone(),
            };
            message = m;
        }
        let steps = states
            .into_iter()
            .enumerate()
            .map(|(i, state)| StepReport {
                state,
                image_id: view.image_ids.get(i).cloned().unwrap_or_default(),
                results: view
                    .messages
                    .get(i)
                    .map(|m| {
                        m.step_results
                            .iter()
                            .map(|(k, v)| (k.clone(), ParamValue::String(v.clone())))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let sidecars = view
            .sidecars
            .iter()
            .zip(&view.sidecar_image_ids)
            .map(|(s, image_id)| StepReport {
                state: crate::reconcile::task_run::step_state(&StepObservation {
                    name: s.name.clone(),
                    state: s.state.clone(),
                }),
                image_id: image_id.clone(),
                results: Vec::new(),
            })
            .collect();
        ExecEvent {
            task_run: self.request.name.clone(),
            outcome,
            results,
            report: TaskRunReport {
                message,
                pod_name: view.pod.name.clone(),
                start_time: Some(task_view.created),
                completion_time: Some(now),
                steps,
                sidecars,
                // `$(artifacts.path)` is the Task's: the last step that saw it tells it whole.
                artifacts: view
                    .messages
                    .iter()
                    .rev()
                    .find_map(|m| m.task_artifacts.as_deref())
                    .and_then(|text| serde_json::from_str(text).ok()),
                out_of_space: None,
            },
        }
    }

    /// `TaskRunResultLargerThanAllowedLimit` when a step failed because its results did not
    /// fit in its termination message (a timeout or cancel stays what it is).
    fn results_too_large(&self, view: &PodView, outcome: &ExecOutcome) -> Option<(String, String)> {
        let ExecOutcome::Failed { reason, .. } = outcome else {
            return None;
        };
        if reason == "TaskRunTimeout" {
            return None;
        }
        let (step, message) = view
            .steps
            .iter()
            .zip(&view.messages)
            .find(|(_, m)| m.results_too_large())?;
        let error = message.error.clone().unwrap_or_default();
        Some((
            "TaskRunResultLargerThanAllowedLimit".to_owned(),
            format!(
                "TaskRun \"{}\": \"step-{}\" could not report its results: {error} \
                 A Pod's termination message holds 4096 bytes per step (all its results \
                 together). Pass `--feature-flag results-from=sidecar-logs` to read results \
                 from a sidecar's log instead (`max-result-size` bytes per result, 4096 \
                 unless given), keep the results smaller, or pass large data through a \
                 workspace and its path as the result",
                self.request.name, step.name
            ),
        ))
    }

    /// Task results from every step's termination message (the last reporter wins, in order
    /// of first appearance), results lifted from step results, typed by their declarations.
    fn results(&self, view: &PodView) -> (Vec<(String, ParamValue)>, Option<String>) {
        let mut raw: Vec<(String, String)> = Vec::new();
        for message in &view.messages {
            for (key, value) in &message.task_results {
                match raw.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1.clone_from(value),
                    None => raw.push((key.clone(), value.clone())),
                }
            }
        }
        let step_results: BTreeMap<(String, String), String> = view
            .steps
            .iter()
            .zip(&view.messages)
            .flat_map(|(s, m)| {
                m.step_results
                    .iter()
                    .map(move |(k, v)| ((s.name.clone(), k.clone()), v.clone()))
            })
            .collect();
        for declared in &self.request.results {
            if raw.iter().any(|(k, _)| *k == declared.name) {
                continue;
            }
            let Some(ParamValue::String(value)) = &declared.value else {
                continue;
            };
            if let Some((step, result)) = step_result_reference(value) {
                if let Some(v) = step_results.get(&(step, result)) {
                    raw.push((declared.name.clone(), v.clone()));
                }
            }
        }
        typed(&self.request.results, raw)
    }

    /// The event of a TaskRun whose Pod never told its outcome.
    fn early_event(&self, early: Early, pod: &str, created: Timestamp) -> ExecEvent {
        let (reason, message, lost) = match early {
            Early::Create(m) => ("PodCreationFailed", m, false),
            Early::Lost(m) => ("PodEvicted", m, true),
        };
        let outcome = if lost {
            ExecOutcome::EngineLost {
                reason: reason.to_owned(),
                message: message.clone(),
            }
        } else {
            ExecOutcome::Failed {
                reason: reason.to_owned(),
                message: message.clone(),
            }
        };
        ExecEvent {
            task_run: self.request.name.clone(),
            outcome,
            results: Vec::new(),
            report: TaskRunReport {
                message,
                pod_name: pod.to_owned(),
                start_time: Some(created),
                completion_time: Some(SystemClock.now()),
                ..TaskRunReport::default()
            },
        }
    }
}

/// Puts what the results sidecar printed where the termination messages would have held it:
/// task results with the last step, step results with their step.
fn merge_log_results(view: &mut PodView, log: LogResults) {
    if let Some(last) = view.messages.last_mut() {
        last.task_results.extend(log.task_results);
    }
    for (step, result, value) in log.step_results {
        if let Some(i) = view.steps.iter().position(|s| s.name == step) {
            view.messages[i].step_results.push((result, value));
        }
    }
}

/// Which steps were already reported started and finished.
struct Seen {
    started: Vec<bool>,
    finished: Vec<bool>,
}

/// What a new look at the steps' containers has to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StepChange {
    /// Step `.0`'s container left `Waiting`.
    Started(usize),
    /// Step `index` finished.
    Finished {
        index: usize,
        exit_code: i32,
        duration_ms: u64,
    },
}

impl Seen {
    fn new(steps: usize) -> Seen {
        Seen {
            started: vec![false; steps],
            finished: vec![false; steps],
        }
    }

    /// What `steps` show that was not reported yet, each step once, and marks it reported.
    ///
    /// Steps finish in their order, but their containers need not exit in it: a step's
    /// container exits only after its post file released the next step, which may exit
    /// first. So a step is reported finished once every earlier one was.
    fn changes(&mut self, steps: &[StepObservation]) -> Vec<StepChange> {
        let mut changes = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let started = !matches!(step.state, ContainerObservation::Waiting { .. });
            if started && !self.started[i] {
                self.started[i] = true;
                changes.push(StepChange::Started(i));
            }
            if let ContainerObservation::Terminated(t) = &step.state {
                if !self.finished[i] && self.finished[..i].iter().all(|done| *done) {
                    self.finished[i] = true;
                    changes.push(StepChange::Finished {
                        index: i,
                        exit_code: t.markers.and_then(|m| m.exit_code).unwrap_or(t.exit_code),
                        duration_ms: t.finished.0.saturating_sub(t.started.0),
                    });
                }
            }
        }
        changes
    }
}

/// True when every sidecar container (ordinary or native) reports ready.
fn sidecars_ready(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    let all = status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten());
    let mut any = false;
    for c in all.filter(|c| c.name.starts_with("sidecar-")) {
        any = true;
        if !c.ready {
            return false;
        }
    }
    any
}

/// §4.1 step 5: a container that cannot start fails the TaskRun at once (reason, message).
fn container_failure(view: &PodView, task_run: &str) -> Option<(String, String)> {
    if let Some((container, image, message)) = &view.image_pull_failure {
        let (what, name) = match container.strip_prefix("sidecar-") {
            Some(name) => ("sidecar", name),
            None => ("step", container.strip_prefix("step-").unwrap_or(container)),
        };
        return Some((
            "TaskRunImagePullFailed".to_owned(),
            format!(
                "the {what} \"{name}\" in TaskRun \"{task_run}\" failed to pull the image \
                 \"{image}\". The pod errored with the message: \"{message}.\""
            ),
        ));
    }
    view.config_error.as_ref().map(|(container, message)| {
        (
            "CreateContainerConfigError".to_owned(),
            format!(
                "Failed to create pod due to config error: container \"{container}\": {message}"
            ),
        )
    })
}

/// `$(steps.S.results.R)` as `(S, R)`, when that is the whole value.
fn step_result_reference(value: &str) -> Option<(String, String)> {
    let inner = value.strip_prefix("$(steps.")?.strip_suffix(')')?;
    let (step, result) = inner.split_once(".results.")?;
    (!step.is_empty() && !result.is_empty() && !result.contains('.'))
        .then(|| (step.to_owned(), result.to_owned()))
}

/// Maps a failed create to why the TaskRun ended.
/// The options of every create (none).
const CREATE: PostParams = PostParams {
    dry_run: false,
    field_manager: None,
};

/// How many times a create is tried when the server's answer may change on a second try.
const CREATE_ATTEMPTS: u32 = 5;

/// `call`, tried again with exponential backoff (100 ms, doubling) while it fails in a way
/// that may pass: the server's 5xx and 429, or no answer. A refusal (4xx) is final at once.
pub(super) async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(kube::Error::Api(s)) if s.code < 500 && s.code != 429 => {
                return Err(kube::Error::Api(s))
            }
            Err(_) if attempt < CREATE_ATTEMPTS => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn classify(error: kube::Error, kind: &str, name: &str) -> Early {
    match error {
        kube::Error::Api(s) => Early::Create(format!(
            "failed to create {kind} \"{name}\": {} ({})",
            s.message, s.reason
        )),
        other => Early::Lost(format!("failed to create {kind} \"{name}\": {other}")),
    }
}

/// Deletes one object; a missing one counts as deleted.
async fn delete(cluster: &Cluster, kind: &str, name: &str) -> Result<(), String> {
    let client = cluster.client.clone();
    let ns = &cluster.namespace;
    let params = DeleteParams::background();
    let result = match kind {
        // Nothing in a finished or cancelled run's Pod is worth a grace period, and the
        // object then goes at once rather than after its containers' stop.
        "Pod" => Api::<Pod>::namespaced(client, ns)
            .delete(name, &params.clone().grace_period(0))
            .await
            .map(|_| ()),
        "ConfigMap" => Api::<ConfigMap>::namespaced(client, ns)
            .delete(name, &params)
            .await
            .map(|_| ()),
        "Secret" => Api::<Secret>::namespaced(client, ns)
            .delete(name, &params)
            .await
            .map(|_| ()),
        _ => Api::<PersistentVolumeClaim>::namespaced(client, ns)
            .delete(name, &params)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) | Err(kube::Error::Api(kube::core::ErrorResponse { code: 404, .. })) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

fn forget(record: &Mutex<Vec<Created>>, object: &Created) {
    if let Ok(mut c) = record.lock() {
        c.retain(|c| c != object);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::task_run::TerminatedObservation;

    fn step(name: &str, state: ContainerObservation) -> StepObservation {
        StepObservation {
            name: name.into(),
            state,
        }
    }

    fn ended(started: u64, finished: u64) -> ContainerObservation {
        ContainerObservation::Terminated(TerminatedObservation {
            exit_code: 0,
            reason: "Completed".into(),
            started: Timestamp(started),
            finished: Timestamp(finished),
            markers: None,
        })
    }

    #[test]
    fn a_step_is_reported_finished_only_after_the_steps_before_it() {
        let running = ContainerObservation::Running {
            started: Timestamp(1_000),
        };
        let mut seen = Seen::new(2);
        // The second step's container exited before the first's, as it may on a node.
        let early = [
            step("write", running.clone()),
            step("read", ended(1_000, 2_000)),
        ];
        assert_eq!(
            seen.changes(&early),
            [StepChange::Started(0), StepChange::Started(1)]
        );
        let both = [
            step("write", ended(1_000, 3_000)),
            step("read", ended(1_000, 2_000)),
        ];
        let finished = |index, duration_ms| StepChange::Finished {
            index,
            exit_code: 0,
            duration_ms,
        };
        assert_eq!(
            seen.changes(&both),
            [finished(0, 2_000), finished(1, 1_000)]
        );
        assert_eq!(seen.changes(&both), []);
    }

    #[test]
    fn whole_step_result_references_are_recognised() {
        assert_eq!(
            step_result_reference("$(steps.build.results.digest)"),
            Some(("build".into(), "digest".into()))
        );
        assert_eq!(
            step_result_reference("x $(steps.build.results.digest)"),
            None
        );
        assert_eq!(step_result_reference("$(steps.build.results.a.b)"), None);
        assert_eq!(step_result_reference("$(params.x)"), None);
    }
}
