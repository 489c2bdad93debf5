//! Leader election over a `coordination.k8s.io/v1` Lease, so that of several controller
//! replicas exactly one reconciles at a time.
//!
//! # Design
//!
//! The protocol is client-go's `leaderelection` with a `LeaseLock`, so adze replicas and the
//! tools that read Leases (`kubectl get lease`, dashboards) see the same record:
//! `holderIdentity`, `leaseDurationSeconds`, `acquireTime`, `renewTime`, `leaseTransitions`.
//!
//! One round ([`LeaderElector::try_acquire_or_renew`]) reads the Lease and decides with the
//! pure [`next_spec`]: create it when absent, take it when it has no holder or its holder's
//! `renewTime + leaseDurationSeconds` has passed, renew it when it is ours, and otherwise leave
//! it alone. Writes are `replace`s carrying the `resourceVersion` that was read, so two
//! replicas deciding at once cannot both win: the second gets 409 Conflict, which counts as
//! "someone else wrote" and is answered by reading again, never by overwriting.
//!
//! [`LeaderElector::acquire`] repeats rounds every `retry_period` until one wins, then returns
//! a [`Leadership`] whose task renews every `retry_period`. Leadership is lost when no renewal
//! succeeds within `renew_deadline` of the last one, or at once when a read shows another
//! holder; [`Leadership::lost`] resolves then, and the controller exits so that nothing
//! reconciles without the Lease. [`Leadership::release`] is client-go's `ReleaseOnCancel`:
//! it stops renewing and writes an empty holder with a one-second duration, so a standby takes
//! over on its next round instead of waiting for the Lease to expire.
//!
//! # Invariants
//!
//! - A Lease is only written with the `resourceVersion` this replica last read (create aside),
//!   so a write never erases another replica's newer record.
//! - `leaseTransitions` grows by one exactly when the holder changes; a renewal keeps it and
//!   `acquireTime`.
//! - `renew_deadline < lease_duration` ([`ElectionConfig::validate`]), and the leader counts
//!   its deadline from the start of the round that wrote `renewTime`, not from the answer: a
//!   leader that cannot renew gives up before any other replica may take the Lease.
//!
//! # Not yet
//!
//! - Expiry is judged from the holder's `renewTime` against this replica's clock, so a replica
//!   that starts next to a stale Lease takes it at once; client-go instead waits a full
//!   duration from the local time it first saw the record, which tolerates clock skew.
//!   Replicas whose clocks differ by more than `lease_duration - renew_deadline` could overlap.
//! - No jitter on `retry_period`, no coordinated leader election (`LeaseCandidate`,
//!   `preferredHolder`, `strategy`).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::chrono::{DateTime, TimeDelta, Utc};
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::logging::{Logger, Record};

/// The Lease's name when none is given.
pub const DEFAULT_LEASE_NAME: &str = "adze-controller";

