//! Every step container of a TaskRun created and started at once, ordered by the entrypoint.
//!
//! # Why
//!
//! Run one after the other, steps pay the engine's per-container latency (create, start,
//! wait, remove) in series: a 10-step TaskRun of `true` took as long as 10 `docker run`s.
//! Started together, as a kubelet starts a Pod's containers, the latencies overlap and the
//! static `adze-entrypoint` (the one Pods use, bind-mounted read-only at
//! `/tekton/bin/entrypoint`) orders the steps through `/tekton/run`: step `i` waits for
//! `/tekton/run/<i-1>/out`, and `out.err` makes it skip (`cargo bench --bench executor --
//! steps-10` has the figures; README, Benchmarks).
//!
//! # Design
//!
//! - [`TaskRunJob::start_at_once`] prepares every step first (its program resolved from the
//!   image when it names none, the non-root check, the container configuration) and creates
//!   every container; anything refused there returns `None` and the TaskRun runs step by step
//!   as before, which reports the refusal exactly where it happens (after the earlier steps).
//! - Then all are attached (logs) and started; `stdoutConfig`/`stderrConfig` files are the
//!   entrypoint's (`-stdout_path`/`-stderr_path`), written inside the container before it
//!   releases the next step, so a later step always reads them complete; [`TaskRunJob::next_at_once`] waits for step `i` and turns its
//!   container state and termination message (`/tekton/run/<i>/termination` on the host) into
//!   the same [`StepEnd`] the step-by-step path gives.
//! - Host layout: `run/<i>` is mounted at `/tekton/run/<i>` for step `i` only (read-only
//!   `/tekton/run` for the rest), and the step's `steps/step-<name>` doubles as
//!   `/tekton/run/<i>/status`, so `$(steps.S.results.R)` reads what the step wrote.
//! - The step timeout is the entrypoint's (`-timeout`, reason `TimeoutExceeded`); the TaskRun's
//!   timeout, cancellation and the engine's loss are watched as before; every container of the
//!   TaskRun, waiting ones included, is removed with the pod ([`Pod::remove`]).
//!
//! # Invariants
//!
//! - A TaskRun's status is the same on both paths, except where the entrypoint is Tekton's
//!   behaviour: a program that cannot be started fails its step (exit 1, the reason on its
//!   stderr), and `$(steps.S.results.R)` left unwritten is said in the step's log as well as
//!   in a warning.
//! - Nothing runs before every container exists, so falling back to the step-by-step path
//!   never runs a step twice.
//!
//! # Not yet
//!
//! - Without the static entrypoint (`$ADZE_ENTRYPOINT`, or `adze-entrypoint` beside `adze`),
//!   or with `ADZE_STEPS_AT_ONCE=0`, steps run one by one as before.
//! - A remote engine (`DOCKER_HOST=tcp://…`) cannot bind-mount the host's binary; like the
//!   TaskRun's directories, it must be the local engine.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bollard::errors::Error as DockerError;
use bollard::query_parameters::WaitContainerOptions;
use bollard::Docker;
use futures_util::future::join_all;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::container::{self, EntrypointLaunch, Role, RunDir};
use super::entrypoint_binary::{self, EntrypointMissing, ENTRYPOINT_ENV};
use super::output_files::OutputFiles;
use super::pod::Pod;
use super::task_run::{
    engine_failure, now, start_failure, until, StepEnd, TaskRunJob, WaitEnd, Waited,
};
use super::{engine_loss, logs, retry};
use crate::api::GoDuration;
use crate::exec::kubernetes::termination::{self, StepMessage};
use crate::plan::model::StepPlan;
use crate::reconcile::task_run::{MarkerReason, TerminatedObservation, TerminationMarkers};
use crate::reconcile::Timestamp;
use crate::run::Progress;

/// How the entrypoint's message begins when a step's `when` could not be decided (its
/// `StepError::When`); the rest is the cause.
pub(super) const GUARD_FAILED_PREFIX: &str = "cannot decide the step's when expressions: ";

