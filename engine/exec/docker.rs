//! An [`Executor`] that runs each step of a TaskRun as a container on a local Docker engine.
//!
//! # Why
//!
//! `adze run` needs to execute real steps without a cluster. The Docker Engine API (spoken
//! by Docker and Podman) is the most widely available container runtime on a developer
//! machine; it is driven through `bollard`, so no `docker` binary is needed at run time.
//!
//! # How
//!
//! One TaskRun gets one host temporary directory, bind-mounted into every step container at
//! `/workspace`, `/tekton/results`, `/tekton/home` and `/tekton/scripts` (read-only), the
//! reserved paths of the container contract (spec §4.2). Steps run strictly in order, each
//! in its own container labelled `adze.dev/run=<TaskRun name>`: created, started, waited
//! for, then removed, whatever the outcome. A step with a `script` runs the script written
//! to `/tekton/scripts/<step>` (mode 0755) with its `args` after it; a step with a `command`
//! runs it as given; a step with neither runs the image's entrypoint with its `args`. A
//! relative `workingDir` is taken under `/workspace`.
//!
//! A non-zero exit fails the TaskRun (`StepFailed`) and the later steps do not run. Every
//! file in `/tekton/results` becomes a string result, verbatim, whether the TaskRun
//! succeeded or failed. The temporary directory is removed when the TaskRun ends.
//!
//! Images are never pulled: a step whose image is not present locally fails the TaskRun
//! with `TaskRunImagePullFailed` before any step runs. An unreachable engine is reported as
//! [`ExecError::Unavailable`].
//!
//! # Not yet
//!
//! - Concurrency: [`Executor::start`] runs the whole TaskRun synchronously and queues its
//!   event for the next [`Executor::poll`]; TaskRuns therefore run one after another.
//! - Cancellation of running containers: since a TaskRun has finished when `start`
//!   returns, [`Executor::cancel`] is a no-op.
//! - Sidecars, workspaces, env from secrets (`valueFrom` placeholders are passed as-is),
//!   step and TaskRun timeouts, `onError`, step results and `when`, image pulling, and the
//!   termination-message size limits.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use bollard::Docker;
use tokio::runtime::Runtime;

use crate::api::ParamValue;
use crate::plan::model::StepPlan;
use crate::reconcile::Timestamp;
use crate::run::{ExecError, ExecEvent, ExecOutcome, Executor, TaskRunRequest};

/// The label put on every container adze creates; its value is the TaskRun's name.
pub const RUN_LABEL: &str = "adze.dev/run";

/// The label naming the step a container runs.
pub const STEP_LABEL: &str = "adze.dev/step";

/// How to get a Docker engine running, appended to every "unavailable" message.
const HOW_TO_START: &str =
    "start Docker (e.g. `bash tests/setup-docker.sh`, or `sudo systemctl start docker`) and retry";

/// How often a running container's state is checked.
const WAIT_INTERVAL: Duration = Duration::from_millis(50);

/// Distinguishes the temporary directories of TaskRuns started by this process.
static DIR_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Runs TaskRuns as containers on the local Docker engine; see the module documentation.
pub struct DockerExecutor {
    /// The runtime the async Docker client runs on (the trait is synchronous).
    runtime: Runtime,
    /// The connected client.
    docker: Docker,
    /// Events of finished TaskRuns not yet returned by `poll`.
    finished: Vec<ExecEvent>,
    /// Every TaskRun started, to reject a second start of the same name.
    started: HashSet<String>,
}

impl std::fmt::Debug for DockerExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerExecutor")
            .field("finished", &self.finished)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

/// Why a step could not run to completion.
enum StepError {
    /// The TaskRun fails with this reason and message.
    Fail(String, String),
    /// The engine stopped answering or refused an operation.
    Exec(ExecError),
}

