//! A throwaway certificate authority and the certificates it signs, made with the `openssl`
//! command: for the tests of `adze serve`'s HTTPS and of the catalog's `tls-check`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA (`ca.crt`, `ca.key`, valid a year) in `dir`, and what it signs beside it.
pub struct Pki {
    /// Where the CA and every certificate and key live.
    pub dir: PathBuf,
}

impl Pki {
    /// Creates `dir` (if need be) and a CA in it.
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).expect("create the PKI directory");
        let pki = Pki {
            dir: dir.to_path_buf(),
        };
        pki.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "365",
            "-subj",
            "/CN=adze-test-ca",
        ]);
        pki
    }

    /// The CA's certificate.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// Signs `name.pem` (key `name.key`) for 127.0.0.1 and localhost, with subject `CN=cn`,
    /// for `usage` (`serverAuth`|`clientAuth`), valid `days` days: (certificate, key).
    pub fn issue(&self, name: &str, cn: &str, usage: &str, days: u32) -> (PathBuf, PathBuf) {
        let (key, csr, pem, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        std::fs::write(
            self.dir.join(&ext),
            format!("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage={usage}\n"),
        )
        .expect("write the extensions file");
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={cn}"),
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            &days.to_string(),
            "-extfile",
            &ext,
        ]);
        (self.dir.join(pem), self.dir.join(key))
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
