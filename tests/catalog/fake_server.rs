//! The recording fake server behind `tests/catalog/fakes/fake-tool`: the stand-in for every
//! tool kube-sim cannot be (kubeadm, helm, etcdctl, the cloud CLIs) and for HTTP APIs a test
//! adds as extra routes. It records each call in one ordered log and answers from the test's
//! closure (usually from fixture files).
//!
//! # Design
//!
//! - One plain-HTTP axum server per scenario on `127.0.0.1:0`, in a runtime of its own, so
//!   the synchronous tests need no async code. Steps reach it because their TaskRuns run with
//!   `podTemplate.hostNetwork: true` and get its URL as `ADZE_FAKE_URL` (`podTemplate.env`).
//! - A tool's answer may take time or touch kube-sim (the fake `kubeadm upgrade node` patches
//!   the Node it upgraded), so the closure runs on a blocking thread.
//!
//! # Invariants
//!
//! - A call is recorded before it is answered: the log's order is the order the calls began.
//! - Every event carries the time it was recorded, so the log can be merged with kube-sim's
//!   audit log (`harness::timeline`).

// Shared by every pipeline's module; each uses part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::Path;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// One ordered log of everything the fakes saw (tool calls and HTTP requests), shared by all routes.
#[derive(Clone, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<(u64, String)>>>,
}

impl Recorder {
    /// Appends `what`, stamped with the current time.
    pub fn record(&self, what: impl Into<String>) {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        self.events
            .lock()
            .expect("recorder lock")
            .push((micros, what.into()));
    }

    /// Everything recorded so far, in order.
    pub fn events(&self) -> Vec<String> {
        self.timed_events().into_iter().map(|(_, e)| e).collect()
    }

    /// Everything recorded so far, in order, with when (microseconds since the Unix epoch).
    pub fn timed_events(&self) -> Vec<(u64, String)> {
        self.events.lock().expect("recorder lock").clone()
    }
}

/// One call of a fake tool (tests/catalog/fakes/fake-tool).
#[derive(Debug, Clone)]
pub struct ToolCall {
    /// The name it was called by (`kubeadm`).
    pub tool: String,
    /// Its arguments, without the tool's name.
    pub argv: Vec<String>,
    /// The step's working directory.
    pub cwd: String,
    /// What the step piped into it (empty when nothing).
    pub stdin: String,
    /// The step's environment (e.g. `NODE_NAME` for a node-level tool).
    pub env: std::collections::BTreeMap<String, String>,
    /// The Pod's ServiceAccount token, when the step ran in a Pod that mounts one.
    pub token: Option<String>,
}

impl ToolCall {
    /// The arguments joined by spaces, as recorded.
    pub fn args(&self) -> String {
        self.argv.join(" ")
    }

    /// The value of `--name VALUE` or `--name=VALUE`, if given.
    pub fn flag(&self, name: &str) -> Option<&str> {
        let eq = format!("{name}=");
        self.argv.iter().enumerate().find_map(|(i, a)| {
            if a == name {
                self.argv.get(i + 1).map(String::as_str)
            } else {
                a.strip_prefix(&eq)
            }
        })
    }
}

/// What the fake tool prints and exits with.
#[derive(Debug, Clone)]
pub struct ToolReply {
    pub stdout: String,
    pub stderr: String,
    pub exit: i32,
}

impl ToolReply {
    /// Exit 0 printing `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        ToolReply {
            stdout: stdout.into(),
            stderr: String::new(),
            exit: 0,
        }
    }

    /// Exit `exit` printing `stderr`.
    pub fn fail(exit: i32, stderr: impl Into<String>) -> Self {
        ToolReply {
            stdout: String::new(),
            stderr: stderr.into(),
            exit,
        }
    }
}

/// How a test answers tool calls.
pub type Tools = std::sync::Arc<dyn Fn(&ToolCall) -> ToolReply + Send + Sync>;

/// A running fake server.
pub struct FakeServer {
    /// `http://127.0.0.1:N`.
    pub url: String,
    /// The log every route writes to.
    pub recorder: Recorder,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FakeServer {
    /// Starts on 127.0.0.1:0 in a background runtime; POST /exec/<tool> records
    /// "<tool> <argv joined by spaces>" then calls `tools`; `extra` routes (axum::Router with
    /// state already applied) are merged in and should record what they see via the recorder
    /// they were built with. Stops when dropped.
    pub fn start(recorder: Recorder, tools: Tools, extra: Router) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake server");
        listener.set_nonblocking(true).expect("non-blocking socket");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the fake server's address")
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the fake server");
        let log = recorder.clone();
        let exec = post(move |Path(tool): Path<String>, Json(body): Json<Value>| {
            let log = log.clone();
            let tools = tools.clone();
            async move {
                let strings = |v: &Value| -> Vec<String> {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| a.as_str().unwrap_or_default().to_owned())
                        .collect()
                };
                let call = ToolCall {
                    tool,
                    argv: strings(&body["argv"]),
                    cwd: body["cwd"].as_str().unwrap_or_default().to_owned(),
                    stdin: body["stdin"].as_str().unwrap_or_default().to_owned(),
                    env: body["env"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect(),
                    token: body["token"]
                        .as_str()
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                };
                let line = if call.argv.is_empty() {
                    call.tool.clone()
                } else {
                    format!("{} {}", call.tool, call.args())
                };
                log.record(line);
                let reply = tokio::task::spawn_blocking(move || tools(&call))
                    .await
                    .unwrap_or_else(|e| ToolReply::fail(70, format!("the fake panicked: {e}\n")));
                Json(json!({
                    "stdout": reply.stdout,
                    "stderr": reply.stderr,
                    "exit": reply.exit,
                }))
            }
        });
        let app = Router::new().route("/exec/{tool}", exec).merge(extra);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        FakeServer {
            url,
            recorder,
            stop: Some(stop),
            runtime: Some(runtime),
        }
    }

    /// The recorded events whose text starts with `prefix` (e.g. `"kubeadm "`), in order.
    pub fn calls(&self, prefix: &str) -> Vec<String> {
        self.recorder
            .events()
            .into_iter()
            .filter(|e| e.starts_with(prefix))
            .collect()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
