//! Photos and thumbnails for the console's pages, through the same read scope as the API's
//! photo routes (`scope::named::VisiblePhoto`): a photo no visit of the caller's scope
//! references is 404. The bytes are served by the photo capability's own handlers.

use axum::extract::{Path, State};
use axum::response::Response;

use super::auth::ConsoleUser;
use super::error::{ConsoleError, ConsoleResult};
use crate::photos::{get_photo, get_thumbnail};
use crate::scope::named::{InScope, Named, VisiblePhoto};
use crate::state::AppState;

async fn visible(
    state: &AppState,
    user: ConsoleUser,
    raw: &str,
) -> ConsoleResult<InScope<VisiblePhoto>> {
    let object = VisiblePhoto::load(state.store.as_ref(), &user.principal, raw)
        .await
        .map_err(|_| ConsoleError::NotFound)?
        .ok_or(ConsoleError::NotFound)?;
    Ok(InScope {
        principal: user.principal,
        object,
    })
}

/// `GET /console/photos/{sha256}`: the full-size photo.
pub async fn photo(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(sha256): Path<String>,
) -> ConsoleResult<Response> {
    let photo = visible(&state, user, &sha256).await?;
    Ok(get_photo(State(state), photo).await?)
}

/// `GET /console/photos/{sha256}/thumbnail`.
pub async fn thumbnail(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(sha256): Path<String>,
) -> ConsoleResult<Response> {
    let photo = visible(&state, user, &sha256).await?;
    Ok(get_thumbnail(State(state), photo).await?)
}
