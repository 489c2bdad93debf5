//! One TaskRun on the Docker engine, from its first image check to its event.
//!
//! The job observes containers the way a kubelet would report them and leaves every status
//! decision (reasons, messages, step overrides) to the pure [`evaluate`]: the executor only
//! says what the containers did.

use std::collections::HashMap;
use std::io;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bollard::errors::Error as DockerError;
use bollard::query_parameters::{KillContainerOptions, WaitContainerOptions};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::watch;

use super::container::{self, Role, RunDir};
use super::engine_loss::{self, Verdict};
use super::images::ResolvedImage;
use super::output_files::OutputFiles;
use super::pod::{Pod, PodFailure};
use super::{logs, results, retry, DockerOptions, ForceHandle};
use crate::api::{GoDuration, ParamValue};
use crate::plan::model::StepPlan;
use crate::plan::step_when::step_runs;
use crate::reconcile::task_run::{
    evaluate, ContainerObservation, MarkerReason, PodObservation, PodPhase, StepObservation,
    TaskRunSpecStatus, TaskRunView, TerminatedObservation, TerminationMarkers,
};
use crate::reconcile::Timestamp;
use crate::run::{
    host_file, Clock, ExecEvent, ExecOutcome, Progress, StepReport, SystemClock, TaskRunReport,
    TaskRunRequest,
};

/// A TaskRun failure decided by the executor: reason and message.
pub(super) type Failure = (String, String);

/// Why a TaskRun is asked to stop before its steps are done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stop {
    /// `spec.status: TaskRunCancelled`, with its `statusMessage`.
    Cancel(String),
}

/// Everything one TaskRun's task needs; moved into the spawned task.
pub(super) struct TaskRunJob {
    pub docker: Docker,
    pub request: TaskRunRequest,
    pub options: DockerOptions,
    pub force: ForceHandle,
    pub stop: watch::Receiver<Option<Stop>>,
    /// Slots limiting how many TaskRuns run at once (`--parallel`), if limited.
    pub slots: Option<std::sync::Arc<tokio::sync::Semaphore>>,
    /// What each image name of the TaskRun resolved to; filled by `ensure_images`.
    pub images: HashMap<String, ResolvedImage>,
    /// The first of adze's own writes for this TaskRun that failed for lack of space.
    pub out_of_space: OnceLock<String>,
    /// The container of the step that just failed, kept for `--break-on-failure`.
    pub failed_container: Option<String>,
}

/// How waiting for a step's container ended.
pub(super) enum StepEnd {
    /// It exited by itself.
    Exited(TerminatedObservation),
    /// The step's own timeout elapsed and the container was killed.
    StepTimeout(TerminatedObservation),
    /// The TaskRun was cancelled or timed out while it ran (started at the given time).
    Interrupted(Timestamp),
    /// The TaskRun fails before the step could run, with this reason and message.
    Refused(String, String),
    /// The step's `when` guard was false: it did not run (§4.3 step 3).
    Skipped,
    /// The step's `when` guard could not be decided (a failing CEL expression): the step fails.
    GuardFailed(String),
    /// The engine stopped while the step ran (started at the given time), for this cause.
    EngineLost(Timestamp, String),
}

/// What interrupted the TaskRun, if anything.
enum Interruption {
    Cancel(String),
    Timeout,
}

pub(super) fn now() -> Timestamp {
    SystemClock.now()
}

/// The state of a step whose container never ran: terminated now, as the entrypoint reports it.
fn not_run(exit_code: i32, reason: &str, marker: Option<MarkerReason>) -> ContainerObservation {
    let t = now();
    ContainerObservation::Terminated(TerminatedObservation {
        exit_code,
        reason: reason.into(),
        started: t,
        finished: t,
        markers: Some(TerminationMarkers {
            started_at: Some(t),
            exit_code: None,
            reason: marker,
        }),
    })
}

