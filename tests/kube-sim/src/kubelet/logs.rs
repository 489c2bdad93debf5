//! `pods/log`: a container's Docker log, with timestamps as the kubelet prints them
//! (RFC 3339 with nanoseconds, trailing zeros dropped, as Go's `time.RFC3339Nano`).

use bollard::query_parameters::LogsOptions;
use bollard::Docker;
use futures_util::StreamExt;

use super::{KubeletError, LogOptions, LogStream};

/// Docker's fixed-width timestamp (`…:05.120000000Z`) in Go's `RFC3339Nano` form
/// (`…:05.12Z`); anything else is returned unchanged.
fn go_nano(stamp: &str) -> String {
    let Some((seconds, rest)) = stamp.split_once('.') else {
        return stamp.to_owned();
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let zone = &rest[digits.len()..];
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        format!("{seconds}{zone}")
    } else {
        format!("{seconds}.{trimmed}{zone}")
    }
}

/// Rewrites the timestamp at the start of every complete line of `pending`, returning the
/// rewritten lines and keeping an unfinished one.
fn restamp(pending: &mut Vec<u8>, chunk: &[u8], flush: bool) -> Vec<u8> {
    pending.extend_from_slice(chunk);
    let mut out = Vec::new();
    let take_line = |line: &[u8], out: &mut Vec<u8>| {
        let text = String::from_utf8_lossy(line);
        match text.split_once(' ') {
            Some((stamp, rest)) if stamp.len() > 20 && stamp.as_bytes()[4] == b'-' => {
                out.extend_from_slice(go_nano(stamp).as_bytes());
                out.push(b' ');
                out.extend_from_slice(rest.as_bytes());
            }
            _ => out.extend_from_slice(line),
        }
    };
    while let Some(end) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        take_line(&line, &mut out);
    }
    if flush && !pending.is_empty() {
        let line = std::mem::take(pending);
        take_line(&line, &mut out);
    }
    out
}

/// The log of container `id` as `options` ask.
pub(super) fn stream(docker: &Docker, id: &str, options: &LogOptions) -> LogStream {
    let query = LogsOptions {
        follow: options.follow,
        stdout: true,
        stderr: true,
        timestamps: options.timestamps,
        tail: options
            .tail_lines
            .filter(|n| *n >= 0)
            .map_or_else(|| "all".to_owned(), |n| n.to_string()),
        ..Default::default()
    };
    let raw = docker.logs(id, Some(query)).map(|item| {
        item.map(|chunk| chunk.into_bytes().to_vec())
            .map_err(KubeletError::Docker)
    });
    if !options.timestamps {
        return Box::pin(raw);
    }
    // Lines may be split across chunks; the rest is flushed when the log ends.
    let ended = futures_util::stream::once(async { Ok(Vec::new()) });
    let mut pending = Vec::new();
    let mut done = false;
    Box::pin(
        raw.map(|r| r.map(|b| (b, false)))
            .chain(ended.map(|r: Result<Vec<u8>, KubeletError>| r.map(|b| (b, true))))
            .filter_map(move |item| {
                let out = match item {
                    Ok((bytes, flush)) if !done => {
                        done = flush;
                        let out = restamp(&mut pending, &bytes, flush);
                        (!out.is_empty()).then_some(Ok(out))
                    }
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                };
                futures_util::future::ready(out)
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_lose_trailing_zeros_as_go_prints_them() {
        assert_eq!(
            go_nano("2026-12-04T19:20:00.120000000Z"),
            "2026-12-04T19:20:00.12Z"
        );
        assert_eq!(
            go_nano("2026-12-04T19:20:00.000000000Z"),
            "2026-12-04T19:20:00Z"
        );
        assert_eq!(
            go_nano("2026-12-04T19:20:00.123456789Z"),
            "2026-12-04T19:20:00.123456789Z"
        );
        let mut pending = Vec::new();
        assert_eq!(
            restamp(&mut pending, b"2026-12-04T19:20:00.500000000Z hel", false),
            b""
        );
        assert_eq!(
            restamp(&mut pending, b"lo\n2026-12-04T19:20:01.000000000Z x", true),
            b"2026-12-04T19:20:00.5Z hello\n2026-12-04T19:20:01Z x".to_vec()
        );
    }
}
