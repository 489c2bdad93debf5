//! A run's life under the controller: opting in, a controller killed and restarted in the
//! middle of a run, deletion, and `spec.status` patches.

use std::collections::BTreeSet;
use std::time::Duration;

use super::{condition, create, done, get, list, patch, wait_until, Controller, Sim};

/// Long enough for a few busybox Pods on two shared cores.
const LIMIT: Duration = Duration::from_secs(90);

/// A PipelineRun of three tasks in a row, each sleeping `seconds`, then a finally task.
fn chain(name: &str, labelled: bool, seconds: &str) -> String {
    let labels = if labelled {
        "\n  labels: {adze.dev/controller: \"true\"}"
    } else {
        ""
    };
    format!(
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: {name}{labels}
spec:
  pipelineSpec:
    tasks:
    - name: one
      taskSpec: &sleep
        steps:
        - {{name: nap, image: adze-test/busybox:latest, script: sleep {seconds}}}
    - {{name: two, runAfter: [one], taskSpec: *sleep}}
    - {{name: three, runAfter: [two], taskSpec: *sleep}}
    finally:
    - name: report
      taskSpec:
        steps:
        - {{name: say, image: adze-test/busybox:latest, script: echo done}}
"#
    )
}

/// Names and uids of the namespace's objects of `kind`.
fn uids(sim: &Sim, namespace: &str, kind: &str) -> BTreeSet<(String, String)> {
    list(sim, namespace, kind)
        .iter()
        .map(|o| {
            let text = |k: &str| o["metadata"][k].as_str().unwrap_or_default().to_owned();
            (text("name"), text("uid"))
        })
        .collect()
}

#[test]
fn only_opted_in_runs_are_taken_unless_all() {
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-opt-in");
    let controller = Controller::start(sim, &["--namespace", &ns, "--leader-elect=false"]);
    create(sim, &ns, &chain("theirs", false, "0"));
    create(sim, &ns, &chain("ours", true, "0"));
    let ours = wait_until(sim, &ns, "pipelinerun/ours", LIMIT, &controller, done);
    assert_eq!(condition(&ours), ("True".into(), "Succeeded".into()));
    // The other run was never touched: no status, no children.
    let theirs = get(sim, &ns, "pipelinerun/theirs");
    assert!(theirs["status"].is_null(), "{}", theirs["status"]);
    let children: Vec<String> = list(sim, &ns, "taskruns")
        .iter()
        .filter(|t| t["metadata"]["labels"]["tekton.dev/pipelineRun"] == "theirs")
        .map(|t| t["metadata"]["name"].to_string())
        .collect();
    assert!(children.is_empty(), "{children:?}");
    drop(controller);
    let all = Controller::start(sim, &["--namespace", &ns, "--all", "--leader-elect=false"]);
    let theirs = wait_until(sim, &ns, "pipelinerun/theirs", LIMIT, &all, done);
    assert_eq!(condition(&theirs), ("True".into(), "Succeeded".into()));
}