impl TaskRunJob {
    /// Runs the TaskRun to its end and returns the event to report; never panics on engine
    /// errors, which become a failed TaskRun naming what went wrong.
    pub async fn run(mut self) -> ExecEvent {
        // Held until the TaskRun ends; a cancel while waiting for a slot ends it unstarted.
        let _slot = match self.slots.clone() {
            Some(slots) => {
                let mut stop = self.stop.clone();
                tokio::select! {
                    permit = slots.acquire_owned() => permit.ok(),
                    _ = stop.wait_for(Option::is_some) => return self.cancelled_unstarted(),
                }
            }
            None => None,
        };
        let mut pod = Pod::default();
        let event = self.run_in(&mut pod).await;
        if !self.options.keep {
            pod.remove(&self.docker).await;
        }
        event
    }

    /// The event of a TaskRun cancelled before any container existed.
    fn cancelled_unstarted(&self) -> ExecEvent {
        let message = match &*self.stop.borrow() {
            Some(Stop::Cancel(m)) => m.clone(),
            None => String::new(),
        };
        let t = now();
        ExecEvent {
            task_run: self.request.name.clone(),
            outcome: ExecOutcome::Cancelled,
            results: Vec::new(),
            report: TaskRunReport {
                message: format!("TaskRun \"{}\" was cancelled. {message}", self.request.name),
                start_time: Some(t),
                completion_time: Some(t),
                ..TaskRunReport::default()
            },
        }
    }

