//! The Docker CLI's `config.json` as far as registry logins go: `auths`, `credsStore` and
//! `credHelpers`, and which entry or helper serves a registry, as the CLI chooses them.
//!
//! # Design
//!
//! The text is read into a JSON value first and interpreted by hand: a value of the wrong
//! type is reported by its place in the file (`auths."host".auth`) and never quoted, since
//! serde's own messages quote the offending value, which here may be a password. A broken
//! entry is left out with an error; the others still serve.
//!
//! # Invariants
//!
//! - No error message carries a value of the file, only keys and positions.
//! - Registries are keyed as the CLI keys them: Docker Hub as [`DOCKER_HUB_KEY`], every
//!   other registry as `host[:port]`; an `auths` key is matched exactly first, then by its
//!   host (scheme and path dropped), as the CLI's file store does for older files.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

/// The key the Docker CLI files Docker Hub's login under (`docker login` with no server).
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// What a credential helper returns in `Username` to say its secret is an identity token.
pub const TOKEN_USERNAME: &str = "<token>";

/// One `auths` entry, decoded.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AuthEntry {
    /// The user name.
    pub username: Option<String>,
    /// The password (from `auth` or `password`).
    pub password: Option<String>,
    /// An OAuth refresh token the registry issued (`identitytoken`).
    pub identity_token: Option<String>,
    /// A bearer token sent to the registry as is (`registrytoken`).
    pub registry_token: Option<String>,
    /// The e-mail address older CLIs stored.
    pub email: Option<String>,
}

impl std::fmt::Debug for AuthEntry {
    // Secrets are shown by presence only: a Debug print must not leak them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| v.as_ref().map(|_| "<set>");
        f.debug_struct("AuthEntry")
            .field("username", &self.username)
            .field("password", &shown(&self.password))
            .field("identity_token", &shown(&self.identity_token))
            .field("registry_token", &shown(&self.registry_token))
            .field("email", &self.email)
            .finish()
    }
}

impl AuthEntry {
    /// True when the entry holds something to log in with (the CLI writes `{}` entries for
    /// registries whose secret a credential store keeps).
    pub fn has_secret(&self) -> bool {
        self.password.is_some() || self.identity_token.is_some() || self.registry_token.is_some()
    }
}

/// The parts of `config.json` about registry logins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerConfig {
    /// `auths`, in file order.
    pub auths: Vec<(String, AuthEntry)>,
    /// `credsStore`: the helper for every registry without its own.
    pub creds_store: Option<String>,
    /// `credHelpers`: a helper per registry key.
    pub cred_helpers: BTreeMap<String, String>,
}

/// Why (part of) a config file cannot be used. Never carries a value of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON.
    #[error("{line}:{column}: not valid JSON: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON reader expected.
        message: String,
    },
    /// A key holds another type than the CLI's.
    #[error("{at} must be {expected}; it is left out")]
    Shape {
        /// Where, as a path of keys (`auths."host".auth`).
        at: String,
        /// What it must be.
        expected: &'static str,
    },
    /// An `auth` value that is not base64 of `user:password`.
    #[error("auths.{key:?}.auth is not base64 of `user:password` ({why}); the entry is left out")]
    Auth {
        /// The registry key of the entry.
        key: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// Reads a config file's text: the logins it holds, and what had to be left out. A file
/// that is not JSON holds nothing.
pub fn parse(text: &str) -> (DockerConfig, Vec<ConfigError>) {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return (DockerConfig::default(), vec![syntax(&e)]),
    };
    let mut errors = Vec::new();
    let mut config = DockerConfig::default();
    let Value::Object(top) = value else {
        errors.push(ConfigError::Shape {
            at: "the file".into(),
            expected: "a JSON object",
        });
        return (config, errors);
    };
    match top.get("auths") {
        None | Some(Value::Null) => {}
        Some(Value::Object(auths)) => {
            for (key, entry) in auths {
                match auth_entry(key, entry) {
                    Ok(entry) => config.auths.push((key.clone(), entry)),
                    Err(e) => errors.push(e),
                }
            }
        }
        Some(_) => errors.push(ConfigError::Shape {
            at: "auths".into(),
            expected: "an object of registries",
        }),
    }
    match top.get("credsStore") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(Value::String(s)) => config.creds_store = Some(s.clone()),
        Some(_) => errors.push(ConfigError::Shape {
            at: "credsStore".into(),
            expected: "a string (a helper's name)",
        }),
    }
    match top.get("credHelpers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(helpers)) => {
            for (key, helper) in helpers {
                match helper.as_str() {
                    Some(h) if !h.is_empty() => {
                        config.cred_helpers.insert(key.clone(), h.to_owned());
                    }
                    _ => errors.push(ConfigError::Shape {
                        at: format!("credHelpers.{key:?}"),
                        expected: "a helper's name",
                    }),
                }
            }
        }
        Some(_) => errors.push(ConfigError::Shape {
            at: "credHelpers".into(),
            expected: "an object of registries",
        }),
    }
    (config, errors)
}

