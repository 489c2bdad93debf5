//! `securityContext` and `computeResources.limits` as the engine enforces them: a step sees
//! the same restrictions it would under its Pod on a cluster.

use crate::run;

const IMAGE: &str = "adze-test/busybox:latest";

#[test]
fn security_context_fields_restrict_the_step() {
    let ran = run(&format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: confinement-security}}
spec:
  taskSpec:
    results: [{{name: root}}, {{name: caps}}, {{name: nnp}}]
    steps:
    - name: probe
      image: {IMAGE}
      securityContext:
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: {{drop: [ALL], add: [CAP_CHOWN]}}
      script: |
        if touch /probe 2>/dev/null; then r=writable; else r=read-only; fi
        printf %s "$r" > $(results.root.path)
        grep CapEff /proc/self/status | cut -f2 | tr -d '\n' > $(results.caps.path)
        grep NoNewPrivs /proc/self/status | cut -f2 | tr -d '\n' > $(results.nnp.path)
"#
    ))
    .succeeded();
    assert_eq!(ran.result("root"), "read-only");
    assert_eq!(
        ran.result("caps"),
        "0000000000000001",
        "only CAP_CHOWN (bit 0) is left"
    );
    assert_eq!(ran.result("nnp"), "1");
}

#[test]
fn cpu_and_memory_limits_become_the_containers_limits() {
    let ran = run(&format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: confinement-limits}}
spec:
  taskSpec:
    results: [{{name: memory}}, {{name: cpu}}]
    steps:
    - name: probe
      image: {IMAGE}
      computeResources:
        requests: {{memory: 1Gi}}
        limits: {{memory: 64Mi, cpu: 500m}}
      script: |
        if [ -f /sys/fs/cgroup/memory.max ]; then
          cat /sys/fs/cgroup/memory.max | tr -d '\n' > $(results.memory.path)
          cut -d' ' -f1 /sys/fs/cgroup/cpu.max | tr -d '\n' > $(results.cpu.path)
        else
          cat /sys/fs/cgroup/memory/memory.limit_in_bytes | tr -d '\n' > $(results.memory.path)
          cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us | tr -d '\n' > $(results.cpu.path)
        fi
"#
    ))
    .succeeded();
    assert_eq!(ran.result("memory"), "67108864");
    assert_eq!(ran.result("cpu"), "50000", "half of the 100 ms period");
}

#[test]
fn run_as_non_root_refuses_a_root_step_as_the_kubelet_does() {
    let ran = run(&format!(
        r#"apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {{name: confinement-nonroot}}
spec:
  taskSpec:
    steps:
    - name: as-user
      image: {IMAGE}
      securityContext: {{runAsNonRoot: true, runAsUser: 1000}}
      script: test "$(id -u)" = 1000
    - name: as-root
      image: {IMAGE}
      securityContext: {{runAsNonRoot: true}}
      script: echo must not run
"#
    ));
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let condition = ran.condition();
    assert_eq!(condition["status"], "False", "{}", ran.run);
    assert_eq!(
        condition["reason"], "CreateContainerConfigError",
        "{}",
        ran.run
    );
    let message = condition["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("container \"step-as-root\" has runAsNonRoot and image will run as root"),
        "{message}"
    );
    let steps = ran.status()["steps"].as_array().expect("status.steps");
    assert_eq!(steps[0]["terminated"]["exitCode"], 0, "{}", ran.run);
    assert!(!ran.stderr.contains("must not run"), "{}", ran.stderr);
}

#[test]
fn task_run_specs_step_specs_replace_a_steps_resources() {
    let ran = run(&format!(
        r#"apiVersion: tekton.dev/v1
kind: PipelineRun
metadata: {{name: confinement-step-specs}}
spec:
  taskRunSpecs:
  - pipelineTaskName: probe
    stepSpecs:
    - name: measure
      computeResources: {{limits: {{memory: 32Mi}}}}
  pipelineSpec:
    results:
    - {{name: memory, value: $(tasks.probe.results.memory)}}
    tasks:
    - name: probe
      taskSpec:
        results: [{{name: memory}}]
        steps:
        - name: measure
          image: {IMAGE}
          computeResources: {{limits: {{memory: 64Mi}}}}
          script: |
            f=/sys/fs/cgroup/memory.max
            [ -f $f ] || f=/sys/fs/cgroup/memory/memory.limit_in_bytes
            tr -d '\n' < $f > $(results.memory.path)
"#
    ))
    .succeeded();
    assert_eq!(ran.result("memory"), "33554432");
}
