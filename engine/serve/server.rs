//! Binding, the accept loop, and start-up recovery.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::{App, Options};
use super::metrics::Metrics;
use super::queue::Queue;
use super::response::ListenerIdentity;
use super::routes::{router, without_allow};
use super::tls::Tls;
use super::{Launcher, Processor, Store};
use crate::store::StoreError;
use crate::triggers::Event;

/// Longest a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The store could not be read to recover unfinished work.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A started server.
pub struct Running {
    /// The bound address (the real port when `:0` was asked for).
    pub addr: SocketAddr,
    /// The shared state.
    pub app: Arc<App>,
    accept: JoinHandle<()>,
}

impl Running {
    /// Serves until the accept loop ends (it does not, short of a panic).
    pub async fn wait(self) {
        let _ = self.accept.await;
    }
}

/// Binds, takes up unfinished work from the store, and starts serving.
pub async fn start(
    options: Options,
    listener: ListenerIdentity,
    store: Arc<Store>,
    processor: Arc<dyn Processor>,
    launcher: Arc<dyn Launcher>,
    tls: Option<Arc<Tls>>,
) -> Result<Running, ServeError> {
    let tcp = TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.listen,
            source,
        })?;
    let addr = tcp.local_addr().map_err(|source| ServeError::Bind {
        addr: options.listen,
        source,
    })?;
    let (events_tx, events_rx) = mpsc::unbounded_channel::<Event>();
    let (runs_tx, runs_rx) = mpsc::unbounded_channel::<String>();
    let app = Arc::new(App {
        queue: Queue::new(options.queue_size),
        options,
        listener,
        store,
        processor,
        launcher,
        events: events_tx,
        runs: runs_tx,
        metrics: Metrics::new(),
    });
    recover(&app)?;
    if let Some(tls) = &tls {
        tls.clone().watch();
    }
    tokio::spawn(super::worker::events(app.clone(), events_rx));
    tokio::spawn(super::worker::runs(app.clone(), runs_rx));
    let routes = tower::ServiceBuilder::new()
        .map_response(without_allow)
        .service(router(app.clone()));
    let accept = tokio::spawn(async move {
        loop {
            let Ok((stream, _peer)) = tcp.accept().await else {
                // Out of file descriptors, most likely: give open connections time to end.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(routes.clone());
            let acceptor = tls.as_ref().map(|t| t.acceptor());
            tokio::spawn(async move {
                // A client that goes away mid-request, or fails its handshake, is its own
                // business.
                let http = http1::Builder::new();
                match acceptor {
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                    Some(acceptor) => {
                        if let Ok(Ok(stream)) =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                }
            });
        }
    });
    Ok(Running { addr, app, accept })
}

/// Queues what a previous process left: events to process, runs to launch (again).
fn recover(app: &Arc<App>) -> Result<(), StoreError> {
    let events = app.store.unprocessed_events()?;
    let runs = app.store.unfinished_runs()?;
    if !events.is_empty() || !runs.is_empty() {
        eprintln!(
            "adze serve: taking up {} unprocessed event(s) and {} unfinished run(s) from {}",
            events.len(),
            runs.len(),
            app.store.path().display()
        );
    }
    app.queue.force(events.len() + runs.len());
    for run in runs {
        let _ = app.runs.send(run.name);
    }
    for e in events {
        let _ = app.events.send(Event {
            id: e.id,
            request_uri: e.request_uri,
            header: e.headers,
            body: e.body,
        });
    }
    Ok(())
}