impl DockerExecutor {
    /// Connects to the local engine (`DOCKER_HOST` or the default socket) and checks it answers.
    pub fn new() -> Result<DockerExecutor, ExecError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ExecError::Unavailable(format!("cannot start the async runtime: {e}")))?;
        let docker = runtime.block_on(async {
            let docker = Docker::connect_with_defaults().map_err(unavailable)?;
            let docker = docker.negotiate_version().await.map_err(unavailable)?;
            docker.ping().await.map_err(unavailable)?;
            Ok::<Docker, ExecError>(docker)
        })?;
        Ok(DockerExecutor {
            runtime,
            docker,
            finished: Vec::new(),
            started: HashSet::new(),
        })
    }

    /// Runs one TaskRun to completion and returns its event.
    fn run(&self, request: &TaskRunRequest) -> Result<ExecEvent, ExecError> {
        let dir = RunDir::create(&request.name).map_err(|e| ExecError::Start {
            task_run: request.name.clone(),
            message: format!("cannot create the TaskRun's directory: {e}"),
        })?;
        let outcome = self
            .runtime
            .block_on(run_steps(&self.docker, request, &dir))?;
        let results = read_results(&dir.path.join("results")).map_err(|e| ExecError::Start {
            task_run: request.name.clone(),
            message: format!("cannot read the TaskRun's results: {e}"),
        })?;
        Ok(ExecEvent {
            task_run: request.name.clone(),
            outcome,
            results,
        })
    }
}

impl Executor for DockerExecutor {
    fn start(&mut self, task_run: &TaskRunRequest) -> Result<(), ExecError> {
        if !self.started.insert(task_run.name.clone()) {
            return Err(ExecError::Start {
                task_run: task_run.name.clone(),
                message: "already started".into(),
            });
        }
        let event = self.run(task_run)?;
        self.finished.push(event);
        Ok(())
    }

    fn cancel(&mut self, _name: &str, _message: &str) -> Result<(), ExecError> {
        // Every TaskRun has finished by the time `start` returns: nothing to stop.
        Ok(())
    }

    fn poll(&mut self, _now: Timestamp) -> Vec<ExecEvent> {
        std::mem::take(&mut self.finished)
    }
}

/// The host directory backing a TaskRun's reserved paths; removed on drop.
struct RunDir {
    /// Its root, holding `workspace`, `results`, `home` and `scripts`.
    path: PathBuf,
}

