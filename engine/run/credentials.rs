//! Tekton's credential initialisation: the Secrets of a TaskRun's service account become the
//! files git, ssh and docker read from `$HOME` (spec §4.2 `/tekton/creds`).
//!
//! # Why
//!
//! On a cluster Tekton's `creds-init` turns every Secret of the service account that carries a
//! `tekton.dev/git-*` or `tekton.dev/docker-*` annotation into `~/.ssh/id_<secret>` with an
//! ssh `config` entry, `~/.gitconfig` with `~/.git-credentials`, or `~/.docker/config.json`.
//! Tasks that clone over ssh or push images rely on it. `adze run` reads the ServiceAccount
//! and Secret documents loaded beside the run and produces the same files; the executor
//! places them in the step's home directory.
//!
//! Only Secrets the service account lists are used, so a Task sees exactly the credentials it
//! was given. A service account that is named but not loaded is not an error: Tekton's
//! `default` account usually exists without being written down, and has no secrets here.

use std::collections::BTreeMap;

use super::config_data::{self, ConfigKind};
use super::RunError;
use crate::load::Bundle;

/// The annotation prefix marking a Secret for git (`tekton.dev/git-0: github.com`).
const GIT_ANNOTATION: &str = "tekton.dev/git-";
/// The annotation prefix marking a Secret for a registry.
const DOCKER_ANNOTATION: &str = "tekton.dev/docker-";

