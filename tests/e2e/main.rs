//! End-to-end tests: a real server on a loopback port (fresh data directory each), real devices
//! built from `fieldsync-client`, real HTTP. See `tests/support` for the harness.

mod api_fuzz;
mod background_sync;
mod bad_input;
mod bindgen;
mod cli_walkthrough;
mod console;
mod crash;
mod cross_checks;
mod db_faults;
mod device_kill;
mod device_sync;
mod flaky_network;
mod identity;
mod instances;
mod kotlin_bindings;
mod live_push;
mod lost_state;
mod near_duplicate_photos;
mod photo_provenance;
mod photo_queue;
mod policy_matrix;
mod python_bindings;
mod queries;
mod read_scopes;
mod replay;
mod rules_on_device;
mod security_documents;
mod security_ids;
mod security_photos;
mod security_slow_clients;
mod thumbnails_first;
mod verdicts;
mod visit_merge;
mod write_policies;
