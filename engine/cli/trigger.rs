//! `adze trigger`: replay a saved webhook payload through a listener's whole chain
//! (interceptors → bindings → templates) and show, or run, what it creates.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

use super::input::Input;
use super::output::print_object;
use super::Outcome;
use crate::serve::triggered::processed;
use crate::triggers::interceptor::Builtins;
use crate::triggers::payload::validate_object;
use crate::triggers::{BundleSecrets, Catalog, Event, Headers, RandomIds};

/// Options of `adze trigger`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// The payload, as the sender posts it (e.g. a GitHub push event saved from its
    /// "Recent Deliveries" page).
    #[arg(long, value_name = "FILE")]
    event: PathBuf,
    /// A request header, `Name: value` (repeatable), e.g. `X-GitHub-Event: push`.
    /// `Content-Type: application/json` is sent unless given.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The request path and query the event arrives at.
    #[arg(long, default_value = "/", value_name = "PATH")]
    request_uri: String,
    /// The EventListener, when the files hold several.
    #[arg(long, value_name = "NAME")]
    listener: Option<String>,
    /// Only show what would be created; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// How to print the objects a dry run would create.
    #[arg(short = 'o', long = "output", default_value = "yaml", value_parser = ["yaml", "json"])]
    output: String,
    /// The namespace of Triggers objects that name none.
    #[arg(long, default_value = "default", value_name = "NAMESPACE")]
    namespace: String,
}

/// `adze run`'s arguments, parsed from a command line made here.
#[derive(Debug, Parser)]
struct RunLine {
    #[command(flatten)]
    args: super::run::Args,
}

/// Runs `adze trigger`; the runs it starts read the configuration file `invocation` names
/// (`--config`), else the nearest `.adze.yaml`, as `adze run` does.
pub fn run(args: &Args, invocation: &super::config::Invocation) -> Outcome {
    let (bundle, _) = match args.input.load_checked("replaying") {
        Ok(loaded) => loaded,
        Err(o) => return o,
    };
    let (catalog, _) = Catalog::load(&bundle, &args.namespace);
    let listener = match (&args.listener, catalog.listeners.as_slice()) {
        (Some(name), _) => name.clone(),
        (None, [one]) => one.name.clone(),
        (None, []) => {
            eprintln!(
                "error: the files hold no EventListener\n  help: pass the file that defines it"
            );
            return Outcome::Invalid;
        }
        (None, many) => {
            let names: Vec<&str> = many.iter().map(|l| l.name.as_str()).collect();
            eprintln!(
                "error: the files hold {} EventListeners ({}); choose one with --listener NAME",
                names.len(),
                names.join(", ")
            );
            return Outcome::Invalid;
        }
    };
    let body = match std::fs::read(&args.event) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read --event {}: {e}", args.event.display());
            return Outcome::Invalid;
        }
    };
    let mut header = Headers::new();
    for h in &args.headers {
        let Some((name, value)) = h.split_once(':') else {
            eprintln!("error: --header {h:?} is not `Name: value`");
            return Outcome::Invalid;
        };
        header.append(name.trim(), value.trim());
    }
    if header.first("Content-Type").is_none() {
        header.append("Content-Type", "application/json");
    }
    header.append("Content-Length", body.len().to_string());
    if let Err(message) = validate_object(&body) {
        eprintln!(
            "error: {}: the listener would answer 400: Invalid event body format : {message}",
            args.event.display()
        );
        return Outcome::Invalid;
    }
    let secrets = match BundleSecrets::load(&bundle, &args.namespace) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Invalid;
        }
    };
    let event = Event {
        id: crate::status::new_uid(),
        request_uri: args.request_uri.clone(),
        header,
        body,
    };
    let outcomes = match crate::triggers::process(
        &catalog,
        &listener,
        &event,
        &Builtins::new(secrets),
        &mut RandomIds,
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: the listener would answer 500: {e}");
            return Outcome::Invalid;
        }
    };
    let result = processed(&outcomes, crate::serve::now_ms());
    if result.triggers.is_empty() {
        eprintln!("no trigger of EventListener {listener} ran for this event");
    }
    for t in &result.triggers {
        eprintln!("{}", t.detail["text"].as_str().unwrap_or_default());
    }
    if result.runs.is_empty() {
        return Outcome::Failed;
    }
    if args.dry_run {
        for run in &result.runs {
            if args.output == "yaml" {
                println!("---");
            }
            print_object(&args.output, &run.object);
        }
        return Outcome::Success;
    }
    let mut worst = Outcome::Success;
    for run in &result.runs {
        let outcome = run_created(args, invocation, &run.object, &run.name);
        if outcome.code() > worst.code() {
            worst = outcome;
        }
    }
    worst
}

/// Runs one created object with `adze run`, beside the files given.
fn run_created(
    args: &Args,
    invocation: &super::config::Invocation,
    object: &serde_json::Value,
    name: &str,
) -> Outcome {
    let dir = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot write the created object: {e}");
            return Outcome::Infrastructure;
        }
    };
    let path = dir.join(format!("{name}.json"));
    if let Err(e) = std::fs::write(&path, object.to_string()) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return Outcome::Infrastructure;
    }
    let mut line: Vec<std::ffi::OsString> = vec!["adze-run".into()];
    for p in args.input.paths() {
        line.push("-f".into());
        line.push(p.clone().into());
    }
    line.push("-f".into());
    line.push(path.clone().into());
    line.push("--run".into());
    line.push(name.into());
    let outcome = match RunLine::try_parse_from(line) {
        // `adze trigger` has no run flags of its own: the file decides what they would.
        Ok(parsed) => super::run::run(
            &parsed.args,
            &super::config::Invocation::new(invocation.config.clone(), None),
        ),
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::Invalid
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("adze-trigger-{}", crate::status::new_uid()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
