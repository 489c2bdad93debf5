//! A registry that requires a login (the reference registry's htpasswd backend, HTTP basic
//! authentication): the `secret` param names a `kubernetes.io/dockerconfigjson` Secret among
//! the documents given, whose credentials for that registry are sent; without one, or with a
//! wrong password, the reference fails and says why.

use super::registry::{Registry, HASH, PASSWORD, USER};
use super::{adze, greeting_task};

/// A docker config Secret named `name` with `password` for `registry`.
fn docker_secret(name: &str, registry: &str, password: &str) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let auth = engine.encode(format!("{USER}:{password}"));
    let config = format!(r#"{{"auths":{{"{registry}":{{"auth":"{auth}"}}}}}}"#);
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: \
         kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
        engine.encode(config)
    )
}

/// A TaskRun named `name` taking `hello` from the bundle, with `secret` when given.
fn task_run(name: &str, host: &str, secret: Option<&str>) -> String {
    let mut yaml = format!(
        "---\napiVersion: tekton.dev/v1\nkind: TaskRun\nmetadata:\n  name: {name}\nspec:\n  \
         taskRef:\n    resolver: bundles\n    params:\n    - {{name: bundle, value: \
         \"{host}/private/catalog:v1\"}}\n    - {{name: name, value: hello}}\n"
    );
    if let Some(secret) = secret {
        yaml.push_str(&format!("    - {{name: secret, value: {secret}}}\n"));
    }
    yaml
}

#[test]
fn a_registry_login_comes_from_the_docker_config_secret_the_reference_names() {
    let registry = Registry::start_with_login(USER, PASSWORD, HASH);
    let host = registry.host();
    registry.push_bundle(
        "private/catalog",
        "v1",
        &[(
            "task",
            "hello",
            &greeting_task("hello", "from-a-private-bundle"),
        )],
    );
    let dir = tempfile::tempdir().unwrap();

    let good = format!(
        "{}{}",
        docker_secret("registry-login", &host, PASSWORD),
        task_run("with-login", &host, Some("registry-login"))
    );
    let plan = adze(dir.path(), "plan", &good, &[]);
    assert_eq!(plan.code, Some(0), "plan failed:\n{}", plan.stderr);
    assert!(
        plan.stdout.contains("echo from-a-private-bundle"),
        "the Task came from the private bundle:\n{}",
        plan.stdout
    );

    let bad = format!(
        "{}{}{}",
        docker_secret("wrong-login", &host, "not-the-password"),
        task_run("without-login", &host, None),
        task_run("with-a-wrong-login", &host, Some("wrong-login")),
    );
    let out = adze(dir.path(), "validate", &bad, &[]);
    assert_eq!(out.code, Some(2), "validate must fail:\n{}", out.stderr);
    let shown = format!("{}{}", out.stdout, out.stderr)
        .replace(&host, "[registry]")
        .replace(&dir.path().display().to_string(), "[dir]");
    insta::assert_snapshot!("registry_login_failures", shown);
}
