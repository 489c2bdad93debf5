//! The Pod's status as the kubelet observes it: one [`Slot`] per container, the phase and
//! conditions derived from them by Kubernetes' rules, written to the [`PodHost`] on every
//! change.
//!
//! # Invariants
//!
//! - Every change is published at once (`kubectl get pods -w` sees each phase), and an
//!   unchanged status is not published twice.
//! - Once [`Book::mark_deleted`] returns, the Pod's status is never written again: the flag
//!   and the write share one lock.
//! - A condition's `lastTransitionTime` changes only when its status does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::chrono::{DateTime, SubsecRound, Utc};

use super::downward::Addresses;
use super::resources::qos_class;
use super::PodHost;

/// Now, at the second precision Kubernetes' times have.
pub(super) fn now() -> Time {
    // chrono is built without its clock here; the system time is converted instead.
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    Time(DateTime::from_timestamp(seconds, 0).unwrap_or_default())
}

/// A time the engine reported (RFC 3339), at second precision; `None` for Docker's zero time.
pub(super) fn engine_time(text: &str) -> Option<Time> {
    let t = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    (t.timestamp() > 0).then(|| Time(t.trunc_subsecs(0)))
}

/// A container's state, as `containerStatuses[].state` shows it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum State {
    /// Not running yet.
    Waiting {
        /// `ContainerCreating`, `PodInitializing`, `ErrImagePull`, …
        reason: String,
        /// Why, when there is more to say.
        message: Option<String>,
    },
    /// Running since then.
    Running {
        /// `startedAt`.
        started_at: Time,
    },
    /// Exited.
    Terminated {
        /// Its exit code.
        exit_code: i32,
        /// `Completed`, `Error`, `OOMKilled`, `StartError`.
        reason: String,
        /// The termination message.
        message: Option<String>,
        /// `startedAt`, when it ever started.
        started_at: Option<Time>,
        /// `finishedAt`.
        finished_at: Time,
    },
}

/// One container of the Pod.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    /// The container's name.
    pub name: String,
    /// The image as the spec names it.
    pub image: String,
    /// A native sidecar (an init container with `restartPolicy: Always`).
    pub sidecar: bool,
    /// What it is doing.
    pub state: State,
    /// The engine's container id, once created.
    pub container_id: Option<String>,
    /// `imageID`, once the image is resolved.
    pub image_id: String,
    /// The readiness probe's verdict; `None` without a probe (ready once running).
    pub probed: Option<bool>,
    /// Running but its startup probe has not succeeded yet: neither started nor ready.
    pub starting: bool,
    /// How often it was started again (from a new image, see `replace.rs`).
    pub restarts: i32,
}

impl Slot {
    fn ever_started(&self) -> bool {
        self.started()
            || matches!(
                self.state,
                State::Terminated {
                    started_at: Some(_),
                    ..
                }
            )
    }

    fn terminated_with(&self) -> Option<i32> {
        match self.state {
            State::Terminated { exit_code, .. } => Some(exit_code),
            _ => None,
        }
    }

    fn ready(&self) -> bool {
        self.started() && self.probed != Some(false)
    }

    fn started(&self) -> bool {
        matches!(self.state, State::Running { .. }) && !self.starting
    }

    fn to_status(&self) -> ContainerStatus {
        let state = match &self.state {
            State::Waiting { reason, message } => ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.clone()),
                    message: message.clone(),
                }),
                ..Default::default()
            },
            State::Running { started_at } => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(started_at.clone()),
                }),
                ..Default::default()
            },
            State::Terminated {
                exit_code,
                reason,
                message,
                started_at,
                finished_at,
            } => ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: *exit_code,
                    reason: Some(reason.clone()),
                    message: message.clone(),
                    started_at: started_at.clone(),
                    finished_at: Some(finished_at.clone()),
                    container_id: self
                        .container_id
                        .as_ref()
                        .map(|id| format!("docker://{id}")),
                    ..Default::default()
                }),
                ..Default::default()
            },
        };
        ContainerStatus {
            name: self.name.clone(),
            image: self.image.clone(),
            image_id: self.image_id.clone(),
            container_id: self
                .container_id
                .as_ref()
                .map(|id| format!("docker://{id}")),
            ready: self.ready(),
            restart_count: self.restarts,
            started: Some(self.started()),
            state: Some(state),
            ..Default::default()
        }
    }
}

