#!/usr/bin/env bash
# Runs every check and test of the workspace. This is the README's test command and what CI runs.
#
# Needs the Rust toolchain (cargo, rustfmt, clippy); cargo-nextest is used when present.
# Starts a private PostgreSQL for the run (scripts/with-postgres.sh; installs Debian's package
# if it is missing) so the store conformance suite runs against both SQLite and PostgreSQL.
# Environment:
#   CARGO_TARGET_DIR   where to build (default: ./target). CI points it outside the clone.
#   FIELDSYNC_SKIP_LINT=1  skip rustfmt/clippy (for quick local iterations only).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found; install the Rust toolchain (https://rustup.rs)" >&2
    exit 1
fi

if [[ "${FIELDSYNC_SKIP_LINT:-0}" != "1" ]]; then
    step "rustfmt"
    cargo fmt --all -- --check
    step "clippy"
    cargo clippy --workspace --all-targets --locked -- -D warnings
fi

step "build (binaries are used by the end-to-end tests)"
cargo build --workspace --bins --locked

step "tests (with a private PostgreSQL)"
if cargo nextest --version >/dev/null 2>&1; then
    # The workspace has no doctests (nextest does not run them): examples live in tests.
    scripts/with-postgres.sh cargo nextest run --workspace --locked --no-fail-fast
else
    scripts/with-postgres.sh cargo test --workspace --locked --no-fail-fast
fi