/// A syntax error with its position, without serde's own " at line L column C".
fn syntax(e: &serde_json::Error) -> ConfigError {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    ConfigError::Syntax {
        line: e.line(),
        // serde_json counts the position just after a line break as column 0.
        column: e.column().max(1),
        message,
    }
}

/// One `auths` entry: `auth` (base64 of `user:password`) wins over `username`/`password`,
/// as the CLI decodes it.
fn auth_entry(key: &str, value: &Value) -> Result<AuthEntry, ConfigError> {
    let Value::Object(fields) = value else {
        return Err(ConfigError::Shape {
            at: format!("auths.{key:?}"),
            expected: "an object",
        });
    };
    let text = |name: &str| -> Result<Option<String>, ConfigError> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ConfigError::Shape {
                at: format!("auths.{key:?}.{name}"),
                expected: "a string",
            }),
        }
    };
    let mut entry = AuthEntry {
        username: text("username")?,
        password: text("password")?,
        identity_token: text("identitytoken")?,
        registry_token: text("registrytoken")?,
        email: text("email")?,
    };
    if let Some(auth) = text("auth")? {
        let (user, password) = decode_auth(&auth).map_err(|why| ConfigError::Auth {
            key: key.to_owned(),
            why,
        })?;
        entry.username = Some(user);
        entry.password = Some(password);
    }
    Ok(entry)
}

/// `user:password` out of an `auth` value.
fn decode_auth(auth: &str) -> Result<(String, String), &'static str> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|_| "not base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text")?;
    let (user, password) = text.split_once(':').ok_or("no `:` after the user name")?;
    // The CLI trims the NUL padding some tools leave after the password.
    Ok((user.to_owned(), password.trim_matches('\0').to_owned()))
}

/// The key the CLI files a registry under: [`DOCKER_HUB_KEY`] for Docker Hub, the
/// `host[:port]` for any other. `domain` is an image's normalised domain (`docker.io`).
pub fn registry_key(domain: &str) -> String {
    match domain {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_KEY.to_owned(),
        other => other.to_owned(),
    }
}

/// The host part of an `auths` key: scheme and path dropped (`https://h:5000/v1/` is
/// `h:5000`), as the CLI compares keys written by older versions.
pub fn key_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

impl DockerConfig {
    /// The helper that keeps `key`'s login: its own in `credHelpers`, else `credsStore`.
    pub fn helper_for(&self, key: &str) -> Option<&str> {
        self.cred_helpers
            .get(key)
            .or(self.creds_store.as_ref())
            .map(String::as_str)
    }

    /// The `auths` entry for `key`: the exact key, else the first whose host is `key`.
    pub fn entry_for(&self, key: &str) -> Option<&AuthEntry> {
        self.auths
            .iter()
            .find(|(k, _)| k == key)
            .or_else(|| self.auths.iter().find(|(k, _)| key_host(k) == key))
            .map(|(_, e)| e)
    }
}

