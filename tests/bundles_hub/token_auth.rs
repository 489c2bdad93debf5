//! Registry token authentication, the scheme public registries use even for anonymous pulls:
//! a front in the test answers `401` with a `Bearer` challenge unless the request carries the
//! token its `/token` endpoint hands out for `repository:<repo>:pull`, and passes
//! authenticated requests through, byte for byte, to the real registry behind it. Like public
//! registries, it sends blob requests on to another origin (here `localhost` instead of
//! `127.0.0.1`), which must never see the registry's token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::registry::Registry;
use super::{adze, greeting_task};

const TOKEN: &str = "adze-test-token";

/// The front: its address and the request lines it saw (with `+auth` when authenticated).
struct TokenFront {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl TokenFront {
    fn start(registry: SocketAddr) -> TokenFront {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                handle(stream, addr, registry, &seen);
            }
        });
        TokenFront { addr, log }
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn handle(stream: TcpStream, me: SocketAddr, registry: SocketAddr, log: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => headers.push(line.trim_end().to_string()),
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let authorized = headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&format!("authorization: Bearer {TOKEN}")));
    let any_authorization = headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("authorization:"));
    let mark = match (authorized, any_authorization) {
        (true, _) => " +auth",
        (false, true) => " +other-auth",
        (false, false) => "",
    };
    log.lock().unwrap().push(format!("{path}{mark}"));
    let mut out = &stream;
    if let Some(blob) = path.strip_prefix("/storage") {
        // The storage origin: no login needed, the blob from the registry.
        forward(&stream, registry, blob, &headers);
        return;
    }
    if let Some(query) = path.strip_prefix("/token?") {
        let body = if query.contains("scope=repository%3Aadze%2Fcatalog%3Apull") {
            format!(r#"{{"token":"{TOKEN}"}}"#)
        } else {
            r#"{"errors":[{"code":"DENIED"}]}"#.to_string()
        };
        let _ = write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    if !authorized {
        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
        let _ = write!(
            out,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://{me}/token\",\
             service=\"adze-test\",scope=\"repository:adze/catalog:pull\"\r\nContent-Type: \
             application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        return;
    }
    if path.contains("/blobs/") {
        let _ = write!(
            out,
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://localhost:{}/storage{path}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            me.port()
        );
        return;
    }
    forward(&stream, registry, &path, &headers);
}

/// The same GET to the registry, its answer copied back unchanged.
fn forward(stream: &TcpStream, registry: SocketAddr, path: &str, headers: &[String]) {
    let mut out = stream;
    let Ok(mut upstream) = TcpStream::connect(registry) else {
        return;
    };
    let mut forwarded = format!("GET {path} HTTP/1.1\r\nHost: {registry}\r\nConnection: close\r\n");
    for header in headers
        .iter()
        .filter(|h| h.to_ascii_lowercase().starts_with("accept"))
    {
        forwarded.push_str(header);
        forwarded.push_str("\r\n");
    }
    forwarded.push_str("\r\n");
    if upstream.write_all(forwarded.as_bytes()).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer);
    let _ = out.write_all(&answer);
}

#[test]
fn a_bearer_challenge_is_answered_with_a_pull_token_for_the_repository() {
    let registry = Registry::start();
    registry.push_bundle(
        "adze/catalog",
        "v1",
        &[("task", "hello", &greeting_task("hello", "behind-a-token"))],
    );
    let front = TokenFront::start(registry.addr);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: tokened\nspec:\n  taskRef:\n    \
         resolver: bundles\n    params:\n    - {{name: bundle, value: \"{}/adze/catalog:v1\"}}\n    \
         - {{name: name, value: hello}}\n",
        front.addr
    );
    let plan = adze(dir.path(), "plan", &yaml, &[]);
    assert_eq!(plan.code, Some(0), "plan failed:\n{}", plan.stderr);
    assert!(
        plan.stdout.contains("echo behind-a-token"),
        "{}",
        plan.stdout
    );
    let seen = front.requests();
    assert_eq!(
        seen[0], "/v2/adze/catalog/manifests/v1",
        "anonymous first: {seen:?}"
    );
    assert!(
        seen[1].starts_with("/token?service=adze-test&scope=repository%3Aadze%2Fcatalog%3Apull"),
        "then a pull token for the repository: {seen:?}"
    );
    assert_eq!(seen[2], "/v2/adze/catalog/manifests/v1 +auth", "{seen:?}");
    assert!(
        seen[3].starts_with("/v2/adze/catalog/blobs/sha256:") && seen[3].ends_with(" +auth"),
        "the layer with the same token, no second token request: {seen:?}"
    );
    assert!(
        seen[4].starts_with("/storage/v2/adze/catalog/blobs/sha256:") && !seen[4].contains('+'),
        "the redirect to another origin carries no Authorization: {seen:?}"
    );
    assert_eq!(seen.len(), 5, "{seen:?}");
}
