//! `adze serve` over real HTTP on loopback: the worked examples of the Triggers spec (§7),
//! the security cases, durability across SIGKILL, TLS, the dashboard's API and its pages in
//! headless Chromium, `adze trigger`, and `.adze.yaml` under the server. Each test starts its
//! own server on its own store and port; runs go to the local Docker engine.

#[path = "../common/mod.rs"]
mod common;
mod server;

use common::http;

mod config;
mod dashboard;
mod durability;
mod examples;
mod masking;
mod replay;
mod resolution;
mod security;
mod tls;

use std::time::Duration;

/// The secret of `fixtures/github.yaml`.
const GH_SECRET: &[u8] = b"s3cr3t";

/// Spec §7 E1's body: exactly these 185 bytes.
const E1_BODY: &[u8] = br#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"},"pusher":{"name":"octo"}}"#;

/// Spec §7 E1's signature of [`E1_BODY`] with [`GH_SECRET`].
const E1_SIGNATURE: &str =
    "sha256=036ac7155c521f803af158bca8e6a4870b975d837df65bbbf464418785a5881a";

/// How long processing an event may take.
const PROCESSED: Duration = Duration::from_secs(30);

/// A fresh directory for a test's store.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// The event id of a 202 body.
fn event_id(reply: &http::Reply) -> String {
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.json()["eventID"]
        .as_str()
        .expect("an eventID")
        .to_string()
}

/// The single outcome of trigger `name` in a processed event.
fn outcome<'a>(event: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    event["outcomes"]
        .as_array()
        .and_then(|o| o.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no outcome of {name} in {event}"))
}
