//! The little of Kubernetes' protobuf encoding kube-sim reads: the bodies of the typed
//! requests kubectl sends only as protobuf — `kubectl drain`'s `Eviction`, `kubectl create
//! token` (TokenRequest) and `kubectl auth can-i` (SelfSubjectAccessReview) — decoded into
//! the JSON the rest of the server handles.
//!
//! # Design
//!
//! A body is the `k8s\0` magic and a `runtime.Unknown` (field 1 `typeMeta` {1 `apiVersion`,
//! 2 `kind`}, field 2 `raw`: the object's own message). Each supported kind is a table of
//! field numbers (from `k8s.io/api`'s `generated.proto`) mapped to JSON names; unknown fields
//! are skipped, as a protobuf reader does.
//!
//! # Invariants
//!
//! - Malformed input is a 400, never a panic or an out-of-bounds read.
//!
//! # Not yet
//!
//! - Every other kind: bodies in protobuf stay 415 elsewhere; responses are always JSON,
//!   which clients accept (they offer `application/json` after protobuf).

use serde_json::{json, Map, Value};

use crate::api_error::ApiError;

/// The prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

/// One field's value on the wire.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

fn malformed() -> ApiError {
    ApiError::BadRequest("malformed protobuf body".to_owned())
}

fn varint(bytes: &[u8], at: &mut usize) -> Result<u64, ApiError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at).ok_or_else(malformed)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(malformed())
}

/// The fields of one message, in order.
fn fields(bytes: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, ApiError> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < bytes.len() {
        let key = varint(bytes, &mut at)?;
        let value = match key & 7 {
            0 => Wire::Varint(varint(bytes, &mut at)?),
            2 => {
                let len = usize::try_from(varint(bytes, &mut at)?).map_err(|_| malformed())?;
                let end = at.checked_add(len).filter(|e| *e <= bytes.len());
                let end = end.ok_or_else(malformed)?;
                let slice = &bytes[at..end];
                at = end;
                Wire::Bytes(slice)
            }
            1 => {
                at = at
                    .checked_add(8)
                    .filter(|e| *e <= bytes.len())
                    .ok_or_else(malformed)?;
                continue;
            }
            5 => {
                at = at
                    .checked_add(4)
                    .filter(|e| *e <= bytes.len())
                    .ok_or_else(malformed)?;
                continue;
            }
            _ => return Err(malformed()),
        };
        out.push((key >> 3, value));
    }
    Ok(out)
}

