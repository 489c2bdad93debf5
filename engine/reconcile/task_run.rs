//! The TaskRun status logic: given what the pod's containers are doing and the time, decide the
//! TaskRun's `Succeeded` condition, its step states and what the executor must do next.
//!
//! # Why
//!
//! Every executor (local Docker, Kubernetes) observes step containers differently but must
//! report the same Tekton status: the same reasons, the same messages, the same step table
//! (§4.6, §4.7, §4.12). [`evaluate`] is that translation, shared by all of them. Like
//! [`super::reconcile`] it is pure: no I/O, no clock (`now` is an input), no hidden state, so
//! calling it again on an unchanged [`TaskRunView`] returns the same update.
//!
//! # Order of a pass (§4.1)
//!
//! 1. Already done (previous condition not `Unknown`) → `None`: nothing changes.
//! 2. `spec.status: TaskRunCancelled` → `False/TaskRunCancelled`, never retried.
//! 3. `TaskRunPending` → `Unknown/TaskRunPending`, no start time, timeout clock not running.
//! 4. The attempt's timeout elapsed → `False/TaskRunTimeout`.
//! 5. The pod was evicted → `False/PodEvicted` with the pod's message (§4.7 reason 1); steps
//!    still running or waiting are ended with that reason, like a cancel or timeout.
//! 6. The pod's containers → §4.7: running, pending, succeeded or failed (reason by §4.7 order,
//!    `FailureIgnored` when the PipelineTask has `onError: continue`).
//! 7. A `False` outcome other than a cancel with attempts left → `Unknown/ToBeRetried` and a
//!    [`TaskRunAction::Retry`] carrying the archived attempt.
//!
//! # Invariants
//!
//! - `completion_time` is `Some(now)` exactly when the returned condition is `True`/`False`.
//! - A cancelled TaskRun is never retried; every other failure is, while attempts remain.
//! - Cancel, timeout and eviction mark every running or waiting step terminated with the TaskRun's
//!   reason (§4.6, last row); steps that already terminated keep their own state.
//! - A sidecar never makes a TaskRun fail on its own unless the pod phase is `Failed`; it only
//!   picks the failure reason (§4.9).
//! - `steps` are returned in the order observed, which the caller keeps as `spec.steps` order.
//! - No panics.
//!
//! # Not yet
//!
//! - Init containers and native sidecars (§4.7 reasons 2–5), the pod-condition and
//!   pod-message fallbacks of the pending and failure messages.
//! - §4.1 step 5 (`TaskRunImagePullFailed`, `CreateContainerConfigError`,
//!   `PodCreationFailed`) and their grace periods; `ExceededNodeResources`,
//!   `ExceededResourceQuota`, `PullImageFailed`.
//! - Results and `terminated.message` (the non-internal termination-message entries), the
//!   4096-byte limit, `imageID`, container-name truncation to 63 characters.
//! - Stopping sidecars once done; `keep-pod-on-cancel` (signal instead of delete).
//! - Per-step `onError` is not an input: as in Tekton, the entrypoint's `ExitCode` marker is
//!   the only evidence of `onError: continue` the status needs.

use super::condition::ConditionStatus;
use super::state::{OnError, Timestamp};
use crate::api::GoDuration;

/// Message of a successful TaskRun.
const SUCCEEDED_MESSAGE: &str = "All Steps have completed executing";
/// Message of a TaskRun whose steps are still running.
const RUNNING_MESSAGE: &str = "Not all Steps in the Task have finished executing";
/// Runtime reason of an OOM-killed container.
const OOM_KILLED: &str = "OOMKilled";

/// The TaskRun condition reasons of §5.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskRunReason {
    /// Unknown: first reconcile, no pod observed yet.
    Started,
    /// Unknown: the pod is pending.
    Pending,
    /// Unknown: steps are running.
    Running,
    /// Unknown: `spec.status: TaskRunPending`.
    TaskRunPending,
    /// Unknown: the attempt failed and another one follows.
    ToBeRetried,
    /// Unknown: the pod does not fit on any node.
    ExceededNodeResources,
    /// Unknown: the namespace quota is exhausted.
    ExceededResourceQuota,
    /// Unknown: an image is being pulled with errors.
    PullImageFailed,
    /// Unknown: the Task reference is being resolved.
    ResolvingTaskRef,
    /// Unknown: a StepAction reference is being resolved.
    ResolvingStepActionRef,
    /// True: every step succeeded (or continued).
    Succeeded,
    /// False: a step exited non-zero.
    StepFailed,
    /// False: a step was OOM-killed.
    StepOOM,
    /// False: a sidecar exited non-zero.
    SidecarFailed,
    /// False: a sidecar was OOM-killed.
    SidecarOOM,
    /// False: an internal init container exited non-zero.
    InitContainerFailed,
    /// False: an internal init container was OOM-killed.
    InitContainerOOM,
    /// False: the pod was evicted.
    PodEvicted,
    /// False: the pod failed for no reason found in its containers.
    Failed,
    /// False: failed, but the PipelineTask has `onError: continue`.
    FailureIgnored,
    /// False: the TaskRun's timeout elapsed.
    TaskRunTimeout,
    /// False: `spec.status: TaskRunCancelled`.
    TaskRunCancelled,
    /// False: an image could not be pulled.
    TaskRunImagePullFailed,
    /// False: a container's configuration is invalid.
    CreateContainerConfigError,
    /// False: the pod or a container could not be created.
    PodCreationFailed,
    /// False: admission rejected the pod.
    PodAdmissionFailed,
    /// False: the TaskRun is invalid.
    TaskRunValidationFailed,
    /// False: the Task is invalid.
    TaskValidationFailed,
    /// False: the Task reference could not be resolved.
    TaskRunResolutionFailed,
    /// False: a parameter value is invalid.
    InvalidParamValue,
    /// False: trusted-resources verification failed.
    ResourceVerificationFailed,
    /// False: results exceed the allowed size.
    TaskRunResultLargerThanAllowedLimit,
    /// False: the sidecars could not be stopped.
    TaskRunStopSidecarFailed,
    /// False: a workspace PVC could not be created.
    CouldntCreateWorkspacePVC,
}

