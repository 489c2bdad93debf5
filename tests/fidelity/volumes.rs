//! Volumes and `podTemplate`: sourceless volumes, `hostPath`, refused sources, and the pod
//! settings a local run honours (volumes, env, security context, hostAliases, DNS,
//! hostNetwork).

use crate::{run, run_in, run_with};

/// A TaskRun of one embedded Task: `volumes`, `steps` and `results` given as YAML flow text,
/// `pod` the `podTemplate` (or empty).
fn task_run(name: &str, pod: &str, body: &str) -> String {
    format!(
        "apiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata: {{name: {name}}}\nspec:\n{pod}  taskSpec:\n{body}"
    )
}

#[test]
fn a_volume_without_a_source_is_scratch_space_shared_by_the_steps() {
    let yaml = task_run(
        "vol-scratch",
        "",
        r#"    volumes: [{name: scratch}]
    results: [{name: seen}]
    steps:
    - name: write
      image: adze-test/busybox:latest
      volumeMounts: [{name: scratch, mountPath: /scratch}]
      script: echo -n written-by-first > /scratch/note
    - name: read
      image: adze-test/busybox:latest
      volumeMounts: [{name: scratch, mountPath: /scratch}]
      script: cat /scratch/note > $(results.seen.path)
"#,
    );
    let ran = run(&yaml).succeeded();
    assert_eq!(ran.result("seen"), "written-by-first");
}

#[test]
fn a_host_path_is_bind_mounted_with_a_warning_naming_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let host = dir.path().join("host-data");
    std::fs::create_dir(&host).expect("host dir");
    std::fs::write(host.join("input.txt"), "from-the-host").expect("input");
    let created = dir.path().join("made-by-adze");
    let yaml = task_run(
        "vol-host-path",
        "",
        &format!(
            r#"    volumes:
    - {{name: host, hostPath: {{path: {}, type: Directory}}}}
    - {{name: fresh, hostPath: {{path: {}, type: DirectoryOrCreate}}}}
    results: [{{name: seen}}]
    steps:
    - name: read
      image: adze-test/busybox:latest
      volumeMounts: [{{name: host, mountPath: /host}}, {{name: fresh, mountPath: /fresh}}]
      script: |
        cat /host/input.txt > $(results.seen.path)
        echo -n back > /host/output.txt
        touch /fresh/here
"#,
            host.display(),
            created.display()
        ),
    );
    let ran = run_in(dir.path(), &yaml, &[]).succeeded();
    assert_eq!(ran.result("seen"), "from-the-host");
    assert_eq!(
        std::fs::read_to_string(host.join("output.txt")).expect("written back"),
        "back"
    );
    assert!(created.join("here").exists(), "DirectoryOrCreate made it");
    let warning = format!(
        "hostPath volume \"host\" (TaskRun \"vol-host-path\") mounts host path {} into the containers",
        host.display()
    );
    assert!(ran.stderr.contains(&warning), "{}", ran.stderr);
}

#[test]
fn a_host_path_is_refused_under_strict_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let yaml = task_run(
        "vol-host-strict",
        "",
        &format!(
            r#"    volumes: [{{name: host, hostPath: {{path: {}}}}}]
    steps:
    - name: never
      image: adze-test/busybox:latest
      volumeMounts: [{{name: host, mountPath: /host}}]
      script: echo step-ran-anyway
"#,
            dir.path().display()
        ),
    );
    let ran = run_in(dir.path(), &yaml, &["--strict"]);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.run.is_null(),
        "no status for a refused run: {}",
        ran.run
    );
    assert!(
        ran.stderr
            .contains("error[run/local-caveat]: Volume.hostPath is refused under --strict")
            && ran.stderr.contains("run.yaml:"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("step-ran-anyway"), "{}", ran.stderr);
}

