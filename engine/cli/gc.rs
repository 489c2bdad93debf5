//! `adze gc`: list what earlier `adze` invocations left behind (containers, temporary
//! directories) and, with `--yes`, remove it; and the same collection, limited to what is
//! certainly orphaned, at the start of every `adze run`.
//!
//! Who may remove what is decided by [`Standing`]: a live owner's things are never touched,
//! kept ones only with `--include-kept`, an unknown owner's (an older adze) only by `adze gc`.

use serde_json::{json, Value};

use super::Outcome;
use crate::exec::docker::{DockerExecutor, Removal};
use crate::run::leftovers::{Group, Standing};

/// `adze gc --help`: what each standing means and who removes it.
pub(super) const LONG_ABOUT: &str = "List the containers and temporary directories that \
    earlier `adze run` invocations left behind (killed, crashed, or run with --keep) and, with \
    --yes, remove them.\n\nEach group is one adze invocation (its run id). Orphaned groups (their \
    adze has exited) and owner-unknown ones (made by an adze older than the ownership labels) \
    are removed by --yes; kept ones (--keep) only with --include-kept as well. A running adze's \
    containers are never touched, nor those of an adze on another machine or in another pid \
    namespace, nor anything adze did not label. `adze run` itself removes orphaned groups when \
    it starts.\n\nExit status: 0 done (also when nothing was found), 1 something could not be \
    removed, 3 the container engine is unreachable.";

/// Arguments of `adze gc`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Remove what is listed as removable; without it nothing is removed.
    #[arg(long)]
    yes: bool,
    /// With --yes, also remove what `adze run --keep` kept.
    #[arg(long, requires = "yes")]
    include_kept: bool,
    /// Only what the invocation with this run id left (the `adze.dev/run-id` label).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// Print the result as JSON on stdout instead of lines for people.
    #[arg(short = 'o', long = "output", value_parser = ["json"])]
    output: Option<String>,
}

/// What `adze gc` does with one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Remove,
    WouldRemove,
    Leave,
}

impl Args {
    fn action(&self, standing: Standing) -> Action {
        let removable = match standing {
            Standing::Orphaned(_) | Standing::OwnerUnknown => true,
            Standing::Kept => self.include_kept,
            Standing::Live | Standing::Elsewhere => false,
        };
        match (removable, self.yes) {
            (true, true) => Action::Remove,
            (true, false) => Action::WouldRemove,
            (false, _) => Action::Leave,
        }
    }
}

/// Runs `adze gc`.
pub fn run(args: &Args) -> Outcome {
    let executor = match DockerExecutor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Infrastructure;
        }
    };
    let groups = match executor.survey(args.run_id.as_deref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return Outcome::Infrastructure;
        }
    };
    let mut lines = Vec::new();
    let mut entries = Vec::new();
    let mut failed = false;
    let mut would_remove = false;
    for group in &groups {
        let action = args.action(group.standing);
        let removal = (action == Action::Remove).then(|| executor.remove_group(group));
        let failures = removal.map(|r| r.failures).unwrap_or_default();
        failed |= !failures.is_empty();
        would_remove |= action == Action::WouldRemove;
        lines.push(group.describe(match (action, group.standing) {
            (Action::Remove, _) => "removed",
            (Action::WouldRemove, _) => "would remove",
            (Action::Leave, Standing::Kept) => "kept (remove with --yes --include-kept):",
            (Action::Leave, _) => "leaving",
        }));
        lines.extend(
            failures
                .iter()
                .map(|f| format!("  error: cannot remove {f}")),
        );
        entries.push(entry(group, action, &failures));
    }
    if args.output.is_some() {
        let report = json!({ "removed": args.yes, "groups": entries });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        if groups.is_empty() {
            lines.push("nothing left behind by adze".to_owned());
        } else if would_remove {
            lines.push(
                "nothing removed: run `adze gc --yes` to remove what is listed as \"would remove\""
                    .to_owned(),
            );
        }
        for line in lines {
            println!("{line}");
        }
    }
    if failed {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

/// One group in `-o json`.
fn entry(group: &Group, action: Action, failures: &[String]) -> Value {
    json!({
        "runId": group.run_id,
        "ownerPid": group.owner_pid,
        "standing": group.standing.as_str(),
        "action": match action {
            Action::Remove if failures.is_empty() => "removed",
            Action::Remove => "failed",
            Action::WouldRemove => "would-remove",
            Action::Leave => "left",
        },
        "runs": group.runs,
        "containers": group.containers.iter()
            .map(|(id, name)| json!({ "id": id, "name": name }))
            .collect::<Vec<_>>(),
        "directories": group.directories,
        "failures": failures,
    })
}

/// At the start of `adze run`: removes what invocations known to be gone left (never kept or
/// unknown-owner things, never a live owner's), saying so on stderr. A failure to look is a
/// warning: the run itself does not need it.
pub(super) fn collect_orphans(executor: &DockerExecutor) {
    let groups = match executor.survey(None) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("warning: cannot look for what killed adze runs left behind: {e}");
            return;
        }
    };
    for group in groups
        .iter()
        .filter(|g| matches!(g.standing, Standing::Orphaned(_)))
    {
        let Removal { failures } = executor.remove_group(group);
        eprintln!("{}", group.describe("collected"));
        for f in failures {
            eprintln!("warning: cannot remove {f}; `adze gc` lists what is left");
        }
    }
}
