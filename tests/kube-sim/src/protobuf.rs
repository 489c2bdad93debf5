//! Just enough of Kubernetes' protobuf encoding to read the bodies kubectl's typed clients
//! send where kube-sim must understand them: `kubectl drain` POSTs its `Eviction` as
//! protobuf (kubectl's clientset prefers `application/vnd.kubernetes.protobuf`), and an
//! eviction that could not be read would leave drain unable to work.
//!
//! # Design
//!
//! A Kubernetes protobuf body is the magic `k8s\0` followed by a `runtime.Unknown` message
//! (field 1 `typeMeta` {1 `apiVersion`, 2 `kind`}, field 2 `raw`: the object's own message).
//! The reader walks the wire format (varints, length-delimited fields, skipping the fixed
//! widths) and picks the fields it knows out of the `Eviction` (1 `metadata` {1 `name`,
//! 3 `namespace`}, 2 `deleteOptions` {1 `gracePeriodSeconds`, 2 `preconditions` {1 `uid`,
//! 2 `resourceVersion`}, 3 `orphanDependents`, 4 `propagationPolicy`, 5 `dryRun`}); the
//! result is the object as JSON, so everything after decoding is shared with JSON bodies.
//!
//! # Invariants
//!
//! - Malformed input is an error, never a panic or an out-of-bounds read.
//!
//! # Not yet
//!
//! - Any other kind: protobuf bodies of other requests are still refused with 415.

use serde_json::{json, Map, Value};

/// The prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the protobuf body: {0}")]
pub struct ProtobufError(String);

/// One field of a message: its number and value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| ProtobufError("truncated varint".into()))?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtobufError("varint longer than 10 bytes".into()))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtobufError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| ProtobufError("field runs past the end".into()))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    /// The next (field number, value), skipping fixed-width values; `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, ProtobufError> {
        loop {
            if self.at >= self.bytes.len() {
                return Ok(None);
            }
            let key = self.varint()?;
            let number = key >> 3;
            match key & 7 {
                0 => return Ok(Some((number, Field::Varint(self.varint()?)))),
                1 => {
                    self.take(8)?;
                }
                2 => {
                    let length = usize::try_from(self.varint()?)
                        .map_err(|_| ProtobufError("length too large".into()))?;
                    return Ok(Some((number, Field::Bytes(self.take(length)?))));
                }
                5 => {
                    self.take(4)?;
                }
                other => return Err(ProtobufError(format!("unsupported wire type {other}"))),
            }
        }
    }
}

