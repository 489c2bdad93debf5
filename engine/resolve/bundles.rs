//! The `bundles` resolver: one object out of a Tekton bundle, an OCI image whose layers each
//! hold one Tekton object, found by the layer annotations `dev.tekton.image.kind` and
//! `dev.tekton.image.name`.
//!
//! # Design
//!
//! Params as Tekton reads them: `bundle` (required OCI reference, by tag or digest), `name`
//! (required), `kind` (default `task`, compared without regard to case), `secret` (a
//! `kubernetes.io/dockerconfigjson` Secret among the loaded documents, for registry
//! credentials), `serviceAccount` (only its default, `default`, is accepted: adze has no
//! service accounts to read pull secrets from), `cache` (accepted, the on-disk cache decides).
//! The manifest is fetched first and its digest recorded in the provenance; the layer's text
//! is then cached under that digest, so a tag that still points at the same image is not
//! downloaded again, and a moved tag never serves the old content.
//!
//! # Invariants
//!
//! - Every param is checked before any request; the reference is validated against the
//!   distribution grammar before a URL is built from it.
//! - The manifest and the layer are verified against their digests; the layer's declared
//!   size is checked against the cap before it is downloaded, and its expansion is capped.
//! - A bundle that breaks Tekton's bundle contract (more than 20 layers, a layer without the
//!   three annotations, a kind that is not lowercase and singular) is refused as Tekton does.

use super::cache::CacheKey;
use super::error::{Reason, ResolveError};
use super::http_client::{block_on, HttpClient, HttpError};
use super::oci::layer::{layer_text, LayerError};
use super::oci::manifest::Descriptor;
use super::oci::reference::OciReference;
use super::oci::registry::{Credentials, Registry, RegistryError};
use super::request::ResolveRequest;
use super::resolved::{Provenance, Resolved};
use super::resolver::{ResolveContext, Resolver};
use crate::load::Bundle;

/// Annotation naming a layer's object kind (`task`, `pipeline`, `stepaction`).
pub const ANNOTATION_KIND: &str = "dev.tekton.image.kind";
/// Annotation naming a layer's object name.
pub const ANNOTATION_NAME: &str = "dev.tekton.image.name";
/// Annotation naming a layer's object apiVersion.
pub const ANNOTATION_API_VERSION: &str = "dev.tekton.image.apiVersion";
/// Most objects a bundle may hold (Tekton's `MaximumBundleObjects`).
pub const MAX_BUNDLE_OBJECTS: usize = 20;
/// `kind` when the param is absent (Tekton's `default-kind`).
pub const DEFAULT_KIND: &str = "task";

/// The `bundles` resolver.
pub struct BundlesResolver;

/// The checked params of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BundleParams {
    reference: OciReference,
    name: String,
    kind: String,
    secret: Option<String>,
}

impl Resolver for BundlesResolver {
    fn name(&self) -> &'static str {
        "bundles"
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        let params = BundleParams::from_request(request)?;
        let credentials = match &params.secret {
            Some(secret) => Some(
                registry_credentials(ctx.documents, secret, &params.reference.registry)
                    .map_err(|reason| ResolveError::new(request, Some("secret"), reason))?,
            ),
            None => None,
        };
        let http = HttpClient::new(ctx.options.timeout, false);
        let limit = ctx.options.max_bytes;
        let fetched = block_on(fetch(http, &params, credentials, limit, ctx))
            .map_err(|e| ResolveError::new(request, None, Reason::Fetch(e)))?;
        let (digest, text) =
            fetched.map_err(|(param, reason)| ResolveError::new(request, param, reason))?;
        Ok(Resolved {
            source_name: format!(
                "bundles:{}@{digest}:{}/{}",
                params.reference.name(),
                params.kind,
                params.name
            ),
            text,
            provenance: Provenance {
                resolver: "bundles".into(),
                params: request.params.clone(),
                source: params.reference.name(),
                commit: None,
                digest: Some(digest),
                cache_hit: false,
            },
        })
    }
}

