//! Registry logins for the engine's pulls and `adze doctor`'s registry check: the
//! credentials `docker pull` would send, read from the Docker CLI's configuration, so a user
//! who ran `docker login` pulls private images through adze as through the CLI.
//!
//! # Design
//!
//! - The configuration is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`
//!   ([`RegistryAuth::from_environment`]). It is read on the first lookup, not before, so a
//!   run that pulls nothing never reads it; [`config_file`] parses it and matches registries.
//! - For an image's registry (Docker Hub under [`config_file::DOCKER_HUB_KEY`], any other
//!   under `host[:port]`), the helper named in `credHelpers`, else `credsStore`, is asked
//!   ([`helper`]); without one, the `auths` entry is used. That is the CLI's order: a
//!   configured helper is the only source for its registries.
//! - What a registry resolved to is kept for the life of the process: a TaskRun pulling
//!   several images of one registry, or a pipeline of many TaskRuns, runs the helper once.
//! - Every secret found is added to the run's masker, when there is one, before it is used.
//!
//! # Invariants
//!
//! - A secret never appears in a message: errors and warnings name registries, helpers,
//!   keys and positions in the file only, and [`Credentials`]' `Debug` hides them.
//! - Nothing here fails a run: a missing file means anonymous pulls, a malformed file or a
//!   failing helper a warning (once per process, once per registry) and an anonymous pull.
//!
//! # Not yet
//!
//! - `DOCKER_AUTH_CONFIG` (a configuration in the environment, newer CLIs) and the legacy
//!   `~/.dockercfg`.
//! - Credentials for the plain-HTTP manifest probe of
//!   [`served_digest`](super::served_digest): against a registry that requires a login it
//!   finds nothing and the failure carries the engine's words only.

pub mod config_file;
mod helper;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bollard::auth::DockerCredentials;

use self::config_file::{registry_key, DockerConfig, DOCKER_HUB_KEY};
use crate::mask::Masker;

/// A registry's login, as the engine is given it (`X-Registry-Auth`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The registry key it is for (`host[:port]`, or Docker Hub's key).
    pub server: String,
    /// The user name.
    pub username: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// An identity (refresh) token.
    pub identity_token: Option<String>,
    /// A registry bearer token.
    pub registry_token: Option<String>,
    /// The e-mail address older configurations hold.
    pub email: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The engine's form.
    pub fn to_docker(&self) -> DockerCredentials {
        DockerCredentials {
            username: self.username.clone(),
            password: self.password.clone(),
            auth: None,
            email: self.email.clone(),
            serveraddress: Some(self.server.clone()),
            identitytoken: self.identity_token.clone(),
            registrytoken: self.registry_token.clone(),
        }
    }

    /// The secrets it holds.
    fn secrets(&self) -> impl Iterator<Item = &str> {
        [&self.password, &self.identity_token, &self.registry_token]
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

/// What a registry resolved to.
#[derive(Debug, Clone, Default)]
struct Found {
    credentials: Option<Credentials>,
    /// Where they came from, for messages.
    source: Option<String>,
}

/// The credentials for one registry, where they came from, and what to tell the user.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The registry key (`host[:port]`, or Docker Hub's key).
    pub registry: String,
    /// The login to send; `None`: pull anonymously.
    pub credentials: Option<Credentials>,
    /// Where the login came from: the config file or a credential helper.
    pub source: Option<String>,
    /// Problems met on the way (malformed file, failing helper), to show as warnings.
    pub warnings: Vec<String>,
    /// The config file consulted, for hints.
    config: String,
}

impl Lookup {
    /// The engine's form of the login, if any.
    pub fn docker_credentials(&self) -> Option<DockerCredentials> {
        self.credentials.as_ref().map(Credentials::to_docker)
    }

    /// `Docker Hub` or the registry's `host[:port]`.
    pub fn registry_name(&self) -> &str {
        if self.registry == DOCKER_HUB_KEY {
            "Docker Hub"
        } else {
            &self.registry
        }
    }

    /// The command that logs in to the registry.
    pub fn login_command(&self) -> String {
        if self.registry == DOCKER_HUB_KEY {
            "docker login".to_owned()
        } else {
            format!("docker login {}", self.registry)
        }
    }

    /// What to do about a pull that failed with `message`, when the registry wants a login
    /// or refused the one sent; `None` for other failures.
    pub fn hint(&self, message: &str) -> Option<String> {
        if !config_file::is_auth_failure(message) {
            return None;
        }
        Some(match &self.source {
            Some(source) => format!(
                "the registry refused the login for {} from {source}: log in again with `{}`",
                self.registry_name(),
                self.login_command()
            ),
            None => format!(
                "there is no login for {} in {}: log in with `{}` (adze pulls with the Docker \
                 CLI's logins; DOCKER_CONFIG chooses another configuration directory)",
                self.registry_name(),
                self.config,
                self.login_command()
            ),
        })
    }
}

