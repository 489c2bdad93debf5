//! Telling a step that ended from an engine that went away, and waiting for the engine to come
//! back (`--engine-grace`).
//!
//! # Why
//!
//! A Docker daemon that stops mid-run (a package upgrade, an OOM kill, `systemctl restart
//! docker`) ends the wait on a step's container in one of two ways: the connection breaks
//! (dockerd with `--live-restore` leaves containers running), or the daemon's shutdown stops
//! the container (SIGTERM, then SIGKILL: exit 143 or 137) and the wait reports that exit just
//! before the daemon goes. Read naively, either looks like the step failing (`StepFailed`,
//! exit 1). Neither is the step's doing, so neither may be reported as such.
//!
//! # Design
//!
//! - Every time a wait ends, [`confirm_exit`] asks the engine about the container. If it
//!   answers, its answer is the truth: a container still running is watched again, an exited
//!   one ended by itself (a `docker kill` by hand stays the step's failure, as before).
//! - If it does not answer and [`is_connection_loss`] says why is the transport (refused,
//!   reset, socket gone, timed out), the engine is pinged every [`PING_EVERY`] for up to the
//!   grace period. A daemon that is shutting down refuses new connections at once, even while
//!   it still stops containers, so this tells a shutdown from a step exit without a race.
//! - Once the engine answers again, [`after_outage`] decides: a container that still runs is
//!   watched again and the run goes on (the `--live-restore` case); one that exited with 143
//!   or 137 (not OOM-killed) was stopped by the shutdown, and one that no longer exists was
//!   lost with it: the step is interrupted. Any other exit happened by itself while the
//!   engine was away (possible with `--live-restore`) and is the step's own result.
//! - An interrupted step ends its TaskRun with [`REASON`] and [`lost_message`]; the executor
//!   reports [`ExecOutcome::EngineLost`](crate::run::ExecOutcome::EngineLost), so the driver
//!   starts nothing more and `adze run` exits 3.
//!
//! # Why `PodEvicted`
//!
//! Tekton has no reason for "the container runtime died"; on a cluster that is a node
//! failure, after which the kubelet or the node controller evicts the pod, and Tekton then
//! fails the TaskRun with `PodEvicted` and the pod's message (spec §4.7, first rule). It is
//! the reason Tekton gives when a TaskRun's pod disappears for reasons outside the task, it
//! is not `StepFailed`, and a tool watching Tekton's reasons already treats it as the
//! platform's fault. The unfinished steps are marked terminated with that reason, as Tekton
//! does for a cancel or a timeout, so the interrupted step never reads as its own failure.
//!
//! # Invariants
//!
//! - A step whose container the engine's shutdown killed is never reported with its exit code.
//! - The wait for the engine is bounded by the grace period (plus one ping's time).
//! - Nothing here creates, starts, removes or retries anything: it only asks and waits.
//!
//! # Not yet
//!
//! - Logs and `stdoutConfig`/`stderrConfig` files of a step watched again after a restart
//!   stop at the restart (the output stream is not re-attached).
//! - A cancel (Ctrl-C) or the TaskRun's timeout during the grace period takes effect once it
//!   ends (it is bounded by `--engine-grace`).
//! - Sidecars are not checked after a restart; a TaskRun whose engine was lost while pulling
//!   images or creating containers fails at once, without the grace period.

use std::time::{Duration, Instant};

use bollard::errors::Error as DockerError;
use bollard::models::ContainerInspectResponse;
use bollard::Docker;

use super::retry;

/// The TaskRun reason for a TaskRun interrupted by the engine's loss (see the module docs).
pub(super) const REASON: &str = "PodEvicted";

/// How often the engine is pinged during the grace period.
const PING_EVERY: Duration = Duration::from_millis(250);

/// The condition message of a TaskRun interrupted by the engine's loss.
pub(super) fn lost_message(cause: &str) -> String {
    format!("the container engine stopped during the run: {cause}")
}

/// True when `e` says the engine did not answer at all (connection refused or reset, socket
/// missing, request timed out), as opposed to an answer refusing the request.
pub(super) fn is_connection_loss(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::IOError { .. }
            | DockerError::HyperLegacyError { .. }
            | DockerError::HyperResponseError { .. }
            | DockerError::HttpClientError { .. }
            | DockerError::RequestTimeoutError
            | DockerError::SocketNotFoundError(_)
    )
}

/// What the engine says about a step's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// It still runs.
    Running,
    /// It exited with this code.
    Exited {
        /// The exit code.
        code: i64,
        /// The kernel killed it for lack of memory.
        oom: bool,
    },
    /// The engine does not know it (removed, or lost with the engine's state).
    Gone,
}

impl Seen {
    /// The container's state from an inspect answer.
    fn of(inspect: &ContainerInspectResponse) -> Seen {
        let state = inspect.state.clone().unwrap_or_default();
        if state.running == Some(true) {
            return Seen::Running;
        }
        Seen::Exited {
            code: state.exit_code.unwrap_or_default(),
            oom: state.oom_killed == Some(true),
        }
    }
}

/// What to do once a wait on a step's container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The container still runs: wait on it again; `outage` when the engine had stopped
    /// answering in between (worth telling the user).
    Resume {
        /// The engine had stopped answering.
        outage: bool,
    },
    /// The container ended by itself: report its exit as the step's.
    Exited,
    /// The engine stopped and took the step with it, for this reason.
    Lost(String),
}