impl TaskRunReason {
    /// Tekton's exact reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskRunReason::Started => "Started",
            TaskRunReason::Pending => "Pending",
            TaskRunReason::Running => "Running",
            TaskRunReason::TaskRunPending => "TaskRunPending",
            TaskRunReason::ToBeRetried => "ToBeRetried",
            TaskRunReason::ExceededNodeResources => "ExceededNodeResources",
            TaskRunReason::ExceededResourceQuota => "ExceededResourceQuota",
            TaskRunReason::PullImageFailed => "PullImageFailed",
            TaskRunReason::ResolvingTaskRef => "ResolvingTaskRef",
            TaskRunReason::ResolvingStepActionRef => "ResolvingStepActionRef",
            TaskRunReason::Succeeded => "Succeeded",
            TaskRunReason::StepFailed => "StepFailed",
            TaskRunReason::StepOOM => "StepOOM",
            TaskRunReason::SidecarFailed => "SidecarFailed",
            TaskRunReason::SidecarOOM => "SidecarOOM",
            TaskRunReason::InitContainerFailed => "InitContainerFailed",
            TaskRunReason::InitContainerOOM => "InitContainerOOM",
            TaskRunReason::PodEvicted => "PodEvicted",
            TaskRunReason::Failed => "Failed",
            TaskRunReason::FailureIgnored => "FailureIgnored",
            TaskRunReason::TaskRunTimeout => "TaskRunTimeout",
            TaskRunReason::TaskRunCancelled => "TaskRunCancelled",
            TaskRunReason::TaskRunImagePullFailed => "TaskRunImagePullFailed",
            TaskRunReason::CreateContainerConfigError => "CreateContainerConfigError",
            TaskRunReason::PodCreationFailed => "PodCreationFailed",
            TaskRunReason::PodAdmissionFailed => "PodAdmissionFailed",
            TaskRunReason::TaskRunValidationFailed => "TaskRunValidationFailed",
            TaskRunReason::TaskValidationFailed => "TaskValidationFailed",
            TaskRunReason::TaskRunResolutionFailed => "TaskRunResolutionFailed",
            TaskRunReason::InvalidParamValue => "InvalidParamValue",
            TaskRunReason::ResourceVerificationFailed => "ResourceVerificationFailed",
            TaskRunReason::TaskRunResultLargerThanAllowedLimit => {
                "TaskRunResultLargerThanAllowedLimit"
            }
            TaskRunReason::TaskRunStopSidecarFailed => "TaskRunStopSidecarFailed",
            TaskRunReason::CouldntCreateWorkspacePVC => "CouldntCreateWorkspacePVC",
        }
    }

    /// True for the in-progress reasons that never prefix a cancel or timeout message (§4.12).
    fn hides_previous_status(self) -> bool {
        matches!(
            self,
            TaskRunReason::Started | TaskRunReason::Running | TaskRunReason::TaskRunPending
        )
    }
}

/// The TaskRun's `Succeeded` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRunCondition {
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// Machine-readable reason.
    pub reason: TaskRunReason,
    /// Human-readable message.
    pub message: String,
}

impl TaskRunCondition {
    /// True once the TaskRun is finished (`status` is not `Unknown`).
    pub fn is_done(&self) -> bool {
        self.status != ConditionStatus::Unknown
    }

    fn new(status: ConditionStatus, reason: TaskRunReason, message: String) -> TaskRunCondition {
        TaskRunCondition {
            status,
            reason,
            message,
        }
    }

    fn failed(reason: TaskRunReason, message: String) -> TaskRunCondition {
        TaskRunCondition::new(ConditionStatus::False, reason, message)
    }
}

/// The TaskRun's `spec.status`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TaskRunSpecStatus {
    /// No request: run normally.
    #[default]
    None,
    /// `TaskRunCancelled`, with `spec.statusMessage` (may be empty).
    Cancelled {
        /// The `statusMessage` appended to the cancel message.
        message: String,
    },
    /// `TaskRunPending`: do not start yet.
    Pending,
}

/// The reason the entrypoint wrote into a step's termination message (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerReason {
    /// The step's `when` was false, or an earlier step failed.
    Skipped,
    /// The step's own timeout elapsed.
    TimeoutExceeded,
    /// The step failed with `onError: continue`.
    Continued,
    /// The step was cancelled in place (`keep-pod-on-cancel`).
    Cancelled,
}

impl MarkerReason {
    /// Tekton's exact `terminationReason` string.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerReason::Skipped => "Skipped",
            MarkerReason::TimeoutExceeded => "TimeoutExceeded",
            MarkerReason::Continued => "Continued",
            MarkerReason::Cancelled => "Cancelled",
        }
    }
}

/// The internal entries of a step's termination message (`StartedAt`, `ExitCode`, `Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TerminationMarkers {
    /// When the step really began, after waiting for the previous one.
    pub started_at: Option<Timestamp>,
    /// The command's real exit code, written only for `onError: continue`.
    pub exit_code: Option<i32>,
    /// The entrypoint's reason, if it wrote one.
    pub reason: Option<MarkerReason>,
}

/// A terminated container as the runtime reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminatedObservation {
    /// The container's own exit code.
    pub exit_code: i32,
    /// The runtime's reason: `Completed`, `Error`, `OOMKilled`, ….
    pub reason: String,
    /// When the container started.
    pub started: Timestamp,
    /// When the container finished.
    pub finished: Timestamp,
    /// The parsed termination message; `None` when the container wrote none.
    pub markers: Option<TerminationMarkers>,
}

impl TerminatedObservation {
    fn is_oom(&self) -> bool {
        self.reason == OOM_KILLED
    }

    fn timed_out(&self) -> bool {
        self.markers
            .and_then(|m| m.reason)
            .is_some_and(|r| r == MarkerReason::TimeoutExceeded)
    }
}

/// One container's state as the executor observed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerObservation {
    /// Not started yet.
    Waiting {
        /// The runtime's reason (`PodInitializing`, `ImagePullBackOff`, …).
        reason: String,
        /// The runtime's message, possibly empty.
        message: String,
    },
    /// Running since `started`.
    Running {
        /// When the container started.
        started: Timestamp,
    },
    /// Finished.
    Terminated(TerminatedObservation),
}

impl ContainerObservation {
    fn terminated(&self) -> Option<&TerminatedObservation> {
        match self {
            ContainerObservation::Terminated(t) => Some(t),
            _ => None,
        }
    }
}

