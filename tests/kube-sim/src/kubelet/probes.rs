//! Startup and readiness probes: `exec` in the container, `tcpSocket` and `httpGet` against
//! the Pod's IP, run with the probe's delay, period, timeout and thresholds. The startup probe
//! decides when a container counts as `started` (and a native sidecar lets the Pod go on), the
//! readiness probe, which only begins after it, its `ready`.
//!
//! # Not yet
//!
//! - `grpc` probes (such a container is never ready), `livenessProbe` (nothing is
//!   restarted; a failed startup probe stops the container for good), HTTPS with certificate checks (`scheme: HTTPS` is refused as a
//!   failed probe).

use std::time::Duration;

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::Docker;
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Whether one probe attempt succeeded.
type Outcome = bool;

/// The port a probe names, by number or by the container's port name.
fn port(container: &Container, port: &IntOrString) -> Option<u16> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).ok(),
        IntOrString::String(name) => container
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .or_else(|| name.parse().ok()),
    }
}

async fn exec(docker: &Docker, id: &str, command: Vec<String>) -> Outcome {
    let config = ExecConfig {
        cmd: Some(command),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let Ok(created) = docker.create_exec(id, config).await else {
        return false;
    };
    let started = docker
        .start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: false,
                output_capacity: None,
            }),
        )
        .await;
    if let Ok(StartExecResults::Attached { mut output, .. }) = started {
        while output.next().await.is_some() {}
    }
    docker
        .inspect_exec(&created.id)
        .await
        .ok()
        .and_then(|i| i.exit_code)
        == Some(0)
}

async fn http_get(host: &str, port: u16, path: &str) -> Outcome {
    let Ok(mut stream) = TcpStream::connect((host, port)).await else {
        return false;
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/kube-sim\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    if stream.read_exact(&mut head).await.is_err() {
        return false;
    }
    // `HTTP/1.x NNN`: Kubernetes counts 200–399 as success.
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|code| code.parse::<u16>().ok())
        .is_some_and(|code| (200..400).contains(&code))
}

/// One attempt of `probe` against container `id` of a Pod at `pod_ip`.
async fn attempt(
    docker: &Docker,
    container: &Container,
    id: &str,
    pod_ip: &str,
    probe: &Probe,
) -> Outcome {
    if let Some(e) = &probe.exec {
        return exec(docker, id, e.command.clone().unwrap_or_default()).await;
    }
    if let Some(t) = &probe.tcp_socket {
        let host = t.host.clone().unwrap_or_else(|| pod_ip.to_owned());
        return match port(container, &t.port) {
            Some(p) => TcpStream::connect((host.as_str(), p)).await.is_ok(),
            None => false,
        };
    }
    if let Some(h) = &probe.http_get {
        if h.scheme.as_deref() == Some("HTTPS") {
            return false;
        }
        let host = h.host.clone().unwrap_or_else(|| pod_ip.to_owned());
        return match port(container, &h.port) {
            Some(p) => http_get(&host, p, h.path.as_deref().unwrap_or("/")).await,
            None => false,
        };
    }
    false
}

/// Runs `container`'s startup probe until it succeeds (`true`) or fails `failureThreshold`
/// times in a row (`false`); `true` at once without one.
pub(super) async fn until_started(
    docker: &Docker,
    container: &Container,
    id: &str,
    pod_ip: &str,
) -> bool {
    let Some(probe) = container.startup_probe.as_ref() else {
        return true;
    };
    let timing = Timing::of(probe);
    tokio::time::sleep(timing.initial_delay).await;
    let mut failures = 0;
    loop {
        if timing.attempt(docker, container, id, pod_ip, probe).await {
            return true;
        }
        failures += 1;
        if failures >= timing.failure_threshold {
            return false;
        }
        tokio::time::sleep(timing.period).await;
    }
}

/// A probe's schedule and thresholds, with Kubernetes' defaults.
struct Timing {
    initial_delay: Duration,
    period: Duration,
    timeout: Duration,
    success_threshold: i32,
    failure_threshold: i32,
}

impl Timing {
    fn of(probe: &Probe) -> Timing {
        let seconds = |v: Option<i32>, default: u64| {
            Duration::from_secs(v.and_then(|s| u64::try_from(s).ok()).unwrap_or(default))
        };
        Timing {
            initial_delay: seconds(probe.initial_delay_seconds, 0),
            period: seconds(probe.period_seconds, 10).max(Duration::from_secs(1)),
            timeout: seconds(probe.timeout_seconds, 1).max(Duration::from_secs(1)),
            success_threshold: probe.success_threshold.unwrap_or(1).max(1),
            failure_threshold: probe.failure_threshold.unwrap_or(3).max(1),
        }
    }

    /// One attempt within the probe's timeout.
    async fn attempt(
        &self,
        docker: &Docker,
        container: &Container,
        id: &str,
        pod_ip: &str,
        probe: &Probe,
    ) -> Outcome {
        tokio::time::timeout(self.timeout, attempt(docker, container, id, pod_ip, probe))
            .await
            .unwrap_or(false)
    }
}

/// Probes `container` (running as `id`) for as long as the task lives, calling `report` with
/// its readiness each time it changes (first: not ready).
pub(super) async fn watch_readiness(
    docker: Docker,
    container: Container,
    id: String,
    pod_ip: String,
    report: impl Fn(bool) + Send,
) {
    let Some(probe) = container.readiness_probe.clone() else {
        return;
    };
    let timing = Timing::of(&probe);
    tokio::time::sleep(timing.initial_delay).await;
    let (mut ready, mut successes, mut failures) = (false, 0, 0);
    loop {
        let ok = timing
            .attempt(&docker, &container, &id, &pod_ip, &probe)
            .await;
        if ok {
            successes += 1;
            failures = 0;
        } else {
            failures += 1;
            successes = 0;
        }
        let now_ready = if ready {
            failures < timing.failure_threshold
        } else {
            successes >= timing.success_threshold
        };
        if now_ready != ready {
            ready = now_ready;
            report(ready);
        }
        tokio::time::sleep(timing.period).await;
    }
}