/// The Docker CLI's registry logins, read once and shared by every pull of a process.
pub struct RegistryAuth {
    /// The configuration file; `None` when neither `DOCKER_CONFIG` nor `HOME` says where.
    path: Option<PathBuf>,
    /// The file's logins and what was wrong with it, once read.
    config: OnceLock<(DockerConfig, Vec<String>)>,
    /// Set once the file's problems were handed out.
    config_warned: AtomicBool,
    /// What each registry key resolved to.
    found: Mutex<HashMap<String, Found>>,
    /// Where secrets go so nothing prints them.
    masker: Option<Arc<Masker>>,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Default for RegistryAuth {
    fn default() -> RegistryAuth {
        RegistryAuth::from_environment()
    }
}

impl RegistryAuth {
    /// The file the Docker CLI reads: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`.
    pub fn from_environment() -> RegistryAuth {
        let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
            Some(dir) => Some(PathBuf::from(dir)),
            None => std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|home| Path::new(&home).join(".docker")),
        };
        RegistryAuth::from_file(dir.map(|d| d.join("config.json")))
    }

    /// Logins from `path` (`None`: none at all).
    pub fn from_file(path: Option<PathBuf>) -> RegistryAuth {
        RegistryAuth {
            path,
            config: OnceLock::new(),
            config_warned: AtomicBool::new(false),
            found: Mutex::new(HashMap::new()),
            masker: None,
        }
    }

    /// Adds every secret found to `masker` before it is used.
    pub fn masking(mut self, masker: Arc<Masker>) -> RegistryAuth {
        self.masker = Some(masker);
        self
    }

    /// The configuration file, as messages name it.
    fn config_name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "no Docker CLI configuration (neither DOCKER_CONFIG nor HOME is set)".into(),
        }
    }

    /// The file's logins, read on first use.
    fn config(&self) -> &(DockerConfig, Vec<String>) {
        self.config.get_or_init(|| {
            let Some(path) = &self.path else {
                return (DockerConfig::default(), Vec::new());
            };
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return (DockerConfig::default(), Vec::new())
                }
                Err(e) => {
                    return (
                        DockerConfig::default(),
                        vec![format!(
                            "cannot read the Docker CLI configuration {}: {e}; pulling without \
                             registry logins",
                            path.display()
                        )],
                    )
                }
            };
            let (config, errors) = config_file::parse(&text);
            let warnings = errors
                .iter()
                .map(|e| match e {
                    config_file::ConfigError::Syntax { .. } => format!(
                        "the Docker CLI configuration {}:{e}; pulling without registry logins",
                        path.display()
                    ),
                    _ => format!("the Docker CLI configuration {}: {e}", path.display()),
                })
                .collect();
            (config, warnings)
        })
    }

    /// The login for images of `domain` (an image's normalised registry, `docker.io` for
    /// Docker Hub); the file's problems come with the first lookup of the process, a
    /// helper's with the first lookup of its registry.
    pub async fn lookup(&self, domain: &str) -> Lookup {
        let key = registry_key(domain);
        let (config, config_warnings) = self.config();
        let mut warnings = Vec::new();
        if !self.config_warned.swap(true, Ordering::SeqCst) {
            warnings.extend(config_warnings.iter().cloned());
        }
        let cached = self.found.lock().ok().and_then(|f| f.get(&key).cloned());
        let found = match cached {
            Some(found) => found,
            None => {
                let found = self.resolve(config, &key, &mut warnings).await;
                self.mask(&found, &mut warnings);
                if let Ok(mut all) = self.found.lock() {
                    all.insert(key.clone(), found.clone());
                }
                found
            }
        };
        Lookup {
            registry: key,
            credentials: found.credentials,
            source: found.source,
            warnings,
            config: self.config_name(),
        }
    }

    /// Asks the registry's helper, or reads its `auths` entry.
    async fn resolve(&self, config: &DockerConfig, key: &str, warnings: &mut Vec<String>) -> Found {
        let name = if key == DOCKER_HUB_KEY {
            "Docker Hub"
        } else {
            key
        };
        if let Some(name_of_helper) = config.helper_for(key) {
            return match helper::get(name_of_helper, key).await {
                Ok(Some(login)) => Found {
                    credentials: Some(Credentials {
                        server: key.to_owned(),
                        username: login.username,
                        password: login.password,
                        identity_token: login.identity_token,
                        registry_token: None,
                        email: None,
                    }),
                    source: Some(format!(
                        "the credential helper {}",
                        helper::program(name_of_helper)
                    )),
                },
                Ok(None) => Found::default(),
                Err(e) => {
                    warnings.push(format!(
                        "{e}; {} names it for {name} in {}: pulling from {name} without a login",
                        if config.cred_helpers.contains_key(key) {
                            "credHelpers"
                        } else {
                            "credsStore"
                        },
                        self.config_name()
                    ));
                    Found::default()
                }
            };
        }
        match config.entry_for(key) {
            Some(entry) if entry.has_secret() => Found {
                credentials: Some(Credentials {
                    server: key.to_owned(),
                    username: entry.username.clone(),
                    password: entry.password.clone(),
                    identity_token: entry.identity_token.clone(),
                    registry_token: entry.registry_token.clone(),
                    email: entry.email.clone(),
                }),
                source: Some(self.config_name()),
            },
            _ => Found::default(),
        }
    }

    /// Adds the secrets of `found` to the masker; one too short to mask is said, never shown.
    fn mask(&self, found: &Found, warnings: &mut Vec<String>) {
        let (Some(masker), Some(credentials)) = (&self.masker, &found.credentials) else {
            return;
        };
        for secret in credentials.secrets() {
            if let Err(e) = masker.add(secret) {
                warnings.push(format!(
                    "the registry login for {} from {}: {e}",
                    credentials.server,
                    found.source.as_deref().unwrap_or("the configuration")
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn logins_come_from_the_file_and_secrets_reach_the_masker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths": {"127.0.0.1:5000": {"auth": "YWR6ZTpidW5kbGUtcGFzcw=="},
                "https://index.docker.io/v1/": {"username": "hub", "password": "hub-pass"}}}"#,
        )
        .unwrap();
        let masker = Arc::new(Masker::new());
        let auth = RegistryAuth::from_file(Some(path.clone())).masking(masker.clone());
        let local = auth.lookup("127.0.0.1:5000").await;
        assert_eq!(local.warnings, Vec::<String>::new());
        let sent = local.docker_credentials().unwrap();
        assert_eq!(sent.username.as_deref(), Some("adze"));
        assert_eq!(sent.password.as_deref(), Some("bundle-pass"));
        assert_eq!(sent.serveraddress.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(local.source.as_deref(), Some(path.to_str().unwrap()));
        assert_eq!(masker.mask("pw=bundle-pass"), "pw=***");
        assert!(!format!("{local:?}").contains("bundle-pass"));
        let hub = auth.lookup("docker.io").await;
        assert_eq!(hub.registry, DOCKER_HUB_KEY);
        assert_eq!(hub.login_command(), "docker login");
        assert_eq!(
            hub.hint("unauthorized: incorrect username or password")
                .unwrap(),
            "the registry refused the login for Docker Hub from {}: log in again with \
             `docker login`"
                .replace("{}", path.to_str().unwrap())
        );
        let none = auth.lookup("ghcr.io").await;
        assert!(none.credentials.is_none());
        assert_eq!(none.hint("manifest unknown"), None);
        assert_eq!(
            none.hint("denied").unwrap(),
            format!(
                "there is no login for ghcr.io in {}: log in with `docker login ghcr.io` (adze \
                 pulls with the Docker CLI's logins; DOCKER_CONFIG chooses another \
                 configuration directory)",
                path.display()
            )
        );
    }

    #[tokio::test]
    async fn a_malformed_file_warns_once_and_pulls_anonymously() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            "{\n\t\"auths\": {\n\t\t\"h\": {\"auth\": \"x\"},\n}\n",
        )
        .unwrap();
        let auth = RegistryAuth::from_file(Some(path.clone()));
        let first = auth.lookup("h").await;
        assert!(first.credentials.is_none());
        assert_eq!(first.warnings.len(), 1, "{:?}", first.warnings);
        let prefix = format!(
            "the Docker CLI configuration {}:4:1: not valid JSON: ",
            path.display()
        );
        assert!(
            first.warnings[0].starts_with(&prefix),
            "{:?}",
            first.warnings
        );
        assert!(
            first.warnings[0].ends_with("; pulling without registry logins"),
            "{:?}",
            first.warnings
        );
        assert_eq!(auth.lookup("h").await.warnings, Vec::<String>::new());
        // No file at all: anonymous, nothing to say.
        let absent = RegistryAuth::from_file(Some(dir.path().join("nothing.json")));
        assert!(absent.lookup("h").await.warnings.is_empty());
    }

    #[tokio::test]
    async fn a_helper_that_is_not_installed_is_named_in_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths": {"r.example": {"username": "u", "password": "from-the-file"}},
                "credHelpers": {"r.example": "adze-test-never-installed"}}"#,
        )
        .unwrap();
        let auth = RegistryAuth::from_file(Some(path.clone()));
        let lookup = auth.lookup("r.example").await;
        // A configured helper is the only source, as for the CLI.
        assert!(lookup.credentials.is_none());
        assert_eq!(
            lookup.warnings,
            [format!(
                "the credential helper docker-credential-adze-test-never-installed is not \
                 installed (not found on the PATH); credHelpers names it for r.example in {}: \
                 pulling from r.example without a login",
                path.display()
            )]
        );
        // Once per registry.
        assert!(auth.lookup("r.example").await.warnings.is_empty());
    }
}
