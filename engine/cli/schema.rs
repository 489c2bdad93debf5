//! `adze schema events`: the JSON Schema of what adze writes for machines.

use super::Outcome;

/// Arguments of `adze schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which schema: events (the lines of `adze run --events json`).
    #[arg(value_parser = ["events"])]
    what: String,
}

/// Runs `adze schema`.
pub fn run(args: &Args) -> Outcome {
    // clap admits only the names above; the check keeps a new name from printing the wrong one.
    if args.what != "events" {
        eprintln!("error: adze has no schema named \"{}\"", args.what);
        return Outcome::Invalid;
    }
    let schema = crate::events::schema::schema();
    // Pretty, as a file to read or save; the value is JSON already, so this cannot fail.
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    println!("{text}");
    Outcome::Success
}
