//! Administration under `/v1/admin/...`: users, regions, teams, territories, devices, CSV
//! imports, the tenant's approval tiers and its expense budget.
//!
//! Only principals with role `admin` get in (403 otherwise), except for the approval tiers
//! (everyone reads them, managers may set them too: `approval_tiers`); objects of another
//! tenant answer 404, like absent ones. JSON bodies refuse unknown fields (mass assignment) with 422
//! `invalid_body`; values are parsed into the shared newtypes (or the server-side ones below)
//! before anything is stored. Password hashes are never returned.

pub mod approval_tiers;
pub mod csv_import;
pub mod devices;
pub mod expense_budget;
pub mod teams;
pub mod territories;
pub mod users;

use std::fmt;

use axum::Router;
use serde::Deserialize;
use uuid::Uuid;

use fieldsync_shared::master::Role;
use fieldsync_shared::ParseError;

use crate::auth::Principal;
use crate::http::ApiError;
use crate::state::AppState;

/// Largest CSV body accepted by `POST /v1/admin/import/{kind}`: 10 MiB.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// This capability's part of the OpenAPI description.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        users::list_users,
        users::create_user,
        users::get_user,
        users::update_user,
        teams::list_regions,
        teams::create_region,
        teams::get_region,
        teams::update_region,
        teams::list_teams,
        teams::create_team,
        teams::get_team,
        teams::update_team,
        territories::list_territories,
        territories::create_territory,
        territories::get_territory,
        territories::update_territory,
        csv_import::import,
        devices::list_devices,
        devices::revoke_device,
        approval_tiers::get_approval_tiers,
        approval_tiers::put_approval_tiers,
        expense_budget::get_expense_budget,
        expense_budget::put_expense_budget
    ),
    components(schemas(
        devices::AdminDevice,
        expense_budget::ExpenseBudgetBody,
        devices::DeviceList,
        users::AdminUser,
        users::CreateUser,
        users::UpdateUser,
        teams::RegionView,
        teams::CreateRegion,
        teams::UpdateRegion,
        teams::TeamView,
        teams::CreateTeam,
        teams::UpdateTeam,
        territories::TerritoryView,
        territories::CreateTerritory,
        territories::UpdateTerritory,
        csv_import::ImportReport,
        csv_import::InvalidRows,
        csv_import::RowError,
        approval_tiers::ApprovalTiersBody,
        approval_tiers::DiscountLimits,
        approval_tiers::AmountLimits
    ))
)]
pub struct AdminApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(devices::router())
        .merge(expense_budget::router())
        .merge(teams::router())
        .merge(territories::router())
        .merge(approval_tiers::router())
}

/// The CSV import router: it has its own body limit, larger than the JSON one.
pub fn import_router() -> Router<AppState> {
    csv_import::router()
}

/// 403 unless the principal is an administrator.
pub fn require_admin(principal: &Principal) -> Result<(), ApiError> {
    if principal.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only administrators may use /v1/admin".into(),
        ))
    }
}

/// Parses a path id; anything that is not a UUID cannot name an object: 404.
pub fn path_id(s: &str, what: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::NotFound(what))
}

/// A login name: trimmed and lower-cased (as `auth::normalize_username`), 1 to 64
/// characters, no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub const MAX_CHARS: usize = 64;
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = crate::auth::normalize_username(s);
        if s.is_empty() {
            return Err(ParseError::new("username", "must not be empty"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                "username",
                format!("longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(ParseError::new(
                "username",
                format!("character {c:?} not allowed"),
            ));
        }
        Ok(Username(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Username::parse(&s)
    }
}

impl From<Username> for String {
    fn from(n: Username) -> String {
        n.0
    }
}

/// A new password: at least 8 characters (as `user add`), at most 256. Never printed.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let n = s.chars().count();
        if n < 8 {
            return Err(ParseError::new(
                "password",
                "must have at least 8 characters",
            ));
        }
        if n > 256 {
            return Err(ParseError::new("password", "longer than 256 characters"));
        }
        Ok(Password(s.to_string()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Password {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Password::parse(&s)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The hash of a random password nobody knows: a user created without a password cannot sign
/// in until an administrator sets one (`PATCH /v1/admin/users/{id}` with `password`).
pub async fn unusable_password_hash() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(e.to_string()))?;
    crate::auth::hash_password(hex::encode(bytes)).await
}