/// A step container's observation; `name` is the step name, without `step-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepObservation {
    /// The step name (`build`, `unnamed-0`).
    pub name: String,
    /// Its container's state.
    pub state: ContainerObservation,
}

/// A sidecar container's observation; `name` is the sidecar name, without `sidecar-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarObservation {
    /// The sidecar name.
    pub name: String,
    /// Its container's state.
    pub state: ContainerObservation,
}

/// The pod's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    /// Scheduled or pulling; no step has run yet.
    Pending,
    /// At least one container runs.
    Running,
    /// Every container exited 0.
    Succeeded,
    /// Every container terminated and one failed.
    Failed,
}

/// The current attempt's pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodObservation {
    /// The pod's name (`<run>-pod`, `<run>-pod-retry<N>`).
    pub name: String,
    /// The pod's phase.
    pub phase: PodPhase,
    /// Set when the pod was evicted (`status.reason: Evicted`, e.g. its node or container
    /// engine went away): the pod's `status.message`.
    pub evicted: Option<String>,
}

/// Everything one pass reads about a TaskRun.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskRunView {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.creationTimestamp`: the start of steps that never ran, when failed.
    pub created: Timestamp,
    /// `status.startTime` of the current attempt; `None` before the first pass.
    pub start: Option<Timestamp>,
    /// `spec.timeout`, defaulted by the caller; `None` or zero means no limit.
    pub timeout: Option<GoDuration>,
    /// `spec.status` and `spec.statusMessage`.
    pub spec_status: TaskRunSpecStatus,
    /// The condition recorded by the previous pass, if any.
    pub previous: Option<TaskRunCondition>,
    /// `spec.retries`.
    pub retries: u32,
    /// `len(status.retriesStatus)`: attempts already archived.
    pub previous_attempts: u32,
    /// The PipelineTask's `onError` (`pipeline.tekton.dev/pipeline-task-on-error`).
    pub pipeline_task_on_error: OnError,
    /// The current attempt's pod; `None` until it exists.
    pub pod: Option<PodObservation>,
    /// Step containers, in `spec.steps` order.
    pub steps: Vec<StepObservation>,
    /// Sidecar containers, in `spec.sidecars` order.
    pub sidecars: Vec<SidecarObservation>,
}

/// A terminated step in `status.steps` (the fields this module decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepTerminated {
    /// The step's exit code (the real one for `onError: continue`).
    pub exit_code: i32,
    /// The container's reason, or the TaskRun's reason when the controller ended it.
    pub reason: String,
    /// Only set when the controller ended the step; results are not modelled yet.
    pub message: String,
    /// When the step began (the entrypoint's `StartedAt` when written).
    pub started_at: Timestamp,
    /// When the step finished.
    pub finished_at: Timestamp,
}

/// One step's container state in `status.steps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepContainerState {
    /// Not started yet.
    Waiting {
        /// The runtime's reason.
        reason: String,
        /// The runtime's message.
        message: String,
    },
    /// Running since `started_at`.
    Running {
        /// When the container started.
        started_at: Timestamp,
    },
    /// Finished.
    Terminated(StepTerminated),
}

/// One entry of `status.steps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepState {
    /// The step name.
    pub name: String,
    /// The container name, `step-<name>`.
    pub container: String,
    /// The container state with Tekton's overrides (§4.6).
    pub state: StepContainerState,
    /// `terminationReason`; empty while not terminated or when no termination message exists.
    pub termination_reason: String,
}

/// A failed attempt as archived in `status.retriesStatus` (its own `retriesStatus` empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedAttempt {
    /// The attempt's `False` condition.
    pub condition: TaskRunCondition,
    /// The attempt's start.
    pub start_time: Timestamp,
    /// When the attempt failed.
    pub completion_time: Timestamp,
    /// The attempt's pod, if any.
    pub pod_name: Option<String>,
    /// The attempt's step states.
    pub steps: Vec<StepState>,
}

/// What the executor does after recording the update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskRunAction {
    /// Nothing.
    None,
    /// Delete the current pod (cancel or timeout).
    KillPod,
    /// Archive the attempt, clear startTime, completionTime, podName and results, and start
    /// attempt `attempt` with pod `<run>-pod-retry<attempt>`.
    Retry {
        /// The retry number: attempts archived once this one is (`context.task.retry-count`).
        attempt: u32,
        /// True when the failed attempt's pod is still running (timeout) and must be deleted.
        kill_pod: bool,
        /// The status appended to `status.retriesStatus`.
        archived: Box<ArchivedAttempt>,
    },
}

/// The result of one pass over a TaskRun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRunStatusUpdate {
    /// The new `Succeeded` condition.
    pub condition: TaskRunCondition,
    /// `Some(now)` on the first non-pending pass: record it as `status.startTime`.
    pub start_time: Option<Timestamp>,
    /// `Some(now)` when the condition became `True`/`False` on this pass.
    pub completion_time: Option<Timestamp>,
    /// `status.steps`, in observation order.
    pub steps: Vec<StepState>,
    /// What to do next.
    pub action: TaskRunAction,
}

