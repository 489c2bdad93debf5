//! Just enough HTTP/1.1 for the proxy to find where each request and answer on a
//! keep-alive connection ends, while forwarding every byte as it arrives.

use std::io;

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
};

/// A request or status line with its headers, and the exact bytes they were read as.
pub struct Head {
    /// The bytes up to and including the empty line, forwarded unchanged.
    pub raw: Vec<u8>,
    /// The request or status line, without its line end.
    pub first_line: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
}

/// How a message's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (a hijacked stream such as `attach` without upgrade).
    UntilClose,
}

impl Head {
    /// The value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A request's method and path (without the query).
    pub fn request(&self) -> (String, String) {
        let mut parts = self.first_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default();
        let path = target.split('?').next().unwrap_or_default().to_owned();
        (method, path)
    }

    /// An answer's status code (0 when unreadable).
    pub fn status(&self) -> u16 {
        self.first_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// How the body after this head is delimited; `request` says which kind of message it is.
    pub fn body(&self, request: bool) -> Body {
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            return Body::Chunked;
        }
        match self
            .header("content-length")
            .and_then(|v| v.trim().parse().ok())
        {
            Some(0) => Body::Empty,
            Some(n) => Body::Length(n),
            // A request without either has no body; an answer runs until the close.
            None if request => Body::Empty,
            None => Body::UntilClose,
        }
    }
}

/// Reads one head; `None` when the connection closed cleanly before its first byte.
pub async fn read_head<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Head>> {
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    loop {
        let start = raw.len();
        if reader.read_until(b'\n', &mut raw).await? == 0 {
            if raw.is_empty() {
                return Ok(None);
            }
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = String::from_utf8_lossy(&raw[start..])
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let mut lines = lines.into_iter();
    let first_line = lines.next().unwrap_or_default();
    let headers = lines
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Ok(Some(Head {
        raw,
        first_line,
        headers,
    }))
}

/// Copies exactly `n` bytes.
pub async fn copy_length<R, W>(reader: &mut R, writer: &mut W, n: u64) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let copied = tokio::io::copy(&mut reader.take(n), writer).await?;
    if copied < n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Copies a chunked body chunk by chunk, flushing each so a stream (pull progress, a wait)
/// arrives as it is produced. With `stop_after`, stops after that many data chunks; the
/// result says whether the body was complete.
pub async fn copy_chunked<R, W>(
    reader: &mut R,
    writer: &mut W,
    stop_after: Option<usize>,
) -> io::Result<bool>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut chunks = 0;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        writer.write_all(&line).await?;
        let size = std::str::from_utf8(&line)
            .ok()
            .and_then(|l| l.trim().split(';').next())
            .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, then the empty line that ends the body.
            loop {
                let mut trailer = Vec::new();
                if reader.read_until(b'\n', &mut trailer).await? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                writer.write_all(&trailer).await?;
                if trailer == b"\r\n" || trailer == b"\n" {
                    writer.flush().await?;
                    return Ok(true);
                }
            }
        }
        // The data and the CRLF after it.
        copy_length(reader, writer, size + 2).await?;
        writer.flush().await?;
        chunks += 1;
        if stop_after.is_some_and(|n| chunks >= n) {
            return Ok(false);
        }
    }
}

/// Copies a body delimited as `body` says; `UntilClose` is the caller's to handle.
pub async fn copy_body<R, W>(reader: &mut R, writer: &mut W, body: Body) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match body {
        Body::Empty | Body::UntilClose => Ok(()),
        Body::Length(n) => copy_length(reader, writer, n).await,
        Body::Chunked => copy_chunked(reader, writer, None).await.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn heads_and_bodies_are_framed() {
        let bytes: &[u8] = b"POST /v1.41/containers/create?name=x HTTP/1.1\r\nHost: d\r\n\
            Content-Length: 2\r\n\r\n{}GET /_ping HTTP/1.1\r\n\r\n";
        let mut reader = tokio::io::BufReader::new(bytes);
        let (first, body) = block_on(async {
            let head = read_head(&mut reader).await.unwrap().unwrap();
            let mut body = Vec::new();
            copy_body(&mut reader, &mut body, head.body(true))
                .await
                .unwrap();
            (head, body)
        });
        assert_eq!(
            first.request(),
            ("POST".into(), "/v1.41/containers/create".into())
        );
        assert_eq!(body, b"{}");
        let second = block_on(read_head(&mut reader)).unwrap().unwrap();
        assert_eq!(second.request(), ("GET".into(), "/_ping".into()));
        assert_eq!(second.body(true), Body::Empty);
        assert!(block_on(read_head(&mut reader)).unwrap().is_none());
    }

    #[test]
    fn chunked_answers_can_be_cut_after_a_chunk() {
        let bytes: &[u8] = b"4\r\nab\r\n\r\n3;x=y\r\ncde\r\n0\r\n\r\n";
        let mut all = Vec::new();
        let complete = block_on(copy_chunked(
            &mut tokio::io::BufReader::new(bytes),
            &mut all,
            None,
        ))
        .unwrap();
        assert!(complete);
        assert_eq!(all, bytes);
        let mut first = Vec::new();
        let complete = block_on(copy_chunked(
            &mut tokio::io::BufReader::new(bytes),
            &mut first,
            Some(1),
        ))
        .unwrap();
        assert!(!complete);
        assert_eq!(first, b"4\r\nab\r\n\r\n");
    }
}
