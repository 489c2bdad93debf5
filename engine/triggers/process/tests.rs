//! Processing against a fake interceptor table (spec C06–C12, C14, C27–C34, §7 E1, E7).

use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::*;
use crate::load::{Bundle, Origin};
use crate::triggers::interceptor::{CallError, Request, Response};
use crate::triggers::template::SequentialIds;
use crate::triggers::Headers;

/// One recorded interceptor call.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    name: String,
    namespaced: bool,
    body: String,
    params: Map<String, Value>,
    extensions: Map<String, Value>,
    trigger_id: String,
    header_event: Option<String>,
}

type Answer = Box<dyn Fn(&Request<'_>) -> Result<Response, CallError> + Send + Sync>;

/// Canned answers by interceptor name; every call is recorded.
struct Fake {
    answers: Vec<(&'static str, Answer)>,
    calls: Mutex<Vec<Call>>,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            answers: Vec::new(),
            calls: Mutex::new(Vec::new()),
        }
    }

    fn with(
        mut self,
        name: &'static str,
        f: impl Fn(&Request<'_>) -> Result<Response, CallError> + Send + Sync + 'static,
    ) -> Fake {
        self.answers.push((name, Box::new(f)));
        self
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

impl Interceptors for Fake {
    fn call(
        &self,
        name: &str,
        namespaced: bool,
        request: &Request<'_>,
    ) -> Result<Response, CallError> {
        self.calls.lock().unwrap().push(Call {
            name: name.into(),
            namespaced,
            body: String::from_utf8_lossy(request.body).into_owned(),
            params: request.params.clone(),
            extensions: request.extensions.clone(),
            trigger_id: request.context.trigger_id.clone(),
            header_event: request.header.first("X-GitHub-Event").map(str::to_string),
        });
        let answer = self.answers.iter().find(|(n, _)| *n == name);
        match answer {
            Some((_, f)) => f(request),
            None => Err(CallError::Unknown { name: name.into() }),
        }
    }
}

fn ext(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn catalog(text: &str) -> Catalog {
    let (c, d) = catalog_with_diagnostics(text);
    assert!(d.is_empty(), "{d:?}");
    c
}

fn catalog_with_diagnostics(text: &str) -> (Catalog, Vec<crate::diagnostic::Diagnostic>) {
    let mut b = Bundle::new();
    b.add_source("t.yaml", text.to_string(), Origin::Input);
    assert!(b.diagnostics.is_empty(), "{:?}", b.diagnostics);
    Catalog::load(&b, "default")
}

fn event(headers: &[(&str, &str)], body: &str) -> Event {
    let mut header = Headers::new();
    for (k, v) in headers {
        header.append(k, *v);
    }
    Event {
        id: "E".into(),
        request_uri: "/".into(),
        header,
        body: body.as_bytes().to_vec(),
    }
}

fn go(c: &Catalog, listener: &str, e: &Event, fake: &Fake) -> Vec<TriggerOutcome> {
    process(c, listener, e, fake, &mut SequentialIds::default()).unwrap()
}

fn created(o: &TriggerOutcome) -> &Vec<Value> {
    match &o.result {
        TriggerResult::Created { objects, .. } => objects,
        other => panic!("{} not created: {other:?}", o.name),
    }
}

const E1_FILES: &str = r#"
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: gh-listener, namespace: ci}
spec:
  serviceAccountName: triggers-sa
  triggers:
  - name: on-push
    interceptors:
    - ref: {name: github}
      params:
      - {name: secretRef, value: {secretName: gh-secret, secretKey: token}}
      - {name: eventTypes, value: [push]}
    - ref: {name: cel}
      params:
      - name: overlays
        value:
        - {key: short_sha, expression: "body.after.truncate(7)"}
        - {key: branch, expression: "body.ref.split('/')[2]"}
    bindings:
    - {name: revision, value: $(body.after)}
    - {name: url, value: $(body.repository.clone_url)}
    - {name: short, value: $(extensions.short_sha)}
    - {name: branch, value: $(extensions.branch)}
    - {name: event, value: $(header.x-github-event)}
    template: {ref: build}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: build, namespace: ci}
spec:
  params: [{name: revision}, {name: url}, {name: short}, {name: branch}, {name: event},
           {name: message, default: "no message"}]
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: PipelineRun
    metadata: {generateName: build-$(tt.params.short)-}
    spec:
      pipelineRef: {name: build}
      params:
      - {name: revision, value: $(tt.params.revision)}
      - {name: url, value: $(tt.params.url)}
      - {name: branch, value: $(tt.params.branch)}
      - {name: event, value: $(tt.params.event)}
      - {name: message, value: $(tt.params.message)}
      - {name: run-id, value: $(uid)}
"#;

const E1_BODY: &str = r#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"},"pusher":{"name":"octo"}}"#;

fn e1_fake() -> Fake {
    Fake::new()
        .with("github", |_| Ok(Response::proceed()))
        .with("cel", |_| {
            Ok(Response::proceed_with(ext(
                json!({"short_sha": "6113728", "branch": "main"}),
            )))
        })
}

/// Spec §7 E1, and C10: each interceptor gets only its own params.
#[test]
fn e1_github_push_creates_the_pipeline_run() {
    let c = catalog(E1_FILES);
    let fake = e1_fake();
    let e = event(
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
        ],
        E1_BODY,
    );
    let out = go(&c, "gh-listener", &e, &fake);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].name.as_str(), out[0].namespace.as_str()),
        ("on-push", "ci")
    );
    let objects = created(&out[0]);
    assert_eq!(
        objects[0],
        json!({
            "apiVersion": "tekton.dev/v1",
            "kind": "PipelineRun",
            "metadata": {
                "generateName": "build-6113728-",
                "labels": {
                    "triggers.tekton.dev/eventlistener": "gh-listener",
                    "triggers.tekton.dev/trigger": "on-push",
                    "triggers.tekton.dev/triggers-eventid": "E"
                },
                "namespace": "ci",
                "name": "build-6113728-bbbbc"
            },
            "spec": {
                "pipelineRef": {"name": "build"},
                "params": [
                    {"name": "revision", "value": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"},
                    {"name": "url", "value": "https://github.com/acme/app.git"},
                    {"name": "branch", "value": "main"},
                    {"name": "event", "value": "push"},
                    {"name": "message", "value": "no message"},
                    {"name": "run-id", "value": "00000000-0000-4000-8000-000000000001"}
                ]
            }
        })
    );
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].name, "github");
    assert_eq!(calls[0].body, E1_BODY, "interceptors see the exact bytes");
    assert_eq!(calls[0].trigger_id, "namespaces/ci/triggers/on-push");
    assert_eq!(
        calls[0].params.keys().collect::<Vec<_>>(),
        ["secretRef", "eventTypes"]
    );
    assert_eq!(calls[1].params.keys().collect::<Vec<_>>(), ["overlays"]);
    assert!(!calls[0].namespaced);
    let json = serde_json::to_value(&out[0]).unwrap();
    assert_eq!(json["result"]["result"], "created");
}

