//! The containers that live beside a TaskRun's steps: the network holder and the sidecars.
//!
//! # Why a holder
//!
//! In a pod every container shares one network namespace, so a step reaches its sidecars on
//! `localhost`. Docker gives that with `network_mode: container:<id>`, but the namespace lives
//! only as long as the container that owns it. A sidecar cannot own it (it may exit or be
//! stopped first), so a dedicated holder container is started first and everything joins it.
//!
//! The holder runs `sh -c` with an idle loop, in the first image of the TaskRun that has a
//! shell: the sidecars' images are tried first, then the steps'. No extra image is needed
//! (none can be pulled offline, and a `pause` image would be one more thing to install);
//! a TaskRun whose images all lack `sh` fails with `PodCreationFailed` saying so.
//!
//! Under `podTemplate.hostNetwork: true` the holder joins the host's network namespace, so
//! every container joining it does too, as in a Pod on a node; readiness probes then go to
//! `127.0.0.1`.
//!
//! # Lifecycle (§4.9)
//!
//! Holder, then every sidecar, started before the first step; steps run once each sidecar is
//! ready (see [`readiness`](super::readiness)) or has exited. When the steps are done,
//! the sidecars' states are observed for [`evaluate`](crate::reconcile::task_run::evaluate),
//! then they are stopped (SIGTERM, grace, SIGKILL) and reported terminated; all containers
//! are removed by [`Pod::remove`](super::pod::Pod::remove) unless kept.

use std::time::{Duration, Instant};

use bollard::Docker;
use futures_util::future::join_all;
use tokio::sync::watch;

use super::container::{self, Role, RunDir};
use super::logs;
use super::output_files::OutputFiles;
use super::pod::{Pod, PodFailure, Sidecar};
use super::readiness::{Check, Readiness};
use super::retry;
use super::task_run::{now, Stop, TaskRunJob};
use crate::reconcile::task_run::{
    sidecar_container, ContainerObservation, SidecarObservation, StepContainerState, StepState,
    StepTerminated, TerminatedObservation,
};
use crate::reconcile::Timestamp;
use crate::run::StepReport;
use crate::status::parse_rfc3339;

/// The message of a sidecar adze stopped because the steps were done.
pub const STOPPED_MESSAGE: &str = "Sidecar container stopped by adze after the steps finished";

/// A container's state as the engine reports it, observed now.
struct Seen {
    running: bool,
    /// When it exited, as the engine recorded it (whether it ended before the steps did
    /// decides if its failure counts, §4.9).
    finished: Option<Timestamp>,
    exit_code: i32,
    oom: bool,
    image_id: String,
}

async fn inspect(docker: &Docker, id: &str) -> Option<Seen> {
    let i = retry::idempotent(|| docker.inspect_container(id, None))
        .await
        .ok()?;
    let state = i.state.unwrap_or_default();
    Some(Seen {
        running: state.running == Some(true),
        finished: state.finished_at.as_deref().and_then(parse_rfc3339),
        exit_code: i32::try_from(state.exit_code.unwrap_or(0)).unwrap_or(1),
        oom: state.oom_killed == Some(true),
        image_id: i.image.unwrap_or_default(),
    })
}

