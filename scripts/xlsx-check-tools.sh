#!/usr/bin/env bash
# Installs (once) what the console report test (tests/e2e/console_reports.rs) reads exported
# workbooks with: openpyxl from PyPI, pinned with its one dependency and checked against pinned
# sha256 hashes (`pip install --require-hashes`, wheels only), in a virtual environment outside
# the clone, ~/.cache/fieldsync/openpyxl-venv (like schemathesis: scripts/api-fuzz-tools.sh).
# A second run takes a moment: the environment is reused while it holds exactly the pins.
#
#   scripts/xlsx-check-tools.sh      install if needed; prints the venv's python
#
# Both wheels are pure Python (any CPython 3). To move the pins: `pip download
# --only-binary=:all: --no-deps` the new versions and `sha256sum` the files.
#
# Environment: FIELDSYNC_OPENPYXL_VENV (default ~/.cache/fieldsync/openpyxl-venv).
set -euo pipefail

PROG="xlsx-check-tools"
OPENPYXL_VERSION="3.1.5"

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }

CACHE_HOME="${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}"
VENV="${FIELDSYNC_OPENPYXL_VENV:-$CACHE_HOME/fieldsync/openpyxl-venv}"
STAMP="$VENV/.fieldsync-pins.sha256"
PYTHON="$VENV/bin/python"

read -r -d '' REQUIREMENTS <<'PINS' || true
et-xmlfile==2.0.0 \
    --hash=sha256:7a91720bc756843502c3b7504c77b8fe44217c85c537d85037f0f536151b2caa
openpyxl==3.1.5 \
    --hash=sha256:5282c12b107bffeef825f4617dc029afaf41d0ea60823bbb665ef3079dc79de2
PINS

pins_digest() { printf '%s\n' "$REQUIREMENTS" | sha256sum | cut -d' ' -f1; }

installed() {
    [[ -x "$PYTHON" && -f "$STAMP" && "$(cat "$STAMP")" == "$(pins_digest)" ]] &&
        "$PYTHON" -c "import openpyxl, sys; sys.exit(openpyxl.__version__ != '$OPENPYXL_VERSION')" 2>/dev/null
}

# A Python with the venv module (Debian splits it into python3-venv).
ensure_python() {
    if command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null; then
        return
    fi
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
        note "installing python3 and python3-venv"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
    else
        die "python3 with the venv module is needed (Debian: apt-get install -y python3 python3-venv)"
    fi
}

install_openpyxl() {
    ensure_python
    note "installing openpyxl $OPENPYXL_VERSION (pinned, hash-checked) into $VENV"
    # Built afresh; the stamp, written last, marks a complete install.
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    printf '%s\n' "$REQUIREMENTS" >"$VENV/requirements.txt"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check \
        --require-hashes --only-binary=:all: --no-deps -r "$VENV/requirements.txt" >&2 ||
        die "pip install of the pinned openpyxl set failed"
    pins_digest >"$STAMP"
    note "installed openpyxl into $VENV"
}

mkdir -p "$(dirname "$VENV")"
exec 9>"$(dirname "$VENV")/.openpyxl-venv.lock"
flock 9
if ! installed; then
    install_openpyxl
    installed || die "$PYTHON cannot import openpyxl $OPENPYXL_VERSION"
fi
echo "$PYTHON"
