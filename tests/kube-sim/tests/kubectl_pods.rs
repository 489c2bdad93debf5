//! The real `kubectl` against a kube-sim whose kubelet runs Pods in the local Docker engine:
//! a Pod created with `kubectl create` runs, `kubectl logs` shows its output, `kubectl get
//! pods -w` sees Pending → Running → Succeeded, a failing Pod ends Failed, deleting a Pod
//! removes its containers, SIGTERM removes every container kube-sim started, and a Pod bound
//! to another node is stored and never run.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{eventually, Sim};

fn sim() -> &'static Sim {
    Sim::shared(&[])
}

fn pod(name: &str, ns: &str, script: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  restartPolicy: Never\n  \
         containers:\n  - name: main\n    image: adze-test/busybox:latest\n    imagePullPolicy: Never\n    \
         command: [sh, -c, '{script}']\n"
    )
}

/// Names of the Docker containers (running or not) whose name contains `fragment`.
fn containers(fragment: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("name={fragment}"),
            "--format",
            "{{.Names}}",
        ])
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn phase(sim: &Sim, ns: &str, name: &str) -> String {
    sim.kubectl(&[
        "get",
        "pod",
        name,
        "-n",
        ns,
        "-o",
        "jsonpath={.status.phase}",
    ])
}

#[test]
fn a_pod_created_with_kubectl_runs_and_kubectl_sees_its_phases_and_logs() {
    let sim = sim();
    let ns = sim.namespace("runs-pods");
    let (mut watch, rx) = sim.kubectl_lines(&[
        "get",
        "pods",
        "-n",
        &ns,
        "-w",
        "-o",
        "jsonpath={.status.phase}{\"\\n\"}",
    ]);
    // The init container keeps the Pod Pending for two seconds, so a watch that connects
    // after the create (kubectl lists first) still sees the Pod's first phase.
    let hello = pod("hello", &ns, "echo hello from kube-sim; sleep 1; echo bye").replace(
        "  containers:\n",
        "  initContainers:\n  - {name: wait, image: adze-test/busybox:latest, imagePullPolicy: Never, command: [sleep, '2']}\n  containers:\n",
    );
    sim.create(&hello);

    let mut phases: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while phases.last().map(String::as_str) != Some("Succeeded") {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("phases so far: {phases:?}"));
        if phases.last() != Some(&line) {
            phases.push(line);
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(phases, ["Pending", "Running", "Succeeded"]);

    let logs = sim.kubectl(&["logs", "hello", "-n", &ns]);
    assert_eq!(logs, "hello from kube-sim\nbye\n");
    let tail = sim.kubectl(&["logs", "hello", "-n", &ns, "-c", "main", "--tail=1"]);
    assert_eq!(tail, "bye\n");
    let exit = sim.kubectl(&[
        "get",
        "pod",
        "hello",
        "-n",
        &ns,
        "-o",
        "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}",
    ]);
    assert_eq!(exit, "0");
    let table = sim.kubectl(&["get", "pod", "hello", "-n", &ns]);
    assert!(table.contains("Completed"), "{table}");

    let fragment = format!("k8s_main_hello_{ns}_");
    assert_eq!(
        containers(&fragment).len(),
        1,
        "the container ran in Docker"
    );
    sim.kubectl(&["delete", "pod", "hello", "-n", &ns]);
    eventually(
        Duration::from_secs(20),
        "the container to be removed",
        || containers(&fragment).is_empty(),
    );
}

#[test]
fn a_pod_bound_to_another_node_is_never_run_and_keeps_the_status_the_test_writes() {
    let sim = sim();
    let ns = sim.namespace("other-node");
    let elsewhere = pod("elsewhere", &ns, "echo never").replace(
        "  restartPolicy: Never\n",
        "  restartPolicy: Never\n  nodeName: worker-1\n",
    );
    sim.create(&elsewhere);
    sim.create(&pod("here", &ns, "echo ran"));
    eventually(Duration::from_secs(30), "the unbound Pod runs here", || {
        phase(sim, &ns, "here") == "Succeeded"
    });
    let node = sim.kubectl(&[
        "get",
        "pod",
        "here",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.nodeName}",
    ]);
    assert_eq!(node, "kube-sim");
    assert_eq!(phase(sim, &ns, "elsewhere"), "Pending");
    assert!(containers(&format!("_elsewhere_{ns}_")).is_empty());
    // Its node's kubelet is the test: what it writes stays.
    sim.kubectl(&[
        "patch",
        "pod",
        "elsewhere",
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
    ]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(phase(sim, &ns, "elsewhere"), "Running");
    assert!(containers(&format!("_elsewhere_{ns}_")).is_empty());
    // Nothing runs it, so nothing holds its deletion for the grace period.
    let started = Instant::now();
    sim.kubectl(&["delete", "pod", "elsewhere", "-n", &ns]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_failing_pod_ends_failed_with_its_exit_code() {
    let sim = sim();
    let ns = sim.namespace("fails-pods");
    sim.create(&pod("broken", &ns, "echo oops >&2; exit 3"));
    eventually(Duration::from_secs(60), "the Pod to fail", || {
        phase(sim, &ns, "broken") == "Failed"
    });
    let exit = sim.kubectl(&[
        "get",
        "pod",
        "broken",
        "-n",
        &ns,
        "-o",
        "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}",
    ]);
    assert_eq!(exit, "3");
    let table = sim.kubectl(&["get", "pod", "broken", "-n", &ns]);
    assert!(table.contains("Error"), "{table}");
    assert_eq!(sim.kubectl(&["logs", "broken", "-n", &ns]), "oops\n");
    sim.kubectl(&[
        "delete",
        "pod",
        "broken",
        "-n",
        &ns,
        "--grace-period=0",
        "--force",
    ]);
}

#[test]
fn sigterm_removes_every_container_kube_sim_started() {
    let own = Sim::start(&[]);
    let ns = own.namespace("sigterm-pods");
    own.create(&pod("sleeper", &ns, "sleep 300"));
    eventually(Duration::from_secs(60), "the Pod to run", || {
        phase(&own, &ns, "sleeper") == "Running"
    });
    let fragment = format!("_sleeper_{ns}_");
    assert!(!containers(&fragment).is_empty());
    let status = own
        .terminate(Duration::from_secs(30))
        .expect("kube-sim exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert_eq!(containers(&fragment), Vec::<String>::new());
}

#[test]
fn logs_follow_a_running_pod_and_delete_honours_the_grace_period() {
    let sim = sim();
    let ns = sim.namespace("follow-pods");
    sim.create(&pod("talker", &ns, "echo one; sleep 2; echo two"));
    eventually(Duration::from_secs(60), "the Pod to run", || {
        phase(sim, &ns, "talker") == "Running"
    });
    let followed = sim.kubectl(&["logs", "-f", "talker", "-n", &ns]);
    assert_eq!(
        followed, "one\ntwo\n",
        "follow streams until the container exits"
    );

    sim.create(&pod("stubborn", &ns, "trap \"\" TERM; sleep 300"));
    eventually(Duration::from_secs(60), "the Pod to run", || {
        phase(sim, &ns, "stubborn") == "Running"
    });
    let started = Instant::now();
    sim.kubectl(&["delete", "pod", "stubborn", "-n", &ns, "--grace-period=1"]);
    let took = started.elapsed();
    // The shell ignores SIGTERM: the kubelet waits out the grace period, then kills.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(15),
        "{took:?}"
    );
    assert!(containers(&format!("_stubborn_{ns}_")).is_empty());
}

#[test]
fn claims_config_maps_and_secrets_reach_the_pods_that_use_them() {
    let sim = sim();
    let ns = sim.namespace("volume-pods");
    sim.create(&format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: shared, namespace: {ns}}}\n\
         spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {ns}}}\ndata: {{greeting: hello}}\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata: {{name: creds, namespace: {ns}}}\nstringData: {{token: s3cret}}\n"
    ));
    let with_volumes = |name: &str, script: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  restartPolicy: Never\n  \
             volumes:\n  - {{name: data, persistentVolumeClaim: {{claimName: shared}}}}\n  \
             - {{name: settings, configMap: {{name: settings}}}}\n  containers:\n  - name: main\n    \
             image: adze-test/busybox:latest\n    imagePullPolicy: Never\n    command: [sh, -c, '{script}']\n    \
             env: [{{name: TOKEN, valueFrom: {{secretKeyRef: {{name: creds, key: token}}}}}}]\n    \
             volumeMounts: [{{name: data, mountPath: /data}}, {{name: settings, mountPath: /etc/settings}}]\n"
        )
    };
    sim.create(&with_volumes(
        "writer",
        "cat /etc/settings/greeting > /data/note; echo \" $TOKEN\" >> /data/note",
    ));
    eventually(Duration::from_secs(60), "the writer to finish", || {
        phase(sim, &ns, "writer") == "Succeeded"
    });
    sim.create(&with_volumes("reader", "cat /data/note"));
    eventually(Duration::from_secs(60), "the reader to finish", || {
        phase(sim, &ns, "reader") == "Succeeded"
    });
    assert_eq!(
        sim.kubectl(&["logs", "reader", "-n", &ns]),
        "hello s3cret\n"
    );
}