/// The credential files for the service account `account`: `(path relative to $HOME, bytes)`.
pub fn credential_files(
    bundle: &Bundle,
    account: &str,
) -> Result<Vec<(String, Vec<u8>)>, RunError> {
    let Some(sa) = bundle
        .resources
        .iter()
        .find(|r| r.kind == "ServiceAccount" && r.name == account)
    else {
        return Ok(Vec::new());
    };
    let secret_names: Vec<&str> = sa
        .value
        .get("secrets")
        .and_then(|s| s.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|s| s.get("name").and_then(|n| n.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let mut ssh_config = String::new();
    let mut known_hosts = Vec::new();
    let mut git_credentials = String::new();
    let mut docker_auths = serde_json::Map::new();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for name in secret_names {
        let Some(secret) = bundle
            .resources
            .iter()
            .find(|r| r.kind == "Secret" && r.name == name)
        else {
            continue;
        };
        let annotations = |prefix: &str| -> Vec<String> {
            secret
                .value
                .pointer("/metadata/annotations")
                .and_then(|a| a.as_object())
                .map(|a| {
                    a.iter()
                        .filter(|(k, _)| k.starts_with(prefix))
                        .filter_map(|(_, v)| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let kind = secret
            .value
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("");
        let data = config_data::entries(bundle, ConfigKind::Secret, name)?.unwrap_or_default();
        let text =
            |key: &str| String::from_utf8_lossy(data.get(key).map_or(&[][..], |v| v)).into_owned();
        for host in annotations(GIT_ANNOTATION) {
            match kind {
                "kubernetes.io/ssh-auth" => {
                    let key_file = format!(".ssh/id_{name}");
                    files.insert(
                        key_file.clone(),
                        data.get("ssh-privatekey").cloned().unwrap_or_default(),
                    );
                    let (hostname, port) = match host.rsplit_once(':') {
                        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => {
                            (h.to_owned(), Some(p.to_owned()))
                        }
                        _ => (host.clone(), None),
                    };
                    ssh_config.push_str(&format!(
                        "Host {hostname}\n    HostName {hostname}\n    IdentityFile ~/{key_file}\n"
                    ));
                    if let Some(p) = port {
                        ssh_config.push_str(&format!("    Port {p}\n"));
                    }
                    if let Some(k) = data.get("known_hosts") {
                        known_hosts.extend_from_slice(k);
                        if !k.ends_with(b"\n") {
                            known_hosts.push(b'\n');
                        }
                    }
                }
                "kubernetes.io/basic-auth" => {
                    let url = if host.contains("://") {
                        host.clone()
                    } else {
                        format!("https://{host}")
                    };
                    let (scheme, rest) = url.split_once("://").unwrap_or(("https", &url));
                    git_credentials.push_str(&format!(
                        "{scheme}://{}:{}@{rest}\n",
                        text("username"),
                        text("password")
                    ));
                }
                _ => {}
            }
        }
        for registry in annotations(DOCKER_ANNOTATION) {
            if kind == "kubernetes.io/basic-auth" {
                let auth =
                    base64_encode(format!("{}:{}", text("username"), text("password")).as_bytes());
                docker_auths.insert(registry, serde_json::json!({ "auth": auth }));
            }
        }
    }
    if !ssh_config.is_empty() {
        files.insert(".ssh/config".into(), ssh_config.into_bytes());
    }
    if !known_hosts.is_empty() {
        files.insert(".ssh/known_hosts".into(), known_hosts);
    }
    if !git_credentials.is_empty() {
        files.insert(
            ".gitconfig".into(),
            b"[credential]\n    helper = store\n".to_vec(),
        );
        files.insert(".git-credentials".into(), git_credentials.into_bytes());
    }
    if !docker_auths.is_empty() {
        let config = serde_json::json!({ "auths": docker_auths });
        files.insert(
            ".docker/config.json".into(),
            config.to_string().into_bytes(),
        );
    }
    Ok(files.into_iter().collect())
}

/// Standard base64 with padding, for docker's `auth` field.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Origin;

    fn bundle(text: &str) -> Bundle {
        let mut b = Bundle::new();
        b.add_source("creds.yaml", text.to_owned(), Origin::Input);
        b
    }

    const SECRETS: &str = r#"
apiVersion: v1
kind: Secret
type: kubernetes.io/ssh-auth
metadata:
  name: deploy-key
  annotations: {tekton.dev/git-0: "github.com:2222"}
stringData: {ssh-privatekey: KEY, known_hosts: "github.com ssh-ed25519 AAAA"}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/basic-auth
metadata:
  name: registry
  annotations: {tekton.dev/docker-0: "https://registry.example", tekton.dev/git-0: "https://git.example"}
stringData: {username: me, password: pw}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/basic-auth
metadata: {name: unlisted, annotations: {tekton.dev/git-0: "https://other.example"}}
stringData: {username: x, password: y}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: builder}
secrets: [{name: deploy-key}, {name: registry}]
"#;

    #[test]
    fn listed_secrets_become_ssh_git_and_docker_files() {
        let files: BTreeMap<String, Vec<u8>> = credential_files(&bundle(SECRETS), "builder")
            .expect("resolves")
            .into_iter()
            .collect();
        let text = |k: &str| String::from_utf8(files[k].clone()).expect("utf-8");
        assert_eq!(text(".ssh/id_deploy-key"), "KEY");
        assert_eq!(
            text(".ssh/config"),
            "Host github.com\n    HostName github.com\n    IdentityFile ~/.ssh/id_deploy-key\n    Port 2222\n"
        );
        assert_eq!(text(".ssh/known_hosts"), "github.com ssh-ed25519 AAAA\n");
        assert_eq!(text(".git-credentials"), "https://me:pw@git.example\n");
        assert!(text(".gitconfig").contains("helper = store"));
        assert_eq!(
            text(".docker/config.json"),
            r#"{"auths":{"https://registry.example":{"auth":"bWU6cHc="}}}"#
        );
        assert!(
            !text(".git-credentials").contains("other.example"),
            "a Secret the account does not list is not used"
        );
    }

    #[test]
    fn an_unknown_service_account_has_no_credentials() {
        assert!(credential_files(&bundle(SECRETS), "default")
            .expect("fine")
            .is_empty());
    }

    #[test]
    fn base64_pads_like_the_standard() {
        assert_eq!(base64_encode(b"me:pw"), "bWU6cHc=");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"abc"), "YWJj");
    }
}