/// Set to `0` to run steps one by one even when the entrypoint is available.
pub const AT_ONCE_ENV: &str = "ADZE_STEPS_AT_ONCE";

/// The step containers of a TaskRun, created and started together.
pub(super) struct AtOnce {
    /// Per step: the resolved plan, the container, and why it could not start if it did not.
    steps: Vec<StartedStep>,
    /// Why the engine is gone, once it was lost while a step was waited for.
    lost: Option<String>,
    /// Removals of finished steps' containers, overlapping the later steps: the id of each
    /// one removed.
    removals: Vec<JoinHandle<Option<String>>>,
}

impl AtOnce {
    /// Waits for the removals started while the steps ran, so nothing of the TaskRun is
    /// still going away once it is reported, and leaves to `pod` only the containers still
    /// there.
    pub(super) async fn finish(self, pod: &mut Pod) {
        let removed = join_all(self.removals).await;
        let removed: Vec<String> = removed.into_iter().flatten().flatten().collect();
        pod.steps.retain(|id| !removed.contains(id));
    }
}

struct StartedStep {
    plan: StepPlan,
    id: String,
    start_error: Option<DockerError>,
    log_task: Option<JoinHandle<()>>,
    /// When the step was released (its container started, or the previous step ended).
    released: Option<Timestamp>,
    /// Set once its start was reported, by its first output or by [`TaskRunJob::next_at_once`].
    announced: Arc<AtomicBool>,
    /// Waits for the container's exit from its start, so the steps' ends are known as they
    /// happen rather than asked for one after the other.
    exit: Option<JoinHandle<Option<ExitSeen>>>,
}

/// How a step container exited, as its exit watcher saw it.
#[derive(Debug, Clone, Copy)]
struct ExitSeen {
    /// The exit code the engine's wait answered.
    code: i64,
    /// Killed by the out-of-memory killer (asked only for exit code 137).
    oom: bool,
}

/// Waits for container `id` to exit; `None` unless the engine itself answered (a broken
/// wait is left to the careful path, which tells an engine gone). Only a SIGKILL's exit
/// code needs an inspect, for the OOM flag: every other call would queue behind the
/// engine's work on the other steps.
async fn watch_exit(docker: Docker, id: String) -> Option<ExitSeen> {
    let answer = docker
        .wait_container(&id, None::<WaitContainerOptions>)
        .next()
        .await;
    let code = match answer {
        Some(Ok(response)) => response.status_code,
        Some(Err(DockerError::DockerContainerWaitError { code, .. })) => code,
        _ => return None,
    };
    let oom = if code == 137 {
        let state = docker.inspect_container(&id, None).await.ok()?.state?;
        state.oom_killed == Some(true)
    } else {
        false
    };
    Some(ExitSeen { code, oom })
}

/// The entrypoint's flags for step `index`, before `-entrypoint PROGRAM -- ARGS`.
fn entrypoint_flags(step: &StepPlan, index: usize) -> Vec<String> {
    let mut flags = Vec::new();
    let mut flag = |name: &str, value: String| {
        flags.push(format!("-{name}"));
        flags.push(value);
    };
    if index > 0 {
        flag("wait_file", format!("/tekton/run/{}/out", index - 1));
    }
    flag("post_file", format!("/tekton/run/{index}/out"));
    flag(
        "termination_path",
        format!("/tekton/run/{index}/termination"),
    );
    flag("step_metadata_dir", format!("/tekton/run/{index}/status"));
    // Results are read from the host's files, not from the message: a result over Tekton's
    // 4096 bytes is a warning locally, which the message's limit would make a failure.
    if let Some(timeout) = step
        .timeout
        .as_deref()
        .filter(|t| GoDuration::parse(t).is_ok())
    {
        flag("timeout", timeout.to_owned());
    }
    if let Some(on_error) = &step.on_error {
        flag("on_error", on_error.clone());
    }
    // The entrypoint tees the streams itself, as Tekton's does: a copy written from the host's
    // log stream could still be in flight when the next step, released by `out`, reads it.
    if let Some(path) = &step.stdout_path {
        flag("stdout_path", path.clone());
    }
    if let Some(path) = &step.stderr_path {
        flag("stderr_path", path.clone());
    }
    if !step.when.is_empty() {
        if let Ok(json) = serde_json::to_string(&step.when) {
            flag("when_expressions", json);
        }
    }
    flags
}

