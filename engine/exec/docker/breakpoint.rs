//! Stopping a TaskRun at a breakpoint ([`crate::run::breakpoints`]): a live container that
//! sees what the step saw, handed to the run's [`BreakSession`], removed when it is over.
//!
//! # Design
//!
//! - The failed step's own container cannot serve: it has exited, and when steps start at
//!   once its program is the entrypoint's wrapper, gone with it. Instead its container is
//!   committed to a temporary image (`adze-debug:<TaskRun>-<step>-<pid>`), so files the step
//!   wrote outside any mount (in its working directory under `/`, in `/tmp`) are there too,
//!   and a new container of that image runs `sh` with the old one's mounts, environment,
//!   working directory, user and network (the TaskRun's sidecars still run: `localhost`
//!   reaches them). Where the commit fails, the step's image is used.
//! - Before a step, the container is the one the step would get (same configuration, its
//!   earlier steps done), running `sh` instead of the step's program. A TaskRun with a step
//!   to stop before runs its steps one by one: steps started at once are released by the
//!   entrypoint, with no moment where adze could step in.
//! - `sh` idles on an open, never-written stdin (`docker run -di` does the same), so any
//!   image with a shell works without `sleep`; an image without `sh` cannot start it, and
//!   the session is told so ([`Entry::NoShell`]) with the container left created for
//!   `docker cp`/`docker export`.
//! - The run's events say so too: a `breakpoint` event (container, command) once the
//!   container runs, before the session; `breakpointEnded` once it is removed.
//! - The session blocks a thread of the blocking pool; the TaskRun waits for it, or for a
//!   cancel or timeout of the TaskRun, which ends it.
//!
//! # Invariants
//!
//! - The debug container and the committed image are removed when the session ends, with
//!   or without `--keep` (which keeps the TaskRun's own containers as always).
//! - The failed step's container outlives its step only with `--break-on-failure`, and is
//!   removed after the session unless `--keep`.
//!
//! # Not yet
//!
//! - If adze is killed during a session, the committed image stays (`docker image ls
//!   adze-debug`); the debug container is labelled like every other and removed by the
//!   watchdog or `adze gc`.
//! - A step skipped by its `when` never breaks before; a step whose container could not be
//!   created or started (its image missing) does not break on failure.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bollard::models::{ContainerConfig, ContainerCreateBody, ExecConfig};
use bollard::query_parameters::{CommitContainerOptions, RemoveImageOptions};
use bollard::Docker;
use futures_util::StreamExt;

use super::container;
use super::retry;
use super::task_run::TaskRunJob;
use crate::plan::model::StepPlan;
use crate::run::breakpoints::{Break, BreakCause, BreakSession, Breakpoints, Entry};
use crate::run::Progress;

/// The label marking a debug container.
pub(super) const DEBUG_LABEL: &str = "adze.dev/debug";

/// The repository of committed failed steps.
const DEBUG_REPOSITORY: &str = "adze-debug";

/// A debug container, and the image committed for it if any.
struct DebugContainer {
    id: String,
    name: String,
    committed: Option<String>,
}

impl TaskRunJob {
    /// The run's breakpoints, if it has any.
    pub(super) fn breakpoints(&self) -> Option<&Arc<Breakpoints>> {
        self.options.breakpoints.as_ref()
    }

    /// Whether a failed step's container must outlive its step, for `--break-on-failure`.
    pub(super) fn keeps_failed_container(&self) -> bool {
        self.breakpoints().is_some_and(|b| b.on_failure)
    }

    /// The path of pipeline tasks from the run down to this TaskRun's.
    fn task_path(&self) -> Vec<String> {
        let mut path = self.request.parent_tasks.clone();
        path.push(self.request.pipeline_task.clone());
        path
    }

    /// Whether the run stops before step `step` of this TaskRun.
    pub(super) fn breaks_before(&self, step: &str) -> bool {
        self.breakpoints()
            .is_some_and(|b| b.is_before(&self.task_path(), step))
    }

