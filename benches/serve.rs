//! `cargo bench --bench serve`: how many signed webhooks `adze serve` accepts per second, and
//! how long each waits for its `202`, with durable writes on (issue 10's benchmark).
//!
//! A fresh `adze serve` (the default `--executor docker`, `--pull never`) serves a listener
//! with one trigger behind a `github` interceptor with a `secretRef`, on `127.0.0.1:0`, with a
//! new store in a temporary directory (on disk, not tmpfs). Its trigger creates a PipelineRun
//! whose `pipelineRef` names nothing loaded, so each launched run fails at once without a
//! container: the server does all of its work per webhook (write the event, answer `202`,
//! run the interceptor, bindings and template, record the outcome and the run, launch it,
//! record how it ended) except running containers.
//!
//! The load: `ADZE_BENCH_CONNECTIONS` (default 50) keep-alive HTTP/1.1 connections, each
//! sending one request after the other (closed loop: a connection sends its next request
//! when the previous one is answered), for `ADZE_BENCH_WARMUP` seconds (default 2, not
//! measured) then `ADZE_BENCH_SECONDS` (default 10, measured). Every request is a distinct
//! GitHub `push` payload (about 1 KiB) signed with HMAC-SHA256 over its exact body
//! (`X-Hub-Signature-256: sha256=<hex>`), with its own `X-GitHub-Delivery`; each is built and
//! signed before its clock starts. Latency is from the first byte written to the last byte
//! of the answer read. The client is this process: one thread, raw HTTP/1.1 over tokio's
//! `TcpStream`, so that the load generator takes as little of the machine's two cores as it
//! can (it shares them with the server).
//!
//! Printed: requests answered in the measured window, `202`s per second, latency p50, p90,
//! p99, p99.9 and max, errors by status (a `503` is the server's queue bound, counted apart),
//! the server's CPU time by thread name over the window and its peak resident memory
//! (`VmHWM`), the client's CPU time, and how far behind the processing worker was when the
//! load stopped. Then the server is killed (SIGKILL) and the store is opened: it must hold
//! exactly as many accepted events as `202`s were received over the whole run (warm-up
//! included); the bench fails otherwise.
//!
//! Cases, each on a fresh server and store: `defaults` (`adze serve` as a user starts it:
//! 1,000 places in the queue, 4 runs at once; beyond the queue's bound webhooks get `503`) and
//! `deep-queue` (`--queue-size 1000000`: what the accept path sustains while processing and
//! launches run beside it). An argument keeps only the cases whose name holds it
//! (`cargo bench --bench serve -- deep`).
//!
//! `ADZE_BENCH_BIN` names another adze binary to measure (`cargo test --release --bench
//! serve` with `ADZE_BENCH_BIN=target/release/adze` measures a release build);
//! `ADZE_BENCH_SERVE_ARGS` adds arguments to `adze serve` (split on spaces, e.g.
//! `--queue-size 100000`). Needs a Docker engine answering (the server checks it at start;
//! no container is started).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The secret the fixture's Secret holds and the client signs with.
const SECRET: &str = "bench-s3cr3t";

/// The marker `adze serve` prints once it listens.
const READY: &str = "adze serve: EventListener";

/// The listener the bench serves: one signed trigger whose run names nothing loaded.
const FIXTURE: &str = "\
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: bench, namespace: ci}
spec:
  triggers:
  - name: push
    interceptors:
    - ref: {name: github}
      params:
      - {name: secretRef, value: {secretName: gh-secret, secretKey: token}}
      - {name: eventTypes, value: [push]}
    bindings:
    - {name: n, value: $(body.n)}
    - {name: revision, value: $(body.after)}
    - {name: url, value: $(body.repository.clone_url)}
    template:
      spec:
        params: [{name: n}, {name: revision}, {name: url}]
        resourcetemplates:
        - apiVersion: tekton.dev/v1
          kind: PipelineRun
          metadata: {generateName: bench-$(tt.params.n)-}
          spec:
            pipelineRef: {name: not-loaded}
            params:
            - {name: revision, value: $(tt.params.revision)}
            - {name: url, value: $(tt.params.url)}
---
apiVersion: v1
kind: Secret
metadata: {name: gh-secret, namespace: ci}
stringData: {token: bench-s3cr3t}
";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// The adze to measure: `$ADZE_BENCH_BIN`, else the one cargo built with this benchmark.
fn adze() -> PathBuf {
    std::env::var_os("ADZE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_adze")))
}