/// Decides one pass over a TaskRun at time `now`; `None` when it is already done (§4.1).
pub fn evaluate(view: &TaskRunView, now: Timestamp) -> Option<TaskRunStatusUpdate> {
    if view
        .previous
        .as_ref()
        .is_some_and(TaskRunCondition::is_done)
    {
        return None;
    }
    if let TaskRunSpecStatus::Cancelled { message } = &view.spec_status {
        let text = format!("TaskRun \"{}\" was cancelled. {message}", view.name);
        return Some(controller_failure(
            view,
            now,
            TaskRunReason::TaskRunCancelled,
            text,
        ));
    }
    if view.spec_status == TaskRunSpecStatus::Pending {
        return Some(TaskRunStatusUpdate {
            condition: TaskRunCondition::new(
                ConditionStatus::Unknown,
                TaskRunReason::TaskRunPending,
                format!("TaskRun \"{}\" is pending", view.name),
            ),
            start_time: None,
            completion_time: None,
            steps: view.steps.iter().map(step_state).collect(),
            action: TaskRunAction::None,
        });
    }
    let start_time = view.start.is_none().then_some(now);
    let start = view.start.unwrap_or(now);
    if let Some(limit) = view.timeout.filter(|&t| start.exceeded(t, now)) {
        let text = format!(
            "TaskRun \"{}\" failed to finish within \"{limit}\"",
            view.name
        );
        let update = controller_failure(view, now, TaskRunReason::TaskRunTimeout, text);
        return Some(with_start(retry_if_possible(view, update, now), start_time));
    }
    if let Some(message) = view.pod.as_ref().and_then(|p| p.evicted.clone()) {
        let mut update = controller_failure(view, now, TaskRunReason::PodEvicted, message);
        // An evicted pod is already gone: nothing is left to kill.
        update.action = TaskRunAction::None;
        return Some(with_start(retry_if_possible(view, update, now), start_time));
    }
    let steps: Vec<StepState> = view.steps.iter().map(step_state).collect();
    let condition = pod_condition(view);
    let completion_time = condition.is_done().then_some(now);
    let update = TaskRunStatusUpdate {
        condition,
        start_time: None,
        completion_time,
        steps,
        action: TaskRunAction::None,
    };
    Some(with_start(retry_if_possible(view, update, now), start_time))
}

/// Records the first pass's start, unless the attempt is already being retried (which clears it).
fn with_start(
    mut update: TaskRunStatusUpdate,
    start_time: Option<Timestamp>,
) -> TaskRunStatusUpdate {
    if !matches!(update.action, TaskRunAction::Retry { .. }) {
        update.start_time = start_time;
    }
    update
}

/// The container name of step `name` (`unnamed-<i>` for an unnamed step), as Tekton makes it.
pub fn step_container(name: &str) -> String {
    restrict_length(&format!("step-{name}"))
}

/// The container name of sidecar `name`, as Tekton makes it: an unnamed sidecar's container
/// is `sidecar` (Tekton does not number sidecars; the trailing `-` is trimmed).
pub fn sidecar_container(name: &str) -> String {
    restrict_length(&format!("sidecar-{name}"))
}

/// True when Tekton reports the container in `status.sidecars`: only containers named
/// `sidecar-…` are, so an unnamed sidecar runs but is not listed.
pub fn is_listed_sidecar(container: &str) -> bool {
    container.starts_with("sidecar-")
}

/// Tekton's `RestrictLength`: at most 63 characters, no trailing non-alphanumeric.
fn restrict_length(name: &str) -> String {
    let mut name: String = name.chars().take(63).collect();
    while name.ends_with(|c: char| !c.is_ascii_alphanumeric()) {
        name.pop();
    }
    name
}

/// A step's state with Tekton's overrides from the termination markers (§4.6).
pub fn step_state(step: &StepObservation) -> StepState {
    let (state, termination_reason) = match &step.state {
        ContainerObservation::Waiting { reason, message } => (
            StepContainerState::Waiting {
                reason: reason.clone(),
                message: message.clone(),
            },
            String::new(),
        ),
        ContainerObservation::Running { started } => (
            StepContainerState::Running {
                started_at: *started,
            },
            String::new(),
        ),
        ContainerObservation::Terminated(t) => (
            StepContainerState::Terminated(step_terminated(t)),
            termination_reason(t),
        ),
    };
    StepState {
        name: step.name.clone(),
        container: step_container(&step.name),
        state,
        termination_reason,
    }
}

fn step_terminated(t: &TerminatedObservation) -> StepTerminated {
    let markers = t.markers.unwrap_or_default();
    StepTerminated {
        exit_code: markers.exit_code.unwrap_or(t.exit_code),
        reason: t.reason.clone(),
        message: String::new(),
        started_at: markers.started_at.unwrap_or(t.started),
        finished_at: t.finished,
    }
}

/// Tekton's `getTerminationReason`: the entrypoint's reason, else `Continued` when it wrote an
/// exit code, else the runtime's; empty without a termination message.
fn termination_reason(t: &TerminatedObservation) -> String {
    let Some(markers) = t.markers else {
        return String::new();
    };
    match (markers.reason, markers.exit_code) {
        (Some(reason), _) => reason.as_str().to_owned(),
        (None, Some(_)) => MarkerReason::Continued.as_str().to_owned(),
        (None, None) => t.reason.clone(),
    }
}

/// A cancel or timeout: every unfinished step is ended with the TaskRun's reason (§4.6, §4.12).
fn controller_failure(
    view: &TaskRunView,
    now: Timestamp,
    reason: TaskRunReason,
    message: String,
) -> TaskRunStatusUpdate {
    let pod = view.pod.as_ref().map_or("", |p| p.name.as_str());
    let steps = view
        .steps
        .iter()
        .map(|step| {
            let mut state = step_state(step);
            let started_at = match &state.state {
                StepContainerState::Terminated(_) => return state,
                StepContainerState::Running { started_at } => *started_at,
                StepContainerState::Waiting { .. } => view.created,
            };
            state.state = StepContainerState::Terminated(StepTerminated {
                exit_code: 1,
                reason: reason.as_str().to_owned(),
                message: format!("Step {} terminated as pod {pod} is terminated", step.name),
                started_at,
                finished_at: now,
            });
            state.termination_reason = reason.as_str().to_owned();
            state
        })
        .collect();
    TaskRunStatusUpdate {
        condition: TaskRunCondition::failed(reason, with_previous_status(view, message)),
        start_time: None,
        completion_time: Some(now),
        steps,
        action: if view.pod.is_some() {
            TaskRunAction::KillPod
        } else {
            TaskRunAction::None
        },
    }
}

/// Appends `\nPrevious status: [<reason>] <msg>` when the previous condition says something (§4.12).
fn with_previous_status(view: &TaskRunView, message: String) -> String {
    match &view.previous {
        Some(prev) if !prev.message.is_empty() && !prev.reason.hides_previous_status() => {
            format!(
                "{message}\nPrevious status: [{}] {}",
                prev.reason.as_str(),
                prev.message
            )
        }
        _ => message,
    }
}

