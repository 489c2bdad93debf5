//! Engine calls that survive a flaky engine: bounded retries for idempotent calls, and
//! check-before-retry for the calls that must not happen twice (create, start).
//!
//! # Design
//!
//! A call is retried only when its failure says nothing about the request itself
//! ([`is_transient`]): the connection was refused, reset or closed before the whole answer
//! arrived, or the engine answered 5xx. A 4xx is the engine's considered answer and is
//! returned at once. Retries follow [`ENGINE_CALLS`]: at most [`ATTEMPTS`] attempts, waiting
//! 0.1, 0.2, 0.4, 0.8 and 1.6 s in between (3.1 s in all), on top of each attempt's own
//! duration (bollard's request timeout, 120 s, bounds an attempt whose answer never comes).
//!
//! Idempotent calls (inspect, list, wait, remove, kill, ping, image inspect) are simply
//! repeated through [`idempotent`]. The others are repeated only once the engine says the
//! first attempt did not take effect:
//!
//! - [`create_container`] gives every container a unique name and a creation-token label
//!   ([`CREATION_LABEL`]). After a lost answer it looks the name up: found with that token,
//!   it is the container the lost answer was about; absent, the create is sent again; and
//!   should the first request land late, the engine refuses the duplicate name (409), so a
//!   container is never created twice.
//! - [`start_container`] inspects the container after a lost answer and starts it again only
//!   while it is still `created` without an error the engine recorded; a started (or exited)
//!   container is never started again, so a quick step never runs twice.
//!
//! Pulls are not retried: a pull cut off mid-stream fails the TaskRun with
//! `TaskRunImagePullFailed` ([`images`](super::images)), and the next run pulls anew.
//!
//! # Invariants
//!
//! - When retries are exhausted on a connection error the last error is returned unchanged,
//!   so the layer above can tell a lost engine from a failing call; a 5xx keeps its status
//!   and its message says how many attempts saw it.
//! - Nothing here sleeps longer than the bound above between two attempts of one call.
//!
//! # Not yet
//!
//! - Retrying a pull, or resuming one: the next run pulls anew.
//! - The `exec` of a readiness probe is not retried (the probe is repeated every
//!   `periodSeconds`); `logs` are attached once, and an attach cut off loses the rest of them.
//! - A start whose request the engine takes up only after adze's state check (a reset
//!   connection whose request is still queued there) may start a container that has exited
//!   in between; the engine serialises both starts, so only that narrow window remains.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, ContainerCreateResponse, ContainerStateStatusEnum};
use bollard::query_parameters::CreateContainerOptions;
use bollard::Docker;

/// The label holding a container's creation token: the exact key a lost create is found by.
pub const CREATION_LABEL: &str = "adze.dev/creation";

/// The most attempts one engine call gets.
pub const ATTEMPTS: u32 = 6;

/// The retry schedule of every engine call.
pub(super) const ENGINE_CALLS: Backoff = Backoff {
    attempts: ATTEMPTS,
    first_delay: Duration::from_millis(100),
};

/// A bounded exponential backoff: `attempts` tries, the waits doubling from `first_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Backoff {
    /// The most attempts, the first included.
    pub attempts: u32,
    /// The wait before the second attempt.
    pub first_delay: Duration,
}

impl Backoff {
    /// The wait after failed attempt `attempt` (0-based).
    pub fn delay(self, attempt: u32) -> Duration {
        self.first_delay.saturating_mul(1 << attempt.min(16))
    }

    /// The sum of every wait: how much longer than its attempts a failing call takes.
    pub fn total_delay(self) -> Duration {
        (0..self.attempts.saturating_sub(1))
            .map(|a| self.delay(a))
            .sum()
    }

