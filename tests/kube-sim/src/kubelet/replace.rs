//! A Pod update that changes a running container's image: what a kubelet does with it (the
//! only change to a Pod's containers the API server lets through). The container is killed
//! (SIGTERM, SIGKILL after the Pod's grace period) and started again from the new image with
//! the same spec, its `restartCount` one higher. Tekton stops the sidecars of a server
//! without native sidecars this way: it swaps their image for a no-op one, whose command
//! exits 0, so the container ends `Completed` and the Pod can finish.
//!
//! The Pod's worker asks [`Replacements::take`] after each regular container exits: a new
//! image recorded by [`Replacements::request`] means "start it again from this one".
//! A container that has already exited is left as it is (`restartPolicy: Never`).

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::Pod;

use super::status::{Book, State};

/// The new images of running regular containers, by container name, until their worker
/// starts them again.
#[derive(Debug, Default)]
pub(super) struct Replacements(Mutex<HashMap<String, String>>);

impl Replacements {
    /// Records that container `name` must run `image` from now on.
    fn request(&self, name: &str, image: &str) {
        super::lock(&self.0).insert(name.to_owned(), image.to_owned());
    }

    /// The image container `name` must be started again from, if one was requested.
    pub fn take(&self, name: &str) -> Option<String> {
        super::lock(&self.0).remove(name)
    }
}

/// The running regular containers whose image `updated` changes: records each new image in
/// `replacements` and returns the engine ids to kill.
pub(super) fn changed(updated: &Pod, book: &Book, replacements: &Replacements) -> Vec<String> {
    let containers = updated
        .spec
        .as_ref()
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    let wanted: Vec<(String, String, String)> = book.read(|r| {
        r.main
            .iter()
            .filter_map(|slot| {
                let image = containers
                    .iter()
                    .find(|c| c.name == slot.name)?
                    .image
                    .clone()
                    .unwrap_or_default();
                match (&slot.state, &slot.container_id) {
                    (State::Running { .. }, Some(id)) if image != slot.image => {
                        Some((slot.name.clone(), image, id.clone()))
                    }
                    _ => None,
                }
            })
            .collect()
    });
    wanted
        .into_iter()
        .map(|(name, image, id)| {
            replacements.request(&name, &image);
            id
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::status::{engine_time, Which};
    use crate::kubelet::PodHost;
    use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec, PodStatus, Secret};
    use std::path::PathBuf;
    use std::sync::Arc;

    struct Nobody;

    impl PodHost for Nobody {
        fn config_map(&self, _: &str, _: &str) -> Option<ConfigMap> {
            None
        }
        fn secret(&self, _: &str, _: &str) -> Option<Secret> {
            None
        }
        fn claim_dir(&self, _: &str, _: &str) -> Option<PathBuf> {
            None
        }
        fn set_pod_status(&self, _: &str, _: &str, _: PodStatus) {}
    }

    fn pod(images: &[(&str, &str)]) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: images
                    .iter()
                    .map(|(name, image)| Container {
                        name: (*name).into(),
                        image: Some((*image).into()),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn only_running_containers_whose_image_changed_are_replaced() {
        let book = Book::new(
            Arc::new(Nobody),
            &pod(&[("step", "busybox"), ("sidecar", "db"), ("done", "db")]),
        );
        let started_at = engine_time("2025-03-02T09:00:00Z").unwrap();
        book.edit(|r| {
            for (i, id) in ["s", "c", "d"].iter().enumerate() {
                let slot = r.slot(Which::Main(i)).unwrap();
                slot.container_id = Some((*id).into());
                slot.state = State::Running {
                    started_at: started_at.clone(),
                };
            }
            r.slot(Which::Main(2)).unwrap().state = State::Terminated {
                exit_code: 0,
                reason: "Completed".into(),
                message: None,
                started_at: None,
                finished_at: started_at.clone(),
            };
        });
        let replacements = Replacements::default();
        let updated = pod(&[("step", "busybox"), ("sidecar", "nop"), ("done", "nop")]);
        assert_eq!(changed(&updated, &book, &replacements), ["c"]);
        assert_eq!(replacements.take("sidecar").as_deref(), Some("nop"));
        assert_eq!(replacements.take("sidecar"), None);
        assert_eq!(replacements.take("done"), None);
        assert_eq!(replacements.take("step"), None);
    }
}
