//! Fieldsync sync server.
//!
//! Module map (one job each):
//! * [`config`]: typed configuration (defaults < environment < flags) and `--help`.
//! * [`startup`]: [`startup::Application`] builds the app, binds its listeners (port 0 in tests).
//! * [`telemetry`]: tracing subscriber (pretty or JSON), request ids.
//! * [`error`]: the one API error type and its mapping to HTTP.
//! * [`admin`]: `/v1/admin/...`: users, regions, teams, territories, CSV imports.
//! * [`auth`]: passwords, JWTs, the login endpoint and the [`auth::Principal`] extractor.
//! * [`sync`]: `POST /v1/sync`: push (merge, validate, commit) and pull (feed pages).
//! * [`queries`]: `GET /v1/visits`, `/v1/orders`: filtered reads of hydrated documents.
//! * [`history`]: `GET /v1/documents/{id}/history`: a document's audit trail.
//! * [`photos`]: content-addressed photo upload and download.
//! * [`master_data`]: stores, products, credit snapshots delivered to devices.
//! * [`store`]: the relational store traits and their SQLite implementation.
//! * [`blobs`]: the blob store trait and its local-folder implementation.
//! * [`demo`]: the demo tenant (`--demo`, `seed-demo`).
//! * [`feed_events`]: instances learn of each other's commits (PostgreSQL LISTEN/NOTIFY).
//! * [`metrics`]: Prometheus metrics; [`openapi`]: the OpenAPI description.

pub mod admin;
pub mod auth;
pub mod blobs;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod feed_events;
pub mod history;
pub mod http;
pub mod master_data;
pub mod metrics;
pub mod openapi;
pub mod operations;
pub mod photos;
pub mod queries;
pub mod routes;
pub mod scope;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod store;
pub mod sync;
pub mod telemetry;