/// C09: `continue: false` and call errors stop the trigger; later interceptors are not called.
#[test]
fn rejections_and_call_errors_stop_the_trigger() {
    let c = catalog(E1_FILES);
    let fake = Fake::new().with("github", |_| {
        Ok(Response::stop(
            Code::FailedPrecondition,
            "payload signature check failed",
        ))
    });
    let e = event(&[("X-GitHub-Event", "push")], E1_BODY);
    let out = go(&c, "gh-listener", &e, &fake);
    assert_eq!(
        out[0].result,
        TriggerResult::Rejected {
            interceptor: "github".into(),
            code: Code::FailedPrecondition,
            message: "payload signature check failed".into()
        }
    );
    assert_eq!(fake.calls().len(), 1);
    let fake = Fake::new().with("github", |_| Ok(Response::proceed()));
    let out = go(&c, "gh-listener", &e, &fake);
    let TriggerResult::Failed { stage, message, .. } = &out[0].result else {
        panic!("{out:?}")
    };
    assert_eq!(*stage, Stage::Interceptor);
    assert!(
        message.starts_with("interceptor cel: interceptor \"cel\" not found"),
        "{message}"
    );
}

/// C11: extensions merge shallowly, flow to later interceptors and to bindings.
#[test]
fn extensions_merge_shallowly_and_flow_on() {
    let c = catalog(
        r#"
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: l}
spec:
  triggers:
  - name: t
    interceptors:
    - ref: {name: a}
    - ref: {name: b, kind: NamespacedInterceptor}
    bindings:
    - {name: x, value: "$(extensions.x.new)-$(extensions.y)"}
    template:
      spec:
        params: [{name: x}]
        resourcetemplates: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {x: $(tt.params.x)}}]
