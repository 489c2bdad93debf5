//! Accepted means kept: webhooks sent while the server is killed with SIGKILL are processed
//! exactly once after a restart, and redeliveries of the unanswered ones start nothing twice.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::{self, github_signature};
use crate::server::{fixture, Server};
use crate::{scratch, GH_SECRET};

/// Webhooks sent.
const SENT: usize = 200;

/// What a sender saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Accepted(String),
    Status(u16),
    NoAnswer,
}

fn body(n: usize) -> Vec<u8> {
    format!("{{\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(n % 17)).into_bytes()
}

fn send(addr: std::net::SocketAddr, n: usize) -> Seen {
    let body = body(n);
    let signature = github_signature(GH_SECRET, &body);
    let delivery = format!("delivery-{n}");
    let headers = [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", "push"),
        ("X-Hub-Signature-256", signature.as_str()),
        ("X-GitHub-Delivery", delivery.as_str()),
    ];
    match http::send(addr, "POST", "/", &headers, &body) {
        Ok(r) if r.status == 202 => Seen::Accepted(r.json()["eventID"].as_str().unwrap().into()),
        Ok(r) => Seen::Status(r.status),
        Err(_) => Seen::NoAnswer,
    }
}

/// Run names by webhook number (`n-<n>-<suffix>`).
fn runs_by_number(server: &Server) -> BTreeMap<usize, Vec<String>> {
    let mut out: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for run in server.runs() {
        let name = run["name"].as_str().unwrap().to_string();
        let n: usize = name.split('-').nth(1).and_then(|n| n.parse().ok()).unwrap();
        out.entry(n).or_default().push(name);
    }
    out
}

/// Waits until nothing is left to process or launch.
fn settle(server: &Server, limit: Duration) {
    let until = Instant::now() + limit;
    loop {
        let events = server.events();
        let runs = server.runs();
        let busy = events.iter().any(|e| e["state"] == "accepted")
            || runs
                .iter()
                .any(|r| r["state"] == "queued" || r["state"] == "running");
        if !busy {
            return;
        }
        assert!(Instant::now() < until, "still busy: {events:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn webhooks_accepted_before_a_sigkill_are_processed_exactly_once_after_restart() {
    let dir = scratch();
    let mut server = Server::start(
        &[fixture("numbered.yaml")],
        &dir.path().join("s.db"),
        &["--max-concurrent", "8"],
    );
    let addr = server.addr;
    let answered = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(vec![Seen::NoAnswer; SENT]));
    let senders: Vec<_> = (0..SENT)
        .map(|n| {
            let (answered, seen) = (answered.clone(), seen.clone());
            std::thread::spawn(move || {
                let result = send(addr, n);
                answered.fetch_add(1, Ordering::SeqCst);
                seen.lock().unwrap()[n] = result;
            })
        })
        .collect();
    // Killed mid-stream: some requests are answered, some in flight, some not yet sent.
    let until = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::SeqCst) < SENT / 4 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill();
    for s in senders {
        s.join().unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    let accepted: Vec<usize> = (0..SENT)
        .filter(|&n| matches!(seen[n], Seen::Accepted(_)))
        .collect();
    let unanswered: Vec<usize> = (0..SENT).filter(|&n| seen[n] == Seen::NoAnswer).collect();
    assert!(
        !accepted.is_empty(),
        "some webhooks were answered before the kill"
    );
    assert!(
        !unanswered.is_empty(),
        "the kill came before every answer: {seen:?}"
    );
    assert!(
        seen.iter()
            .all(|s| matches!(s, Seen::Accepted(_) | Seen::NoAnswer)),
        "nothing but 202 or no answer: {seen:?}"
    );

    server.restart();
    assert!(server.stderr().contains("taking up"), "{}", server.stderr());
    settle(&server, Duration::from_secs(120));
    let runs = runs_by_number(&server);
    for n in &accepted {
        assert_eq!(
            runs.get(n).map(Vec::len),
            Some(1),
            "webhook {n}: {:?}",
            runs.get(n)
        );
    }
    assert!(
        runs.values().all(|r| r.len() == 1),
        "nothing twice: {runs:?}"
    );

    // The sender redelivers what got no answer: each ends with exactly one run, whether or
    // not the first delivery had been written before the kill.
    for &n in &unanswered {
        assert!(matches!(send(server.addr, n), Seen::Accepted(_)));
    }
    // And redelivers an answered one by mistake: its first event id comes back.
    let again = send(server.addr, accepted[0]);
    assert_eq!(again, seen[accepted[0]]);
    settle(&server, Duration::from_secs(120));
    let runs = runs_by_number(&server);
    assert_eq!(runs.len(), SENT, "every webhook has its run: {runs:?}");
    assert!(
        runs.values().all(|r| r.len() == 1),
        "nothing twice: {runs:?}"
    );
    let processed = server
        .events()
        .iter()
        .filter(|e| e["state"] == "processed")
        .count();
    assert_eq!(processed, SENT, "one processed event per webhook");
}
