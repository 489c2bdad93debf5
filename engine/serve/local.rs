//! `--executor docker|kubernetes`: a trigger's run is driven here, as `adze run` drives it,
//! with its logs and status recorded in the store.
//!
//! # Design
//!
//! Each launch loads the `-f` files afresh with the run's object beside them, gives the run
//! the configuration's defaults (the same [`apply_overrides`](crate::plan::apply_overrides)
//! and bundle image map as `adze run`, so both executors see mapped images), validates the
//! lot as `adze run` does, and drives it with a new executor from [`EngineFactory`]. Progress
//! is read on a thread of its own: log lines are written to the store in batches (one
//! group commit per batch, not per line), and the PipelineRun's status as it changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use super::launch::{Launched, Launcher, Report};
use crate::api::{Kind, Object, PipelineRun, TaskRun};
use crate::config::RunDefaults;
use crate::exec::backend::Backend;
use crate::load::{Bundle, Origin};
use crate::mask::Masker;
use crate::plan::Overrides;
use crate::reconcile::{ConditionStatus, PipelineTaskState};
use crate::run::{
    Driver, ExecOutcome, Executor, Progress, ProgressSink, Stream, SystemClock, TaskRunDriver,
    TaskRunRecord,
};
use crate::status::{self, RunIdentity};
use crate::store::{LogLine, RunRecord, RunState};
use crate::validate::Flags;

/// How often buffered log lines are written.
const LOG_FLUSH: Duration = Duration::from_millis(250);

/// How often the driver looks at its TaskRuns.
const TICK: Duration = Duration::from_millis(100);

/// Makes the executor of one run, reporting into the given sink.
pub type EngineFactory = Box<dyn Fn(ProgressSink) -> Result<Backend, String> + Send + Sync>;

/// Runs triggered runs through the driver.
pub struct LocalLauncher {
    files: Vec<PathBuf>,
    engine: EngineFactory,
    flags: Flags,
    on_cluster: bool,
    resolve: Option<crate::resolve::ResolveOptions>,
    masker: Arc<Masker>,
    defaults: RunDefaults,
}

impl LocalLauncher {
    /// Runs with the Tasks and Pipelines of `files`, on executors `engine` makes; `on_cluster`
    /// when those run Pods (the driver then leaves volumes to the cluster).
    pub fn new(files: Vec<PathBuf>, engine: EngineFactory, flags: Flags, on_cluster: bool) -> Self {
        LocalLauncher {
            files,
            engine,
            flags,
            on_cluster,
            resolve: None,
            masker: Arc::new(Masker::new()),
            defaults: RunDefaults::default(),
        }
    }

    /// Gives each run the configuration's params and workspaces where its Task or Pipeline
    /// declares them and the run leaves them unset, and maps its images, as `adze run` does.
    pub fn with_defaults(mut self, defaults: RunDefaults) -> Self {
        self.defaults = defaults;
        self
    }

    /// Masks with `masker` (the store's) everything a run reports, after adding to it the
    /// values of the Secrets each run is loaded with.
    pub fn with_masker(mut self, masker: Arc<Masker>) -> Self {
        self.masker = masker;
        self
    }

    /// Fetches the remote references of each triggered run (its params substituted) before
    /// it runs; a reference that cannot be fetched refuses the run (`CouldntGetTask`).
    /// `launch` runs on a blocking thread, where the blocking resolvers belong.
    pub fn with_resolution(mut self, options: crate::resolve::ResolveOptions) -> Self {
        self.resolve = Some(options);
        self
    }