"#,
    );
    let fake = Fake::new()
        .with("a", |_| {
            Ok(Response::proceed_with(ext(
                json!({"x": {"old": 1}, "y": "Y"}),
            )))
        })
        .with("b", |_| {
            Ok(Response::proceed_with(ext(json!({"x": {"new": 2}}))))
        });
    let out = go(&c, "l", &event(&[], "{}"), &fake);
    assert_eq!(created(&out[0])[0]["data"]["x"], "2-Y");
    let calls = fake.calls();
    assert_eq!(calls[1].extensions, ext(json!({"x": {"old": 1}, "y": "Y"})));
    assert!(calls[1].namespaced);
    assert_eq!(created(&out[0])[0]["metadata"]["namespace"], "default");
}

const E7_FILES: &str = r#"
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: gh-listener, namespace: ci}
spec:
  triggerGroups:
  - name: prs
    interceptors:
    - ref: {name: cel}
      params:
      - {name: filter, value: "header.match('x-github-event', 'pull_request')"}
      - {name: overlays, value: [{key: sha7, expression: "body.pull_request.head.sha.truncate(7)"}]}
    triggerSelector: {labelSelector: {matchLabels: {team: web}}}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: web-lint, namespace: ci, labels: {team: web}}
spec:
  interceptors: [{ref: {name: own}}]
  bindings: [{name: sha, value: $(extensions.sha7)}, {name: ev, value: $(header.X-GitHub-Event)}, {name: body, value: $(body.changed)}]
  template: {ref: run}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: web-test, namespace: ci, labels: {team: web}}
spec:
  bindings: [{name: sha, value: $(extensions.sha7)}, {name: ev, value: $(header.X-GitHub-Event)}, {name: body, value: $(body.changed)}]
  template: {ref: run}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata: {name: api-test, namespace: ci, labels: {team: api}}
spec:
  template: {ref: run}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: run, namespace: ci}
spec:
  params: [{name: sha}, {name: ev}, {name: body, default: original}]
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: PipelineRun
    metadata: {generateName: $(tt.params.sha)-}
    spec: {pipelineRef: {name: p}, params: [{name: ev, value: $(tt.params.ev)}, {name: body, value: $(tt.params.body)}]}
"#;

