//! A TaskRun on its own (not part of a PipelineRun): resolve it, start it, wait for it.
//!
//! # Why
//!
//! `adze run taskrun.yaml` has no DAG to reconcile, but it shares everything else with the
//! pipeline driver: the same resolution, the same executor, the same progress events and the
//! same interrupt handling. Keeping it separate keeps [`Driver`](super::Driver) about
//! PipelineRuns only.
//!
//! A scratch directory for `emptyDir`/claim workspaces that cannot be created (a full disk)
//! is a [`RunError::RunDirectory`] naming the base directory: the request cannot be resolved
//! without it, so the caller reports the TaskRun as failed before it started.
//!
//! [`TaskRunDriver::for_cluster`] resolves the request for a cluster instead: nothing is read or
//! created on this host (see the driver's "On a cluster").
//!
//! # Not yet
//!
//! - `spec.retries` on a standalone TaskRun (refused up front, as is `TaskRunPending`).

use std::collections::HashMap;
use std::time::Duration;

use std::path::Path;

use crate::api::pipeline::{PipelineTask, WorkspacePipelineTaskBinding};
use crate::api::{GoDuration, TaskRun, TaskSpec};
use crate::load::Bundle;
use crate::plan::scope::Scope;
use crate::plan::task::{resolve_task, workspace_claims, TaskInputs};
use crate::plan::task_run::task_spec_of_run;
use crate::plan::PlanError;

use super::workspaces::{self, RunDirectory};
use super::{
    env, Clock, ExecOutcome, Executor, Interrupt, Progress, ProgressSink, RunError, RunKind,
    TaskRunRecord, TaskRunRequest,
};
use super::{pod_template, volumes, ClusterSources};
use crate::reconcile::{ConditionStatus, OnError, PipelineTaskState};

/// Tekton's `default-timeout-minutes`, for a TaskRun without `spec.timeout`.
const DEFAULT_TIMEOUT_MINUTES: i64 = 60;

/// `spec.status` of a TaskRun someone cancelled.
const TASK_RUN_CANCELLED: &str = "TaskRunCancelled";

/// The message a cancelled standalone TaskRun records: nobody else asked for it.
const INTERRUPTED: &str = "TaskRun cancelled by the user (interrupt).";

/// Drives one standalone TaskRun to completion against an [`Executor`].
#[derive(Debug)]
pub struct TaskRunDriver {
    request: TaskRunRequest,
    /// The Task as resolved, before substitution (for `status.taskSpec`).
    spec: TaskSpec,
    /// `spec.status: TaskRunCancelled`, with its `statusMessage`: the run never starts.
    cancelled: Option<String>,
    /// Backs `emptyDir`/claim workspaces; removed when the driver is dropped unless kept.
    _run_dir: Option<RunDirectory>,
    progress: ProgressSink,
    interrupt: Interrupt,
    tick: Duration,
    /// The `hostPath` volumes the TaskRun mounts.
    host_paths: Vec<volumes::HostPathUse>,
    /// Refuse `hostPath` volumes instead of warning (`--strict`).
    strict: bool,
}

impl TaskRunDriver {
    /// Resolves the TaskRun's Task (embedded or by name in `bundle`) into the request to run;
    /// scratch workspaces live under the system's temporary directory.
    pub fn new(bundle: &Bundle, tr: &TaskRun) -> Result<TaskRunDriver, RunError> {
        TaskRunDriver::with_workspace_base(bundle, tr, &std::env::temp_dir(), false)
    }

    /// Like [`TaskRunDriver::new`], with scratch workspaces under `base`, kept if `keep`.
    pub fn with_workspace_base(
        bundle: &Bundle,
        tr: &TaskRun,
        base: &Path,
        keep: bool,
    ) -> Result<TaskRunDriver, RunError> {
        TaskRunDriver::build(bundle, tr, Some((base, keep)), None)
    }

