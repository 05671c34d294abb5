#!/usr/bin/env bash
# Runs a command with a private, throw-away Garage (an S3-compatible object store):
#
#     scripts/with-garage.sh cargo test -p fieldsync-server
#     scripts/with-postgres.sh scripts/with-garage.sh cargo nextest run --workspace
#
# 1. finds the garage binary: $FIELDSYNC_GARAGE_BIN, else ~/.cache/fieldsync/garage/bin/garage;
#    if missing, builds it with `cargo install garage --locked --version 2.5.0` into that cache
#    (outside the clone; the first build takes about 10 minutes, later runs reuse it);
# 2. writes a single-node configuration in a new temporary folder (SQLite metadata,
#    replication factor 1, RPC and S3 API on free loopback ports, region `garage`) and starts
#    `garage server` in the background;
# 3. waits until the node answers, assigns and applies its layout, creates the bucket
#    `fieldsync-test` and an access key (random id and secret) allowed to read and write it;
# 4. exports FIELDSYNC_TEST_S3_ENDPOINT (http://127.0.0.1:<port>), FIELDSYNC_TEST_S3_REGION,
#    FIELDSYNC_TEST_S3_BUCKET, FIELDSYNC_TEST_S3_ACCESS_KEY_ID, FIELDSYNC_TEST_S3_SECRET_ACCESS_KEY
#    and FIELDSYNC_TEST_GARAGE_BIN (tests that need a private Garage start their own with it)
#    and runs the command;
# 5. stops Garage and deletes the folder, whatever happened, and exits with the command's
#    exit code.
#
# Any step that fails prints what failed (and Garage's log) and exits non-zero: nothing is
# skipped silently.
#
# Environment:
#   FIELDSYNC_GARAGE_BIN      the garage binary to use (not built when set; must exist).
#   FIELDSYNC_GARAGE_ROOT     cargo install root of the cached build
#                             (default: ~/.cache/fieldsync/garage).
#   FIELDSYNC_GARAGE_KEEP=1   keep the temporary folder (configuration, data, log).
set -euo pipefail

PROG="with-garage"
GARAGE_VERSION="2.5.0"
BUCKET="fieldsync-test"
REGION="garage"

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }

if [[ $# -eq 0 ]]; then
    echo "usage: scripts/with-garage.sh <command> [args...]" >&2
    exit 2
fi

# ---------------------------------------------------------------------------------------------
# 1. The garage binary.

CACHE_HOME="${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}"
GARAGE_ROOT="${FIELDSYNC_GARAGE_ROOT:-$CACHE_HOME/fieldsync/garage}"
if [[ -n "${FIELDSYNC_GARAGE_BIN:-}" ]]; then
    GARAGE="$FIELDSYNC_GARAGE_BIN"
    [[ -x "$GARAGE" ]] || die "FIELDSYNC_GARAGE_BIN=$GARAGE is not an executable file"
else
    GARAGE="$GARAGE_ROOT/bin/garage"
fi

install_garage() {
    command -v cargo >/dev/null 2>&1 ||
        die "garage is not installed at $GARAGE and cargo is not available to build it"
    mkdir -p "$GARAGE_ROOT" || die "cannot create $GARAGE_ROOT"
    # One build at a time (parallel CI jobs, nested scripts): the others wait for it.
    local lock="$GARAGE_ROOT/.install.lock"
    exec 9>"$lock" || die "cannot open $lock"
    if command -v flock >/dev/null 2>&1; then
        flock 9 || die "cannot lock $lock"
    fi
    if [[ ! -x "$GARAGE" ]]; then
        note "garage not found at $GARAGE: building Garage $GARAGE_VERSION with cargo install"
        note "(the first build takes about 10 minutes; later runs reuse $GARAGE_ROOT)"
        # Its own target folder, outside the clone and the workspace's target folder.
        if ! CARGO_TARGET_DIR="$GARAGE_ROOT/../garage-build" \
            cargo install garage --locked --version "$GARAGE_VERSION" --root "$GARAGE_ROOT" >&2; then
            die "cargo install garage --version $GARAGE_VERSION failed (output above)"
        fi
        # The binary is all that is needed: the build folder is most of a gigabyte.
        rm -rf "$GARAGE_ROOT/../garage-build"
    fi
    exec 9>&-
    [[ -x "$GARAGE" ]] || die "cargo install finished but $GARAGE does not exist"
}

[[ -x "$GARAGE" ]] || install_garage
GARAGE="$(cd "$(dirname "$GARAGE")" && pwd)/$(basename "$GARAGE")"

# ---------------------------------------------------------------------------------------------
# 2. A single-node cluster in a temporary folder.

TMP="$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-garage.XXXXXX")" || die "cannot create a temporary folder"
CFG="$TMP/garage.toml"
LOG="$TMP/garage.log"
PID=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    if [[ "${FIELDSYNC_GARAGE_KEEP:-0}" == "1" ]]; then
        note "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail_with_log() {
    if [[ -s "$LOG" ]]; then
        note "last lines of the Garage log ($LOG):"
        tail -n 40 "$LOG" >&2 || true
    fi
    die "$@"
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' &&
            return 0
    fi
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

RPC_SECRET="$(random_hex 32)"
[[ ${#RPC_SECRET} -eq 64 ]] || die "cannot read random bytes for the RPC secret"

garage() { "$GARAGE" -c "$CFG" "$@"; }

start_garage() {
    S3_PORT="$(free_port)" || die "cannot find a free loopback port"
    RPC_PORT="$(free_port)" || die "cannot find a free loopback port"
    [[ "$S3_PORT" != "$RPC_PORT" ]] || return 1
    cat >"$CFG" <<EOF
metadata_dir = "$TMP/meta"
data_dir = "$TMP/data"
db_engine = "sqlite"
replication_factor = 1

rpc_bind_addr = "127.0.0.1:$RPC_PORT"
rpc_public_addr = "127.0.0.1:$RPC_PORT"
rpc_secret = "$RPC_SECRET"

[s3_api]
s3_region = "$REGION"
api_bind_addr = "127.0.0.1:$S3_PORT"
root_domain = ".s3.garage.localhost"
EOF
    chmod 600 "$CFG"
    RUST_LOG="${FIELDSYNC_GARAGE_LOG:-warn}" "$GARAGE" -c "$CFG" server >"$LOG" 2>&1 &
    PID=$!
    # Wait until the node answers (or dies, e.g. a port taken meanwhile).
    for _ in $(seq 1 120); do
        if ! kill -0 "$PID" 2>/dev/null; then
            wait "$PID" 2>/dev/null || true
            PID=""
            return 1
        fi
        if garage status >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.25
    done
    fail_with_log "garage did not answer \`garage status\` within 30 s"
}

started=0
for attempt in 1 2 3; do
    if start_garage; then
        started=1
        break
    fi
    note "garage exited during startup (attempt $attempt)"
    [[ $attempt -lt 3 ]] && grep -qi "address already in use" "$LOG" 2>/dev/null || break
done
[[ $started -eq 1 ]] || fail_with_log "garage did not start (binary $GARAGE)"

# ---------------------------------------------------------------------------------------------
# 3. Layout, bucket, key.

run() {
    local out
    if ! out="$("$@" 2>&1)"; then
        printf '%s\n' "$out" >&2
        fail_with_log "\`${*:2}\` failed (output above)"
    fi
    printf '%s' "$out"
}

NODE_ID="$(run garage node id -q)"
NODE_ID="${NODE_ID%%@*}"
[[ ${#NODE_ID} -ge 16 ]] || fail_with_log "cannot read the node id (got: $NODE_ID)"
run garage layout assign -z dc1 -c 1G "$NODE_ID" >/dev/null
run garage layout apply --version 1 >/dev/null

# The layout takes effect asynchronously: retry the first write for a few seconds.
created=0
for _ in $(seq 1 40); do
    if garage bucket create "$BUCKET" >"$TMP/bucket.out" 2>&1; then
        created=1
        break
    fi
    sleep 0.25
done
if [[ $created -ne 1 ]]; then
    cat "$TMP/bucket.out" >&2
    fail_with_log "cannot create the bucket $BUCKET (output above)"
fi

KEY_ID="GK$(random_hex 12)"
SECRET="$(random_hex 32)"
run garage key import --yes -n fieldsync-test-key "$KEY_ID" "$SECRET" >/dev/null
run garage bucket allow --read --write --owner "$BUCKET" --key "$KEY_ID" >/dev/null

# ---------------------------------------------------------------------------------------------
# 4. Run the command.

export FIELDSYNC_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
export FIELDSYNC_TEST_S3_REGION="$REGION"
export FIELDSYNC_TEST_S3_BUCKET="$BUCKET"
export FIELDSYNC_TEST_S3_ACCESS_KEY_ID="$KEY_ID"
export FIELDSYNC_TEST_S3_SECRET_ACCESS_KEY="$SECRET"
export FIELDSYNC_TEST_GARAGE_BIN="$GARAGE"
note "Garage $GARAGE_VERSION on 127.0.0.1:$S3_PORT, bucket $BUCKET (FIELDSYNC_TEST_S3_* set)"

set +e
"$@"
rc=$?
set -e
exit "$rc"