impl BundleParams {
    fn from_request(request: &ResolveRequest) -> Result<BundleParams, ResolveError> {
        let required = |name: &str| match request.param(name) {
            Some(value) if !value.is_empty() => Ok(value.to_string()),
            _ => Err(ResolveError::new(request, Some(name), Reason::MissingParam)),
        };
        let bundle = required("bundle")?;
        let reference = OciReference::parse(&bundle).map_err(|e| {
            ResolveError::new(request, Some("bundle"), Reason::Invalid(e.to_string()))
        })?;
        let name = required("name")?;
        let kind = match request.param("kind") {
            Some(kind) if !kind.is_empty() => kind.to_string(),
            _ => DEFAULT_KIND.to_string(),
        };
        if let Some(account) = request.param("serviceAccount") {
            if !account.is_empty() && account != "default" {
                return Err(ResolveError::new(
                    request,
                    Some("serviceAccount"),
                    Reason::Unsupported(format!(
                        "adze has no service accounts to read pull secrets from (\"{account}\"); \
                         name a docker config Secret in the `secret` param instead"
                    )),
                ));
            }
        }
        if let Some(mode) = request.param("cache") {
            if !matches!(mode, "" | "always" | "never" | "auto") {
                return Err(ResolveError::new(
                    request,
                    Some("cache"),
                    Reason::Invalid(format!(
                        "\"{mode}\" is not a cache mode; use always, never or auto"
                    )),
                ));
            }
        }
        let secret = request
            .param("secret")
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        Ok(BundleParams {
            reference,
            name,
            kind,
            secret,
        })
    }
}

/// A failure and the param it blames.
type Failure = (Option<&'static str>, Reason);

/// The manifest digest and the object's text.
async fn fetch(
    http: HttpClient,
    params: &BundleParams,
    credentials: Option<Credentials>,
    limit: u64,
    ctx: &ResolveContext<'_>,
) -> Result<(String, String), Failure> {
    let reference = &params.reference;
    let mut registry = Registry::new(http, reference.clone(), credentials);
    let fetched = registry
        .manifest()
        .await
        .map_err(|e| registry_failure(reference, e))?;
    let layer = select_layer(&fetched.manifest.layers, &params.kind, &params.name)
        .map_err(|reason| (Some("bundle"), reason))?;
    let content_key = CacheKey::from_parts(&[
        "bundles",
        &reference.name(),
        &fetched.digest,
        &params.kind.to_ascii_lowercase(),
        &params.name,
    ]);
    if let Some(hit) = ctx.cache.get(&content_key) {
        return Ok((fetched.digest, hit.text));
    }
    let blob = registry
        .blob(layer, limit)
        .await
        .map_err(|e| registry_failure(reference, e))?;
    let text = layer_text(&blob, limit).map_err(|e| match e {
        LayerError::TooLarge(limit) => (Some("bundle"), Reason::TooLarge(limit)),
        other => (
            Some("bundle"),
            Reason::Invalid(format!("{reference}: layer {}: {other}", layer.digest)),
        ),
    })?;
    let entry = Resolved {
        source_name: String::new(),
        text: text.clone(),
        provenance: Provenance {
            resolver: "bundles".into(),
            params: Vec::new(),
            source: reference.name(),
            commit: None,
            digest: Some(fetched.digest.clone()),
            cache_hit: false,
        },
    };
    // A cache that cannot be written only costs a download next time.
    let _ = ctx.cache.put(&content_key, &entry);
    Ok((fetched.digest, text))
}

/// The layer holding `kind`/`name`, after checking the bundle against Tekton's contract.
fn select_layer<'m>(
    layers: &'m [Descriptor],
    kind: &str,
    name: &str,
) -> Result<&'m Descriptor, Reason> {
    if layers.len() > MAX_BUNDLE_OBJECTS {
        return Err(Reason::Invalid(format!(
            "not a Tekton bundle: it has {} layers, more than the {MAX_BUNDLE_OBJECTS} objects \
             a bundle may hold",
            layers.len()
        )));
    }
    for (i, layer) in layers.iter().enumerate() {
        for annotation in [ANNOTATION_API_VERSION, ANNOTATION_NAME, ANNOTATION_KIND] {
            if !layer.annotations.contains_key(annotation) {
                return Err(Reason::Invalid(format!(
                    "not a Tekton bundle: layer {i} has no {annotation} annotation"
                )));
            }
        }
        let layer_kind = &layer.annotations[ANNOTATION_KIND];
        if layer_kind.to_ascii_lowercase().trim_end_matches('s') != layer_kind {
            return Err(Reason::Invalid(format!(
                "not a Tekton bundle: layer {i}'s {ANNOTATION_KIND} must be lowercase and \
                 singular, found \"{layer_kind}\""
            )));
        }
    }
    layers
        .iter()
        .find(|l| {
            l.annotations[ANNOTATION_KIND].eq_ignore_ascii_case(kind)
                && l.annotations[ANNOTATION_NAME] == name
        })
        .ok_or_else(|| {
            let held: Vec<String> = layers
                .iter()
                .map(|l| {
                    format!(
                        "{}/{}",
                        l.annotations[ANNOTATION_KIND], l.annotations[ANNOTATION_NAME]
                    )
                })
                .collect();
            Reason::NotFound(format!(
                "the bundle holds no {} named \"{name}\"; it holds: {}",
                kind.to_ascii_lowercase(),
                if held.is_empty() {
                    "nothing".to_string()
                } else {
                    held.join(", ")
                }
            ))
        })
}