#[test]
fn an_nfs_volume_is_refused_by_name_before_any_task_starts() {
    let yaml = r#"
apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {name: vol-nfs}
spec:
  pipelineSpec:
    tasks:
    - name: first
      taskSpec:
        steps: [{name: s, image: adze-test/busybox:latest, script: echo first-task-ran}]
    - name: second
      runAfter: [first]
      taskSpec:
        volumes: [{name: shared, nfs: {server: nas.example, path: /export}}]
        steps:
        - name: s
          image: adze-test/busybox:latest
          volumeMounts: [{name: shared, mountPath: /shared}]
          script: ls /shared
"#;
    let ran = run(yaml);
    assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    assert!(
        ran.run.is_null(),
        "no status for a refused run: {}",
        ran.run
    );
    assert!(
        ran.stderr
            .contains("error[run/unsupported-field]: Volume.nfs is not supported by adze run")
            && ran.stderr.contains("run.yaml:14:34"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("first-task-ran"), "{}", ran.stderr);
}

/// A PipelineRun whose `build` task exposes its results as pipeline results.
fn pipeline_run(name: &str, spec: &str, task: &str, results: &[&str]) -> String {
    let declared: Vec<String> = results
        .iter()
        .map(|r| format!("    - {{name: {r}, value: $(tasks.build.results.{r})}}"))
        .collect();
    format!(
        "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {{name: {name}}}\nspec:\n{spec}  pipelineSpec:\n    results:\n{}\n    tasks:\n    - name: build\n      taskSpec:\n{task}",
        declared.join("\n")
    )
}

#[test]
fn pod_template_volumes_are_mounted_by_steps_and_sidecars() {
    let yaml = pipeline_run(
        "vol-pod-volumes",
        "  taskRunTemplate:\n    podTemplate:\n      volumes: [{name: shared, emptyDir: {}}]\n",
        r#"        results: [{name: seen}]
        sidecars:
        - name: helper
          image: adze-test/busybox:latest
          volumeMounts: [{name: shared, mountPath: /data}]
          script: |
            echo -n sidecar-was-here > /data/note
            sleep 60
        steps:
        - name: read
          image: adze-test/busybox:latest
          volumeMounts: [{name: shared, mountPath: /shared}]
          script: |
            for i in $(seq 1 100); do [ -f /shared/note ] && break; sleep 0.1; done
            cat /shared/note > $(results.seen.path)
"#,
        &["seen"],
    );
    let ran = run(&yaml).succeeded();
    assert_eq!(ran.result("seen"), "sidecar-was-here");
}

#[test]
fn pod_template_env_reaches_steps_and_wins_over_their_own_as_in_tekton() {
    // Tekton appends podTemplate env after the step's (docs/podtemplates.md: it "takes
    // precedence"); taskRunSpecs' template merges over taskRunTemplate's by name.
    let yaml = pipeline_run(
        "vol-pod-env",
        r#"  taskRunTemplate:
    podTemplate:
      env: [{name: MODE, value: run}, {name: FROM_RUN, value: r}]
  taskRunSpecs:
  - pipelineTaskName: build
    podTemplate:
      env: [{name: MODE, value: task}]
"#,
        r#"        results: [{name: seen}]
        steps:
        - name: read
          image: adze-test/busybox:latest
          env: [{name: MODE, value: step}, {name: OWN, value: o}]
          script: echo -n "$MODE $FROM_RUN $OWN" > $(results.seen.path)
"#,
        &["seen"],
    );
    let ran = run(&yaml).succeeded();
    assert_eq!(ran.result("seen"), "task r o");
}

#[test]
fn pod_security_context_sets_users_groups_and_volume_ownership() {
    let yaml = task_run(
        "vol-security",
        "  podTemplate:\n    securityContext: {runAsUser: 1234, runAsGroup: 2345, fsGroup: 3456}\n",
        r#"    volumes: [{name: scratch}]
    results: [{name: ids}, {name: own-uid}, {name: file-group}]
    steps:
    - name: pod-user
      image: adze-test/busybox:latest
      volumeMounts: [{name: scratch, mountPath: /scratch}]
      script: |
        echo -n "$(id -u) $(id -g) $(id -G)" > $(results.ids.path)
        touch /scratch/made
        echo -n "$(stat -c %g /scratch/made)" > $(results.file-group.path)
    - name: own-user
      image: adze-test/busybox:latest
      securityContext: {runAsUser: 4567}
      script: echo -n "$(id -u) $(id -g)" > $(results.own-uid.path)
"#,
    );
    let ran = run(&yaml).succeeded();
    let ids = ran.result("ids").as_str().expect("a string").to_owned();
    let mut parts = ids.split(' ');
    assert_eq!(parts.next(), Some("1234"), "{ids}");
    assert_eq!(parts.next(), Some("2345"), "{ids}");
    assert!(
        parts.any(|g| g == "3456"),
        "fsGroup joins the groups: {ids}"
    );
    assert_eq!(
        ran.result("own-uid"),
        "4567 2345",
        "the step's own user wins"
    );
    assert_eq!(
        ran.result("file-group"),
        "3456",
        "volumes are fsGroup-owned"
    );
}

#[test]
fn run_as_non_root_refuses_a_container_that_would_run_as_root() {
    let yaml = task_run(
        "vol-non-root",
        "  podTemplate:\n    securityContext: {runAsNonRoot: true}\n",
        r#"    steps:
    - name: root
      image: adze-test/busybox:latest
      script: echo ran-as-root
"#,
    );
    let ran = run(&yaml);
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}", ran.run);
    assert_eq!(
        condition["reason"], "CreateContainerConfigError",
        "{}",
        ran.run
    );
    assert!(
        condition["message"].as_str().is_some_and(
            |m| m.contains("\"step-root\" has runAsNonRoot and image will run as root")
        ),
        "{}",
        ran.run
    );
    assert!(!ran.stderr.contains("ran-as-root"), "{}", ran.stderr);
}