/// A running `adze serve`; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(fixture: &Path, store: &Path, case: &[&str]) -> Server {
        let extra = std::env::var("ADZE_BENCH_SERVE_ARGS").unwrap_or_default();
        let mut child = Command::new(adze())
            .arg("serve")
            .arg("-f")
            .arg(fixture)
            .args(["--listen", "127.0.0.1:0", "--pull", "never", "--store"])
            .arg(store)
            .args(case)
            .args(extra.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("adze serve starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready, listening) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = listening_address(&line) {
                    let _ = ready.send(addr);
                }
                let mut log = lines.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let log_text =
            |log: &Arc<Mutex<String>>| log.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match listening.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Server { child, addr, log },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("adze serve did not start:\n{}", log_text(&log));
            }
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address of `adze serve: EventListener ns/name on http://ADDR (…`.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix(READY)?;
    let at = rest.split("://").nth(1)?.split_whitespace().next()?;
    at.parse().ok()
}

/// `sha256=<hex>` of HMAC-SHA256(secret, body), as GitHub signs.
fn signature(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// The bytes of request `n`: a distinct, signed GitHub push.
fn request(addr: SocketAddr, n: u64) -> Vec<u8> {
    let sha = format!("{:040x}", 0x5eed_0000_0000_u64 + n);
    let body = format!(
        concat!(
            r#"{{"ref":"refs/heads/main","before":"{before}","after":"{sha}","n":{n},"#,
            r#""created":false,"deleted":false,"forced":false,"#,
            r#""repository":{{"id":1296269,"name":"bench","full_name":"adze/bench","private":false,"#,
            r#""owner":{{"name":"adze","login":"adze"}},"html_url":"https://github.com/adze/bench","#,
            r#""clone_url":"https://github.com/adze/bench.git","default_branch":"main"}},"#,
            r#""pusher":{{"name":"bench","email":"bench@example.com"}},"#,
            r#""sender":{{"login":"bench","id":583231,"type":"User"}},"#,
            r#""head_commit":{{"id":"{sha}","tree_id":"{tree}","distinct":true,"#,
            r#""message":"bench commit {n}\n\nA webhook sent by benches/serve.rs.","#,
            r#""timestamp":"2026-12-05T06:00:00Z","url":"https://github.com/adze/bench/commit/{sha}","#,
            r#""author":{{"name":"Bench","email":"bench@example.com","username":"bench"}},"#,
            r#""committer":{{"name":"Bench","email":"bench@example.com","username":"bench"}},"#,
            r#""added":["src/lib.rs"],"removed":[],"modified":["README.md","Cargo.toml"]}}}}"#
        ),
        before = "0".repeat(40),
        sha = sha,
        tree = format!("{:040x}", 0x7ee_0000_0000_u64 + n),
        n = n,
    );
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: GitHub-Hookshot/bench\r\n\
         Content-Type: application/json\r\nX-GitHub-Event: push\r\n\
         X-GitHub-Delivery: bench-{n:08}\r\nX-Hub-Signature-256: {}\r\n\
         Content-Length: {}\r\n\r\n",
        signature(body.as_bytes()),
        body.len()
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// Reads one response from `stream` (headers, then `Content-Length` bytes of body); returns
/// its status. `buffer` keeps what was read past it (nothing, with one request in flight).
async fn read_status(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<u16> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("the server closed the connection"));
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buffer[..end]).map_err(|_| bad("headers not UTF-8"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .ok_or_else(|| bad("no Content-Length"))?;
    while buffer.len() < end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(bad("the server closed the connection mid-body"));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    buffer.drain(..end + length);
    Ok(status)
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    /// Microseconds to each `202` answered within the measured window.
    latencies_us: Vec<u32>,
    /// Answers in the window by status (all of them, `202` included).
    statuses: BTreeMap<u16, u64>,
    /// `202`s over the whole run, warm-up included.
    accepted_total: u64,
    /// Connection errors (the connection is opened again).
    io_errors: u64,
}

/// When the measured window starts and ends, and when to stop sending.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

async fn connection(addr: SocketAddr, next: Arc<AtomicU64>, window: Window) -> Tally {
    let mut tally = Tally::default();
    let mut stream: Option<TcpStream> = None;
    let mut buffer = Vec::with_capacity(4096);
    while Instant::now() < window.end {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let bytes = request(addr, n);
        let s = match stream.as_mut() {
            Some(s) => s,
            None => match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    buffer.clear();
                    stream.insert(s)
                }
                Err(_) => {
                    tally.io_errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let sent = Instant::now();
        let answered = match s.write_all(&bytes).await {
            Ok(()) => read_status(s, &mut buffer).await,
            Err(e) => Err(e),
        };
        let done = Instant::now();
        let status = match answered {
            Ok(status) => status,
            Err(_) => {
                tally.io_errors += 1;
                stream = None;
                continue;
            }
        };
        if status == 202 {
            tally.accepted_total += 1;
        }
        if done >= window.start && done <= window.end {
            *tally.statuses.entry(status).or_default() += 1;
            if status == 202 {
                let us = (done - sent).as_micros().min(u32::MAX as u128) as u32;
                tally.latencies_us.push(us);
            }
        }
    }
    tally
}

/// CPU seconds (user + system) of each thread of `pid`, summed by thread name.
fn thread_cpu(pid: u32, ticks_per_second: f64) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((name, seconds)) = parse_stat(&stat, ticks_per_second) {
            *out.entry(name).or_default() += seconds;
        }
    }
    out
}

/// (command name, utime + stime in seconds) of a `/proc/…/stat` line.
fn parse_stat(stat: &str, ticks_per_second: f64) -> Option<(String, f64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat[open + 1..close].to_string();
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((name, (utime + stime) / ticks_per_second))
}

/// CPU seconds of the whole process at `/proc/PID` (its ended threads included).
fn process_cpu(proc_dir: String, ticks_per_second: f64) -> f64 {
    std::fs::read_to_string(format!("{proc_dir}/stat"))
        .ok()
        .and_then(|stat| parse_stat(&stat, ticks_per_second))
        .map(|(_, seconds)| seconds)
        .unwrap_or(0.0)
}

/// CPU seconds spent over the measured window.
struct Cpu {
    /// By the server, all threads.
    server: f64,
    /// By the server's threads alive at both ends of the window, by thread name.
    server_threads: BTreeMap<String, f64>,
    /// By this process (the load).
    client: f64,
}

fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `VmHWM` of `pid`, in KiB.
fn peak_memory_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The value at `q` (0..=1) of sorted `values`, nearest rank.
fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// Counts of events by state, and of runs, in the store at `path`.
fn store_counts(path: &Path) -> (BTreeMap<String, u64>, u64) {
    let conn = rusqlite::Connection::open(path).expect("the store opens");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("a busy timeout");
    let mut by_state = BTreeMap::new();
    let mut q = conn
        .prepare("SELECT state, count(*) FROM events GROUP BY state")
        .expect("the events table");
    let rows = q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .expect("count events");
    for row in rows {
        let (state, n) = row.expect("a row");
        by_state.insert(state, n as u64);
    }
    let runs: i64 = conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .expect("count runs");
    (by_state, runs as u64)
}

/// The cases: `adze serve`'s own arguments beyond the fixture, listen address and store.
const CASES: &[(&str, &[&str])] = &[
    // As a user starts it: at most 1,000 events and runs waiting, 4 runs at once.
    ("defaults", &[]),
    // A queue that never fills within the run: what the accept path alone sustains while the
    // worker and the launches run beside it.
    ("deep-queue", &["--queue-size", "1000000"]),
];

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (name, args) in CASES {
        if wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str())) {
            println!("== {name}: adze serve {}", args.join(" "));
            measure(args);
        }
    }
}

