//! Steps and sidecars as Tekton runs them: `stdoutConfig`/`stderrConfig` files, the
//! `$(workspaces.W.…)` variables in every container field, Tekton's names for unnamed steps
//! and sidecars, and StepAction params.

use serde_json::Value;

use super::{run, run_with};

/// The entry of `status.steps` named `name`.
fn step<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {status}"))
}

/// The value of step result `result` of step `name`.
fn step_result<'a>(status: &'a Value, name: &str, result: &str) -> &'a Value {
    step(status, name)["results"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == result))
        .map(|r| &r["value"])
        .unwrap_or_else(|| panic!("no result {result} of step {name} in {status}"))
}

#[test]
fn output_files_feed_results_and_one_path_gets_both_streams() {
    let ran = run(r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: fidelity-steps-output}
spec:
  workspaces:
  - {name: shared, emptyDir: {}}
  taskSpec:
    workspaces: [{name: shared}]
    results: [{name: version}, {name: combined}, {name: relayed}]
    steps:
    - name: produce
      image: adze-test/busybox:latest
      stdoutConfig: {path: $(results.version.path)}
      script: printf 1.2.3
    - name: both
      image: adze-test/busybox:latest
      stdoutConfig: {path: $(workspaces.shared.path)/logs/both.txt}
      stderrConfig: {path: $(workspaces.shared.path)/logs/both.txt}
      script: |
        echo out-line
        sleep 0.2
        echo err-line >&2
    - name: say
      image: adze-test/busybox:latest
      results: [{name: said}]
      stdoutConfig: {path: $(step.results.said.path)}
      script: printf hi
    - name: read
      image: adze-test/busybox:latest
      env: [{name: SAID, value: $(steps.say.results.said)}]
      script: |
        tr '\n' ' ' < $(workspaces.shared.path)/logs/both.txt > $(results.combined.path)
        printf "$SAID" > $(results.relayed.path)
"#)
    .succeeded();
    assert_eq!(ran.result("version"), "1.2.3");
    assert_eq!(ran.result("combined"), "out-line err-line ");
    assert_eq!(ran.result("relayed"), "hi");
    assert_eq!(step_result(ran.status(), "say", "said"), "hi");
    // The streams still reach the user.
    assert!(
        ran.stderr.contains("[fidelity-steps-output/produce] 1.2.3"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_result_written_from_output_keeps_the_size_limit() {
    let ran = run_with(
        r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: fidelity-steps-output-limit}
spec:
  taskSpec:
    results: [{name: big}]
    steps:
    - name: flood
      image: adze-test/busybox:latest
      stdoutConfig: {path: $(results.big.path)}
      script: head -c 5000 /dev/zero | tr '\0' x
"#,
        &["--strict"],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert_eq!(
        ran.condition()["reason"],
        "TaskRunResultLargerThanAllowedLimit",
        "{}",
        ran.run
    );
}

#[test]
fn workspace_variables_reach_sidecars_volume_mounts_and_claims() {
    let ran = run(r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: fidelity-steps-workspaces}
spec:
  workspaces:
  - name: data
    persistentVolumeClaim: {claimName: my-claim}
  - {name: scratch, emptyDir: {}}
  taskSpec:
    workspaces:
    - name: data
    - name: scratch
    - {name: opt, optional: true}
    volumes:
    - {name: vol, emptyDir: {}}
    results: [{name: claim}, {name: bound}, {name: side}, {name: mounted}]
    sidecars:
    - name: side
      image: adze-test/busybox:latest
      workingDir: $(workspaces.scratch.path)/side
      volumeMounts:
      - {name: vol, mountPath: "/mnt/$(workspaces.data.claim)"}
      script: |
        echo "$(pwd) $(ls /mnt)" > $(workspaces.scratch.path)/side.txt
        sleep 60
    steps:
    - name: show
      image: adze-test/busybox:latest
      volumeMounts:
      - {name: vol, mountPath: "/mnt/$(workspaces.opt.bound)"}
      script: |
        i=0; while [ ! -s $(workspaces.scratch.path)/side.txt ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        printf "$(workspaces.data.claim)|$(workspaces.scratch.claim)|$(workspaces.data.volume)" > $(results.claim.path)
        printf "$(workspaces.data.bound) $(workspaces.opt.bound) [$(workspaces.opt.path)]" > $(results.bound.path)
        tr -d '\n' < $(workspaces.scratch.path)/side.txt > $(results.side.path)
        ls /mnt | tr -d '\n' > $(results.mounted.path)
"#)
    .succeeded();
    let claim = ran.result("claim").as_str().unwrap_or_default().to_owned();
    let parts: Vec<&str> = claim.split('|').collect();
    assert_eq!(parts[..2], ["my-claim", ""], "{claim}");
    assert!(
        parts[2].starts_with("ws-") && parts[2].len() == 8,
        "{claim}"
    );
    assert_eq!(ran.result("bound"), "true false []");
    assert_eq!(ran.result("side"), "/workspace/scratch/side my-claim");
    assert_eq!(ran.result("mounted"), "false");
}

#[test]
fn unnamed_steps_and_sidecars_get_tekton_names() {
    let ran = run(r#"
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: fidelity-steps-unnamed}
spec:
  taskSpec:
    results: [{name: code}]
    sidecars:
    - image: adze-test/busybox:latest
      script: sleep 60
    - name: named
      image: adze-test/busybox:latest
      script: sleep 60
    steps:
    - image: adze-test/busybox:latest
      script: echo first
    - name: second
      image: adze-test/busybox:latest
      script: cat $(steps.step-unnamed-0.exitCode.path) > $(results.code.path)
    - image: adze-test/busybox:latest
      script: echo third
"#)
    .succeeded();
    let status = ran.status();
    let names: Vec<(&str, &str)> = status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default(),
                s["container"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("unnamed-0", "step-unnamed-0"),
            ("second", "step-second"),
            ("unnamed-2", "step-unnamed-2")
        ]
    );
    assert_eq!(ran.result("code"), "0");
    // Tekton names an unnamed sidecar's container `sidecar` and lists only `sidecar-…`
    // containers in status.sidecars.
    let sidecars: Vec<&Value> = status["sidecars"].as_array().unwrap().iter().collect();
    assert_eq!(sidecars.len(), 1, "{status}");
    assert_eq!(sidecars[0]["name"], "named");
    assert_eq!(sidecars[0]["container"], "sidecar-named");
    assert!(
        ran.stderr
            .contains("[fidelity-steps-unnamed/unnamed-2] third"),
        "{}",
        ran.stderr
    );
}

#[test]
fn step_action_params_merge_objects_by_key_and_resolve_defaults() {
    let ran = run(r#"
apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata: {name: fidelity-greet}
spec:
  params:
  - name: who
    type: object
    properties: {first: {}, last: {}}
    default: {first: Ada, last: Lovelace}
  - {name: greeting, default: "hello $(params.title)"}
  - {name: title, default: dr}
  - {name: items, type: array, default: [a, b]}
  results: [{name: line}]
  image: adze-test/busybox:latest
  env:
  - {name: FIRST, value: $(params.who.first)}
  - {name: LAST, value: $(params.who.last)}
  - {name: GREETING, value: $(params.greeting)}
  command: [sh, -c, 'echo -n "$GREETING $FIRST $LAST $*" > $(step.results.line.path)', sh]
  args: ["$(params.items[*])"]
---
apiVersion: tekton.dev/v1
kind: TaskRun
metadata: {name: fidelity-steps-stepaction}
spec:
  params:
  - {name: first, value: Grace}
  - {name: list, value: [x, y]}
  taskSpec:
    params:
    - {name: first}
    - {name: list, type: array}
    steps:
    - name: merged
      ref: {name: fidelity-greet}
      params:
      - name: who
        value: {first: $(params.first)}
      - name: items
        value: ["$(params.list[*])", z]
    - name: defaults
      ref: {name: fidelity-greet}
"#)
    .succeeded();
    let status = ran.status();
    assert_eq!(
        step_result(status, "merged", "line"),
        "hello dr Grace Lovelace x y z"
    );
    assert_eq!(
        step_result(status, "defaults", "line"),
        "hello dr Ada Lovelace a b"
    );
}
