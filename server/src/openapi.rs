//! The OpenAPI description served at `/openapi.json` on the operations listener: each
//! capability's part (`*Api`) merged under one title, the tags and the Bearer security scheme.
//! No handler imports this module; it imports them.

mod common_responses;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from POST /v1/auth/login"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fieldsync",
        description = "Offline-first sync server for field sales. Errors are JSON {\"reason\", \"message\"}."
    ),
    components(schemas(crate::http::ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign in (with device registration), refresh, sign out; the signed-in user"),
        (name = "photos", description = "Content-addressed photo upload and download"),
        (name = "master data", description = "Stores, products and credit snapshots for devices"),
        (name = "operations", description = "Health"),
        (name = "plans", description = "Weekly visit plans: generate the caller's week"),
        (name = "targets", description = "Sales targets, their change requests and achievement"),
        (name = "reports", description = "Reports (JSON or CSV) within the caller's read scope"),
        (name = "admin", description = "Administration (role admin): users, regions, teams, territories, devices, CSV imports; approval tiers (everyone reads, managers may set them too)"),
    )
)]
pub struct FieldsyncApi;

/// The whole served description: every capability's part, in the order of the routes.
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = FieldsyncApi::openapi();
    for part in [
        crate::operations::OperationsApi::openapi(),
        crate::sessions::SessionsApi::openapi(),
        crate::master_data::MasterDataApi::openapi(),
        crate::photos::PhotosApi::openapi(),
        crate::reference_photos::ReferencePhotosApi::openapi(),
        crate::admin::AdminApi::openapi(),
        crate::sync::SyncApi::openapi(),
        crate::queries::QueriesApi::openapi(),
        crate::plans::PlansApi::openapi(),
        crate::targets::TargetsApi::openapi(),
        crate::reports::ReportsApi::openapi(),
        crate::history::HistoryApi::openapi(),
        crate::live::LiveApi::openapi(),
    ] {
        doc.merge(part);
    }
    common_responses::add(&mut doc);
    doc
}
