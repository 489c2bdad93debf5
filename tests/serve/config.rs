//! `.adze.yaml` under `adze serve`: the file found from the working directory maps a
//! trigger's image that exists nowhere to the local test image and fills in a param the run
//! leaves unset; `logs`, which a server has no use for, is named as ignored at startup; a
//! flag of `adze serve` wins over the file given with `--config`, and `adze config --for
//! serve` shows the same.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::server::Server;
use super::{event_id, http, outcome, scratch, PROCESSED};

const SECRET: &str = "serve-config-secret";

/// A GitHub listener whose trigger runs Task `greet` (one param, no default; one step whose
/// image no registry has) without setting the param. `NAME` makes the objects unique.
const LISTENER: &str = r#"apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: NAME-listener, namespace: ci}
spec:
  triggers:
  - name: on-push
    interceptors:
    - ref: {name: github}
      params:
      - {name: secretRef, value: {secretName: NAME-secret, secretKey: token}}
    template: {ref: NAME-template}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: NAME-template, namespace: ci}
spec:
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: TaskRun
    metadata: {generateName: NAME-}
    spec:
      taskRef: {name: NAME-greet}
---
apiVersion: v1
kind: Secret
metadata: {name: NAME-secret, namespace: ci}
stringData: {token: SECRET}
---
apiVersion: tekton.dev/v1
kind: Task
metadata: {name: NAME-greet, namespace: ci}
spec:
  params: [{name: greeting}]
  steps:
  - name: say
    image: example.invalid/tool:1
    script: echo "greeting=$(params.greeting)"
"#;

/// Writes the listener of test `name` into `dir`.
fn listener(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join("listener.yaml");
    let text = LISTENER.replace("NAME", name).replace("SECRET", SECRET);
    std::fs::write(&path, text).expect("write the listener");
    path
}

/// Sends a signed push and waits until the run it creates has finished; returns the run.
fn trigger(server: &Server) -> serde_json::Value {
    let body = br#"{"ref":"refs/heads/main"}"#;
    let signature = http::github_signature(SECRET.as_bytes(), body);
    let reply = http::post(
        server.addr,
        &[
            ("X-GitHub-Event", "push"),
            ("X-Hub-Signature-256", &signature),
        ],
        body,
    );
    let event = server.processed(&event_id(&reply), PROCESSED);
    let created = outcome(&event, "on-push");
    assert_eq!(created["verdict"], "created", "{event}");
    let run = created["runs"][0].as_str().expect("a run");
    server.finished(run, Duration::from_secs(120))
}

/// The engine's id of the local test image, which a step run from it reports as `imageID`.
fn busybox_id() -> String {
    crate::common::docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        "adze-test/busybox:latest",
    ])
    .trim()
    .to_string()
}

/// Asserts that `run` succeeded, its step ran the test image, and it printed `greeting`.
fn assert_ran_busybox_saying(server: &Server, run: &serde_json::Value, greeting: &str) {
    assert_eq!(run["state"], "succeeded", "{run}\n{}", server.stderr());
    let step = &run["status"]["status"]["steps"][0];
    assert_eq!(step["imageID"], busybox_id().as_str(), "{run}");
    let name = run["name"].as_str().expect("a name");
    let logs = http::get(server.addr, &format!("/api/v1/runs/{name}/logs"), &[]).json();
    assert!(
        logs.to_string().contains(&format!("greeting={greeting}")),
        "{logs}"
    );
}

#[test]
fn the_found_file_maps_the_image_and_fills_in_the_param() {
    let dir = scratch();
    std::fs::write(
        dir.path().join(".adze.yaml"),
        "imageMap:\n  example.invalid/tool:1: adze-test/busybox:latest\nparams:\n  greeting: \
         from-adze-yaml\nlogs: failed\n",
    )
    .expect("write .adze.yaml");
    // Found from a subdirectory, as `adze run` finds it.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let files = [listener(dir.path(), "serve-config-found")];
    let server = Server::start_in(&sub, &files, &dir.path().join("s.db"), &[]);
    let said = server.stderr();
    let file = dir.path().join(".adze.yaml");
    assert!(
        said.contains(&format!("adze serve: configuration {}", file.display())),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "warning: {}:5: logs is ignored by adze serve",
            file.display()
        )),
        "{said}"
    );
    assert_eq!(
        said.matches("is ignored by adze serve").count(),
        1,
        "{said}"
    );
    let run = trigger(&server);
    assert_ran_busybox_saying(&server, &run, "from-adze-yaml");
    // The trigger's object has no params; the run's final object shows the one it ran with.
    assert!(run["object"]["spec"].get("params").is_none(), "{run}");
    assert_eq!(
        run["status"]["spec"]["params"],
        serde_json::json!([{"name": "greeting", "value": "from-adze-yaml"}]),
        "{run}"
    );
}

