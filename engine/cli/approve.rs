//! `adze approve RUN`: record who approved (or rejected) a PipelineRun waiting at the
//! catalog's `approval-gate`, where the gate looks for it.
//!
//! # Design
//!
//! - Locally (no cluster flag) the decision is a file, `.adze/approvals/<RUN>.json`, which the
//!   gate reads through its `approvals` workspace (`adze run ... -w approvals=.adze/approvals`).
//!   It is written atomically, so the polling gate never reads half of it.
//! - With `--kubeconfig`, `--context` or `--namespace` (the flags `adze run --executor
//!   kubernetes` takes) the decision is annotations on the PipelineRun, written by one JSON
//!   merge patch that carries the `resourceVersion` read just before: two people deciding at
//!   once cannot both win.
//! - A decision is final: a second one is refused (exit 1) and the first one named, because
//!   the gate may already have acted on it. `--replace` overrides that for the one case where
//!   it has not: a decision the gate ignored because its author is not among its approvers.
//!
//! Exit status: 0 recorded; 1 refused (already decided, run finished, lost a race); 2 invalid
//! input (run name, approver, message, no such PipelineRun, an unreadable record); 3 the
//! cluster or the disk failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::Kubeconfig;

use super::Outcome;
use crate::approval::{check_run_name, record_path, ApprovalRecord, Decision, APPROVALS_DIR};
use crate::exec::kubernetes::connect::{connect, ClusterOptions, ConnectError};
use crate::run::{host_file, Clock, SystemClock};

/// Arguments of `adze approve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The PipelineRun waiting for a decision (its full name, as the gate's log shows it).
    #[arg(value_name = "RUN")]
    run: String,
    /// Reject instead of approve: the gate fails and the pipeline stops.
    #[arg(long)]
    reject: bool,
    /// Replace a decision already recorded: for one the gate ignored because its author is
    /// not among the gate's approvers (a decision the gate acted on cannot be undone).
    #[arg(long)]
    replace: bool,
    /// Who decides (default: the kubeconfig context's user in a cluster, else $USER).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Why; shown in the gate's log and results.
    #[arg(long, short = 'm', value_name = "TEXT", default_value = "")]
    message: String,
    /// Local runs: the folder bound as the gate's `approvals` workspace.
    #[arg(long, value_name = "DIR", default_value = APPROVALS_DIR,
          conflicts_with_all = ["namespace", "context", "kubeconfig"])]
    approvals: PathBuf,
    /// Cluster: the PipelineRun's namespace (default: the context's, else `default`).
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Cluster: the kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Cluster: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
}

impl Args {
    /// True when a cluster flag is given: the decision goes on the PipelineRun.
    fn in_cluster(&self) -> bool {
        self.namespace.is_some() || self.context.is_some() || self.kubeconfig.is_some()
    }

    fn decision(&self) -> Decision {
        if self.reject {
            Decision::Rejected
        } else {
            Decision::Approved
        }
    }

    fn cluster_options(&self) -> ClusterOptions {
        ClusterOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

/// Why `adze approve` did not record the decision, and the exit status that says so.
#[derive(Debug, thiserror::Error)]
enum Refused {
    /// Bad input (exit 2).
    #[error("{message}")]
    Invalid { message: String, help: String },
    /// Someone decided already, or the run is over (exit 1).
    #[error("{message}")]
    Final { message: String, help: String },
    /// The cluster or the disk failed (exit 3).
    #[error("{message}")]
    Infrastructure { message: String, help: String },
}

impl Refused {
    fn report(&self) -> Outcome {
        let (help, outcome) = match self {
            Refused::Invalid { help, .. } => (help, Outcome::Invalid),
            Refused::Final { help, .. } => (help, Outcome::Failed),
            Refused::Infrastructure { help, .. } => (help, Outcome::Infrastructure),
        };
        eprintln!("error: {self}");
        if !help.is_empty() {
            eprintln!("  help: {help}");
        }
        outcome
    }
}

fn invalid(message: impl Into<String>, help: impl Into<String>) -> Refused {
    Refused::Invalid {
        message: message.into(),
        help: help.into(),
    }
}

/// Runs `adze approve`.
pub fn run(args: &Args) -> Outcome {
    let recorded = if args.in_cluster() {
        approve_in_cluster(args)
    } else {
        approve_locally(args)
    };
    match recorded {
        Ok(line) => {
            println!("{line}");
            Outcome::Success
        }
        Err(refused) => refused.report(),
    }
}

/// The record for this invocation, or why it cannot be made.
fn record(args: &Args, default_by: Option<String>) -> Result<ApprovalRecord, Refused> {
    check_run_name(&args.run).map_err(|e| {
        invalid(
            e.to_string(),
            "give the PipelineRun's full name, as the approval gate's log prints it",
        )
    })?;
    let by = args.by.clone().or(default_by).ok_or_else(|| {
        invalid(
            "cannot tell who is deciding: $USER is not set",
            "name yourself with --by NAME",
        )
    })?;
    ApprovalRecord::new(args.decision(), &by, SystemClock.now(), &args.message)
        .map_err(|e| invalid(e.to_string(), ""))
}

/// `$USER`, else `$LOGNAME`, when set and not empty.
fn login_name() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|name| !name.trim().is_empty())
}

