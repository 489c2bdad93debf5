//! The kubeconfig a kube-sim writes for itself: one cluster, user and context, all named
//! `kube-sim`, with namespace `default` and the server's CA inline.
//!
//! # Invariants
//!
//! - The file appears complete or not at all (written beside and renamed), so a test that
//!   polls for it never reads half a file.

use std::path::Path;

use base64::Engine;
use serde_json::json;

/// Why the kubeconfig could not be written.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// Writing or renaming the file failed.
    #[error("writing the kubeconfig {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Rendering YAML failed.
    #[error("rendering the kubeconfig: {0}")]
    Render(#[from] serde_yaml_ng::Error),
}

/// The kubeconfig for a server at `server` (`https://127.0.0.1:N`) whose CA is `ca_pem` and
/// which accepts the bearer token `token`.
pub fn render(server: &str, ca_pem: &str, token: &str) -> Result<String, KubeconfigError> {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "kube-sim", "cluster": {
            "server": server,
            "certificate-authority-data": ca,
        } }],
        "users": [{ "name": "kube-sim", "user": { "token": token } }],
        "contexts": [{ "name": "kube-sim", "context": {
            "cluster": "kube-sim",
            "user": "kube-sim",
            "namespace": "default",
        } }],
        "current-context": "kube-sim",
        "preferences": {},
    });
    Ok(serde_yaml_ng::to_string(&config)?)
}

/// Writes `contents` to `path` atomically.
pub fn write(path: &Path, contents: &str) -> Result<(), KubeconfigError> {
    let error = |source| KubeconfigError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, contents).map_err(error)?;
    std::fs::rename(&partial, path).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_is_kube_sim_in_default() {
        let text = render("https://127.0.0.1:1234", "PEM", "t").unwrap();
        let parsed: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(parsed["current-context"], "kube-sim");
        assert_eq!(parsed["contexts"][0]["context"]["namespace"], "default");
        assert_eq!(parsed["users"][0]["user"]["token"], "t");
        assert_eq!(
            parsed["clusters"][0]["cluster"]["certificate-authority-data"],
            "UEVN"
        );
    }
}
