//! The `<alg>=<hex>` HMAC signature of a webhook body (GitHub's `X-Hub-Signature-256`,
//! Bitbucket Server's `X-Hub-Signature`), checked as go-github's `ValidateSignature` does.
//!
//! # Design
//!
//! One pure function over the header value, the body bytes and the key, with upstream's
//! error messages (Go-quoted values, `encoding/hex` reasons) so logs match a Triggers
//! deployment's.
//!
//! # Invariants
//!
//! - The MAC covers the exact bytes given (the received body, never a re-serialisation)
//!   and is compared in constant time; a digest of another length simply fails.
//! - Messages never hold the key.
//!
//! # Not yet
//!
//! - Nothing known.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};

use super::quote::go_quote;

/// Why a signature header does not vouch for a body. The messages are upstream's, so logs
/// read the same as a Tekton Triggers deployment's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum SignatureError {
    /// No `=` between algorithm and digest.
    #[error("error parsing signature {}", go_quote(.signature))]
    Malformed {
        /// The header value.
        signature: String,
    },
    /// The algorithm is not `sha1`, `sha256` or `sha512`.
    #[error("unknown hash type prefix: {}", go_quote(.prefix))]
    UnknownAlgorithm {
        /// What stood before the `=`.
        prefix: String,
    },
    /// The digest is not hex.
    #[error("error decoding signature {}: {reason}", go_quote(.signature))]
    NotHex {
        /// The header value.
        signature: String,
        /// Go's `encoding/hex` message.
        reason: String,
    },
    /// A well-formed signature of some other body or secret.
    #[error("payload signature check failed")]
    Mismatch,
}

/// Checks `signature` (`sha256=<hex>`; `sha1` and `sha512` too, hex in any case) against the
/// HMAC of the exact `body` bytes under `secret`, in constant time.
pub(super) fn verify(signature: &str, body: &[u8], secret: &[u8]) -> Result<(), SignatureError> {
    let (prefix, hex) = signature
        .split_once('=')
        .ok_or_else(|| SignatureError::Malformed {
            signature: signature.to_owned(),
        })?;
    let algorithm = match prefix {
        "sha1" => Algorithm::Sha1,
        "sha256" => Algorithm::Sha256,
        "sha512" => Algorithm::Sha512,
        _ => {
            return Err(SignatureError::UnknownAlgorithm {
                prefix: prefix.to_owned(),
            })
        }
    };
    let digest = decode_hex(hex).map_err(|reason| SignatureError::NotHex {
        signature: signature.to_owned(),
        reason,
    })?;
    let verified = match algorithm {
        Algorithm::Sha1 => matches::<Hmac<sha1::Sha1>>(secret, body, &digest),
        Algorithm::Sha256 => matches::<Hmac<sha2::Sha256>>(secret, body, &digest),
        Algorithm::Sha512 => matches::<Hmac<sha2::Sha512>>(secret, body, &digest),
    };
    verified.then_some(()).ok_or(SignatureError::Mismatch)
}

enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// Whether `digest` is the MAC `M` of `body` under `secret`; `verify_slice` compares in
/// constant time, and a digest of the wrong length just fails.
fn matches<M: Mac + KeyInit>(secret: &[u8], body: &[u8], digest: &[u8]) -> bool {
    let Ok(mut mac) = <M as KeyInit>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(digest).is_ok()
}

/// Hex to bytes with Go's `encoding/hex` errors: the first invalid byte wins over an odd
/// length.
fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    let bytes = hex.as_bytes();
    let invalid = |b: u8| {
        let c = char::from(b);
        if c.is_control() {
            format!("encoding/hex: invalid byte: U+{:04X}", b)
        } else {
            format!("encoding/hex: invalid byte: U+{:04X} {c:?}", b)
        }
    };
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks(2) {
        let high = char::from(pair[0])
            .to_digit(16)
            .ok_or_else(|| invalid(pair[0]))?;
        let Some(&low) = pair.get(1) else {
            return Err("encoding/hex: odd length hex string".into());
        };
        let low = char::from(low).to_digit(16).ok_or_else(|| invalid(low))?;
        out.push((high * 16 + low) as u8);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spec §7 E1: exactly these 185 bytes, no trailing newline.
    pub(crate) const E1_BODY: &str = r#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"full_name":"acme/app","clone_url":"https://github.com/acme/app.git"},"pusher":{"name":"octo"}}"#;

    #[test]
    fn e1_body_verifies_with_sha256_and_sha1() {
        assert_eq!(E1_BODY.len(), 185);
        let sha256 = "sha256=036ac7155c521f803af158bca8e6a4870b975d837df65bbbf464418785a5881a";
        assert_eq!(verify(sha256, E1_BODY.as_bytes(), b"s3cr3t"), Ok(()));
        assert_eq!(
            verify(
                &sha256.to_uppercase().replace("SHA256", "sha256"),
                E1_BODY.as_bytes(),
                b"s3cr3t"
            ),
            Ok(()),
            "hex in any case"
        );
        let sha1 = "sha1=247446ecb30d218ec73080e384c09d32f1be8bd1";
        assert_eq!(verify(sha1, E1_BODY.as_bytes(), b"s3cr3t"), Ok(()));
    }

    #[test]
    fn sha512_verifies_what_it_signs() {
        let mut mac = <Hmac<sha2::Sha512> as KeyInit>::new_from_slice(b"k").unwrap();
        mac.update(b"body");
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(verify(&format!("sha512={hex}"), b"body", b"k"), Ok(()));
        assert_eq!(
            verify(&format!("sha512={hex}"), b"body!", b"k"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn wrong_body_secret_or_length_is_a_mismatch() {
        let sha256 = "sha256=036ac7155c521f803af158bca8e6a4870b975d837df65bbbf464418785a5881a";
        let changed = E1_BODY.replace("octo", "octa");
        assert_eq!(
            verify(sha256, changed.as_bytes(), b"s3cr3t"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(sha256, E1_BODY.as_bytes(), b"s3cr3t\n"),
            Err(SignatureError::Mismatch),
            "secrets are used raw"
        );
        assert_eq!(
            verify("sha256=036a", E1_BODY.as_bytes(), b"s3cr3t"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("sha256=", E1_BODY.as_bytes(), b"s3cr3t")
                .unwrap_err()
                .to_string(),
            "payload signature check failed"
        );
    }

    #[test]
    fn parse_errors_read_like_go_github() {
        let message = |s: &str| verify(s, b"", b"k").unwrap_err().to_string();
        assert_eq!(message("abc"), r#"error parsing signature "abc""#);
        assert_eq!(message("md5=00"), r#"unknown hash type prefix: "md5""#);
        assert_eq!(
            message("SHA256=00"),
            r#"unknown hash type prefix: "SHA256""#
        );
        assert_eq!(
            message("sha256=zz"),
            r#"error decoding signature "sha256=zz": encoding/hex: invalid byte: U+007A 'z'"#
        );
        assert_eq!(
            message("sha1=abc"),
            r#"error decoding signature "sha1=abc": encoding/hex: odd length hex string"#
        );
        assert_eq!(
            message("sha1=abg"),
            r#"error decoding signature "sha1=abg": encoding/hex: invalid byte: U+0067 'g'"#
        );
    }
}