    /// [`TaskRunJob::run`], with the long-lived containers kept in `pod` for removal.
    async fn run_in(&mut self, pod: &mut Pod) -> ExecEvent {
        let created = now();
        let deadline = self.request.timeout.and_then(deadline_of);
        let mut view = TaskRunView {
            name: self.request.name.clone(),
            created,
            start: Some(created),
            timeout: self.request.timeout,
            pipeline_task_on_error: self.request.on_error,
            pod: Some(PodObservation {
                name: format!("{}-pod", self.request.name),
                phase: PodPhase::Pending,
                evicted: None,
            }),
            steps: self
                .request
                .steps
                .iter()
                .map(|s| StepObservation {
                    name: s.name.clone(),
                    state: ContainerObservation::Waiting {
                        reason: "PodInitializing".into(),
                        message: String::new(),
                    },
                })
                .collect(),
            ..TaskRunView::default()
        };
        let mut image_ids = vec![String::new(); self.request.steps.len()];
        let mut step_results = vec![Vec::new(); self.request.steps.len()];
        let dir = match RunDir::create(&self.request, self.options.keep) {
            Ok(dir) => dir,
            Err(e) => {
                let message = format!(
                    "cannot prepare the TaskRun's directories and volumes in {}: {e}",
                    std::env::temp_dir().display()
                );
                self.note_out_of_space(&e, &message);
                return self.refused(&view, "PodCreationFailed", message, Vec::new());
            }
        };
        for note in &dir.notes {
            self.warn(note.clone());
        }
        if let Err((reason, message)) = self.ensure_images().await {
            return self.refused(&view, &reason, message, Vec::new());
        }
        if let Some(pod) = view.pod.as_mut() {
            pod.phase = PodPhase::Running;
        }
        if !self.request.sidecars.is_empty() {
            if let Err(PodFailure::Refused(reason, message)) = self.start_pod(&dir, pod).await {
                return self.refused(&view, &reason, message, Vec::new());
            }
            self.wait_until_ready(pod, deadline).await;
        }
        // A step to stop before needs a moment between two steps: they run one by one.
        let mut at_once = if self.stops_in_this_task_run() {
            None
        } else {
            self.start_at_once(&dir, pod).await
        };
        let network = pod.holder.clone();

        let mut interruption = None;
        let mut lost = None;
        let mut failed = false;
        let steps = self.request.steps.clone();
        for (i, step) in steps.iter().enumerate() {
            if failed {
                // What Tekton's entrypoint does for the steps after a failure (§4.3 step 1).
                view.steps[i].state = not_run(1, "Error", Some(MarkerReason::Skipped));
                continue;
            }
            let end = match at_once.as_mut() {
                Some(at_once) => {
                    self.next_at_once(at_once, i, &dir, deadline, &mut image_ids[i])
                        .await
                }
                None => {
                    self.run_step(step, &dir, network.as_deref(), deadline, &mut image_ids[i])
                        .await
                }
            };
            match end {
                StepEnd::Exited(t) | StepEnd::StepTimeout(t) => {
                    failed = t.exit_code != 0;
                    let exit_code = t.markers.and_then(|m| m.exit_code).unwrap_or(t.exit_code);
                    step_results[i] = self.finish_step(step, &dir, exit_code);
                    self.step_finished(step, exit_code, t.finished.0.saturating_sub(t.started.0));
                    view.steps[i].state = ContainerObservation::Terminated(t);
                    if failed {
                        self.break_after_failure(step, exit_code).await;
                    }
                }
                StepEnd::Interrupted(started) => {
                    view.steps[i].state = ContainerObservation::Running { started };
                    interruption = Some(match self.stop.borrow().clone() {
                        Some(Stop::Cancel(message)) => Interruption::Cancel(message),
                        None => Interruption::Timeout,
                    });
                    break;
                }
                StepEnd::EngineLost(started, cause) => {
                    view.steps[i].state = ContainerObservation::Running { started };
                    lost = Some(engine_loss::lost_message(&cause));
                    break;
                }
                // The engine went away between steps: the step never ran, and like the
                // running one it is ended with the TaskRun's reason, not as refused.
                StepEnd::Refused(reason, message) if reason == engine_loss::REASON => {
                    lost = Some(message);
                    break;
                }
                StepEnd::Refused(reason, message) => {
                    let (results, _) = self.results(&dir);
                    return self.refused(&view, &reason, message, results);
                }
                StepEnd::Skipped => {
                    view.steps[i].state = not_run(0, "Completed", Some(MarkerReason::Skipped));
                    self.step_finished(step, 0, 0);
                }
                StepEnd::GuardFailed(why) => {
                    self.warn(format!(
                        "step \"{}\": its when expression failed: {why}",
                        step.name
                    ));
                    failed = true;
                    view.steps[i].state = not_run(1, "Error", None);
                    self.step_finished(step, 1, 0);
                }
            }
        }
        if let Some(at_once) = at_once {
            at_once.finish(pod).await;
        }
        view.sidecars = self.observe_sidecars(pod).await;
        let sidecars = self.stop_sidecars(pod).await;
        let (results, failure) = self.results(&dir);
        let done = now();
        let completed = interruption.is_none() && lost.is_none();
        if let Some(pod) = view.pod.as_mut() {
            pod.evicted.clone_from(&lost);
        }
        match interruption {
            Some(Interruption::Cancel(message)) => {
                view.spec_status = TaskRunSpecStatus::Cancelled { message };
            }
            Some(Interruption::Timeout) => {
                // `evaluate` decides a timeout from the clock; make sure it sees it elapsed.
                view.start = Some(Timestamp(0));
            }
            None if lost.is_some() => {}
            None => {
                let ok = view.steps.iter().all(|s| match &s.state {
                    ContainerObservation::Terminated(t) => t.exit_code == 0,
                    _ => false,
                });
                if let Some(pod) = view.pod.as_mut() {
                    pod.phase = if ok {
                        PodPhase::Succeeded
                    } else {
                        PodPhase::Failed
                    };
                }
            }
        }
        let start = if matches!(view.start, Some(Timestamp(0))) {
            created
        } else {
            view.start.unwrap_or(created)
        };
        let mut event = self.event(&view, done, start, image_ids, step_results, results);
        event.report.sidecars = sidecars;
        event.report.artifacts =
            std::fs::read_to_string(dir.path.join("artifacts/provenance.json"))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok());
        // The controller validates results after the pod is done, whatever the steps did
        // (§4.5); a cancel or timeout stays what it is.
        if let (true, Some((reason, message))) = (completed, failure) {
            event.outcome = ExecOutcome::Failed {
                reason,
                message: message.clone(),
            };
            event.report.message = message;
        }
        if lost.is_some() {
            event.outcome = lost_outcome(event.outcome);
        }
        event
    }

    /// The event for a TaskRun that failed before (or instead of) running a step.
    fn refused(
        &self,
        view: &TaskRunView,
        reason: &str,
        message: String,
        results: Vec<(String, ParamValue)>,
    ) -> ExecEvent {
        let done = now();
        let steps = view
            .steps
            .iter()
            .map(|s| StepReport {
                state: crate::reconcile::task_run::step_state(s),
                image_id: String::new(),
                results: Vec::new(),
            })
            .collect();
        let outcome = ExecOutcome::Failed {
            reason: reason.to_owned(),
            message: message.clone(),
        };
        ExecEvent {
            task_run: self.request.name.clone(),
            outcome: if reason == engine_loss::REASON {
                lost_outcome(outcome)
            } else {
                outcome
            },
            results,
            report: TaskRunReport {
                message,
                pod_name: view
                    .pod
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                start_time: Some(view.created),
                completion_time: Some(done),
                artifacts: None,
                steps,
                sidecars: Vec::new(),
                out_of_space: self.out_of_space.get().cloned(),
            },
        }
    }

    /// Turns the final observations into the event, through [`evaluate`].
    fn event(
        &self,
        view: &TaskRunView,
        done: Timestamp,
        start: Timestamp,
        image_ids: Vec<String>,
        step_results: Vec<Vec<(String, ParamValue)>>,
        results: Vec<(String, ParamValue)>,
    ) -> ExecEvent {
        let update = evaluate(view, done);
        let message = update
            .as_ref()
            .map(|u| u.condition.message.clone())
            .unwrap_or_default();
        let (outcome, steps) = match update {
            Some(u) => {
                let outcome = ExecOutcome::of_condition(&u.condition);
                (outcome, u.steps)
            }
            None => (ExecOutcome::Succeeded, Vec::new()),
        };
        let steps = steps
            .into_iter()
            .zip(image_ids)
            .zip(step_results)
            .map(|((state, image_id), results)| StepReport {
                state,
                image_id,
                results,
            })
            .collect();
        ExecEvent {
            task_run: self.request.name.clone(),
            outcome,
            results,
            report: TaskRunReport {
                message,
                pod_name: view
                    .pod
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                start_time: Some(start),
                completion_time: Some(done),
                steps,
                sidecars: Vec::new(),
                artifacts: None,
                out_of_space: self.out_of_space.get().cloned(),
            },
        }
    }

    /// The task results the steps wrote, typed by their declarations, and the failure
    /// (reason, message) they cause if any; unreadable files become a warning, not a failure.
    fn results(&self, dir: &RunDir) -> (Vec<(String, ParamValue)>, Option<Failure>) {
        let mut raw = match results::read_dir(&dir.results_dir()) {
            Ok(raw) => raw,
            Err(e) => {
                self.warn(format!("cannot read the results: {e}"));
                return (Vec::new(), None);
            }
        };
        results::lift_step_results(&self.request.results, &mut raw, &dir.steps_dir());
        let mut failure = None;
        for (name, size) in results::oversized(&raw) {
            let message = format!(
                "TaskRun \"{}\": result \"{name}\" is {size} bytes, more than the {} bytes \
                 Tekton allows in a termination message",
                self.request.name,
                results::MAX_RESULT_BYTES
            );
            if self.options.strict {
                failure.get_or_insert(("TaskRunResultLargerThanAllowedLimit".to_owned(), message));
            } else {
                self.warn(format!("{message}; it would fail on a cluster"));
            }
        }
        let (typed, mismatch) = results::typed(&self.request.results, raw);
        let failure = mismatch
            .map(|m| ("TaskRunValidationFailed".to_owned(), m))
            .or(failure);
        (typed, failure)
    }

    /// Records a finished step's exit code and reads its step results.
    fn finish_step(
        &self,
        step: &StepPlan,
        dir: &RunDir,
        exit_code: i32,
    ) -> Vec<(String, ParamValue)> {
        let own = dir.step_dir(&step.name);
        if let Err(e) = host_file::write(&own.join("exitCode"), exit_code.to_string()) {
            let message = format!("step \"{}\": {e}", step.name);
            if e.out_of_space() {
                self.out_of_space.get_or_init(|| message.clone());
            }
            self.warn(message);
        }
        match results::read_dir(&own.join("results")) {
            Ok(raw) => {
                for (name, size) in results::oversized(&raw) {
                    self.warn(format!(
                        "step \"{}\": result \"{name}\" is {size} bytes, more than the {} bytes \
                         Tekton allows",
                        step.name,
                        results::MAX_RESULT_BYTES
                    ));
                }
                results::step_results(step, raw)
            }
            Err(e) => {
                self.warn(format!(
                    "cannot read the results of step \"{}\": {e}",
                    step.name
                ));
                Vec::new()
            }
        }
    }

    fn step_finished(&self, step: &StepPlan, exit_code: i32, duration_ms: u64) {
        self.options.progress.send(Progress::StepFinished {
            task_run: self.request.name.clone(),
            step: step.name.clone(),
            exit_code,
            duration_ms,
        });
    }

    /// Remembers the first failure of adze's own writes for lack of space: the TaskRun's
    /// report carries it, and `adze run` exits 3 for it.
    fn note_out_of_space(&self, e: &io::Error, message: &str) {
        if host_file::out_of_space(e) {
            self.out_of_space.get_or_init(|| message.to_owned());
        }
    }

    pub(super) fn warn(&self, message: String) {
        self.options.progress.send(Progress::Warning {
            task_run: Some(self.request.name.clone()),
            message,
        });
    }

    /// Runs one step's container until it exits or the TaskRun is interrupted; the
    /// container is removed whatever happens (unless kept).
    async fn run_step(
        &mut self,
        step: &StepPlan,
        dir: &RunDir,
        network: Option<&str>,
        deadline: Option<Instant>,
        image_id: &mut String,
    ) -> StepEnd {
        let step = results::substitute_step_artifacts(step, &dir.steps_dir());
        let (step, missing) = results::substitute_step_results(&step, &dir.steps_dir());
        for reference in missing {
            self.warn(format!(
                "step \"{}\": $({reference}) was not written by an earlier step; left as is",
                step.name
            ));
        }
        // The entrypoint decides the guard once earlier steps' results are filled in.
        match step_runs(&step.when) {
            Ok(true) => {}
            Ok(false) => return StepEnd::Skipped,
            Err(e) => return StepEnd::GuardFailed(e.to_string()),
        }
        let step = &self.with_image_command(&step).await;
        if let Err(message) = self
            .check_non_root(step, &format!("step-{}", step.name))
            .await
        {
            return StepEnd::Refused("CreateContainerConfigError".into(), message);
        }
        let resolved = self.with_resolved_image(step);
        let config = match container::container_config(
            &self.request.name,
            &resolved,
            Role::Step,
            dir,
            network,
            &self.request.pod,
            None,
        ) {
            Ok(config) => config,
            Err(e) => {
                let message = format!(
                    "cannot prepare step \"{}\" (its script or working directory): {e}",
                    step.name
                );
                self.note_out_of_space(&e, &message);
                return StepEnd::Refused("PodCreationFailed".into(), message);
            }
        };
        let mounts = config
            .host_config
            .as_ref()
            .and_then(|h| h.mounts.clone())
            .unwrap_or_default();
        let (files, problems) = OutputFiles::open(step, &mounts, config.working_dir.as_deref());
        for problem in problems {
            self.warn(problem);
        }
        if self.breaks_before(&step.name) {
            self.break_before(step, &config).await;
        }
        let hint = format!("{}-step-{}", self.request.name, step.name);
        let created = match retry::create_container(&self.docker, &hint, config).await {
            Ok(created) => created,
            Err(e) => {
                let (reason, message) = create_failure(step, e);
                return StepEnd::Refused(reason, message);
            }
        };
        let end = self
            .start_and_wait(step, &created.id, deadline, image_id, files)
            .await;
        let failed = match &end {
            StepEnd::Exited(t) | StepEnd::StepTimeout(t) => t.exit_code != 0,
            _ => false,
        };
        if failed && self.keeps_failed_container() {
            self.failed_container = Some(created.id.clone());
        } else if !self.options.keep {
            // Removal after the fact cannot change the step's outcome; a failure here only
            // leaves a labelled container that `adze run` removes before exiting.
            let _ = container::remove(&self.docker, &created.id).await;
        }
        end
    }

    async fn start_and_wait(
        &mut self,
        step: &StepPlan,
        id: &str,
        deadline: Option<Instant>,
        image_id: &mut String,
        files: OutputFiles,
    ) -> StepEnd {
        let output = if self.options.logs || !files.is_empty() {
            // Attach failures only cost the logs and output files, never the step.
            match logs::attach(&self.docker, id).await {
                Ok(output) => Some(output),
                Err(e) => {
                    if !files.is_empty() {
                        self.warn(format!(
                            "step \"{}\": its output files are not written: cannot attach to \
                             its output ({e})",
                            step.name
                        ));
                    }
                    None
                }
            }
        } else {
            None
        };
        let started = now();
        if let Err(e) = retry::start_container(&self.docker, id).await {
            let (reason, message) = start_failure(&step.name, e);
            return StepEnd::Refused(reason, message);
        }
        self.options.progress.send(Progress::StepStarted {
            task_run: self.request.name.clone(),
            step: step.name.clone(),
        });
        let log_task = output.map(|output| {
            tokio::spawn(logs::forward(
                output,
                self.request.name.clone(),
                step.name.clone(),
                self.options.progress.clone(),
                self.options.logs,
                files,
                None,
            ))
        });
        let step_deadline = step
            .timeout
            .as_deref()
            .and_then(|t| GoDuration::parse(t).ok())
            .and_then(deadline_of);
        let limit = match (deadline, step_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let waited = match self.wait_watching_engine(&step.name, id, limit).await {
            WaitEnd::Waited(waited) => waited,
            WaitEnd::Lost(cause) => {
                if let Some(task) = &log_task {
                    task.abort();
                }
                return StepEnd::EngineLost(started, cause);
            }
        };
        let step_timed_out = waited == Waited::Deadline
            && step_deadline.is_some_and(|s| deadline.is_none_or(|d| s < d));
        match waited {
            Waited::Exited => {}
            // A timeout is final: the run must end on time, so no grace period.
            Waited::Deadline => self.kill_container(id).await,
            Waited::Stopped => self.stop_container(id).await,
        }
        if let Some(task) = log_task {
            // The stream ends with the container; a short bound keeps a stuck engine from
            // holding the TaskRun.
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
        let inspect = retry::idempotent(|| self.docker.inspect_container(id, None)).await;
        if let Ok(i) = &inspect {
            *image_id = self.status_image_id(&step.image, i.image.as_deref().unwrap_or_default());
        }
        if waited != Waited::Exited && !step_timed_out {
            return StepEnd::Interrupted(started);
        }
        let finished = now();
        if step_timed_out {
            return StepEnd::StepTimeout(TerminatedObservation {
                exit_code: 1,
                reason: "Error".into(),
                started,
                finished,
                markers: Some(TerminationMarkers {
                    started_at: Some(started),
                    exit_code: None,
                    reason: Some(MarkerReason::TimeoutExceeded),
                }),
            });
        }
        // Without the container's state the exit code is unknown: never the step's failure.
        let state = match inspect {
            Ok(i) => i.state.unwrap_or_default(),
            Err(e) => {
                let (reason, message) = engine_failure(e);
                return StepEnd::Refused(reason, message);
            }
        };
        let exit_code = i32::try_from(state.exit_code.unwrap_or(1)).unwrap_or(1);
        let oom = state.oom_killed == Some(true);
        let continued = exit_code != 0 && step.on_error.as_deref() == Some("continue");
        let (container_code, reason) = match (oom, continued, exit_code) {
            (true, _, _) => (exit_code, "OOMKilled"),
            (false, true, _) => (0, "Completed"),
            (false, false, 0) => (0, "Completed"),
            (false, false, n) => (n, "Error"),
        };
        StepEnd::Exited(TerminatedObservation {
            exit_code: container_code,
            reason: reason.into(),
            started,
            finished,
            markers: Some(TerminationMarkers {
                started_at: Some(started),
                exit_code: continued.then_some(exit_code),
                reason: None,
            }),
        })
    }

    /// Waits for step `step`'s container `id` to exit, for `limit`, or for a stop request,
    /// telling an exit from the engine going away.
    pub(super) async fn wait_watching_engine(
        &mut self,
        step: &str,
        id: &str,
        limit: Option<Instant>,
    ) -> WaitEnd {
        loop {
            // A wait cut off past its retries is no verdict either: like an exit, only the
            // engine's answer about the container tells what happened.
            let (waited, outage) = self
                .wait_or_interrupt(id, limit)
                .await
                .unwrap_or((Waited::Exited, true));
            if waited != Waited::Exited {
                return WaitEnd::Waited(waited);
            }
            // The wait also ends when the engine goes away; only its answer tells which.
            let grace = self.options.engine_grace;
            match engine_loss::confirm_exit(&self.docker, id, grace, outage).await {
                Verdict::Exited => return WaitEnd::Waited(waited),
                Verdict::Resume { outage } => {
                    if outage {
                        self.warn(format!(
                            "step \"{step}\": the container engine answers again and the \
                             step's container still runs: watching it again"
                        ));
                    }
                    // A wait that keeps ending while the container runs must not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Verdict::Lost(cause) => return WaitEnd::Lost(cause),
            }
        }
    }

    /// Waits for the container to exit, for the deadline, or for a stop request; `Err` when
    /// the engine's answer to the wait was lost more often than [`retry::ENGINE_CALLS`] allows.
    async fn wait_or_interrupt(
        &mut self,
        id: &str,
        deadline: Option<Instant>,
    ) -> Result<(Waited, bool), DockerError> {
        if self.stop.borrow().is_some() {
            return Ok((Waited::Stopped, false));
        }
        let mut wait = self.docker.wait_container(id, None::<WaitContainerOptions>);
        let mut lost = 0;
        let sleep = until(deadline);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                // A non-zero exit arrives as an error from bollard; either way it ended. A
                // wait cut off says nothing about the container: it is waited for again, and
                // the engine is known to have stopped answering in between (a daemon
                // restarted meanwhile answers the next wait as if nothing happened).
                item = wait.next() => match item {
                    Some(Err(e)) if retry::is_transient(&e) => {
                        if lost + 1 >= retry::ENGINE_CALLS.attempts {
                            return Err(retry::ENGINE_CALLS.exhausted(e));
                        }
                        tokio::time::sleep(retry::ENGINE_CALLS.delay(lost)).await;
                        lost += 1;
                        wait = self.docker.wait_container(id, None::<WaitContainerOptions>);
                    }
                    // The engine's answer: the container exited (non-zero as an error).
                    Some(Ok(_) | Err(DockerError::DockerContainerWaitError { .. })) => {
                        return Ok((Waited::Exited, lost > 0))
                    }
                    // The stream closed, or broke, without the engine's answer: it went away.
                    Some(Err(_)) | None => return Ok((Waited::Exited, true)),
                },
                _ = &mut sleep => return Ok((Waited::Deadline, lost > 0)),
                changed = self.stop.changed() => {
                    if changed.is_err() || self.stop.borrow().is_some() {
                        return Ok((Waited::Stopped, lost > 0));
                    }
                }
            }
        }
    }

    /// Stops a container: SIGTERM, then SIGKILL after the grace period or once forced.
    pub(super) async fn stop_container(&self, id: &str) {
        let signal = |s: &str| KillContainerOptions { signal: s.into() };
        if !self.force.is_forced() {
            let _ =
                retry::idempotent(|| self.docker.kill_container(id, Some(signal("SIGTERM")))).await;
            let until = Instant::now() + self.options.grace;
            while Instant::now() < until && !self.force.is_forced() {
                let running = retry::idempotent(|| self.docker.inspect_container(id, None))
                    .await
                    .ok()
                    .and_then(|i| i.state)
                    .and_then(|s| s.running)
                    .unwrap_or(false);
                if !running {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        self.kill_container(id).await;
    }

    /// Kills a container with SIGKILL; it may already have exited.
    pub(super) async fn kill_container(&self, id: &str) {
        let options = || KillContainerOptions {
            signal: "SIGKILL".into(),
        };
        let _ = retry::idempotent(|| self.docker.kill_container(id, Some(options()))).await;
    }
}

/// How waiting for a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Waited {
    /// It exited.
    Exited,
    /// The time limit passed first.
    Deadline,
    /// The TaskRun was asked to stop.
    Stopped,
}

/// [`Waited`], or the engine gone for good (with its cause).
pub(super) enum WaitEnd {
    Waited(Waited),
    Lost(String),
}

/// Ends at `deadline`; never without one.
pub(super) async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// The instant a positive duration from now ends; `None` for "no limit".
fn deadline_of(d: GoDuration) -> Option<Instant> {
    let ns = u64::try_from(d.0).ok().filter(|&ns| ns > 0)?;
    Instant::now().checked_add(Duration::from_nanos(ns))
}

/// A refused container creation, as the TaskRun's failure.
fn create_failure(step: &StepPlan, e: DockerError) -> (String, String) {
    match e {
        DockerError::DockerResponseServerError { message, .. } => (
            "CreateContainerConfigError".into(),
            format!("\"step-{}\" could not be created: {message}", step.name),
        ),
        e => engine_failure(e),
    }
}

/// A step container the engine would not start, as the TaskRun's failure.
pub(super) fn start_failure(step: &str, e: DockerError) -> (String, String) {
    match e {
        DockerError::DockerResponseServerError { message, .. } => (
            "StepFailed".to_owned(),
            format!("\"step-{step}\" could not be started: {message}"),
        ),
        e => engine_failure(e),
    }
}

/// The engine failed a call mid-run: the TaskRun fails naming it, as an engine loss
/// ([`engine_loss::REASON`]) when the engine did not answer at all.
pub(super) fn engine_failure(e: DockerError) -> (String, String) {
    if engine_loss::is_connection_loss(&e) {
        return (
            engine_loss::REASON.into(),
            engine_loss::lost_message(&format!(
                "it does not answer ({}); {}",
                engine_loss::root_cause(&e),
                super::HOW_TO_START
            )),
        );
    }
    // An engine that answers is running: how to start one would be no help.
    let hint = match e {
        DockerError::DockerResponseServerError { .. } => {
            "the engine's log says why (`journalctl -u docker`, or dockerd's output)"
        }
        _ => super::HOW_TO_START,
    };
    (
        "PodCreationFailed".into(),
        format!("the Docker engine failed: {e}; {hint}"),
    )
}

/// A TaskRun's failure, reported as the engine's loss (same reason and message).
fn lost_outcome(outcome: ExecOutcome) -> ExecOutcome {
    match outcome {
        ExecOutcome::Failed { reason, message } => ExecOutcome::EngineLost { reason, message },
        other => other,
    }
}
