//! OWNER: sync helper. `POST /v1/sync`.