    /// Runs `call` (a closure building the request's future) until it succeeds, fails with a
    /// non-transient error, or the attempts are used up.
    pub async fn run<T, F, Fut>(self, mut call: F) -> Result<T, DockerError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DockerError>>,
    {
        let mut attempt = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(e) if !is_transient(&e) => return Err(e),
                Err(e) if attempt + 1 >= self.attempts => return Err(self.exhausted(e)),
                Err(_) => {
                    tokio::time::sleep(self.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// The error to return once every attempt failed: a 5xx says it was not a one-off.
    pub fn exhausted(self, e: DockerError) -> DockerError {
        match e {
            DockerError::DockerResponseServerError {
                status_code,
                message,
            } => DockerError::DockerResponseServerError {
                status_code,
                message: format!(
                    "{message} (still so after {} attempts over {:.1} s)",
                    self.attempts,
                    self.total_delay().as_secs_f64()
                ),
            },
            e => e,
        }
    }
}

/// Runs an idempotent engine call with the [`ENGINE_CALLS`] retries.
pub(super) async fn idempotent<T, F, Fut>(call: F) -> Result<T, DockerError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DockerError>>,
{
    ENGINE_CALLS.run(call).await
}

/// Whether a failed engine call may succeed if repeated unchanged: a connection refused,
/// reset, or closed before the answer was complete, or a 5xx answer. Never a 4xx.
pub fn is_transient(e: &DockerError) -> bool {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => {
            (500..600).contains(status_code)
        }
        // Answers of the engine about the request or the container, not about the transport.
        DockerError::DockerStreamError { .. }
        | DockerError::DockerContainerWaitError { .. }
        | DockerError::JsonDataError { .. }
        | DockerError::RequestTimeoutError => false,
        // Transparent variants hide their own error from `source()`: start from it.
        DockerError::IOError { err } => lost_connection(err),
        DockerError::HyperResponseError { err } => lost_connection(err),
        DockerError::HyperLegacyError { err } => lost_connection(err),
        e => lost_connection(e),
    }
}

/// hyper's descriptions of a connection that broke (`hyper::Error`'s `Display`). bollard's
/// streams (pull progress, logs) pass hyper's error on as this text only, in an
/// `io::ErrorKind::Other`, so the text is all there is to recognise it by.
const HYPER_TRANSPORT_ERRORS: [&str; 4] = [
    "error reading a body from connection",
    "connection closed before message completed",
    "connection error",
    "operation was canceled",
];

/// Whether any cause in `e`'s chain is a broken connection.
fn lost_connection(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::NotConnected
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            ) {
                return true;
            }
            let text = io.to_string();
            if io.kind() == io::ErrorKind::Other
                && HYPER_TRANSPORT_ERRORS.iter().any(|m| text.starts_with(m))
            {
                return true;
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                return true;
            }
        }
        if let Some(client) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            if client.is_connect() {
                return true;
            }
        }
        // A wrapping io::Error reports its inner error's source, not the inner error.
        cause = match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// Distinguishes the creation tokens of one process.
static TOKENS: AtomicU64 = AtomicU64::new(0);

/// A token no other creation shares: process, time and a counter.
fn creation_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = TOKENS.fetch_add(1, Ordering::Relaxed);
    format!("{:x}-{:x}-{n:x}", std::process::id(), nanos)
}

/// A container name the engine accepts (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), readable in
/// `docker ps`: `adze-<hint>-<token>`.
fn container_name(hint: &str, token: &str) -> String {
    let hint: String = hint
        .chars()
        .take(120)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("adze-{hint}-{token}")
}

/// Creates a container exactly once, whatever answers are lost on the way; `hint` names it
/// for people (`<TaskRun>-step-<name>`).
pub(super) async fn create_container(
    docker: &Docker,
    hint: &str,
    mut config: ContainerCreateBody,
) -> Result<ContainerCreateResponse, DockerError> {
    let token = creation_token();
    let name = container_name(hint, &token);
    config
        .labels
        .get_or_insert_with(HashMap::new)
        .insert(CREATION_LABEL.to_owned(), token.clone());
    let options = || CreateContainerOptions {
        name: Some(name.clone()),
        ..Default::default()
    };
    let backoff = ENGINE_CALLS;
    let mut attempt = 0;
    loop {
        let e = match docker
            .create_container(Some(options()), config.clone())
            .await
        {
            Ok(created) => return Ok(created),
            Err(e) => e,
        };
        let conflict = matches!(
            e,
            DockerError::DockerResponseServerError {
                status_code: 409,
                ..
            }
        );
        // A conflict on a later attempt is the first attempt's container, created after all.
        let lost_or_late = is_transient(&e) || (conflict && attempt > 0);
        if !lost_or_late {
            return Err(e);
        }
        if let Ok(Some(id)) = created_with(docker, &name, &token).await {
            return Ok(ContainerCreateResponse {
                id,
                warnings: Vec::new(),
            });
        }
        if conflict || attempt + 1 >= backoff.attempts {
            return Err(backoff.exhausted(e));
        }
        tokio::time::sleep(backoff.delay(attempt)).await;
        attempt += 1;
    }
}

