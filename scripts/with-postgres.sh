#!/usr/bin/env bash
# Runs a command with a private, throw-away PostgreSQL server:
#
#     scripts/with-postgres.sh cargo test -p fieldsync-server
#
# 1. finds initdb/pg_ctl (PATH, then /usr/lib/postgresql/*/bin); if missing, installs Debian's
#    `postgresql` package (apt-get; needs root or sudo);
# 2. creates a cluster in a new temporary folder: as root, owned by and run as the unprivileged
#    system user `fieldsync-pg` (PostgreSQL refuses to run as root);
# 3. starts it on a free loopback port (unix socket in the temporary folder, fsync off: for
#    tests only) and waits until it accepts connections;
# 4. exports FIELDSYNC_TEST_DATABASE_URL=postgres://fieldsync:<random>@127.0.0.1:<port>/postgres
#    (a superuser, so tests can create their own databases) and runs the command;
# 5. stops the server and deletes the folder, whatever happened, and exits with the command's
#    exit code.
#
# A cluster of one's own, for a test that must stop and start PostgreSQL under a running server
# (tests/e2e/db_faults.rs; restarting the shared cluster would break the tests running beside
# it). The caller owns <dir> and deletes it when done:
#
#     scripts/with-postgres.sh --start <dir>     create a cluster in <dir> (steps 1-3 above, the
#                                                folder is <dir>) and leave it running; prints
#                                                `export FIELDSYNC_TEST_DATABASE_URL=...` and
#                                                writes the same assignment to <dir>/env
#     scripts/with-postgres.sh --stop <dir>      stop it (pg_ctl stop -m fast; nothing to do if
#                                                it is not running)
#     scripts/with-postgres.sh --restart <dir>   start it again on the same data and port (stops
#                                                it first if it is running)
#
# Any step that fails prints what failed and exits non-zero: nothing is skipped silently.
#
# Environment:
#   FIELDSYNC_PG_USER   system user that runs PostgreSQL when this script runs as root
#                       (default: fieldsync-pg; created if missing).
#   FIELDSYNC_PG_KEEP=1 keep the temporary folder (logs) after the command.
set -euo pipefail

PROG="with-postgres"
PG_USER="${FIELDSYNC_PG_USER:-fieldsync-pg}"

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }

usage() {
    cat >&2 <<'EOF'
usage: scripts/with-postgres.sh <command> [args...]
       scripts/with-postgres.sh --start <dir> | --stop <dir> | --restart <dir>
EOF
    exit 2
}