/// The entrypoint to use, `Ok(None)` when steps must run one by one, `Err` when
/// `$ADZE_ENTRYPOINT` names something unusable (which the user should hear about).
fn binary() -> Result<Option<PathBuf>, EntrypointMissing> {
    if std::env::var_os(AT_ONCE_ENV).is_some_and(|v| v == "0") {
        return Ok(None);
    }
    match entrypoint_binary::locate() {
        Ok(path) => Ok(Some(path)),
        Err(e @ (EntrypointMissing::FromEnv { .. } | EntrypointMissing::NotStatic { .. }))
            if std::env::var_os(ENTRYPOINT_ENV).is_some_and(|v| !v.is_empty()) =>
        {
            Err(e)
        }
        Err(_) => Ok(None),
    }
}

impl TaskRunJob {
    /// Creates and starts every step container, their ids kept in `pod` for removal; `None`
    /// when the TaskRun must run step by step (see the module's Design).
    pub(super) async fn start_at_once(&mut self, dir: &RunDir, pod: &mut Pod) -> Option<AtOnce> {
        let binary = match binary() {
            Ok(binary) => binary?,
            Err(e) => {
                self.warn(format!("steps run one by one: {e}"));
                return None;
            }
        };
        let mut plans = Vec::with_capacity(self.request.steps.len());
        for step in &self.request.steps {
            let plan = self.with_program(step).await?;
            self.check_non_root(&plan, &format!("step-{}", plan.name))
                .await
                .ok()?;
            plans.push(plan);
        }
        if pod.holder.is_none() && plans.len() > 1 {
            // The steps share one network namespace, as a Pod's containers do; it also
            // spares the engine a namespace per step, set up and torn down in turn (a
            // 10-step TaskRun of `true` takes about half as long). Without an image that
            // has `sh` to hold it, each step keeps its own.
            let _ = self.start_holder(pod).await;
        }
        let network = pod.holder.clone();
        let network = network.as_deref();
        let mut prepared = Vec::with_capacity(plans.len());
        for (index, plan) in plans.into_iter().enumerate() {
            let launch = EntrypointLaunch {
                index,
                binary: binary.clone(),
                flags: entrypoint_flags(&plan, index),
            };
            let config = container::container_config(
                &self.request.name,
                &self.with_resolved_image(&plan),
                Role::Step,
                dir,
                network,
                &self.request.pod,
                Some(&launch),
            )
            .ok()?;
            prepared.push((plan, config));
        }
        let hints: Vec<String> = prepared
            .iter()
            .map(|(plan, _)| format!("{}-step-{}", self.request.name, plan.name))
            .collect();
        let created = join_all(prepared.iter().zip(&hints).map(|((_, config), hint)| {
            retry::create_container(&self.docker, hint, config.clone())
        }))
        .await;
        let ids: Vec<Option<String>> = created.into_iter().map(|c| c.ok().map(|c| c.id)).collect();
        if ids.iter().any(Option::is_none) {
            join_all(
                ids.iter()
                    .flatten()
                    .map(|id| container::remove(&self.docker, id)),
            )
            .await;
            return None;
        }
        let mut started = Vec::with_capacity(prepared.len());
        for ((plan, _), id) in prepared.into_iter().zip(ids.into_iter().flatten()) {
            pod.steps.push(id.clone());
            let announced = Arc::new(AtomicBool::new(false));
            let log_task = self.attach_output(&plan, &id, announced.clone()).await;
            started.push(StartedStep {
                plan,
                id,
                start_error: None,
                log_task,
                released: None,
                announced,
                exit: None,
            });
        }
        let starts = join_all(
            started
                .iter()
                .map(|s| retry::start_container(&self.docker, &s.id)),
        )
        .await;
        let at = now();
        for (step, start) in started.iter_mut().zip(starts) {
            step.start_error = start.err();
            step.released = Some(at);
            if step.start_error.is_none() {
                let (docker, id) = (self.docker.clone(), step.id.clone());
                step.exit = Some(tokio::spawn(watch_exit(docker, id)));
            }
        }
        Some(AtOnce {
            steps: started,
            lost: None,
            removals: Vec::new(),
        })
    }

