//! Real servers on loopback for the resolvers: `git daemon` (git://), a small HTTP server
//! serving files (the `http` resolver, and git's dumb HTTP protocol from a bare repository
//! after `git update-server-info`). Both record every request, so a test can assert that a
//! refused reference never reached them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `git daemon` serving every repository under a directory, logging to a file.
pub struct GitDaemon {
    child: Option<Child>,
    /// The port.
    pub port: u16,
    log: PathBuf,
}

impl GitDaemon {
    /// Serves the repositories under `base` (logging to `log`).
    pub fn start(base: &Path, log: PathBuf) -> GitDaemon {
        let port = free_port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--verbose",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
                "--",
            ])
            .arg(base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("daemon log"))
            .spawn()
            .expect("git daemon starts (is git-daemon installed?)");
        wait_listening(port);
        GitDaemon {
            child: Some(child),
            port,
            log,
        }
    }

    /// `git://127.0.0.1:<port>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }

    /// How many fetches (`upload-pack` requests: ls-remote, fetch, clone) it served so far.
    /// The readiness probe connects without a request, so it is not counted.
    pub fn requests(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches("Request upload-pack")
            .count()
    }

    /// Stops the daemon.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A file server: `GET /path` answers the file under its root. Paths under `/private/`
/// need `Authorization: Basic` with the configured credentials; files named `*.nolength`
/// are sent without `Content-Length`; `/smart/<repo>/…` is git's smart HTTP protocol, by
/// `git http-backend` run as a CGI program over the repositories under the root.
pub struct HttpServer {
    /// The address.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves `root`; `/private/` needs `user:password` given as `basic`.
    pub fn start(root: PathBuf, basic: &str) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let expected = {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(basic)
            )
        };
        let (log, flag) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, log, expected) = (root.clone(), log.clone(), expected.clone());
                std::thread::spawn(move || serve(stream, &root, &log, &expected));
            }
        });
        HttpServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request lines received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("log").clone()
    }

    /// Stops accepting; the port is closed when this returns.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>, expected_auth: &str) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut auth = String::new();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            if name.eq_ignore_ascii_case("authorization") {
                auth = value.trim().to_string();
            }
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    log.lock().expect("log").push(line.trim().to_string());
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = target.split('?').next().unwrap_or("/");
    let mut out = stream;
    if let Some(rest) = path.strip_prefix("/smart") {
        let method = line.split_whitespace().next().unwrap_or("GET");
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let body = request_body(&mut reader, &headers);
        let reply = http_backend(root, method, rest, query, &headers, &body);
        let _ = out.write_all(&reply);
        return;
    }
    if path.starts_with("/private/") && auth != expected_auth {
        let _ = out.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    }
    let file = root.join(path.trim_start_matches('/'));
    match std::fs::read(&file) {
        Ok(body) if file.is_file() => {
            let head = if path.ends_with(".nolength") {
                "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            };
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&body);
        }
        _ => {
            let _ = out.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    }
    let _ = out.flush();
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

/// The request body: `Content-Length` bytes, or chunks.
fn request_body(reader: &mut impl BufRead, headers: &[(String, String)]) -> Vec<u8> {
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    if let Some(len) = header("content-length").and_then(|l| l.parse::<usize>().ok()) {
        let mut body = vec![0; len];
        let _ = reader.read_exact(&mut body);
        return body;
    }
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).is_err() {
                break;
            }
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            if n == 0 || reader.read_exact(&mut chunk).is_err() {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    body
}

/// Runs `git http-backend` as a CGI program for one request; returns the HTTP response.
fn http_backend(
    root: &Path,
    method: &str,
    path_info: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path_info)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("git http-backend starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let body = body.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output().expect("git http-backend runs");
    let _ = writer.join();
    let cgi = output.stdout;
    let split = cgi
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| cgi.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((end, sep)) = split else {
        return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
    };
    let head = String::from_utf8_lossy(&cgi[..end]).to_string();
    let mut status = "200 OK".to_string();
    let mut reply = Vec::new();
    let mut lines = Vec::new();
    for l in head.lines() {
        match l.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_string(),
            Some(_) => lines.push(l.trim().to_string()),
            None => {}
        }
    }
    let content = &cgi[end + sep..];
    reply.extend_from_slice(format!("HTTP/1.1 {status}\r\n").as_bytes());
    for l in lines {
        reply.extend_from_slice(format!("{l}\r\n").as_bytes());
    }
    reply.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            content.len()
        )
        .as_bytes(),
    );
    reply.extend_from_slice(content);
    reply
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "git daemon never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
