//! Fuzz targets for every decoder of untrusted input (docs/reliability.md, "Fuzzing"):
//!
//! | target | what it feeds |
//! |---|---|
//! | `sync_request` | the CBOR sync request and its gzip layer, decoded and checked against the limits |
//! | `sync_push` | Automerge changes pushed through `POST /v1/sync`: merge, schema, write policy, commit |
//! | `photo_upload` | photo declarations, upload part lists and thumbnails (`/v1/photos/...`) |
//! | `csv_import` | the administration's CSV imports of every kind |
//! | `tokens` | access tokens (JWT), in the verifier and as a bearer header, and refresh tokens |
//! | `query_filters` | the query strings of `/v1/visits`, `/v1/orders` and the history |
//!
//! Each target is a function of the input bytes that panics when the server breaks a promise:
//! a 5xx answer (a panic inside a handler surfaces as one), an error without its
//! machine-readable reason and message, or a decoder that accepts what it cannot re-encode.
//! The HTTP targets drive the real router in process ([`harness`]), with the demo tenant on
//! SQLite and photos on local disk, signed in as a rep and as an administrator.
//!
//! Two runners: libFuzzer through `cargo fuzz` (nightly; `scripts/fuzz.sh`, entry points in
//! `fuzz_targets/`), and the stable test suite (`tests/decoders.rs`), which runs every
//! checked-in corpus and regression input and a bounded number of mutations of them.

pub mod harness;
pub mod mutate;
pub mod seeds;
pub mod targets;