/// Decides from what the engine says about the container, `outage` telling whether the
/// engine had stopped answering in between.
pub(super) fn after_outage(seen: Seen, outage: bool) -> Verdict {
    match (seen, outage) {
        (Seen::Running, outage) => Verdict::Resume { outage },
        (Seen::Exited { code, oom: false }, true) if killed_by_shutdown(code) => {
            Verdict::Lost(shutdown_stopped(code))
        }
        (Seen::Gone, true) => {
            Verdict::Lost("the engine came back without the step's container".to_owned())
        }
        (Seen::Exited { .. } | Seen::Gone, _) => Verdict::Exited,
    }
}

/// The cause of a step container the engine's shutdown stopped with `code`.
pub(super) fn shutdown_stopped(code: i64) -> String {
    format!(
        "the engine came back, but its shutdown had stopped the step's container (exit code \
         {code}); start dockerd with --live-restore to keep containers running across a \
         daemon restart"
    )
}

/// Exit codes of a container stopped by a signal a shutdown sends: SIGTERM (143), SIGKILL (137).
pub(super) fn killed_by_shutdown(code: i64) -> bool {
    matches!(code, 137 | 143)
}

/// After a wait on container `id` ended: asks the engine what became of it, waiting up to
/// `grace` for the engine to answer when it does not (see the module docs). `outage`: the
/// wait itself saw the engine stop answering.
pub(super) async fn confirm_exit(
    docker: &Docker,
    id: &str,
    grace: Duration,
    outage: bool,
) -> Verdict {
    let lost = match docker.inspect_container(id, None).await {
        Ok(inspect) => return after_outage(Seen::of(&inspect), outage),
        Err(e) if is_connection_loss(&e) => e,
        // An answer refusing the inspect (the container is gone): the caller reads the exit
        // as it always did.
        Err(_) => return Verdict::Exited,
    };
    if wait_for_engine(docker, grace).await.is_err() {
        return Verdict::Lost(format!(
            "it stopped answering ({}) and did not answer again within {} (--engine-grace)",
            root_cause(&lost),
            describe(grace)
        ));
    }
    // The engine answers again: a call that fails on the way now is a flaky call like any
    // other, retried before it decides the step's fate.
    match retry::idempotent(|| docker.inspect_container(id, None)).await {
        Ok(inspect) => after_outage(Seen::of(&inspect), true),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => after_outage(Seen::Gone, true),
        Err(e) => Verdict::Lost(format!(
            "the engine came back but cannot tell what became of the step's container: {e}"
        )),
    }
}

/// The innermost error of `e`'s chain (`Connection refused (os error 111)`), which says more
/// than the client's wrappers around it.
pub(super) fn root_cause(e: &DockerError) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}

/// Pings the engine until it answers or `grace` has passed; the last error if it never did.
async fn wait_for_engine(docker: &Docker, grace: Duration) -> Result<(), DockerError> {
    let until = Instant::now() + grace;
    loop {
        let error = match docker.ping().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() >= until {
            return Err(error);
        }
        tokio::time::sleep(PING_EVERY.min(until.saturating_duration_since(Instant::now()))).await;
    }
}

/// A grace period as the user wrote it (`10s`, `1.5s`).
fn describe(grace: Duration) -> String {
    format!("{}s", grace.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_container_is_watched_again_whatever_happened() {
        assert_eq!(
            after_outage(Seen::Running, true),
            Verdict::Resume { outage: true }
        );
        assert_eq!(
            after_outage(Seen::Running, false),
            Verdict::Resume { outage: false }
        );
    }

    #[test]
    fn shutdown_signals_after_an_outage_are_the_engine_s_doing() {
        for code in [137, 143] {
            let verdict = after_outage(Seen::Exited { code, oom: false }, true);
            let Verdict::Lost(why) = verdict else {
                panic!("exit {code} after an outage must be lost, got {verdict:?}");
            };
            assert!(why.contains(&format!("exit code {code}")), "{why}");
        }
        assert!(matches!(after_outage(Seen::Gone, true), Verdict::Lost(_)));
    }

    #[test]
    fn exits_the_engine_answered_for_stay_the_step_s_own() {
        // A `docker kill` by hand while the engine runs is the step failing, as before.
        for code in [0, 1, 137, 143] {
            assert_eq!(
                after_outage(Seen::Exited { code, oom: false }, false),
                Verdict::Exited
            );
        }
        // An exit of its own while the engine was away, and an OOM kill, are the step's.
        assert_eq!(
            after_outage(
                Seen::Exited {
                    code: 0,
                    oom: false
                },
                true
            ),
            Verdict::Exited
        );
        assert_eq!(
            after_outage(
                Seen::Exited {
                    code: 2,
                    oom: false
                },
                true
            ),
            Verdict::Exited
        );
        assert_eq!(
            after_outage(
                Seen::Exited {
                    code: 137,
                    oom: true
                },
                true
            ),
            Verdict::Exited
        );
    }

    #[test]
    fn transport_errors_are_losses_answers_are_not() {
        let io = DockerError::IOError {
            err: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert!(is_connection_loss(&io));
        assert!(is_connection_loss(&DockerError::RequestTimeoutError));
        assert!(is_connection_loss(&DockerError::SocketNotFoundError(
            "/run/docker.sock".into()
        )));
        let answered = DockerError::DockerResponseServerError {
            status_code: 500,
            message: "boom".into(),
        };
        assert!(!is_connection_loss(&answered));
    }

    #[test]
    fn the_cause_is_the_innermost_error() {
        let io = DockerError::IOError {
            err: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(root_cause(&io), "connection refused");
    }

    #[test]
    fn the_message_names_the_engine_and_the_cause() {
        assert_eq!(
            lost_message("connection refused"),
            "the container engine stopped during the run: connection refused"
        );
        assert_eq!(describe(Duration::from_millis(1500)), "1.5s");
    }
}
