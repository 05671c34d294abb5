#!/usr/bin/env bash
# Installs (once) the API fuzzer of the end-to-end test `api_fuzz` (tests/e2e/api_fuzz.rs):
# schemathesis from PyPI, pinned with every dependency and checked against pinned sha256 hashes
# (`pip install --require-hashes`, wheels only), in a virtual environment outside the clone,
# ~/.cache/fieldsync/schemathesis-venv (like Garage and Kotlin). A second run takes a second:
# the environment is reused while it holds exactly the pinned set (a stamp of the pins).
#
#   scripts/api-fuzz-tools.sh        install if needed; prints the schemathesis executable
#
# The hashes cover CPython 3.11-3.13 on x86_64 Linux. To move the pins: install the new
# version into a scratch venv, `pip freeze`, `pip download --only-binary=:all:` the frozen set
# for each Python version, and `pip hash` the files.
#
# Environment: FIELDSYNC_SCHEMATHESIS_VENV (default ~/.cache/fieldsync/schemathesis-venv).
set -euo pipefail

PROG="api-fuzz-tools"
SCHEMATHESIS_VERSION="4.32.5"

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }

CACHE_HOME="${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}"
VENV="${FIELDSYNC_SCHEMATHESIS_VENV:-$CACHE_HOME/fieldsync/schemathesis-venv}"
STAMP="$VENV/.fieldsync-pins.sha256"
EXE="$VENV/bin/schemathesis"

read -r -d '' REQUIREMENTS <<'PINS' || true
anyio==4.16.0 \
    --hash=sha256:c66ae634e0b8228396b801741beb3294326d4b6102f7bba4041c0dfb58c29026
certifi==2026.10.19.post1 \
    --hash=sha256:1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2
charset-normalizer==3.5.3 \
    --hash=sha256:2a6f937e0b70133d1f826d0a253331b6fe1a4c874808cc12e16f2fb8177042f4 \
    --hash=sha256:656b9744bac4493561d28b56d7d646afd7a8471254ef7004d849aa8368020037 \
    --hash=sha256:e5e4785d8a0adeadfbdf75f4efc357911842674651cbafd7e97f69b11ec3cbc6
click==8.5.1 \
    --hash=sha256:8bb5376d2006950386f8c6427613334a2acadc5f559cb80e638d00b4df957e37
graphql-core==3.3.2 \
    --hash=sha256:d83f49ee18d2db89fb575dab6ffefa8aa1bf5f60dff8a6781db6f63420041348
harfile==0.6.0 \
    --hash=sha256:0f2209d6ec164a2aea7e8fb2b49d9fef5ddeee51b65dbfd28a4167185c34bb30
hypothesis==6.170.27 \
    --hash=sha256:8a4f850fa8471e75a30074e41f922a94868f03c9fdb190645eba7f11180118ab \
    --hash=sha256:cf8ef2e555198a0973bdfab9d4cc47b3aaf281b7006e380b61580ad94ab0da01 \
    --hash=sha256:e6d28a3b2147cc08adaa458f7cdbb2ffc4b74561e626d0de08d314b01e8438ed
hypothesis-graphql==0.13.5 \
    --hash=sha256:7bf16b290fc5b870539e0181446cda1f2aadc3b233a8b475331abc1764fe4e40
idna==3.21 \
    --hash=sha256:387ab0bbea1ee7a196ea5b24eb007bad0242cc3127fe96713939942bc9e720d7
iniconfig==2.3.1 \
    --hash=sha256:9121e2c1fdb355232495be3194c8dfe87ccc2d5dee45947b78e68f499790d7a7
jsonschema_rs==0.60.3 \
    --hash=sha256:326ec5b6800552ccd76a1acca131f70511ac013b377230bdd541db3244adc9fa
markdown-it-py==4.3.0 \
    --hash=sha256:7aa1511a46c39138de78d9eba92ce47e63124d8003fc98b3a351909e04239efa
