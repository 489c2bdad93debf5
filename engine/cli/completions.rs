//! `adze completions SHELL`: a completion script generated from the same clap definitions
//! the parser uses, so a new command or flag is completed without anyone editing a script.
//!
//! # Not yet
//!
//! - elvish and PowerShell, which `clap_complete` also knows: no test here could run them.
//! - Values only known at run time (task names in a file, run names) are not completed.

use clap::CommandFactory;

use super::output::print_bytes;
use super::{Cli, Outcome};

/// The shells a script is generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash (with the bash-completion package or `source`d from ~/.bashrc).
    Bash,
    /// zsh (a `_adze` file in a directory of `$fpath`).
    Zsh,
    /// fish (`~/.config/fish/completions/adze.fish`).
    Fish,
}

/// Arguments of `adze completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Runs `adze completions`: the script on stdout.
pub fn run(args: &Args) -> Outcome {
    print_bytes(&script(args.shell))
}

/// The completion script of `adze` for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    // Rendered into memory: clap_complete panics when its writer fails, and stdout may be a
    // closed pipe.
    let mut out = Vec::new();
    clap_complete::generate(generator, &mut offered(Cli::command()), "adze", &mut out);
    out
}

/// `command` as `--help` shows it: clap_complete would also offer hidden subcommands, such
/// as `watchdog`, which only `adze run` starts. clap cannot remove a subcommand, so the root
/// is rebuilt around the visible ones.
fn offered(command: clap::Command) -> clap::Command {
    let visible: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    // clap's names are `&'static str` without its `string` feature; `Cli` is `adze`,
    // versioned as the crate.
    let mut root = clap::Command::new("adze")
        .version(env!("CARGO_PKG_VERSION"))
        .args(command.get_arguments().cloned())
        .subcommands(visible)
        .subcommand_required(command.is_subcommand_required_set());
    if let Some(about) = command.get_about() {
        root = root.about(about.clone());
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shell_gets_its_own_script_format() {
        let text = |shell| String::from_utf8(script(shell)).expect("UTF-8 script");
        assert!(text(Shell::Bash).contains("complete -F _adze"));
        assert!(text(Shell::Zsh).starts_with("#compdef adze"));
        assert!(text(Shell::Fish).contains("complete -c adze"));
    }

    #[test]
    fn hidden_subcommands_are_not_offered() {
        let full = Cli::command();
        assert!(
            full.get_subcommands().any(|s| s.is_hide_set()),
            "this test needs a hidden subcommand to mean anything"
        );
        let shown = offered(full.clone());
        let names = |c: &clap::Command| -> Vec<String> {
            c.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.get_name().to_string())
                .collect()
        };
        assert_eq!(shown.get_name(), full.get_name());
        assert_eq!(shown.get_version(), full.get_version());
        assert_eq!(names(&shown), names(&full));
        assert!(shown.get_subcommands().all(|s| !s.is_hide_set()));
    }
}
