//! Fieldsync sync server.
//!
//! Module map, by layer (docs/architecture.md, "Layers of the server"; top first; a module
//! uses only its own layer and those below):
//! * composition: [`cli`] (the command line), [`commands`] (subcommands other than `serve`),
//!   [`startup`] ([`startup::Application`]: builds the state, binds, serves), [`routes`] (both
//!   routers), [`openapi`] (merges each capability's part), [`demo`] (the demo tenant).
//! * capabilities: [`sync`], [`photos`], [`history`], [`queries`], [`master_data`], [`admin`],
//!   [`sessions`] (sign-in endpoints, session purge), [`operations`] (`/health`, `/metrics`),
//!   [`live`] (the live stream `GET /v1/live`).
//! * [`state`]: what every handler shares; gives [`auth`] its [`auth::Verifier`] via `FromRef`.
//! * [`scope`]: who may read what, and the extractor through which every route that takes an id
//!   loads its object; [`auth`]: tokens, passwords, the [`auth::Principal`] extractor.
//! * [`http`]: the one API error type and its mapping to HTTP, body reading, middleware, the API
//!   listener with its timeouts and connection cap.
//! * infrastructure: [`store`], [`blobs`], [`feed_events`], [`metrics`], [`telemetry`],
//!   [`photo_index`] (perceptual hashes of recent photos, per tenant).
//! * [`config`]: every settings type; imports nothing from the crate.

pub mod admin;
pub mod auth;
pub mod blobs;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod demo;
pub mod feed_events;
pub mod history;
pub mod http;
pub mod live;
pub mod master_data;
pub mod metrics;
pub mod openapi;
pub mod operations;
pub mod photo_index;
pub mod photos;
pub mod plans;
pub mod queries;
pub mod reference_photos;
pub mod reports;
pub mod routes;
pub mod scope;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod store;
pub mod sync;
pub mod targets;
pub mod telemetry;
pub mod verdicts;