/// Every field of `message`, in order.
fn fields(message: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ProtobufError> {
    let mut reader = Reader::new(message);
    let mut out = Vec::new();
    while let Some(field) = reader.next()? {
        out.push(field);
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtobufError("a string is not UTF-8".into()))
}

/// The `runtime.Unknown` envelope: (apiVersion, kind, raw message).
pub fn envelope(body: &[u8]) -> Result<(String, String, &[u8]), ProtobufError> {
    let inner = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| ProtobufError("missing the k8s\\0 prefix".into()))?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (number, field) in fields(inner)? {
        match (number, field) {
            (1, Field::Bytes(type_meta)) => {
                for (n, f) in fields(type_meta)? {
                    match (n, f) {
                        (1, Field::Bytes(v)) => api_version = text(v)?,
                        (2, Field::Bytes(v)) => kind = text(v)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(bytes)) => raw = bytes,
            _ => {}
        }
    }
    Ok((api_version, kind, raw))
}

fn object_meta(message: &[u8]) -> Result<Value, ProtobufError> {
    let mut meta = Map::new();
    for (number, field) in fields(message)? {
        match (number, field) {
            (1, Field::Bytes(v)) => {
                meta.insert("name".into(), json!(text(v)?));
            }
            (3, Field::Bytes(v)) => {
                meta.insert("namespace".into(), json!(text(v)?));
            }
            _ => {}
        }
    }
    Ok(Value::Object(meta))
}

/// A `meta.v1.DeleteOptions` message as its JSON form.
pub fn delete_options(message: &[u8]) -> Result<Value, ProtobufError> {
    let mut options = Map::new();
    let mut dry_run = Vec::new();
    for (number, field) in fields(message)? {
        match (number, field) {
            // int64 is two's complement in a varint: the cast is the decoding.
            (1, Field::Varint(v)) => {
                options.insert("gracePeriodSeconds".into(), json!(v as i64));
            }
            (2, Field::Bytes(preconditions)) => {
                let mut map = Map::new();
                for (n, f) in fields(preconditions)? {
                    match (n, f) {
                        (1, Field::Bytes(v)) => {
                            map.insert("uid".into(), json!(text(v)?));
                        }
                        (2, Field::Bytes(v)) => {
                            map.insert("resourceVersion".into(), json!(text(v)?));
                        }
                        _ => {}
                    }
                }
                options.insert("preconditions".into(), Value::Object(map));
            }
            (3, Field::Varint(v)) => {
                options.insert("orphanDependents".into(), json!(v != 0));
            }
            (4, Field::Bytes(v)) => {
                options.insert("propagationPolicy".into(), json!(text(v)?));
            }
            (5, Field::Bytes(v)) => dry_run.push(json!(text(v)?)),
            _ => {}
        }
    }
    if !dry_run.is_empty() {
        options.insert("dryRun".into(), Value::Array(dry_run));
    }
    Ok(Value::Object(options))
}

/// A protobuf `Eviction` body as the JSON object a client would have sent.
pub fn eviction(body: &[u8]) -> Result<Value, ProtobufError> {
    let (api_version, kind, raw) = envelope(body)?;
    let mut object = json!({ "apiVersion": api_version, "kind": kind });
    for (number, field) in fields(raw)? {
        match (number, field) {
            (1, Field::Bytes(meta)) => object["metadata"] = object_meta(meta)?,
            (2, Field::Bytes(options)) => object["deleteOptions"] = delete_options(options)?,
            _ => {}
        }
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn bytes_field(number: u64, value: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(value.len() as u64, out);
        out.extend_from_slice(value);
    }

    fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
        varint(number << 3, out);
        varint(value, out);
    }

    /// An Eviction encoded as client-go encodes it.
    fn encoded(grace: Option<i64>) -> Vec<u8> {
        let mut meta = Vec::new();
        bytes_field(1, b"web-1", &mut meta);
        bytes_field(3, b"shop", &mut meta);
        let mut preconditions = Vec::new();
        bytes_field(1, b"uid-1", &mut preconditions);
        let mut options = Vec::new();
        if let Some(grace) = grace {
            varint_field(1, grace as u64, &mut options);
        }
        bytes_field(2, &preconditions, &mut options);
        bytes_field(4, b"Background", &mut options);
        bytes_field(5, b"All", &mut options);
        let mut eviction = Vec::new();
        bytes_field(1, &meta, &mut eviction);
        bytes_field(2, &options, &mut eviction);
        let mut type_meta = Vec::new();
        bytes_field(1, b"policy/v1", &mut type_meta);
        bytes_field(2, b"Eviction", &mut type_meta);
        let mut unknown = Vec::new();
        bytes_field(1, &type_meta, &mut unknown);
        bytes_field(2, &eviction, &mut unknown);
        bytes_field(4, b"", &mut unknown);
        // A fixed64 field nobody knows is skipped.
        varint(9 << 3 | 1, &mut unknown);
        unknown.extend_from_slice(&[0; 8]);
        let mut body = MAGIC.to_vec();
        body.extend(unknown);
        body
    }

    #[test]
    fn an_eviction_reads_as_its_json_form() {
        let object = eviction(&encoded(Some(-1))).unwrap();
        assert_eq!(
            object,
            json!({
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": { "name": "web-1", "namespace": "shop" },
                "deleteOptions": {
                    "gracePeriodSeconds": -1,
                    "preconditions": { "uid": "uid-1" },
                    "propagationPolicy": "Background",
                    "dryRun": ["All"],
                },
            })
        );
        let object = eviction(&encoded(None)).unwrap();
        assert!(object["deleteOptions"].get("gracePeriodSeconds").is_none());
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let good = encoded(Some(5));
        assert!(eviction(b"{\"kind\":\"Eviction\"}").is_err());
        for cut in [5, 9, good.len() - 3] {
            assert!(eviction(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut long_varint = MAGIC.to_vec();
        long_varint.extend([0x08].iter().chain([0xff; 11].iter()));
        assert!(eviction(&long_varint).is_err());
        let mut group_wire = MAGIC.to_vec();
        group_wire.push(3 << 3 | 3);
        assert!(eviction(&group_wire).is_err());
    }
}