impl TaskRunJob {
    /// Starts the network holder and every sidecar.
    pub(super) async fn start_pod(&self, dir: &RunDir, pod: &mut Pod) -> Result<(), PodFailure> {
        self.start_holder(pod).await?;
        let holder = pod.holder.clone();
        for plan in &self.request.sidecars {
            let plan = &self.with_image_command(plan).await;
            let container = format!("sidecar-{}", plan.name);
            if let Err(message) = self.check_non_root(plan, &container).await {
                return Err(PodFailure::Refused(
                    "CreateContainerConfigError".into(),
                    message,
                ));
            }
            let resolved = self.with_resolved_image(plan);
            let config = container::container_config(
                &self.request.name,
                &resolved,
                Role::Sidecar,
                dir,
                holder.as_deref(),
                &self.request.pod,
                None,
            )
            .map_err(|e| {
                PodFailure::Refused(
                    "PodCreationFailed".into(),
                    format!(
                        "cannot prepare \"{}\" (its script or working directory): {e}",
                        sidecar_container(&plan.name)
                    ),
                )
            })?;
            let hint = format!("{}-{}", self.request.name, sidecar_container(&plan.name));
            let created = retry::create_container(&self.docker, &hint, config)
                .await
                .map_err(|e| {
                    PodFailure::Refused(
                        "CreateContainerConfigError".into(),
                        format!(
                            "\"{}\" could not be created: {e}",
                            sidecar_container(&plan.name)
                        ),
                    )
                })?;
            let mut sidecar = Sidecar {
                plan: plan.clone(),
                id: Some(created.id.clone()),
                started: None,
                image_id: String::new(),
                stopped: false,
                log_task: None,
            };
            if self.options.logs {
                if let Ok(output) = logs::attach(&self.docker, &created.id).await {
                    sidecar.log_task = Some(tokio::spawn(logs::forward(
                        output,
                        self.request.name.clone(),
                        sidecar_container(&plan.name),
                        self.options.progress.clone(),
                        true,
                        OutputFiles::default(),
                        None,
                    )));
                }
            }
            let started = now();
            match retry::start_container(&self.docker, &created.id).await {
                Ok(()) => sidecar.started = Some(started),
                // Like a pod's container that cannot run: it is reported terminated and only
                // matters if the steps fail too (§4.9).
                Err(e) => {
                    sidecar.started = Some(started);
                    self.warn(format!(
                        "\"{}\" could not be started: {e}",
                        sidecar_container(&plan.name)
                    ));
                }
            }
            pod.sidecars.push(sidecar);
        }
        Ok(())
    }

    /// Waits until every sidecar is ready or has exited, the deadline passes or the TaskRun
    /// is interrupted; the steps then see the deadline or the interruption themselves.
    pub(super) async fn wait_until_ready(&self, pod: &Pod, deadline: Option<Instant>) {
        let ip = match &pod.holder {
            // The host's network has no address of its own in the engine's answer; the
            // sidecars listen on this machine's loopback, where adze runs.
            Some(_) if self.request.pod.host_network => Some("127.0.0.1".to_owned()),
            Some(id) => holder_ip(&self.docker, id).await,
            None => None,
        };
        let mut stop = self.stop.clone();
        for s in &pod.sidecars {
            let Some(id) = &s.id else { continue };
            let probe = match Readiness::of(
                s.plan.readiness_probe.as_ref(),
                s.plan.startup_probe.as_ref(),
            ) {
                Ok(Some(probe)) => probe,
                Ok(None) => continue,
                Err(why) => {
                    self.warn(format!(
                        "\"{}\": {why}; it counts as ready once running",
                        sidecar_container(&s.plan.name)
                    ));
                    continue;
                }
            };
            if ip.is_none() && !matches!(probe.check, Check::Exec(_)) {
                self.warn(format!(
                    "\"{}\": its network has no address to probe; it counts as ready \
                     once running",
                    sidecar_container(&s.plan.name)
                ));
                continue;
            }
            if !pause(&mut stop, probe.initial_delay, deadline).await {
                return;
            }
            loop {
                let running = inspect(&self.docker, id).await.is_some_and(|s| s.running);
                if !running || probe.attempt(&self.docker, id, ip.as_deref()).await {
                    break;
                }
                if !pause(&mut stop, probe.period, deadline).await {
                    return;
                }
            }
        }
    }

    /// Starts the holder in the first image that has a shell.
    pub(super) async fn start_holder(&self, pod: &mut Pod) -> Result<(), PodFailure> {
        let mut images: Vec<&str> = Vec::new();
        for plan in self.request.sidecars.iter().chain(&self.request.steps) {
            if !images.contains(&plan.image.as_str()) {
                images.push(&plan.image);
            }
        }
        let mut errors = Vec::new();
        for image in images {
            let config = container::holder_config(
                &self.request.name,
                &self.engine_image(image),
                &self.request.pod,
                self.options.keep,
            );
            let hint = format!("{}-holder", self.request.name);
            let created = match retry::create_container(&self.docker, &hint, config).await {
                Ok(created) => created,
                Err(e) => {
                    errors.push(format!("{image}: {e}"));
                    continue;
                }
            };
            match retry::start_container(&self.docker, &created.id).await {
                Ok(()) => {
                    pod.holder = Some(created.id);
                    return Ok(());
                }
                Err(e) => {
                    let _ = container::remove(&self.docker, &created.id).await;
                    errors.push(format!("{image}: {e}"));
                }
            }
        }
        Err(PodFailure::Refused(
            "PodCreationFailed".into(),
            format!(
                "no image of TaskRun \"{}\" can run `sh` to hold the network namespace the \
                 sidecars and steps share ({})",
                self.request.name,
                errors.join("; ")
            ),
        ))
    }

