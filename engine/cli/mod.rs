//! Command-line interface: one file per command, shared input options in `input.rs`, the
//! buffered stderr writer every report goes through in `output.rs`.

mod approve;
mod break_session;
mod catalog;
mod completions;
mod config;
mod controller;
mod doctor;
mod gc;
mod history;
mod input;
mod kube;
mod last_run;
mod logs;
mod man;
mod masking;
mod output;
mod plan;
pub(crate) mod progress;
mod run;
mod runs;
mod schema;
mod serve;
mod show;
mod trigger;
mod validate;
mod watchdog;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// How a command ended; `main.rs` turns it into the process status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is fine (exit 0).
    Success,
    /// A run ran and failed (exit 1).
    Failed,
    /// The user's input is invalid (exit 2).
    Invalid,
    /// The environment failed: no container engine, unreachable API (exit 3).
    Infrastructure,
}

impl Outcome {
    /// The process exit status.
    pub fn code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Invalid => 2,
            Outcome::Infrastructure => 3,
        }
    }
}

/// Tekton pipelines without the pain of a cluster.
#[derive(Debug, Parser)]
#[command(name = "adze", version, about, long_about = None)]
pub struct Cli {
    /// The configuration file (default: the nearest .adze.yaml in the working directory or
    /// its parents, up to the repository root).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Tekton YAML as the admission webhook would, with file:line:col for every error.
    Validate(validate::Args),
    /// Approve (or --reject) a PipelineRun waiting at an approval gate, recording who
    /// decided: a file under .adze/approvals locally, annotations on the run in a cluster.
    Approve(approve::Args),
    /// Resolve a TaskRun or PipelineRun without running it: DAG, params, results, scripts.
    Plan(plan::Args),
    /// Run a TaskRun or PipelineRun in local containers (Docker or Podman) or as Pods on a
    /// Kubernetes cluster, as Tekton would.
    Run(Box<run::Args>),
    /// Reconcile tekton.dev/v1 PipelineRuns and TaskRuns in a cluster, as Tekton's controller
    /// does, for runs labelled `adze.dev/controller: "true"` (or every run with --all).
    Controller(controller::Args),
    /// Serve a Tekton Triggers EventListener: webhooks (GitHub, GitLab, Bitbucket, CEL) start
    /// runs, recorded durably, shown on a dashboard.
    Serve(Box<serve::Args>),
    /// Replay a saved webhook payload through an EventListener and show (--dry-run) or run
    /// what its triggers create.
    Trigger(Box<trigger::Args>),
    /// List the recorded runs, local (`adze run`) and served (`adze serve`), newest first.
    Runs(runs::Args),
    /// Print what a recorded run's steps printed (the newest run by default), for one task
    /// or TASK/STEP.
    Logs(logs::Args),
    /// Print a recorded run's final object, as `adze run -o yaml|json` printed it.
    Show(show::Args),
    /// The prebuilt Tasks and Pipelines built into adze: list, show, init (copy into a
    /// repository), lint.
    Catalog(catalog::Args),
    /// Check what `adze run` needs: the container engine (socket, version, permissions,
    /// cgroup, disk), the images of the given files, and with --executor kubernetes the
    /// kubeconfig and API server; one line per check with a fix for each failure.
    Doctor(doctor::Args),
    /// Kubernetes upgrade checks the catalog's tasks call: version skew policy, upgrade
    /// plan, removed APIs.
    Kube(kube::Args),
    /// List what killed or --keep runs left behind (containers, directories); --yes removes it.
    #[command(long_about = gc::LONG_ABOUT)]
    Gc(gc::Args),
    /// Print the effective configuration (flags, .adze.yaml, defaults) and where each value
    /// came from; --path prints which file is in use.
    Config(config::Args),
    /// Print a completion script for bash, zsh or fish, generated from these definitions.
    Completions(completions::Args),
    /// Print the man page of adze, or write one page per subcommand with --dir DIR.
    Man(man::Args),
    /// Print the JSON Schema of what adze writes for scripts: `events` (`adze run --events
    /// json`).
    Schema(schema::Args),
    /// Removes a run's containers if its adze dies; started by `adze run` itself.
    #[command(hide = true)]
    Watchdog(watchdog::Args),
}

/// Parses arguments and runs the command.
pub fn main() -> Outcome {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Which flags were typed, so the configuration file fills in only the others.
    let invocation =
        config::Invocation::new(cli.config.clone(), matches.subcommand().map(|(_, m)| m));
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Approve(args) => approve::run(&args),
        Command::Plan(args) => plan::run(&args, &invocation),
        Command::Run(args) => run::run(&args, &invocation),
        Command::Controller(args) => controller::run(&args),
        Command::Serve(args) => serve::run(&args, &invocation),
        Command::Trigger(args) => trigger::run(&args, &invocation),
        Command::Runs(args) => runs::run(&args),
        Command::Logs(args) => logs::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Kube(args) => kube::run(&args),
        Command::Doctor(args) => doctor::run(&args, &invocation),
        Command::Catalog(args) => catalog::run(&args),
        Command::Gc(args) => gc::run(&args),
        Command::Config(args) => config::run(&args, &invocation),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Watchdog(args) => watchdog::run(&args),
    }
}