    /// Resolves the TaskRun for a cluster: the request's [`ClusterSources`] are filled and
    /// nothing is read or created on this host (no scratch directory, no ConfigMap or Secret
    /// values in the steps' environment, no workspace or volume files); the host-side
    /// fields of the request stay empty. Credential files still come from `bundle`.
    pub fn for_cluster(bundle: &Bundle, tr: &TaskRun) -> Result<TaskRunDriver, RunError> {
        TaskRunDriver::build(bundle, tr, None, None)
    }

    /// Like [`TaskRunDriver::for_cluster`], for attempt `attempt` (0 first) of a TaskRun whose
    /// caller retries it (`adze controller`, `spec.retries`): `$(context.task.retry-count)` is
    /// `attempt`.
    pub fn for_cluster_attempt(
        bundle: &Bundle,
        tr: &TaskRun,
        attempt: u32,
    ) -> Result<TaskRunDriver, RunError> {
        TaskRunDriver::build(bundle, tr, None, Some(attempt))
    }

    /// Resolves the request; `host` is the scratch base and `--keep` for a local executor,
    /// `None` for a cluster; `attempt` is set when the caller does the retries.
    fn build(
        bundle: &Bundle,
        tr: &TaskRun,
        host: Option<(&Path, bool)>,
        attempt: Option<u32>,
    ) -> Result<TaskRunDriver, RunError> {
        let name = tr
            .metadata
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "run".to_owned());
        if attempt.is_none() && tr.spec.retries.is_some_and(|r| r > 0) {
            return Err(PlanError::Unsupported(
                "spec.retries on a TaskRun: `adze run` does not retry standalone TaskRuns yet"
                    .into(),
            )
            .into());
        }
        if tr.spec.status.as_deref() == Some("TaskRunPending") {
            return Err(PlanError::Unsupported(
                "spec.status: TaskRunPending: a pending TaskRun waits for a controller to start \
                 it, which never happens locally; remove the field to run it"
                    .into(),
            )
            .into());
        }
        let (spec, target) = task_spec_of_run(bundle, tr)?;
        if host.is_some() {
            workspaces::check_bindings(bundle, &tr.spec.workspaces)?;
        }
        let run_dir = if let Some((base, keep)) = host.filter(|_| {
            tr.spec
                .workspaces
                .iter()
                .any(workspaces::needs_run_directory)
        }) {
            Some(
                RunDirectory::create(base, &name, keep).map_err(|e| RunError::RunDirectory {
                    base: base.to_owned(),
                    message: e.to_string(),
                })?,
            )
        } else {
            None
        };
        // The workspace rules are written for pipeline tasks; a TaskRun binds its Task's
        // workspaces by name, as a pipeline task mapping each name to itself would.
        let as_task = PipelineTask {
            name: name.clone(),
            workspaces: tr
                .spec
                .workspaces
                .iter()
                .map(|b| WorkspacePipelineTaskBinding {
                    name: b.name.clone(),
                    workspace: Some(b.name.clone()),
                    sub_path: None,
                })
                .collect(),
            ..PipelineTask::default()
        };
        let cluster_workspaces = workspaces::cluster_workspaces(
            &as_task,
            &spec,
            &tr.spec.workspaces,
            &Scope::default(),
        )?;
        let mounts = match host {
            Some(_) => workspaces::task_run_mounts(
                bundle,
                &as_task,
                &spec,
                &tr.spec.workspaces,
                run_dir.as_ref(),
                &Scope::default(),
            )?,
            None => Vec::new(),
        };
        let task_ref = (target != "(embedded)").then(|| target.clone());
        let inputs = TaskInputs {
            params: tr.spec.params.clone(),
            propagated: HashMap::new(),
            task_run_name: name.clone(),
            task_name: if target == "(embedded)" {
                name.clone()
            } else {
                target
            },
            namespace: tr
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            bound_workspaces: cluster_workspaces.iter().map(|w| w.name.clone()).collect(),
            claims: workspace_claims(
                tr.spec.workspaces.iter().map(|b| (b.name.as_str(), b)),
                &name,
            ),
            result_placeholders: false,
            retry_count: attempt.unwrap_or(0),
        };
        let mut resolved = resolve_task(bundle, &spec, &inputs)?;
        crate::plan::confinement::apply_overrides(&mut resolved.steps, &tr.spec.step_specs);
        crate::plan::confinement::apply_overrides(&mut resolved.sidecars, &tr.spec.sidecar_specs);
        let needed_by = format!("TaskRun \"{name}\"");
        let pod = tr.spec.pod_template.clone().unwrap_or_default();
        pod_template::apply(&pod, &mut resolved.steps, &mut resolved.sidecars);
        let task_volumes = volumes::merged(&resolved.volumes, &pod.volumes, &needed_by)?;
        let pod_settings = pod_template::settings(&pod, &needed_by)?;
        let host_paths = match host {
            Some(_) => volumes::check(&task_volumes, &needed_by)?,
            None => Vec::new(),
        };
        if host.is_some() {
            for step in resolved
                .steps
                .iter_mut()
                .chain(resolved.sidecars.iter_mut())
            {
                let needed_by = format!("step \"{}\" of TaskRun \"{name}\"", step.name);
                env::resolve(bundle, step, &needed_by)?;
            }
        }
        let timeout = match tr.spec.timeout.as_deref() {
            Some(t) => GoDuration::parse(t).map_err(|_| RunError::InvalidTimeout {
                field: "timeout",
                value: t.to_owned(),
            })?,
            None => GoDuration::minutes(DEFAULT_TIMEOUT_MINUTES),
        };
        let volumes = match host {
            Some(_) => volumes::task_volumes(bundle, &task_volumes, &needed_by)?,
            None => Vec::new(),
        };
        let cancelled = (tr.spec.status.as_deref() == Some("TaskRunCancelled"))
            .then(|| tr.spec.status_message.clone().unwrap_or_default());
        Ok(TaskRunDriver {
            spec: spec.clone(),
            cancelled,
            request: TaskRunRequest {
                name: name.clone(),
                pipeline_task: name,
                parent_tasks: Vec::new(),
                finally: false,
                params: tr.spec.params.clone(),
                steps: resolved.steps,
                sidecars: resolved.sidecars,
                timeout: Some(timeout),
                workspaces: mounts,
                results: spec.results.clone(),
                volumes,
                credentials: super::credentials::credential_files(
                    bundle,
                    tr.spec.service_account_name.as_deref().unwrap_or("default"),
                )?,
                pod: pod_settings,
                on_error: OnError::StopAndFail,
                cluster: ClusterSources {
                    workspaces: cluster_workspaces,
                    volumes: task_volumes,
                    pod_template: pod,
                    service_account_name: tr.spec.service_account_name.clone(),
                    pipeline_run: None,
                    task: task_ref,
                    task_ref: None,
                    task_spec: None,
                    propagated: Vec::new(),
                    retries: 0,
                    step_specs: Vec::new(),
                    sidecar_specs: Vec::new(),
                },
            },
            host_paths,
            strict: false,
            _run_dir: run_dir,
            progress: ProgressSink::none(),
            interrupt: Interrupt::new(),
            tick: Duration::from_millis(100),
        })
    }

    /// The request the executor will get.
    pub fn request(&self) -> &TaskRunRequest {
        &self.request
    }

    /// Reports the start and the end to `sink`.
    pub fn with_progress(mut self, sink: ProgressSink) -> TaskRunDriver {
        self.progress = sink;
        self
    }

    /// Cancels the TaskRun when `interrupt` is triggered.
    pub fn with_interrupt(mut self, interrupt: Interrupt) -> TaskRunDriver {
        self.interrupt = interrupt;
        self
    }

    /// Refuses `hostPath` volumes when the run starts, instead of warning (`--strict`).
    pub fn with_strict(mut self, strict: bool) -> TaskRunDriver {
        self.strict = strict;
        self
    }

    /// Makes the TaskRun a child of a PipelineRun (an object `adze controller` created for a
    /// pipeline task): its Pod carries the PipelineRun's labels and shares its claims.
    pub fn within_pipeline_run(
        mut self,
        pipeline_run: super::RunIdentity,
        pipeline_task: String,
    ) -> TaskRunDriver {
        self.request.cluster.pipeline_run = Some(pipeline_run);
        self.request.pipeline_task = pipeline_task;
        self
    }

    /// Sets how long to wait between checks (default 100 ms).
    pub fn with_tick(mut self, tick: Duration) -> TaskRunDriver {
        self.tick = tick;
        self
    }

    /// Runs the TaskRun until the executor reports it finished, reporting
    /// [`Progress::RunStarted`] first and [`Progress::RunFinished`] last.
    pub fn run(
        self,
        executor: &mut dyn Executor,
        clock: &mut dyn Clock,
    ) -> Result<TaskRunRecord, RunError> {
        let (run, progress) = (self.request.name.clone(), self.progress.clone());
        progress.send(Progress::RunStarted {
            run: run.clone(),
            kind: RunKind::TaskRun,
        });
        let result = self.run_to_end(executor, clock);
        progress.send(match &result {
            Ok(record) => {
                let (status, reason, message) = final_condition(record);
                Progress::RunFinished {
                    run,
                    status,
                    reason,
                    message,
                }
            }
            Err(e) => Progress::run_error(run, e),
        });
        result
    }

    /// Starts the TaskRun and waits for its end.
    fn run_to_end(
        self,
        executor: &mut dyn Executor,
        clock: &mut dyn Clock,
    ) -> Result<TaskRunRecord, RunError> {
        let name = self.request.name.clone();
        volumes::host_path_policy(&self.host_paths, self.strict, &self.progress)?;
        if let Some(message) = &self.cancelled {
            // Cancelled before it started, as Tekton does for a TaskRun created cancelled.
            let now = clock.now();
            let message = format!("TaskRun \"{name}\" was cancelled. {message}");
            self.progress.send(Progress::TaskFinished {
                task: name.clone(),
                task_run: name.clone(),
                state: PipelineTaskState::Cancelled {
                    cause: crate::reconcile::CancelCause::Cancelled,
                },
                message: message.clone(),
            });
            return Ok(TaskRunRecord {
                spec: self.spec,
                event: Some(super::ExecEvent {
                    task_run: name,
                    outcome: ExecOutcome::Cancelled,
                    results: Vec::new(),
                    report: super::TaskRunReport {
                        message,
                        start_time: Some(now),
                        completion_time: Some(now),
                        ..super::TaskRunReport::default()
                    },
                }),
                request: self.request,
                retries: Vec::new(),
            });
        }
        // Before the executor starts it, so every event about its steps comes after.
        self.progress.send(Progress::TaskStarted {
            task: name.clone(),
            task_run: name.clone(),
            finally: false,
            steps: self.request.steps.iter().map(|s| s.name.clone()).collect(),
        });
        executor.start(&self.request)?;
        let mut cancelled = false;
        loop {
            if !cancelled && self.interrupt.count() > 0 {
                executor.cancel(&name, INTERRUPTED)?;
                cancelled = true;
            }
            if !cancelled
                && self.interrupt.spec_status() == Some(Some(TASK_RUN_CANCELLED.to_owned()))
            {
                // `kubectl patch` of `spec.status` on the object (`adze controller`).
                let message = format!(
                    "TaskRun \"{name}\" was cancelled. {}",
                    self.interrupt.status_message().unwrap_or_default()
                );
                executor.cancel(&name, message.trim_end())?;
                cancelled = true;
            }
            let events = executor.poll(clock.now());
            if let Some(event) = events.into_iter().find(|e| e.task_run == name) {
                let (state, message) = match &event.outcome {
                    ExecOutcome::Succeeded => (PipelineTaskState::Succeeded, String::new()),
                    ExecOutcome::Failed { reason, message }
                    | ExecOutcome::EngineLost { reason, message } => (
                        PipelineTaskState::Failed {
                            reason: reason.clone(),
                            ignored: false,
                        },
                        message.clone(),
                    ),
                    ExecOutcome::Cancelled => (
                        PipelineTaskState::Cancelled {
                            cause: crate::reconcile::CancelCause::Cancelled,
                        },
                        event.report.message.clone(),
                    ),
                };
                for (result, value) in &event.results {
                    self.progress.send(Progress::TaskResult {
                        task: name.clone(),
                        task_run: name.clone(),
                        name: result.clone(),
                        value: value.clone(),
                    });
                }
                self.progress.send(Progress::TaskFinished {
                    task: name.clone(),
                    task_run: name,
                    state,
                    message,
                });
                return Ok(TaskRunRecord {
                    request: self.request,
                    spec: self.spec,
                    event: Some(event),
                    retries: Vec::new(),
                });
            }
            if !executor.wait(self.tick) {
                clock.sleep(self.tick);
            }
        }
    }
}