/// Which slot: an init container's or a regular container's, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    /// `spec.initContainers[i]`.
    Init(usize),
    /// `spec.containers[i]`.
    Main(usize),
}

/// Everything the status is derived from.
#[derive(Debug)]
pub(super) struct Record {
    /// Set by `delete_pod`: nothing is published any more.
    deleted: bool,
    /// `startTime`.
    start_time: Time,
    /// `qosClass`.
    qos_class: &'static str,
    /// The Pod's `metadata.generation`, reported as `observedGeneration` (Kubernetes 1.34).
    generation: Option<i64>,
    /// The sandbox's addresses, once it runs.
    pub addresses: Option<Addresses>,
    /// Why the Pod cannot be scheduled (a missing claim).
    pub unschedulable: Option<String>,
    /// A Pod-level failure (`DeadlineExceeded`): reason and message.
    pub failure: Option<(String, String)>,
    /// The init containers.
    pub init: Vec<Slot>,
    /// The regular containers.
    pub main: Vec<Slot>,
    /// Each condition's status and when it took it.
    transitions: HashMap<&'static str, (bool, Time)>,
    /// What was published last.
    last: Option<PodStatus>,
}

impl Record {
    /// The slot `which` names.
    pub fn slot(&mut self, which: Which) -> Option<&mut Slot> {
        match which {
            Which::Init(i) => self.init.get_mut(i),
            Which::Main(i) => self.main.get_mut(i),
        }
    }

    /// The slot `which` names, to read.
    pub fn slot_ref(&self, which: Which) -> Option<&Slot> {
        match which {
            Which::Init(i) => self.init.get(i),
            Which::Main(i) => self.main.get(i),
        }
    }

    /// Sets every still-waiting container's message (why the Pod cannot start yet).
    pub fn waiting_message(&mut self, message: Option<String>) {
        for slot in self.init.iter_mut().chain(self.main.iter_mut()) {
            if let State::Waiting { message: m, .. } = &mut slot.state {
                m.clone_from(&message);
            }
        }
    }