    /// The sidecars' states as the steps finished, for `evaluate`.
    pub(super) async fn observe_sidecars(&self, pod: &Pod) -> Vec<SidecarObservation> {
        let mut out = Vec::with_capacity(pod.sidecars.len());
        for s in &pod.sidecars {
            let seen = match &s.id {
                Some(id) => inspect(&self.docker, id).await,
                None => None,
            };
            let started = s.started.unwrap_or_else(now);
            let state = match seen {
                Some(seen) if seen.running => ContainerObservation::Running { started },
                Some(seen) => ContainerObservation::Terminated(TerminatedObservation {
                    exit_code: seen.exit_code,
                    reason: exit_reason(&seen).into(),
                    started,
                    finished: seen.finished.unwrap_or_else(now),
                    markers: None,
                }),
                None => ContainerObservation::Waiting {
                    reason: "ContainerCreating".into(),
                    message: String::new(),
                },
            };
            out.push(SidecarObservation {
                name: s.plan.name.clone(),
                state,
            });
        }
        out
    }

    /// Stops the sidecars still running and returns `status.sidecars`.
    pub(super) async fn stop_sidecars(&self, pod: &mut Pod) -> Vec<StepReport> {
        let running: Vec<(usize, String)> = {
            let mut running = Vec::new();
            for (i, s) in pod.sidecars.iter().enumerate() {
                if let Some(id) = &s.id {
                    if inspect(&self.docker, id)
                        .await
                        .is_some_and(|seen| seen.running)
                    {
                        running.push((i, id.clone()));
                    }
                }
            }
            running
        };
        join_all(running.iter().map(|(_, id)| self.stop_container(id))).await;
        for (i, _) in running {
            pod.sidecars[i].stopped = true;
        }
        let mut reports = Vec::with_capacity(pod.sidecars.len());
        for s in &mut pod.sidecars {
            if let Some(task) = s.log_task.take() {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
            }
            let seen = match &s.id {
                Some(id) => inspect(&self.docker, id).await,
                None => None,
            };
            let finished = now();
            let state = match &seen {
                Some(seen) => StepContainerState::Terminated(StepTerminated {
                    exit_code: seen.exit_code,
                    reason: if s.stopped {
                        "Completed".into()
                    } else {
                        exit_reason(seen).into()
                    },
                    message: if s.stopped {
                        STOPPED_MESSAGE.into()
                    } else {
                        String::new()
                    },
                    started_at: s.started.unwrap_or(finished),
                    finished_at: finished,
                }),
                None => StepContainerState::Waiting {
                    reason: "ContainerCreating".into(),
                    message: String::new(),
                },
            };
            if let Some(seen) = &seen {
                s.image_id = self.status_image_id(&s.plan.image, &seen.image_id);
            }
            reports.push(StepReport {
                state: StepState {
                    name: s.plan.name.clone(),
                    container: sidecar_container(&s.plan.name),
                    state,
                    termination_reason: String::new(),
                },
                image_id: s.image_id.clone(),
                results: Vec::new(),
            });
        }
        reports
    }
}

/// Sleeps `period`; false when the deadline passed or the TaskRun was interrupted first.
async fn pause(
    stop: &mut watch::Receiver<Option<Stop>>,
    period: Duration,
    deadline: Option<Instant>,
) -> bool {
    if stop.borrow().is_some() {
        return false;
    }
    let until = Instant::now() + period;
    let until = deadline.map_or(until, |d| d.min(until));
    let sleep = tokio::time::sleep_until(until.into());
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return deadline.is_none_or(|d| Instant::now() < d),
            changed = stop.changed() => {
                if changed.is_err() || stop.borrow().is_some() {
                    return false;
                }
            }
        }
    }
}

/// The address of the network namespace every container of the TaskRun shares.
async fn holder_ip(docker: &Docker, id: &str) -> Option<String> {
    let settings = retry::idempotent(|| docker.inspect_container(id, None))
        .await
        .ok()?
        .network_settings?;
    settings
        .networks?
        .into_values()
        .filter_map(|n| n.ip_address)
        .find(|ip| !ip.is_empty())
}

/// The runtime's reason for a container that exited by itself.
fn exit_reason(seen: &Seen) -> &'static str {
    match (seen.oom, seen.exit_code) {
        (true, _) => "OOMKilled",
        (false, 0) => "Completed",
        _ => "Error",
    }
}