#[test]
fn host_aliases_and_dns_config_reach_every_container_with_or_without_sidecars() {
    let pod = r#"  podTemplate:
    hostAliases: [{ip: 10.9.8.7, hostnames: [db.adze.test, cache.adze.test]}]
    dnsPolicy: None
    dnsConfig:
      nameservers: [192.0.2.53]
      searches: [corp.adze.test]
      options: [{name: ndots, value: "3"}]
"#;
    for (name, sidecars) in [
        ("vol-network-alone", ""),
        (
            "vol-network-pod",
            "    sidecars: [{name: idle, image: adze-test/busybox:latest, script: sleep 60}]\n",
        ),
    ] {
        let yaml = task_run(
            name,
            pod,
            &format!(
                r#"{sidecars}    results: [{{name: hosts}}, {{name: resolv}}]
    steps:
    - name: look
      image: adze-test/debian:bookworm
      script: |
        getent hosts cache.adze.test | tr -s ' ' > $(results.hosts.path)
        grep -v '^#' /etc/resolv.conf | tr '\n' ';' > $(results.resolv.path)
"#
            ),
        );
        let ran = run_with(&yaml, &[]).succeeded();
        let hosts = ran.result("hosts").as_str().expect("a string").trim();
        assert!(
            hosts.starts_with("10.9.8.7 ") && hosts.contains("cache.adze.test"),
            "{name}: {hosts}"
        );
        let resolv = ran.result("resolv").as_str().expect("a string");
        for expected in [
            "nameserver 192.0.2.53",
            "search corp.adze.test",
            "options ndots:3",
        ] {
            assert!(resolv.contains(expected), "{name}: {expected} in {resolv}");
        }
    }
}

/// A server on the host's loopback that answers every connection with one line; returns its
/// port and the line. It lives as long as the test binary.
fn host_loopback_server() -> (u16, String) {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("an address").port();
    let line = format!("hello-from-the-host-{}-{port}", std::process::id());
    let reply = format!("{line}\n");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (port, line)
}

/// A step that connects to `127.0.0.1:port` and records the line it read, or `unreachable`.
fn dial_step(name: &str, port: u16) -> String {
    format!(
        r#"    - name: {name}
      image: adze-test/debian:bookworm
      script: |
        #!/usr/bin/env bash
        if reply=$(timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port} && head -n1 <&3'); then
          printf '%s' "$reply" > $(results.{name}.path)
        else
          printf unreachable > $(results.{name}.path)
        fi
"#
    )
}

#[test]
fn host_network_lets_steps_reach_the_hosts_loopback_with_or_without_sidecars() {
    let (port, line) = host_loopback_server();
    let pod = "  podTemplate:\n    hostNetwork: true\n";
    for (name, sidecars, steps) in [
        // One step and no sidecar: the step owns its network namespace.
        ("vol-hostnet-alone", "", vec!["first"]),
        // A sidecar: every container joins the holder's namespace.
        (
            "vol-hostnet-pod",
            "    sidecars: [{name: idle, image: adze-test/busybox:latest, script: sleep 60}]\n",
            vec!["first", "second"],
        ),
        // Several steps and no sidecar: they share a holder when they start at once.
        ("vol-hostnet-steps", "", vec!["first", "second"]),
    ] {
        let results: Vec<String> = steps.iter().map(|s| format!("{{name: {s}}}")).collect();
        let body: String = steps.iter().map(|s| dial_step(s, port)).collect();
        let yaml = task_run(
            name,
            pod,
            &format!(
                "{sidecars}    results: [{}]\n    steps:\n{body}",
                results.join(", ")
            ),
        );
        let ran = run_with(&yaml, &[]).succeeded();
        for step in &steps {
            assert_eq!(ran.result(step), line.as_str(), "{name}: step {step}");
        }
        assert!(
            !ran.stderr.contains("hostNetwork"),
            "{name}: no warning about hostNetwork: {}",
            ran.stderr
        );
    }
}

#[test]
fn without_host_network_the_hosts_loopback_is_out_of_reach() {
    let (port, _) = host_loopback_server();
    let yaml = task_run(
        "vol-hostnet-off",
        "",
        &format!(
            "    results: [{{name: first}}]\n    steps:\n{}",
            dial_step("first", port)
        ),
    );
    let ran = run_with(&yaml, &[]).succeeded();
    assert_eq!(ran.result("first"), "unreachable");
}