/// The Lease and the timing of the election (client-go's defaults: 15 s, 10 s, 2 s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionConfig {
    /// The Lease's name.
    pub lease_name: String,
    /// The Lease's namespace (the controller's own).
    pub namespace: String,
    /// This replica's name in `holderIdentity`; unique per process.
    pub identity: String,
    /// How long a Lease stays valid after its last renewal (`leaseDurationSeconds`).
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up.
    pub renew_deadline: Duration,
    /// How long to wait between two rounds.
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// client-go's defaults for the Lease `adze-controller` in `namespace`, with
    /// [`default_identity`].
    pub fn new(namespace: impl Into<String>) -> ElectionConfig {
        ElectionConfig {
            lease_name: DEFAULT_LEASE_NAME.to_owned(),
            namespace: namespace.into(),
            identity: default_identity(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// Checks the durations are usable: `retry_period < renew_deadline < lease_duration`, and
    /// `lease_duration` is whole seconds (the Lease stores seconds).
    pub fn validate(&self) -> Result<(), LeaseError> {
        let invalid = |reason: String| Err(LeaseError::Config { reason });
        if self.lease_duration.subsec_nanos() != 0 || self.lease_duration.is_zero() {
            return invalid(format!(
                "the lease duration ({:?}) must be a whole, non-zero number of seconds",
                self.lease_duration
            ));
        }
        if i32::try_from(self.lease_duration.as_secs()).is_err() {
            return invalid(format!(
                "the lease duration ({:?}) does not fit leaseDurationSeconds",
                self.lease_duration
            ));
        }
        if self.renew_deadline >= self.lease_duration {
            return invalid(format!(
                "the renew deadline ({:?}) must be shorter than the lease duration ({:?}), or two \
                 replicas could lead at once",
                self.renew_deadline, self.lease_duration
            ));
        }
        if self.retry_period.is_zero() || self.retry_period >= self.renew_deadline {
            return invalid(format!(
                "the retry period ({:?}) must be non-zero and shorter than the renew deadline \
                 ({:?})",
                self.retry_period, self.renew_deadline
            ));
        }
        if self.identity.is_empty() || self.lease_name.is_empty() || self.namespace.is_empty() {
            return invalid("the identity, lease name and namespace must not be empty".into());
        }
        Ok(())
    }
}

/// `$POD_NAME` (set from the downward API in deploy/), else the host name, then `_` and a
/// random suffix, so two processes on one host never share an identity.
pub fn default_identity() -> String {
    let base = std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_LEASE_NAME.to_owned());
    let uid = crate::status::new_uid();
    let suffix = uid.split('-').next().unwrap_or(&uid);
    format!("{}_{suffix}", base.trim())
}

/// Why the election could not go on.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The timings or names cannot work.
    #[error("invalid leader election settings: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// The API server refused a read or write of the Lease.
    #[error(
        "cannot {verb} Lease {namespace}/{name}: {message}{}",
        if *code == 403 {
            "; grant the controller's ServiceAccount get, create and update on leases in \
             coordination.k8s.io in this namespace (deploy/rbac)"
        } else {
            ""
        }
    )]
    Api {
        /// get, create or update.
        verb: &'static str,
        /// The Lease's namespace.
        namespace: String,
        /// The Lease's name.
        name: String,
        /// The HTTP status (0 when the server did not answer).
        code: u16,
        /// The server's or client's message.
        message: String,
    },
    /// The API server did not answer within the renew deadline.
    #[error("Lease {namespace}/{name}: no answer from the API server within {after:?}")]
    Timeout {
        /// The Lease's namespace.
        namespace: String,
        /// The Lease's name.
        name: String,
        /// How long it waited.
        after: Duration,
    },
}

impl LeaseError {
    /// True for errors no retry can fix (missing permissions or credentials, bad settings).
    pub fn is_fatal(&self) -> bool {
        match self {
            LeaseError::Config { .. } => true,
            LeaseError::Api { code, .. } => matches!(code, 401 | 403),
            LeaseError::Timeout { .. } => false,
        }
    }
}

/// What one round found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Round {
    /// This replica holds the Lease (created, taken over or renewed).
    Leading,
    /// Another replica holds a valid Lease.
    HeldBy(String),
    /// Another replica wrote the Lease between this round's read and write (409), or deleted
    /// it; the next round reads what it wrote.
    Conflict,
}

/// The Lease spec this replica should write given the current one, or the holder that keeps
/// it (`Err`) while its Lease is valid.
///
/// `current` is `None` when the Lease does not exist.
pub fn next_spec(
    current: Option<&LeaseSpec>,
    identity: &str,
    lease_duration: Duration,
    now: DateTime<Utc>,
) -> Result<LeaseSpec, String> {
    let holder = current
        .and_then(|s| s.holder_identity.as_deref())
        .filter(|h| !h.is_empty());
    let ours = holder == Some(identity);
    if let (Some(holder), Some(spec)) = (holder, current) {
        if !ours && !expired(spec, now) {
            return Err(holder.to_owned());
        }
    }
    let transitions = current.and_then(|s| s.lease_transitions).unwrap_or(0);
    let (acquire_time, lease_transitions) = match current {
        Some(spec) if ours => (spec.acquire_time.clone(), transitions),
        // A Lease created now has had no holder before: its first holder is not a transition.
        None => (Some(MicroTime(now)), 0),
        Some(_) => (Some(MicroTime(now)), transitions.saturating_add(1)),
    };
    Ok(LeaseSpec {
        holder_identity: Some(identity.to_owned()),
        lease_duration_seconds: Some(whole_seconds(lease_duration)),
        acquire_time,
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(lease_transitions),
        ..LeaseSpec::default()
    })
}

/// The spec a leader writes when it steps down: no holder, a one-second duration, times set
/// to now (client-go's `ReleaseOnCancel`), transitions kept.
pub fn released_spec(current: &LeaseSpec, now: DateTime<Utc>) -> LeaseSpec {
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: current.lease_transitions,
        ..LeaseSpec::default()
    }
}

/// Whether the holder's last renewal is older than its lease duration. A Lease without a
/// renewal time or duration never proves it is held.
fn expired(spec: &LeaseSpec, now: DateTime<Utc>) -> bool {
    let (Some(renewed), Some(seconds)) = (&spec.renew_time, spec.lease_duration_seconds) else {
        return true;
    };
    renewed.0 + TimeDelta::seconds(i64::from(seconds)) < now
}

