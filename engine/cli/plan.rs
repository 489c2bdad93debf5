//! `adze plan`: resolve runs without running them.

use std::io::{BufWriter, Write};

use super::config::{parse_image_maps, Invocation};
use super::input::{load_runs, Input};
use super::Outcome;
use crate::config::CommandLine;
use crate::plan;
use crate::report;

/// Arguments of `adze plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: Input,
    /// Set a run param (repeatable); JSON arrays/objects give array/object values.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Bind a workspace: `NAME=emptyDir` or `NAME=DIR` (repeatable).
    #[arg(short = 'w', long = "workspace", value_name = "NAME=emptyDir|DIR")]
    workspaces: Vec<String>,
    /// Plan only the run with this name (default: every run in the files).
    #[arg(long = "run", value_name = "NAME")]
    run: Option<String>,
    /// Replace image references: `FROM=TO` (repeatable; see `adze run --image-map`).
    #[arg(long = "image-map", value_name = "FROM=TO")]
    image_maps: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", default_value = "text", value_parser = ["text", "yaml", "json", "mermaid", "dot"])]
    output: String,
}

/// A plan with the remote references it was made from (`remoteRefs`, when any).
#[derive(serde::Serialize)]
struct WithSources<'a> {
    #[serde(flatten)]
    plan: &'a plan::Plan,
    #[serde(rename = "remoteRefs", skip_serializing_if = "<[_]>::is_empty")]
    remote_refs: &'a [report::provenance::RemoteRef],
}

/// Runs `adze plan`; the configuration file gives default params and workspaces, and image
/// maps.
pub fn run(args: &Args, invocation: &Invocation) -> Outcome {
    let flags = match args.input.flags_or_report() {
        Ok(flags) => flags,
        Err(outcome) => return outcome,
    };
    let image_map = match parse_image_maps(&args.image_maps) {
        Ok(rules) => rules,
        Err(outcome) => return outcome,
    };
    let cli = CommandLine {
        image_map,
        ..CommandLine::default()
    };
    let defaults = match invocation.settings(&cli) {
        Ok((_, settings)) => settings.run_defaults(),
        Err(outcome) => return outcome,
    };
    let (bundle, objects) = match load_runs(
        &args.input,
        &flags,
        &args.params,
        &args.workspaces,
        &defaults,
        args.run.as_deref(),
        "planning",
        &crate::resolve::Resolvers::standard(),
    ) {
        Ok(loaded) => loaded,
        Err(outcome) => return outcome,
    };
    let mut plans = Vec::new();
    for object in &objects {
        match plan::plan_object(&bundle, object) {
            Ok(p) => plans.push(p),
            Err(e) => {
                eprintln!(
                    "error: cannot plan {}/{}: {e}",
                    object.kind(),
                    object.display_name()
                );
                return Outcome::Invalid;
            }
        }
    }
    let remote = report::provenance::remote_refs(&bundle);
    let with_sources: Vec<WithSources<'_>> = plans
        .iter()
        .map(|plan| WithSources {
            plan,
            remote_refs: &remote,
        })
        .collect();
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    // Machine formats are serialized straight into the buffer: a `serde_json::Value` copy of
    // a 10,000-task plan costs more than writing it.
    let written = match args.output.as_str() {
        "json" => match with_sources.as_slice() {
            [one] => serde_json::to_writer_pretty(&mut out, one),
            many => serde_json::to_writer_pretty(&mut out, many),
        }
        .map_err(std::io::Error::other)
        .and_then(|()| out.write_all(b"\n")),
        "yaml" => match with_sources.as_slice() {
            [one] => serde_yaml_ng::to_writer(&mut out, one),
            many => serde_yaml_ng::to_writer(&mut out, many),
        }
        .map_err(std::io::Error::other),
        format => {
            let render = match format {
                "mermaid" => report::plan::mermaid,
                "dot" => report::plan::dot,
                _ => report::plan::text,
            };
            let rendered: Vec<String> = plans.iter().map(render).collect();
            let mut text = rendered.join("\n");
            if format == "text" && !remote.is_empty() {
                text.push('\n');
                text.push_str(&report::provenance::text(&remote));
            }
            out.write_all(text.as_bytes())
        }
    };
    let flushed = written.and_then(|()| out.flush());
    // The process ends right after this: freeing a big plan and its bundle one allocation at
    // a time (a tenth of the run at 10,000 tasks) would give nothing back to anyone.
    drop(with_sources);
    std::mem::forget(plans);
    std::mem::forget(bundle);
    match flushed {
        Ok(()) => Outcome::Success,
        // A closed pipe (`adze plan | head`) is the reader's choice, not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Outcome::Success,
        Err(e) => {
            eprintln!("error: cannot write the plan to stdout: {e}");
            Outcome::Infrastructure
        }
    }
}