    /// The run's object in a bundle with the files, or why it cannot run.
    fn bundle(&self, run: &RunRecord) -> Result<(Bundle, Object), String> {
        let mut bundle = Bundle::new();
        for f in &self.files {
            bundle
                .load_path(f, Origin::Input)
                .map_err(|e| e.to_string())?;
        }
        let text = serde_json::to_string_pretty(&run.object).unwrap_or_default();
        let file = bundle.files.len();
        bundle.add_source(
            &format!("{} (created by trigger {})", run.name, run.trigger),
            text,
            Origin::Input,
        );
        // Before resolution, as `adze run` applies them: a fetched spec gets every default.
        bundle.image_map = self.defaults.image_map.clone();
        crate::plan::apply_overrides(
            &mut bundle,
            &Overrides {
                default_params: self.defaults.params.clone(),
                default_workspaces: self.defaults.workspaces.clone(),
                ..Overrides::default()
            },
        );
        if let Some(options) = &self.resolve {
            if let Some(default) = &self.flags.default_resolver_type {
                crate::resolve::defaults::apply_default_resolver(&mut bundle, default);
            }
            let failed = crate::resolve::resolve_references(
                &mut bundle,
                &crate::resolve::Resolvers::standard(),
                options,
            );
            bundle.diagnostics.extend(failed);
        }
        let mut problems: Vec<String> = bundle
            .diagnostics
            .iter()
            .chain(&crate::validate::validate(&bundle, &self.flags))
            .filter(|d| d.is_error())
            .map(|d| match &d.location {
                Some(l) => format!("{}:{}:{}: {}", l.path, l.line, l.column, d.message),
                None => d.message.clone(),
            })
            .collect();
        problems.dedup();
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let object = bundle
            .objects
            .iter()
            .find(|o| o.file == file)
            .map(|o| o.object.clone())
            .ok_or_else(|| {
                format!(
                    "the trigger created a {} (apiVersion {}); adze serve runs PipelineRuns and \
                     TaskRuns here, and creates other kinds only with --executor create",
                    run.kind,
                    run.object["apiVersion"].as_str().unwrap_or("?")
                )
            })?;
        Ok((bundle, object))
    }
}

impl Launcher for LocalLauncher {
    fn launch(&self, run: &RunRecord, report: &Report) -> Launched {
        let (bundle, object) = match self.bundle(run) {
            Ok(b) => b,
            Err(message) => return Launched::refused(run, "CouldntGetTask", &message),
        };
        // The files may have changed since the server started: their Secrets now count too.
        for (_, value) in crate::mask::collect::secret_values(&bundle) {
            let _ = self.masker.add(&value);
        }
        let (sink, events) = ProgressSink::channel();
        let sink = sink.masked(self.masker.clone());
        let mut backend = match (self.engine)(sink.clone()) {
            Ok(b) => b,
            Err(message) => return Launched::refused(run, "EngineUnavailable", &message),
        };
        let id = RunIdentity {
            name: run.name.clone(),
            namespace: run.namespace.clone(),
            uid: object
                .metadata()
                .uid
                .clone()
                .unwrap_or_else(status::new_uid),
            created: crate::run::Clock::now(&SystemClock),
        };
        let consumer = {
            let report = report.clone();
            std::thread::spawn(move || record_progress(events, &report))
        };
        let drive = Drive {
            bundle: &bundle,
            id: &id,
            run,
            sink: &sink,
            report,
            on_cluster: self.on_cluster,
        };
        let (launched, results) = match &object {
            Object::PipelineRun(pr) => drive.pipeline_run(pr, backend.executor()),
            Object::TaskRun(tr) => drive.task_run(tr, backend.executor()),
            other => (
                Launched::refused(
                    run,
                    "Unsupported",
                    &format!("adze serve cannot run a {}", other.kind()),
                ),
                Vec::new(),
            ),
        };
        for line in backend.finish(false, &crate::run::ownership::Owner::current().run_id) {
            eprintln!("adze serve: {}: {}", run.name, self.masker.mask(&line));
        }
        drop(sink);
        if let Ok(mut states) = consumer.join() {
            for (task, values) in results {
                states.results(&task, values);
            }
            if let Some(changed) = states.take_changed() {
                report.progress(Some(changed), None);
            }
        }
        launched
    }
}

/// Results of the tasks of a run: pipeline task → result name → value.
type TaskResults = Vec<(String, serde_json::Map<String, serde_json::Value>)>;

/// One run being driven.
struct Drive<'a> {
    bundle: &'a Bundle,
    id: &'a RunIdentity,
    run: &'a RunRecord,
    sink: &'a ProgressSink,
    report: &'a Report,
    on_cluster: bool,
}

