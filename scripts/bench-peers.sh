#!/usr/bin/env bash
# Fieldsync side by side with automerge-repo and samod on one rep-day workload
# (docs/performance.md, "Side by side with peers"; the bench is benches/peers):
#
#   scripts/bench-peers.sh                   20, 100 and 500 devices, then the wire run (release builds)
#   scripts/bench-peers.sh --devices 50,200  other concurrencies (any option of `bench-peers --help`)
#   scripts/bench-peers.sh --smoke           a few seconds, dev build (what scripts/test.sh runs)
#
# Servers, each started by the bench as a child process on loopback with its own data:
#   * Fieldsync on SQLite and on PostgreSQL (a private cluster from scripts/with-postgres.sh
#     --start, stopped and removed at the end);
#   * the automerge-repo sync server: benches/peers/automerge-repo-server (server.mjs, pinned
#     package.json and package-lock.json with integrity hashes), `npm ci` into
#     ~/.cache/fieldsync/automerge-repo-server/<hash of the two files>/ once;
#   * samod: benches/peers/samod-server, a crate outside the workspace with its own lockfile
#     (samod brings axum's websocket feature and tungstenite), built in release into
#     ~/.cache/fieldsync/samod-server/target (a few minutes the first time).
# Node.js and npm are installed from Debian when missing (as root), like the test command's
# other toolchains. Nothing is installed inside the clone.
# Environment: CARGO_TARGET_DIR (default ./target), FIELDSYNC_CACHE (default ~/.cache/fieldsync).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
cache="${FIELDSYNC_CACHE:-$HOME/.cache/fieldsync}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

profile=release
out=release
for arg in "$@"; do
    if [[ "$arg" == "--smoke" ]]; then
        profile=dev
        out=debug
    fi
done

step() { printf '==> %s\n' "$*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
        step "installing nodejs and npm (the automerge-repo server)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
    else
        echo "error: node/npm not found; the automerge-repo server needs them" \
            "(Debian: apt-get install -y nodejs npm)" >&2
        exit 1
    fi
fi

step "automerge-repo server (npm ci, cached)"
repo_src="$root/benches/peers/automerge-repo-server"
key="$(cat "$repo_src/package.json" "$repo_src/package-lock.json" | sha256sum | cut -c1-16)"
repo_dir="$cache/automerge-repo-server/$key"
if [[ ! -f "$repo_dir/.installed" ]]; then
    rm -rf "$repo_dir.partial"
    mkdir -p "$repo_dir.partial"
    cp "$repo_src/package.json" "$repo_src/package-lock.json" "$repo_dir.partial/"
    # Exactly the lockfile's packages, integrity-checked. Not `npm ci`: the lockfile has no
    # entries for cbor-extract's optional native builds (@cbor-extract/*, which the registry
    # this was locked against does not serve; cbor-x then decodes in JavaScript), and `npm ci`
    # refuses a lockfile that lacks optional packages.
    (cd "$repo_dir.partial" &&
        npm install --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error >&2)
    rm -rf "$repo_dir"
    mv "$repo_dir.partial" "$repo_dir"
    touch "$repo_dir/.installed"
fi
cp "$repo_src/server.mjs" "$repo_dir/server.mjs"

step "samod server (release build, cached)"
nice -n 10 cargo build --release --locked --quiet \
    --manifest-path "$root/benches/peers/samod-server/Cargo.toml" \
    --target-dir "$cache/samod-server/target"
samod="$cache/samod-server/target/release/fieldsync-bench-samod-server"

step "fieldsync-server and the bench ($profile build)"
if [[ "$profile" == "dev" ]]; then
    # The test command's own build (same packages and features): a no-op after it.
    nice -n 10 cargo build --workspace --lib --bins --tests --locked --quiet
else
    nice -n 10 cargo build --release --locked --quiet \
        -p fieldsync-server -p fieldsync-bench-peers --bins
fi
bin="$target_dir/$out"

step "PostgreSQL (private cluster)"
pg_dir="$(mktemp -d)"
chmod 755 "$pg_dir"
cleanup() {
    scripts/with-postgres.sh --stop "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap cleanup EXIT
scripts/with-postgres.sh --start "$pg_dir" >/dev/null
# shellcheck disable=SC1091
source "$pg_dir/env"
psql="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)"

"$bin/bench-peers" \
    --fieldsync-server "$bin/fieldsync-server" \
    --automerge-repo-server "$repo_dir" \
    --samod-server "$samod" \
    --pg-url "$FIELDSYNC_TEST_DATABASE_URL" --pg-data "$pg_dir/data" --psql "$psql" \
    "$@"
