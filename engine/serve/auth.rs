//! The token that guards the dashboard and the API when the server listens beyond loopback.
//! Webhooks are not guarded by it: senders authenticate through their interceptors.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::app::App;

/// Lets the request through when it carries the token, or when no token is configured.
pub(super) async fn require_token(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(&app, &request) {
        next.run(request).await
    } else {
        denied()
    }
}

/// Whether the request may see the dashboard or the API.
pub(super) fn authorized(app: &App, request: &Request) -> bool {
    match app.options.token.as_deref() {
        None => true,
        Some(token) => presented(request).is_some_and(|t| same(t.as_bytes(), token.as_bytes())),
    }
}

/// The cookie that spares a browser the `?token=` after its first page.
pub(super) fn cookie_for(app: &App, request: &Request) -> Option<String> {
    let token = app.options.token.as_deref()?;
    let from_query = request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .map(str::to_string)
    })?;
    same(from_query.as_bytes(), token.as_bytes())
        .then(|| format!("adze_token={token}; Path=/; HttpOnly; SameSite=Strict"))
}

/// The `401` for a request without the token.
pub(super) fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"adze\"")],
        axum::Json(serde_json::json!({
            "error": "this adze serve needs a token: send `Authorization: Bearer TOKEN` \
                      (or open /?token=TOKEN once in a browser)"
        })),
    )
        .into_response()
}

/// The token a request carries: bearer header, cookie, or query parameter.
fn presented(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    for cookies in headers.get_all(header::COOKIE) {
        let Ok(cookies) = cookies.to_str() else {
            continue;
        };
        for pair in cookies.split(';') {
            if let Some(v) = pair.trim().strip_prefix("adze_token=") {
                return Some(v.to_string());
            }
        }
    }
    request.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .map(str::to_string)
    })
}

/// Constant-time equality, so the comparison does not tell how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
