//! A private instance of Debian's `docker-registry` (the reference registry) on a free
//! loopback port, with its storage in a temporary directory, and a Tekton bundle builder that
//! pushes through the registry's HTTP API as `tkn bundle push` would: one layer per object,
//! a tar (gzip-compressed) holding the object's YAML, annotated with its kind and name.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::http;

/// A login [`Registry::start_with_login`] accepts: the user, the password, and the
/// password's bcrypt hash (cost 4) for the registry's htpasswd file.
pub const USER: &str = "adze";
/// See [`USER`].
pub const PASSWORD: &str = "bundle-pass";
/// See [`USER`].
pub const HASH: &str = "$2b$04$hIfEfsB/kA..kT8kyX6wPuJ3tlEwJD/XTSYuitaLdAsiE7QHlUZpS";

/// A running registry; stopped on drop.
pub struct Registry {
    pub addr: SocketAddr,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// `Authorization` for the test's own pushes, when the registry requires a login.
    login: Option<String>,
}

/// One object of a bundle: `(kind, name, yaml)`, kind as the annotation spells it.
pub type Object<'a> = (&'a str, &'a str, &'a str);

impl Registry {
    /// Starts `docker-registry serve` on a free port and waits until `/v2/` answers.
    pub fn start() -> Registry {
        Registry::start_with(None)
    }

    /// A registry that requires HTTP basic authentication (its htpasswd backend) as `user`
    /// with `password`, whose bcrypt hash is `hash`.
    pub fn start_with_login(user: &str, password: &str, hash: &str) -> Registry {
        Registry::start_with(Some((user, password, hash)))
    }

    fn start_with(login: Option<(&str, &str, &str)>) -> Registry {
        use base64::Engine as _;
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = free_port();
        let config = dir.path().join("config.yml");
        let mut text = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  \
             delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some((user, _, hash)) = login {
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
            text.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: adze-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        std::fs::write(&config, text).unwrap();
        let login = login.map(|(user, password, _)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )
        });
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect(
                "docker-registry starts (Debian package docker-registry; tests/setup-docker.sh \
                 installs it)",
            );
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let registry = Registry {
            addr,
            child: Some(child),
            dir,
            login,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if registry
                .send("GET", "/v2/", &[], b"")
                .is_ok_and(|r| r.status == 200)
            {
                return registry;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "docker-registry did not answer on {addr}: {}",
            std::fs::read_to_string(registry.dir.path().join("registry.log")).unwrap_or_default()
        );
    }

    /// One request to the registry, logged in when it requires it.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<http::Reply> {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(login) = &self.login {
            all.push(("Authorization", login));
        }
        http::send(self.addr, method, path, &all, body)
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Uploads `bytes` as a blob of `repo` (monolithic upload) and returns its digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let started = self
            .send("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], b"")
            .expect("upload starts");
        assert_eq!(started.status, 202, "upload refused: {}", started.body);
        let location = started
            .header("location")
            .expect("upload location")
            .to_string();
        let path = match location.find("/v2/") {
            Some(i) => &location[i..],
            None => location.as_str(),
        };
        let separator = if path.contains('?') { '&' } else { '?' };
        let done = self
            .send(
                "PUT",
                &format!("{path}{separator}digest={digest}"),
                &[("Content-Type", "application/octet-stream")],
                bytes,
            )
            .expect("upload completes");
        assert_eq!(done.status, 201, "blob refused: {}", done.body);
        digest
    }

    /// Pushes a Tekton bundle of `objects` as `repo:tag`; returns the manifest digest.
    pub fn push_bundle(&self, repo: &str, tag: &str, objects: &[Object<'_>]) -> String {
        let layers: Vec<serde_json::Value> = objects
            .iter()
            .map(|(kind, name, yaml)| {
                let blob = gzip(&tar_of(name, yaml.as_bytes()));
                let digest = self.push_blob(repo, &blob);
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest,
                    "size": blob.len(),
                    "annotations": {
                        "dev.tekton.image.apiVersion": "v1",
                        "dev.tekton.image.kind": kind,
                        "dev.tekton.image.name": name,
                    }
                })
            })
            .collect();
        self.push_manifest(repo, tag, layers)
    }

    /// Pushes a manifest of `layers` (descriptors as JSON) as `repo:tag`; returns its digest.
    pub fn push_manifest(&self, repo: &str, tag: &str, layers: Vec<serde_json::Value>) -> String {
        let config = b"{}";
        let config_digest = self.push_blob(repo, config);
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": layers,
        }))
        .unwrap();
        let put = self
            .send(
                "PUT",
                &format!("/v2/{repo}/manifests/{tag}"),
                &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
                &manifest,
            )
            .expect("manifest push");
        assert_eq!(put.status, 201, "manifest refused: {}", put.body);
        sha256(&manifest)
    }

    /// Changes one byte of the stored blob `digest` (same size), as corruption or tampering
    /// on the registry's disk would.
    pub fn tamper(&self, digest: &str) {
        let hex = digest.trim_start_matches("sha256:");
        let path: PathBuf = self.dir.path().join(format!(
            "data/docker/registry/v2/blobs/sha256/{}/{hex}/data",
            &hex[..2]
        ));
        let mut bytes = std::fs::read(&path).expect("the stored blob");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }

    /// Rewrites the stored manifest `digest` to the same JSON with other whitespace: the
    /// registry still serves it under the digest it was pushed with.
    pub fn tamper_manifest(&self, digest: &str) {
        let hex = digest.trim_start_matches("sha256:");
        let path: PathBuf = self.dir.path().join(format!(
            "data/docker/registry/v2/blobs/sha256/{}/{hex}/data",
            &hex[..2]
        ));
        let text = std::fs::read_to_string(&path).expect("the stored manifest");
        assert!(text.contains("\"schemaVersion\":2,"), "{text}");
        std::fs::write(
            &path,
            text.replace("\"schemaVersion\":2,", "\"schemaVersion\": 2,"),
        )
        .unwrap();
    }

    /// Stops the registry: later requests find nothing listening.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `sha256:<hex>`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// A tar archive holding one file `name`.
pub fn tar_of(name: &str, content: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, name, content).unwrap();
    builder.into_inner().unwrap()
}

/// `data` gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
