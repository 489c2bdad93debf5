//! A fault-injecting proxy between adze and the Docker engine, on a Unix socket of its own.
//!
//! adze is pointed at it with `DOCKER_HOST=unix://<socket>`; every connection is forwarded to
//! the real engine (`$DOCKER_HOST` or `/var/run/docker.sock`) request by request, so rules
//! can act on single calls of a keep-alive connection. Upgraded and hijacked streams
//! (`attach`) pass through as raw bytes after their head; streamed answers (`wait`, pull
//! progress) are forwarded chunk by chunk as the engine produces them.
//!
//! A [`Rule`] matches a method and a path pattern (the API version prefix and the query are
//! ignored; `*` is one path segment, `**` any number) and applies its [`Fault`] to the first
//! N matching requests. Every request is logged, with whether it reached the engine, so a
//! test can count how many creates the engine really saw.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::runtime::Runtime;

use crate::wire::{copy_body, copy_chunked, read_head, Body};

/// What a rule does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close the connection without forwarding the request: the request is lost.
    DropRequest,
    /// Forward the request, wait for the engine's answer to begin, then close the connection
    /// before any of it reaches adze: the engine acted, adze never learns it did.
    DropAnswer,
    /// Forward the answer's head and first chunk, then close: a stream cut off mid-way.
    DropMidStream,
    /// Answer `500 Internal Server Error` without forwarding.
    Status500,
    /// Wait this long, then forward.
    Delay(Duration),
}

/// A fault for the first `times` requests matching `method` and `path`.
#[derive(Debug, Clone)]
pub struct Rule {
    method: String,
    path: String,
    fault: Fault,
    times: usize,
}

impl Rule {
    /// `fault` for the first matching request of `method` on `path` (a pattern).
    pub fn new(method: &str, path: &str, fault: Fault) -> Rule {
        Rule {
            method: method.to_owned(),
            path: path.to_owned(),
            fault,
            times: 1,
        }
    }

    /// For the first `n` matching requests instead.
    pub fn times(self, n: usize) -> Rule {
        Rule { times: n, ..self }
    }

    /// For every matching request.
    pub fn always(self) -> Rule {
        self.times(usize::MAX)
    }
}

/// One request the proxy received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    /// Whether it was forwarded to the engine.
    reached: bool,
}

/// The rules, how often each has fired, and every request seen.
#[derive(Default)]
struct Shared {
    rules: Vec<(Rule, usize)>,
    log: Vec<Seen>,
}

/// A running proxy; stops (and removes its socket) when dropped.
pub struct Proxy {
    socket: PathBuf,
    shared: Arc<Mutex<Shared>>,
    _dir: tempfile::TempDir,
    runtime: Option<Runtime>,
}

