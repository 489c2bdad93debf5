//! A hub-shaped HTTP server on loopback: the Artifact Hub and Tekton Hub API paths Tekton's
//! hub resolver calls, answering from objects the test publishes, and logging every request.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Paths and their JSON answers.
type Routes = Arc<Mutex<BTreeMap<String, String>>>;

/// A running hub; stopped on drop.
pub struct HubServer {
    pub addr: SocketAddr,
    routes: Routes,
    log: Arc<Mutex<Vec<String>>>,
    stopped: Arc<AtomicBool>,
}

impl HubServer {
    /// Starts serving on a free loopback port.
    pub fn start() -> HubServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().unwrap();
        let routes: Routes = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let stopped = Arc::new(AtomicBool::new(false));
        let (r, l, s) = (routes.clone(), log.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &r, &l);
                }
            }
        });
        HubServer {
            addr,
            routes,
            log,
            stopped,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Publishes `yaml` as `kind`/`name` in `catalog` at each of `versions` on both APIs
    /// (Artifact Hub: full semver; Tekton Hub: `major.minor`), with the version lists.
    /// `{version}` in `yaml` becomes the version served.
    pub fn publish(&self, kind: &str, catalog: &str, name: &str, versions: &[&str], yaml: &str) {
        let mut routes = self.routes.lock().unwrap();
        let mut artifact_versions = Vec::new();
        let mut tekton_versions = Vec::new();
        for version in versions {
            let text = yaml.replace("{version}", version);
            let short: Vec<&str> = version.split('.').take(2).collect();
            let short = short.join(".");
            routes.insert(
                format!("/api/v1/packages/tekton-{kind}/{catalog}/{name}/{version}"),
                serde_json::json!({"data": {"manifestRaw": text}}).to_string(),
            );
            routes.insert(
                format!("/v1/resource/{catalog}/{kind}/{name}/{short}/yaml"),
                serde_json::json!({"data": {"yaml": text}}).to_string(),
            );
            artifact_versions.push(serde_json::json!({"version": version, "prerelease": false}));
            tekton_versions.push(serde_json::json!({"version": short}));
        }
        routes.insert(
            format!("/api/v1/packages/tekton-{kind}/{catalog}/{name}"),
            serde_json::json!({"available_versions": artifact_versions}).to_string(),
        );
        routes.insert(
            format!("/v1/resource/{catalog}/{kind}/{name}"),
            serde_json::json!({"data": {"versions": tekton_versions}}).to_string(),
        );
    }

    /// The request lines served so far.
    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Stops accepting connections.
    pub fn stop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

impl Drop for HubServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(stream: TcpStream, routes: &Routes, log: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().push(request_line.trim().to_string());
    let answer = routes.lock().unwrap().get(&path).cloned();
    let (status, body) = match answer {
        Some(body) => ("200 OK", body),
        None => (
            "404 Not Found",
            r#"{"message":"resource not found"}"#.to_string(),
        ),
    };
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