fn whole_seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Takes part in the election for one Lease.
#[derive(Clone)]
pub struct LeaderElector {
    inner: Arc<Inner>,
}

struct Inner {
    api: Api<Lease>,
    config: ElectionConfig,
    logger: Logger,
}

impl LeaderElector {
    /// An elector for `config`'s Lease through `client`; logs through `logger`.
    pub fn new(
        client: kube::Client,
        config: ElectionConfig,
        logger: Logger,
    ) -> Result<LeaderElector, LeaseError> {
        config.validate()?;
        let api = Api::namespaced(client, &config.namespace);
        Ok(LeaderElector {
            inner: Arc::new(Inner {
                api,
                config,
                logger,
            }),
        })
    }

    /// This replica's `holderIdentity`.
    pub fn identity(&self) -> &str {
        &self.inner.config.identity
    }

    /// The settings.
    pub fn config(&self) -> &ElectionConfig {
        &self.inner.config
    }

    /// One round: read the Lease, then create, take over or renew it when allowed.
    pub async fn try_acquire_or_renew(&self) -> Result<Round, LeaseError> {
        let inner = &self.inner;
        let deadline = inner.config.renew_deadline;
        tokio::time::timeout(deadline, inner.round())
            .await
            .unwrap_or_else(|_| Err(inner.timeout(deadline)))
    }

    /// Waits until this replica leads, then renews in the background. Only errors that no
    /// retry can fix ([`LeaseError::is_fatal`]) end the wait.
    pub async fn acquire(&self) -> Result<Leadership, LeaseError> {
        let config = &self.inner.config;
        let mut last_holder: Option<String> = None;
        let won_at = loop {
            // Taken before the round, as the renewTime it writes is: the Lease is never
            // believed valid for longer than the other replicas believe it.
            let started = Instant::now();
            match self.try_acquire_or_renew().await {
                Ok(Round::Leading) => break started,
                Ok(Round::HeldBy(holder)) => {
                    if last_holder.as_ref() != Some(&holder) {
                        self.inner.logger.log(
                            Record::info("waiting for the Lease held by another replica")
                                .field("lease", &config.lease_name)
                                .field("holder", &holder),
                        );
                    }
                    last_holder = Some(holder);
                }
                Ok(Round::Conflict) => {}
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => self
                    .inner
                    .logger
                    .log(Record::warn(format!("{e}; retrying")).field("lease", &config.lease_name)),
            }
            tokio::time::sleep(config.retry_period).await;
        };
        self.inner.logger.log(
            Record::info("became leader")
                .field("lease", &config.lease_name)
                .field("identity", &config.identity),
        );
        let (leading, watcher) = watch::channel(true);
        let renewer = tokio::spawn(self.clone().renew(leading, won_at));
        Ok(Leadership {
            elector: self.clone(),
            leading: watcher,
            renewer,
        })
    }

    /// Renews every `retry_period` until a renewal misses the deadline or another holder shows
    /// up; then reports the loss through `leading`. `last_renewal` is when the winning round
    /// started.
    async fn renew(self, leading: watch::Sender<bool>, mut last_renewal: Instant) {
        let config = &self.inner.config;
        loop {
            tokio::time::sleep(config.retry_period).await;
            let started = Instant::now();
            let left =
                (last_renewal + config.renew_deadline).saturating_duration_since(Instant::now());
            let round = match tokio::time::timeout(left, self.inner.round()).await {
                Ok(round) => round,
                Err(_) => Err(self.inner.timeout(config.renew_deadline)),
            };
            let lost = match round {
                Ok(Round::Leading) => {
                    last_renewal = started;
                    continue;
                }
                Ok(Round::HeldBy(holder)) => format!("the Lease is held by {holder}"),
                Ok(Round::Conflict) if Instant::now() < last_renewal + config.renew_deadline => {
                    continue;
                }
                Ok(Round::Conflict) => {
                    format!(
                        "no renewal within {:?}: write conflicts",
                        config.renew_deadline
                    )
                }
                Err(e) if Instant::now() >= last_renewal + config.renew_deadline => {
                    format!("no renewal within {:?}: {e}", config.renew_deadline)
                }
                Err(e) => {
                    self.inner.logger.log(
                        Record::warn(format!("{e}; retrying")).field("lease", &config.lease_name),
                    );
                    continue;
                }
            };
            self.inner.logger.log(
                Record::error(format!("lost leadership: {lost}"))
                    .field("lease", &config.lease_name)
                    .field("identity", &config.identity),
            );
            let _ = leading.send(false);
            return;
        }
    }

