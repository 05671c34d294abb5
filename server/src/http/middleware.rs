//! Middleware of the API router: every error answer has the JSON error shape, and a 413 closes
//! the connection.

use std::any::Any;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::{ApiError, ErrorBody};

/// A 413 is answered before the rest of the body is read, so the connection cannot carry
/// another request: say so, or a client that pools connections sends its next request into a
/// socket the server is closing.
pub async fn close_after_too_large(mut resp: Response) -> Response {
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        resp.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// Gives the errors that axum and tower-http answer themselves the JSON error shape: 413 from
/// the body limit (`body_too_large`), 404 for unknown routes, 405 for unknown methods. JSON
/// answers (e.g. `photo_too_large`) and the web console's HTML pages pass through.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !matches!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_json {
        return resp;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(
            "body_too_large",
            "the request body is larger than this endpoint accepts",
        )
        .into_response(),
        StatusCode::NOT_FOUND => ApiError::NotFound("route").into_response(),
        _ => {
            let allow = resp.headers().get(header::ALLOW).cloned();
            let body = ErrorBody {
                reason: "method_not_allowed".into(),
                message: "this route does not accept that method".into(),
            };
            let mut out = (status, Json(body)).into_response();
            if let Some(allow) = allow {
                out.headers_mut().insert(header::ALLOW, allow);
            }
            out
        }
    }
}

pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = %detail, "handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(ErrorBody {
            reason: "internal".into(),
            message: "internal error; it has been logged".into(),
        }),
    )
        .into_response()
}
