//! `adze man [--dir DIR]`: roff man pages generated from the clap definitions, so the page
//! and `--help` cannot disagree.
//!
//! # Invariants
//!
//! - Without `--dir`, one page (`adze(1)`) on stdout; with it, `adze.1` and one page per
//!   visible subcommand, nested ones included (`adze-catalog-lint.1`), as `clap_mangen`
//!   names them.
//! - clap's implicit `help` subcommand is left out of both: it has no page of its own, and
//!   `adze(1)` must not point at one.
//!
//! # Not yet
//!
//! - A subcommand's page has no version in its footer: `clap_mangen` takes it from the
//!   subcommand, and giving subcommands a version would add `--version` flags they lack.

use std::path::PathBuf;

use clap::CommandFactory;

use super::output::print_bytes;
use super::{Cli, Outcome};

/// Arguments of `adze man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write adze.1 and one page per subcommand (adze-run.1, ...) into DIR (created if
    /// missing) instead of printing adze(1) on stdout.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Runs `adze man`.
pub fn run(args: &Args) -> Outcome {
    let command = Cli::command().disable_help_subcommand(true);
    let Some(dir) = &args.dir else {
        let mut page = Vec::new();
        if let Err(e) = clap_mangen::Man::new(command).render(&mut page) {
            eprintln!("error: cannot render the man page: {e}");
            return Outcome::Infrastructure;
        }
        return print_bytes(&page);
    };
    let pages = page_count(&command);
    let written =
        std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
    match written {
        Ok(()) => {
            eprintln!("wrote {pages} man pages to {}", dir.display());
            Outcome::Success
        }
        Err(e) => {
            eprintln!("error: cannot write man pages to {}: {e}", dir.display());
            Outcome::Infrastructure
        }
    }
}

/// How many pages `clap_mangen::generate_to` writes for `command`: its own and, recursively,
/// one per visible subcommand.
fn page_count(command: &clap::Command) -> usize {
    1 + command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(page_count)
        .sum::<usize>()
}
