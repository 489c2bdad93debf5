//! The dashboard in a real browser: headless Chromium driven over WebDriver (chromedriver)
//! opens the runs list before the webhook arrives, sees the run appear, opens it, and watches
//! its task graph, task states and a log line arrive live from the server-sent events, without
//! a reload. Screenshots go to `<target>/dashboard-screenshots/` for a reader to look at.
//!
//! Chromium and chromedriver come from Debian (`tests/setup-browser.sh`); without them the
//! test fails with that hint rather than skipping.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::http;
use crate::server::{fixture, Server};
use crate::{event_id, outcome, scratch, E1_BODY, E1_SIGNATURE, PROCESSED};

/// The line the fixture's second task prints seconds after it starts.
const MARKER: &str = "live-marker: all tests passed";

/// How long one condition on the page may take to become true.
const LIMIT: Duration = Duration::from_secs(20);

/// A chromedriver on an ephemeral loopback port, killed when dropped.
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    fn start() -> Chromedriver {
        let mut child = Command::new("chromedriver")
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver does not start ({e}); run `bash tests/setup-browser.sh`")
            });
        let out = child.stdout.take().expect("stdout piped");
        let mut lines = BufReader::new(out).lines();
        // "ChromeDriver was started successfully on port 34383."
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.split("successfully on port ")
                    .nth(1)
                    .and_then(|p| p.trim_end_matches('.').trim().parse().ok())
            })
            .expect("chromedriver reports its port");
        // Keep draining so chromedriver never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Chromedriver { child, port }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver's own command for the browser's console (`goog:loggingPrefs`).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (::http::Method, Option<String>) {
        (::http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// Where screenshots go: `$CARGO_TARGET_DIR` (or `target/`) `/dashboard-screenshots`.
fn screenshot_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| root.join(t))
        .unwrap_or_else(|| root.join("target"));
    let dir = target.join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    let path = screenshot_dir().join(name);
    std::fs::write(&path, png).expect("the screenshot is written");
    eprintln!("screenshot: {}", path.display());
}