/// The reason (and param) a registry failure is reported with.
fn registry_failure(reference: &OciReference, error: RegistryError) -> Failure {
    let reason = match error {
        RegistryError::BlobTooLarge { limit, .. }
        | RegistryError::Http(HttpError::TooLarge { limit, .. }) => Reason::TooLarge(limit),
        RegistryError::Status { ref status, .. } if status.starts_with("404") => {
            Reason::NotFound(format!("{reference}: {error}"))
        }
        RegistryError::Unauthorized { .. } => {
            return (
                Some("secret"),
                Reason::Fetch(format!("{reference}: {error}")),
            )
        }
        RegistryError::Http(HttpError::Connect {
            ref url,
            ref reason,
        }) => Reason::Fetch(format!(
            "cannot reach the registry of {reference} ({url}): {reason}"
        )),
        other => Reason::Fetch(format!("{reference}: {other}")),
    };
    (Some("bundle"), reason)
}

/// The credentials for `registry` in the docker config Secret `secret` among the loaded
/// documents (`kubernetes.io/dockerconfigjson` or the older `kubernetes.io/dockercfg`).
fn registry_credentials(
    documents: &Bundle,
    secret: &str,
    registry: &str,
) -> Result<Credentials, Reason> {
    let resource = documents
        .resources
        .iter()
        .find(|r| r.kind == "Secret" && r.name == secret)
        .ok_or_else(|| {
            Reason::Invalid(format!(
                "no Secret named \"{secret}\" among the loaded documents; pass the file \
                 holding it"
            ))
        })?;
    let config = secret_value(&resource.value, ".dockerconfigjson")
        .or_else(|| secret_value(&resource.value, ".dockercfg"))
        .ok_or_else(|| {
            Reason::Invalid(format!(
                "Secret \"{secret}\" has no .dockerconfigjson (type \
                 kubernetes.io/dockerconfigjson)"
            ))
        })?;
    docker_config_credentials(&config, registry).ok_or_else(|| {
        Reason::Invalid(format!(
            "Secret \"{secret}\" holds no credentials for the registry {registry}"
        ))
    })
}