    /// `Pending`, `Running`, `Succeeded` or `Failed`, as the kubelet's `getPhase` decides
    /// it for `restartPolicy: Never`; a sidecar's exit code never counts.
    pub fn phase(&self) -> &'static str {
        if self.failure.is_some() {
            return "Failed";
        }
        for slot in &self.init {
            if slot.sidecar {
                if !slot.ever_started() {
                    return "Pending";
                }
            } else {
                match slot.terminated_with() {
                    Some(0) => {}
                    Some(_) => return "Failed",
                    None => return "Pending",
                }
            }
        }
        if self.main.is_empty()
            || self
                .main
                .iter()
                .any(|s| matches!(s.state, State::Waiting { .. }))
        {
            return "Pending";
        }
        // Sidecars still being stopped keep the Pod Running, so the final status carries
        // their terminated states too.
        let running = |s: &Slot| matches!(s.state, State::Running { .. });
        if self.main.iter().chain(&self.init).any(running) {
            return "Running";
        }
        if self.main.iter().all(|s| s.terminated_with() == Some(0)) {
            "Succeeded"
        } else {
            "Failed"
        }
    }

    /// True once every init container is done (sidecars: started).
    fn initialized(&self) -> Vec<&str> {
        self.init
            .iter()
            .filter(|s| {
                if s.sidecar {
                    !s.ever_started()
                } else {
                    s.terminated_with() != Some(0)
                }
            })
            .map(|s| s.name.as_str())
            .collect()
    }

    fn condition(
        &mut self,
        kind: &'static str,
        status: bool,
        reason: Option<&str>,
        message: Option<String>,
    ) -> PodCondition {
        let since = match self.transitions.get(kind) {
            Some((was, at)) if *was == status => at.clone(),
            _ => {
                let at = now();
                self.transitions.insert(kind, (status, at.clone()));
                at
            }
        };
        PodCondition {
            type_: kind.to_owned(),
            status: if status { "True" } else { "False" }.to_owned(),
            reason: reason.map(str::to_owned),
            message,
            last_transition_time: Some(since),
            observed_generation: self.generation,
            ..Default::default()
        }
    }

    fn render(&mut self) -> PodStatus {
        let phase = self.phase();
        let done = phase == "Succeeded" || phase == "Failed";
        let mut conditions = Vec::new();
        let sandbox = self.addresses.is_some() && !done;
        conditions.push(self.condition("PodReadyToStartContainers", sandbox, None, None));
        let incomplete = self.initialized();
        let init_message = (!incomplete.is_empty()).then(|| {
            format!(
                "containers with incomplete status: [{}]",
                incomplete.join(" ")
            )
        });
        let initialized = incomplete.is_empty();
        conditions.push(self.condition(
            "Initialized",
            initialized,
            (!initialized).then_some("ContainersNotInitialized"),
            init_message,
        ));
        let unready: Vec<String> = self
            .main
            .iter()
            .filter(|s| !s.ready())
            .map(|s| s.name.clone())
            .collect();
        let ready = unready.is_empty() && !done;
        let (reason, message) = match (ready, done) {
            (true, _) => (None, None),
            (false, true) => (Some("PodCompleted"), None),
            (false, false) => (
                Some("ContainersNotReady"),
                Some(format!(
                    "containers with unready status: [{}]",
                    unready.join(" ")
                )),
            ),
        };
        conditions.push(self.condition("Ready", ready, reason, message.clone()));
        conditions.push(self.condition("ContainersReady", ready, reason, message));
        let unschedulable = self.unschedulable.clone();
        let scheduled = unschedulable.is_none();
        conditions.push(self.condition(
            "PodScheduled",
            scheduled,
            (!scheduled).then_some("Unschedulable"),
            unschedulable,
        ));
        let addresses = self.addresses.clone();
        let statuses = |slots: &[Slot]| {
            (!slots.is_empty()).then(|| slots.iter().map(Slot::to_status).collect())
        };
        PodStatus {
            phase: Some(phase.to_owned()),
            conditions: Some(conditions),
            start_time: Some(self.start_time.clone()),
            host_ip: addresses.as_ref().map(|a| a.host_ip.clone()),
            host_ips: addresses.as_ref().map(|a| {
                vec![HostIP {
                    ip: a.host_ip.clone(),
                }]
            }),
            pod_ip: addresses.as_ref().map(|a| a.pod_ip.clone()),
            pod_ips: addresses.as_ref().map(|a| {
                vec![PodIP {
                    ip: a.pod_ip.clone(),
                }]
            }),
            qos_class: Some(self.qos_class.to_owned()),
            observed_generation: self.generation,
            reason: self.failure.as_ref().map(|(r, _)| r.clone()),
            message: self.failure.as_ref().map(|(_, m)| m.clone()),
            init_container_statuses: statuses(&self.init),
            container_statuses: statuses(&self.main),
            ..Default::default()
        }
    }
}

/// The status of one Pod and where it is published.
pub(super) struct Book {
    host: Arc<dyn PodHost>,
    namespace: String,
    name: String,
    record: Mutex<Record>,
}