/// The id of the container `name`, if it exists and carries creation token `token`.
async fn created_with(
    docker: &Docker,
    name: &str,
    token: &str,
) -> Result<Option<String>, DockerError> {
    match docker.inspect_container(name, None).await {
        Ok(found) => {
            let ours = found
                .config
                .and_then(|c| c.labels)
                .and_then(|l| l.get(CREATION_LABEL).cloned())
                .is_some_and(|t| t == token);
            Ok(found.id.filter(|_| ours))
        }
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a container's state says about an earlier start whose answer was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartSeen {
    /// It ran or runs: the start took effect.
    Started,
    /// Still `created`, no error recorded: the start never reached it.
    NotStarted,
    /// The engine tried and recorded why it failed: starting again fails the same way.
    Refused,
}

/// Starts a created container at most once: after a lost answer its state decides whether
/// the start took effect, so a step that already ran (and exited) is never run again.
pub(super) async fn start_container(docker: &Docker, id: &str) -> Result<(), DockerError> {
    let backoff = ENGINE_CALLS;
    let mut attempt = 0;
    loop {
        let e = match docker.start_container(id, None).await {
            Ok(()) => return Ok(()),
            Err(e) if !is_transient(&e) => return Err(e),
            Err(e) => e,
        };
        let seen = idempotent(|| docker.inspect_container(id, None))
            .await
            .map(|i| start_seen(i.state.unwrap_or_default()));
        match seen {
            Ok(StartSeen::Started) => return Ok(()),
            Ok(StartSeen::NotStarted) if attempt + 1 < backoff.attempts => {
                tokio::time::sleep(backoff.delay(attempt)).await;
                attempt += 1;
            }
            Ok(StartSeen::NotStarted) => return Err(backoff.exhausted(e)),
            // The engine's own verdict on this container: repeating gives the same.
            Ok(StartSeen::Refused) => return Err(e),
            // Unknown whether it started: starting it blindly could run the step twice.
            Err(_) => return Err(e),
        }
    }
}

/// Classifies a container's state after a start whose answer was lost.
fn start_seen(state: bollard::models::ContainerState) -> StartSeen {
    let never_started = state
        .started_at
        .as_deref()
        .is_none_or(|t| t.is_empty() || t.starts_with("0001-"));
    match state.status {
        Some(ContainerStateStatusEnum::CREATED | ContainerStateStatusEnum::EMPTY) | None
            if never_started =>
        {
            if state.error.as_deref().is_some_and(|e| !e.is_empty()) {
                StartSeen::Refused
            } else {
                StartSeen::NotStarted
            }
        }
        _ => StartSeen::Started,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    use std::sync::atomic::AtomicU32;

    fn server(status_code: u16) -> DockerError {
        DockerError::DockerResponseServerError {
            status_code,
            message: "m".into(),
        }
    }

    fn io_error(kind: io::ErrorKind) -> DockerError {
        DockerError::IOError {
            err: io::Error::new(kind, "x"),
        }
    }

    #[test]
    fn server_errors_are_transient_and_client_errors_are_not() {
        for code in [500, 502, 503, 504] {
            assert!(is_transient(&server(code)), "{code}");
        }
        for code in [304, 400, 401, 404, 409] {
            assert!(!is_transient(&server(code)), "{code}");
        }
    }

    #[test]
    fn broken_connections_are_transient_other_io_errors_are_not() {
        use io::ErrorKind::*;
        for kind in [
            ConnectionRefused,
            ConnectionReset,
            ConnectionAborted,
            BrokenPipe,
            UnexpectedEof,
        ] {
            assert!(is_transient(&io_error(kind)), "{kind:?}");
        }
        for kind in [PermissionDenied, NotFound, InvalidData] {
            assert!(!is_transient(&io_error(kind)), "{kind:?}");
        }
        // bollard's streams wrap the transport's error in another io::Error.
        let wrapped = DockerError::IOError {
            err: io::Error::other(io::Error::from(ConnectionReset)),
        };
        assert!(is_transient(&wrapped));
    }

    #[test]
    fn answers_about_the_request_are_not_transient() {
        let answers = [
            DockerError::DockerStreamError {
                error: "manifest unknown".into(),
            },
            DockerError::DockerContainerWaitError {
                error: String::new(),
                code: 1,
            },
            DockerError::JsonDataError {
                message: "m".into(),
                column: 1,
            },
            DockerError::RequestTimeoutError,
            DockerError::SocketNotFoundError("/nope.sock".into()),
        ];
        for e in answers {
            assert!(!is_transient(&e), "{e:?}");
        }
    }

    /// What bollard returns when a Unix-socket engine answers `reply` to a ping (or nothing,
    /// closing the connection, when `reply` is empty).
    fn ping_error(reply: &'static [u8]) -> DockerError {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(reply);
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let docker =
                Docker::connect_with_unix(path.to_str().unwrap(), 10, bollard::API_DEFAULT_VERSION)
                    .unwrap();
            docker
                .ping()
                .await
                .expect_err("the stand-in never answers well")
        })
    }

    #[test]
    fn a_stream_cut_off_mid_way_is_transient() {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let mut stream = listener.incoming().next().unwrap().unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                  15\r\n{\"status\":\"Pulling\"}\n\r\n",
            );
        });
        let error = block_on(async {
            let docker =
                Docker::connect_with_unix(path.to_str().unwrap(), 10, bollard::API_DEFAULT_VERSION)
                    .unwrap();
            let mut pull = docker.create_image(
                None::<bollard::query_parameters::CreateImageOptions>,
                None,
                None,
            );
            assert!(pull.next().await.unwrap().is_ok(), "the first message");
            pull.next().await.unwrap().expect_err("cut off")
        });
        // bollard hands hyper's error on as text only (see HYPER_TRANSPORT_ERRORS).
        assert!(is_transient(&error), "{error:?}");
    }

    #[test]
    fn real_transport_failures_are_classified() {
        // Closed before any answer: the request was lost, or its answer.
        assert!(is_transient(&ping_error(b"")));
        // Cut off mid-body.
        assert!(is_transient(&ping_error(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nOK"
        )));
        // A well-formed 503.
        assert!(is_transient(&ping_error(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}"
        )));
        // Not HTTP at all: repeating the call will not help.
        assert!(!is_transient(&ping_error(b"SSH-2.0-OpenSSH\r\n\r\n")));
        // Nobody listening on the socket any more (an engine restarting).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.sock");
        drop(UnixListener::bind(&path).unwrap());
        let refused = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                Docker::connect_with_unix(path.to_str().unwrap(), 10, bollard::API_DEFAULT_VERSION)
                    .unwrap()
                    .ping()
                    .await
                    .expect_err("refused")
            });
        assert!(is_transient(&refused), "{refused:?}");
    }

    fn quick() -> Backoff {
        Backoff {
            attempts: 4,
            first_delay: Duration::from_millis(1),
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn the_engine_schedule_is_six_attempts_within_three_seconds_of_waiting() {
        assert_eq!(ENGINE_CALLS.attempts, 6);
        assert_eq!(ENGINE_CALLS.total_delay(), Duration::from_millis(3100));
        assert_eq!(quick().total_delay(), Duration::from_millis(7));
    }

    #[test]
    fn transient_failures_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let result = block_on(quick().run(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(server(500)),
                1 => Err(io_error(io::ErrorKind::ConnectionReset)),
                _ => Ok("answer"),
            }
        }));
        assert_eq!(result.unwrap(), "answer");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn client_errors_are_returned_at_once() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = block_on(quick().run(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(server(404))
        }));
        assert!(matches!(
            result,
            Err(DockerError::DockerResponseServerError {
                status_code: 404,
                ..
            })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn exhausted_retries_say_how_often_and_keep_connection_errors_as_they_are() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = block_on(quick().run(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(server(500))
        }));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(
            result.unwrap_err().to_string(),
            "Docker responded with status code 500: m (still so after 4 attempts over 0.0 s)"
        );
        let result: Result<(), _> =
            block_on(quick().run(|| async { Err(io_error(io::ErrorKind::ConnectionRefused)) }));
        assert!(
            matches!(result, Err(DockerError::IOError { err }) if err.kind() == io::ErrorKind::ConnectionRefused)
        );
    }

    #[test]
    fn a_start_is_repeated_only_while_the_container_never_ran() {
        use bollard::models::ContainerState;
        let state = |status, started: &str, error: &str| ContainerState {
            status: Some(status),
            started_at: Some(started.into()),
            error: Some(error.into()),
            ..Default::default()
        };
        let zero = "0001-01-01T00:00:00Z";
        let when = "2026-12-04T16:00:00.1Z";
        use ContainerStateStatusEnum::*;
        assert_eq!(start_seen(state(CREATED, zero, "")), StartSeen::NotStarted);
        assert_eq!(
            start_seen(state(CREATED, zero, "exec: not found")),
            StartSeen::Refused
        );
        assert_eq!(start_seen(state(RUNNING, when, "")), StartSeen::Started);
        assert_eq!(start_seen(state(EXITED, when, "")), StartSeen::Started);
        assert_eq!(start_seen(state(CREATED, when, "")), StartSeen::Started);
    }

    #[test]
    fn container_names_are_valid_and_unique() {
        let a = container_name("run-1-step-build", &creation_token());
        let b = container_name("run-1-step-build", &creation_token());
        assert_ne!(a, b);
        assert!(a.starts_with("adze-run-1-step-build-"));
        let odd = container_name("ünïcode/step", "t");
        assert_eq!(odd, "adze--n-code-step-t");
        assert!(odd
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)));
    }
}