/// The condition the pod's containers imply (§4.7).
fn pod_condition(view: &TaskRunView) -> TaskRunCondition {
    let Some(pod) = &view.pod else {
        return TaskRunCondition::new(
            ConditionStatus::Unknown,
            TaskRunReason::Started,
            String::new(),
        );
    };
    let step_terms = || view.steps.iter().filter_map(|s| s.state.terminated());
    let any_step_oom = step_terms().any(TerminatedObservation::is_oom);
    let all_terminated = !view.steps.is_empty() && step_terms().count() == view.steps.len();
    let complete = all_terminated
        || any_step_oom
        || matches!(pod.phase, PodPhase::Succeeded | PodPhase::Failed);
    if !complete {
        return in_progress(view, pod.phase);
    }
    let failed =
        pod.phase == PodPhase::Failed || any_step_oom || step_terms().any(|t| t.exit_code != 0);
    if !failed {
        return TaskRunCondition::new(
            ConditionStatus::True,
            TaskRunReason::Succeeded,
            SUCCEEDED_MESSAGE.to_owned(),
        );
    }
    let reason = match view.pipeline_task_on_error {
        OnError::Continue => TaskRunReason::FailureIgnored,
        OnError::StopAndFail => failure_reason(view),
    };
    TaskRunCondition::failed(reason, failure_message(view))
}

/// `Unknown/Running`, or `Unknown/Pending` with the first waiting step's message.
fn in_progress(view: &TaskRunView, phase: PodPhase) -> TaskRunCondition {
    if phase != PodPhase::Pending {
        return TaskRunCondition::new(
            ConditionStatus::Unknown,
            TaskRunReason::Running,
            RUNNING_MESSAGE.to_owned(),
        );
    }
    let message = view
        .steps
        .iter()
        .find_map(|s| match &s.state {
            // Tekton quotes both with Go's %q; Rust's Debug escapes quotes and control
            // characters the same way.
            ContainerObservation::Waiting { message, .. } if !message.is_empty() => Some(format!(
                "build step {:?} is pending with reason {message:?}",
                step_container(&s.name)
            )),
            _ => None,
        })
        .unwrap_or_else(|| "Pending".to_owned());
    TaskRunCondition::new(ConditionStatus::Unknown, TaskRunReason::Pending, message)
}

/// The first matching reason of §4.7 among the containers this module observes.
///
/// When a step failed, a sidecar counts only if it ended before the last step did: one that
/// ended with or after them was stopped because they had (by the executor, or by the kubelet,
/// which stops native sidecars once the other containers are done, exit 143), and a sidecar
/// stopped after completion does not change the result (§4.9). Without a failed step the
/// Pod's `Failed` phase can only come from a sidecar, which then counts whenever it ended.
fn failure_reason(view: &TaskRunView) -> TaskRunReason {
    let steps = || view.steps.iter().filter_map(|s| s.state.terminated());
    let step_failed = steps().any(|t| t.exit_code != 0 || t.is_oom());
    let steps_ended = steps().map(|t| t.finished).max();
    let sidecars = || {
        view.sidecars
            .iter()
            .filter_map(|s| s.state.terminated())
            .filter(move |t| !step_failed || steps_ended.is_some_and(|end| t.finished < end))
    };
    if sidecars().any(TerminatedObservation::is_oom) {
        TaskRunReason::SidecarOOM
    } else if steps().any(TerminatedObservation::is_oom) {
        TaskRunReason::StepOOM
    } else if sidecars().any(|t| t.exit_code != 0) {
        TaskRunReason::SidecarFailed
    } else if steps().any(|t| t.exit_code != 0) {
        TaskRunReason::StepFailed
    } else {
        TaskRunReason::Failed
    }
}

/// The first failed container's message, steps before sidecars as in the pod spec (§4.7).
fn failure_message(view: &TaskRunView) -> String {
    let containers = view
        .steps
        .iter()
        .map(|s| (step_container(&s.name), &s.state))
        .chain(
            view.sidecars
                .iter()
                .map(|s| (sidecar_container(&s.name), &s.state)),
        );
    for (container, state) in containers {
        let Some(t) = state.terminated() else {
            continue;
        };
        if t.timed_out() {
            return format!(
                "\"{container}\" exited because the step exceeded the specified timeout limit"
            );
        }
        if t.exit_code != 0 {
            let suffix = if t.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", t.reason)
            };
            return format!("\"{container}\" exited with code {}{suffix}", t.exit_code);
        }
    }
    let oom = view
        .steps
        .iter()
        .filter_map(|s| s.state.terminated())
        .any(TerminatedObservation::is_oom);
    if oom {
        OOM_KILLED.to_owned()
    } else {
        "build failed for unspecified reasons.".to_owned()
    }
}

/// Turns a `False` update into `Unknown/ToBeRetried` + [`TaskRunAction::Retry`] while attempts
/// remain; cancellations are never retried (§4.12).
fn retry_if_possible(
    view: &TaskRunView,
    update: TaskRunStatusUpdate,
    now: Timestamp,
) -> TaskRunStatusUpdate {
    let cancelled = matches!(view.spec_status, TaskRunSpecStatus::Cancelled { .. });
    if update.condition.status != ConditionStatus::False
        || cancelled
        || view.previous_attempts >= view.retries
    {
        return update;
    }
    let archived = ArchivedAttempt {
        condition: update.condition.clone(),
        start_time: view.start.unwrap_or(now),
        completion_time: now,
        pod_name: view.pod.as_ref().map(|p| p.name.clone()),
        steps: update.steps.clone(),
    };
    TaskRunStatusUpdate {
        condition: TaskRunCondition::new(
            ConditionStatus::Unknown,
            TaskRunReason::ToBeRetried,
            update.condition.message,
        ),
        start_time: None,
        completion_time: None,
        steps: update.steps,
        action: TaskRunAction::Retry {
            attempt: view.previous_attempts.saturating_add(1),
            kill_pod: update.action == TaskRunAction::KillPod,
            archived: Box::new(archived),
        },
    }
}

#[cfg(test)]
mod tests {
    //! One test per rule, asserting Tekton's exact reason and message strings.

    use super::*;

    const T0: Timestamp = Timestamp(1_700_000_000_000);
    const MINUTE_MS: u64 = 60_000;

    fn at(minutes: u64) -> Timestamp {
        Timestamp(T0.0 + minutes * MINUTE_MS)
    }