impl Book {
    /// A Pod whose containers all wait (`PodInitializing` when it has init containers, else
    /// `ContainerCreating`, as the kubelet's default waiting state); nothing published yet.
    pub fn new(host: Arc<dyn PodHost>, pod: &Pod) -> Book {
        let spec = pod.spec.clone().unwrap_or_default();
        let init = spec.init_containers.unwrap_or_default();
        let reason = if init.is_empty() {
            "ContainerCreating"
        } else {
            "PodInitializing"
        };
        let slot = |c: &k8s_openapi::api::core::v1::Container| Slot {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            sidecar: c.restart_policy.as_deref() == Some("Always"),
            state: State::Waiting {
                reason: reason.to_owned(),
                message: None,
            },
            container_id: None,
            image_id: String::new(),
            restarts: 0,
            probed: c.readiness_probe.as_ref().map(|_| false),
            starting: false,
        };
        Book {
            host,
            namespace: pod
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            name: pod.metadata.name.clone().unwrap_or_default(),
            record: Mutex::new(Record {
                deleted: false,
                start_time: now(),
                qos_class: qos_class(pod),
                generation: pod.metadata.generation,
                addresses: None,
                unschedulable: None,
                failure: None,
                init: init.iter().map(slot).collect(),
                main: spec.containers.iter().map(slot).collect(),
                transitions: HashMap::new(),
                last: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        // A panic elsewhere must not stop status writes: the record stays consistent per edit.
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `change` and publishes the result if it differs from the last one.
    pub fn edit<T>(&self, change: impl FnOnce(&mut Record) -> T) -> T {
        let mut record = self.lock();
        let out = change(&mut record);
        if !record.deleted {
            let status = record.render();
            if record.last.as_ref() != Some(&status) {
                record.last = Some(status.clone());
                self.host
                    .set_pod_status(&self.namespace, &self.name, status);
            }
        }
        out
    }

    /// Reads the record without publishing.
    pub fn read<T>(&self, look: impl FnOnce(&Record) -> T) -> T {
        look(&self.lock())
    }

    /// Stops every later status write.
    pub fn mark_deleted(&self) {
        self.lock().deleted = true;
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec, Secret};
    use std::path::PathBuf;

    /// A host that records every status published.
    #[derive(Default)]
    pub(in crate::kubelet) struct Host(pub Mutex<Vec<PodStatus>>);
    impl PodHost for Host {
        fn config_map(&self, _: &str, _: &str) -> Option<ConfigMap> {
            None
        }
        fn secret(&self, _: &str, _: &str) -> Option<Secret> {
            None
        }
        fn claim_dir(&self, _: &str, _: &str) -> Option<PathBuf> {
            None
        }
        fn set_pod_status(&self, _: &str, _: &str, status: PodStatus) {
            self.0.lock().unwrap().push(status);
        }
    }

    fn pod() -> Pod {
        let c = |name: &str, always: bool| Container {
            name: name.into(),
            image: Some("img".into()),
            restart_policy: always.then(|| "Always".into()),
            ..Default::default()
        };
        Pod {
            spec: Some(PodSpec {
                init_containers: Some(vec![c("init", false), c("side", true)]),
                containers: vec![c("a", false), c("b", false)],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn ended(code: i32) -> State {
        State::Terminated {
            exit_code: code,
            reason: if code == 0 { "Completed" } else { "Error" }.into(),
            message: None,
            started_at: Some(now()),
            finished_at: now(),
        }
    }

    #[test]
    fn phases_follow_init_sidecars_and_containers() {
        let host = Arc::new(Host::default());
        let book = Book::new(host.clone(), &pod());
        let running = State::Running { started_at: now() };
        assert_eq!(book.edit(|r| r.phase()), "Pending");
        book.edit(|r| r.init[0].state = ended(0));
        assert_eq!(
            book.read(|r| r.phase()),
            "Pending",
            "the sidecar has not started"
        );
        book.edit(|r| r.init[1].state = running.clone());
        book.edit(|r| r.main[0].state = running.clone());
        assert_eq!(book.read(|r| r.phase()), "Pending", "b still waits");
        book.edit(|r| r.main[1].state = running.clone());
        assert_eq!(book.read(|r| r.phase()), "Running");
        book.edit(|r| r.main[0].state = ended(0));
        book.edit(|r| r.main[1].state = ended(3));
        book.edit(|r| r.init[1].state = ended(143));
        assert_eq!(
            book.read(|r| r.phase()),
            "Failed",
            "the sidecar's exit does not count, b's does"
        );
        let statuses = host.0.lock().unwrap();
        let last = statuses.last().unwrap();
        let ready = last
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_deref()),
            ("False", Some("PodCompleted"))
        );
        assert_eq!(
            last.init_container_statuses.as_ref().unwrap()[0]
                .state
                .as_ref()
                .unwrap()
                .terminated
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("Completed")
        );
    }

    #[test]
    fn a_failed_init_container_fails_the_pod_and_deleted_pods_are_silent() {
        let host = Arc::new(Host::default());
        let book = Book::new(host.clone(), &pod());
        book.edit(|r| r.init[0].state = ended(1));
        assert_eq!(book.read(|r| r.phase()), "Failed");
        let initialized = host
            .0
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .conditions
            .clone()
            .unwrap()[1]
            .clone();
        assert_eq!(
            initialized.message.as_deref(),
            Some("containers with incomplete status: [init side]")
        );
        let published = host.0.lock().unwrap().len();
        book.mark_deleted();
        book.edit(|r| r.main[0].state = ended(0));
        assert_eq!(host.0.lock().unwrap().len(), published);
    }
}
