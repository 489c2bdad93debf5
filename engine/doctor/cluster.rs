//! `--executor kubernetes`: the kubeconfig, its context, and whether the API server answers,
//! through the same [`connect`] `adze run` uses, so both fail alike.

use super::Check;
use crate::exec::kubernetes::connect::{connect, ClusterOptions, ConnectError};

/// The kubeconfig and API server checks.
pub async fn check(options: &ClusterOptions) -> Vec<Check> {
    let context = options
        .context
        .clone()
        .unwrap_or_else(|| "the current context".to_owned());
    match connect(options).await {
        Ok(cluster) => vec![
            Check::ok("kubeconfig", format!("readable, {context}")),
            Check::ok(
                "API server",
                format!(
                    "{} answers (minor version {}), namespace {}",
                    cluster.server, cluster.minor, cluster.namespace
                ),
            ),
        ],
        Err(e @ ConnectError::Kubeconfig { .. }) => {
            vec![Check::fail("kubeconfig", e.to_string(), e.help())]
        }
        Err(e) => vec![
            Check::ok("kubeconfig", format!("readable, {context}")),
            Check::fail("API server", e.to_string(), e.help()),
        ],
    }
}