/// Writes `<approvals>/<RUN>.json`.
fn approve_locally(args: &Args) -> Result<String, Refused> {
    let record = record(args, login_name())?;
    let path = record_path(&args.approvals, &args.run);
    if !args.replace {
        refuse_second_local_decision(&args.run, &path)?;
    }
    std::fs::create_dir_all(&args.approvals).map_err(|e| Refused::Infrastructure {
        message: format!("cannot create {}: {e}", args.approvals.display()),
        help: String::new(),
    })?;
    host_file::write_atomic(&path, record.to_json().as_bytes()).map_err(|e| {
        Refused::Infrastructure {
            message: e.to_string(),
            help: String::new(),
        }
    })?;
    Ok(format!(
        "{} PipelineRun {} as {} (written to {}; the gate reads it through its `approvals` workspace)",
        record.decision.as_str(),
        args.run,
        record.by,
        path.display()
    ))
}

/// Refuses when `path` already holds a decision on `run` (or something that is not one).
fn refuse_second_local_decision(run: &str, path: &Path) -> Result<(), Refused> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Refused::Infrastructure {
                message: format!("cannot read {}: {e}", path.display()),
                help: String::new(),
            })
        }
    };
    match ApprovalRecord::from_json(&text) {
        Ok(existing) => Err(Refused::Final {
            message: format!("PipelineRun {run} was already {}", existing.describe()),
            help: format!(
                "a decision is final; if the gate ignored it (its author is not an approver), \
                 replace it with --replace (the record is {})",
                path.display()
            ),
        }),
        Err(e) => Err(invalid(
            format!("{} is there but unusable: {e}", path.display()),
            "remove it if nobody wrote a decision there, then approve again",
        )),
    }
}

/// Annotates the PipelineRun.
fn approve_in_cluster(args: &Args) -> Result<String, Refused> {
    let record = record(args, kubeconfig_user(args).or_else(login_name))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Refused::Infrastructure {
            message: format!("cannot start a runtime: {e}"),
            help: String::new(),
        })?;
    runtime.block_on(annotate(args, &record))
}

/// The user of the kubeconfig context the flags select, as the kubeconfig names it.
fn kubeconfig_user(args: &Args) -> Option<String> {
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .ok()?;
    let context = args
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())?;
    kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .user
        .clone()
        .filter(|u| !u.is_empty())
}

async fn annotate(args: &Args, record: &ApprovalRecord) -> Result<String, Refused> {
    let cluster = connect(&args.cluster_options())
        .await
        .map_err(|e| match e {
            ConnectError::Kubeconfig { .. } => invalid(e.to_string(), e.help()),
            _ => Refused::Infrastructure {
                message: e.to_string(),
                help: e.help().to_owned(),
            },
        })?;
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("tekton.dev", "v1", "PipelineRun"));
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &resource);
    let where_ = format!("PipelineRun {}/{}", cluster.namespace, args.run);
    let api_error = |action: &str, e: kube::Error| {
        match e {
        kube::Error::Api(status) if status.code == 404 => invalid(
            format!("there is no {where_} on {}", cluster.server),
            "check the name and the namespace (`kubectl get pipelineruns -n NAMESPACE`)",
        ),
        kube::Error::Api(status) if matches!(status.code, 401 | 403) => {
            Refused::Infrastructure {
                message: format!("the API server refused to let you {action} {where_}: {}", status.message),
                help: "approvers need `get` and `patch` on pipelineruns in the run's namespace \
                       (pipelines/promote/rbac.yaml ships the promote-approver Role)"
                    .into(),
            }
        }
        kube::Error::Api(status) if status.code == 409 => Refused::Final {
            message: format!("{where_} changed while you decided (someone else may have decided)"),
            help: format!(
                "look at its annotations (`kubectl get pipelinerun {} -n {} -o yaml`) and try again",
                args.run, cluster.namespace
            ),
        },
        other => Refused::Infrastructure {
            message: format!("cannot {action} {where_}: {other}"),
            help: String::new(),
        },
    }
    };
    let current = api.get(&args.run).await.map_err(|e| api_error("read", e))?;
    let annotations: BTreeMap<String, String> =
        current.metadata.annotations.clone().unwrap_or_default();
    match ApprovalRecord::from_annotations(&annotations) {
        _ if args.replace => {}
        Ok(Some(existing)) => {
            return Err(Refused::Final {
                message: format!("{where_} was already {}", existing.describe()),
                help: "a decision is final; if the gate ignored it (its author is not an \
                       approver), replace it with --replace"
                    .into(),
            })
        }
        Ok(None) => {}
        Err(e) => {
            return Err(invalid(
                format!("{where_} carries an unusable decision: {e}"),
                "remove its adze.dev/approval annotation if nobody decided, then approve again",
            ))
        }
    }
    if let Some(ended) = finished(&current) {
        return Err(Refused::Final {
            message: format!(
                "{where_} has already finished ({ended}); nothing waits for a decision"
            ),
            help: String::new(),
        });
    }
    let patch = serde_json::json!({
        "metadata": {
            "resourceVersion": current.metadata.resource_version,
            "annotations": record.annotations(),
        }
    });
    api.patch(&args.run, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| api_error("annotate", e))?;
    Ok(format!(
        "{} {where_} as {} (annotation {}={})",
        record.decision.as_str(),
        record.by,
        crate::approval::DECISION_ANNOTATION,
        record.decision.as_str()
    ))
}

/// The reason of a finished run's `Succeeded` condition (`True`/`False`), `None` while it runs.
fn finished(run: &DynamicObject) -> Option<String> {
    let conditions = run.data["status"]["conditions"].as_array()?;
    let succeeded = conditions.iter().find(|c| c["type"] == "Succeeded")?;
    match succeeded["status"].as_str()? {
        "True" | "False" => Some(
            succeeded["reason"]
                .as_str()
                .unwrap_or("finished")
                .to_owned(),
        ),
        _ => None,
    }
}
