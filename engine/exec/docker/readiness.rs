//! Sidecar readiness (§4.9): the first step starts once every sidecar is ready.
//!
//! # Why
//!
//! Tekton's entrypoint holds the first step until the pod reports every sidecar Ready, so a
//! step may rely on what a sidecar prepares before its probe passes (a server listening, a
//! file written). Locally the kubelet's probing is done here, against the running container.
//!
//! # Decisions
//!
//! - The sidecar's `readinessProbe` is used, else its `startupProbe` (Tekton's native sidecars
//!   honour only the latter); without either a running sidecar is ready, as in Kubernetes.
//! - A sidecar that has exited counts as ready, as Tekton's readiness check does.
//! - `exec` runs the command in the sidecar through the engine's exec API; `tcpSocket` and
//!   `httpGet` connect from this host to the address of the network holder every container
//!   shares. A probe adze cannot evaluate (named ports, `https`, `grpc`) is reported and the
//!   sidecar treated as ready, rather than holding the steps forever.
//! - Failed probes are retried every `periodSeconds` until the TaskRun's deadline or an
//!   interruption; Kubernetes' `failureThreshold` only marks a sidecar unready, never failed.

use std::time::Duration;

use bollard::exec::{CreateExecOptions, StartExecOptions};
use bollard::Docker;
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::retry;

/// How often a running `exec` probe is looked at.
const EXEC_POLL: Duration = Duration::from_millis(100);

/// What one probe attempt does.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Check {
    /// Run this command in the sidecar; exit code 0 is success.
    Exec(Vec<String>),
    /// Open a TCP connection to this port.
    Tcp(u16),
    /// `GET path` on this port; a status from 200 to 399 is success.
    Http {
        /// The port.
        port: u16,
        /// The request path.
        path: String,
    },
}

/// A sidecar's probe with Kubernetes' defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Readiness {
    /// The attempt.
    pub check: Check,
    /// Wait before the first attempt (`initialDelaySeconds`, default 0).
    pub initial_delay: Duration,
    /// Wait between attempts (`periodSeconds`, default 10).
    pub period: Duration,
    /// An attempt that takes longer fails (`timeoutSeconds`, default 1).
    pub timeout: Duration,
}

/// Seconds from a probe field: `default` when unset, never below `min`.
fn seconds(value: Option<i32>, default: u64, min: u64) -> Duration {
    let s = value.and_then(|v| u64::try_from(v).ok()).unwrap_or(default);
    Duration::from_secs(s.max(min))
}

/// A numeric port, or why it cannot be used.
fn port(p: &IntOrString) -> Result<u16, String> {
    match p {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("port {n} is out of range")),
        IntOrString::String(s) => s
            .parse()
            .map_err(|_| format!("named port \"{s}\" is not supported")),
    }
}

impl Readiness {
    /// The probe to wait for: `readinessProbe`, else `startupProbe`; `Ok(None)` without one,
    /// `Err` with the reason when adze cannot evaluate it.
    pub fn of(
        readiness: Option<&corev1::Probe>,
        startup: Option<&corev1::Probe>,
    ) -> Result<Option<Readiness>, String> {
        let Some(probe) = readiness.or(startup) else {
            return Ok(None);
        };
        let check = if let Some(exec) = &probe.exec {
            Check::Exec(exec.command.clone().unwrap_or_default())
        } else if let Some(tcp) = &probe.tcp_socket {
            Check::Tcp(port(&tcp.port)?)
        } else if let Some(http) = &probe.http_get {
            if http
                .scheme
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case("http"))
            {
                return Err("httpGet probes over https are not supported".into());
            }
            Check::Http {
                port: port(&http.port)?,
                path: http.path.clone().unwrap_or_else(|| "/".into()),
            }
        } else if probe.grpc.is_some() {
            return Err("grpc probes are not supported".into());
        } else {
            return Ok(None);
        };
        Ok(Some(Readiness {
            check,
            initial_delay: seconds(probe.initial_delay_seconds, 0, 0),
            period: seconds(probe.period_seconds, 10, 1),
            timeout: seconds(probe.timeout_seconds, 1, 1),
        }))
    }

    /// One attempt against the sidecar `container`, whose network is reachable at `ip`.
    pub async fn attempt(&self, docker: &Docker, container: &str, ip: Option<&str>) -> bool {
        let attempt = async {
            match &self.check {
                Check::Exec(command) => exec_succeeds(docker, container, command).await,
                Check::Tcp(port) => match ip {
                    Some(ip) => TcpStream::connect((ip, *port)).await.is_ok(),
                    None => false,
                },
                Check::Http { port, path } => match ip {
                    Some(ip) => http_succeeds(ip, *port, path).await,
                    None => false,
                },
            }
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .unwrap_or(false)
    }
}