    /// Attaches to a step container's log lines before it starts, forwarded until it exits.
    /// `None` when logs are not wanted or attaching failed.
    async fn attach_output(
        &self,
        plan: &StepPlan,
        id: &str,
        announced: Arc<AtomicBool>,
    ) -> Option<JoinHandle<()>> {
        if !self.options.logs {
            return None;
        }
        match logs::attach(&self.docker, id).await {
            Ok(output) => Some(tokio::spawn(logs::forward(
                output,
                self.request.name.clone(),
                plan.name.clone(),
                self.options.progress.clone(),
                self.options.logs,
                OutputFiles::default(),
                Some(announced),
            ))),
            Err(e) => {
                self.warn(format!(
                    "step \"{}\": its log is not shown: cannot attach to its output ({e})",
                    plan.name
                ));
                None
            }
        }
    }

    /// Waits for step `index` started by [`Self::start_at_once`] and says how it ended;
    /// `image_id` receives the image it ran.
    pub(super) async fn next_at_once(
        &mut self,
        at_once: &mut AtOnce,
        index: usize,
        dir: &RunDir,
        deadline: Option<Instant>,
        image_id: &mut String,
    ) -> StepEnd {
        let step = &mut at_once.steps[index];
        let (name, id) = (step.plan.name.clone(), step.id.clone());
        if let Some(e) = step.start_error.take() {
            let (reason, message) = start_failure(&name, e);
            return StepEnd::Refused(reason, message);
        }
        let released = step.released.unwrap_or_else(now);
        if let Some(cause) = at_once.lost.clone() {
            return succeeded_meanwhile(dir, index, released)
                .unwrap_or(StepEnd::EngineLost(released, cause));
        }
        // A step its `when` skipped has usually said so by now (the entrypoint decides as
        // soon as the previous step's marker appears): it is not shown as started.
        let skipped = step_message(dir, index)
            .is_some_and(|m| m.markers.reason == Some(MarkerReason::Skipped));
        if !skipped && !step.announced.swap(true, Ordering::SeqCst) {
            self.options.progress.send(Progress::StepStarted {
                task_run: self.request.name.clone(),
                step: name.clone(),
            });
        }
        let watcher = at_once.steps[index].exit.take();
        let seen = match watcher {
            Some(watcher) => self.watched_exit(watcher, deadline).await,
            None => Watched::Unsure,
        };
        let (waited, exited) = match seen {
            Watched::Exited(exit) => (Waited::Exited, Some(exit)),
            Watched::Interrupted(waited) => (waited, None),
            Watched::Unsure => (Waited::Exited, None),
        };
        let waited = match (waited, &exited) {
            (Waited::Exited, None) => self.wait_watching_engine(&name, &id, deadline).await,
            (waited, _) => WaitEnd::Waited(waited),
        };
        let waited = match waited {
            WaitEnd::Waited(waited) => waited,
            WaitEnd::Lost(cause) => {
                for step in &at_once.steps {
                    if let Some(task) = &step.log_task {
                        task.abort();
                    }
                }
                at_once.lost = Some(cause.clone());
                return succeeded_meanwhile(dir, index, released)
                    .unwrap_or(StepEnd::EngineLost(released, cause));
            }
        };
        match waited {
            Waited::Exited => {}
            // A timeout is final: the run must end on time, so no grace period.
            Waited::Deadline => self.kill_container(&id).await,
            Waited::Stopped => self.stop_container(&id).await,
        }
        if let Some(task) = at_once.steps[index].log_task.take() {
            // The stream ends with the container; a short bound keeps a stuck engine from
            // holding the TaskRun.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
        }
        let image = at_once.steps[index].plan.image.clone();
        // The image was resolved before the steps started; the engine is asked only when
        // it was not, or when the watcher could not tell how the step ended.
        let (exit, engine_image) = match exited {
            Some(exit) if self.images.contains_key(&image) => (exit, String::new()),
            _ => match retry::idempotent(|| self.docker.inspect_container(&id, None)).await {
                Ok(i) => {
                    let state = i.state.unwrap_or_default();
                    let exit = ExitSeen {
                        code: state.exit_code.unwrap_or(1),
                        oom: state.oom_killed == Some(true),
                    };
                    (exit, i.image.unwrap_or_default())
                }
                Err(e) if waited == Waited::Exited => {
                    let (reason, message) = engine_failure(e);
                    return StepEnd::Refused(reason, message);
                }
                Err(_) => (
                    ExitSeen {
                        code: 1,
                        oom: false,
                    },
                    String::new(),
                ),
            },
        };
        *image_id = self.status_image_id(&image, &engine_image);
        if waited != Waited::Exited {
            return StepEnd::Interrupted(released);
        }
        let finished = now();
        if let Some(next) = at_once.steps.get_mut(index + 1) {
            next.released = Some(finished);
        }
        if exit.code != 0 && self.keeps_failed_container() {
            // Kept for the breakpoint's session; the pod's removal covers it.
            self.failed_container = Some(id.clone());
        } else if !self.options.keep {
            // Removed while the later steps run; the pod's removal covers any left.
            let docker = self.docker.clone();
            at_once.removals.push(tokio::spawn(async move {
                container::remove(&docker, &id).await.ok().map(|()| id)
            }));
        }
        let message = step_message(dir, index).unwrap_or_default();
        for warning in &message.warnings {
            self.warn(format!("step \"{name}\": {warning}"));
        }
        let exit_code = i32::try_from(exit.code).unwrap_or(1);
        let oom = exit.oom;
        if !oom && engine_loss::killed_by_shutdown(i64::from(exit_code)) {
            if let Some(later) = at_once.steps.get(index + 1) {
                if self.torn_down(&later.id, &dir.run_dir(index + 1)).await {
                    return StepEnd::EngineLost(
                        released,
                        engine_loss::shutdown_stopped(i64::from(exit_code)),
                    );
                }
            }
        }
        step_end(&message, exit_code, oom, released, finished)
    }
}