/// True when an engine's pull error says the registry wants a login or refused one.
pub fn is_auth_failure(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    [
        "unauthorized",
        "authentication required",
        "no basic auth credentials",
        "denied",
        "docker login",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn auth_entries_decode_as_the_cli_decodes_them() {
        let text = format!(
            r#"{{
	"auths": {{
		"https://index.docker.io/v1/": {{"auth": "{}"}},
		"registry.example:5000": {{"username": "u", "password": "p@ss:word"}},
		"https://old.example/v1/": {{"auth": "{}", "email": "me@example"}},
		"token.example": {{"identitytoken": "refresh-token"}},
		"keychain.example": {{}}
	}},
	"credsStore": "desktop",
	"credHelpers": {{"gcr.io": "gcloud"}}
}}"#,
            b64("hubuser:hub:pass"),
            b64("old:secret\0\0")
        );
        let (config, errors) = parse(&text);
        assert_eq!(errors, []);
        let hub = config.entry_for(DOCKER_HUB_KEY).unwrap();
        // Split at the first `:`: the password may hold more.
        assert_eq!(hub.username.as_deref(), Some("hubuser"));
        assert_eq!(hub.password.as_deref(), Some("hub:pass"));
        let plain = config.entry_for("registry.example:5000").unwrap();
        assert_eq!(plain.password.as_deref(), Some("p@ss:word"));
        // Found by its host; NUL padding trimmed.
        let old = config.entry_for("old.example").unwrap();
        assert_eq!(old.password.as_deref(), Some("secret"));
        assert_eq!(old.email.as_deref(), Some("me@example"));
        let token = config.entry_for("token.example").unwrap();
        assert_eq!(token.identity_token.as_deref(), Some("refresh-token"));
        assert!(token.has_secret());
        assert!(!config.entry_for("keychain.example").unwrap().has_secret());
        assert_eq!(config.entry_for("elsewhere.example"), None);
        assert_eq!(config.helper_for("gcr.io"), Some("gcloud"));
        assert_eq!(config.helper_for("registry.example:5000"), Some("desktop"));
    }

    #[test]
    fn docker_hub_and_other_registries_are_keyed_as_the_cli_keys_them() {
        assert_eq!(registry_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(registry_key("index.docker.io"), DOCKER_HUB_KEY);
        assert_eq!(registry_key("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(registry_key("ghcr.io"), "ghcr.io");
        assert_eq!(key_host("https://h.example:5000/v1/"), "h.example:5000");
        assert_eq!(key_host("http://h.example"), "h.example");
        assert_eq!(key_host("h.example:5000"), "h.example:5000");
        // Docker Hub is found by its exact key only: its host is not the key.
        let (config, _) = parse(r#"{"auths": {"index.docker.io": {"auth": "dTpw"}}}"#);
        assert_eq!(config.entry_for(DOCKER_HUB_KEY), None);
        let (config, _) = parse(r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}}}"#);
        assert!(config.entry_for(DOCKER_HUB_KEY).is_some());
        // The exact key wins over an earlier entry of the same host.
        let (config, _) = parse(
            r#"{"auths": {"https://h:1/v1/": {"username": "a", "password": "x"},
                          "h:1": {"username": "b", "password": "y"}}}"#,
        );
        assert_eq!(
            config.entry_for("h:1").unwrap().username.as_deref(),
            Some("b")
        );
    }

    #[test]
    fn a_broken_file_is_reported_by_position_and_never_quotes_a_value() {
        let (config, errors) = parse("{\n  \"auths\": {\n    \"h\": {\"auth\": \"x\"\n  }\n");
        assert_eq!(config, DockerConfig::default());
        assert!(
            matches!(&errors[..], [ConfigError::Syntax { line: 5, .. }]),
            "{errors:?}"
        );
        let secret = "hunter2-secret";
        let text = format!(
            r#"{{"auths": {{"a": "{secret}", "b": {{"password": ["{secret}"]}},
                "c": {{"auth": "{secret}"}}, "d": {{"auth": "{}"}},
                "e": {{"username": "u", "password": "p"}}}},
               "credsStore": 5, "credHelpers": {{"g": ""}}}}"#,
            b64(secret)
        );
        let (config, errors) = parse(&text);
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "auths.\"a\" must be an object; it is left out",
                "auths.\"b\".password must be a string; it is left out",
                "auths.\"c\".auth is not base64 of `user:password` (not base64); the entry is \
                 left out",
                "auths.\"d\".auth is not base64 of `user:password` (no `:` after the user name); \
                 the entry is left out",
                "credsStore must be a string (a helper's name); it is left out",
                "credHelpers.\"g\" must be a helper's name; it is left out",
            ]
        );
        assert!(shown
            .iter()
            .all(|s| !s.contains(secret) && !s.contains(&b64(secret))));
        // The good entry still serves.
        assert_eq!(config.auths.len(), 1);
        assert_eq!(
            config.entry_for("e").unwrap().password.as_deref(),
            Some("p")
        );
        assert!(!format!("{config:?}").contains("\"p\""), "{config:?}");
    }

    #[test]
    fn login_failures_are_told_from_other_pull_errors() {
        for failure in [
            "Head \"http://127.0.0.1:5000/v2/x/manifests/v1\": no basic auth credentials",
            "unauthorized: authentication required",
            "pull access denied for x, repository does not exist or may require 'docker login'",
            "denied: requested access to the resource is denied",
        ] {
            assert!(is_auth_failure(failure), "{failure}");
        }
        for other in [
            "manifest for x:v1 not found: manifest unknown: manifest unknown",
            "Get \"https://r.example/v2/\": dial tcp: lookup r.example: no such host",
        ] {
            assert!(!is_auth_failure(other), "{other}");
        }
    }
}