#[test]
fn flags_of_serve_win_over_the_given_file() {
    let dir = scratch();
    // Each of these would fail the run if it won: no registry has the mapped image, and the
    // test image exists only locally, so pulling it fails.
    let config = dir.path().join("ci.yaml");
    std::fs::write(
        &config,
        "imageMap:\n  example.invalid/tool:1: example.invalid/other:2\npull: always\nparams:\n  \
         greeting: from-ci-yaml\n",
    )
    .expect("write ci.yaml");
    let config = config.to_str().expect("a UTF-8 path");
    let files = [listener(dir.path(), "serve-config-flags")];
    let flags = [
        "--config",
        config,
        "--image-map",
        "example.invalid/tool:1=adze-test/busybox:latest",
    ];
    // The server's command line also says `--pull never` (see `server::command`).
    let server = Server::start(&files, &dir.path().join("s.db"), &flags);
    assert!(!server.stderr().contains("ignored"), "{}", server.stderr());
    let run = trigger(&server);
    assert_ran_busybox_saying(&server, &run, "from-ci-yaml");

    let shown = crate::common::run_adze(
        dir.path(),
        &[
            "config",
            "--for",
            "serve",
            "-o",
            "json",
            "--config",
            config,
            "--pull",
            "never",
            "--image-map",
            "example.invalid/tool:1=adze-test/busybox:latest",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    let v: serde_json::Value = serde_json::from_str(&shown.stdout).expect("JSON");
    assert_eq!(v["for"], "serve");
    assert_eq!(v["pull"]["source"], "flag");
    assert_eq!(
        v["imageMap"]["example.invalid/tool:1"]["value"],
        "adze-test/busybox:latest"
    );
    assert_eq!(v["imageMap"]["example.invalid/tool:1"]["source"], "flag");
    assert_eq!(
        v["params"]["greeting"]["source"],
        format!("ci.yaml at {config}:5")
    );
    assert_eq!(v["ignored"], serde_json::json!([]));
}

#[test]
fn adze_trigger_runs_what_it_creates_with_the_given_file() {
    let dir = scratch();
    let config = dir.path().join("replay.yaml");
    std::fs::write(
        &config,
        "imageMap:\n  example.invalid/tool:1: adze-test/busybox:latest\npull: never\nparams:\n  \
         greeting: from-replay-yaml\n",
    )
    .expect("write replay.yaml");
    let files = listener(dir.path(), "serve-config-replay");
    let body = r#"{"ref":"refs/heads/main"}"#;
    std::fs::write(dir.path().join("push.json"), body).expect("write the payload");
    let signature = format!(
        "X-Hub-Signature-256: {}",
        http::github_signature(SECRET.as_bytes(), body.as_bytes())
    );
    let mut args = vec![
        "trigger",
        "-f",
        files.to_str().expect("a UTF-8 path"),
        "--namespace",
        "ci",
        "--event",
        "push.json",
        "-H",
        "X-GitHub-Event: push",
        "-H",
        &signature,
    ];
    // Without the file the step's image exists nowhere: the replayed run fails.
    let without = crate::common::run_adze(dir.path(), &args, Duration::from_secs(120));
    assert_ne!(without.code, Some(0), "{}", without.stderr);
    args.extend(["--config", config.to_str().expect("a UTF-8 path")]);
    let with = crate::common::run_adze(dir.path(), &args, Duration::from_secs(120));
    assert_eq!(with.code, Some(0), "{}", with.stderr);
    assert!(
        with.stderr.contains("greeting=from-replay-yaml"),
        "{}",
        with.stderr
    );
}
