//! `watch=true`: a newline-delimited stream of `WatchEvent`s (ADDED, MODIFIED, DELETED,
//! BOOKMARK, ERROR) for one resource, filtered by namespace and selectors.
//!
//! # Design
//!
//! A spawned task per watch turns the store's [`Change`]s into lines and pushes them through a
//! small channel into the response body; the task ends when the client goes away, when
//! `timeoutSeconds` passes, or when it falls too far behind (an ERROR event with a 410
//! Expired Status, after which clients relist, as they do against a real server).
//!
//! A change that moves an object into a selector is sent as ADDED and one that moves it out as
//! DELETED, as the real watch cache does, so a filtered watch always mirrors the filtered list.
//!
//! # Invariants
//!
//! - Events are sent in resourceVersion order, each at most once; a bookmark never carries a
//!   version beyond a change that has not been sent.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::api_error::ApiError;
use crate::negotiate::Representation;
use crate::resources::ResourceDef;
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{Change, ChangeKind, Store};
use crate::table::{self, IncludeObject};

/// How often a watch that asked for bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(2);

/// What a watch request asks for.
pub struct WatchRequest {
    /// The resource watched.
    pub resource: &'static ResourceDef,
    /// Only this namespace, when set.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `resourceVersion`: resume after it (`None`/0: start with the current objects).
    pub from: Option<u64>,
    /// `allowWatchBookmarks`.
    pub bookmarks: bool,
    /// `sendInitialEvents`: current objects first, then a bookmark marking their end.
    pub initial_events: bool,
    /// `timeoutSeconds`.
    pub timeout: Option<Duration>,
    /// How each object is rendered.
    pub representation: Representation,
    /// For Tables: what each row carries.
    pub include: IncludeObject,
}

impl WatchRequest {
    fn selects(&self, object: &Value) -> bool {
        let namespace_ok = self
            .namespace
            .as_deref()
            .is_none_or(|ns| object["metadata"]["namespace"] == ns);
        namespace_ok && self.labels.matches(object) && self.fields.matches(object)
    }

    fn render(&self, object: &Value, rv: u64) -> Value {
        match self.representation {
            Representation::Json => {
                let mut object = object.clone();
                object["apiVersion"] = json!(self.resource.api_version());
                object
            }
            Representation::Metadata => table::partial_metadata(object),
            Representation::Table => table::table(self.resource, &[object], rv, self.include),
        }
    }

    fn line(&self, kind: &str, object: &Value, rv: u64) -> Bytes {
        let mut line = json!({ "type": kind, "object": self.render(object, rv) }).to_string();
        line.push('\n');
        Bytes::from(line)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut object = json!({
            "kind": self.resource.kind,
            "apiVersion": self.resource.api_version(),
            "metadata": { "resourceVersion": rv.to_string() },
        });
        if initial_end {
            object["metadata"]["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
        }
        let mut line = json!({ "type": "BOOKMARK", "object": object }).to_string();
        line.push('\n');
        Bytes::from(line)
    }

    /// The event (if any) a change produces for this watch.
    fn event(&self, change: &Change) -> Option<Bytes> {
        if !crate::store::same_storage(change.resource, self.resource) {
            return None;
        }
        let now = self.selects(&change.object);
        let before = change.previous.as_deref().is_some_and(|p| self.selects(p));
        let kind = match (change.kind, before, now) {
            (ChangeKind::Added, _, true) => "ADDED",
            (ChangeKind::Modified, true, true) => "MODIFIED",
            (ChangeKind::Modified, false, true) => "ADDED",
            (ChangeKind::Modified, true, false) => "DELETED",
            (ChangeKind::Deleted, b, n) if b || n => "DELETED",
            _ => return None,
        };
        Some(self.line(kind, &change.object, change.rv))
    }
}

/// The ERROR event a watch ends with when its history is gone.
pub fn expired_event(error: &ApiError) -> Bytes {
    let mut line = json!({ "type": "ERROR", "object": error.to_status() }).to_string();
    line.push('\n');
    Bytes::from(line)
}

/// Starts the watch; the returned stream is the response body.
pub fn start(
    store: &Arc<Store>,
    request: WatchRequest,
) -> ReceiverStream<Result<Bytes, Infallible>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    let from = if request.initial_events {
        None
    } else {
        request.from
    };
    let start = store.watch(request.resource, from);
    let store = store.clone();
    tokio::spawn(async move {
        let mut start = match start {
            Ok(start) => start,
            Err(error) => {
                let _ = tx.send(Ok(expired_event(&error))).await;
                return;
            }
        };
        let mut last_rv = start.rv;
        for object in &start.initial {
            if request.selects(object) {
                let line = request.line("ADDED", object, start.rv);
                if tx.send(Ok(line)).await.is_err() {
                    return;
                }
            }
        }
        if request.initial_events
            && request.bookmarks
            && tx.send(Ok(request.bookmark(start.rv, true))).await.is_err()
        {
            return;
        }
        for change in &start.backlog {
            if let Some(line) = request.event(change) {
                if tx.send(Ok(line)).await.is_err() {
                    return;
                }
            }
        }
        let deadline = request.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut bookmarks = tokio::time::interval(BOOKMARK_EVERY);
        bookmarks.tick().await;
        loop {
            let timeout = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            let line = tokio::select! {
                _ = timeout => return,
                _ = tx.closed() => return,
                _ = bookmarks.tick(), if request.bookmarks => Some(request.bookmark(last_rv, false)),
                received = start.receiver.recv() => match received {
                    Ok(change) => {
                        last_rv = last_rv.max(change.rv);
                        request.event(&change)
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let error = ApiError::Expired { requested: last_rv, oldest: store.current_rv() };
                        let _ = tx.send(Ok(expired_event(&error))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if let Some(line) = line {
                if tx.send(Ok(line)).await.is_err() {
                    return;
                }
            }
        }
    });
    ReceiverStream::new(rx)
}
