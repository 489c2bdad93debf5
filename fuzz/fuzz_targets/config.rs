//! Fuzzes the two configuration files adze reads beside a run's own files: `.adze.yaml`
//! (checked, every mistake located and rendered as the CLI renders it) and the Docker CLI's
//! `config.json` (parsed, then every registry's login and helper looked up as a pull would).
//! No input may panic, and every diagnostic must render.

#![no_main]

use std::path::Path;

use adze::config::file::{parse, ConfigError};
use adze::exec::docker::registry_auth::config_file;
use adze::load::Bundle;
use adze::report::diagnostics::to_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(
        Path::new("/fuzz/.adze.yaml"),
        ".adze.yaml",
        text.to_string(),
    ) {
        Ok(config) => {
            let _ = format!("{config:?}");
        }
        Err(ConfigError::Invalid(invalid)) => {
            let _ = invalid.summary();
            let mut bundle = Bundle::new();
            bundle.files.push(invalid.file.clone());
            let _ = to_text(&bundle, &invalid.diagnostics);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let (docker, errors) = config_file::parse(text);
    for e in &errors {
        let _ = e.to_string();
    }
    for domain in ["docker.io", "127.0.0.1:5000", "ghcr.io", text] {
        let key = config_file::registry_key(domain);
        let _ = config_file::key_host(&key);
        let _ = docker.helper_for(&key);
        let _ = docker.entry_for(&key).map(|entry| entry.has_secret());
    }
});
