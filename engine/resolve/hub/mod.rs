//! The `hub` resolver: a Task, Pipeline or StepAction from Artifact Hub (`type: artifact`,
//! Tekton's default) or a Tekton Hub instance (`type: tekton`), by catalog, kind, name and
//! version or version constraint.
//!
//! # Design
//!
//! The API paths and answers are those Tekton's hub resolver uses:
//!
//! | type | object | list of versions (constraints) |
//! | --- | --- | --- |
//! | artifact | `GET {base}/api/v1/packages/tekton-{kind}/{catalog}/{name}/{version}` → `data.manifestRaw` | `GET {base}/api/v1/packages/tekton-{kind}/{catalog}/{name}` → `available_versions[].version` |
//! | tekton | `GET {base}/v1/resource/{catalog}/{kind}/{name}/{version}/yaml` → `data.yaml` | `GET {base}/v1/resource/{catalog}/{kind}/{name}` → `data.versions[].version` |
//!
//! Defaults as Tekton ships them: `type` artifact, `kind` task, `catalog`
//! `tekton-catalog-tasks` / `tekton-catalog-pipelines` on Artifact Hub and `Tekton` on a
//! Tekton Hub. The base URL is the `url` param, else `--hub-url` (both types), else the
//! environment Tekton's resolver reads (`ARTIFACT_HUB_API`, `TEKTON_HUB_API`), else
//! `https://artifacthub.io` for artifact; type tekton has no default (the public Tekton Hub
//! was retired), as in Tekton.
//!
//! A version with constraint syntax (`>= 0.5.0`) lists the versions and takes the highest
//! that matches, pre-releases excluded; a plain version is fetched directly (Tekton lists
//! first there too; the answer is the same, one request fewer).
//!
//! # Invariants
//!
//! - Every param is checked before any request; names, catalogs, kinds and versions are
//!   path segments of restricted characters, so no value can steer the request path.
//! - Provenance records the URL fetched and the SHA-256 of the text, as Tekton's does.

pub mod version;

use hyper::header::{HeaderName, HeaderValue, ACCEPT};
use serde::Deserialize;

use super::error::{Reason, ResolveError};
use super::http_client::{block_on, HttpClient, HttpError};
use super::request::ResolveRequest;
use super::resolved::{sha256_digest, Provenance, Resolved};
use super::resolver::{ResolveContext, Resolver};
use version::{for_hub, Constraint, Version};

/// Artifact Hub's public API (Tekton's `DefaultArtifactHubURL`).
pub const DEFAULT_ARTIFACT_HUB_URL: &str = "https://artifacthub.io";
/// The environment variable Tekton's hub resolver reads the Artifact Hub URL from.
pub const ARTIFACT_HUB_ENV: &str = "ARTIFACT_HUB_API";
/// The environment variable Tekton's hub resolver reads the Tekton Hub URL from.
pub const TEKTON_HUB_ENV: &str = "TEKTON_HUB_API";
/// Largest list-of-versions answer accepted.
const MAX_LIST_BYTES: u64 = 1024 * 1024;

/// The `hub` resolver.
pub struct HubResolver;

/// The checked params of one request, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HubParams {
    hub_type: String,
    kind: String,
    catalog: String,
    name: String,
    version: String,
    url: Option<String>,
}

impl Resolver for HubResolver {
    fn name(&self) -> &'static str {
        "hub"
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        let params = HubParams::from_request(request)?;
        let base = base_url(&params, ctx.options.hub_url.as_deref())
            .map_err(|(param, reason)| ResolveError::new(request, param, reason))?;
        let http = HttpClient::new(ctx.options.timeout, false);
        let limit = ctx.options.max_bytes;
        let (url, text) = block_on(fetch(http, &params, base.clone(), limit))
            .map_err(|e| ResolveError::new(request, None, Reason::Fetch(e)))?
            .map_err(|(param, reason)| ResolveError::new(request, param, reason))?;
        Ok(Resolved {
            source_name: format!("hub:{url}"),
            provenance: Provenance {
                resolver: "hub".into(),
                params: request.params.clone(),
                source: url,
                commit: None,
                digest: Some(sha256_digest(text.as_bytes())),
                cache_hit: false,
            },
            text,
        })
    }
}

