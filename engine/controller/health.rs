//! The controller's HTTP endpoints: `/metrics` for Prometheus, `/healthz` and `/readyz` for
//! the kubelet's probes, on one address or two (`--metrics-addr`, `--health-addr`).
//!
//! # Design
//!
//! [`serve`] binds an address and answers, on a task of its own, the [`Routes`] it is given:
//! the metrics route, the health routes, or both. A plain HTTP/1 server on hyper is enough for
//! probes and scrapes; nothing here needs a framework.
//!
//! | path | answer |
//! | --- | --- |
//! | `GET /metrics` | 200, [`Metrics::render`], `text/plain; version=0.0.4` |
//! | `GET /healthz` | 200 `ok` while the process serves at all |
//! | `GET /readyz` | 200 `ok` once [`Readiness::set_ready`] was called, else 503 |
//! | other methods on those paths | 405 with `Allow: GET` |
//! | anything else | 404 |
//!
//! Readiness means "caches synced", never "holds the Lease": the standby replica must be Ready
//! too, or a rollout of a two-replica Deployment would wait forever on the replica that is
//! not leading.
//!
//! # Invariants
//!
//! - A bind failure is a [`ServeError`] naming the address, before anything is served.
//! - Dropping the [`Server`] stops accepting connections.
//!
//! # Not yet
//!
//! - No TLS or authentication on `/metrics` (the Deployment exposes it inside the cluster
//!   only), no HTTP/2, no `HEAD`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::metrics::Metrics;

/// Whether the controller is ready to reconcile (its caches synced); clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// A flag that is not set yet.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Marks the controller ready; `/readyz` answers 200 from now on.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`Readiness::set_ready`] was called.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// What one address serves.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    metrics: Option<Arc<Metrics>>,
    readiness: Option<Readiness>,
}

impl Routes {
    /// Nothing yet: every path answers 404.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Also serve `/metrics` from `metrics`.
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Routes {
        self.metrics = Some(metrics);
        self
    }

    /// Also serve `/healthz`, and `/readyz` from `readiness`.
    pub fn health(mut self, readiness: Readiness) -> Routes {
        self.readiness = Some(readiness);
        self
    }

    /// The answer to one request.
    fn answer(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        let found = match path {
            "/metrics" => self.metrics.as_ref().map(|m| {
                let mut response = text(StatusCode::OK, m.render());
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(crate::prometheus::CONTENT_TYPE),
                );
                response
            }),
            "/healthz" => self
                .readiness
                .as_ref()
                .map(|_| text(StatusCode::OK, "ok\n".into())),
            "/readyz" => self.readiness.as_ref().map(|r| {
                if r.is_ready() {
                    text(StatusCode::OK, "ok\n".into())
                } else {
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "not ready: the controller's caches have not synced yet\n".into(),
                    )
                }
            }),
            _ => None,
        };
        match found {
            None => text(StatusCode::NOT_FOUND, format!("no such path: {path}\n")),
            Some(_) if method != Method::GET => {
                let mut response = text(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("{path} only answers GET\n"),
                );
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET"));
                response
            }
            Some(response) => response,
        }
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Why the endpoints could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error(
        "cannot listen on {addr}: {source}; choose another address or free the port \
         (--metrics-addr, --health-addr)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Endpoints being served; dropping it stops accepting connections.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl Server {
    /// The address actually bound (the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Binds `addr` and serves `routes` on it from a background task.
pub async fn serve(addr: SocketAddr, routes: Routes) -> Result<Server, ServeError> {
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let routes = Arc::new(routes);
    let accept = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let routes = Arc::clone(&routes);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let response = routes.answer(request.method(), request.uri().path());
                    async move { Ok::<_, Infallible>(response) }
                });
                // A client that hangs up mid-request is its own problem.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Server { local_addr, accept })
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use crate::controller::metrics::{Kind, Outcome};

    /// Sends one raw HTTP/1.1 request; returns the status code, the headers (lower-case) and
    /// the body.
    async fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_lowercase(), body.to_owned())
    }

    fn localhost() -> SocketAddr {
        "127.0.0.1:0".parse().unwrap()
    }

    #[tokio::test]
    async fn health_routes_answer_and_readiness_follows_the_flag() {
        let readiness = Readiness::new();
        let server = serve(localhost(), Routes::new().health(readiness.clone()))
            .await
            .unwrap();
        let addr = server.local_addr();
        assert_eq!(request(addr, "GET", "/healthz").await.0, 200);
        let (status, _, body) = request(addr, "GET", "/readyz").await;
        assert_eq!(status, 503, "{body}");
        readiness.set_ready();
        let (status, _, body) = request(addr, "GET", "/readyz").await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));
        // This address serves health only.
        assert_eq!(request(addr, "GET", "/metrics").await.0, 404);
        assert_eq!(request(addr, "GET", "/").await.0, 404);
        let (status, head, _) = request(addr, "POST", "/healthz").await;
        assert_eq!(status, 405);
        assert!(head.contains("allow: get"), "{head}");
    }

    #[tokio::test]
    async fn metrics_are_served_in_the_exposition_format() {
        let metrics = Arc::new(Metrics::new());
        metrics.record_reconcile(Kind::TaskRun, Outcome::Success, Duration::from_millis(2));
        let server = serve(
            localhost(),
            Routes::new()
                .metrics(Arc::clone(&metrics))
                .health(Readiness::new()),
        )
        .await
        .unwrap();
        let (status, head, body) = request(server.local_addr(), "GET", "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            head.contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        assert_eq!(body, metrics.render());
        assert!(body.contains(
            "adze_controller_reconciles_total{kind=\"TaskRun\",outcome=\"success\"} 1\n"
        ));
        assert_eq!(request(server.local_addr(), "GET", "/healthz").await.0, 200);
        assert_eq!(request(server.local_addr(), "PUT", "/metrics").await.0, 405);

        // `--metrics-addr` apart from `--health-addr`: each serves its own routes only.
        let apart = serve(localhost(), Routes::new().metrics(Arc::clone(&metrics)))
            .await
            .unwrap();
        assert_eq!(request(apart.local_addr(), "GET", "/metrics").await.0, 200);
        assert_eq!(request(apart.local_addr(), "GET", "/healthz").await.0, 404);
        assert_eq!(request(apart.local_addr(), "GET", "/readyz").await.0, 404);
    }

    #[tokio::test]
    async fn a_taken_address_is_a_typed_error_naming_it() {
        let first = serve(localhost(), Routes::new()).await.unwrap();
        let taken = first.local_addr();
        let error = serve(taken, Routes::new()).await.unwrap_err();
        let ServeError::Bind { addr, .. } = &error;
        assert_eq!(*addr, taken);
        let message = error.to_string();
        assert!(message.contains(&taken.to_string()), "{message}");
        assert!(message.contains("--metrics-addr"), "{message}");
    }

    #[tokio::test]
    async fn a_dropped_server_stops_accepting() {
        let server = serve(localhost(), Routes::new().health(Readiness::new()))
            .await
            .unwrap();
        let addr = server.local_addr();
        drop(server);
        // The abort lands at the task's next await; the listener closes with it.
        let mut refused = false;
        for _ in 0..50 {
            if TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(refused, "{addr} still accepts connections");
    }
}
