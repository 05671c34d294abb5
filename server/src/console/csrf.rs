//! CSRF protection of every console form.
//!
//! Signed-in forms carry a synchronizer token: 256 random bits made at sign-in, stored with
//! the console session (`console_sessions.csrf_token`) and written into every form (hidden
//! field `csrf`) and into htmx requests (header `X-CSRF-Token`, from the page's
//! `hx-headers`). A POST whose token is missing or is not its session's is refused (403)
//! before it does anything. The sign-in form, which has no session yet, carries a token that
//! must equal its own `HttpOnly`, `SameSite=Strict` cookie. The cookies themselves are
//! `SameSite=Strict`, so other sites' pages cannot even send them.

use axum::http::HeaderMap;
use base64::Engine;

use super::error::{ConsoleError, ConsoleResult};
use crate::http::ApiError;

/// The form field every console form carries.
pub const FIELD: &str = "csrf";
/// The header htmx requests carry it in.
pub const HEADER: &str = "X-CSRF-Token";

/// 256 random bits, base64url: a session token, a CSRF token.
pub fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Equal, in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the token a request presents (form field, else header) against `expected`.
pub fn check(expected: &str, form_token: Option<&str>, headers: &HeaderMap) -> ConsoleResult<()> {
    let presented = form_token.filter(|t| !t.is_empty()).or_else(|| {
        headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.is_empty())
    });
    match presented {
        Some(token) if !expected.is_empty() && same(token, expected) => Ok(()),
        _ => {
            tracing::warn!("console form refused: missing or wrong CSRF token");
            Err(ConsoleError::Csrf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same(&a, &a[..42]));
    }

    #[test]
    fn a_missing_or_wrong_token_is_refused() {
        let headers = HeaderMap::new();
        assert!(check("secret", None, &headers).is_err());
        assert!(check("secret", Some(""), &headers).is_err());
        assert!(check("secret", Some("other"), &headers).is_err());
        assert!(check("", Some(""), &headers).is_err());
        assert!(check("secret", Some("secret"), &headers).is_ok());
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, "secret".parse().unwrap());
        assert!(check("secret", None, &headers).is_ok());
    }
}
