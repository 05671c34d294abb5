//! HTTP glue shared by every capability: the error type and its JSON answer ([`ApiError`],
//! [`ErrorBody`]), reading request bodies within limits ([`body`]) and the middleware that gives
//! the answers axum and tower-http make themselves the same shape (`middleware`), and what
//! keeps slow clients from holding the server: the accept loop with its header-read timeout
//! and connection cap ([`listener`]) and the body-idle timeout ([`timeouts`]).
//!
//! Lower errors (store, blob store, protocol) become [`ApiError`] here, through `From` impls in
//! [`error`]: the layers below know nothing of HTTP.

pub mod body;
pub mod error;
pub mod listener;
mod middleware;
pub mod timeouts;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use middleware::{close_after_too_large, json_errors, panic_response};
