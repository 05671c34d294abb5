//! The responses that every operation of a kind shares, added in one place rather than on each
//! handler: they come from the layers and extractors in front of the handlers, not from the
//! handlers themselves.
//!
//! * Bearer authentication: every operation except [`PUBLIC`] is behind the `Principal`
//!   extractor, so it declares the `bearer` scheme and answers 401 `unauthorized`.
//! * Administration: every `/v1/admin/...` operation answers 403 `forbidden` to non-admins.
//! * JSON bodies (axum's `Json` extractor): 400 `malformed_body`, 413 `body_too_large`,
//!   415 `unsupported_media_type`.
//! * Query strings (axum's `Query` extractor): 400 `invalid_query`.
//!
//! A response a handler already documents keeps its description; the shared reason is appended.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// Operations reachable without a token: `(path, method)`.
const PUBLIC: &[(&str, &str)] = &[
    ("/health", "get"),
    ("/v1/auth/login", "post"),
    ("/v1/auth/refresh", "post"),
];

/// Adds the shared responses (and the bearer requirement) to every operation of `doc`.
pub fn add(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
            ("head", &mut item.head),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                add_to_operation(path, method, operation);
            }
        }
    }
}

fn add_to_operation(path: &str, method: &str, operation: &mut Operation) {
    if !PUBLIC.contains(&(path, method)) {
        operation.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        error(
            operation,
            401,
            "`unauthorized`: missing, malformed or expired token, or its session or device was revoked",
        );
    }
    if path.starts_with("/v1/admin/") {
        error(
            operation,
            403,
            "`forbidden`: only administrators may use /v1/admin",
        );
    }
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    if json_body {
        error(
            operation,
            400,
            "`malformed_body`: not JSON, or not of the described shape",
        );
        error(
            operation,
            413,
            "`body_too_large`: larger than the server's body limit",
        );
        error(
            operation,
            415,
            "`unsupported_media_type`: Content-Type is not application/json",
        );
    }
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    if has_query {
        error(
            operation,
            400,
            "`invalid_query`: a query parameter of the wrong type or format",
        );
    }
}

/// Documents `status` with the JSON error body, or appends `reason` to its description.
fn error(operation: &mut Operation, status: u16, reason: &str) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(&status.to_string()) {
        Some(RefOr::T(response)) => {
            if !response.description.contains(reason_code(reason)) {
                response.description = format!("{}; {reason}", response.description);
            }
            response
                .content
                .entry("application/json".into())
                .or_insert_with(error_content);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            responses.insert(status.to_string(), RefOr::T(error_response(reason)));
        }
    }
}

/// The `` `code` `` a reason starts with.
fn reason_code(reason: &str) -> &str {
    reason.split(':').next().unwrap_or(reason)
}

fn error_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build()
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", error_content())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(path: &str, method: &str) -> Operation {
        let doc = crate::openapi::spec();
        let item = doc.paths.paths.get(path).expect("path described");
        match method {
            "get" => item.get.clone(),
            "post" => item.post.clone(),
            _ => unreachable!(),
        }
        .expect("operation described")
    }

    #[test]
    fn secured_operations_declare_bearer_and_401_public_ones_do_not() {
        let me = operation("/v1/me", "get");
        assert!(me.security.is_some());
        assert!(me.responses.responses.contains_key("401"));
        let login = operation("/v1/auth/login", "post");
        assert!(login.security.is_none());
        assert!(login.responses.responses.contains_key("415"));
    }

    #[test]
    fn admin_operations_answer_403() {
        let users = operation("/v1/admin/users", "get");
        assert!(users.responses.responses.contains_key("403"));
        assert!(users.responses.responses.contains_key("401"));
    }
}
