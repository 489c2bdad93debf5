//! Every way a request can fail, rendered as the `metav1.Status` object Kubernetes sends, with
//! its `reason`, `code` and message worded as the real API server words them.
//!
//! # Design
//!
//! Clients branch on `reason` and `code` (kube-rs's `ErrorResponse`, client-go's
//! `apierrors.IsConflict`), and people read `message`; both come from one [`ApiError`] variant,
//! so a handler never builds a Status by hand.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A failed request, as Kubernetes would report it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The object (or namespace) does not exist.
    #[error("{resource} \"{name}\" not found")]
    NotFound {
        /// The resource's plural name (`pods`, `namespaces`).
        resource: String,
        /// The object's name.
        name: String,
    },
    /// The path names nothing this server serves.
    #[error("the server could not find the requested resource")]
    NoRoute,
    /// An object of that name already exists.
    #[error("{resource} \"{name}\" already exists")]
    AlreadyExists {
        /// The resource's plural name.
        resource: String,
        /// The object's name.
        name: String,
    },
    /// The write was based on a stale `resourceVersion` or a failed precondition.
    #[error("Operation cannot be fulfilled on {resource} \"{name}\": {detail}")]
    Conflict {
        /// The resource's plural name.
        resource: String,
        /// The object's name.
        name: String,
        /// Why, e.g. "the object has been modified; ...".
        detail: String,
    },
    /// The object fails validation.
    #[error("{kind} \"{name}\" is invalid: {field}: {detail}")]
    Invalid {
        /// The object's kind (`ConfigMap`).
        kind: String,
        /// The object's name (may be empty).
        name: String,
        /// The offending field path (`metadata.name`).
        field: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The request itself is malformed (bad JSON, bad selector, bad patch).
    #[error("{0}")]
    BadRequest(String),
    /// The request carries no bearer token, or not this server's.
    #[error("Unauthorized")]
    Unauthorized,
    /// Not allowed, e.g. creating in a namespace that is being deleted.
    #[error("{0}")]
    Forbidden(String),
    /// The authorizer refused the request (RBAC); worded by [`crate::rbac::forbidden`].
    #[error("{message}")]
    Denied {
        /// The API group of the resource asked for.
        group: String,
        /// The resource's plural name (without subresource).
        resource: String,
        /// The object's name, if the request names one.
        name: String,
        /// The whole message.
        message: String,
    },
    /// The verb is not served on this path.
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    /// The patch or body type is not supported here.
    #[error(
        "the body of the request was in an unknown format - accepted media types include: {0}"
    )]
    UnsupportedMediaType(String),
    /// The body exceeds the server's limit.
    #[error("Request entity too large: limit is {0}")]
    TooLarge(usize),
    /// A watch asked for history the server no longer keeps.
    #[error("too old resource version: {requested} ({oldest})")]
    Expired {
        /// The resourceVersion asked for.
        requested: u64,
        /// The oldest one still available.
        oldest: u64,
    },
    /// Refused for now, e.g. an eviction a PodDisruptionBudget does not allow at the moment.
    #[error("{message}")]
    TooManyRequests {
        /// What was refused.
        message: String,
        /// Why, as `details.causes` (cause type such as `DisruptionBudget`, message).
        causes: Vec<(String, String)>,
        /// When to ask again (`details.retryAfterSeconds` and `Retry-After`); 0: no advice.
        retry_after_seconds: u32,
    },
    /// Something failed inside the server (the Docker engine, the kubelet).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status code.
    pub fn code(&self) -> StatusCode {
        match self {
            ApiError::NotFound { .. } | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Denied { .. } => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Expired { .. } => StatusCode::GONE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Kubernetes' `reason` (`metav1.StatusReason`).
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } | ApiError::NoRoute => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Unauthorized => "Unauthorized",
            ApiError::Forbidden(_) | ApiError::Denied { .. } => "Forbidden",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::TooLarge(_) => "RequestEntityTooLarge",
            ApiError::Expired { .. } => "Expired",
            ApiError::TooManyRequests { .. } => "TooManyRequests",
            ApiError::Internal(_) => "InternalError",
        }
    }

    /// The `metav1.Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code().as_u16(),
        });
        let details = match self {
            ApiError::NotFound { resource, name }
            | ApiError::AlreadyExists { resource, name }
            | ApiError::Conflict { resource, name, .. } => {
                Some(json!({ "name": name, "kind": resource }))
            }
            ApiError::Invalid {
                kind,
                name,
                field,
                detail,
            } => Some(json!({
                "name": name,
                "kind": kind,
                "causes": [{ "reason": "FieldValueInvalid", "message": detail, "field": field }],
            })),
            ApiError::TooManyRequests {
                causes,
                retry_after_seconds,
                ..
            } => {
                let causes: Vec<Value> = causes
                    .iter()
                    .map(|(kind, message)| json!({ "reason": kind, "message": message }))
                    .collect();
                let mut details = json!({ "causes": causes });
                if *retry_after_seconds > 0 {
                    details["retryAfterSeconds"] = json!(retry_after_seconds);
                }
                Some(details)
            }
            ApiError::Denied {
                group,
                resource,
                name,
                ..
            } => {
                // Empty fields are left out, as Go's `omitempty` does.
                let mut details = serde_json::Map::new();
                for (key, value) in [("name", name), ("group", group), ("kind", resource)] {
                    if !value.is_empty() {
                        details.insert(key.to_owned(), json!(value));
                    }
                }
                Some(Value::Object(details))
            }
            _ => None,
        };
        if let Some(details) = details {
            status["details"] = details;
        }
        status
    }

    /// A 404 for `resource "name"`.
    pub fn not_found(resource: &str, name: &str) -> ApiError {
        ApiError::NotFound {
            resource: resource.to_owned(),
            name: name.to_owned(),
        }
    }

    /// A 409 Conflict for a stale `resourceVersion`.
    pub fn stale(resource: &str, name: &str) -> ApiError {
        ApiError::Conflict {
            resource: resource.to_owned(),
            name: name.to_owned(),
            detail: "the object has been modified; please apply your changes to the latest \
                     version and try again"
                .to_owned(),
        }
    }

    /// A 422 for one field of an object.
    pub fn invalid(kind: &str, name: &str, field: &str, detail: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            kind: kind.to_owned(),
            name: name.to_owned(),
            field: field.to_owned(),
            detail: detail.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.to_status().to_string();
        let mut response = (
            self.code(),
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if let ApiError::TooManyRequests {
            retry_after_seconds,
            ..
        } = &self
        {
            if *retry_after_seconds > 0 {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(*retry_after_seconds),
                );
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_update_is_worded_as_kubernetes_words_it() {
        let status = ApiError::stale("configmaps", "cm").to_status();
        assert_eq!(status["code"], 409);
        assert_eq!(status["reason"], "Conflict");
        assert_eq!(
            status["message"],
            "Operation cannot be fulfilled on configmaps \"cm\": the object has been modified; \
             please apply your changes to the latest version and try again"
        );
        assert_eq!(status["details"]["kind"], "configmaps");
    }

    #[test]
    fn not_found_names_the_resource() {
        let status = ApiError::not_found("namespaces", "nope").to_status();
        assert_eq!(status["message"], "namespaces \"nope\" not found");
        assert_eq!(status["code"], 404);
    }
}