/// Runs `command` in the container and waits for it to exit 0.
async fn exec_succeeds(docker: &Docker, container: &str, command: &[String]) -> bool {
    let options = CreateExecOptions {
        cmd: Some(command.to_vec()),
        attach_stdout: Some(false),
        attach_stderr: Some(false),
        ..CreateExecOptions::default()
    };
    let Ok(exec) = docker.create_exec(container, options).await else {
        return false;
    };
    let detached = StartExecOptions {
        detach: true,
        ..StartExecOptions::default()
    };
    if docker.start_exec(&exec.id, Some(detached)).await.is_err() {
        return false;
    }
    // The caller's timeout bounds this loop.
    loop {
        match retry::idempotent(|| docker.inspect_exec(&exec.id)).await {
            Ok(i) if i.running == Some(true) => tokio::time::sleep(EXEC_POLL).await,
            Ok(i) => return i.exit_code == Some(0),
            Err(_) => return false,
        }
    }
}

/// Whether `GET path` answers with a status from 200 to 399.
async fn http_succeeds(ip: &str, port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect((ip, port)).await else {
        return false;
    };
    let request = format!("GET {path} HTTP/1.0\r\nHost: {ip}:{port}\r\nUser-Agent: adze\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
        if head[..read].contains(&b'\n') {
            break;
        }
    }
    http_status(&head[..read]).is_some_and(|s| (200..400).contains(&s))
}

/// The status code of an HTTP response's first line.
fn http_status(head: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(head).ok()?.lines().next()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(yaml: &str) -> corev1::Probe {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn kubernetes_defaults_fill_an_exec_probe() {
        let p = probe("exec: {command: [sh, -c, 'test -f /x']}");
        let r = Readiness::of(Some(&p), None).unwrap().unwrap();
        assert_eq!(
            r,
            Readiness {
                check: Check::Exec(vec!["sh".into(), "-c".into(), "test -f /x".into()]),
                initial_delay: Duration::ZERO,
                period: Duration::from_secs(10),
                timeout: Duration::from_secs(1),
            }
        );
    }

    #[test]
    fn the_readiness_probe_wins_over_the_startup_probe() {
        let ready = probe("tcpSocket: {port: 8080}\nperiodSeconds: 2\ntimeoutSeconds: 3");
        let startup = probe("exec: {command: ['true']}");
        let r = Readiness::of(Some(&ready), Some(&startup))
            .unwrap()
            .unwrap();
        assert_eq!(r.check, Check::Tcp(8080));
        assert_eq!(r.period, Duration::from_secs(2));
        assert_eq!(r.timeout, Duration::from_secs(3));
        let only_startup = Readiness::of(None, Some(&startup)).unwrap().unwrap();
        assert_eq!(only_startup.check, Check::Exec(vec!["true".into()]));
        assert_eq!(Readiness::of(None, None), Ok(None));
    }

    #[test]
    fn probes_adze_cannot_evaluate_say_why() {
        let named = probe("httpGet: {port: http}");
        assert!(Readiness::of(Some(&named), None)
            .unwrap_err()
            .contains("named port"));
        let https = probe("httpGet: {port: 443, scheme: HTTPS}");
        assert!(Readiness::of(Some(&https), None).is_err());
        let http = probe("httpGet: {port: '8080', path: /healthz}");
        assert_eq!(
            Readiness::of(Some(&http), None).unwrap().unwrap().check,
            Check::Http {
                port: 8080,
                path: "/healthz".into()
            }
        );
    }

    #[test]
    fn http_status_lines_parse() {
        assert_eq!(http_status(b"HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(http_status(b"HTTP/1.0 503"), Some(503));
        assert_eq!(http_status(b"garbage"), None);
    }
}
