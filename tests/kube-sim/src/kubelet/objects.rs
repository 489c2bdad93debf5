//! The key/value data of the ConfigMaps and Secrets a Pod refers to (from `env`, `envFrom` and
//! volumes), and how Kubernetes words a missing one.

use super::PodHost;

/// Which kind of object a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A ConfigMap (`data` and `binaryData`).
    ConfigMap,
    /// A Secret (`data`, and `stringData` as an API stand-in may keep it).
    Secret,
}

impl Kind {
    /// `configmap "x" not found`, the kubelet's message.
    pub fn not_found(self, name: &str) -> String {
        match self {
            Kind::ConfigMap => format!("configmap \"{name}\" not found"),
            Kind::Secret => format!("secret \"{name}\" not found"),
        }
    }

    /// `configMap` or `secret`, as the volume source is called.
    pub fn volume_name(self) -> &'static str {
        match self {
            Kind::ConfigMap => "configMap",
            Kind::Secret => "secret",
        }
    }

    /// `ConfigMap` or `Secret`, as messages about keys name them.
    pub fn title(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
        }
    }
}

/// The entries of object `namespace/name`, `None` when it does not exist.
pub(super) fn entries(
    host: &dyn PodHost,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Option<Vec<(String, Vec<u8>)>> {
    match kind {
        Kind::ConfigMap => {
            let map = host.config_map(namespace, name)?;
            let text = map
                .data
                .into_iter()
                .flatten()
                .map(|(k, v)| (k, v.into_bytes()));
            let binary = map.binary_data.into_iter().flatten().map(|(k, v)| (k, v.0));
            Some(text.chain(binary).collect())
        }
        Kind::Secret => {
            let secret = host.secret(namespace, name)?;
            let data = secret.data.into_iter().flatten().map(|(k, v)| (k, v.0));
            let string_data = secret
                .string_data
                .into_iter()
                .flatten()
                .map(|(k, v)| (k, v.into_bytes()));
            Some(data.chain(string_data).collect())
        }
    }
}