/// Runs one case and prints its figures.
fn measure(case: &[&str]) {
    let connections = env_number("ADZE_BENCH_CONNECTIONS", 50);
    let warmup = Duration::from_secs(env_number("ADZE_BENCH_WARMUP", 2));
    let measured = Duration::from_secs(env_number("ADZE_BENCH_SECONDS", 10));
    let ticks = ticks_per_second();

    let dir = tempfile::tempdir().expect("a temporary directory");
    let fixture = dir.path().join("listener.yaml");
    std::fs::write(&fixture, FIXTURE).expect("write the fixture");
    let store = dir.path().join("serve.db");
    let mut server = Server::start(&fixture, &store, case);
    let addr = server.addr;
    let pid = server.pid();
    println!(
        "adze serve {} on {addr}, store {}; {connections} connections, warm-up {}s, measured {}s; \
         body {} bytes",
        adze().display(),
        store.display(),
        warmup.as_secs(),
        measured.as_secs(),
        {
            let r = request(addr, 0);
            let at = r.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
            r.len() - at
        }
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let next = Arc::new(AtomicU64::new(0));
    let begin = Instant::now();
    let window = Window {
        start: begin + warmup,
        end: begin + warmup + measured,
    };
    let (tallies, cpu_window) = runtime.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(connection(addr, next.clone(), window)))
            .collect();
        tokio::time::sleep_until(window.start.into()).await;
        let server_before = thread_cpu(pid, ticks);
        let (server_total_before, client_before) = (
            process_cpu(format!("/proc/{pid}"), ticks),
            process_cpu("/proc/self".into(), ticks),
        );
        tokio::time::sleep_until(window.end.into()).await;
        let server_after = thread_cpu(pid, ticks);
        let (server_total_after, client_after) = (
            process_cpu(format!("/proc/{pid}"), ticks),
            process_cpu("/proc/self".into(), ticks),
        );
        let mut tallies = Vec::new();
        for t in tasks {
            tallies.push(t.await.expect("a connection task"));
        }
        let mut server_cpu: BTreeMap<String, f64> = BTreeMap::new();
        for (name, after) in server_after {
            let before = server_before.get(&name).copied().unwrap_or(0.0);
            server_cpu.insert(name, after - before);
        }
        let cpu = Cpu {
            server: server_total_after - server_total_before,
            server_threads: server_cpu,
            client: client_after - client_before,
        };
        (tallies, cpu)
    });
    let stopped = Instant::now();

    let mut latencies: Vec<u32> = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut accepted_total = 0;
    let mut io_errors = 0;
    for t in tallies {
        latencies.extend(t.latencies_us);
        for (status, n) in t.statuses {
            *statuses.entry(status).or_default() += n;
        }
        accepted_total += t.accepted_total;
        io_errors += t.io_errors;
    }
    latencies.sort_unstable();
    let answered: u64 = statuses.values().sum();
    let accepted = statuses.get(&202).copied().unwrap_or(0);
    let seconds = measured.as_secs_f64();
    println!(
        "answered {answered} requests in {seconds:.0}s: {accepted} accepted (202), \
         {:.0} accepted/s",
        accepted as f64 / seconds
    );
    println!(
        "latency to 202: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        percentile(&latencies, 1.0),
    );
    let refused: Vec<String> = statuses
        .iter()
        .filter(|(s, _)| **s != 202)
        .map(|(s, n)| format!("{n} × {s}"))
        .collect();
    let not_accepted: u64 = answered - accepted;
    println!(
        "errors: {} (connection errors: {io_errors}){}",
        not_accepted + io_errors,
        match refused.is_empty() {
            true => String::new(),
            false => format!("; answers other than 202: {}", refused.join(", ")),
        }
    );
    let Cpu {
        server: total,
        server_threads,
        client: client_cpu,
    } = cpu_window;
    let mut threads: Vec<(String, f64)> = server_threads
        .into_iter()
        .filter(|(_, s)| *s > 0.0)
        .collect();
    threads.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!(
        "server CPU over the window: {total:.2} s ({:.0}% of one core; {:.0} µs per 202): {}",
        100.0 * total / seconds,
        1e6 * total / accepted.max(1) as f64,
        threads
            .iter()
            .map(|(name, s)| format!("{name} {s:.2} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "client CPU over the window: {client_cpu:.2} s ({:.0}% of one core)",
        100.0 * client_cpu / seconds
    );
    println!(
        "server peak RSS (VmHWM): {:.1} MiB",
        peak_memory_kib(pid) as f64 / 1024.0
    );

    // How far behind the worker was; then let it catch up (bounded) to report its rate.
    let (at_stop, runs_at_stop) = store_counts(&store);
    let waiting = at_stop.get("accepted").copied().unwrap_or(0);
    println!(
        "when the load stopped: {} events processed, {waiting} still to process, {runs_at_stop} runs recorded",
        at_stop.get("processed").copied().unwrap_or(0),
    );
    let limit = Duration::from_secs(120);
    let drained = loop {
        let (now, _) = store_counts(&store);
        if now.get("accepted").copied().unwrap_or(0) == 0 {
            break Some(stopped.elapsed());
        }
        if stopped.elapsed() > limit {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    match drained {
        Some(took) => println!(
            "the worker processed the backlog {:.1}s after the load stopped",
            took.as_secs_f64()
        ),
        None => println!(
            "the worker had not processed the backlog {}s after the load stopped",
            limit.as_secs()
        ),
    }

    // Durability: after SIGKILL the store holds every event that was answered 202.
    server.kill();
    let (after_kill, runs) = store_counts(&store);
    let stored = after_kill.get("accepted").copied().unwrap_or(0)
        + after_kill.get("processed").copied().unwrap_or(0);
    println!(
        "after SIGKILL the store holds {stored} accepted events ({} processed, {runs} runs) for \
         {accepted_total} 202s received over the whole run (warm-up included)",
        after_kill.get("processed").copied().unwrap_or(0)
    );
    assert_eq!(
        stored,
        accepted_total,
        "every 202 must be one stored event; the server said:\n{}",
        server.log()
    );
}