    /// Whether a step of this TaskRun is one to stop before (its steps then run one by one).
    pub(super) fn stops_in_this_task_run(&self) -> bool {
        self.breakpoints()
            .is_some_and(|b| b.stops_in(&self.task_path()))
    }

    /// After step `step` failed with `exit_code`: the session, when this is the run's first
    /// failure and it breaks on failure; then the failed container kept for it is removed
    /// (unless `--keep`).
    pub(super) async fn break_after_failure(&mut self, step: &StepPlan, exit_code: i32) {
        let kept = self.failed_container.take();
        let claimed = self.breakpoints().is_some_and(|b| b.claim_failure());
        if claimed {
            let cause = BreakCause::Failed { exit_code };
            self.stop_here(step, &cause);
            match &kept {
                Some(id) => match self.failed_step_config(id, step).await {
                    Ok((config, committed)) => {
                        self.attend(step, cause, config, committed).await;
                    }
                    Err(e) => {
                        self.warn(format!(
                            "--break-on-failure: step \"{}\": cannot look at its container: {e}",
                            step.name
                        ));
                        self.resume(&cause);
                    }
                },
                None => {
                    self.warn(format!(
                        "--break-on-failure: step \"{}\" failed, but its container is gone: \
                         no shell to open",
                        step.name
                    ));
                    self.resume(&cause);
                }
            }
        }
        if let (Some(id), false) = (kept, self.options.keep) {
            let _ = container::remove(&self.docker, &id).await;
        }
    }

    /// Before step `step`, whose container would be created from `config`: the session.
    pub(super) async fn break_before(&self, step: &StepPlan, config: &ContainerCreateBody) {
        self.stop_here(step, &BreakCause::Before);
        let config = idle_shell(config.clone());
        self.attend(step, BreakCause::Before, config, None).await;
    }

    /// Tells the session the run stops at `step`, at once.
    fn stop_here(&self, step: &StepPlan, cause: &BreakCause) {
        if let Some(b) = self.breakpoints() {
            b.session()
                .stopped(&self.task_path().join("/"), &step.name, cause);
        }
    }

    /// Tells the session a stop is over that had no session.
    fn resume(&self, cause: &BreakCause) {
        if let Some(b) = self.breakpoints() {
            b.session().resumed(cause);
        }
    }

    /// The configuration of a container like failed container `id`, from its committed
    /// image when the commit works (the image committed is returned for removal).
    async fn failed_step_config(
        &self,
        id: &str,
        step: &StepPlan,
    ) -> Result<(ContainerCreateBody, Option<String>), bollard::errors::Error> {
        let inspect = retry::idempotent(|| self.docker.inspect_container(id, None)).await?;
        let config = inspect.config.unwrap_or_default();
        let tag = image_tag(&self.request.name, &step.name);
        let committed = self
            .docker
            .commit_container(
                CommitContainerOptions {
                    container: Some(id.to_owned()),
                    repo: Some(DEBUG_REPOSITORY.to_owned()),
                    tag: Some(tag.clone()),
                    comment: Some(format!(
                        "adze --break-on-failure: step \"{}\" of TaskRun \"{}\"",
                        step.name, self.request.name
                    )),
                    // The container has exited: nothing to pause.
                    pause: false,
                    ..Default::default()
                },
                ContainerConfig::default(),
            )
            .await;
        let committed = match committed {
            Ok(_) => Some(format!("{DEBUG_REPOSITORY}:{tag}")),
            Err(e) => {
                self.warn(format!(
                    "--break-on-failure: cannot save the failed step's files outside its \
                     mounts ({e}); the shell runs its image as it was"
                ));
                None
            }
        };
        let body = ContainerCreateBody {
            image: committed.clone().or(config.image),
            env: config.env,
            working_dir: config.working_dir.filter(|w| !w.is_empty()),
            user: config.user.filter(|u| !u.is_empty()),
            labels: config.labels,
            host_config: inspect.host_config,
            ..Default::default()
        };
        Ok((idle_shell(body), committed))
    }