/// Evaluates `expression` in the page until it yields something other than null/false
/// (up to [`LIMIT`]); returns that value.
async fn until(client: &Client, what: &str, expression: &str) -> Value {
    let started = Instant::now();
    let script = format!("return ({expression}) || null;");
    loop {
        // An error is "not yet": the runs list reloads itself while runs change.
        match client.execute(&script, vec![]).await {
            Ok(value) if !value.is_null() => return value,
            Ok(_) => {}
            Err(e) => eprintln!("{what}: {e}"),
        }
        if started.elapsed() > LIMIT {
            let page = client.source().await.unwrap_or_default();
            panic!("after {LIMIT:?}, still not: {what}\npage:\n{page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(client: &Client, expression: &str) -> String {
    let value = client
        .execute(&format!("return {expression};"), vec![])
        .await
        .expect("the script runs");
    value.as_str().unwrap_or_default().to_string()
}

#[test]
fn the_dashboard_shows_a_run_its_graph_states_and_live_logs_in_chromium() {
    let started = Instant::now();
    let dir = scratch();
    let driver = Chromedriver::start();
    let server = Server::start(&[fixture("dashboard.yaml")], &dir.path().join("s.db"), &[]);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(browse(&driver, &server));
    eprintln!("browser test took {:?}", started.elapsed());
}

async fn browse(driver: &Chromedriver, server: &Server) {
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": which("chromium"),
            // Root (as CI runs) needs --no-sandbox; /dev/shm may be small in containers.
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("no browser session ({e}); run `bash tests/setup-browser.sh`"));
    let base = format!("http://{}", server.addr);

    // The runs list, open before any run exists: the run must appear without a reload by hand.
    client
        .goto(&format!("{base}/"))
        .await
        .expect("the runs list loads");
    until(
        &client,
        "the empty runs list",
        "document.querySelector('#runs tr.empty')",
    )
    .await;
    let reply = http::post(
        server.addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", E1_SIGNATURE),
            ("X-GitHub-Delivery", "dashboard-delivery"),
        ],
        E1_BODY,
    );
    let id = event_id(&reply);
    let event = server.processed(&id, PROCESSED);
    let name = outcome(&event, "on-push")["runs"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no run created: {event}"))
        .to_string();
    let link = format!("#run-{name} a");
    until(
        &client,
        "the new run listed",
        &format!("document.querySelector('{link}')"),
    )
    .await;
    screenshot(&client, "1-runs.png").await;

    // Open the run the way a reader does. The list reloads itself whenever a run changes, so
    // the link found may be gone by the time it is clicked: find it again then.
    let opened = Instant::now();
    loop {
        let clicked = match client.find(Locator::Css(&link)).await {
            Ok(element) => element.click().await,
            Err(e) => Err(e),
        };
        match clicked {
            Ok(()) => break,
            Err(e) if opened.elapsed() < LIMIT => eprintln!("clicking {link}: {e}"),
            Err(e) => panic!("could not click {link}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    until(
        &client,
        "the run page",
        &format!(
            "location.pathname === '/runs/{name}' && document.getElementById('run-data') && \
             document.readyState === 'complete'"
        ),
    )
    .await;
    // Proof the page is never reloaded: a mark set now survives until the marker arrives.
    client
        .execute("window.adzeMark = 'loaded-once'; return null;", vec![])
        .await
        .expect("the mark is set");
    let logs_at_load = text_of(&client, "document.getElementById('logs').textContent").await;
    assert!(
        !logs_at_load.contains(MARKER),
        "the marker was already printed when the page loaded, so this run proves nothing \
         about live updates:\n{logs_at_load}"
    );

    // The task graph: one node per task, edge checkout -> test.
    let nodes = until(
        &client,
        "both task nodes in the graph",
        "document.querySelectorAll('svg.graph g.node').length === 2 && \
         Array.from(document.querySelectorAll('svg.graph g.node')).map(n => n.id).join(',')",
    )
    .await;
    let mut nodes: Vec<&str> = nodes.as_str().unwrap_or_default().split(',').collect();
    nodes.sort();
    assert_eq!(nodes, ["node-checkout", "node-test"]);
    assert_eq!(
        client
            .execute(
                "return document.querySelectorAll('svg.graph path.edge').length;",
                vec![]
            )
            .await
            .expect("the script runs"),
        json!(1)
    );

    // A task's state, live: the second task runs while its step sleeps.
    until(
        &client,
        "the test task's node and badge showing running",
        "document.getElementById('node-test').classList.contains('state-running') && \
         document.querySelector('#task-test .badge').textContent === 'running'",
    )
    .await;
    screenshot(&client, "2-run-live.png").await;

    // The marker line, appended from the stream.
    until(
        &client,
        "the marker line in #logs",
        &format!("document.getElementById('logs').textContent.includes('{MARKER}')"),
    )
    .await;
    let line = text_of(
        &client,
        "Array.from(document.querySelectorAll('#logs .line'))\
         .map(l => l.textContent).find(t => t.includes('live-marker')) || ''",
    )
    .await;
    assert_eq!(line.trim_end(), format!("test/run {MARKER}"));
    assert_eq!(
        text_of(&client, "window.adzeMark || ''").await,
        "loaded-once",
        "the page was reloaded"
    );

    // The run's end, still live: every node, badge and the run's own state say succeeded.
    until(
        &client,
        "the run succeeded",
        "document.getElementById('run-state').textContent === 'succeeded' && \
         Array.from(document.querySelectorAll('svg.graph g.node'))\
         .every(n => n.classList.contains('state-succeeded')) && \
         Array.from(document.querySelectorAll('table.tasks .badge'))\
         .every(b => b.textContent === 'succeeded')",
    )
    .await;
    screenshot(&client, "3-run-succeeded.png").await;
    let markers = client
        .execute(
            &format!(
                "return Array.from(document.querySelectorAll('#logs .line'))\
                 .filter(l => l.textContent.includes('{MARKER}')).length;"
            ),
            vec![],
        )
        .await
        .expect("the script runs");
    assert_eq!(markers, json!(1), "the marker line is shown once");

    let console = client.issue_cmd(BrowserLog).await.expect("the console log");
    let errors: Vec<&Value> = console
        .as_array()
        .map(|entries| entries.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(
        errors.is_empty(),
        "errors in the browser console: {errors:#?}"
    );
    client.close().await.expect("the session ends");
    // The sink takes any method on any path, so a request of the browser's own (a favicon)
    // would be recorded as a refused event: the only event is the webhook.
    let events = server.events();
    assert_eq!(events.len(), 1, "{events:#?}");
}

/// The full path of `program` on `PATH`.
fn which(program: &str) -> String {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no {program} on PATH; run `bash tests/setup-browser.sh`"))
        .display()
        .to_string()
}
