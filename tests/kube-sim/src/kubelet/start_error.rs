//! A command that could not be executed at all, told apart from one that ran and exited 127.
//!
//! Containers run under the engine's init (tini), which forwards signals; when it cannot
//! execute the command it exits 127 and says so on stderr, where the runtime would have
//! refused to start the container. The kubelet reports that as `StartError` with exit code
//! 128, as it does over containerd.

use bollard::query_parameters::LogsOptions;
use bollard::Docker;
use futures_util::StreamExt;

/// What tini writes before the reason when `execvp` fails.
const TINI_EXEC_FAILED: &str = "[FATAL tini (";

/// The `StartError` message when container `id`, which exited with `exit_code`, never ran its
/// command; `None` when it ran.
pub(super) async fn start_error(docker: &Docker, id: &str, exit_code: i32) -> Option<String> {
    if exit_code != 127 {
        return None;
    }
    let options = LogsOptions {
        stderr: true,
        tail: "all".into(),
        ..Default::default()
    };
    let mut log = Vec::new();
    let mut stream = docker.logs(id, Some(options));
    while let Some(Ok(chunk)) = stream.next().await {
        log.extend_from_slice(&chunk.into_bytes());
        if log.len() > 4096 {
            break;
        }
    }
    reason(&String::from_utf8_lossy(&log))
}

/// The message for a stderr that starts with tini's exec failure.
fn reason(stderr: &str) -> Option<String> {
    let line = stderr.lines().next()?;
    let rest = line.strip_prefix(TINI_EXEC_FAILED)?;
    let (_, what) = rest.split_once("] ")?;
    what.starts_with("exec ").then(|| {
        format!(
            "failed to create containerd task: failed to start container process: {what}: unknown"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::reason;

    #[test]
    fn only_tinis_exec_failure_is_a_start_error() {
        assert_eq!(
            reason("[FATAL tini (7)] exec /nope failed: No such file or directory\n").as_deref(),
            Some("failed to create containerd task: failed to start container process: exec /nope failed: No such file or directory: unknown")
        );
        assert_eq!(reason("sh: nope: not found\n"), None);
        assert_eq!(reason(""), None);
    }
}