impl Proxy {
    /// Starts a proxy to the real engine that applies `rules`.
    pub fn start(rules: Vec<Rule>) -> Proxy {
        let dir = tempfile::tempdir().expect("temporary directory");
        let socket = dir.path().join("engine.sock");
        let shared = Arc::new(Mutex::new(Shared {
            rules: rules.into_iter().map(|r| (r, 0)).collect(),
            log: Vec::new(),
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("proxy runtime");
        let listener = {
            let _entered = runtime.enter();
            UnixListener::bind(&socket).expect("proxy socket")
        };
        let upstream = engine_socket();
        let accepted = shared.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, shared) = (upstream.clone(), accepted.clone());
                tokio::spawn(async move {
                    // A connection ending in an error is what the faults are for.
                    let _ = serve(client, &upstream, &shared).await;
                });
            }
        });
        Proxy {
            socket,
            shared,
            _dir: dir,
            runtime: Some(runtime),
        }
    }

    /// The `DOCKER_HOST` value that points at this proxy.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// How many requests of `method` on `path` (a pattern) the proxy received.
    pub fn seen(&self, method: &str, path: &str) -> usize {
        self.count(method, path, false)
    }

    /// How many requests of `method` on `path` (a pattern) reached the engine.
    pub fn reached(&self, method: &str, path: &str) -> usize {
        self.count(method, path, true)
    }

    fn count(&self, method: &str, path: &str, reached_only: bool) -> usize {
        let shared = self.shared.lock().expect("proxy state");
        shared
            .log
            .iter()
            .filter(|s| s.method == method && matches(path, &s.path))
            .filter(|s| s.reached || !reached_only)
            .count()
    }

    /// Every request received, as `METHOD path`, for failure messages.
    pub fn log(&self) -> String {
        let shared = self.shared.lock().expect("proxy state");
        shared
            .log
            .iter()
            .map(|s| {
                format!(
                    "{} {}{}\n",
                    s.method,
                    s.path,
                    if s.reached { "" } else { " (not forwarded)" }
                )
            })
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The real engine's socket: `$DOCKER_HOST` when it is a `unix://` address, else the default.
fn engine_socket() -> PathBuf {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/var/run/docker.sock"))
}

/// `path` without the API version prefix (`/v1.41`).
fn unversioned(path: &str) -> &str {
    let rest = path.strip_prefix("/v").unwrap_or("");
    match rest.find('/') {
        Some(i) if rest[..i].chars().all(|c| c.is_ascii_digit() || c == '.') && i > 0 => &rest[i..],
        _ => path,
    }
}

/// Whether `path` (unversioned) matches `pattern`: `*` is one segment, `**` any number.
fn matches(pattern: &str, path: &str) -> bool {
    fn segments(pattern: &[&str], path: &[&str]) -> bool {
        match (pattern.first(), path.first()) {
            (None, None) => true,
            (Some(&"**"), _) => (0..=path.len()).any(|skip| segments(&pattern[1..], &path[skip..])),
            (Some(p), Some(s)) if *p == "*" || p == s => segments(&pattern[1..], &path[1..]),
            _ => false,
        }
    }
    let split = |s: &str| -> Vec<String> {
        s.split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (pattern, path) = (split(pattern), split(path));
    let pattern: Vec<&str> = pattern.iter().map(String::as_str).collect();
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    segments(&pattern, &path)
}

impl Shared {
    /// Logs a request and returns the fault of the first rule that still applies to it.
    fn decide(&mut self, method: &str, path: &str) -> Option<Fault> {
        let fault = self
            .rules
            .iter_mut()
            .find(|(r, fired)| *fired < r.times && r.method == method && matches(&r.path, path))
            .map(|(r, fired)| {
                *fired += 1;
                r.fault
            });
        let reached = !matches!(fault, Some(Fault::DropRequest | Fault::Status500));
        self.log.push(Seen {
            method: method.to_owned(),
            path: path.to_owned(),
            reached,
        });
        fault
    }
}

/// The answer of [`Fault::Status500`], in the engine's error shape.
const ANSWER_500: &str = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\
    Content-Length: 36\r\n\r\n{\"message\":\"injected by the proxy\"}\n";

/// Forwards one client connection, request by request.
async fn serve(client: UnixStream, upstream: &Path, shared: &Mutex<Shared>) -> std::io::Result<()> {
    let (client_read, mut client_write) = client.into_split();
    let mut client_read = BufReader::new(client_read);
    let mut engine: Option<(BufReader<OwnedReadHalf>, OwnedWriteHalf)> = None;
    while let Some(request) = read_head(&mut client_read).await? {
        let (method, full_path) = request.request();
        let path = unversioned(&full_path).to_owned();
        let fault = shared.lock().expect("proxy state").decide(&method, &path);
        let body = request.body(true);
        match fault {
            Some(Fault::DropRequest) => return Ok(()),
            Some(Fault::Status500) => {
                copy_body(&mut client_read, &mut tokio::io::sink(), body).await?;
                client_write.write_all(ANSWER_500.as_bytes()).await?;
                continue;
            }
            Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
            _ => {}
        }
        if engine.is_none() {
            let (r, w) = UnixStream::connect(upstream).await?.into_split();
            engine = Some((BufReader::new(r), w));
        }
        let (engine_read, engine_write) = engine.as_mut().expect("connected");
        engine_write.write_all(&request.raw).await?;
        copy_body(&mut client_read, engine_write, body).await?;
        engine_write.flush().await?;
        let Some(answer) = read_head(engine_read).await? else {
            return Ok(());
        };
        if fault == Some(Fault::DropAnswer) {
            return Ok(());
        }
        client_write.write_all(&answer.raw).await?;
        let status = answer.status();
        let answer_body = if method == "HEAD" || status == 204 || status == 304 {
            Body::Empty
        } else if status == 101 {
            Body::UntilClose
        } else {
            answer.body(false)
        };
        match answer_body {
            Body::UntilClose => {
                // An upgraded or hijacked stream: raw bytes both ways until either side ends.
                let up = tokio::io::copy(&mut client_read, engine_write);
                let down = tokio::io::copy(engine_read, &mut client_write);
                tokio::select! {
                    _ = up => {}
                    _ = down => {}
                }
                return Ok(());
            }
            Body::Chunked if fault == Some(Fault::DropMidStream) => {
                copy_chunked(engine_read, &mut client_write, Some(1)).await?;
                return Ok(());
            }
            body => copy_body(engine_read, &mut client_write, body).await?,
        }
        client_write.flush().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_patterns_without_their_version() {
        assert_eq!(
            unversioned("/v1.41/containers/abc/json"),
            "/containers/abc/json"
        );
        assert_eq!(unversioned("/_ping"), "/_ping");
        assert_eq!(unversioned("/volumes"), "/volumes");
        assert!(matches("/containers/*/json", "/containers/abc/json"));
        assert!(!matches("/containers/*/json", "/containers/json"));
        assert!(matches("/containers/*", "/containers/abc"));
        assert!(!matches("/containers/*", "/containers/abc/start"));
        assert!(matches(
            "/images/**/json",
            "/images/adze-test/busybox:latest/json"
        ));
        assert!(matches("/images/**/json", "/images/sha256:ab/json"));
        assert!(!matches("/images/**/json", "/images/create"));
    }

    #[test]
    fn rules_fire_for_their_first_matches_only() {
        let mut shared = Shared {
            rules: vec![
                (
                    Rule::new("POST", "/containers/create", Fault::DropAnswer),
                    0,
                ),
                (
                    Rule::new("GET", "/containers/*/json", Fault::Status500).times(2),
                    0,
                ),
            ],
            log: Vec::new(),
        };
        assert_eq!(
            shared.decide("POST", "/containers/create"),
            Some(Fault::DropAnswer)
        );
        assert_eq!(shared.decide("POST", "/containers/create"), None);
        assert_eq!(
            shared.decide("GET", "/containers/a/json"),
            Some(Fault::Status500)
        );
        assert_eq!(
            shared.decide("GET", "/containers/a/json"),
            Some(Fault::Status500)
        );
        assert_eq!(shared.decide("GET", "/containers/a/json"), None);
        let reached: Vec<bool> = shared.log.iter().map(|s| s.reached).collect();
        assert_eq!(reached, [true, true, false, false, true]);
    }
}