impl Drive<'_> {
    fn pipeline_run(
        &self,
        pr: &PipelineRun,
        executor: &mut dyn Executor,
    ) -> (Launched, TaskResults) {
        let mut named = pr.clone();
        named.metadata.name = Some(self.id.name.clone());
        let spec = match crate::plan::pipeline::resolve_pipeline(self.bundle, &named) {
            Ok((spec, _)) => spec.clone(),
            Err(e) => {
                return (
                    self.refused("CouldntGetPipeline", &e.to_string()),
                    Vec::new(),
                )
            }
        };
        self.report.progress(None, graph_of(&spec));
        let driver = if self.on_cluster {
            Driver::for_cluster(self.bundle, &named)
        } else {
            Driver::new(self.bundle, &named)
        };
        let driver = match driver {
            Ok(d) => d,
            Err(e) => {
                return (
                    self.refused("PipelineRunCouldntStart", &e.to_string()),
                    Vec::new(),
                )
            }
        };
        let outcome = match driver
            .with_tick(TICK)
            .with_progress(self.sink.clone())
            .run(executor, &mut SystemClock)
        {
            Ok(o) => o,
            Err(e) => return (self.refused("Failed", &e.to_string()), Vec::new()),
        };
        let results = outcome
            .task_runs
            .iter()
            .filter_map(|r| Some((r.request.pipeline_task.clone(), results_of(r)?)))
            .collect();
        let launched = Launched {
            state: state_of(outcome.condition.status),
            status: Some(status::pipeline_run_object(
                &named, self.id, &spec, &outcome,
            )),
        };
        (launched, results)
    }

    fn task_run(&self, tr: &TaskRun, executor: &mut dyn Executor) -> (Launched, TaskResults) {
        let mut named = tr.clone();
        named.metadata.name = Some(self.id.name.clone());
        let graph = serde_json::json!({ "levels": [[self.id.name]], "edges": [], "finally": [] });
        self.report.progress(None, Some(graph));
        let driver = if self.on_cluster {
            TaskRunDriver::for_cluster(self.bundle, &named)
        } else {
            TaskRunDriver::with_workspace_base(self.bundle, &named, &std::env::temp_dir(), false)
        };
        let driver = match driver {
            Ok(d) => d,
            Err(e) => {
                return (
                    self.refused("TaskRunCouldntStart", &e.to_string()),
                    Vec::new(),
                )
            }
        };
        let record = match driver
            .with_tick(TICK)
            .with_progress(self.sink.clone())
            .run(executor, &mut SystemClock)
        {
            Ok(r) => r,
            Err(e) => return (self.refused("Failed", &e.to_string()), Vec::new()),
        };
        let state = match record.event.as_ref().map(|e| &e.outcome) {
            Some(ExecOutcome::Succeeded) => RunState::Succeeded,
            _ => RunState::Failed,
        };
        let results = results_of(&record)
            .map(|r| vec![(self.id.name.clone(), r)])
            .unwrap_or_default();
        let launched = Launched {
            state,
            status: Some(status::task_run_object(&named, self.id, &record)),
        };
        (launched, results)
    }

    fn refused(&self, reason: &str, message: &str) -> Launched {
        Launched::refused(self.run, reason, message)
    }
}

/// The results a TaskRun wrote, as JSON; `None` when it wrote none.
fn results_of(record: &TaskRunRecord) -> Option<serde_json::Map<String, serde_json::Value>> {
    let event = record.event.as_ref()?;
    if event.results.is_empty() {
        return None;
    }
    Some(
        event
            .results
            .iter()
            .map(|(name, value)| {
                (
                    name.clone(),
                    serde_json::to_value(value).unwrap_or_default(),
                )
            })
            .collect(),
    )
}

fn state_of(status: ConditionStatus) -> RunState {
    match status {
        ConditionStatus::True => RunState::Succeeded,
        _ => RunState::Failed,
    }
}

