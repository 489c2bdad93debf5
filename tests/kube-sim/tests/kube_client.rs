//! kube-rs (kube 2, rustls) against kube-sim's API server: typed and dynamic objects,
//! conflicts, generateName, selectors, watches (resume, 410 Expired, bookmarks), kube-runtime's
//! `watcher` and a `Controller` writing status through the status subresource, garbage
//! collection of owned objects, Events, Leases and discovery. Pods stay Pending here.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Sim;
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent, Namespace, ObjectReference, Pod};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::controller::Action;
use kube::runtime::{watcher, Controller};
use kube::{Client, Config, ResourceExt};
use serde_json::json;

/// Small enough that one test can push a resume point out of it.
const WATCH_HISTORY: usize = 200;

async fn client() -> Client {
    let sim = Sim::shared(&["--no-kubelet", "--watch-history", "200"]);
    let kubeconfig = kube::config::Kubeconfig::read_from(&sim.kubeconfig).expect("a kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("a usable kubeconfig");
    Client::try_from(config).expect("a client")
}

async fn namespace(client: &Client, name: &str) -> String {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap();
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace created");
    name.to_owned()
}

fn config_map(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({ "metadata": { "name": name, "labels": labels }, "data": { "k": "v" } }),
    )
    .unwrap()
}

fn task_runs(client: &Client, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("tekton.dev", "v1", "TaskRun");
    Api::namespaced_with(client.clone(), ns, &ApiResource::from_gvk(&gvk))
}

fn task_run(name: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": { "name": name },
        "spec": { "taskRef": { "name": "build" } },
    }))
    .unwrap()
}