/// Spec §7 E7 and C12: group extensions and headers reach the selected triggers; the
/// group's body changes do not; a failed group filter runs nothing.
#[test]
fn e7_trigger_group_shares_an_extension() {
    let c = catalog(E7_FILES);
    let fake = Fake::new()
        .with("cel", |r| {
            if r.header.first("X-Github-Event") == Some("pull_request") {
                Ok(Response::proceed_with(ext(json!({"sha7": "28911bb"}))))
            } else {
                Ok(Response::stop(
                    Code::FailedPrecondition,
                    "expression header.match('x-github-event', 'pull_request') did not return true",
                ))
            }
        })
        .with("own", |r| {
            assert_eq!(r.extensions.get("sha7"), Some(&json!("28911bb")));
            Ok(Response::proceed())
        });
    let body = r#"{"pull_request":{"head":{"sha":"28911bbb5aaa"}}}"#;
    let out = go(
        &c,
        "gh-listener",
        &event(&[("X-GitHub-Event", "pull_request")], body),
        &fake,
    );
    assert_eq!(out.len(), 2);
    for (o, name) in out.iter().zip(["web-lint", "web-test"]) {
        assert_eq!(o.name, name);
        assert_eq!(o.group.as_deref(), Some("prs"));
        let obj = &created(o)[0];
        assert!(obj["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("28911bb-"));
        assert_eq!(
            obj["metadata"]["labels"]["triggers.tekton.dev/trigger"],
            name
        );
        assert_eq!(
            obj["metadata"]["labels"]["triggers.tekton.dev/triggers-eventid"],
            "E"
        );
        assert_eq!(obj["spec"]["params"][0]["value"], "pull_request");
        assert_eq!(obj["spec"]["params"][1]["value"], "original");
    }
    assert_eq!(
        fake.calls()[0].trigger_id,
        "namespaces/ci/triggerGroups/prs"
    );
    assert_eq!(
        fake.calls()[1].trigger_id,
        "namespaces/ci/triggers/web-lint"
    );
    let out = go(
        &c,
        "gh-listener",
        &event(&[("X-GitHub-Event", "push")], body),
        &fake,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name, "prs");
    assert!(matches!(out[0].result, TriggerResult::Rejected { .. }));
}

/// C06: a missing listener and an inline trigger without template or ref are request
/// errors; a missing triggerRef is skipped and recorded. C08: a trigger reached twice runs twice.
#[test]
fn listener_errors_skips_and_duplicates() {
    let c = catalog(E7_FILES);
    let fake = Fake::new();
    let e = event(&[], "{}");
    assert_eq!(
        process(&c, "nope", &e, &fake, &mut SequentialIds::default()),
        Err(RequestError::ListenerNotFound("nope".into()))
    );
    let (c, d) = catalog_with_diagnostics(
        &(E7_FILES.to_string()
            + "---\napiVersion: triggers.tekton.dev/v1beta1\nkind: EventListener\nmetadata: {name: refs, namespace: ci}\nspec:\n  labelSelector: {matchLabels: {team: api}}\n  triggers:\n  - triggerRef: api-test\n  - triggerRef: gone\n"),
    );
    assert_eq!(
        d[0].message,
        "Trigger \"gone\" not found in namespace \"ci\""
    );
    let out = go(&c, "refs", &e, &fake);
    let names: Vec<_> = out.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["api-test", "api-test", "gone"]);
    assert!(
        matches!(&out[2].result, TriggerResult::Skipped { message } if message.contains("\"gone\" not found"))
    );
    let mut plain = Catalog::default();
    let mut bad = c.listener("refs").unwrap().clone();
    bad.object.spec.triggers = vec![Default::default()];
    plain.listeners.push(bad);
    assert_eq!(
        plan(&plain, "refs"),
        Err(RequestError::InlineTriggerWithoutTemplate(0))
    );
}

const BINDINGS: &str = r#"
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerBinding
metadata: {name: b1}
spec:
  params: [{name: a, value: $(body.a)}, {name: shared, value: one}]
---
apiVersion: triggers.tekton.dev/v1beta1
kind: ClusterTriggerBinding
metadata: {name: cb}
spec:
  params: [{name: c, value: $(body.c)}]
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata: {name: t, annotations: {triggers.tekton.dev/old-escape-quotes: ""}}
spec:
  params: [{name: a}, {name: c}, {name: shared}, {name: unbound}, {name: d, default: dflt}]
  resourcetemplates:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: x}, data: {a: $(tt.params.a), c: $(tt.params.c), u: $(tt.params.unbound), d: $(tt.params.d), s: $(tt.params.shared)}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: y}, data: {broken: $(tt.params.a)}}
---
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: l}
spec:
  triggers:
  - name: ok
    serviceAccountName: bot
    bindings: [{ref: b1}, {ref: cb, kind: ClusterTriggerBinding}]
    template: {ref: t}
  - name: dup
    bindings: [{ref: b1}, {name: shared, value: two}]
    template: {ref: t}
"#;

