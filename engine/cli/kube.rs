//! `adze kube`: the cluster-upgrade logic the catalog's tasks call (skew policy, upgrade
//! plan, removed APIs), over versions the tasks gathered from the cluster.
//!
//! Exit statuses: 0 compliant or planned; 1 a violation, a refused plan (downgrade,
//! unparsable version, too many steps); 2 input `skew-check` cannot read. Results go to
//! stdout (text or `-o json`), notes and errors to stderr.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::Outcome;
use crate::kube::removed_apis::{self, removed_between};
use crate::kube::skew::{self, Component, Inventory, JsonReport, POLICY_URL};
use crate::kube::upgrade_plan::{self, PlanError};

/// Arguments of `adze kube`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: KubeCommand,
}

#[derive(Debug, Subcommand)]
enum KubeCommand {
    /// Check component versions against Kubernetes' version skew policy: exit 0 when
    /// compliant, 1 with one line per violation, 2 when the file cannot be read.
    #[command(long_about = SKEW_LONG_ABOUT)]
    SkewCheck(SkewArgs),
    /// Print the minor versions an upgrade steps through, one per line (1.28.5 -> 1.31:
    /// 1.29, 1.30, 1.31); exit 1 for a downgrade or an unparsable version.
    UpgradePlan(PlanArgs),
    /// List the API versions the releases after --from up to and including --to stop
    /// serving (from Kubernetes' Deprecated API Migration Guide).
    RemovedApis(RemovedArgs),
}

const SKEW_LONG_ABOUT: &str = "\
Check component versions against Kubernetes' version skew policy
(https://kubernetes.io/releases/version-skew-policy/).

FILE is JSON; every field may be empty or absent, versions may carry a leading `v` and
provider suffixes (v1.30.4-eks-1234, 1.30.4+k3s1):

  {\"apiservers\": [\"1.30.4\", {\"name\": \"cp-2\", \"version\": \"1.30.2\"}],
   \"controllerManagers\": [...], \"schedulers\": [...], \"cloudControllerManagers\": [...],
   \"kubeProxies\": [...], \"kubelets\": [...], \"kubectl\": \"1.31.0\",
   \"nodes\": [{\"name\": \"n1\", \"kubelet\": \"1.30.1\", \"kubeProxy\": \"1.29.0\"}]}

`nodes` pairs each kubelet with the kube-proxy on its node; its entries may also be Node
objects, or the whole NodeList, as `kubectl get nodes -o json` prints them (nodeInfo's
kubeletVersion and kubeProxyVersion).

Exit status: 0 compliant, 1 one line per violation (component, version, rule, what to
do), 2 unreadable or invalid input.";

/// Output format of every `adze kube` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Lines for people.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Arguments of `adze kube skew-check`.
#[derive(Debug, clap::Args)]
struct SkewArgs {
    /// The JSON file of versions (`-` reads stdin).
    #[arg(long, value_name = "FILE")]
    versions: PathBuf,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
    /// Also write what is printed on stdout to FILE (a Task's result or a file a later step
    /// reads: the adze image has no shell to redirect with).
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
}

/// Arguments of `adze kube upgrade-plan`.
#[derive(Debug, clap::Args)]
struct PlanArgs {
    /// The version the cluster runs (1.28.5, v1.28.5-eks-1234).
    #[arg(
        long,
        value_name = "VERSION",
        required_unless_present = "from_file",
        conflicts_with = "from_file"
    )]
    from: Option<String>,
    /// Read the version the cluster runs from FILE (its first line), e.g. written by an
    /// earlier step of the same Task.
    #[arg(long, value_name = "FILE")]
    from_file: Option<PathBuf>,
    /// The version to reach (1.31 or 1.31.2).
    #[arg(long, value_name = "VERSION")]
    to: String,
    /// Refuse a plan of more than N minor upgrades.
    #[arg(long, value_name = "N")]
    max_steps: Option<usize>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
    /// Also write what is printed on stdout to FILE (e.g. a Task's result: with `-o json`,
    /// `{"from", "to", "steps"}`).
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
}

/// Arguments of `adze kube removed-apis`.
#[derive(Debug, clap::Args)]
struct RemovedArgs {
    /// The version the cluster runs.
    #[arg(long, value_name = "VERSION")]
    from: String,
    /// The version to reach.
    #[arg(long, value_name = "VERSION")]
    to: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
}

/// Runs `adze kube`.
pub fn run(args: &Args) -> Outcome {
    match &args.command {
        KubeCommand::SkewCheck(a) => skew_check(a),
        KubeCommand::UpgradePlan(a) => plan(a),
        KubeCommand::RemovedApis(a) => removed(a),
    }
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: cannot render JSON: {e}"),
    }
}

/// `value` as pretty JSON and a newline (what `-o json` prints).
fn json_text(value: &impl serde::Serialize) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(text) => format!("{text}\n"),
        Err(e) => {
            eprintln!("error: cannot render JSON: {e}");
            String::new()
        }
    }
}