/// Reads progress until the run's senders are gone, writing logs and task states in
/// batches.
fn record_progress(events: Receiver<Progress>, report: &Report) -> TaskStates {
    // TaskRun name → pipeline task, learnt from TaskStarted.
    let mut tasks: HashMap<String, String> = HashMap::new();
    let mut states = TaskStates::default();
    let mut batch: Vec<LogLine> = Vec::new();
    loop {
        match events.recv_timeout(LOG_FLUSH) {
            Ok(Progress::TaskStarted {
                task,
                task_run,
                steps,
                ..
            }) => {
                states.started(&task, &task_run, &steps);
                tasks.insert(task_run, task);
            }
            Ok(Progress::TaskFinished {
                task,
                state,
                message,
                ..
            }) => states.set(&task, state_word(&state), &message),
            Ok(Progress::TaskSkipped { task, reason }) => {
                states.set(&task, "skipped", reason.as_str())
            }
            Ok(Progress::StepStarted { task_run, step }) => {
                let task = tasks.get(&task_run).cloned().unwrap_or(task_run);
                states.step(&task, &step, "running", None);
            }
            Ok(Progress::StepFinished {
                task_run,
                step,
                exit_code,
                ..
            }) => {
                let task = tasks.get(&task_run).cloned().unwrap_or(task_run);
                let word = if exit_code == 0 {
                    "succeeded"
                } else {
                    "failed"
                };
                states.step(&task, &step, word, Some(exit_code));
            }
            Ok(Progress::Log {
                task_run,
                step,
                stream,
                line,
            }) => {
                let task = tasks.get(&task_run).cloned().unwrap_or(task_run);
                batch.push(LogLine {
                    task,
                    step,
                    stream: match stream {
                        Stream::Stdout => "stdout",
                        Stream::Stderr => "stderr",
                    }
                    .into(),
                    text: line,
                });
                if batch.len() >= 500 {
                    report.logs(std::mem::take(&mut batch));
                }
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                if !batch.is_empty() {
                    report.logs(std::mem::take(&mut batch));
                }
                if let Some(changed) = states.take_changed() {
                    report.progress(Some(changed), None);
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    report.logs(batch);
    if let Some(changed) = states.take_changed() {
        report.progress(Some(changed), None);
    }
    states
}

/// Each task's state as the dashboard shows it, and whether it changed since last written.
#[derive(Default)]
struct TaskStates {
    tasks: serde_json::Map<String, serde_json::Value>,
    changed: bool,
}

impl TaskStates {
    fn started(&mut self, task: &str, task_run: &str, steps: &[String]) {
        let steps: serde_json::Map<String, serde_json::Value> = steps
            .iter()
            .map(|s| (s.clone(), serde_json::json!({ "state": "waiting" })))
            .collect();
        self.tasks.insert(
            task.to_string(),
            serde_json::json!({ "state": "running", "taskRun": task_run, "steps": steps }),
        );
        self.changed = true;
    }

    fn set(&mut self, task: &str, state: &str, message: &str) {
        let entry = self
            .tasks
            .entry(task.to_string())
            .or_insert_with(|| serde_json::json!({}));
        entry["state"] = state.into();
        if !message.is_empty() {
            entry["message"] = message.into();
        }
        self.changed = true;
    }

    fn step(&mut self, task: &str, step: &str, state: &str, exit_code: Option<i32>) {
        let entry = self
            .tasks
            .entry(task.to_string())
            .or_insert_with(|| serde_json::json!({ "state": "running" }));
        let mut value = serde_json::json!({ "state": state });
        if let Some(code) = exit_code {
            value["exitCode"] = code.into();
        }
        entry["steps"][step] = value;
        self.changed = true;
    }

    /// Adds the results a task's TaskRun wrote.
    fn results(&mut self, task: &str, values: serde_json::Map<String, serde_json::Value>) {
        let entry = self
            .tasks
            .entry(task.to_string())
            .or_insert_with(|| serde_json::json!({}));
        entry["results"] = serde_json::Value::Object(values);
        self.changed = true;
    }

    fn take_changed(&mut self) -> Option<serde_json::Value> {
        std::mem::take(&mut self.changed).then(|| serde_json::Value::Object(self.tasks.clone()))
    }
}

/// The word the dashboard shows for a finished task.
fn state_word(state: &PipelineTaskState) -> &'static str {
    match state {
        PipelineTaskState::Succeeded => "succeeded",
        PipelineTaskState::Failed { ignored: true, .. } => "failure-ignored",
        PipelineTaskState::Failed { .. } | PipelineTaskState::ValidationFailed { .. } => "failed",
        PipelineTaskState::Cancelled { .. } => "cancelled",
        PipelineTaskState::Skipped { .. } => "skipped",
        PipelineTaskState::NotStarted | PipelineTaskState::Running { .. } => "running",
    }
}

/// The task graph of a pipeline: tasks by DAG level, their edges, and finally tasks.
fn graph_of(spec: &crate::api::PipelineSpec) -> Option<serde_json::Value> {
    let (dag, _) = crate::plan::dependencies::pipeline_dag(spec).ok()?;
    let levels: Vec<Vec<&str>> = dag
        .levels()
        .iter()
        .map(|level| level.iter().map(|&i| dag.name(i)).collect())
        .collect();
    let dag = &dag;
    let edges: Vec<[&str; 2]> = (0..dag.len())
        .flat_map(|child| {
            dag.parents(child)
                .iter()
                .map(move |&parent| [dag.name(parent), dag.name(child)])
        })
        .collect();
    let finally: Vec<&str> = spec.finally.iter().map(|t| t.name.as_str()).collect();
    Some(serde_json::json!({ "levels": levels, "edges": edges, "finally": finally }))
}

/// The kinds a local launch can run.
pub fn runnable(kind: &str) -> bool {
    matches!(Kind::parse(kind), Some(Kind::PipelineRun | Kind::TaskRun))
}