    /// Creates and starts the debug container from `config`, hands it to the session, and
    /// removes it (and `committed`) once the session is over or the TaskRun is stopped.
    async fn attend(
        &self,
        step: &StepPlan,
        cause: BreakCause,
        config: ContainerCreateBody,
        committed: Option<String>,
    ) {
        let Some(breakpoints) = self.breakpoints().cloned() else {
            return;
        };
        let session = breakpoints.session().clone();
        self.attend_with(&session, step, &cause, config, committed)
            .await;
        session.resumed(&cause);
    }

    /// [`TaskRunJob::attend`] between the session's `stopped` and `resumed`.
    async fn attend_with(
        &self,
        session: &Arc<dyn BreakSession>,
        step: &StepPlan,
        cause: &BreakCause,
        config: ContainerCreateBody,
        committed: Option<String>,
    ) {
        let debug = match self.debug_container(step, config, committed.clone()).await {
            Ok(debug) => debug,
            Err(e) => {
                self.warn(format!(
                    "breakpoint at step \"{}\": cannot create its debug container: {e}",
                    step.name
                ));
                remove_image(&self.docker, committed.as_deref()).await;
                return;
            }
        };
        let entry = match retry::start_container(&self.docker, &debug.id).await {
            Ok(()) => match shell_of(&self.docker, &debug.id).await {
                Some(program) => Entry::Shell {
                    container: debug.name.clone(),
                    program,
                },
                None => Entry::NoShell {
                    container: debug.name.clone(),
                    why: self.why_no_shell(&debug.id).await,
                },
            },
            Err(e) => Entry::NoShell {
                container: debug.name.clone(),
                why: e.to_string(),
            },
        };
        let at = Break {
            task: self.task_path().join("/"),
            task_run: self.request.name.clone(),
            step: step.name.clone(),
            cause: cause.clone(),
            entry,
            // The step's image as written: the configuration holds the engine's id for it.
            image: debug
                .committed
                .clone()
                .unwrap_or_else(|| step.image.clone()),
            working_dir: None,
            mounts: Vec::new(),
            env: step.env.iter().map(|e| e.name.clone()).collect(),
        };
        let at = self.described(at, &debug.id).await;
        self.options
            .progress
            .send(Progress::Breakpoint { stop: at.clone() });
        let ended_event = Progress::BreakpointEnded { stop: at.clone() };
        let end = Arc::new(AtomicBool::new(false));
        let session = session.clone();
        let ended = end.clone();
        let mut attended = tokio::task::spawn_blocking(move || session.attend(&at, &ended));
        let mut stop = self.stop.clone();
        let stopped = tokio::select! {
            _ = &mut attended => false,
            seen = stop.wait_for(Option::is_some) => seen.is_ok(),
        };
        if stopped {
            end.store(true, Ordering::SeqCst);
            let _ = attended.await;
        }
        let _ = container::remove(&self.docker, &debug.id).await;
        remove_image(&self.docker, debug.committed.as_deref()).await;
        self.options.progress.send(ended_event);
    }

    /// Why the started container `id` runs no shell: an init process (steps run one by one
    /// have one) starts even where `sh` cannot, and exits with it.
    async fn why_no_shell(&self, id: &str) -> String {
        let state = retry::idempotent(|| self.docker.inspect_container(id, None))
            .await
            .ok()
            .and_then(|i| i.state);
        match state {
            Some(s) if s.running != Some(true) => format!(
                "`sh` did not run: the container exited with code {}",
                s.exit_code.unwrap_or_default()
            ),
            _ => "`sh` does not run in it".to_owned(),
        }
    }

    /// Creates the debug container; its name is what the user types.
    async fn debug_container(
        &self,
        step: &StepPlan,
        mut config: ContainerCreateBody,
        committed: Option<String>,
    ) -> Result<DebugContainer, bollard::errors::Error> {
        config
            .labels
            .get_or_insert_with(Default::default)
            .insert(DEBUG_LABEL.to_owned(), "true".to_owned());
        let hint = format!("debug-{}-{}", self.request.name, step.name);
        let created = retry::create_container(&self.docker, &hint, config).await?;
        let name = retry::idempotent(|| self.docker.inspect_container(&created.id, None))
            .await
            .ok()
            .and_then(|i| i.name)
            .map_or_else(
                || created.id.clone(),
                |n| n.trim_start_matches('/').to_owned(),
            );
        Ok(DebugContainer {
            id: created.id,
            name,
            committed,
        })
    }