    /// Steps down if this replica holds the Lease: writes an empty holder so another replica
    /// takes over on its next round. A Lease someone else wrote meanwhile is left alone.
    pub async fn release(&self) -> Result<(), LeaseError> {
        let inner = &self.inner;
        let deadline = inner.config.renew_deadline;
        tokio::time::timeout(deadline, inner.release())
            .await
            .unwrap_or_else(|_| Err(inner.timeout(deadline)))
    }
}

impl Inner {
    fn api_error(&self, verb: &'static str, error: kube::Error) -> LeaseError {
        let (code, message) = match error {
            kube::Error::Api(status) => (status.code, status.message),
            other => (0, other.to_string()),
        };
        LeaseError::Api {
            verb,
            namespace: self.config.namespace.clone(),
            name: self.config.lease_name.clone(),
            code,
            message,
        }
    }

    fn timeout(&self, after: Duration) -> LeaseError {
        LeaseError::Timeout {
            namespace: self.config.namespace.clone(),
            name: self.config.lease_name.clone(),
            after,
        }
    }

    async fn get(&self) -> Result<Option<Lease>, LeaseError> {
        self.api
            .get_opt(&self.config.lease_name)
            .await
            .map_err(|e| self.api_error("get", e))
    }

    async fn round(&self) -> Result<Round, LeaseError> {
        let config = &self.config;
        let mut current = self.get().await?;
        if current.is_none() {
            let spec = match next_spec(None, &config.identity, config.lease_duration, Utc::now()) {
                Ok(spec) => spec,
                Err(holder) => return Ok(Round::HeldBy(holder)),
            };
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(config.lease_name.clone()),
                    namespace: Some(config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(spec),
            };
            match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => return Ok(Round::Leading),
                // Another replica created it first: decide on what it wrote.
                Err(kube::Error::Api(s)) if s.code == 409 => current = self.get().await?,
                Err(e) => return Err(self.api_error("create", e)),
            }
        }
        let Some(mut lease) = current else {
            // Created and deleted again between two reads: the next round creates it.
            return Ok(Round::Conflict);
        };
        let spec = match next_spec(
            lease.spec.as_ref(),
            &config.identity,
            config.lease_duration,
            Utc::now(),
        ) {
            Ok(spec) => spec,
            Err(holder) => return Ok(Round::HeldBy(holder)),
        };
        lease.spec = Some(spec);
        self.write(&lease).await
    }

    /// Replaces the Lease with the resourceVersion it was read with; 409 means another
    /// replica wrote in between, whose holder the next round will read.
    async fn write(&self, lease: &Lease) -> Result<Round, LeaseError> {
        match self
            .api
            .replace(&self.config.lease_name, &PostParams::default(), lease)
            .await
        {
            Ok(_) => Ok(Round::Leading),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Round::Conflict),
            Err(e) => Err(self.api_error("update", e)),
        }
    }

    /// Writes the released spec while the Lease is ours. A 409 is read again: it may be this
    /// replica's own last renewal landing late, after which the Lease is still ours to
    /// release; the caller's timeout bounds the loop.
    async fn release(&self) -> Result<(), LeaseError> {
        loop {
            let Some(mut lease) = self.get().await? else {
                return Ok(());
            };
            let Some(spec) = lease.spec.as_ref() else {
                return Ok(());
            };
            if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
                return Ok(());
            }
            lease.spec = Some(released_spec(spec, Utc::now()));
            match self
                .api
                .replace(&self.config.lease_name, &PostParams::default(), &lease)
                .await
            {
                Ok(_) => {
                    self.logger.log(
                        Record::info("released the Lease")
                            .field("lease", &self.config.lease_name)
                            .field("identity", &self.config.identity),
                    );
                    return Ok(());
                }
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(self.api_error("update", e)),
            }
        }
    }
}

/// This replica leads until [`Leadership::lost`] resolves; dropping it stops renewing
/// (without releasing the Lease, which then expires).
pub struct Leadership {
    elector: LeaderElector,
    leading: watch::Receiver<bool>,
    renewer: JoinHandle<()>,
}

impl Leadership {
    /// Whether this replica still leads.
    pub fn is_leader(&self) -> bool {
        *self.leading.borrow()
    }

