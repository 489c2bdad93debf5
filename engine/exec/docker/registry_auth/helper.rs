//! Asking a Docker credential helper (`docker-credential-NAME get`) for a registry's login,
//! as the Docker CLI does: the registry key on stdin, `{"ServerURL", "Username", "Secret"}`
//! on stdout, and "credentials not found in native keychain" when it keeps none.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use super::config_file::TOKEN_USERNAME;

/// How long a helper may take: some ask the user to unlock a keychain.
const TIMEOUT: Duration = Duration::from_secs(60);
/// What helpers print when they keep nothing for the registry (docker-credential-helpers).
const NOT_FOUND: &str = "credentials not found in native keychain";
/// The most of a helper's error text repeated in a warning.
const MAX_MESSAGE: usize = 300;

/// What a helper gave for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct HelperLogin {
    /// The user name; `None` when the secret is an identity token.
    pub username: Option<String>,
    /// The password, when the secret is one.
    pub password: Option<String>,
    /// The identity token, when the helper answered with [`TOKEN_USERNAME`].
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for HelperLogin {
    // The secret is never shown, not even in a test's failure.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelperLogin")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Why a helper gave no login. Never carries what the helper wrote on stdout on success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelperError {
    /// The program is not on the PATH.
    #[error("the credential helper {program} is not installed (not found on the PATH)")]
    Missing {
        /// `docker-credential-NAME`.
        program: String,
    },
    /// It could not be started.
    #[error("the credential helper {program} cannot be started: {reason}")]
    Spawn {
        /// `docker-credential-NAME`.
        program: String,
        /// The system's words.
        reason: String,
    },
    /// It exited unsuccessfully for another reason than "not found".
    #[error("the credential helper {program} failed ({status}): {message}")]
    Failed {
        /// `docker-credential-NAME`.
        program: String,
        /// Its exit status.
        status: String,
        /// What it wrote (shortened).
        message: String,
    },
    /// It succeeded but its output is not the helpers' JSON.
    #[error(
        "the credential helper {program} answered with something other than its JSON \
         (ServerURL, Username, Secret)"
    )]
    Output {
        /// `docker-credential-NAME`.
        program: String,
    },
    /// It did not answer in time.
    #[error("the credential helper {program} did not answer within {TIMEOUT:?}")]
    Timeout {
        /// `docker-credential-NAME`.
        program: String,
    },
}

/// The helpers' answer.
#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// `docker-credential-NAME` for a helper's name.
pub fn program(helper: &str) -> String {
    format!("docker-credential-{helper}")
}

/// Asks `helper` for the login of `key`; `Ok(None)` when it keeps none.
pub async fn get(helper: &str, key: &str) -> Result<Option<HelperLogin>, HelperError> {
    let program = program(helper);
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => HelperError::Missing {
                program: program.clone(),
            },
            _ => HelperError::Spawn {
                program: program.clone(),
                reason: e.to_string(),
            },
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading fails on its own terms below.
        let _ = stdin.write_all(key.as_bytes());
    }
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let reading = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let mut err = Vec::new();
        if let Some(mut s) = stdout {
            let _ = s.read_to_end(&mut out);
        }
        if let Some(mut s) = stderr {
            let _ = s.read_to_end(&mut err);
        }
        (out, err)
    });
    let (out, err) = match tokio::time::timeout(TIMEOUT, reading).await {
        Ok(Ok(read)) => read,
        Ok(Err(_)) | Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HelperError::Timeout { program });
        }
    };
    // Both pipes are closed: the helper has exited or is about to.
    let status = child.wait().map_err(|e| HelperError::Spawn {
        program: program.clone(),
        reason: e.to_string(),
    })?;
    answer(&program, status.success(), &status.to_string(), &out, &err)
}

/// Interprets a helper's exit and output.
fn answer(
    program: &str,
    success: bool,
    status: &str,
    out: &[u8],
    err: &[u8],
) -> Result<Option<HelperLogin>, HelperError> {
    if !success {
        let said = String::from_utf8_lossy(out);
        let said = if said.trim().is_empty() {
            String::from_utf8_lossy(err)
        } else {
            said
        };
        if said.contains(NOT_FOUND) {
            return Ok(None);
        }
        let mut message: String = said.trim().chars().take(MAX_MESSAGE).collect();
        if message.is_empty() {
            message = "it printed nothing".into();
        }
        return Err(HelperError::Failed {
            program: program.to_owned(),
            status: status.to_owned(),
            message,
        });
    }
    // serde's message would quote the output, which may hold the secret: not repeated.
    let answer: Answer = serde_json::from_slice(out).map_err(|_| HelperError::Output {
        program: program.to_owned(),
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if answer.username == TOKEN_USERNAME {
        HelperLogin {
            username: None,
            password: None,
            identity_token: Some(answer.secret),
        }
    } else {
        HelperLogin {
            username: (!answer.username.is_empty()).then_some(answer.username),
            password: Some(answer.secret),
            identity_token: None,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "docker-credential-x";

    #[test]
    fn answers_become_passwords_or_identity_tokens() {
        let login = answer(
            P,
            true,
            "exit status: 0",
            br#"{"ServerURL":"h:1","Username":"u","Secret":"s3cret"}"#,
            b"",
        );
        assert_eq!(login.unwrap().unwrap().password.as_deref(), Some("s3cret"));
        let token = answer(
            P,
            true,
            "exit status: 0",
            br#"{"ServerURL":"h:1","Username":"<token>","Secret":"refresh"}"#,
            b"",
        )
        .unwrap()
        .unwrap();
        assert_eq!(token.identity_token.as_deref(), Some("refresh"));
        assert_eq!(token.username, None);
    }

    #[test]
    fn not_found_is_no_login_and_other_failures_say_what_the_helper_said() {
        assert_eq!(
            answer(
                P,
                false,
                "exit status: 1",
                b"credentials not found in native keychain\n",
                b""
            ),
            Ok(None)
        );
        let failed = answer(P, false, "exit status: 1", b"", b"keychain locked\n").unwrap_err();
        assert_eq!(
            failed.to_string(),
            "the credential helper docker-credential-x failed (exit status: 1): keychain locked"
        );
        // Output that is not the JSON is not repeated: it may be the secret itself.
        let garbled = answer(P, true, "exit status: 0", b"hunter2-secret", b"").unwrap_err();
        assert!(!garbled.to_string().contains("hunter2"), "{garbled}");
        assert_eq!(
            garbled,
            HelperError::Output {
                program: P.to_owned()
            }
        );
    }
}
