//! The container engine: which socket (`DOCKER_HOST` or the default), whether it answers and
//! lets this user in, what engine it is (Docker, or Podman through its Docker-compatible API),
//! its cgroup setup, and the free space where it keeps images and containers.

use std::io::ErrorKind;
use std::path::Path;

use bollard::Docker;

use super::Check;
use crate::exec::docker::HOW_TO_START;

/// Below this much free space in the engine's data root, pulls and layers may fail.
pub const LOW_DISK: u64 = 2 << 30;

const NAME: &str = "container engine";

/// Where the engine is when `DOCKER_HOST` is not set (bollard's default on Unix).
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The fix when no engine answers.
fn start_engine() -> String {
    // HOW_TO_START follows an error elsewhere ("start one: ..."); here it stands alone.
    HOW_TO_START.replacen("start one", "start a container engine", 1)
}

/// The engine address adze uses: `DOCKER_HOST`, else Docker's default socket.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| DEFAULT_HOST.to_owned())
}

/// Runs the engine checks; the client when the engine answered, for the image checks.
pub async fn check() -> (Vec<Check>, Option<Docker>) {
    let address = docker_host();
    let socket = address.strip_prefix("unix://");
    // Says where the address came from: a stale DOCKER_HOST is a common cause.
    let host = if std::env::var_os("DOCKER_HOST").is_some() {
        format!("{address} (DOCKER_HOST)")
    } else {
        format!("{address} (default socket)")
    };
    let mut checks = Vec::new();
    if let Some(path) = socket {
        if let Err(e) = std::os::unix::net::UnixStream::connect(path) {
            checks.push(socket_failure(&host, e.kind(), &e.to_string()));
            return (checks, None);
        }
    }
    let docker = match Docker::connect_with_defaults() {
        Ok(d) => d,
        Err(e) => {
            checks.push(Check::fail(
                NAME,
                format!("{host}: {e}"),
                format!("set DOCKER_HOST to the engine's address (unix://PATH or tcp://HOST:PORT), or unset it to use {}", DEFAULT_HOST),
            ));
            return (checks, None);
        }
    };
    let docker = match docker.negotiate_version().await {
        Ok(d) => d,
        Err(e) => {
            checks.push(Check::fail(
                NAME,
                format!("{host} does not answer: {e}"),
                start_engine(),
            ));
            return (checks, None);
        }
    };
    let version = match docker.version().await {
        Ok(v) => v,
        Err(e) => {
            checks.push(Check::fail(
                NAME,
                format!("{host} does not answer /version: {e}"),
                start_engine(),
            ));
            return (checks, None);
        }
    };
    let components: Vec<&str> = version
        .components
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    let kind = engine_kind(&components);
    checks.push(Check::ok(NAME, format!("{host} answers ({kind})")));
    checks.push(Check::ok(
        "engine version",
        format!(
            "{kind} {}, API {}",
            version.version.as_deref().unwrap_or("unknown"),
            version.api_version.as_deref().unwrap_or("unknown")
        ),
    ));
    let info = match docker.info().await {
        Ok(i) => i,
        Err(e) => {
            checks.push(Check::fail(
                "engine info",
                format!("/info failed: {e}"),
                "the engine's log says why (`journalctl -u docker`, or dockerd's output)",
            ));
            return (checks, Some(docker));
        }
    };
    checks.push(cgroup_check(
        info.cgroup_version.map(|v| v.to_string()).as_deref(),
        info.cgroup_driver.map(|d| d.to_string()).as_deref(),
    ));
    let root = info.docker_root_dir.unwrap_or_default();
    checks.push(match (socket, root.is_empty()) {
        (_, true) => Check::warn(
            "disk",
            "the engine does not say where it keeps its data",
            None,
        ),
        (None, false) => Check::ok(
            "disk",
            format!("{root} is on the engine's machine ({address}); not measured from here"),
        ),
        (Some(_), false) => match free_bytes(Path::new(&root)) {
            Ok(free) => disk_check(&root, free),
            Err(e) => Check::warn(
                "disk",
                format!("cannot measure free space of {root}: {e}"),
                None,
            ),
        },
    });
    (checks, Some(docker))
}

