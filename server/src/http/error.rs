//! The one error type of the HTTP API and its mapping to responses.
//!
//! Every error answers JSON `{"reason": "<snake_case>", "message": "<for people>"}`. Internal
//! errors are logged with their cause and answered with a generic message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use fieldsync_shared::protocol::ProtocolError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with a reason code.
    #[error("{message}")]
    BadRequest {
        reason: &'static str,
        message: String,
    },
    /// 401: missing, malformed, expired or otherwise invalid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 401 at login: unknown tenant, unknown user and wrong password answer the same.
    #[error("unknown tenant, unknown user or wrong password")]
    InvalidCredentials,
    /// 403: authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 403 with a reason code (e.g. `device_required`).
    #[error("{message}")]
    ForbiddenBecause {
        reason: &'static str,
        message: String,
    },
    /// 404: absent, or present but not visible to the principal (indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: conflicts with stored state.
    #[error("{message}")]
    Conflict {
        reason: &'static str,
        message: String,
    },
    /// 413: a size limit.
    #[error("{message}")]
    TooLarge {
        reason: &'static str,
        message: String,
    },
    /// 415: wrong content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 415: a `Content-Encoding` the endpoint does not decode.
    #[error("{0}")]
    UnsupportedContentEncoding(String),
    /// 422: well-formed but semantically invalid.
    #[error("{message}")]
    Unprocessable {
        reason: &'static str,
        message: String,
    },
    /// 429 with Retry-After seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503 with Retry-After seconds: a dependency (database, object store) is unavailable.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// 500: logged with its cause, answered generically.
    #[error(transparent)]
    Internal(#[from] anyhow_like::InternalError),
}

/// A boxed internal cause (kept private to this crate's error handling).
pub mod anyhow_like {
    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    pub struct InternalError(pub Box<dyn std::error::Error + Send + Sync>);
}

impl ApiError {
    pub fn internal<E: Into<Box<dyn std::error::Error + Send + Sync>>>(e: E) -> Self {
        ApiError::Internal(anyhow_like::InternalError(e.into()))
    }
    pub fn bad_request(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            reason,
            message: message.into(),
        }
    }
    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError::ForbiddenBecause {
            reason,
            message: message.into(),
        }
    }
    pub fn unprocessable(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            reason,
            message: message.into(),
        }
    }
    pub fn too_large(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError::TooLarge {
            reason,
            message: message.into(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.status_and_reason().0
    }

    fn status_and_reason(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { reason, .. } => (StatusCode::BAD_REQUEST, reason),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::ForbiddenBecause { reason, .. } => (StatusCode::FORBIDDEN, reason),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict { reason, .. } => (StatusCode::CONFLICT, reason),
            ApiError::TooLarge { reason, .. } => (StatusCode::PAYLOAD_TOO_LARGE, reason),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::UnsupportedContentEncoding(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_content_encoding",
            ),
            ApiError::Unprocessable { reason, .. } => (StatusCode::UNPROCESSABLE_ENTITY, reason),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, snake_case.
    pub reason: String,
    /// Explanation for people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, reason) = self.status_and_reason();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                "internal error; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let mut resp = (
            status,
            axum::Json(ErrorBody {
                reason: reason.to_string(),
                message,
            }),
        )
            .into_response();
        let retry = match &self {
            ApiError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        if let Some(secs) = retry {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        let reason = e.reason();
        match e {
            ProtocolError::LimitExceeded { .. } => ApiError::TooLarge {
                reason,
                message: e.to_string(),
            },
            ProtocolError::UnsupportedEncoding(_) => {
                ApiError::UnsupportedContentEncoding(e.to_string())
            }
            ProtocolError::UnknownDocumentKind(_) | ProtocolError::DuplicateDocument(_) => {
                ApiError::Unprocessable {
                    reason,
                    message: e.to_string(),
                }
            }
            ProtocolError::Malformed(_) | ProtocolError::UnsupportedVersion { .. } => {
                ApiError::BadRequest {
                    reason,
                    message: e.to_string(),
                }
            }
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Unavailable(msg) => ApiError::Unavailable {
                message: msg,
                retry_after_secs: 5,
            },
            StoreError::Conflict(msg) => ApiError::Conflict {
                reason: "conflict",
                message: msg,
            },
            StoreError::NotFound(what) => ApiError::NotFound(what),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::blobs::BlobError> for ApiError {
    fn from(e: crate::blobs::BlobError) -> Self {
        use crate::blobs::BlobError;
        match e {
            BlobError::Unavailable(msg) => ApiError::Unavailable {
                message: msg,
                retry_after_secs: 5,
            },
            other => ApiError::internal(other),
        }
    }
}

/// A JSON body axum could not take: wrong content type (415), too large (413), or not the
/// expected shape (400 `malformed_body`).
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection;
        match &e {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType(e.body_text())
            }
            _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::too_large("body_too_large", e.body_text())
            }
            _ => ApiError::bad_request("malformed_body", e.body_text()),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", e.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        ApiError::bad_request("invalid_path", e.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