/// `key` of a Secret's `stringData`, else its base64-decoded `data`.
fn secret_value(secret: &serde_json::Value, key: &str) -> Option<String> {
    use base64::Engine as _;
    if let Some(text) = secret["stringData"][key].as_str() {
        return Some(text.to_string());
    }
    let encoded = secret["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The credentials a docker config (`{"auths": {host: {auth | username, password}}}`, or the
/// older map of hosts) holds for `registry`.
fn docker_config_credentials(config: &str, registry: &str) -> Option<Credentials> {
    use base64::Engine as _;
    let value: serde_json::Value = serde_json::from_str(config).ok()?;
    let auths = value.get("auths").unwrap_or(&value).as_object()?;
    let wanted = |key: &str| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("");
        host == registry
            || (registry == "docker.io"
                && matches!(host, "index.docker.io" | "registry-1.docker.io"))
    };
    let (_, entry) = auths.iter().find(|(key, _)| wanted(key))?;
    if let (Some(username), Some(password)) =
        (entry["username"].as_str(), entry["password"].as_str())
    {
        return Some(Credentials {
            username: username.into(),
            password: password.into(),
        });
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(entry["auth"].as_str()?)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(Credentials {
        username: username.into(),
        password: password.into(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn layer(kind: &str, name: &str) -> Descriptor {
        Descriptor {
            media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            digest: format!("sha256:{name}"),
            size: 1,
            annotations: BTreeMap::from([
                (
                    ANNOTATION_API_VERSION.to_string(),
                    "tekton.dev/v1".to_string(),
                ),
                (ANNOTATION_KIND.to_string(), kind.to_string()),
                (ANNOTATION_NAME.to_string(), name.to_string()),
            ]),
        }
    }

    #[test]
    fn the_layer_is_found_by_kind_without_case_and_by_exact_name() {
        let layers = [layer("task", "hello"), layer("pipeline", "hello")];
        assert_eq!(
            select_layer(&layers, "Pipeline", "hello")
                .unwrap()
                .annotations[ANNOTATION_KIND],
            "pipeline"
        );
        assert!(select_layer(&layers, "task", "Hello").is_err());
    }

    #[test]
    fn a_missing_object_lists_what_the_bundle_holds() {
        let layers = [layer("task", "hello"), layer("stepaction", "greet")];
        assert_eq!(
            select_layer(&layers, "task", "bye"),
            Err(Reason::NotFound(
                "the bundle holds no task named \"bye\"; it holds: task/hello, stepaction/greet"
                    .into()
            ))
        );
    }

    #[test]
    fn bundles_breaking_the_contract_are_refused() {
        let mut unannotated = layer("task", "a");
        unannotated.annotations.remove(ANNOTATION_API_VERSION);
        assert!(matches!(
            select_layer(&[unannotated], "task", "a"),
            Err(Reason::Invalid(m)) if m.contains("no dev.tekton.image.apiVersion annotation")
        ));
        assert!(matches!(
            select_layer(&[layer("Tasks", "a")], "task", "a"),
            Err(Reason::Invalid(m)) if m.contains("lowercase and singular")
        ));
        let many: Vec<Descriptor> = (0..21).map(|i| layer("task", &format!("t{i}"))).collect();
        assert!(matches!(
            select_layer(&many, "task", "t0"),
            Err(Reason::Invalid(m)) if m.contains("21 layers")
        ));
    }

    #[test]
    fn docker_configs_yield_the_registry_credentials() {
        let config = r#"{"auths":{"https://127.0.0.1:5000/v1/":{"auth":"bWU6czNjcmV0"},
            "other.io":{"username":"u","password":"p"}}}"#;
        assert_eq!(
            docker_config_credentials(config, "127.0.0.1:5000"),
            Some(Credentials {
                username: "me".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(
            docker_config_credentials(config, "other.io").map(|c| c.username),
            Some("u".into())
        );
        assert_eq!(docker_config_credentials(config, "elsewhere.io"), None);
    }
}