#[test]
fn a_controller_killed_mid_run_is_resumed_without_duplicates() {
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-restart");
    // Killed, the first leaves its Lease to expire: the second waits for that, as a new Pod
    // of a Deployment would.
    let elect = [
        "--namespace",
        &ns,
        "--leader-election-namespace",
        &ns,
        "--lease-duration",
        "3s",
    ];
    let mut first = Controller::start(sim, &elect);
    create(sim, &ns, &chain("resumed", true, "1"));
    // Kill it once the second task's Pod exists: one child done, one running.
    wait_until(sim, &ns, "pipelinerun/resumed", LIMIT, &first, |_| {
        uids(sim, &ns, "pods")
            .iter()
            .any(|(name, _)| name == "resumed-two-pod")
    });
    first.kill();
    let before_pods = uids(sim, &ns, "pods");
    let before_runs = uids(sim, &ns, "taskruns");
    let second = Controller::start(sim, &elect);
    let run = wait_until(sim, &ns, "pipelinerun/resumed", LIMIT, &second, done);
    assert_eq!(condition(&run), ("True".into(), "Succeeded".into()));
    let pods = uids(sim, &ns, "pods");
    let runs = uids(sim, &ns, "taskruns");
    // What existed before the kill is still the same object (not deleted and made again)...
    assert!(before_pods.is_subset(&pods), "{before_pods:?} vs {pods:?}");
    assert!(before_runs.is_subset(&runs), "{before_runs:?} vs {runs:?}");
    // ...and each task ran once: one TaskRun and one Pod per task.
    let names = |set: &BTreeSet<(String, String)>| -> Vec<String> {
        set.iter().map(|(n, _)| n.clone()).collect()
    };
    assert_eq!(
        names(&runs),
        [
            "resumed-one",
            "resumed-report",
            "resumed-three",
            "resumed-two"
        ]
    );
    assert_eq!(
        names(&pods),
        [
            "resumed-one-pod",
            "resumed-report-pod",
            "resumed-three-pod",
            "resumed-two-pod"
        ]
    );
    // Deleting the run deletes its TaskRuns and their Pods (owner references).
    sim.kubectl(&["delete", "-n", &ns, "pipelinerun/resumed"]);
    let until = std::time::Instant::now() + LIMIT;
    while !(list(sim, &ns, "taskruns").is_empty() && list(sim, &ns, "pods").is_empty()) {
        assert!(
            std::time::Instant::now() < until,
            "children outlived their run"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn spec_status_patches_cancel_or_stop_as_tekton() {
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-cancel");
    let controller = Controller::start(sim, &["--namespace", &ns, "--leader-elect=false"]);
    create(sim, &ns, &chain("cancelled", true, "30"));
    // Long enough that its first task still runs when the patch lands, on a loaded machine
    // too (2 s was not: the second task had started in one CI run).
    create(sim, &ns, &chain("stopped", true, "8"));
    for run in ["cancelled", "stopped"] {
        wait_until(
            sim,
            &ns,
            &format!("taskrun/{run}-one"),
            LIMIT,
            &controller,
            // Its step shows as running while it runs, as in Tekton's status.
            |t| {
                condition(t).1 == "Running"
                    && t["status"]["steps"][0]["running"]["startedAt"].is_string()
            },
        );
    }
    // While it runs, the status says so, with the children started so far.
    let running = wait_until(sim, &ns, "pipelinerun/cancelled", LIMIT, &controller, |r| {
        r["status"]["childReferences"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    });
    assert_eq!(condition(&running), ("Unknown".into(), "Running".into()));
    let message = running["status"]["conditions"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        message,
        "Tasks Completed: 0 (Failed: 0, Cancelled 0), Incomplete: 4, Skipped: 0"
    );
    assert_eq!(
        running["status"]["childReferences"][0]["name"], "cancelled-one",
        "{}",
        running["status"]
    );
    let set_status = |run: &str, status: &str| {
        let body = format!(r#"{{"spec":{{"status":"{status}"}}}}"#);
        patch(sim, &ns, &format!("pipelinerun/{run}"), &body);
    };
    set_status("cancelled", "Cancelled");
    set_status("stopped", "StoppedRunFinally");

    // Cancelled: the running task is cancelled, nothing else starts, finally included.
    let cancelled = wait_until(sim, &ns, "pipelinerun/cancelled", LIMIT, &controller, done);
    assert_eq!(condition(&cancelled), ("False".into(), "Cancelled".into()));
    let one = get(sim, &ns, "taskrun/cancelled-one");
    assert_eq!(condition(&one), ("False".into(), "TaskRunCancelled".into()));
    let started: Vec<String> = list(sim, &ns, "taskruns")
        .iter()
        .filter(|t| t["metadata"]["labels"]["tekton.dev/pipelineRun"] == "cancelled")
        .map(|t| {
            t["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(started, ["cancelled-one"]);

    // StoppedRunFinally: the running task completes, the rest is skipped, finally runs.
    let stopped = wait_until(sim, &ns, "pipelinerun/stopped", LIMIT, &controller, done);
    assert_eq!(condition(&stopped), ("False".into(), "Cancelled".into()));
    let one = get(sim, &ns, "taskrun/stopped-one");
    assert_eq!(condition(&one), ("True".into(), "Succeeded".into()));
    let report = get(sim, &ns, "taskrun/stopped-report");
    assert_eq!(condition(&report), ("True".into(), "Succeeded".into()));
    let skipped: Vec<String> = stopped["status"]["skippedTasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(skipped, ["two", "three"]);
}

#[test]
fn of_two_replicas_only_the_leader_works_and_the_other_takes_over() {
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-leader");
    let elect = [
        "--namespace",
        &ns,
        "--leader-election-namespace",
        &ns,
        "--lease-duration",
        "3s",
    ];
    let mut leader = Controller::start(sim, &elect);
    let standby = Controller::start_waiting(sim, &elect);
    create(sim, &ns, &chain("first", true, "0"));
    let run = wait_until(sim, &ns, "pipelinerun/first", LIMIT, &leader, done);
    assert_eq!(condition(&run), ("True".into(), "Succeeded".into()));
    assert!(
        leader.log().contains("PipelineRun/ctl-leader/first"),
        "{}",
        leader.log()
    );
    assert!(
        !standby.log().contains("reconciling"),
        "the standby worked: {}",
        standby.log()
    );
    let lease = get(sim, &ns, "lease/adze-controller");
    let holder = lease["spec"]["holderIdentity"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(leader.log().contains(&holder), "{holder} is not the leader");
    leader.kill();
    let killed = std::time::Instant::now();
    standby.wait_for("adze controller: reconciling");
    let waited = killed.elapsed();
    // At most the Lease's 3 s after the last renewal, plus one retry period and slack.
    assert!(
        waited < Duration::from_secs(6),
        "took over after {waited:?}"
    );
    create(sim, &ns, &chain("second", true, "0"));
    let run = wait_until(sim, &ns, "pipelinerun/second", LIMIT, &standby, done);
    assert_eq!(condition(&run), ("True".into(), "Succeeded".into()));
    let lease = get(sim, &ns, "lease/adze-controller");
    assert_ne!(
        lease["spec"]["holderIdentity"].as_str(),
        Some(holder.as_str())
    );
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
}

#[test]
fn pending_runs_wait_until_their_status_is_cleared() {
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-pending");
    let controller = Controller::start(sim, &["--namespace", &ns, "--leader-elect=false"]);
    let pending = chain("later", true, "0").replace(
        "spec:\n  pipelineSpec:",
        "spec:\n  status: PipelineRunPending\n  pipelineSpec:",
    );
    create(sim, &ns, &pending);
    let waiting = wait_until(sim, &ns, "pipelinerun/later", LIMIT, &controller, |r| {
        !r["status"].is_null()
    });
    assert_eq!(
        condition(&waiting),
        ("Unknown".into(), "PipelineRunPending".into())
    );
    assert!(
        waiting["status"]["startTime"].is_null(),
        "{}",
        waiting["status"]
    );
    assert!(list(sim, &ns, "taskruns").is_empty());
    patch(sim, &ns, "pipelinerun/later", r#"{"spec":{"status":null}}"#);
    let run = wait_until(sim, &ns, "pipelinerun/later", LIMIT, &controller, done);
    assert_eq!(condition(&run), ("True".into(), "Succeeded".into()));
}

#[test]
fn a_pipeline_in_a_pipeline_runs_as_a_child_pipelinerun_object() {
    let sim = Sim::shared();
    let ns = sim.namespace("ctl-nested");
    let controller = Controller::start(sim, &["--namespace", &ns, "--leader-elect=false"]);
    create(
        sim,
        &ns,
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata:
  name: outer
  labels: {adze.dev/controller: "true"}
spec:
  pipelineSpec:
    results: [{name: heard, value: $(tasks.after.results.heard)}]
    tasks:
    - name: inner
      pipelineSpec:
        results: [{name: word, value: $(tasks.say.results.word)}]
        tasks:
        - name: say
          taskSpec:
            results: [{name: word}]
            steps:
            - {name: say, image: adze-test/busybox:latest, script: printf hi > $(results.word.path)}
    - name: after
      runAfter: [inner]
      params: [{name: word, value: $(tasks.inner.results.word)}]
      taskSpec:
        params: [{name: word}]
        results: [{name: heard}]
        steps:
        - {name: echo, image: adze-test/busybox:latest, script: printf "$(params.word)!" > $(results.heard.path)}
"#,
    );
    let outer = wait_until(sim, &ns, "pipelinerun/outer", LIMIT, &controller, done);
    assert_eq!(
        condition(&outer),
        ("True".into(), "Succeeded".into()),
        "{}",
        outer["status"]
    );
    assert_eq!(outer["status"]["results"][0]["value"], "hi!");
    let kinds: Vec<(String, String)> = outer["status"]["childReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (text("kind"), text("name"))
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("PipelineRun".to_owned(), "outer-inner".to_owned()),
            ("TaskRun".to_owned(), "outer-after".to_owned())
        ]
    );
    // The child is an object of its own, owned by its parent, with TaskRuns of its own.
    let inner = get(sim, &ns, "pipelinerun/outer-inner");
    assert_eq!(condition(&inner), ("True".into(), "Succeeded".into()));
    assert_eq!(inner["metadata"]["ownerReferences"][0]["name"], "outer");
    let say = get(sim, &ns, "taskrun/outer-inner-say");
    assert_eq!(say["metadata"]["ownerReferences"][0]["kind"], "PipelineRun");
    assert_eq!(say["metadata"]["ownerReferences"][0]["name"], "outer-inner");
}
