//! Termination messages: a host file bound at each container's `terminationMessagePath`,
//! read once the container exits, within Kubernetes' limits.
//!
//! # Invariants
//!
//! - A message is at most 4096 bytes, and all of a Pod's together at most 12 KiB, split
//!   evenly between its containers (init containers included), as the kubelet divides it.
//! - `FallbackToLogsOnError` reads the last 80 lines of the log (at most 2048 bytes) only when
//!   the container failed and its file is empty.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use bollard::query_parameters::LogsOptions;
use bollard::Docker;
use futures_util::StreamExt;

/// Kubernetes' limit for one container's message.
const MAX_CONTAINER_BYTES: usize = 4096;
/// Kubernetes' limit for all of a Pod's messages together.
const MAX_POD_BYTES: usize = 12 * 1024;
/// What `FallbackToLogsOnError` takes from the log.
const LOG_LINES: usize = 80;
/// ... and at most this many bytes of it.
const LOG_BYTES: usize = 2048;

/// The default `terminationMessagePath`.
pub const DEFAULT_PATH: &str = "/dev/termination-log";

/// Each container's share of the Pod's budget.
pub(super) fn budget(containers: usize) -> usize {
    MAX_CONTAINER_BYTES.min(MAX_POD_BYTES / containers.max(1))
}

/// The host file of `container`'s message under the Pod's directory.
pub(super) fn host_file(pod_dir: &Path, container: &str) -> PathBuf {
    pod_dir.join("termination").join(container)
}

/// Creates the empty file, writable by whatever user the container runs as.
pub(super) fn prepare(file: &Path) -> io::Result<()> {
    if let Some(parent) = file.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(file, b"")?;
    fs::set_permissions(file, fs::Permissions::from_mode(0o666))
}

/// The message of an exited container: its file's first `budget` bytes, or its log's tail
/// when `fallback_to_logs` and it failed with an empty file.
pub(super) async fn read(
    docker: &Docker,
    container_id: &str,
    file: &Path,
    budget: usize,
    fallback_to_logs: bool,
    exit_code: i32,
) -> Option<String> {
    let mut bytes = Vec::new();
    if let Ok(f) = fs::File::open(file) {
        let _ = f.take(budget as u64).read_to_end(&mut bytes);
    }
    if bytes.is_empty() && fallback_to_logs && exit_code != 0 {
        bytes = log_tail(docker, container_id).await;
        let limit = LOG_BYTES.min(budget);
        if bytes.len() > limit {
            bytes.drain(..bytes.len() - limit);
        }
    }
    (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned())
}

async fn log_tail(docker: &Docker, id: &str) -> Vec<u8> {
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        tail: LOG_LINES.to_string(),
        ..Default::default()
    };
    let mut stream = docker.logs(id, Some(options));
    let mut bytes = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        bytes.extend_from_slice(&chunk.into_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::budget;

    #[test]
    fn the_pod_budget_is_split_evenly() {
        assert_eq!(budget(1), 4096);
        assert_eq!(budget(3), 4096);
        assert_eq!(budget(4), 3072);
        assert_eq!(budget(12), 1024);
        assert_eq!(budget(0), 4096);
    }
}