MarkupSafe==3.0.4 \
    --hash=sha256:434139499bb20b502ed3baa1f169e618f924a97e7a777fea1a49446d80106cf6 \
    --hash=sha256:6da83a088f8ef93b2d483a8232a4dbf4d69d3d8496b568a03c56becac43e1808 \
    --hash=sha256:8e124f974786f831d6043728e38296969d3579db8896fe004682f5758e613581
mdurl==0.1.2 \
    --hash=sha256:84008a41e51615a49fc9966191ff91509e3c40b939176e643fd50a5c2196b8f8
packaging==26.4 \
    --hash=sha256:81383611a09c1bc0b08b76e0fd5829d7c6824c65b27a6aee339da133f4233ea2
pluggy==1.7.0 \
    --hash=sha256:7dd7b0d8832ba3cb632c306926ded123429211b83641b35dc5c41ad2d34f9bec
Pygments==2.21.0 \
    --hash=sha256:2363c69b61c4a97c838da3b130dcd6468f4848992b21a82f2a63ec34377137d9
pyrate-limiter==4.6.0 \
    --hash=sha256:d8275519d0c8466c6fec956d804d893355afce23ffeec2b21c88b8c9930941a6
pytest==9.2.0 \
    --hash=sha256:07acdcf88ec174f907dc01af70bf52d49b014bbab03faeeade31c96b18c2e588
PyYAML==6.0.4 \
    --hash=sha256:50588147ab2c6a59b5f990a4905db80899a6c2bd197e046a6201f1e67587e794 \
    --hash=sha256:622aa875fa6533f25fedcffe23079357d65a690d462200afed5d8e9d0e01ebee \
    --hash=sha256:93bfb2459195406a518e2f487a9bbf01df240175f31e06f5a252ac6734c7bbf0
requests==2.34.2 \
    --hash=sha256:2a0d60c172f83ac6ab31e4554906c0f3b3588d37b5cb939b1c061f4907e278e0
rich==15.0.0 \
    --hash=sha256:33bd4ef74232fb73fe9279a257718407f169c09b78a87ad3d296f548e27de0bb
schemathesis==4.32.5 \
    --hash=sha256:5ec7e532ebdf9b0e0239a943df2a565174aecda513b61e564d8ad2a3ac801f22
sortedcontainers==2.4.0 \
    --hash=sha256:a163dcaede0f1c021485e957a39245190e74249897e2ae4b2aa38595db237ee0
typing_extensions==4.16.0 \
    --hash=sha256:481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8
urllib3==2.8.0 \
    --hash=sha256:0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3
Werkzeug==3.1.9 \
    --hash=sha256:6392e50c78460ba618e5b21f08a71f59c99ce99cdc6cf6e3dd7e6ccca8754fab
PINS

pins_digest() { printf '%s\n' "$REQUIREMENTS" | sha256sum | cut -d' ' -f1; }

installed() {
    [[ -x "$EXE" && -f "$STAMP" && "$(cat "$STAMP")" == "$(pins_digest)" ]] &&
        "$EXE" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"
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

install_schemathesis() {
    ensure_python
    note "installing schemathesis $SCHEMATHESIS_VERSION (pinned, hash-checked) into $VENV"
    # Built afresh; the stamp, written last, marks a complete install.
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    printf '%s\n' "$REQUIREMENTS" >"$VENV/requirements.txt"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --require-hashes --only-binary=:all: --no-deps -r "$VENV/requirements.txt" >&2 ||
        die "pip install of the pinned schemathesis set failed"
    pins_digest >"$STAMP"
    note "installed $EXE"
}

mkdir -p "$(dirname "$VENV")"
exec 9>"$(dirname "$VENV")/.schemathesis-venv.lock"
flock 9
if ! installed; then
    install_schemathesis
    installed || die "$EXE does not run or is not version $SCHEMATHESIS_VERSION"
fi
echo "$EXE"
