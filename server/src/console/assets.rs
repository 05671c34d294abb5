//! The console's static files, compiled into the binary: htmx (vendored from the npm package
//! `htmx.org` 2.0.11, BSD Zero Clause licence in `assets/htmx.LICENSE`, SHA-256 in
//! docs/console.md), the stylesheet and the small script (keyboard shortcuts, live queue).
//! Nothing is fetched at run time.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub const HTMX_PATH: &str = "/console/assets/htmx-2.0.11.min.js";
pub const CSS_PATH: &str = "/console/assets/console.css";
pub const JS_PATH: &str = "/console/assets/console.js";

const HTMX: &str = include_str!("assets/htmx.min.js");
const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// `GET /console/assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Versioned by the binary: an hour is long enough for a review session.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}