/// How a field becomes JSON.
enum Field {
    Text(&'static str),
    Texts(&'static str),
    Int(&'static str),
    Bool(&'static str),
    Message(&'static str, &'static [(u64, Field)]),
}

fn decode_message(bytes: &[u8], schema: &[(u64, Field)]) -> Result<Value, ApiError> {
    let mut object = Map::new();
    for (number, wire) in fields(bytes)? {
        let Some((_, field)) = schema.iter().find(|(n, _)| *n == number) else {
            continue;
        };
        let text = |b: &[u8]| {
            String::from_utf8(b.to_vec())
                .map(Value::String)
                .map_err(|_| malformed())
        };
        match (field, wire) {
            (Field::Text(name), Wire::Bytes(b)) => {
                object.insert((*name).to_owned(), text(b)?);
            }
            (Field::Texts(name), Wire::Bytes(b)) => {
                let entry = object.entry(*name).or_insert_with(|| json!([]));
                if let Some(list) = entry.as_array_mut() {
                    list.push(text(b)?);
                }
            }
            // int64 is two's complement on the wire.
            (Field::Int(name), Wire::Varint(v)) => {
                object.insert((*name).to_owned(), json!(v as i64));
            }
            (Field::Bool(name), Wire::Varint(v)) => {
                object.insert((*name).to_owned(), json!(v != 0));
            }
            (Field::Message(name, inner), Wire::Bytes(b)) => {
                object.insert((*name).to_owned(), decode_message(b, inner)?);
            }
            _ => return Err(malformed()),
        }
    }
    Ok(Value::Object(object))
}

const OBJECT_META: &[(u64, Field)] = &[(1, Field::Text("name")), (3, Field::Text("namespace"))];

const TOKEN_REQUEST: &[(u64, Field)] = &[
    (1, Field::Message("metadata", OBJECT_META)),
    (
        2,
        Field::Message(
            "spec",
            &[
                (1, Field::Texts("audiences")),
                (
                    3,
                    Field::Message(
                        "boundObjectRef",
                        &[
                            (1, Field::Text("kind")),
                            (2, Field::Text("apiVersion")),
                            (3, Field::Text("name")),
                            (4, Field::Text("uid")),
                        ],
                    ),
                ),
                (4, Field::Int("expirationSeconds")),
            ],
        ),
    ),
];

const SELF_SUBJECT_ACCESS_REVIEW: &[(u64, Field)] = &[
    (1, Field::Message("metadata", OBJECT_META)),
    (
        2,
        Field::Message(
            "spec",
            &[
                (
                    1,
                    Field::Message(
                        "resourceAttributes",
                        &[
                            (1, Field::Text("namespace")),
                            (2, Field::Text("verb")),
                            (3, Field::Text("group")),
                            (4, Field::Text("version")),
                            (5, Field::Text("resource")),
                            (6, Field::Text("subresource")),
                            (7, Field::Text("name")),
                        ],
                    ),
                ),
                (
                    2,
                    Field::Message(
                        "nonResourceAttributes",
                        &[(1, Field::Text("path")), (2, Field::Text("verb"))],
                    ),
                ),
            ],
        ),
    ),
    // Only so that a status sent along does not fail the decode.
    (3, Field::Message("status", &[(1, Field::Bool("allowed"))])),
];

/// The kinds this module decodes.
const DELETE_OPTIONS: &[(u64, Field)] = &[
    // int64 is two's complement in a varint: `Int` casts it back.
    (1, Field::Int("gracePeriodSeconds")),
    (
        2,
        Field::Message(
            "preconditions",
            &[(1, Field::Text("uid")), (2, Field::Text("resourceVersion"))],
        ),
    ),
    (3, Field::Bool("orphanDependents")),
    (4, Field::Text("propagationPolicy")),
    (5, Field::Texts("dryRun")),
];

const EVICTION: &[(u64, Field)] = &[
    (1, Field::Message("metadata", OBJECT_META)),
    (2, Field::Message("deleteOptions", DELETE_OPTIONS)),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `authentication.k8s.io/v1` TokenRequest.
    TokenRequest,
    /// `authorization.k8s.io/v1` SelfSubjectAccessReview.
    SelfSubjectAccessReview,
    /// `policy/v1` (or `v1beta1`) Eviction: its `apiVersion` is the envelope's.
    Eviction,
}

/// Whether a `Content-Type` is Kubernetes' protobuf.
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|base| base.trim() == "application/vnd.kubernetes.protobuf")
}

/// Decodes a protobuf body of `kind` into its JSON form.
pub fn decode(body: &[u8], kind: Kind) -> Result<Value, ApiError> {
    let envelope = body.strip_prefix(MAGIC).ok_or_else(malformed)?;
    let (mut raw, mut sent_version) = (None, None);
    for (number, wire) in fields(envelope)? {
        match (number, wire) {
            (1, Wire::Bytes(type_meta)) => {
                for (n, w) in fields(type_meta)? {
                    if let (1, Wire::Bytes(v)) = (n, w) {
                        sent_version =
                            Some(String::from_utf8(v.to_vec()).map_err(|_| malformed())?);
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = Some(b),
            _ => {}
        }
    }
    let raw = raw.ok_or_else(malformed)?;
    let (schema, api_version, name) = match kind {
        Kind::TokenRequest => (TOKEN_REQUEST, "authentication.k8s.io/v1", "TokenRequest"),
        Kind::SelfSubjectAccessReview => (
            SELF_SUBJECT_ACCESS_REVIEW,
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
        ),
        Kind::Eviction => (EVICTION, "policy/v1", "Eviction"),
    };
    let api_version = match (kind, sent_version.as_deref()) {
        (Kind::Eviction, Some(sent)) if !sent.is_empty() => sent,
        _ => api_version,
    };
    let mut object = decode_message(raw, schema)?;
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(name);
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `kubectl create token default --duration=20m --audience=aud1
    /// --bound-object-kind=Pod --bound-object-name=p1 --bound-object-uid=u1` sends.
    const KUBECTL_TOKEN_REQUEST: &[u8] = b"k8s\x00\x0a\x28\x0a\x18authentication.k8s.io/v1\
        \x12\x0cTokenRequest\x12\x36\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\x32\x00\
        \x38\x00\x42\x00\x12\x1c\x0a\x04aud1\x1a\x11\x0a\x03Pod\x12\x02v1\x1a\x02p1\x22\x02u1\
        \x20\xb0\x09\x1a\x04\x0a\x00\x12\x00\x1a\x00\x22\x00";

    /// What `kubectl auth can-i get /foo` sends.
    const KUBECTL_CAN_I_PATH: &[u8] = b"k8s\x00\x0a\x32\x0a\x17authorization.k8s.io/v1\x12\
        \x17SelfSubjectAccessReview\x12\x2b\x0a\x10\x0a\x00\x12\x00\x1a\x00\x22\x00\x2a\x00\
        \x32\x00\x38\x00\x42\x00\x12\x0d\x12\x0b\x0a\x04/foo\x12\x03get\x1a\x08\x08\x00\x12\
        \x00\x1a\x00\x20\x00\x1a\x00\x22\x00";

    #[test]
    fn kubectls_token_request_decodes() {
        let object = decode(KUBECTL_TOKEN_REQUEST, Kind::TokenRequest).unwrap();
        assert_eq!(object["kind"], "TokenRequest");
        assert_eq!(
            object["spec"],
            json!({
                "audiences": ["aud1"],
                "expirationSeconds": 1200,
                "boundObjectRef": { "kind": "Pod", "apiVersion": "v1", "name": "p1", "uid": "u1" },
            })
        );
    }

    #[test]
    fn kubectls_access_review_decodes() {
        let object = decode(KUBECTL_CAN_I_PATH, Kind::SelfSubjectAccessReview).unwrap();
        assert_eq!(
            object["spec"]["nonResourceAttributes"],
            json!({ "path": "/foo", "verb": "get" })
        );
    }

    #[test]
    fn garbage_is_a_bad_request_never_a_panic() {
        for body in [
            &b""[..],
            b"k8s",
            b"k8s\x00\x12\xff",
            b"k8s\x00\x12\x05\x0a",
            b"k8s\x00\x12\x02\xff\xff",
            b"k8s\x00\x0a\x00",
            b"k8s\x00\x12\x03\x12\x01\x00",
            b"k8s\x00\x12\x0b\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        ] {
            assert!(decode(body, Kind::TokenRequest).is_err(), "{body:?}");
        }
    }

    fn put_varint(mut n: u64, out: &mut Vec<u8>) {
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
        put_varint(number << 3 | 2, out);
        put_varint(value.len() as u64, out);
        out.extend_from_slice(value);
    }

    fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
        put_varint(number << 3, out);
        put_varint(value, out);
    }

    /// An Eviction encoded as client-go encodes it.
    fn encoded_eviction(grace: Option<i64>) -> Vec<u8> {
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
        put_varint(9 << 3 | 1, &mut unknown);
        unknown.extend_from_slice(&[0; 8]);
        let mut body = MAGIC.to_vec();
        body.extend(unknown);
        body
    }

    #[test]
    fn an_eviction_reads_as_its_json_form() {
        let object = decode(&encoded_eviction(Some(-1)), Kind::Eviction).unwrap();
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
        let object = decode(&encoded_eviction(None), Kind::Eviction).unwrap();
        assert!(object["deleteOptions"].get("gracePeriodSeconds").is_none());
    }

    #[test]
    fn malformed_evictions_are_errors() {
        let good = encoded_eviction(Some(5));
        assert!(decode(b"{\"kind\":\"Eviction\"}", Kind::Eviction).is_err());
        for cut in [5, 9, good.len() - 3] {
            assert!(
                decode(&good[..cut], Kind::Eviction).is_err(),
                "cut at {cut}"
            );
        }
        let mut group_wire = MAGIC.to_vec();
        group_wire.push(3 << 3 | 3);
        assert!(decode(&group_wire, Kind::Eviction).is_err());
    }
}
