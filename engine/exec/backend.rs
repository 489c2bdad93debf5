//! Which executor a run is driven with (`adze run`, `adze serve`): the local Docker engine or a
//! Kubernetes API server, and what each needs around the run (signal handling, cleanup, hints).

use crate::exec::docker::{DockerExecutor, ForceHandle};
use crate::exec::kubernetes::KubernetesExecutor;
use crate::run::Executor;

/// The executor of one `adze run`.
pub enum Backend {
    /// Containers on the local engine.
    Docker(DockerExecutor),
    /// Pods through the API server.
    Kubernetes(KubernetesExecutor),
}

impl Backend {
    /// The executor, for the driver.
    pub fn executor(&mut self) -> &mut dyn Executor {
        match self {
            Backend::Docker(e) => e,
            Backend::Kubernetes(e) => e,
        }
    }

    /// The runtime signal handlers run on.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        match self {
            Backend::Docker(e) => e.runtime().handle(),
            Backend::Kubernetes(e) => e.runtime(),
        }
    }

    /// What a second Ctrl-C triggers: killing containers without waiting (Docker only; the
    /// Kubernetes executor always deletes Pods at once).
    pub fn force_handle(&self) -> Option<ForceHandle> {
        match self {
            Backend::Docker(e) => Some(e.force_handle()),
            Backend::Kubernetes(_) => None,
        }
    }

    /// After the run: removes what the Kubernetes executor created (or, with `keep`, says how
    /// to look at it and remove it), and ends the executor. The Docker executor cleans up as it
    /// goes. Returns what to tell the user, printed once the progress display is done (the
    /// executor holds a progress sender until it is dropped here).
    pub fn finish(self, keep: bool, run_id: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let Backend::Kubernetes(kube) = self else {
            return lines;
        };
        let ns = kube.namespace().to_owned();
        if keep {
            let created = kube.created();
            if created.is_empty() {
                return lines;
            }
            lines.push(format!("kept on {} in namespace {ns}:", kube.server()));
            for c in &created {
                lines.push(format!("  {}/{}", c.kind.to_lowercase(), c.name));
            }
            lines.push(format!(
                "  inspect: kubectl -n {ns} get pods,configmaps,secrets,pvc -l {}={run_id}\n  \
                 remove:  kubectl -n {ns} delete pods,configmaps,secrets,pvc -l {}={run_id}",
                crate::exec::kubernetes::RUN_ID_LABEL,
                crate::exec::kubernetes::RUN_ID_LABEL,
            ));
            return lines;
        }
        let left = kube.clean_up();
        if left.is_empty() {
            return lines;
        }
        lines.push(format!(
            "error: these objects could not be deleted from {} (namespace {ns}):",
            kube.server()
        ));
        for (c, why) in &left {
            lines.push(format!("  {}/{}: {why}", c.kind.to_lowercase(), c.name));
        }
        lines.push(format!(
            "  help: once the server answers, delete them with `kubectl -n {ns} delete \
             pods,configmaps,secrets,pvc -l {}={run_id}`",
            crate::exec::kubernetes::RUN_ID_LABEL
        ));
        lines
    }
}

/// The image Pods copy the entrypoint from: `--entrypoint-image`, else
/// `$ADZE_ENTRYPOINT_IMAGE`, else this version's adze image (the `Dockerfile`'s, which holds
/// `/adze-entrypoint`).
pub fn entrypoint_image(given: Option<&str>) -> String {
    given
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("ADZE_ENTRYPOINT_IMAGE")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| format!("adze/adze:{}", env!("CARGO_PKG_VERSION")))
}
