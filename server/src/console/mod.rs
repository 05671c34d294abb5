//! The supervisors' web console (docs/console.md): server-rendered HTML under `/console`,
//! with htmx (vendored, [`assets`]) for in-page updates.
//!
//! The console is another client of the same rules, not a back door: a sign-in is an ordinary
//! device session ([`auth`]), every read goes through the caller's read scope (404 outside
//! it), and every decision is an Automerge change under that session's own actor, pushed
//! through the same merge and write policy as a phone's sync ([`decisions`]).
//!
//! One file per page or concern: [`auth`] (sign-in, the signed-in extractor, sign-out),
//! [`csrf`] (tokens on every form), [`layout`] (the page shell), [`queue`] (visits awaiting
//! review), [`visit`] (one visit), [`plot`] (the store, its geofence and the positions, as
//! SVG), [`live`] (the queue's live updates), [`orders`] (orders awaiting approval), [`decisions`] (approve / reject),
//! [`reports`] (the managers' reports), [`chart`] (their charts, as SVG), [`shelf`] (a
//! store's shelf as recorded at a past visit),
//! [`findings`] (what a visit is flagged for), [`directory`] (names of stores, people,
//! products), [`photos`] (photos and thumbnails through the scope), [`error`] (error pages).

mod assets;
mod auth;
mod chart;
mod competitors;
mod csrf;
mod decisions;
mod directory;
mod error;
mod findings;
mod layout;
mod live;
mod orders;
mod photos;
mod plot;
mod queue;
mod reports;
mod shelf;
mod visit;

use axum::http::header;
use axum::middleware;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::live::open_streams::OpenStreams;
use crate::state::AppState;

/// Where the console lives.
pub const BASE: &str = "/console";

/// The console's routes (none when it is switched off).
pub fn router(state: &AppState) -> Router<AppState> {
    if !state.config.console.enabled {
        return Router::new();
    }
    let streams = OpenStreams::new(&state.config.live, state.metrics.clone());
    let csp = layout::content_security_policy(state.blobs.download_origin());
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/queue") }))
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/queue") }),
        )
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/logout", post(auth::logout))
        .route("/console/queue", get(queue::queue_page))
        .route("/console/visits/{id}", get(visit::visit_page))
        .route(
            "/console/visits/{id}/decision",
            post(decisions::decide_visit),
        )
        .route("/console/orders", get(orders::orders_page))
        .route(
            "/console/orders/{id}/decision",
            post(decisions::decide_order),
        )
        .route(
            reports::visit_frequency::PAGE,
            get(reports::visit_frequency::page),
        )
        .route(
            "/console/reports/visit-frequency.xlsx",
            get(reports::visit_frequency::xlsx),
        )
        .route(reports::rep_weekly::PAGE, get(reports::rep_weekly::page))
        .route(
            "/console/reports/rep-weekly.xlsx",
            get(reports::rep_weekly::xlsx),
        )
        .route(reports::monthly::PAGE, get(reports::monthly::page))
        .route("/console/reports/monthly.xlsx", get(reports::monthly::xlsx))
        .route(
            reports::store_opportunity::PAGE,
            get(reports::store_opportunity::page),
        )
        .route(
            "/console/reports/store-opportunity.xlsx",
            get(reports::store_opportunity::xlsx),
        )
        .route("/console/stores/{id}/shelf", get(shelf::page))
        .route(reports::agreements::PAGE, get(reports::agreements::page))
        .route(
            "/console/reports/agreements.xlsx",
            get(reports::agreements::xlsx),
        )
        .route("/console/photos/{sha256}", get(photos::photo))
        .route("/console/photos/{sha256}/thumbnail", get(photos::thumbnail))
        .route("/console/assets/{file}", get(assets::asset))
        .route("/console/live", get(live::live))
        .layer(Extension(streams))
        .layer(middleware::map_response(move |mut resp: Response| {
            resp.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, csp.clone());
            std::future::ready(resp)
        }))
}
