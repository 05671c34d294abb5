#!/usr/bin/env bash
# The morning storm (docs/performance.md, "Morning storm"; the generator is benches/storm):
# many devices of the device SDK, each its own user, installation and store, push their day and
# pull within a window against one Fieldsync server on SQLite, then on PostgreSQL.
#
#   scripts/bench-storm.sh                      2,000 devices within 60 s (release builds)
#   scripts/bench-storm.sh --devices 500 --window-secs 30
#   scripts/bench-storm.sh --server-env FIELDSYNC_SYNC_MAX_IN_FLIGHT=4   (server settings)
#   scripts/bench-storm.sh --smoke              20 devices within 5 s, dev build (scripts/test.sh)
#   scripts/bench-storm.sh --kills 50           the crash loop: the server SIGKILLed 50 times
#                                               during the window; counts acknowledged changes lost
#
# PostgreSQL is a private cluster from scripts/with-postgres.sh --start, stopped and removed at
# the end. Environment: CARGO_TARGET_DIR (default ./target).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
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

step "fieldsync-server and the storm ($profile build)"
if [[ "$profile" == "dev" ]]; then
    # The test command's own build (same packages and features): a no-op after it.
    nice -n 10 cargo build --workspace --lib --bins --tests --locked --quiet
else
    nice -n 10 cargo build --release --locked --quiet \
        -p fieldsync-server -p fieldsync-bench-storm --bins
fi
bin="$target_dir/$out"

# Every device holds a few files open while it syncs, and the server a socket per device.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

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

"$bin/bench-storm" \
    --fieldsync-server "$bin/fieldsync-server" \
    --pg-url "$FIELDSYNC_TEST_DATABASE_URL" --pg-data "$pg_dir/data" --psql "$psql" \
    "$@"