impl RunDir {
    /// Creates the directory and its subdirectories, writable by any container user.
    fn create(task_run: &str) -> io::Result<RunDir> {
        let unique = DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("adze-{task_run}-{}-{unique}", std::process::id()));
        fs::create_dir_all(&path)?;
        let dir = RunDir { path };
        for sub in ["workspace", "results", "home", "scripts"] {
            let sub = dir.path.join(sub);
            fs::create_dir_all(&sub)?;
            fs::set_permissions(&sub, fs::Permissions::from_mode(0o777))?;
        }
        Ok(dir)
    }

    /// The bind mounts every step container gets.
    fn binds(&self) -> Vec<String> {
        let host = |sub: &str| self.path.join(sub).display().to_string();
        vec![
            format!("{}:/workspace", host("workspace")),
            format!("{}:/tekton/results", host("results")),
            format!("{}:/tekton/home", host("home")),
            format!("{}:/tekton/scripts:ro", host("scripts")),
        ]
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // Best effort: a file a container made unremovable must not abort the run.
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Runs the steps in order, stopping at the first failure.
async fn run_steps(
    docker: &Docker,
    request: &TaskRunRequest,
    dir: &RunDir,
) -> Result<ExecOutcome, ExecError> {
    for step in &request.steps {
        if let Some(outcome) = check_image(docker, request, step).await? {
            return Ok(outcome);
        }
    }
    for step in &request.steps {
        match run_step(docker, request, step, dir).await {
            Ok(0) => {}
            Ok(code) => {
                return Ok(ExecOutcome::Failed {
                    reason: "StepFailed".into(),
                    message: format!("\"step-{}\" exited with code {code}: Error", step.name),
                })
            }
            Err(StepError::Fail(reason, message)) => {
                return Ok(ExecOutcome::Failed { reason, message })
            }
            Err(StepError::Exec(e)) => return Err(e),
        }
    }
    Ok(ExecOutcome::Succeeded)
}

/// `Some(Failed)` when the step's image is not present locally (adze does not pull yet).
async fn check_image(
    docker: &Docker,
    request: &TaskRunRequest,
    step: &StepPlan,
) -> Result<Option<ExecOutcome>, ExecError> {
    match docker.inspect_image(&step.image).await {
        Ok(_) => Ok(None),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(Some(ExecOutcome::Failed {
            reason: "TaskRunImagePullFailed".into(),
            message: format!(
                "the step \"{}\" in TaskRun \"{}\" failed to pull the image \"{}\": \
                 the image is not present locally and adze does not pull images yet",
                step.name, request.name, step.image
            ),
        })),
        Err(e) => Err(engine_error(&request.name, e)),
    }
}

/// Runs one step's container and returns its exit code; the container is always removed.
async fn run_step(
    docker: &Docker,
    request: &TaskRunRequest,
    step: &StepPlan,
    dir: &RunDir,
) -> Result<i64, StepError> {
    let config = container_config(request, step, dir).map_err(|e| {
        StepError::Exec(ExecError::Start {
            task_run: request.name.clone(),
            message: format!("cannot write the script of step \"{}\": {e}", step.name),
        })
    })?;
    let created = docker
        .create_container(None::<CreateContainerOptions>, config)
        .await
        .map_err(|e| step_error(request, step, "could not be created", e))?;
    let exit = start_and_wait(docker, request, step, &created.id).await;
    let removed = docker
        .remove_container(
            &created.id,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
        .await;
    let code = exit?;
    removed.map_err(|e| StepError::Exec(engine_error(&request.name, e)))?;
    Ok(code)
}

/// Starts a created container and waits until it exits.
async fn start_and_wait(
    docker: &Docker,
    request: &TaskRunRequest,
    step: &StepPlan,
    id: &str,
) -> Result<i64, StepError> {
    docker
        .start_container(id, None)
        .await
        .map_err(|e| step_error(request, step, "could not be started", e))?;
    loop {
        let inspect = docker
            .inspect_container(id, None)
            .await
            .map_err(|e| StepError::Exec(engine_error(&request.name, e)))?;
        let state = inspect.state.unwrap_or_default();
        if state.running != Some(true) && state.restarting != Some(true) {
            return Ok(state.exit_code.unwrap_or(0));
        }
        tokio::time::sleep(WAIT_INTERVAL).await;
    }
}

/// The container for one step; writes its script first when it has one.
fn container_config(
    request: &TaskRunRequest,
    step: &StepPlan,
    dir: &RunDir,
) -> io::Result<ContainerCreateBody> {
    let entrypoint = match &step.script {
        Some(script) => {
            let file = dir.path.join("scripts").join(&step.name);
            fs::write(&file, script)?;
            fs::set_permissions(&file, fs::Permissions::from_mode(0o755))?;
            Some(vec![format!("/tekton/scripts/{}", step.name)])
        }
        None if !step.command.is_empty() => Some(step.command.clone()),
        None => None,
    };
    let working_dir = step.working_dir.as_ref().map(|w| {
        if w.starts_with('/') {
            w.clone()
        } else {
            format!("/workspace/{w}")
        }
    });
    let labels = [
        (RUN_LABEL.to_owned(), request.name.clone()),
        (STEP_LABEL.to_owned(), step.name.clone()),
    ]
    .into_iter()
    .collect();
    Ok(ContainerCreateBody {
        image: Some(step.image.clone()),
        entrypoint,
        cmd: (!step.args.is_empty()).then(|| step.args.clone()),
        env: Some(
            step.env
                .iter()
                .map(|e| format!("{}={}", e.name, e.value))
                .collect(),
        ),
        working_dir,
        labels: Some(labels),
        host_config: Some(HostConfig {
            binds: Some(dir.binds()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Every file in the results directory as a string result, sorted by name.
fn read_results(dir: &Path) -> io::Result<Vec<(String, ParamValue)>> {
    let mut results = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let bytes = fs::read(entry.path())?;
        results.push((
            entry.file_name().to_string_lossy().into_owned(),
            ParamValue::String(String::from_utf8_lossy(&bytes).into_owned()),
        ));
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(results)
}

/// A refused create/start fails the TaskRun; a lost engine is an executor error.
fn step_error(request: &TaskRunRequest, step: &StepPlan, what: &str, e: DockerError) -> StepError {
    match e {
        DockerError::DockerResponseServerError { message, .. } => StepError::Fail(
            "StepFailed".into(),
            format!("\"step-{}\" {what}: {message}", step.name),
        ),
        e => StepError::Exec(engine_error(&request.name, e)),
    }
}

/// An engine error during a TaskRun: unreachable engines are `Unavailable`.
fn engine_error(task_run: &str, e: DockerError) -> ExecError {
    match e {
        DockerError::DockerResponseServerError { .. } => ExecError::Start {
            task_run: task_run.to_owned(),
            message: e.to_string(),
        },
        e => unavailable(e),
    }
}

/// The Docker engine could not be reached.
fn unavailable(e: DockerError) -> ExecError {
    ExecError::Unavailable(format!(
        "cannot reach the Docker engine ({e}); {HOW_TO_START}"
    ))
}
