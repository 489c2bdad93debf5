//! Leader election of `adze controller` (issue 9, point 3) against kube-sim's API server:
//! two electors on one `coordination.k8s.io/v1` Lease, short timings (Lease 2 s, renew
//! deadline 1 s, retry 0.3 s) so the whole binary takes seconds.
//!
//! - Exactly one of two electors leads; the other keeps waiting while the leader renews.
//! - A leader that stops renewing is replaced once its Lease expires and no sooner: the gap
//!   between its last `renewTime` and the new `acquireTime` lies between the Lease duration
//!   and the Lease duration plus one retry period.
//! - `release()` hands the Lease over on the standby's next round.
//! - A leader learns it lost the Lease (another holder, or no API server within the renew
//!   deadline).
//! - The Lease read back with the real `kubectl get lease -o json` carries the holder and the
//!   transitions.
//!
//! kube-sim serves the API alone here (`--no-kubelet`): no Docker engine is needed.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use adze::controller::leader::{ElectionConfig, LeaderElector, Leadership, DEFAULT_LEASE_NAME};
use adze::controller::logging::{LogFormat, Logger};
use common::kube_sim::Sim;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::chrono::{DateTime, SecondsFormat, Utc};
use kube::api::Api;
use kube::{Client, Config};
use serde_json::Value;

const LEASE: Duration = Duration::from_secs(2);
const RENEW_DEADLINE: Duration = Duration::from_secs(1);
const RETRY: Duration = Duration::from_millis(300);
/// One round's requests (a get and a replace) on two busy shared cores.
const ROUND_TRIP: Duration = Duration::from_millis(250);

fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| Sim::start_with(&["--no-kubelet"]))
}

async fn client(sim: &Sim) -> Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(&sim.kubeconfig).expect("a kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("a usable kubeconfig");
    Client::try_from(config).expect("a client")
}

fn config(namespace: &str, identity: &str) -> ElectionConfig {
    ElectionConfig {
        identity: identity.to_owned(),
        lease_duration: LEASE,
        renew_deadline: RENEW_DEADLINE,
        retry_period: RETRY,
        ..ElectionConfig::new(namespace)
    }
}

async fn elector(sim: &Sim, namespace: &str, identity: &str) -> LeaderElector {
    // Quiet: these lines would land in the test output unattributed.
    let logger = Logger::to_writer(LogFormat::Json, std::io::sink());
    LeaderElector::new(client(sim).await, config(namespace, identity), logger)
        .expect("valid settings")
}

/// Runs kubectl off the runtime's threads, so renewals keep their pace meanwhile.
async fn kubectl(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sim().kubectl(&args)
    })
    .await
    .expect("kubectl thread")
}

/// `kubectl get lease -o json` of the controller's Lease in `namespace`.
async fn lease_json(namespace: &str) -> Value {
    let out = kubectl(&[
        "get",
        "lease",
        DEFAULT_LEASE_NAME,
        "-n",
        namespace,
        "-o",
        "json",
    ])
    .await;
    serde_json::from_str(&out).expect("kubectl prints JSON")
}

async fn lease_spec(api: &Api<Lease>) -> LeaseSpec {
    api.get(DEFAULT_LEASE_NAME)
        .await
        .expect("the Lease exists")
        .spec
        .expect("a Lease spec")
}

fn micro(
    spec_time: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime>,
) -> DateTime<Utc> {
    spec_time.as_ref().expect("a time in the Lease").0
}