fn api_error(error: kube::Error) -> kube::core::ErrorResponse {
    match error {
        kube::Error::Api(response) => response,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..250 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn stale_updates_conflict_and_generate_name_makes_unique_names() {
    let client = client().await;
    let ns = namespace(&client, "conflicts").await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let first = api
        .create(&PostParams::default(), &config_map("c", json!({})))
        .await
        .unwrap();
    let mut fresh = first.clone();
    fresh.data = Some([("k".to_owned(), "new".to_owned())].into());
    let updated = api
        .replace("c", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_ne!(updated.resource_version(), first.resource_version());

    let mut stale = first.clone();
    stale.data = Some([("k".to_owned(), "stale".to_owned())].into());
    let conflict = api_error(
        api.replace("c", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert!(
        conflict.message.contains("the object has been modified"),
        "{}",
        conflict.message
    );

    let exists = api_error(
        api.create(&PostParams::default(), &first)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (exists.code, exists.reason.as_str()),
        (409, "AlreadyExists")
    );
    let missing = api_error(api.get("nope").await.unwrap_err());
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));

    let mut generated: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "generateName": "gen-" } })).unwrap();
    let a = api
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    generated.metadata.resource_version = None;
    let b = api
        .create(&PostParams::default(), &generated)
        .await
        .unwrap();
    assert!(a.name_any().starts_with("gen-") && b.name_any().starts_with("gen-"));
    assert_ne!(a.name_any(), b.name_any());
    assert_ne!(a.uid(), b.uid());
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let client = client().await;
    let ns = namespace(&client, "selectors").await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    for (name, labels) in [
        ("web", json!({ "app": "web", "tier": "front" })),
        ("db", json!({ "app": "db", "tier": "back" })),
        ("bare", json!({})),
    ] {
        api.create(&PostParams::default(), &config_map(name, labels))
            .await
            .unwrap();
    }
    let names = |list: kube::core::ObjectList<ConfigMap>| {
        let mut names: Vec<String> = list.items.iter().map(|c| c.name_any()).collect();
        names.sort();
        names
    };
    let cases = [
        ("app=web", vec!["web"]),
        ("app==db", vec!["db"]),
        ("app!=web", vec!["bare", "db"]),
        ("app in (web,db)", vec!["db", "web"]),
        ("app notin (web)", vec!["bare", "db"]),
        ("tier", vec!["db", "web"]),
        ("!tier", vec!["bare"]),
    ];
    for (selector, expected) in cases {
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap();
        assert_eq!(names(list), expected, "{selector}");
    }
    let by_name = api
        .list(&ListParams::default().fields("metadata.name=db"))
        .await
        .unwrap();
    assert_eq!(names(by_name), ["db"]);
    let list = api.list(&ListParams::default()).await.unwrap();
    assert!(list
        .metadata
        .resource_version
        .is_some_and(|rv| !rv.is_empty()));
    let bad = api_error(
        api.list(&ListParams::default().labels("app in web"))
            .await
            .unwrap_err(),
    );
    assert_eq!((bad.code, bad.reason.as_str()), (400, "BadRequest"));

    let pods: Api<Pod> = Api::namespaced(api.clone().into_client(), &ns);
    let pod: Pod = serde_json::from_value(json!({ "metadata": { "name": "p" },
        "spec": { "containers": [{ "name": "c", "image": "adze-test/busybox:latest" }] } }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let pending = pods
        .list(&ListParams::default().fields("status.phase=Pending,spec.nodeName=kube-sim"))
        .await
        .unwrap();
    assert_eq!(pending.items.len(), 1);
    let running = pods
        .list(&ListParams::default().fields("status.phase=Running"))
        .await
        .unwrap();
    assert!(running.items.is_empty());
}

#[tokio::test]
async fn watches_resume_from_a_version_and_expire_with_410() {
    let client = client().await;
    let ns = namespace(&client, "resume").await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let first = api
        .create(&PostParams::default(), &config_map("a", json!({})))
        .await
        .unwrap();
    let from = first.resource_version().unwrap();
    api.create(&PostParams::default(), &config_map("b", json!({})))
        .await
        .unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();

    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &from)
        .await
        .unwrap()
        .boxed();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match stream.try_next().await.unwrap().expect("an event") {
            WatchEvent::Added(cm) => seen.push(format!("added {}", cm.name_any())),
            WatchEvent::Deleted(cm) => seen.push(format!("deleted {}", cm.name_any())),
            WatchEvent::Bookmark(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["added b", "deleted a"]);

    // Push the resume point out of the bounded history.
    for i in 0..=WATCH_HISTORY {
        let patch = json!({ "data": { "k": i.to_string() } });
        api.patch("b", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }
    let mut stream = api
        .watch(&WatchParams::default(), &from)
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap().expect("an event") {
        WatchEvent::Error(status) => {
            assert_eq!(
                (status.code, status.reason.as_str()),
                (410, "Expired"),
                "{status:?}"
            );
        }
        other => panic!("expected 410 Expired, got {other:?}"),
    }
}

#[tokio::test]
async fn watches_send_bookmarks_when_asked() {
    let client = client().await;
    let ns = namespace(&client, "bookmarks").await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let list = api.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let params = WatchParams::default().timeout(10);
    let mut stream = api.watch(&params, &rv).await.unwrap().boxed();
    match stream.try_next().await.unwrap().expect("an event") {
        WatchEvent::Bookmark(bookmark) => {
            assert!(!bookmark.metadata.resource_version.is_empty());
        }
        other => panic!("expected a bookmark, got {other:?}"),
    }
}

#[tokio::test]
async fn watcher_and_status_subresource_round_trip() {
    let client = client().await;
    let ns = namespace(&client, "status").await;
    let runs = task_runs(&client, &ns);
    let mut events = watcher(runs.clone(), watcher::Config::default()).boxed();
    // The initial list (empty) ends with InitDone.
    loop {
        if let watcher::Event::InitDone = events.try_next().await.unwrap().unwrap() {
            break;
        }
    }
    let mut body = task_run("tr");
    body.data["status"] = json!({ "podName": "ignored on create" });
    let created = runs.create(&PostParams::default(), &body).await.unwrap();
    assert!(
        created.data.get("status").is_none(),
        "status is a subresource"
    );

    let status = json!({ "status": { "podName": "tr-pod", "conditions": [
        { "type": "Succeeded", "status": "Unknown", "reason": "Running" }] },
        "spec": { "taskRef": { "name": "changed-through-status" } } });
    let patched = runs
        .patch_status("tr", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
    assert_eq!(patched.data["status"]["podName"], "tr-pod");
    assert_eq!(
        patched.data["spec"]["taskRef"]["name"], "build",
        "spec is ignored on /status"
    );

    let applied = json!({ "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
        "metadata": { "name": "tr" }, "status": { "podName": "tr-pod", "conditions": [
        { "type": "Succeeded", "status": "True", "reason": "Succeeded" }] } });
    let params = PatchParams::apply("kube-sim-test").force();
    let after = runs
        .patch_status("tr", &params, &Patch::Apply(&applied))
        .await
        .unwrap();
    assert_eq!(after.data["status"]["conditions"][0]["status"], "True");

    let main = json!({ "status": { "podName": "ignored on the main resource" } });
    let unchanged = runs
        .patch("tr", &PatchParams::default(), &Patch::Merge(&main))
        .await
        .unwrap();
    assert_eq!(unchanged.data["status"]["podName"], "tr-pod");
    let got = runs.get_status("tr").await.unwrap();
    assert_eq!(got.data["status"]["podName"], "tr-pod");

    let mut observed = Vec::new();
    while observed.last().map(String::as_str) != Some("True") {
        if let watcher::Event::Apply(run) = events.try_next().await.unwrap().unwrap() {
            observed.push(
                run.data["status"]["conditions"][0]["status"]
                    .as_str()
                    .unwrap_or("none")
                    .to_owned(),
            );
        }
    }
    assert_eq!(
        observed.first().map(String::as_str),
        Some("none"),
        "{observed:?}"
    );
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ReconcileError(#[from] kube::Error);

#[tokio::test]
async fn a_controller_marks_every_task_run_succeeded() {
    let client = client().await;
    let ns = namespace(&client, "controller").await;
    let runs = task_runs(&client, &ns);
    let gvk = GroupVersionKind::gvk("tekton.dev", "v1", "TaskRun");
    let resource = ApiResource::from_gvk(&gvk);
    let controller = Controller::new_with(runs.clone(), watcher::Config::default(), resource)
        .run(
            |run: Arc<DynamicObject>, api: Arc<Api<DynamicObject>>| async move {
                let status = json!({ "apiVersion": "tekton.dev/v1", "kind": "TaskRun",
                    "status": { "conditions": [{ "type": "Succeeded", "status": "True", "reason": "Reconciled" }] } });
                api.patch_status(&run.name_any(), &PatchParams::apply("test-controller").force(), &Patch::Apply(&status))
                    .await?;
                Ok::<_, ReconcileError>(Action::await_change())
            },
            |_, _, _| Action::requeue(Duration::from_millis(100)),
            Arc::new(runs.clone()),
        )
        .for_each(|_| async {});
    let handle = tokio::spawn(controller);
    for name in ["one", "two", "three"] {
        runs.create(&PostParams::default(), &task_run(name))
            .await
            .unwrap();
    }
    eventually("every TaskRun to be reconciled", || {
        let runs = runs.clone();
        async move {
            let list = runs.list(&ListParams::default()).await.unwrap();
            list.items.len() == 3
                && list
                    .items
                    .iter()
                    .all(|r| r.data["status"]["conditions"][0]["reason"] == "Reconciled")
        }
    })
    .await;
    handle.abort();
}

#[tokio::test]
async fn deleting_a_task_run_collects_the_config_maps_it_owns() {
    let client = client().await;
    let ns = namespace(&client, "collect").await;
    let runs = task_runs(&client, &ns);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let owned_by = |run: &DynamicObject, name: &str| -> ConfigMap {
        serde_json::from_value(json!({ "metadata": { "name": name, "ownerReferences": [{
            "apiVersion": "tekton.dev/v1", "kind": "TaskRun", "name": run.name_any(),
            "uid": run.uid(), "controller": true, "blockOwnerDeletion": true }] } }))
        .unwrap()
    };
    let run = runs
        .create(&PostParams::default(), &task_run("owner"))
        .await
        .unwrap();
    maps.create(&PostParams::default(), &owned_by(&run, "owner-scripts"))
        .await
        .unwrap();
    maps.create(&PostParams::default(), &owned_by(&run, "owner-more"))
        .await
        .unwrap();
    maps.create(&PostParams::default(), &config_map("unrelated", json!({})))
        .await
        .unwrap();
    runs.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    eventually("the owned ConfigMaps to be collected", || {
        let maps = maps.clone();
        async move {
            let names: Vec<String> = maps
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .iter()
                .map(|c| c.name_any())
                .collect();
            names == ["unrelated"]
        }
    })
    .await;

    let run = runs
        .create(&PostParams::default(), &task_run("orphaner"))
        .await
        .unwrap();
    maps.create(&PostParams::default(), &owned_by(&run, "kept"))
        .await
        .unwrap();
    runs.delete("orphaner", &DeleteParams::orphan())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let kept = maps.get("kept").await.expect("an orphaned dependent stays");
    assert!(kept
        .metadata
        .owner_references
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn finalizers_keep_an_object_until_removed() {
    let client = client().await;
    let ns = namespace(&client, "finalizers").await;
    let runs = task_runs(&client, &ns);
    let mut run = task_run("held");
    run.metadata.finalizers = Some(vec!["adze.dev/cleanup".into()]);
    runs.create(&PostParams::default(), &run).await.unwrap();
    runs.delete("held", &DeleteParams::default()).await.unwrap();
    let marked = runs.get("held").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    let remove = json!({ "metadata": { "finalizers": null } });
    runs.patch("held", &PatchParams::default(), &Patch::Merge(&remove))
        .await
        .unwrap();
    let gone = api_error(runs.get("held").await.unwrap_err());
    assert_eq!(gone.code, 404);
}

#[tokio::test]
async fn events_leases_and_discovery() {
    let client = client().await;
    let ns = namespace(&client, "misc").await;
    let events: Api<CoreEvent> = Api::namespaced(client.clone(), &ns);
    let event = CoreEvent {
        metadata: serde_json::from_value(json!({ "generateName": "tr." })).unwrap(),
        involved_object: ObjectReference {
            kind: Some("TaskRun".into()),
            name: Some("tr".into()),
            ..Default::default()
        },
        reason: Some("Started".into()),
        message: Some("started".into()),
        type_: Some("Normal".into()),
        ..Default::default()
    };
    events.create(&PostParams::default(), &event).await.unwrap();
    let found = events
        .list(&ListParams::default().fields("involvedObject.kind=TaskRun,involvedObject.name=tr"))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    let new_events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), &ns);
    let modern: k8s_openapi::api::events::v1::Event = serde_json::from_value(json!({
        "metadata": { "name": "e1" }, "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "adze", "reportingInstance": "adze-1", "action": "Run", "reason": "Started",
        "regarding": { "kind": "Pod", "name": "p" }, "type": "Normal" })).unwrap();
    new_events
        .create(&PostParams::default(), &modern)
        .await
        .unwrap();

    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    let lease: Lease = serde_json::from_value(json!({ "metadata": { "name": "leader" },
        "spec": { "holderIdentity": "a", "leaseDurationSeconds": 15 } }))
    .unwrap();
    let held = leases.create(&PostParams::default(), &lease).await.unwrap();
    let mut taken = held.clone();
    taken.spec.as_mut().unwrap().holder_identity = Some("b".into());
    leases
        .replace("leader", &PostParams::default(), &taken)
        .await
        .unwrap();
    let mut late = held;
    late.spec.as_mut().unwrap().holder_identity = Some("c".into());
    let conflict = api_error(
        leases
            .replace("leader", &PostParams::default(), &late)
            .await
            .unwrap_err(),
    );
    assert_eq!(conflict.code, 409);

    let discovery = kube::Discovery::new(client).run().await.expect("discovery");
    let tekton = discovery
        .get("tekton.dev")
        .expect("tekton.dev is discovered");
    let (resource, caps) = tekton
        .recommended_resources()
        .into_iter()
        .find(|(r, _)| r.kind == "TaskRun")
        .expect("TaskRun is discovered");
    assert_eq!(resource.version, "v1");
    assert!(
        caps.subresources.iter().any(|(r, _)| r.plural == "status"),
        "{caps:?}"
    );
    let core = discovery.get("").expect("the core group");
    assert!(core
        .recommended_resources()
        .iter()
        .any(|(r, _)| r.kind == "Pod"));
}

#[tokio::test]
async fn streaming_lists_metadata_watches_and_watch_timeouts() {
    let client = client().await;
    let ns = namespace(&client, "streaming").await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    api.create(
        &PostParams::default(),
        &config_map("before", json!({ "app": "x" })),
    )
    .await
    .unwrap();

    // sendInitialEvents: the current objects, then the initial-events-end bookmark.
    let mut streamed = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut initial = Vec::new();
    loop {
        match streamed.try_next().await.unwrap().unwrap() {
            watcher::Event::InitApply(cm) => initial.push(cm.name_any()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(initial, ["before"]);

    let mut metadata =
        kube::runtime::metadata_watcher(api.clone(), watcher::Config::default()).boxed();
    let mut listed = Vec::new();
    loop {
        match metadata.try_next().await.unwrap().unwrap() {
            watcher::Event::InitApply(meta) => listed.push(meta.name_any()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(listed, ["before"]);
    api.create(&PostParams::default(), &config_map("after", json!({})))
        .await
        .unwrap();
    loop {
        if let watcher::Event::Apply(meta) = metadata.try_next().await.unwrap().unwrap() {
            assert_eq!(meta.name_any(), "after");
            assert!(meta.labels().is_empty());
            break;
        }
    }

    let started = std::time::Instant::now();
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut short = api
        .watch(&WatchParams::default().timeout(1).disable_bookmarks(), &rv)
        .await
        .unwrap()
        .boxed();
    assert!(
        short.try_next().await.unwrap().is_none(),
        "the watch ends by itself"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_filtered_watch_sees_objects_enter_and_leave_its_selector() {
    let client = client().await;
    let ns = namespace(&client, "entering").await;
    let api: Api<ConfigMap> = Api::namespaced(client, &ns);
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let params = WatchParams::default()
        .labels("stage=live")
        .timeout(10)
        .disable_bookmarks();
    let mut stream = api.watch(&params, &rv).await.unwrap().boxed();
    api.create(
        &PostParams::default(),
        &config_map("c", json!({ "stage": "draft" })),
    )
    .await
    .unwrap();
    let live = json!({ "metadata": { "labels": { "stage": "live" } } });
    api.patch("c", &PatchParams::default(), &Patch::Merge(&live))
        .await
        .unwrap();
    let data = json!({ "data": { "k": "2" } });
    api.patch("c", &PatchParams::default(), &Patch::Merge(&data))
        .await
        .unwrap();
    let retired = json!({ "metadata": { "labels": { "stage": "retired" } } });
    api.patch("c", &PatchParams::default(), &Patch::Merge(&retired))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        match stream.try_next().await.unwrap().expect("an event") {
            WatchEvent::Added(_) => seen.push("added"),
            WatchEvent::Modified(_) => seen.push("modified"),
            WatchEvent::Deleted(_) => seen.push("deleted"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["added", "modified", "deleted"]);
}

#[tokio::test]
async fn a_client_with_a_wrong_token_is_unauthorized_even_for_the_version() {
    let sim = Sim::shared(&["--no-kubelet", "--watch-history", "200"]);
    let mut kubeconfig = kube::config::Kubeconfig::read_from(&sim.kubeconfig).unwrap();
    for user in &mut kubeconfig.auth_infos {
        if let Some(auth) = user.auth_info.as_mut() {
            auth.token = Some("not-the-token".to_owned().into());
        }
    }
    let config = Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let stranger = Client::try_from(config).unwrap();
    let refused = api_error(stranger.apiserver_version().await.unwrap_err());
    assert_eq!(
        (refused.code, refused.reason.as_str()),
        (401, "Unauthorized")
    );
    let version = client().await.apiserver_version().await.unwrap();
    assert_eq!(version.major, "1");
}