    /// `at` with the working directory and mounts the engine reports for container `id`.
    async fn described(&self, mut at: Break, id: &str) -> Break {
        let Ok(inspect) = retry::idempotent(|| self.docker.inspect_container(id, None)).await
        else {
            return at;
        };
        at.working_dir = inspect
            .config
            .and_then(|c| c.working_dir)
            .filter(|w| !w.is_empty());
        let mut mounts: Vec<(String, String)> = inspect
            .mounts
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| Some((m.destination?, m.source.unwrap_or_default())))
            .collect();
        mounts.sort();
        at.mounts = mounts;
        at
    }
}

/// `config` running an idle `sh` instead of the step's program: `sh` waits on a stdin kept
/// open and never written.
fn idle_shell(mut config: ContainerCreateBody) -> ContainerCreateBody {
    config.entrypoint = Some(vec!["sh".to_owned()]);
    config.cmd = Some(Vec::new());
    config.open_stdin = Some(true);
    config.stdin_once = Some(false);
    config.attach_stdin = Some(false);
    config.tty = Some(false);
    config
}

/// The tag of the image a failed step is committed to: unique to this process, and valid
/// as a tag (at most 128 of `[A-Za-z0-9_.-]`).
fn image_tag(task_run: &str, step: &str) -> String {
    let raw = format!("{task_run}-{step}-{}", std::process::id());
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let start = clean.len().saturating_sub(128);
    clean[start..].to_owned()
}

/// `bash` when the running container `id` has it on its `PATH`, else `sh`; `None` when no
/// `sh` answers in it (the image has none, or the container already exited).
async fn shell_of(docker: &Docker, id: &str) -> Option<String> {
    let exec = docker
        .create_exec(
            id,
            ExecConfig {
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "if command -v bash >/dev/null 2>&1; then echo bash; else echo sh; fi".into(),
                ]),
                attach_stdout: Some(true),
                attach_stderr: Some(false),
                ..Default::default()
            },
        )
        .await
        .ok()?;
    let bollard::exec::StartExecResults::Attached { mut output, .. } =
        docker.start_exec(&exec.id, None).await.ok()?
    else {
        return None;
    };
    let mut said = String::new();
    while let Some(Ok(chunk)) = output.next().await {
        said.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    match said.trim() {
        "bash" => Some("bash".to_owned()),
        "sh" => Some("sh".to_owned()),
        _ => None,
    }
}

/// Removes a committed image, if there is one.
async fn remove_image(docker: &Docker, image: Option<&str>) {
    if let Some(image) = image {
        let options = RemoveImageOptions {
            force: true,
            ..Default::default()
        };
        let _ = docker.remove_image(image, Some(options), None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_shell_replaces_the_program_and_keeps_the_rest() {
        let config = ContainerCreateBody {
            image: Some("busybox".into()),
            entrypoint: Some(vec!["/tekton/bin/entrypoint".into()]),
            cmd: Some(vec!["-post_file".into()]),
            working_dir: Some("/workspace/src".into()),
            ..Default::default()
        };
        let idle = idle_shell(config);
        assert_eq!(idle.entrypoint, Some(vec!["sh".to_owned()]));
        assert_eq!(idle.cmd, Some(Vec::new()));
        assert_eq!(idle.open_stdin, Some(true));
        assert_eq!(idle.working_dir.as_deref(), Some("/workspace/src"));
    }

    #[test]
    fn image_tags_are_valid_whatever_the_names() {
        let tag = image_tag("run-ä", "step");
        assert!(tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)));
        assert!(tag.starts_with("run---step-"), "{tag}");
        assert!(image_tag(&"x".repeat(300), "s").len() <= 128);
    }
}
