//! What the controller shows about itself: `/metrics`, `/healthz`, `/readyz`, and JSON logs
//! that name the run of each line.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use serde_json::Value;

use super::{condition, create, done, wait_until, Controller, Sim};

/// A port free right now on loopback.
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

/// `GET path` over plain HTTP/1.1: the status code and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

/// The value of one sample line `name{labels} value` of a Prometheus text body.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_health_and_json_logs_name_each_run() {
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-observe");
    let (metrics, health) = (free_port(), free_port());
    let controller = Controller::start(
        sim,
        &[
            "--namespace",
            &ns,
            "--leader-elect=false",
            "--log-format",
            "json",
            "--metrics-addr",
            &metrics.to_string(),
            "--health-addr",
            &health.to_string(),
        ],
    );
    assert_eq!(get(health, "/healthz").0, 200);
    assert_eq!(get(health, "/readyz").0, 200);
    assert_eq!(
        get(health, "/metrics").0,
        404,
        "metrics live on their own address"
    );
    create(
        sim,
        &ns,
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata:
  name: observed
  labels: {adze.dev/controller: "true"}
spec:
  taskSpec:
    steps:
    - {name: hi, image: adze-test/busybox:latest, script: echo hi}
"#,
    );
    let run = wait_until(
        sim,
        &ns,
        "taskrun/observed",
        Duration::from_secs(60),
        &controller,
        done,
    );
    assert_eq!(condition(&run), ("True".into(), "Succeeded".into()));
    // The reconcile is counted once its status is written, and the run's status once the
    // watch brings the change: poll until both show.
    let expected = [
        (
            r#"adze_controller_reconciles_total{kind="TaskRun",outcome="success"}"#,
            1.0,
        ),
        (
            r#"adze_controller_reconcile_duration_seconds_count{kind="TaskRun"}"#,
            1.0,
        ),
        (
            r#"adze_controller_runs{kind="TaskRun",status="Succeeded"}"#,
            1.0,
        ),
        (
            r#"adze_controller_runs{kind="TaskRun",status="Running"}"#,
            0.0,
        ),
    ];
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (code, body) = get(metrics, "/metrics");
        assert_eq!(code, 200);
        let all = expected
            .iter()
            .all(|(series, value)| sample(&body, series) == Some(*value));
        if all || std::time::Instant::now() > until {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for (series, value) in expected {
        assert_eq!(sample(&body, series), Some(value), "{series}\n{body}");
    }
    assert_eq!(sample(&body, "adze_controller_running_taskruns"), Some(0.0));
    assert_eq!(sample(&body, "adze_controller_workqueue_depth"), Some(0.0));
    // Events about the run, as Tekton's controller records them.
    let events = super::list(sim, &ns, "events.events.k8s.io");
    let reasons: Vec<&str> = events
        .iter()
        .filter(|e| e["regarding"]["name"] == "observed" && e["regarding"]["kind"] == "TaskRun")
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"Started") && reasons.contains(&"Succeeded"),
        "{reasons:?}"
    );
    // Every log line is one JSON object; those about the run name it.
    let log = controller.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let about_run: Vec<&Value> = lines.iter().filter(|l| l["name"] == "observed").collect();
    assert!(
        about_run
            .iter()
            .any(|l| l["msg"] == "done" && l["kind"] == "TaskRun" && l["namespace"] == ns.as_str()),
        "{log}"
    );
    assert!(lines
        .iter()
        .all(|l| l["ts"].is_string() && l["level"].is_string()));
}
