//! The `cluster` resolver: a Task, Pipeline or StepAction by `kind`, `name` and
//! `namespace` (params), looked up in a [`ClusterSource`].
//!
//! # Design
//!
//! Locally the cluster is the loaded documents (`-f` files and `--catalog` directories):
//! [`LoadedDocuments`]. `adze controller` and `adze run --executor kubernetes` plug in a
//! source reading the API server ([`super::cluster_api::ApiObjects`]), behind the same
//! trait, so a reference resolves the same way whoever runs it.

use super::error::{Reason, ResolveError};
use super::request::ResolveRequest;
use super::resolved::{sha256_digest, Provenance, Resolved};
use super::resolver::{ResolveContext, Resolver};
use crate::api::Kind;
use crate::load::{Bundle, Origin};

/// Where `cluster` references look objects up.
pub trait ClusterSource: Send + Sync {
    /// The YAML of the object, `Ok(None)` when there is none.
    fn get(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        documents: &Bundle,
    ) -> Result<Option<String>, String>;

    /// Where objects were looked for, for "not found" messages.
    fn place(&self) -> &'static str {
        "among the loaded documents"
    }
}

/// The loaded documents stand in for the cluster.
pub struct LoadedDocuments;

impl ClusterSource for LoadedDocuments {
    fn get(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        documents: &Bundle,
    ) -> Result<Option<String>, String> {
        let found = documents.objects.iter().find(|o| {
            let meta = o.object.metadata();
            o.origin != Origin::Builtin
                && o.origin != Origin::Remote
                && o.object.kind() == kind
                && meta.name.as_deref() == Some(name)
                && meta.namespace.as_deref().unwrap_or("default") == namespace
        });
        match found {
            None => Ok(None),
            Some(o) => serde_yaml_ng::to_string(&o.root.to_json())
                .map(Some)
                .map_err(|e| e.to_string()),
        }
    }
}

/// The `cluster` resolver.
pub struct ClusterResolver {
    source: Box<dyn ClusterSource>,
}

impl ClusterResolver {
    /// Reads objects from the loaded documents.
    pub fn from_documents() -> Self {
        Self::new(Box::new(LoadedDocuments))
    }

    /// Reads objects from `source`.
    pub fn new(source: Box<dyn ClusterSource>) -> Self {
        ClusterResolver { source }
    }
}

impl Resolver for ClusterResolver {
    fn name(&self) -> &'static str {
        "cluster"
    }

    fn is_local(&self) -> bool {
        true
    }

    fn resolve(
        &self,
        request: &ResolveRequest,
        ctx: &ResolveContext<'_>,
    ) -> Result<Resolved, ResolveError> {
        let fail = |param: &str, reason| ResolveError::new(request, Some(param), reason);
        let kind_text = request.param("kind").unwrap_or("task");
        let kind = match kind_text.to_ascii_lowercase().as_str() {
            "task" => Kind::Task,
            "pipeline" => Kind::Pipeline,
            "stepaction" => Kind::StepAction,
            _ => {
                return Err(fail(
                    "kind",
                    Reason::Invalid(format!(
                        "\"{kind_text}\" is not task, pipeline or stepaction"
                    )),
                ))
            }
        };
        if kind != request.kind {
            return Err(fail(
                "kind",
                Reason::Invalid(format!(
                    "\"{kind_text}\" given where a {} is referenced",
                    request.kind
                )),
            ));
        }
        let name = request
            .param("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| fail("name", Reason::MissingParam))?;
        let namespace = request
            .param("namespace")
            .filter(|n| !n.is_empty())
            .unwrap_or(&ctx.options.namespace);
        let text = self
            .source
            .get(kind, namespace, name, ctx.documents)
            .map_err(|e| fail("name", Reason::Fetch(e)))?
            .ok_or_else(|| {
                fail(
                    "name",
                    Reason::NotFound(format!(
                        "no {kind} \"{name}\" in namespace \"{namespace}\" {}",
                        self.source.place()
                    )),
                )
            })?;
        Ok(Resolved {
            source_name: format!("cluster:{namespace}/{kind}/{name}"),
            provenance: Provenance {
                resolver: "cluster".into(),
                params: request.params.clone(),
                source: format!("{namespace}/{name}"),
                commit: None,
                digest: Some(sha256_digest(text.as_bytes())),
                cache_hit: false,
            },
            text,
        })
    }
}