    #[test]
    fn container_names_follow_tekton_restrict_length() {
        assert_eq!(step_container("unnamed-0"), "step-unnamed-0");
        assert_eq!(sidecar_container("db"), "sidecar-db");
        // An unnamed sidecar: "sidecar-" loses its trailing dash and is not listed.
        assert_eq!(sidecar_container(""), "sidecar");
        assert!(!is_listed_sidecar(&sidecar_container("")));
        assert!(is_listed_sidecar("sidecar-db"));
        let long = "a".repeat(58) + "-b";
        assert_eq!(step_container(&long), format!("step-{}", "a".repeat(58)));
    }

    fn markers() -> TerminationMarkers {
        TerminationMarkers {
            started_at: Some(at(1)),
            ..TerminationMarkers::default()
        }
    }

    fn terminated(
        name: &str,
        exit_code: i32,
        reason: &str,
        m: TerminationMarkers,
    ) -> StepObservation {
        StepObservation {
            name: name.to_owned(),
            state: ContainerObservation::Terminated(TerminatedObservation {
                exit_code,
                reason: reason.to_owned(),
                started: T0,
                finished: at(2),
                markers: Some(m),
            }),
        }
    }

    fn ok(name: &str) -> StepObservation {
        terminated(name, 0, "Completed", markers())
    }

    fn failed(name: &str) -> StepObservation {
        terminated(name, 1, "Error", markers())
    }

    fn skipped(name: &str) -> StepObservation {
        let m = TerminationMarkers {
            reason: Some(MarkerReason::Skipped),
            ..markers()
        };
        terminated(name, 1, "Error", m)
    }

    fn running(name: &str) -> StepObservation {
        StepObservation {
            name: name.to_owned(),
            state: ContainerObservation::Running { started: at(1) },
        }
    }

    fn waiting(name: &str, message: &str) -> StepObservation {
        StepObservation {
            name: name.to_owned(),
            state: ContainerObservation::Waiting {
                reason: "PodInitializing".to_owned(),
                message: message.to_owned(),
            },
        }
    }

    fn sidecar(step: StepObservation) -> SidecarObservation {
        SidecarObservation {
            name: step.name,
            state: step.state,
        }
    }

    fn view(steps: Vec<StepObservation>) -> TaskRunView {
        TaskRunView {
            name: "tr".to_owned(),
            created: Timestamp(T0.0 - MINUTE_MS),
            start: Some(T0),
            timeout: Some(GoDuration::minutes(60)),
            pod: Some(PodObservation {
                name: "tr-pod".to_owned(),
                phase: PodPhase::Running,
                evicted: None,
            }),
            steps,
            ..TaskRunView::default()
        }
    }

    fn eval(view: &TaskRunView) -> TaskRunStatusUpdate {
        evaluate(view, at(5)).expect("an unfinished TaskRun yields an update")
    }

    fn cond(update: &TaskRunStatusUpdate) -> (&'static str, &'static str, &str) {
        let c = &update.condition;
        (c.status.as_str(), c.reason.as_str(), c.message.as_str())
    }

    fn term(state: &StepState) -> (i32, &str, &str) {
        match &state.state {
            StepContainerState::Terminated(t) => (
                t.exit_code,
                t.reason.as_str(),
                state.termination_reason.as_str(),
            ),
            other => panic!("step {} not terminated: {other:?}", state.name),
        }
    }

    #[test]
    fn all_steps_succeeded_is_true_succeeded() {
        let u = eval(&view(vec![ok("a"), ok("b")]));
        assert_eq!(
            cond(&u),
            ("True", "Succeeded", "All Steps have completed executing")
        );
        assert_eq!(u.completion_time, Some(at(5)));
        assert_eq!(u.action, TaskRunAction::None);
        assert_eq!(u.steps[0].container, "step-a");
        assert_eq!(term(&u.steps[0]), (0, "Completed", "Completed"));
        assert!(matches!(
            &u.steps[0].state,
            StepContainerState::Terminated(t) if t.started_at == at(1) && t.finished_at == at(2)
        ));
    }

    #[test]
    fn stop_and_fail_is_step_failed_and_later_steps_are_skipped() {
        let u = eval(&view(vec![ok("a"), failed("build"), skipped("c")]));
        assert_eq!(
            cond(&u),
            (
                "False",
                "StepFailed",
                "\"step-build\" exited with code 1: Error"
            )
        );
        assert_eq!(term(&u.steps[1]), (1, "Error", "Error"));
        assert_eq!(term(&u.steps[2]), (1, "Error", "Skipped"));
        assert_eq!(u.completion_time, Some(at(5)));
    }

    #[test]
    fn step_skipped_by_when_is_completed_skipped() {
        let m = TerminationMarkers {
            reason: Some(MarkerReason::Skipped),
            ..markers()
        };
        let u = eval(&view(vec![terminated("a", 0, "Completed", m), ok("b")]));
        assert_eq!(cond(&u).1, "Succeeded");
        assert_eq!(term(&u.steps[0]), (0, "Completed", "Skipped"));
    }

    #[test]
    fn on_error_continue_keeps_real_exit_code_and_succeeds() {
        let m = TerminationMarkers {
            exit_code: Some(3),
            ..markers()
        };
        let u = eval(&view(vec![terminated("lint", 0, "Completed", m), ok("b")]));
        assert_eq!(
            cond(&u),
            ("True", "Succeeded", "All Steps have completed executing")
        );
        assert_eq!(term(&u.steps[0]), (3, "Completed", "Continued"));
    }

    #[test]
    fn step_timeout_is_timeout_exceeded_with_its_message() {
        let m = TerminationMarkers {
            reason: Some(MarkerReason::TimeoutExceeded),
            ..markers()
        };
        let u = eval(&view(vec![terminated("x", 1, "Error", m), skipped("y")]));
        assert_eq!(
            cond(&u),
            (
                "False",
                "StepFailed",
                "\"step-x\" exited because the step exceeded the specified timeout limit"
            )
        );
        assert_eq!(term(&u.steps[0]), (1, "Error", "TimeoutExceeded"));
    }

