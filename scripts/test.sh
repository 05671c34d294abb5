#!/usr/bin/env bash
# Runs every check and test of the workspace. This is the README's test command and what CI runs.
#
# Needs the Rust toolchain (cargo, rustfmt, clippy); cargo-nextest is used when present.
# Starts a private PostgreSQL (scripts/with-postgres.sh; installs Debian's package if missing)
# and a single-node Garage S3 server (scripts/with-garage.sh; builds it once with
# `cargo install garage` into ~/.cache/fieldsync, about 10 minutes the first time) so the store
# conformance suites run against SQLite and PostgreSQL, the local folder and S3.
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

# The Python binding tests (tests/e2e/python_bindings.rs) drive the device library from Python
# (stdlib only). Installed here when missing, as CI machines may come without it.
if ! command -v python3 >/dev/null; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
        step "installing python3 (binding tests)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3
    else
        echo "error: python3 not found; the binding tests need it (Debian: apt-get install -y python3)" >&2
        exit 1
    fi
fi

# The web console's browser test (tests/e2e/console.rs) drives a headless Chromium over
# WebDriver: Debian's chromium and chromium-driver, and CJK fonts for the Chinese names in its
# screenshots. Installed here when missing, like python3 above. (`grep -q` would stop reading
# early and, under pipefail, fail the pipeline with fc-list's SIGPIPE: the fonts would be
# installed again on every run.)
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null ||
    ! fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
        step "installing chromium, chromium-driver, fonts-noto-cjk (console browser test)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            chromium chromium-driver fonts-noto-cjk
    else
        echo "error: chromium/chromedriver not found; the console browser test needs them" \
            "(Debian: apt-get install -y chromium chromium-driver fonts-noto-cjk)" >&2
        exit 1
    fi
fi

# The Kotlin binding tests (tests/e2e/kotlin_bindings.rs) compile the Kotlin bindings and a
# Kotlin suite and run them on the JVM: a JDK and JNA from Debian, the pinned Kotlin compiler
# from npm, cached in ~/.cache/fieldsync/kotlin like Garage (seconds when already there).
step "Kotlin toolchain (binding tests)"
scripts/kotlin-toolchain.sh

# The API fuzz test (tests/e2e/api_fuzz.rs) runs schemathesis, pinned and hash-checked from
# PyPI into a virtual environment in ~/.cache/fieldsync (seconds when already there).
step "schemathesis (API fuzz test)"
scripts/api-fuzz-tools.sh

if [[ "${FIELDSYNC_SKIP_LINT:-0}" != "1" ]]; then
    step "rustfmt"
    cargo fmt --all -- --check
    step "clippy"
    cargo clippy --workspace --all-targets --locked -- -D warnings
fi

# One build of everything the tests run: the binaries the end-to-end tests start (server, device
# CLI, uniffi-bindgen, the app library) and the test executables. Same targets and features as
# the test runner's own build, so that one is a no-op (a `--bins` build without the tests
# resolves features differently and compiled the workspace a second time).
step "build"
cargo build --workspace --lib --bins --tests --locked

step "tests (with a private PostgreSQL and Garage)"
if cargo nextest --version >/dev/null 2>&1; then
    # The workspace has no doctests (nextest does not run them): examples live in tests.
    scripts/with-postgres.sh scripts/with-garage.sh cargo nextest run --workspace --locked --no-fail-fast
else
    scripts/with-postgres.sh scripts/with-garage.sh cargo test --workspace --locked --no-fail-fast
fi

# The benchmarks' smoke modes, so they never rot: seconds each, no timing assertions, but every
# document must be stored with its expected heads and every device must finish. The peers bench
# needs Node.js (installed from Debian when missing) and builds the samod server once into
# ~/.cache/fieldsync/samod-server (a few minutes the first time; seconds when cached).
step "benchmark smoke runs (peers, morning storm, the storm through server kills)"
scripts/bench-peers.sh --smoke
scripts/bench-storm.sh --smoke
# The storm through 5 SIGKILLs of the server: no acknowledged change may be lost.
scripts/bench-storm.sh --smoke --kills 5