impl HubParams {
    fn from_request(request: &ResolveRequest) -> Result<HubParams, ResolveError> {
        let invalid = |param: &str, why: String| {
            Err(ResolveError::new(
                request,
                Some(param),
                Reason::Invalid(why),
            ))
        };
        let value = |name: &str| request.param(name).filter(|v| !v.is_empty());
        let Some(name) = value("name") else {
            return Err(ResolveError::new(
                request,
                Some("name"),
                Reason::MissingParam,
            ));
        };
        let Some(version) = value("version") else {
            return Err(ResolveError::new(
                request,
                Some("version"),
                Reason::MissingParam,
            ));
        };
        let hub_type = value("type").unwrap_or("artifact");
        if !matches!(hub_type, "artifact" | "tekton") {
            return invalid(
                "type",
                format!("\"{hub_type}\" is not a hub type; use artifact or tekton"),
            );
        }
        let kind = value("kind").unwrap_or("task");
        if !matches!(kind, "task" | "pipeline" | "stepaction") {
            return invalid(
                "kind",
                format!("\"{kind}\" is not a hub kind; use task, pipeline or stepaction"),
            );
        }
        let catalog = match (value("catalog"), hub_type, kind) {
            (Some(catalog), _, _) => catalog,
            (None, "tekton", _) => "Tekton",
            (None, _, "task") => "tekton-catalog-tasks",
            (None, _, "pipeline") => "tekton-catalog-pipelines",
            (None, _, _) => {
                return invalid(
                    "catalog",
                    format!("Artifact Hub has no default catalog for kind {kind}; name one"),
                )
            }
        };
        for (param, text) in [("name", name), ("catalog", catalog)] {
            if !is_segment(text) {
                return invalid(
                    param,
                    format!(
                        "\"{text}\" is not a hub {param}: letters, digits, '.', '_' and '-' only"
                    ),
                );
            }
        }
        if Constraint::is_constraint(version) {
            if Constraint::parse(version).is_none() {
                return invalid(
                    "version",
                    format!(
                        "\"{version}\" is not a version constraint (write e.g. \">= 0.5.0\" or \
                         \">= 0.7.0, < 2.0.0\")"
                    ),
                );
            }
        } else if Version::parse(version).is_none() {
            return invalid(
                "version",
                format!("\"{version}\" is not a version (write e.g. \"0.9\" or \"0.9.0\")"),
            );
        }
        let url = value("url").map(str::to_string);
        if let Some(url) = &url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return invalid("url", format!("\"{url}\" is not an http(s) URL"));
            }
        }
        Ok(HubParams {
            hub_type: hub_type.into(),
            kind: kind.into(),
            catalog: catalog.into(),
            name: name.into(),
            version: version.into(),
            url,
        })
    }
}

/// A failure and the param it blames.
type Failure = (Option<&'static str>, Reason);

/// The hub API base for `params`: `url` param, `--hub-url`, Tekton's environment, default.
fn base_url(params: &HubParams, configured: Option<&str>) -> Result<String, Failure> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let base = params
        .url
        .clone()
        .or_else(|| configured.map(str::to_string))
        .or_else(|| match params.hub_type.as_str() {
            "tekton" => env(TEKTON_HUB_ENV),
            _ => env(ARTIFACT_HUB_ENV).or_else(|| Some(DEFAULT_ARTIFACT_HUB_URL.into())),
        })
        .ok_or_else(|| {
            (
                Some("type"),
                Reason::Unsupported(format!(
                    "type tekton needs a Tekton Hub API URL: pass --hub-url or set \
                     {TEKTON_HUB_ENV} (the public Tekton Hub was retired; type artifact uses \
                     Artifact Hub)"
                )),
            )
        })?;
    Ok(base.trim_end_matches('/').to_string())
}