    #[test]
    fn task_run_timeout_fails_and_terminates_unfinished_steps() {
        let mut v = view(vec![ok("a"), running("b"), waiting("c", "")]);
        v.timeout = Some(GoDuration::minutes(1));
        let u = eval(&v);
        assert_eq!(
            cond(&u),
            (
                "False",
                "TaskRunTimeout",
                "TaskRun \"tr\" failed to finish within \"1m0s\""
            )
        );
        assert_eq!(u.completion_time, Some(at(5)));
        assert_eq!(u.action, TaskRunAction::KillPod);
        assert_eq!(term(&u.steps[0]), (0, "Completed", "Completed"));
        assert_eq!(term(&u.steps[1]), (1, "TaskRunTimeout", "TaskRunTimeout"));
        assert_eq!(term(&u.steps[2]), (1, "TaskRunTimeout", "TaskRunTimeout"));
        let StepContainerState::Terminated(b) = &u.steps[1].state else {
            panic!("b not terminated");
        };
        assert_eq!(b.message, "Step b terminated as pod tr-pod is terminated");
        assert_eq!((b.started_at, b.finished_at), (at(1), at(5)));
        let StepContainerState::Terminated(c) = &u.steps[2].state else {
            panic!("c not terminated");
        };
        assert_eq!(c.started_at, v.created);
    }

    #[test]
    fn evicted_pod_fails_as_pod_evicted_keeping_finished_steps() {
        let mut v = view(vec![ok("a"), running("b"), waiting("c", "")]);
        if let Some(pod) = v.pod.as_mut() {
            pod.evicted = Some("the container engine stopped during the run: gone".to_owned());
        }
        let u = eval(&v);
        assert_eq!(
            cond(&u),
            (
                "False",
                "PodEvicted",
                "the container engine stopped during the run: gone"
            )
        );
        assert_eq!(u.completion_time, Some(at(5)));
        assert_eq!(u.action, TaskRunAction::None);
        assert_eq!(term(&u.steps[0]), (0, "Completed", "Completed"));
        // The interrupted step is not its own failure: it carries the TaskRun's reason.
        assert_eq!(term(&u.steps[1]), (1, "PodEvicted", "PodEvicted"));
        assert_eq!(term(&u.steps[2]), (1, "PodEvicted", "PodEvicted"));
    }

    #[test]
    fn timeout_wins_over_eviction() {
        let mut v = view(vec![running("a")]);
        v.timeout = Some(GoDuration::minutes(1));
        if let Some(pod) = v.pod.as_mut() {
            pod.evicted = Some("gone".to_owned());
        }
        assert_eq!(cond(&eval(&v)).1, "TaskRunTimeout");
    }

    #[test]
    fn zero_timeout_never_times_out() {
        let mut v = view(vec![running("a")]);
        v.timeout = Some(GoDuration(0));
        assert_eq!(cond(&eval(&v)).1, "Running");
    }

    #[test]
    fn cancel_fails_with_status_message_and_is_never_retried() {
        let mut v = view(vec![running("a"), waiting("b", "")]);
        v.spec_status = TaskRunSpecStatus::Cancelled {
            message: "TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
                .to_owned(),
        };
        v.retries = 3;
        let u = eval(&v);
        assert_eq!(
            cond(&u),
            (
                "False",
                "TaskRunCancelled",
                "TaskRun \"tr\" was cancelled. TaskRun cancelled as the PipelineRun it belongs to has been cancelled."
            )
        );
        assert_eq!(u.action, TaskRunAction::KillPod);
        assert_eq!(
            term(&u.steps[0]),
            (1, "TaskRunCancelled", "TaskRunCancelled")
        );
    }

    #[test]
    fn previous_status_suffix_only_for_informative_reasons() {
        let mut v = view(vec![running("a")]);
        v.spec_status = TaskRunSpecStatus::Cancelled {
            message: "stop".to_owned(),
        };
        v.previous = Some(TaskRunCondition::new(
            ConditionStatus::Unknown,
            TaskRunReason::Pending,
            "Pending".to_owned(),
        ));
        assert_eq!(
            cond(&eval(&v)).2,
            "TaskRun \"tr\" was cancelled. stop\nPrevious status: [Pending] Pending"
        );
        for reason in [
            TaskRunReason::Started,
            TaskRunReason::Running,
            TaskRunReason::TaskRunPending,
        ] {
            v.previous = Some(TaskRunCondition::new(
                ConditionStatus::Unknown,
                reason,
                "something".to_owned(),
            ));
            assert_eq!(cond(&eval(&v)).2, "TaskRun \"tr\" was cancelled. stop");
        }
        v.previous = Some(TaskRunCondition::new(
            ConditionStatus::Unknown,
            TaskRunReason::ToBeRetried,
            String::new(),
        ));
        assert_eq!(cond(&eval(&v)).2, "TaskRun \"tr\" was cancelled. stop");
    }

    #[test]
    fn failure_with_attempts_left_is_retried() {
        let mut v = view(vec![failed("build")]);
        v.retries = 2;
        v.previous_attempts = 1;
        let u = eval(&v);
        assert_eq!(
            cond(&u),
            (
                "Unknown",
                "ToBeRetried",
                "\"step-build\" exited with code 1: Error"
            )
        );
        assert_eq!(u.completion_time, None);
        let TaskRunAction::Retry {
            attempt,
            kill_pod,
            archived,
        } = &u.action
        else {
            panic!("expected a retry, got {:?}", u.action);
        };
        assert_eq!((*attempt, *kill_pod), (2, false));
        assert_eq!(archived.condition.reason, TaskRunReason::StepFailed);
        assert_eq!(archived.condition.status, ConditionStatus::False);
        assert_eq!(archived.pod_name.as_deref(), Some("tr-pod"));
        assert_eq!((archived.start_time, archived.completion_time), (T0, at(5)));
    }

    #[test]
    fn last_attempt_failure_is_final() {
        let mut v = view(vec![failed("build")]);
        v.retries = 2;
        v.previous_attempts = 2;
        let u = eval(&v);
        assert_eq!(cond(&u).1, "StepFailed");
        assert_eq!(u.action, TaskRunAction::None);
    }

    #[test]
    fn task_run_timeout_is_retried_and_kills_the_pod() {
        let mut v = view(vec![running("a")]);
        v.timeout = Some(GoDuration::minutes(1));
        v.retries = 1;
        let u = eval(&v);
        assert_eq!(
            cond(&u),
            (
                "Unknown",
                "ToBeRetried",
                "TaskRun \"tr\" failed to finish within \"1m0s\""
            )
        );
        assert!(matches!(
            &u.action,
            TaskRunAction::Retry { attempt: 1, kill_pod: true, archived }
                if archived.condition.reason == TaskRunReason::TaskRunTimeout
        ));
    }