/// Prints `out` on stdout and, with `--write FILE`, writes the same to FILE; a file that
/// cannot be written is exit 3 (the environment, not the input).
fn emit(out: &str, write: Option<&Path>) -> Result<(), Outcome> {
    print!("{out}");
    if let Some(file) = write {
        if let Err(e) = std::fs::write(file, out) {
            eprintln!("error: --write {}: {e}", file.display());
            return Err(Outcome::Infrastructure);
        }
    }
    Ok(())
}

/// The version `--from` gives, or the first line of the `--from-file` file.
fn from_version(args: &PlanArgs) -> Result<String, String> {
    if let Some(from) = &args.from {
        return Ok(from.clone());
    }
    let Some(file) = &args.from_file else {
        return Err("give --from VERSION or --from-file FILE".to_owned());
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("--from-file {}: {e}", file.display()))?;
    let first = text.lines().next().unwrap_or_default().trim();
    if first.is_empty() {
        return Err(format!(
            "--from-file {}: the file is empty; it should hold a version such as v1.29.4",
            file.display()
        ));
    }
    Ok(first.to_owned())
}

/// Reads and parses the versions document; the error is the whole message.
fn read_inventory(path: &std::path::Path) -> Result<Inventory, String> {
    let (label, text) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the versions from stdin: {e}"))?;
        ("<stdin>".to_owned(), text)
    } else {
        let label = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {label}: {e}"))?;
        (label, text)
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        // serde_json's message ends with " at line L column C"; say it as file:line:col.
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        format!("{label}:{}:{}: not JSON: {message}", e.line(), e.column())
    })?;
    Inventory::from_json(&value).map_err(|e| format!("{label}: {e}"))
}

fn skew_check(args: &SkewArgs) -> Outcome {
    let inventory = match read_inventory(&args.versions) {
        Ok(inventory) => inventory,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Invalid;
        }
    };
    let violations = skew::check(&inventory);
    if inventory.apiservers.is_empty() {
        eprintln!(
            "note: no kube-apiserver version was given, so only kube-proxy against the kubelet on its node was checked"
        );
    }
    let out = match args.output {
        Format::Json => json_text(&JsonReport::of(&violations)),
        Format::Text if violations.is_empty() => {
            let counts: Vec<String> = inventory
                .counts()
                .into_iter()
                .map(|(c, n)| counted(c, n))
                .collect();
            format!(
                "compliant: {} within the version skew policy\n",
                counts.join(", ")
            )
        }
        Format::Text => violations
            .iter()
            .map(|v| format!("{}\n", v.message))
            .collect(),
    };
    if let Err(outcome) = emit(&out, args.write.as_deref()) {
        return outcome;
    }
    if violations.is_empty() {
        Outcome::Success
    } else {
        let n = violations.len();
        eprintln!(
            "error: {n} violation{} of Kubernetes' version skew policy ({POLICY_URL})",
            if n == 1 { "" } else { "s" }
        );
        Outcome::Failed
    }
}

/// `2 kubelets`, `1 kube-proxy`, `3 kube-proxies`, `kubectl`.
fn counted(c: Component, n: usize) -> String {
    match (c, n) {
        (Component::Kubectl, _) => "kubectl".to_owned(),
        (c, 1) => format!("1 {}", c.name()),
        (Component::KubeProxy, n) => format!("{n} kube-proxies"),
        (c, n) => format!("{n} {}s", c.name()),
    }
}

fn refused(e: &PlanError) -> Outcome {
    eprintln!("error: {e}");
    Outcome::Failed
}

fn plan(args: &PlanArgs) -> Outcome {
    let from = match from_version(args) {
        Ok(from) => from,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Invalid;
        }
    };
    let plan = match upgrade_plan::plan(&from, &args.to, args.max_steps) {
        Ok(plan) => plan,
        Err(e) => return refused(&e),
    };
    if plan.steps.is_empty() {
        eprintln!(
            "nothing to do: {} and {} are the same minor version, so there is no minor upgrade to step through",
            plan.from, plan.to
        );
    }
    let out = match args.output {
        Format::Json => json_text(&plan),
        Format::Text => plan.steps.iter().map(|step| format!("{step}\n")).collect(),
    };
    match emit(&out, args.write.as_deref()) {
        Ok(()) => Outcome::Success,
        Err(outcome) => outcome,
    }
}

fn removed(args: &RemovedArgs) -> Outcome {
    let removals = match removed_between(&args.from, &args.to) {
        Ok(r) => r,
        Err(e) => return refused(&e),
    };
    if removals.removed.is_empty() {
        eprintln!(
            "no API version is removed by the releases after {} up to and including {}",
            removals.from, removals.to
        );
    }
    match args.output {
        Format::Json => print_json(&removals),
        Format::Text => print!("{}", removed_apis::render_text(&removals)),
    }
    Outcome::Success
}