if [[ $# -eq 0 ]]; then
    usage
fi

MODE=run
CLUSTER_DIR=""
case "$1" in
--start | --stop | --restart)
    [[ $# -eq 2 && -n "$2" ]] || usage
    MODE="${1#--}"
    CLUSTER_DIR="$2"
    ;;
-*)
    usage
    ;;
esac

# ---------------------------------------------------------------------------------------------
# 1. PostgreSQL binaries.

find_bindir() {
    local initdb
    if initdb="$(command -v initdb 2>/dev/null)" && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$initdb")"
        return 0
    fi
    local dir
    # Newest installed major version first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_postgresql() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "PostgreSQL (initdb, pg_ctl) is not installed and this is not root: install Debian's 'postgresql' package (apt-get install postgresql)"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "PostgreSQL (initdb, pg_ctl) is not installed and apt-get is not available: install the PostgreSQL server binaries"
    note "PostgreSQL not found: installing Debian's postgresql package"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
        die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 ||
        die "apt-get install postgresql failed"
}

if ! BINDIR="$(find_bindir)"; then
    install_postgresql
    BINDIR="$(find_bindir)" ||
        die "postgresql was installed but initdb/pg_ctl are not in PATH nor in /usr/lib/postgresql/*/bin"
fi
for tool in initdb pg_ctl pg_isready; do
    [[ -x "$BINDIR/$tool" ]] || die "$BINDIR/$tool is missing"
done

# ---------------------------------------------------------------------------------------------
# 2. A cluster, run by an unprivileged user.

AS_USER=()

# Fallback when runuser is missing: su with an explicit shell (the user has none).
setpriv_su() {
    local cmd
    printf -v cmd '%q ' "$@"
    su -s /bin/sh "$PG_USER" -c "$cmd"
}

as_pg() { "${AS_USER[@]}" "$@"; }

# As root: PostgreSQL runs as $PG_USER (created if missing), who gets the folder $1.
run_as_unprivileged_user() {
    local folder="$1"
    [[ $(id -u) -eq 0 ]] || return 0
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
            "$PG_USER" 2>/dev/null || id -u "$PG_USER" >/dev/null 2>&1 ||
            die "cannot create the system user $PG_USER to run PostgreSQL (it refuses to run as root)"
    fi
    chown "$PG_USER" "$folder" || die "cannot give $folder to $PG_USER"
    local as_pg_check=(runuser -u "$PG_USER" -- test -x "$folder")
    if command -v runuser >/dev/null 2>&1 && ! "${as_pg_check[@]}" 2>/dev/null; then
        die "$PG_USER cannot reach $folder: its parent folders must be searchable by others (chmod o+x)"
    fi
    if command -v runuser >/dev/null 2>&1; then
        AS_USER=(runuser -u "$PG_USER" --)
    else
        AS_USER=(setpriv_su)
    fi
}

# initdb of $DATA with superuser `fieldsync` and a new random $PASSWORD; TCP needs the password,
# the private socket does not. Logs in $1.
init_cluster() {
    local folder="$1"
    PASSWORD="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
    [[ ${#PASSWORD} -eq 32 ]] || die "cannot read random bytes for the password"
    printf '%s\n' "$PASSWORD" >"$folder/pwfile"
    chmod 600 "$folder/pwfile"
    [[ ${#AS_USER[@]} -eq 0 ]] || chown "$PG_USER" "$folder/pwfile"
    if ! as_pg "$BINDIR/initdb" -D "$DATA" --username=fieldsync --pwfile="$folder/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        >"$folder/initdb.log" 2>&1; then
        cat "$folder/initdb.log" >&2
        die "initdb failed (output above)"
    fi
    rm -f "$folder/pwfile"
}

# ---------------------------------------------------------------------------------------------
# 3. Start on a free loopback port.

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' &&
            return 0
    fi
    local port i
    for i in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if command -v ss >/dev/null 2>&1; then
            [[ -z "$(ss -Htan "sport = :$port" 2>/dev/null)" ]] && { echo "$port"; return 0; }
        elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# Starts the cluster in $DATA on port $1 (socket in $2, log $LOG); non-zero if it did not start.
start_cluster() {
    local port="$1" socket_dir="$2"
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 -o "-p $port \
        -c listen_addresses=127.0.0.1 -c unix_socket_directories=$socket_dir \
        -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1
}

# Starts the cluster on a free port (sets PORT and STARTED=1); a port taken between picking and
# binding is retried with another one.
start_on_free_port() {
    local socket_dir="$1" attempt
    for attempt in 1 2 3; do
        PORT="$(free_port)" || die "cannot find a free loopback port"
        if start_cluster "$PORT" "$socket_dir"; then
            STARTED=1
            return 0
        fi
        if ! grep -q "could not bind\|Address already in use" "$LOG" 2>/dev/null || [[ $attempt -eq 3 ]]; then
            tail -n 30 "$LOG" >&2 2>/dev/null || true
            die "PostgreSQL did not start (server log above, binaries in $BINDIR)"
        fi
    done
}

wait_ready() {
    local port="$1"
    for _ in $(seq 1 60); do
        if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port"; then
            return 0
        fi
        sleep 0.5
    done
    tail -n 30 "$LOG" >&2 2>/dev/null || true
    die "PostgreSQL on 127.0.0.1:$port does not accept connections (server log above)"
}

is_running() { as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

stop_cluster() {
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_pg "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------------
# A cluster of one's own: --start / --stop / --restart <dir>.

if [[ $MODE != run ]]; then
    mkdir -p "$CLUSTER_DIR" || die "cannot create $CLUSTER_DIR"
    CLUSTER_DIR="$(cd "$CLUSTER_DIR" && pwd)"
    DATA="$CLUSTER_DIR/data"
    LOG="$CLUSTER_DIR/postgres.log"
    STARTED=0
    run_as_unprivileged_user "$CLUSTER_DIR"
    case "$MODE" in
    start)
        [[ ! -e "$DATA" ]] || die "$CLUSTER_DIR already holds a cluster: use --restart"
        init_cluster "$CLUSTER_DIR"
        # A cluster that started but failed later is stopped, not left behind.
        trap '[[ $STARTED -eq 1 && ${DONE:-0} -ne 1 ]] && stop_cluster' EXIT
        start_on_free_port "$CLUSTER_DIR"
        wait_ready "$PORT"
        url="postgres://fieldsync:$PASSWORD@127.0.0.1:$PORT/postgres"
        printf '%s\n' "$PORT" >"$CLUSTER_DIR/port"
        (umask 077 && printf 'FIELDSYNC_TEST_DATABASE_URL=%s\n' "$url" >"$CLUSTER_DIR/env")
        DONE=1
        printf 'export FIELDSYNC_TEST_DATABASE_URL=%s\n' "$url"
        note "PostgreSQL on 127.0.0.1:$PORT, data in $DATA; stop it with --stop $CLUSTER_DIR"
        ;;
    stop)
        [[ -d "$DATA" ]] || die "no cluster in $CLUSTER_DIR (create one with --start)"
        if is_running; then
            stop_cluster || die "stopping PostgreSQL in $DATA failed (log: $LOG)"
        fi
        ;;
    restart)
        [[ -d "$DATA" && -f "$CLUSTER_DIR/port" ]] ||
            die "no cluster in $CLUSTER_DIR (create one with --start)"
        PORT="$(cat "$CLUSTER_DIR/port")"
        if is_running; then
            stop_cluster || die "stopping PostgreSQL in $DATA failed (log: $LOG)"
        fi
        if ! start_cluster "$PORT" "$CLUSTER_DIR"; then
            tail -n 30 "$LOG" >&2 2>/dev/null || true
            die "PostgreSQL did not start again on port $PORT (server log above)"
        fi
        wait_ready "$PORT"
        ;;
    esac
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# The default: a temporary cluster around one command.

TMP="$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-pg.XXXXXX")" || die "cannot create a temporary folder"
DATA="$TMP/data"
LOG="$TMP/postgres.log"
STARTED=0
run_as_unprivileged_user "$TMP"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ $STARTED -eq 1 ]]; then
        stop_cluster || note "warning: stopping PostgreSQL failed (data folder $DATA)"
    fi
    if [[ "${FIELDSYNC_PG_KEEP:-0}" == "1" ]]; then
        note "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

init_cluster "$TMP"
start_on_free_port "$TMP"
wait_ready "$PORT"

# ---------------------------------------------------------------------------------------------
# 4. Run the command.

export FIELDSYNC_TEST_DATABASE_URL="postgres://fieldsync:$PASSWORD@127.0.0.1:$PORT/postgres"
note "PostgreSQL $("$BINDIR/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$PORT (FIELDSYNC_TEST_DATABASE_URL set)"

set +e
"$@"
rc=$?
set -e
exit "$rc"