    #[test]
    fn pipeline_task_on_error_continue_is_failure_ignored() {
        let mut v = view(vec![failed("build")]);
        v.pipeline_task_on_error = OnError::Continue;
        assert_eq!(
            cond(&eval(&v)),
            (
                "False",
                "FailureIgnored",
                "\"step-build\" exited with code 1: Error"
            )
        );
    }

    #[test]
    fn oom_is_step_oom_even_before_later_steps_finish() {
        let u = eval(&view(vec![
            terminated("a", 137, "OOMKilled", markers()),
            waiting("b", ""),
        ]));
        assert_eq!(
            cond(&u),
            (
                "False",
                "StepOOM",
                "\"step-a\" exited with code 137: OOMKilled"
            )
        );
        assert_eq!(term(&u.steps[0]), (137, "OOMKilled", "OOMKilled"));
    }

    #[test]
    fn oom_without_termination_message_has_empty_termination_reason() {
        let mut step = terminated("a", 137, "OOMKilled", markers());
        if let ContainerObservation::Terminated(t) = &mut step.state {
            t.markers = None;
        }
        let u = eval(&view(vec![step]));
        assert_eq!(term(&u.steps[0]), (137, "OOMKilled", ""));
    }

    #[test]
    fn sidecar_failure_alone_does_not_fail_a_running_pod() {
        let mut v = view(vec![ok("a")]);
        v.sidecars = vec![sidecar(failed("db"))];
        assert_eq!(cond(&eval(&v)).1, "Succeeded");
        v.steps = vec![running("a")];
        assert_eq!(
            cond(&eval(&v)),
            (
                "Unknown",
                "Running",
                "Not all Steps in the Task have finished executing"
            )
        );
    }

    /// A sidecar stopped as the steps ended, e.g. a native sidecar the kubelet terminated
    /// (exit 143) once the failed step's container was done.
    fn stopped_sidecar(name: &str, finished: Timestamp) -> SidecarObservation {
        SidecarObservation {
            name: name.to_owned(),
            state: ContainerObservation::Terminated(TerminatedObservation {
                exit_code: 143,
                reason: "Error".to_owned(),
                started: T0,
                finished,
                markers: None,
            }),
        }
    }

    #[test]
    fn a_sidecar_stopped_after_the_steps_ended_leaves_a_step_failure_step_failed() {
        let mut v = view(vec![ok("clone"), failed("push"), skipped("check")]);
        for finished in [at(2), at(3)] {
            v.sidecars = vec![stopped_sidecar("server", finished)];
            assert_eq!(
                cond(&eval(&v)),
                (
                    "False",
                    "StepFailed",
                    "\"step-push\" exited with code 1: Error"
                )
            );
        }
        // Stopped before the steps ended, it failed while they ran.
        v.sidecars = vec![stopped_sidecar("server", at(1))];
        assert_eq!(cond(&eval(&v)).1, "SidecarFailed");
    }

    #[test]
    fn sidecar_failure_picks_the_reason_once_the_run_failed() {
        let mut v = view(vec![failed("build")]);
        // It failed while the step ran.
        let mut db = failed("db");
        if let ContainerObservation::Terminated(t) = &mut db.state {
            t.finished = at(1);
        }
        v.sidecars = vec![sidecar(db)];
        assert_eq!(
            cond(&eval(&v)),
            (
                "False",
                "SidecarFailed",
                "\"step-build\" exited with code 1: Error"
            )
        );
        v.steps = vec![ok("build")];
        if let Some(pod) = &mut v.pod {
            pod.phase = PodPhase::Failed;
        }
        assert_eq!(
            cond(&eval(&v)),
            (
                "False",
                "SidecarFailed",
                "\"sidecar-db\" exited with code 1: Error"
            )
        );
        v.sidecars = vec![sidecar(terminated("db", 137, "OOMKilled", markers()))];
        assert_eq!(cond(&eval(&v)).1, "SidecarOOM");
    }

    #[test]
    fn pending_spec_status_is_task_run_pending_without_start() {
        let mut v = view(Vec::new());
        v.start = None;
        v.pod = None;
        v.spec_status = TaskRunSpecStatus::Pending;
        let u = eval(&v);
        assert_eq!(
            cond(&u),
            ("Unknown", "TaskRunPending", "TaskRun \"tr\" is pending")
        );
        assert_eq!((u.start_time, u.completion_time), (None, None));
    }

    #[test]
    fn first_pass_records_start_and_is_started() {
        let mut v = view(Vec::new());
        v.start = None;
        v.pod = None;
        let u = eval(&v);
        assert_eq!(cond(&u), ("Unknown", "Started", ""));
        assert_eq!(u.start_time, Some(at(5)));
    }

    #[test]
    fn running_steps_are_unknown_running() {
        let u = eval(&view(vec![ok("a"), running("b"), waiting("c", "")]));
        assert_eq!(
            cond(&u),
            (
                "Unknown",
                "Running",
                "Not all Steps in the Task have finished executing"
            )
        );
        assert_eq!((u.start_time, u.completion_time), (None, None));
        assert_eq!(u.steps[1].termination_reason, "");
    }

    #[test]
    fn pending_pod_reports_the_waiting_step() {
        let mut v = view(vec![
            waiting("a", "Back-off pulling image \"x\""),
            waiting("b", ""),
        ]);
        if let Some(pod) = &mut v.pod {
            pod.phase = PodPhase::Pending;
        }
        assert_eq!(
            cond(&eval(&v)),
            (
                "Unknown",
                "Pending",
                "build step \"step-a\" is pending with reason \"Back-off pulling image \\\"x\\\"\""
            )
        );
    }

    #[test]
    fn done_task_run_is_left_alone() {
        let mut v = view(vec![failed("a")]);
        v.previous = Some(TaskRunCondition::new(
            ConditionStatus::True,
            TaskRunReason::Succeeded,
            SUCCEEDED_MESSAGE.to_owned(),
        ));
        assert_eq!(evaluate(&v, at(5)), None);
    }
}
