//! Streaming a container's output as [`Progress::Log`] lines.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::AttachContainerOptions;
use bollard::Docker;
use futures_util::{Stream as FutStream, StreamExt};

use super::output_files::OutputFiles;
use crate::run::{Progress, ProgressSink, Stream};

/// Splits byte chunks into lines; a chunk may end mid-line.
#[derive(Debug, Default)]
struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Appends a chunk and returns the lines it completed, without their `\n` (or `\r\n`).
    fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.pending.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        lines
    }

    /// The unterminated last line, if any.
    fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Some(line)
    }
}

/// A container's output, attached before it starts so nothing is missed.
pub(super) type Output = Pin<Box<dyn FutStream<Item = Result<LogOutput, DockerError>> + Send>>;

/// Attaches to a created container's stdout and stderr; call before starting it.
///
/// The daemon subscribes to the container's streams before it answers the attach, so a live
/// stream alone sees everything once the container starts. Asking for `logs` as well replays
/// the log file, which races with the start: a line written in between arrived twice.
pub(super) async fn attach(docker: &Docker, id: &str) -> Result<Output, DockerError> {
    let attached = docker
        .attach_container(
            id,
            Some(AttachContainerOptions {
                stream: true,
                logs: false,
                stdout: true,
                stderr: true,
                ..Default::default()
            }),
        )
        .await?;
    Ok(attached.output)
}

/// Reads the output until the container exits, sending each line to `sink` (when logs are
/// shown) and copying each stream into its output file, if the step has one.
///
/// Errors end the stream quietly: logs are a convenience, the exit code is the truth.
/// With `announce`, the step's start is reported before its first output unless someone
/// already did (steps started at once announce themselves either way, whichever is first).
pub(super) async fn forward(
    mut output: Output,
    task_run: String,
    step: String,
    sink: ProgressSink,
    show: bool,
    mut files: OutputFiles,
    announce: Option<Arc<AtomicBool>>,
) {
    let mut out = LineBuffer::default();
    let mut err = LineBuffer::default();
    let send = |stream: Stream, line: String| {
        if show {
            sink.send(Progress::Log {
                task_run: task_run.clone(),
                step: step.clone(),
                stream,
                line,
            });
        }
    };
    while let Some(Ok(chunk)) = output.next().await {
        if announce
            .as_ref()
            .is_some_and(|f| !f.swap(true, Ordering::SeqCst))
        {
            sink.send(Progress::StepStarted {
                task_run: task_run.clone(),
                step: step.clone(),
            });
        }
        let (buffer, kind) = match &chunk {
            LogOutput::StdErr { .. } => (&mut err, Stream::Stderr),
            _ => (&mut out, Stream::Stdout),
        };
        // The files are small local writes between network reads; a blocking write here
        // keeps chunks in arrival order without another task.
        if let Some(message) = files.write(kind, chunk.as_ref()) {
            sink.send(Progress::Warning {
                task_run: Some(task_run.clone()),
                message: format!("step \"{step}\": {message}"),
            });
        }
        for line in buffer.push(chunk.as_ref()) {
            send(kind, line);
        }
    }
    if let Some(line) = out.finish() {
        send(Stream::Stdout, line);
    }
    if let Some(line) = err.finish() {
        send(Stream::Stderr, line);
    }
}

#[cfg(test)]
mod tests {
    use super::LineBuffer;

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let mut b = LineBuffer::default();
        assert_eq!(b.push(b"hel"), Vec::<String>::new());
        assert_eq!(b.push(b"lo\nwor"), vec!["hello"]);
        assert_eq!(b.push(b"ld\r\n\n"), vec!["world", ""]);
        assert_eq!(b.finish(), None);
    }

    #[test]
    fn a_value_written_in_two_pieces_is_masked_as_one_line() {
        // The sink masks whole lines only: this is what makes a split write safe.
        let masker = crate::mask::Masker::new();
        masker.add("s3cr3t-value").unwrap();
        let mut b = LineBuffer::default();
        assert!(b.push(b"token: s3cr").is_empty());
        let lines: Vec<String> = b
            .push(b"3t-value\n")
            .iter()
            .map(|l| masker.mask(l).into_owned())
            .collect();
        assert_eq!(lines, ["token: ***"]);
    }

    #[test]
    fn an_unterminated_last_line_is_kept() {
        let mut b = LineBuffer::default();
        assert_eq!(b.push(b"a\nb"), vec!["a"]);
        assert_eq!(b.finish(), Some("b".to_owned()));
    }
}
