//! `adze show RUN`: the final object of a recorded run, as `adze run -o` printed it.

use super::history::{find_run, StoreArg};
use super::output::print_object;
use super::Outcome;

/// Options of `adze show`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run: its id (`adze runs` lists them) or name (the newest run of that name).
    #[arg(value_name = "RUN")]
    run: String,
    /// Print it in this format.
    #[arg(short = 'o', long = "output", default_value = "yaml", value_parser = ["yaml", "json"])]
    output: String,
    #[command(flatten)]
    store: StoreArg,
}

/// Runs `adze show`.
pub fn run(args: &Args) -> Outcome {
    let store = match args.store.open() {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    let run = match find_run(&store, Some(&args.run)) {
        Ok(run) => run,
        Err(message) => {
            eprintln!("{message}");
            return Outcome::Invalid;
        }
    };
    match &run.status {
        Some(object) => {
            print_object(&args.output, object);
            Outcome::Success
        }
        None => {
            eprintln!(
                "error: run `{}` has no final object: it is {}\n  help: a run killed before \
                 it ended has none; `adze logs {}` shows what it printed",
                run.id,
                run.state.as_str(),
                run.id
            );
            Outcome::Invalid
        }
    }
}