/// A socket that cannot be connected to, by why.
fn socket_failure(host: &str, kind: ErrorKind, error: &str) -> Check {
    match kind {
        ErrorKind::PermissionDenied => Check::fail(
            NAME,
            format!("{host}: permission denied"),
            "add your user to the docker group or run with sudo \
             (`sudo usermod -aG docker $USER`, then log in again)",
        ),
        ErrorKind::NotFound => Check::fail(
            NAME,
            format!("{host}: no such socket (no engine listens there)"),
            start_engine(),
        ),
        ErrorKind::ConnectionRefused => Check::fail(
            NAME,
            format!("{host}: connection refused (the engine is not running)"),
            start_engine(),
        ),
        _ => Check::fail(NAME, format!("{host}: {error}"), start_engine()),
    }
}

/// Podman's Docker-compatible API names its engine component "Podman Engine".
fn engine_kind(components: &[&str]) -> &'static str {
    if components.iter().any(|c| c.contains("Podman")) {
        "Podman"
    } else {
        "Docker"
    }
}

/// The cgroup version and driver the engine reports.
fn cgroup_check(version: Option<&str>, driver: Option<&str>) -> Check {
    let version = version.filter(|v| !v.is_empty());
    let driver = driver.filter(|d| !d.is_empty());
    match (version, driver) {
        (Some(v), Some(d)) => Check::ok("cgroup", format!("cgroup v{v}, driver {d}")),
        (_, Some("none")) => Check::warn(
            "cgroup",
            "the engine runs without cgroups (driver none): step resource limits are not applied",
            None,
        ),
        (v, d) => Check::warn(
            "cgroup",
            format!(
                "the engine reports cgroup version {} and driver {}",
                v.unwrap_or("unknown"),
                d.unwrap_or("unknown")
            ),
            None,
        ),
    }
}

/// Free space of the data root, warned about under [`LOW_DISK`].
fn disk_check(root: &str, free: u64) -> Check {
    let text = format!("{} free in {root}", gib(free));
    if free < LOW_DISK {
        Check::warn(
            "disk",
            text,
            Some(format!(
                "make room in {root} (`docker system prune` removes unused images and containers)"
            )),
        )
    } else {
        Check::ok("disk", text)
    }
}

/// Bytes as GiB with one decimal.
fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Free bytes for unprivileged users on the filesystem holding `path`.
fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(ErrorKind::InvalidInput, e))?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `stat` a valid, writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // Both are narrower than u64 on 32-bit targets.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn podman_is_told_from_docker_by_its_components() {
        assert_eq!(engine_kind(&["Podman Engine", "Conmon"]), "Podman");
        assert_eq!(engine_kind(&["Engine", "containerd", "runc"]), "Docker");
        assert_eq!(engine_kind(&[]), "Docker");
    }

    #[test]
    fn a_permission_denied_socket_says_to_join_the_docker_group() {
        let c = socket_failure("unix:///s", ErrorKind::PermissionDenied, "");
        assert_eq!(c.status, Status::Fail);
        assert!(c
            .fix
            .unwrap()
            .starts_with("add your user to the docker group or run with sudo"));
    }

    #[test]
    fn a_missing_socket_says_how_to_start_an_engine() {
        let c = socket_failure("unix:///s", ErrorKind::NotFound, "");
        assert!(c.fix.unwrap().contains("scripts/install-prerequisites.sh"));
    }

    #[test]
    fn little_free_disk_warns() {
        assert_eq!(disk_check("/d", LOW_DISK - 1).status, Status::Warn);
        let ok = disk_check("/d", 10 << 30);
        assert_eq!(
            (ok.status, ok.found.as_str()),
            (Status::Ok, "10.0 GiB free in /d")
        );
    }

    #[test]
    fn cgroup_version_and_driver_are_reported() {
        assert_eq!(
            cgroup_check(Some("2"), Some("systemd")).found,
            "cgroup v2, driver systemd"
        );
        assert_eq!(cgroup_check(None, Some("none")).status, Status::Warn);
    }
}