/// The TaskRun's final `Succeeded` condition as `adze run` reports it: status, reason,
/// message.
fn final_condition(record: &TaskRunRecord) -> (ConditionStatus, String, String) {
    match record.event.as_ref().map(|e| &e.outcome) {
        Some(ExecOutcome::Succeeded) => (
            ConditionStatus::True,
            "Succeeded".to_owned(),
            record
                .event
                .as_ref()
                .map(|e| e.report.message.clone())
                .unwrap_or_default(),
        ),
        Some(ExecOutcome::Failed { reason, message })
        | Some(ExecOutcome::EngineLost { reason, message }) => {
            (ConditionStatus::False, reason.clone(), message.clone())
        }
        Some(ExecOutcome::Cancelled) | None => (
            ConditionStatus::False,
            TASK_RUN_CANCELLED.to_owned(),
            record
                .event
                .as_ref()
                .map(|e| e.report.message.clone())
                .unwrap_or_default(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::load::Origin;
    use crate::reconcile::Timestamp;
    use crate::run::{FakeClock, FakeExecutor};

    fn task_run(text: &str) -> (Bundle, TaskRun) {
        let mut b = Bundle::new();
        b.add_source("t.yaml", text.to_owned(), Origin::Input);
        assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
        let tr = b
            .inputs()
            .find_map(|o| match &o.object {
                Object::TaskRun(tr) => Some(tr.clone()),
                _ => None,
            })
            .expect("a TaskRun");
        (b, tr)
    }

    const ECHO: &str = r#"
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: echo}
spec:
  params: [{name: word, default: hi}]
  steps: [{name: say, image: alpine, script: 'echo $(params.word) $(context.taskRun.name)'}]
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  timeout: 90s
  params: [{name: word, value: hello}]
  taskRef: {name: echo}
"#;

    #[test]
    fn the_request_is_resolved_with_params_context_and_timeout() {
        let (b, tr) = task_run(ECHO);
        let driver = TaskRunDriver::new(&b, &tr).expect("resolves");
        let request = driver.request();
        assert_eq!(request.name, "tr");
        assert_eq!(request.timeout, Some(GoDuration::parse("90s").unwrap()));
        let script = request.steps[0].script.as_deref().unwrap_or_default();
        assert!(script.contains("echo hello tr"), "{script}");
    }

    #[test]
    fn a_finished_task_run_is_returned_with_its_event() {
        let (b, tr) = task_run(ECHO);
        let mut exec = FakeExecutor::new().succeed("tr", &[("out", "x")]);
        let record = TaskRunDriver::new(&b, &tr)
            .expect("resolves")
            .run(&mut exec, &mut FakeClock::at(Timestamp(0)))
            .expect("runs");
        let event = record.event.expect("finished");
        assert_eq!(event.outcome, ExecOutcome::Succeeded);
        assert_eq!(exec.started.len(), 1);
    }

    #[test]
    fn an_interrupt_cancels_the_task_run() {
        let (b, tr) = task_run(ECHO);
        let mut exec = FakeExecutor::new().hang("tr");
        let interrupt = Interrupt::new();
        interrupt.trigger();
        let record = TaskRunDriver::new(&b, &tr)
            .expect("resolves")
            .with_interrupt(interrupt)
            .run(&mut exec, &mut FakeClock::at(Timestamp(0)))
            .expect("runs");
        assert_eq!(
            record.event.expect("finished").outcome,
            ExecOutcome::Cancelled
        );
        assert_eq!(
            exec.cancelled,
            vec![("tr".to_owned(), INTERRUPTED.to_owned())]
        );
    }

    #[test]
    fn a_task_run_created_cancelled_never_starts() {
        let (b, tr) = task_run(&ECHO.replace(
            "timeout: 90s",
            "status: TaskRunCancelled\n  statusMessage: not today",
        ));
        let mut exec = FakeExecutor::new();
        let record = TaskRunDriver::new(&b, &tr)
            .expect("resolves")
            .run(&mut exec, &mut FakeClock::at(Timestamp(0)))
            .expect("runs");
        let event = record.event.expect("finished");
        assert_eq!(event.outcome, ExecOutcome::Cancelled);
        assert_eq!(
            event.report.message,
            "TaskRun \"tr\" was cancelled. not today"
        );
        assert!(exec.started.is_empty());
    }

    const HOST_PATH: &str = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  podTemplate:
    env: [{name: FROM_POD, value: p}]
  taskSpec:
    volumes: [{name: host, hostPath: {path: /srv/cache}}]
    steps: [{name: s, image: alpine, script: 'true'}]
"#;

    #[test]
    fn host_paths_warn_or_are_refused_under_strict_before_anything_starts() {
        let (b, tr) = task_run(HOST_PATH);
        let mut exec = FakeExecutor::new();
        let err = TaskRunDriver::new(&b, &tr)
            .expect("resolves")
            .with_strict(true)
            .run(&mut exec, &mut FakeClock::at(Timestamp(0)))
            .expect_err("refused");
        assert!(
            err.to_string()
                .starts_with("volume \"host\" (TaskRun \"tr\")"),
            "{err}"
        );
        assert!(exec.started.is_empty());

        let (sink, events) = ProgressSink::channel();
        let mut exec = FakeExecutor::new().succeed("tr", &[]);
        let driver = TaskRunDriver::new(&b, &tr).expect("resolves");
        assert_eq!(driver.request().steps[0].env[0].name, "FROM_POD");
        driver
            .with_progress(sink)
            .run(&mut exec, &mut FakeClock::at(Timestamp(0)))
            .expect("runs");
        let warned = events.try_iter().any(|p| {
            matches!(p, Progress::Warning { message, .. }
                if message.starts_with("hostPath volume \"host\" (TaskRun \"tr\") mounts host path /srv/cache"))
        });
        assert!(warned);
    }

    #[test]
    fn retries_are_refused_up_front() {
        let (b, tr) = task_run(&ECHO.replace("timeout: 90s", "retries: 2"));
        let err = TaskRunDriver::new(&b, &tr).expect_err("refused");
        assert!(err.to_string().contains("retries"), "{err}");
    }

    #[test]
    fn for_a_cluster_nothing_is_read_or_created_here() {
        let text = r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: tr}
spec:
  serviceAccountName: builder
  workspaces:
  - {name: conf, configMap: {name: not-loaded}}
  - {name: scratch, emptyDir: {}}
  taskSpec:
    workspaces: [{name: conf}, {name: scratch}]
    steps:
    - image: alpine
      script: 'true'
      env: [{name: T, valueFrom: {secretKeyRef: {name: not-loaded, key: t}}}]
"#;
        let (b, tr) = task_run(text);
        assert!(
            TaskRunDriver::new(&b, &tr).is_err(),
            "locally the ConfigMap is needed"
        );
        let driver = TaskRunDriver::for_cluster(&b, &tr).expect("resolves");
        assert!(driver._run_dir.is_none(), "no scratch directory");
        let request = driver.request();
        assert!(request.workspaces.is_empty());
        let names: Vec<&str> = request
            .cluster
            .workspaces
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(names, ["conf", "scratch"]);
        assert_eq!(
            request.cluster.service_account_name.as_deref(),
            Some("builder")
        );
        assert_eq!(request.cluster.pipeline_run, None);
        assert_eq!(
            request.steps[0].env_sources.len(),
            1,
            "the reference is kept"
        );
    }
}
