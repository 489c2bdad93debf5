//! What happens to a recorded run: run here (`docker`, `kubernetes`) or handed to a cluster
//! (`create`).

use std::sync::Arc;

use crate::store::{LogLine, RunRecord, RunState, Store};

/// How a launched run ended here.
#[derive(Debug, Clone, PartialEq)]
pub struct Launched {
    /// The final state.
    pub state: RunState,
    /// The final status object (the whole run object with `status`), when there is one.
    pub status: Option<serde_json::Value>,
}

impl Launched {
    /// A run that could not start: `Failed` with a status saying why.
    pub fn refused(run: &RunRecord, reason: &str, message: &str) -> Launched {
        let mut object = run.object.clone();
        object["status"] = serde_json::json!({
            "conditions": [{
                "type": "Succeeded",
                "status": "False",
                "reason": reason,
                "message": message,
            }]
        });
        Launched {
            state: RunState::Failed,
            status: Some(object),
        }
    }
}

/// Where a running run reports to: the store (logs, status as it changes).
#[derive(Clone)]
pub struct Report {
    store: Arc<Store>,
    runtime: tokio::runtime::Handle,
    run: String,
}

impl Report {
    /// Reports for `run` into `store`; `runtime` drives the store's writes.
    pub fn new(store: Arc<Store>, runtime: tokio::runtime::Handle, run: &str) -> Report {
        Report {
            store,
            runtime,
            run: run.to_string(),
        }
    }

    /// Records log lines (one group write).
    pub fn logs(&self, lines: Vec<LogLine>) {
        if let Err(e) = self
            .runtime
            .block_on(self.store.append_logs(&self.run, lines))
        {
            eprintln!("adze serve: cannot record logs of {}: {e}", self.run);
        }
    }

    /// Records the run's task states (task → `{state, message}`) and, once, its graph.
    pub fn progress(&self, tasks: Option<serde_json::Value>, graph: Option<serde_json::Value>) {
        let write = self
            .store
            .set_run_progress(&self.run, tasks, graph, super::now_ms());
        if let Err(e) = self.runtime.block_on(write) {
            eprintln!(
                "adze serve: cannot record the progress of {}: {e}",
                self.run
            );
        }
    }

    /// Records the run's status object while it runs.
    pub fn status(&self, status: serde_json::Value) {
        let now = super::now_ms();
        let write = self
            .store
            .set_run_state(&self.run, RunState::Running, Some(status), now);
        if let Err(e) = self.runtime.block_on(write) {
            eprintln!("adze serve: cannot record the status of {}: {e}", self.run);
        }
    }
}

/// Runs or hands over recorded runs.
pub trait Launcher: Send + Sync {
    /// Takes `run` to a final state here; blocking. Called again for the same run after a
    /// restart when the first call did not finish, so it must not create anything twice.
    fn launch(&self, run: &RunRecord, report: &Report) -> Launched;
}
