//! The content of one Tekton bundle layer: a tar archive holding one file (gzip-compressed or
//! not), or, as Tekton also accepts, the object's bytes themselves.
//!
//! # Invariants
//!
//! - Decompression stops at the cap: a small compressed layer cannot expand past it.

use std::io::Read;

/// Why a layer cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// The layer expands past the cap.
    #[error("the layer expands to more than the {0}-byte limit; refused")]
    TooLarge(u64),
    /// gzip data that does not decompress.
    #[error("the layer is gzip data that does not decompress: {0}")]
    Gzip(String),
    /// A compression adze does not read.
    #[error("the layer is compressed with {0}, which adze does not read (use gzip or none)")]
    Compression(&'static str),
    /// The content is not text.
    #[error("the layer's content is not UTF-8 text")]
    NotText,
}

/// The object text stored in `blob`, expanded to at most `limit` bytes.
pub fn layer_text(blob: &[u8], limit: u64) -> Result<String, LayerError> {
    let expanded;
    let data: &[u8] = if blob.starts_with(&[0x1f, 0x8b]) {
        expanded = gunzip(blob, limit)?;
        &expanded
    } else if blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(LayerError::Compression("zstd"));
    } else {
        blob
    };
    let content = match first_tar_file(data, limit)? {
        Some(file) => file,
        // Tekton reads a layer that is not a tarball as the object itself.
        None => data.to_vec(),
    };
    String::from_utf8(content).map_err(|_| LayerError::NotText)
}

/// Room for the tar headers and padding around a file of the capped size.
const TAR_OVERHEAD: u64 = 64 * 1024;

fn gunzip(blob: &[u8], limit: u64) -> Result<Vec<u8>, LayerError> {
    let mut out = Vec::new();
    let cap = limit.saturating_add(TAR_OVERHEAD);
    flate2::read::GzDecoder::new(blob)
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| LayerError::Gzip(e.to_string()))?;
    if out.len() as u64 > cap {
        return Err(LayerError::TooLarge(limit));
    }
    Ok(out)
}

/// The first regular file of the tar archive `data`; `None` when `data` is not a tar archive.
fn first_tar_file(data: &[u8], limit: u64) -> Result<Option<Vec<u8>>, LayerError> {
    // A tar header is 512 bytes with "ustar" at 257 (POSIX and GNU); anything else is raw.
    if data.len() < 512 || &data[257..262] != b"ustar" {
        return Ok(None);
    }
    let mut archive = tar::Archive::new(data);
    let Ok(entries) = archive.entries() else {
        return Ok(None);
    };
    for entry in entries {
        let Ok(entry) = entry else {
            return Ok(None);
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        if entry.size() > limit {
            return Err(LayerError::TooLarge(limit));
        }
        let mut content = Vec::new();
        if entry.take(limit + 1).read_to_end(&mut content).is_err() {
            return Ok(None);
        }
        return Ok(Some(content));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(name: &str, content: &[u8]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, content).unwrap();
        builder.into_inner().unwrap()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn tar_gzip_tar_and_raw_layers_all_yield_the_object() {
        let yaml = b"kind: Task\n";
        assert_eq!(
            layer_text(&tar_of("task", yaml), 1024).unwrap(),
            "kind: Task\n"
        );
        assert_eq!(
            layer_text(&gzip(&tar_of("task", yaml)), 1024).unwrap(),
            "kind: Task\n"
        );
        assert_eq!(layer_text(yaml, 1024).unwrap(), "kind: Task\n");
        assert_eq!(layer_text(&gzip(yaml), 1024).unwrap(), "kind: Task\n");
    }

    #[test]
    fn a_layer_expanding_past_the_cap_is_refused() {
        let big = vec![b'a'; 200_000];
        let compressed = gzip(&big);
        assert!(compressed.len() < 2000);
        assert_eq!(
            layer_text(&compressed, 10_000),
            Err(LayerError::TooLarge(10_000))
        );
        assert_eq!(
            layer_text(&tar_of("task", &big), 10_000),
            Err(LayerError::TooLarge(10_000))
        );
    }

    #[test]
    fn zstd_and_binary_layers_are_refused_by_name() {
        assert_eq!(
            layer_text(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0], 100),
            Err(LayerError::Compression("zstd"))
        );
        assert_eq!(
            layer_text(&[0xff, 0xfe, 0x00], 100),
            Err(LayerError::NotText)
        );
    }
}