/// C27–C30, C34: bindings by ref and cluster ref, defaults, literal unsupplied
/// placeholders, duplicate names, old-escape-quotes, impersonation.
#[test]
fn bindings_defaults_and_duplicates() {
    let c = catalog(BINDINGS);
    let out = go(
        &c,
        "l",
        &event(&[], r#"{"a":{"k":"v"},"c":3}"#),
        &Fake::new(),
    );
    let TriggerResult::Created {
        objects,
        impersonate,
    } = &out[0].result
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        impersonate.as_deref(),
        Some("system:serviceaccount:default:bot")
    );
    // old-escape-quotes: an object param lands as a string.
    assert_eq!(
        objects[0]["data"],
        json!({"a": "{\"k\":\"v\"}", "c": "3", "u": "$(tt.params.unbound)", "d": "dflt", "s": "one"})
    );
    assert_eq!(objects.len(), 2);
    let TriggerResult::Failed { stage, message, .. } = &out[1].result else {
        panic!("{out:?}")
    };
    assert_eq!(*stage, Stage::Binding);
    assert_eq!(
        message,
        "param name \"shared\" is bound more than once in the trigger's bindings"
    );
    let out = go(&c, "l", &event(&[], r#"{"c":3}"#), &Fake::new());
    let TriggerResult::Failed { message, .. } = &out[0].result else {
        panic!("{out:?}")
    };
    assert_eq!(
        message,
        "failed to ApplyEventValuesToParams: failed to replace JSONPath value for param a: $(body.a): a is not found"
    );
    let out = go(&c, "l", &event(&[], "[1"), &Fake::new());
    assert!(
        matches!(
            &out[0].result,
            TriggerResult::Failed {
                stage: Stage::Event,
                ..
            }
        ),
        "{out:?}"
    );
}

/// E5's array-in-a-string: the failing template stops, earlier objects are kept.
#[test]
fn render_failure_keeps_earlier_objects() {
    let text = BINDINGS
        .replace("triggers.tekton.dev/old-escape-quotes: \"\"", "x: y")
        .replace(
            "data: {broken: $(tt.params.a)}",
            "data: {broken: $(tt.params.c)}",
        );
    let c = catalog(&text.replace("$(body.c)", "$(body.list)"));
    let out = go(
        &c,
        "l",
        &event(&[], r#"{"a":"x","list":["p","q"]}"#),
        &Fake::new(),
    );
    let TriggerResult::Failed {
        stage,
        objects,
        message,
    } = &out[0].result
    else {
        panic!("{out:?}")
    };
    assert_eq!(*stage, Stage::Render);
    assert!(
        message.starts_with("resource template 0 is not valid JSON"),
        "{message}"
    );
    assert!(objects.is_empty());
}

/// C14: the form pre-step runs for non-empty chains only.
#[test]
fn form_bodies_become_json_for_interceptors() {
    let c = catalog(
        r#"
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: l}
spec:
  triggers:
  - name: chained
    interceptors: [{ref: {name: a}}]
    bindings: [{name: x, value: "$(body.b[0])"}]
    template: {spec: {params: [{name: x}], resourcetemplates: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {x: $(tt.params.x)}}]}}
  - name: bare
    bindings: [{name: x, value: "$(body.b[0])"}]
    template: {spec: {params: [{name: x, default: raw}], resourcetemplates: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {x: $(tt.params.x)}}]}}
"#,
    );
    let fake = Fake::new().with("a", |_| Ok(Response::proceed()));
    let e = event(
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "a=1&b=2",
    );
    let out = go(&c, "l", &e, &fake);
    assert_eq!(fake.calls()[0].body, r#"{"a":["1"],"b":["2"]}"#);
    assert_eq!(created(&out[0])[0]["data"]["x"], "2");
    // No chain: the raw form body is not JSON, so the trigger fails reading it.
    assert!(
        matches!(
            &out[1].result,
            TriggerResult::Failed {
                stage: Stage::Event,
                ..
            }
        ),
        "{out:?}"
    );
}

/// The legacy webhook interceptor is refused with a clear outcome.
#[test]
fn legacy_webhook_is_not_supported_yet() {
    let c = catalog(
        r#"
apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata: {name: l}
spec:
  triggers:
  - name: w
    interceptors: [{webhook: {objectRef: {kind: Service, apiVersion: v1, name: svc}}}]
    template: {spec: {resourcetemplates: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}]}}
"#,
    );
    let out = go(&c, "l", &event(&[], "{}"), &Fake::new());
    let TriggerResult::Failed { stage, message, .. } = &out[0].result else {
        panic!("{out:?}")
    };
    assert_eq!(*stage, Stage::Interceptor);
    assert!(
        message.contains("legacy webhook interceptor is not supported yet"),
        "{message}"
    );
}

/// The server moves plans and work items into its tasks.
#[test]
fn plans_can_move_to_other_threads() {
    fn owned_and_sendable<T: Send + Sync + 'static>() {}
    owned_and_sendable::<Plan>();
    owned_and_sendable::<Work>();
    owned_and_sendable::<TriggerOutcome>();
    owned_and_sendable::<Catalog>();
}

#[test]
fn stage_names_match_their_serialisation() {
    for stage in [
        Stage::Event,
        Stage::Interceptor,
        Stage::Binding,
        Stage::Template,
        Stage::Render,
    ] {
        assert_eq!(
            serde_json::to_value(stage).unwrap(),
            json!(stage.to_string())
        );
    }
}
