//! Stopping and removing containers found by their labels: the engine, not the kubelet's
//! memory, is the truth about what exists, so a container created while its Pod's worker was
//! being cancelled is still found.

use std::collections::HashMap;
use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::query_parameters::{
    ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};
use bollard::Docker;
use futures_util::future::join_all;

/// The ids of every container (running or not) carrying all of `labels` (`key=value`).
pub(super) async fn labelled(
    docker: &Docker,
    labels: Vec<String>,
) -> Result<Vec<String>, DockerError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([("label".to_owned(), labels)])),
        ..Default::default()
    };
    let found = docker.list_containers(Some(options)).await?;
    Ok(found.into_iter().filter_map(|c| c.id).collect())
}

/// Stops each container (SIGTERM, SIGKILL after `grace`), all at once.
pub(super) async fn stop_all(docker: &Docker, ids: &[String], grace: Duration) {
    let t = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
    join_all(ids.iter().map(|id| {
        docker.stop_container(
            id,
            Some(StopContainerOptions {
                t: Some(t),
                signal: None,
            }),
        )
    }))
    .await;
}

/// Removes each container whatever its state; one already gone counts as removed.
pub(super) async fn remove_all(docker: &Docker, ids: &[String]) -> Result<(), DockerError> {
    let results = join_all(ids.iter().map(|id| {
        docker.remove_container(
            id,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
    }))
    .await;
    for result in results {
        match result {
            Ok(())
            | Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            // Removal already in progress (a second sweep racing the first) is fine too.
            Err(DockerError::DockerResponseServerError {
                status_code: 409, ..
            }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Stops (with `grace`) then removes every container carrying `labels`.
pub(super) async fn stop_and_remove(
    docker: &Docker,
    labels: Vec<String>,
    grace: Duration,
) -> Result<(), DockerError> {
    let ids = labelled(docker, labels).await?;
    stop_all(docker, &ids, grace).await;
    remove_all(docker, &ids).await
}