/// What a step's exit watcher gave.
enum Watched {
    /// The engine answered: the container exited.
    Exited(ExitSeen),
    /// The TaskRun's deadline or a stop came first.
    Interrupted(Waited),
    /// The watcher could not tell (the engine did not answer): ask again, carefully.
    Unsure,
}

impl TaskRunJob {
    /// Waits for a step's exit `watcher`, the TaskRun's `deadline`, or a stop request.
    async fn watched_exit(
        &mut self,
        mut watcher: JoinHandle<Option<ExitSeen>>,
        deadline: Option<Instant>,
    ) -> Watched {
        if self.stop.borrow().is_some() {
            watcher.abort();
            return Watched::Interrupted(Waited::Stopped);
        }
        let sleep = until(deadline);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                done = &mut watcher => {
                    return match done.ok().flatten() {
                        // A shutdown's signals need the careful path, which asks the
                        // engine whether it is still there.
                        Some(exit) if !engine_loss::killed_by_shutdown(exit.code) => {
                            Watched::Exited(exit)
                        }
                        _ => Watched::Unsure,
                    };
                }
                _ = &mut sleep => {
                    watcher.abort();
                    return Watched::Interrupted(Waited::Deadline);
                }
                changed = self.stop.changed() => {
                    if changed.is_err() || self.stop.borrow().is_some() {
                        watcher.abort();
                        return Watched::Interrupted(Waited::Stopped);
                    }
                }
            }
        }
    }

    /// Whether the engine stopped the TaskRun's containers (its shutdown), as seen from a
    /// later step's container `id`: it waits for the step before it, so it only ends by
    /// itself after that step's marker, with a termination message in `run_dir`. Watched
    /// for a moment, since the engine stops containers one by one.
    async fn torn_down(&self, id: &str, run_dir: &std::path::Path) -> bool {
        let until = Instant::now() + std::time::Duration::from_secs(1);
        loop {
            match self.docker.inspect_container(id, None).await {
                Ok(i) => {
                    let running = i.state.and_then(|s| s.running) == Some(true);
                    if !running {
                        return !run_dir.join("termination").exists();
                    }
                }
                // No answer: the engine is going away with the step.
                Err(e) => return engine_loss::is_connection_loss(&e),
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// Step `index`'s end as its entrypoint recorded it on the host, when it succeeded before
/// the engine went away: steps started at once go on while adze waits for an earlier one.
/// A failure is not believed (the engine's shutdown signals fail a step too).
fn succeeded_meanwhile(dir: &RunDir, index: usize, released: Timestamp) -> Option<StepEnd> {
    if !dir.run_dir(index).join("out").exists() {
        return None;
    }
    let message = step_message(dir, index)?;
    Some(step_end(&message, 0, false, released, now()))
}

/// Step `index`'s termination message as its entrypoint left it on the host, if it wrote one.
fn step_message(dir: &RunDir, index: usize) -> Option<StepMessage> {
    let text = std::fs::read_to_string(dir.run_dir(index).join("termination")).ok()?;
    termination::parse(&text)
}

/// How a step ended, from its container's exit code and OOM flag and the entrypoint's
/// termination message (empty when the entrypoint never wrote one).
fn step_end(
    message: &StepMessage,
    exit_code: i32,
    oom: bool,
    released: Timestamp,
    finished: Timestamp,
) -> StepEnd {
    let markers = &message.markers;
    let started = markers.started_at.unwrap_or(released);
    match markers.reason {
        Some(MarkerReason::Skipped) if exit_code == 0 => return StepEnd::Skipped,
        Some(MarkerReason::TimeoutExceeded) => {
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
        _ => {}
    }
    if let Some(why) = message
        .error
        .as_deref()
        .and_then(|e| e.strip_prefix(GUARD_FAILED_PREFIX))
    {
        return StepEnd::GuardFailed(why.to_owned());
    }
    // `onError: continue` exits 0 and records the command's code as `ExitCode`.
    let continued = markers.exit_code.filter(|&code| code != 0);
    let reason = match (oom, exit_code) {
        (true, _) => "OOMKilled",
        (false, 0) => "Completed",
        (false, _) => "Error",
    };
    StepEnd::Exited(TerminatedObservation {
        exit_code,
        reason: reason.into(),
        started,
        finished,
        markers: Some(TerminationMarkers {
            started_at: Some(started),
            exit_code: continued,
            reason: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> StepPlan {
        StepPlan {
            name: "build".into(),
            command: vec!["true".into()],
            ..StepPlan::default()
        }
    }

    #[test]
    fn steps_wait_for_the_previous_one_and_carry_timeout_on_error_and_when() {
        let first = entrypoint_flags(&step(), 0);
        assert_eq!(
            first,
            [
                "-post_file",
                "/tekton/run/0/out",
                "-termination_path",
                "/tekton/run/0/termination",
                "-step_metadata_dir",
                "/tekton/run/0/status",
            ]
        );
        let third = StepPlan {
            timeout: Some("5s".into()),
            on_error: Some("continue".into()),
            when: vec![crate::api::WhenExpression {
                input: Some("$(steps.a.results.r)".into()),
                operator: Some("in".into()),
                values: Some(vec!["yes".into()]),
                cel: None,
            }],
            stdout_path: Some("/tekton/results/out".into()),
            stderr_path: Some("/workspace/err.txt".into()),
            ..step()
        };
        let flags = entrypoint_flags(&third, 2);
        assert_eq!(&flags[..2], ["-wait_file", "/tekton/run/1/out"]);
        let value = |name: &str| {
            let at = flags.iter().position(|f| f == name).expect(name);
            flags[at + 1].clone()
        };
        assert_eq!(value("-timeout"), "5s");
        assert_eq!(value("-on_error"), "continue");
        assert_eq!(value("-stdout_path"), "/tekton/results/out");
        assert_eq!(value("-stderr_path"), "/workspace/err.txt");
        assert_eq!(
            value("-when_expressions"),
            r#"[{"input":"$(steps.a.results.r)","operator":"in","values":["yes"]}]"#
        );
        // A timeout that does not parse was reported by validation; it is not passed on.
        let bad = StepPlan {
            timeout: Some("soon".into()),
            ..step()
        };
        assert!(!entrypoint_flags(&bad, 0).contains(&"-timeout".to_owned()));
    }

    fn message(text: &str) -> StepMessage {
        termination::parse(text).expect("a message")
    }

    #[test]
    fn step_ends_are_read_from_the_exit_code_and_the_message() {
        let (released, finished) = (Timestamp(1_000), Timestamp(9_000));
        let start = r#"{"key":"StartedAt","value":"1970-01-01T00:00:05.000Z","type":3}"#;
        let end = |text: String, code: i32, oom: bool| {
            step_end(&message(&text), code, oom, released, finished)
        };
        match end(format!("[{start}]"), 0, false) {
            StepEnd::Exited(t) => {
                assert_eq!((t.exit_code, t.reason.as_str()), (0, "Completed"));
                // The step started when the entrypoint ran it, not when its container did.
                assert_eq!(t.started, Timestamp(5_000));
            }
            _ => panic!("exited"),
        }
        let skipped = format!(r#"[{start},{{"key":"Reason","value":"Skipped","type":3}}]"#);
        assert!(matches!(end(skipped, 0, false), StepEnd::Skipped));
        let timeout = format!(r#"[{start},{{"key":"Reason","value":"TimeoutExceeded","type":3}}]"#);
        match end(timeout, 1, false) {
            StepEnd::StepTimeout(t) => assert_eq!(
                t.markers.and_then(|m| m.reason),
                Some(MarkerReason::TimeoutExceeded)
            ),
            _ => panic!("timed out"),
        }
        let continued = format!(r#"[{start},{{"key":"ExitCode","value":"3","type":3}}]"#);
        match end(continued, 0, false) {
            StepEnd::Exited(t) => {
                assert_eq!(t.exit_code, 0);
                assert_eq!(t.markers.and_then(|m| m.exit_code), Some(3));
            }
            _ => panic!("continued"),
        }
        let guard = format!(
            r#"[{start},{{"key":"Error","value":"{GUARD_FAILED_PREFIX}no such variable","type":3}}]"#
        );
        assert!(
            matches!(end(guard, 1, false), StepEnd::GuardFailed(why) if why == "no such variable")
        );
        match step_end(&StepMessage::default(), 137, true, released, finished) {
            StepEnd::Exited(t) => {
                assert_eq!((t.exit_code, t.reason.as_str()), (137, "OOMKilled"));
                assert_eq!(t.started, released);
            }
            _ => panic!("killed"),
        }
    }
}
