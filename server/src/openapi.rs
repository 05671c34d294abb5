//! The OpenAPI description served at `/openapi.json` on the operations listener: the platform
//! endpoints (this crate's auth, photos, master data, health) merged with the sync and query
//! APIs, with the Bearer security scheme.
//!
//! The shared crate has no I/O and no utoipa dependency, so its JSON types are described here by
//! documentation-only mirrors (`*Schema`) that serialise the same way.

#![allow(dead_code)] // The mirror structs exist only for their schemas.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// `fieldsync_shared::master::UserProfile`.
#[derive(ToSchema)]
#[schema(as = UserProfile)]
pub struct UserProfileSchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    tenant_id: String,
    username: String,
    display_name: String,
    /// merchandiser, rep, supervisor, manager or admin.
    #[schema(example = "rep")]
    role: String,
    /// Short code used in order numbers.
    #[schema(example = "R001")]
    code: String,
}

/// `fieldsync_shared::values::Position`.
#[derive(ToSchema)]
#[schema(as = Position)]
pub struct PositionSchema {
    lat: f64,
    lon: f64,
}

/// `fieldsync_shared::master::Store`.
#[derive(ToSchema)]
#[schema(as = Store)]
pub struct StoreSchema {
    #[schema(format = Uuid)]
    id: String,
    #[schema(example = "NKA-001")]
    code: String,
    name: String,
    /// nka, rka, lka or other.
    channel: String,
    /// A, B or C.
    grade: String,
    address: String,
    location: PositionSchema,
    /// Check-in geofence radius, metres.
    geofence_radius_m: u32,
    /// Days between order date and earliest delivery date.
    delivery_lead_days: u32,
}

/// `fieldsync_shared::master::Product`. Money is in minor units (fen).
#[derive(ToSchema)]
#[schema(as = Product)]
pub struct ProductSchema {
    #[schema(example = "COLA-330")]
    sku: String,
    name: String,
    case_pack: u32,
    sold_by_case: bool,
    shelf_life_days: u32,
    list_price: i64,
    floor_price: i64,
}

/// `fieldsync_shared::master::CreditSnapshot`. Money is in minor units (fen).
#[derive(ToSchema)]
#[schema(as = CreditSnapshot)]
pub struct CreditSnapshotSchema {
    #[schema(format = Uuid)]
    store_id: String,
    credit_limit: i64,
    receivables: i64,
    overdue: i64,
    #[schema(format = Date)]
    as_of: String,
}

/// `fieldsync_shared::master::MasterDataPage`.
#[derive(ToSchema)]
#[schema(as = MasterDataPage)]
pub struct MasterDataPageSchema {
    /// Pass back as `since` to get only what changed after this page.
    version: i64,
    stores: Vec<StoreSchema>,
    products: Vec<ProductSchema>,
    credit: Vec<CreditSnapshotSchema>,
    /// Unix milliseconds.
    generated_at: i64,
    /// `stores` (with `credit`) lists every store of the caller's read scope: drop the stores
    /// held that are not listed (after an organisation change, or on a first page).
    stores_complete: bool,
}

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
    paths(
        crate::startup::health,
        crate::auth::sessions::login,
        crate::auth::sessions::refresh,
        crate::auth::sessions::logout,
        crate::auth::sessions::me,
        crate::master_data::master_page,
        crate::photos::head_photo,
        crate::photos::put_photo,
        crate::photos::get_photo,
        crate::photos::photo_url,
        crate::photos::get_thumbnail,
        crate::photos::thumbnails::put_thumbnail,
        crate::photos::uploads::declare,
        crate::photos::uploads::get_upload,
        crate::photos::uploads::part_url,
        crate::photos::uploads::put_part,
        crate::photos::uploads::put_content,
        crate::photos::uploads::complete,
        crate::admin::users::list_users,
        crate::admin::users::create_user,
        crate::admin::users::get_user,
        crate::admin::users::update_user,
        crate::admin::teams::list_regions,
        crate::admin::teams::create_region,
        crate::admin::teams::get_region,
        crate::admin::teams::update_region,
        crate::admin::teams::list_teams,
        crate::admin::teams::create_team,
        crate::admin::teams::get_team,
        crate::admin::teams::update_team,
        crate::admin::territories::list_territories,
        crate::admin::territories::create_territory,
        crate::admin::territories::get_territory,
        crate::admin::territories::update_territory,
        crate::admin::csv_import::import,
        crate::admin::devices::list_devices,
        crate::admin::devices::revoke_device,
    ),
    components(schemas(
        crate::error::ErrorBody,
        crate::auth::LoginRequest,
        crate::auth::LoginResponse,
        crate::auth::DeviceRegistrationBody,
        crate::auth::RefreshRequest,
        crate::auth::sessions::RefreshResponse,
        crate::admin::devices::AdminDevice,
        crate::admin::devices::DeviceList,
        crate::photos::PhotoStored,
        crate::photos::PhotoUrl,
        crate::photos::thumbnails::ThumbnailStored,
        crate::photos::uploads::DeclareUpload,
        crate::photos::uploads::DeclareAnswer,
        crate::photos::uploads::UploadState,
        crate::photos::uploads::PartUrl,
        crate::photos::uploads::CompleteAnswer,
        crate::blobs::PresignedRequest,
        crate::startup::HealthBody,
        UserProfileSchema,
        MasterDataPageSchema,
        StoreSchema,
        ProductSchema,
        CreditSnapshotSchema,
        PositionSchema,
        crate::admin::users::AdminUser,
        crate::admin::users::CreateUser,
        crate::admin::users::UpdateUser,
        crate::admin::teams::RegionView,
        crate::admin::teams::CreateRegion,
        crate::admin::teams::UpdateRegion,
        crate::admin::teams::TeamView,
        crate::admin::teams::CreateTeam,
        crate::admin::teams::UpdateTeam,
        crate::admin::territories::TerritoryView,
        crate::admin::territories::CreateTerritory,
        crate::admin::territories::UpdateTerritory,
        crate::admin::csv_import::ImportReport,
        crate::admin::csv_import::InvalidRows,
        crate::admin::csv_import::RowError,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign in (with device registration), refresh, sign out; the signed-in user"),
        (name = "photos", description = "Content-addressed photo upload and download"),
        (name = "master data", description = "Stores, products and credit snapshots for devices"),
        (name = "operations", description = "Health"),
        (name = "admin", description = "Administration (role admin): users, regions, teams, territories, devices, CSV imports"),
    )
)]
pub struct PlatformApi;

/// The whole served description: platform, sync and query APIs.
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = PlatformApi::openapi();
    doc.merge(crate::sync::SyncApi::openapi());
    doc.merge(crate::queries::QueriesApi::openapi());
    doc.merge(crate::history::HistoryApi::openapi());
    doc
}