/// `name`, `catalog`: one path segment of plain characters.
fn is_segment(text: &str) -> bool {
    !text.is_empty()
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Lists the versions when `params.version` is a constraint, then fetches the object: the URL
/// fetched and the text.
async fn fetch(
    http: HttpClient,
    params: &HubParams,
    base: String,
    limit: u64,
) -> Result<(String, String), Failure> {
    let version = match Constraint::parse(&params.version)
        .filter(|_| Constraint::is_constraint(&params.version))
    {
        Some(constraint) => choose_version(&http, params, &base, &constraint).await?,
        None => params.version.clone(),
    };
    let version = for_hub(&version, &params.hub_type);
    let url = match params.hub_type.as_str() {
        "tekton" => format!(
            "{base}/v1/resource/{}/{}/{}/{version}/yaml",
            params.catalog, params.kind, params.name
        ),
        _ => format!(
            "{base}/api/v1/packages/tekton-{}/{}/{}/{version}",
            params.kind, params.catalog, params.name
        ),
    };
    let body = get_json(&http, &url, limit).await?;
    #[derive(Deserialize)]
    struct Answer {
        data: Data,
    }
    #[derive(Deserialize)]
    struct Data {
        #[serde(default, rename = "manifestRaw")]
        manifest_raw: Option<String>,
        #[serde(default)]
        yaml: Option<String>,
    }
    let answer: Answer = serde_json::from_slice(&body).map_err(|e| {
        (
            None,
            Reason::Fetch(format!(
                "{url}: the hub's answer is not what a hub sends: {e}"
            )),
        )
    })?;
    let text = match params.hub_type.as_str() {
        "tekton" => answer.data.yaml,
        _ => answer.data.manifest_raw,
    }
    .filter(|t| !t.trim().is_empty())
    .ok_or_else(|| {
        (
            None,
            Reason::NotFound(format!("{url}: the hub's answer holds no manifest")),
        )
    })?;
    Ok((url, text))
}

/// The highest released version the hub lists for the object that meets `constraint`.
async fn choose_version(
    http: &HttpClient,
    params: &HubParams,
    base: &str,
    constraint: &Constraint,
) -> Result<String, Failure> {
    let url = match params.hub_type.as_str() {
        "tekton" => format!(
            "{base}/v1/resource/{}/{}/{}",
            params.catalog, params.kind, params.name
        ),
        _ => format!(
            "{base}/api/v1/packages/tekton-{}/{}/{}",
            params.kind, params.catalog, params.name
        ),
    };
    let body = get_json(http, &url, MAX_LIST_BYTES).await?;
    #[derive(Deserialize)]
    struct Listed {
        version: String,
        #[serde(default)]
        prerelease: bool,
    }
    #[derive(Deserialize)]
    struct ArtifactList {
        #[serde(default)]
        available_versions: Vec<Listed>,
    }
    #[derive(Deserialize)]
    struct TektonList {
        data: TektonVersions,
    }
    #[derive(Deserialize)]
    struct TektonVersions {
        #[serde(default)]
        versions: Vec<Listed>,
    }
    let bad = |e: serde_json::Error| {
        (
            None,
            Reason::Fetch(format!(
                "{url}: the hub's list of versions is not what a hub sends: {e}"
            )),
        )
    };
    let listed = match params.hub_type.as_str() {
        "tekton" => {
            serde_json::from_slice::<TektonList>(&body)
                .map_err(bad)?
                .data
                .versions
        }
        _ => {
            serde_json::from_slice::<ArtifactList>(&body)
                .map_err(bad)?
                .available_versions
        }
    };
    let available: Vec<String> = listed.iter().map(|l| l.version.clone()).collect();
    listed
        .into_iter()
        .filter(|l| !l.prerelease)
        .filter_map(|l| Version::parse(&l.version))
        .filter(|v| constraint.matches(v))
        .max()
        .map(|v| v.to_string())
        .ok_or_else(|| {
            (
                Some("version"),
                Reason::NotFound(format!(
                    "no version of {} \"{}\" meets \"{}\"; the hub lists: {}",
                    params.kind,
                    params.name,
                    params.version,
                    if available.is_empty() {
                        "none".to_string()
                    } else {
                        available.join(", ")
                    }
                )),
            )
        })
}

/// The body of a successful `GET url`.
async fn get_json(http: &HttpClient, url: &str, limit: u64) -> Result<hyper::body::Bytes, Failure> {
    let accept: [(HeaderName, HeaderValue); 1] =
        [(ACCEPT, HeaderValue::from_static("application/json"))];
    let response = http.get(url, &accept, limit).await.map_err(|e| match e {
        HttpError::TooLarge { limit, .. } => (None, Reason::TooLarge(limit)),
        HttpError::Connect { url, reason } => (
            None,
            Reason::Fetch(format!("cannot reach the hub ({url}): {reason}")),
        ),
        other => (None, Reason::Fetch(other.to_string())),
    })?;
    if response.status == hyper::StatusCode::NOT_FOUND {
        return Err((
            None,
            Reason::NotFound(format!("{url}: not found on the hub (404)")),
        ));
    }
    if !response.status.is_success() {
        return Err((
            None,
            Reason::Fetch(format!("{url}: the hub answered {}", response.status)),
        ));
    }
    Ok(response.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::request::{RefSite, ResolverParam};

    fn request(params: &[(&str, &str)]) -> ResolveRequest {
        ResolveRequest {
            kind: crate::api::Kind::Task,
            resolver: "hub".into(),
            params: params
                .iter()
                .map(|(n, v)| ResolverParam {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            site: RefSite::default(),
        }
    }

    #[test]
    fn tekton_defaults_are_filled_in() {
        let p = HubParams::from_request(&request(&[("name", "git-clone"), ("version", "0.9")]))
            .unwrap();
        assert_eq!(
            (p.hub_type.as_str(), p.kind.as_str(), p.catalog.as_str()),
            ("artifact", "task", "tekton-catalog-tasks")
        );
        let p = HubParams::from_request(&request(&[
            ("name", "buildpacks"),
            ("version", "0.1"),
            ("kind", "pipeline"),
        ]))
        .unwrap();
        assert_eq!(p.catalog, "tekton-catalog-pipelines");
        let p = HubParams::from_request(&request(&[
            ("name", "x"),
            ("version", "0.1"),
            ("type", "tekton"),
        ]))
        .unwrap();
        assert_eq!(p.catalog, "Tekton");
    }

    #[test]
    fn params_that_could_steer_the_path_are_refused() {
        for (param, bad) in [
            ("name", "../../admin"),
            ("name", "a/b"),
            ("catalog", ".."),
            ("version", "0.1/../../x"),
            ("version", ">= 0.x"),
            ("kind", "Task"),
            ("type", "docker"),
            ("url", "file:///etc"),
        ] {
            let mut params = vec![("name", "x"), ("version", "0.1")];
            params.retain(|(n, _)| *n != param);
            params.push((param, bad));
            let e = HubParams::from_request(&request(&params)).unwrap_err();
            assert_eq!(e.param.as_deref(), Some(param), "{param}={bad}");
        }
        let e = HubParams::from_request(&request(&[("name", "x")])).unwrap_err();
        assert_eq!(
            (e.param.as_deref(), &e.reason),
            (Some("version"), &Reason::MissingParam)
        );
    }

    #[test]
    fn type_tekton_without_a_url_says_how_to_configure_one() {
        let p = HubParams::from_request(&request(&[
            ("name", "x"),
            ("version", "0.1"),
            ("type", "tekton"),
        ]))
        .unwrap();
        // Only when the environment does not name one (tests never set it).
        if std::env::var_os(TEKTON_HUB_ENV).is_none() {
            let (param, reason) = base_url(&p, None).unwrap_err();
            assert_eq!(param, Some("type"));
            assert!(matches!(reason, Reason::Unsupported(m) if m.contains("--hub-url")));
        }
        assert_eq!(
            base_url(&p, Some("http://127.0.0.1:9/")).unwrap(),
            "http://127.0.0.1:9"
        );
    }
}