/// Starts both electors; returns the leader's leadership, the leader and the waiting
/// standby's acquire task.
async fn race(
    a: &LeaderElector,
    b: &LeaderElector,
) -> (
    Leadership,
    LeaderElector,
    tokio::task::JoinHandle<Leadership>,
) {
    let spawn = |e: &LeaderElector| {
        let e = e.clone();
        tokio::spawn(async move { e.acquire().await.expect("no fatal error") })
    };
    let (mut first, mut second) = (spawn(a), spawn(b));
    tokio::select! {
        won = &mut first => (won.expect("task"), a.clone(), second),
        won = &mut second => (won.expect("task"), b.clone(), first),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leads_and_the_other_takes_over_once_the_lease_expires() {
    let sim = sim();
    let ns = sim.namespace("lease-takeover");
    let (a, b) = (
        elector(sim, &ns, "replica-a").await,
        elector(sim, &ns, "replica-b").await,
    );
    let (leadership, leader, mut standby) = race(&a, &b).await;
    assert!(leadership.is_leader());
    let api: Api<Lease> = Api::namespaced(client(sim).await, &ns);

    // While the leader renews, the standby waits well past one Lease duration.
    let mut renewals = Vec::new();
    let until = Instant::now() + LEASE + LEASE / 2;
    while Instant::now() < until {
        let spec = lease_spec(&api).await;
        assert_eq!(spec.holder_identity.as_deref(), Some(leader.identity()));
        let renewed = micro(&spec.renew_time);
        if renewals.last() != Some(&renewed) {
            renewals.push(renewed);
        }
        assert!(!standby.is_finished(), "two replicas lead at once");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        renewals.len() >= 4,
        "the leader renewed {} times",
        renewals.len()
    );
    assert!(leadership.is_leader());

    // The leader stops renewing; watch its last renewal, then the standby's takeover.
    let stopped = Instant::now();
    drop(leadership);
    let mut last_renewal = *renewals.last().expect("a renewal");
    let spec = loop {
        let spec = lease_spec(&api).await;
        if spec.holder_identity.as_deref() == Some(leader.identity()) {
            last_renewal = micro(&spec.renew_time);
        } else {
            break spec;
        }
        assert!(stopped.elapsed() < 2 * LEASE, "nobody took over: {spec:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took_over = stopped.elapsed();
    let new_leadership = (&mut standby).await.expect("the standby leads");
    assert!(new_leadership.is_leader());
    let successor = if leader.identity() == a.identity() {
        &b
    } else {
        &a
    };
    assert_eq!(spec.holder_identity.as_deref(), Some(successor.identity()));
    let gap = (micro(&spec.acquire_time) - last_renewal)
        .to_std()
        .expect("the takeover follows the last renewal");
    eprintln!(
        "takeover: {gap:?} after the last renewal, {took_over:?} after the leader stopped \
         (Lease {LEASE:?}, retry {RETRY:?})"
    );
    assert!(gap > LEASE, "taken over before the Lease expired: {gap:?}");
    assert!(gap < LEASE + RETRY + ROUND_TRIP, "takeover took {gap:?}");
    assert!(
        took_over < LEASE + RETRY + ROUND_TRIP,
        "takeover took {took_over:?}"
    );

    // What kubectl shows: the new holder, one transition, the settings.
    let lease = lease_json(&ns).await;
    let spec = &lease["spec"];
    assert_eq!(spec["holderIdentity"], successor.identity());
    assert_eq!(spec["leaseTransitions"], 1);
    assert_eq!(spec["leaseDurationSeconds"], 2);
    for key in ["acquireTime", "renewTime"] {
        let time = spec[key].as_str().expect("a time");
        // MicroTime: microseconds, UTC.
        assert_eq!(
            time.len(),
            "2026-01-02T03:04:05.123456Z".len(),
            "{key}: {time}"
        );
        assert!(DateTime::parse_from_rfc3339(time).is_ok(), "{key}: {time}");
    }
    new_leadership.release().await.expect("released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_hands_the_lease_over_at_once() {
    let sim = sim();
    let ns = sim.namespace("lease-release");
    let (a, b) = (
        elector(sim, &ns, "replica-a").await,
        elector(sim, &ns, "replica-b").await,
    );
    let (leadership, leader, standby) = race(&a, &b).await;
    let before = lease_json(&ns).await;
    assert_eq!(before["spec"]["holderIdentity"], leader.identity());
    assert_eq!(before["spec"]["leaseTransitions"], 0);

    let released = Instant::now();
    leadership.release().await.expect("released");
    let next = standby.await.expect("the standby leads");
    let handover = released.elapsed();
    eprintln!("handover after release: {handover:?} (retry {RETRY:?})");
    assert!(
        handover < RETRY + ROUND_TRIP,
        "release took {handover:?}, as long as waiting for expiry"
    );
    let after = lease_json(&ns).await;
    assert_ne!(after["spec"]["holderIdentity"], leader.identity());
    assert_ne!(after["spec"]["holderIdentity"], Value::Null);
    assert_eq!(after["spec"]["leaseTransitions"], 1);
    assert!(next.is_leader());

    // The former leader comes back as the standby and does not take the Lease.
    let back = leader.try_acquire_or_renew().await.expect("a round");
    assert!(
        matches!(back, adze::controller::leader::Round::HeldBy(ref h) if h != leader.identity()),
        "{back:?}"
    );
    drop(next);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_learns_another_replica_took_its_lease() {
    let sim = sim();
    let ns = sim.namespace("lease-stolen");
    let a = elector(sim, &ns, "replica-a").await;
    let mut leadership = a.acquire().await.expect("leads");
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    let patch = format!(r#"{{"spec":{{"holderIdentity":"intruder","renewTime":"{now}"}}}}"#);
    let patched = Instant::now();
    kubectl(&[
        "patch",
        "lease",
        DEFAULT_LEASE_NAME,
        "-n",
        &ns,
        "--type",
        "merge",
        "-p",
        &patch,
    ])
    .await;
    tokio::time::timeout(
        RETRY + ROUND_TRIP + Duration::from_millis(500),
        leadership.lost(),
    )
    .await
    .expect("the loss is noticed on the next renewal");
    eprintln!("loss noticed after {:?}", patched.elapsed());
    assert!(!leadership.is_leader());
    // It does not write back: the intruder still holds the Lease.
    let lease = lease_json(&ns).await;
    assert_eq!(lease["spec"]["holderIdentity"], "intruder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_gives_up_within_the_renew_deadline() {
    let own = Sim::start_with(&["--no-kubelet"]);
    let ns = own.namespace("lease-unreachable");
    let a = elector(&own, &ns, "replica-a").await;
    let mut leadership = a.acquire().await.expect("leads");
    let stopped = Instant::now();
    own.stop();
    tokio::time::timeout(RENEW_DEADLINE + 2 * RETRY, leadership.lost())
        .await
        .expect("leadership is lost once the renew deadline passes");
    let noticed = stopped.elapsed();
    eprintln!("gave up {noticed:?} after the API server stopped");
    // Never later than the Lease expiry, when another replica may take over.
    assert!(noticed < LEASE, "{noticed:?}");
    assert!(!leadership.is_leader());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_replicas_deciding_at_once_exactly_one_wins() {
    let sim = sim();
    let ns = sim.namespace("lease-race");
    let mut electors = Vec::new();
    for i in 0..6 {
        electors.push(elector(sim, &ns, &format!("replica-{i}")).await);
    }
    // Once on an absent Lease (create races create), once on a released one (replace races
    // replace, each carrying the resourceVersion it read).
    for round in ["absent", "released"] {
        let rounds =
            futures_util::future::join_all(electors.iter().map(|e| e.try_acquire_or_renew())).await;
        let winners: Vec<&str> = rounds
            .iter()
            .zip(&electors)
            .filter(|(r, _)| matches!(r, Ok(adze::controller::leader::Round::Leading)))
            .map(|(_, e)| e.identity())
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "{round}: {winners:?} all lead ({rounds:?})"
        );
        let holder = lease_json(&ns).await["spec"]["holderIdentity"].clone();
        assert_eq!(holder, winners[0], "{round}");
        let winner = electors
            .iter()
            .find(|e| e.identity() == winners[0])
            .unwrap();
        winner.release().await.expect("released");
    }
}
