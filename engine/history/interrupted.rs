//! Local runs whose `adze run` ended without finishing them (SIGKILL, a crash, an OOM kill):
//! found when the history is next opened, and recorded as interrupted once.
//!
//! # Design
//!
//! - Every local run stores its adze process's ownership labels
//!   ([`Owner::labels`](crate::run::ownership::Owner::labels)), the same facts its
//!   containers carry. A run still `running` in the store whose owner this host sees gone
//!   ([`judge`] says [`Liveness::Gone`]) can never be finished by anyone.
//! - [`settle`] runs whenever the history is opened (`adze run`'s recorder, `adze runs`,
//!   `adze logs`, `adze show`): such a run becomes [`RunState::Interrupted`] with a final
//!   object whose `Succeeded` condition is `Unknown`, reason `Interrupted`, saying why, so
//!   every reader shows the same thing and the decision is made once.
//!
//! # Invariants
//!
//! - A run whose owner is alive, or that this host cannot judge ([`Liveness::Elsewhere`]:
//!   another machine, another pid namespace), is never touched.
//! - The write is conditional on the run still being `running`: a run that ended between
//!   the read and the write keeps its real end.
//!
//! # Not yet
//!
//! - Local runs recorded before the owner was stored (history schema 2) stay `running`.

use serde_json::{json, Value};

use crate::reconcile::Timestamp;
use crate::run::ownership::{judge, Claim, Gone, Host, Liveness};
use crate::status::rfc3339;
use crate::store::{RunRecord, Store, StoreError};

/// The condition reason of an interrupted run.
pub const REASON: &str = "Interrupted";

/// Records every local run of `store` whose adze process is gone, as `host` sees it, as
/// interrupted at `now_ms`; returns their ids.
pub fn settle(store: &Store, host: &dyn Host, now_ms: i64) -> Result<Vec<String>, StoreError> {
    let mut settled = Vec::new();
    for run in store.running_local_runs()? {
        let Some(gone) = owner_gone(&run, host) else {
            continue;
        };
        let status = interrupted_object(&run, gone, now_ms);
        if store.interrupt_local_run(&run.id, status, now_ms)? {
            settled.push(run.id);
        }
    }
    Ok(settled)
}

/// Why the adze process of `run` is known to be gone; `None` while it may still run.
fn owner_gone(run: &RunRecord, host: &dyn Host) -> Option<Gone> {
    let labels = run.owner.as_ref()?;
    let Claim::Owned { owner, .. } = Claim::from_labels(labels) else {
        return None;
    };
    match judge(&owner, host) {
        Liveness::Gone(why) => Some(why),
        Liveness::Alive | Liveness::Elsewhere => None,
    }
}

/// The final object of an interrupted run: the object as it started, with a `Succeeded`
/// condition `Unknown`/[`REASON`] whose message says what happened.
pub fn interrupted_object(run: &RunRecord, gone: Gone, now_ms: i64) -> Value {
    let pid = run
        .owner
        .as_ref()
        .and_then(|o| o.get(crate::run::ownership::OWNER_PID_LABEL))
        .map(|pid| format!(" (pid {pid})"))
        .unwrap_or_default();
    let message = format!(
        "adze ended without finishing this run: the adze process{pid} that ran it {gone} \
         (killed or crashed); the outcome is unknown. The containers it left are removed by \
         the next `adze run` or `adze gc`"
    );
    let at = |ms: i64| rfc3339(Timestamp(ms.max(0) as u64));
    let mut object = run.object.clone();
    if !object.is_object() {
        object = json!({});
    }
    let mut status = json!({
        "conditions": [{
            "type": "Succeeded",
            "status": "Unknown",
            "reason": REASON,
            "message": message,
            "lastTransitionTime": at(now_ms),
        }],
    });
    if let Some(started) = run.started_ms {
        status["startTime"] = Value::from(at(started));
    }
    object["status"] = status;
    object
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Arc;

    use super::*;
    use crate::mask::Masker;
    use crate::run::ownership::{Owner, Process};
    use crate::store::{NewLocalRun, RunState};

    /// A host where only the processes given run.
    struct FakeHost {
        processes: HashMap<u32, Process>,
    }

    impl Host for FakeHost {
        fn boot(&self) -> String {
            "boot-1".into()
        }
        fn host(&self) -> String {
            "machine-1".into()
        }
        fn pid_ns(&self) -> String {
            "pid:[1]".into()
        }
        fn process(&self, pid: u32) -> Option<Process> {
            self.processes.get(&pid).copied()
        }
    }

    fn owner(pid: u32, host: &str) -> BTreeMap<String, String> {
        Owner {
            run_id: format!("run-{pid}"),
            pid,
            start: 100,
            boot: "boot-1".into(),
            host: host.into(),
            pid_ns: "pid:[1]".into(),
        }
        .labels(false)
        .into_iter()
        .collect()
    }

    fn local(name: &str, owner: BTreeMap<String, String>) -> NewLocalRun {
        NewLocalRun {
            name: name.into(),
            kind: "PipelineRun".into(),
            namespace: "default".into(),
            invocation: json!({}),
            object: json!({"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
                "metadata": {"name": name}}),
            started_ms: 1_764_950_400_000,
            owner,
        }
    }

    #[test]
    fn only_runs_whose_adze_is_gone_become_interrupted_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("h.db"))
            .unwrap()
            .with_masker(Arc::new(Masker::new()));
        let killed = store
            .begin_local_run(local("killed", owner(41, "machine-1")))
            .unwrap();
        let alive = store
            .begin_local_run(local("alive", owner(42, "machine-1")))
            .unwrap();
        let remote = store
            .begin_local_run(local("remote", owner(41, "machine-2")))
            .unwrap();
        let ended = store
            .begin_local_run(local("ended", owner(41, "machine-1")))
            .unwrap();
        store
            .set_run_state_blocking(&ended, RunState::Succeeded, None, 1_764_950_401_000)
            .unwrap();
        store
            .append_local(&killed, Vec::new(), vec![(1_764_950_403_000, json!({}))])
            .unwrap();
        let host = FakeHost {
            processes: [(
                42,
                Process {
                    start: 100,
                    zombie: false,
                },
            )]
            .into(),
        };
        let now = 1_764_950_460_000;
        assert_eq!(settle(&store, &host, now).unwrap(), vec![killed.clone()]);
        assert_eq!(settle(&store, &host, now).unwrap(), Vec::<String>::new());
        let run = store.run(&killed).unwrap().unwrap();
        assert_eq!(run.state, RunState::Interrupted);
        assert_eq!(run.finished_ms, Some(1_764_950_403_000), "its last event");
        let condition = &run.status.as_ref().unwrap()["status"]["conditions"][0];
        assert_eq!(condition["status"], "Unknown");
        assert_eq!(condition["reason"], REASON);
        assert_eq!(
            condition["message"],
            "adze ended without finishing this run: the adze process (pid 41) that ran it has \
             exited (killed or crashed); the outcome is unknown. The containers it left are \
             removed by the next `adze run` or `adze gc`"
        );
        assert_eq!(
            run.status.as_ref().unwrap()["metadata"]["name"],
            "killed",
            "the object as it started"
        );
        for (id, state) in [
            (alive, RunState::Running),
            (remote, RunState::Running),
            (ended, RunState::Succeeded),
        ] {
            assert_eq!(store.run(&id).unwrap().unwrap().state, state, "{id}");
        }
    }
}