    /// A receiver that turns `false` when leadership is lost (for the `is_leader` gauge).
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.leading.clone()
    }

    /// Resolves once leadership is lost (at once when it already is).
    pub async fn lost(&mut self) {
        // The sender only goes away after sending `false`, or when the renewer was aborted.
        let _ = self.leading.wait_for(|leading| !leading).await;
    }

    /// Stops renewing and steps down ([`LeaderElector::release`]).
    pub async fn release(mut self) -> Result<(), LeaseError> {
        self.renewer.abort();
        // Wait for the abort, so no renewal lands after the release.
        let _ = (&mut self.renewer).await;
        self.elector.release().await
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("a valid time")
    }

    fn held(holder: &str, renewed: i64, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.to_owned()),
            lease_duration_seconds: Some(15),
            acquire_time: Some(MicroTime(at(-100))),
            renew_time: Some(MicroTime(at(renewed))),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    const D: Duration = Duration::from_secs(15);

    #[test]
    fn an_absent_lease_is_created_with_no_transition() {
        let spec = next_spec(None, "me", D, at(0)).unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("me"));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.lease_transitions, Some(0));
        assert_eq!(spec.acquire_time, Some(MicroTime(at(0))));
        assert_eq!(spec.renew_time, Some(MicroTime(at(0))));
    }

    #[test]
    fn a_valid_lease_of_another_holder_is_left_alone() {
        let other = held("other", 0, 3);
        assert_eq!(
            next_spec(Some(&other), "me", D, at(15)),
            Err("other".into())
        );
    }

    #[test]
    fn an_expired_lease_is_taken_over_as_a_transition() {
        let other = held("other", 0, 3);
        let spec = next_spec(Some(&other), "me", D, at(16)).unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("me"));
        assert_eq!(spec.lease_transitions, Some(4));
        assert_eq!(spec.acquire_time, Some(MicroTime(at(16))));
    }

    #[test]
    fn a_renewal_keeps_acquire_time_and_transitions() {
        let mine = held("me", 0, 3);
        let spec = next_spec(Some(&mine), "me", D, at(2)).unwrap();
        assert_eq!(spec.lease_transitions, Some(3));
        assert_eq!(spec.acquire_time, Some(MicroTime(at(-100))));
        assert_eq!(spec.renew_time, Some(MicroTime(at(2))));
    }

    #[test]
    fn a_released_or_incomplete_lease_is_free() {
        let released = released_spec(&held("other", 0, 3), at(0));
        assert_eq!(released.holder_identity, None);
        assert_eq!(released.lease_transitions, Some(3));
        let spec = next_spec(Some(&released), "me", D, at(0)).unwrap();
        assert_eq!(spec.lease_transitions, Some(4));
        let no_times = LeaseSpec {
            holder_identity: Some("other".into()),
            ..LeaseSpec::default()
        };
        assert!(next_spec(Some(&no_times), "me", D, at(0)).is_ok());
    }

    #[test]
    fn the_holders_own_duration_decides_expiry() {
        let mut other = held("other", 0, 0);
        other.lease_duration_seconds = Some(60);
        assert!(next_spec(Some(&other), "me", D, at(30)).is_err());
        assert!(next_spec(Some(&other), "me", D, at(61)).is_ok());
    }

    #[test]
    fn settings_are_checked() {
        let mut config = ElectionConfig::new("ns");
        assert_eq!(config.validate().ok(), Some(()));
        assert_eq!(config.lease_name, DEFAULT_LEASE_NAME);
        config.renew_deadline = config.lease_duration;
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("shorter than the lease duration"), "{error}");
        config.renew_deadline = Duration::from_secs(1);
        config.retry_period = Duration::from_secs(1);
        assert!(config.validate().is_err());
        config.retry_period = Duration::from_millis(300);
        config.lease_duration = Duration::from_millis(2500);
        assert!(config.validate().is_err());
    }

    #[test]
    fn identities_name_the_host_and_differ_per_call() {
        let (a, b) = (default_identity(), default_identity());
        assert_ne!(a, b);
        let (base, suffix) = a.rsplit_once('_').unwrap();
        assert!(!base.is_empty());
        assert_eq!(suffix.len(), 8, "{a}");
    }

    #[test]
    fn forbidden_errors_are_fatal_and_say_how_to_fix() {
        let error = LeaseError::Api {
            verb: "update",
            namespace: "adze".into(),
            name: "adze-controller".into(),
            code: 403,
            message: "forbidden".into(),
        };
        assert!(error.is_fatal());
        assert!(error
            .to_string()
            .contains("grant the controller's ServiceAccount"));
        let timeout = LeaseError::Timeout {
            namespace: "adze".into(),
            name: "adze-controller".into(),
            after: Duration::from_secs(10),
        };
        assert!(!timeout.is_fatal());
    }
}
