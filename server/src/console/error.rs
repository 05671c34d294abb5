//! What the console answers when something goes wrong: an HTML page (or, for an htmx request,
//! an HTML fragment) with the right status. A request without a valid sign-in goes to the
//! sign-in page.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout;
use crate::http::ApiError;

/// An error of a console page.
#[derive(Debug)]
pub enum ConsoleError {
    /// No sign-in, or it expired or was revoked: sign in again.
    SignIn,
    /// Absent, another tenant's or outside the caller's read scope: one answer for all three.
    NotFound,
    /// A form without its CSRF token, or with another session's.
    Csrf,
    /// An API error (store unavailable, bad id, throttled sign-in ...).
    Api(ApiError),
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound(_) => ConsoleError::NotFound,
            ApiError::Unauthorized(_) => ConsoleError::SignIn,
            other => ConsoleError::Api(other),
        }
    }
}

impl From<crate::store::StoreError> for ConsoleError {
    fn from(e: crate::store::StoreError) -> Self {
        ConsoleError::from(ApiError::from(e))
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            ConsoleError::SignIn => return sign_in_redirect(),
            ConsoleError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "Nothing here that you may see. 没有找到。".to_string(),
            ),
            ConsoleError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form refused",
                "This form did not come from your console session (missing or stale security \
                 token). Reload the page and try again."
                    .to_string(),
            ),
            ConsoleError::Api(e) => {
                let status = e.status();
                let message = if status.is_server_error() {
                    // Logged with its cause by the API error itself; shown generic.
                    tracing::error!(error = ?e, "console request failed");
                    "Something went wrong on the server; it has been logged. Try again shortly."
                        .to_string()
                } else {
                    e.to_string()
                };
                (status, "Error", message)
            }
        };
        let body = layout::bare_page(
            title,
            html! {
                main.narrow {
                    h1 { (title) }
                    p.error role="alert" { (message) }
                    p { a href="/console/queue" { "Back to the review queue" } }
                }
            },
        );
        layout::html_response(status, body)
    }
}

/// 303 to the sign-in page; for htmx, `HX-Redirect` so the whole page goes there.
fn sign_in_redirect() -> Response {
    let mut resp = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static("/console/login"))],
    )
        .into_response();
    resp.headers_mut()
        .insert("HX-Redirect", HeaderValue::from_static("/console/login"));
    resp
}
