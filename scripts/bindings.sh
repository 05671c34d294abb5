#!/usr/bin/env bash
# Generates the app bindings of the device library (client-sdk/ffi) in uniffi library mode:
# builds libfieldsync_ffi and the uniffi-bindgen binary, then generates from the library's
# embedded metadata.
#
#   scripts/bindings.sh [kotlin|kotlin-android|swift|python|all] [out-dir]
#                                                        (default: all target/bindings)
#
# Output: <out-dir>/kotlin (com/fieldsync/device/fieldsync.kt: the desktop JVM variant the tests
# run), <out-dir>/kotlin-android (the same API for Android apps: client-sdk/ffi/uniffi-android.toml
# over uniffi.toml, the Android cleaner; not part of `all`), <out-dir>/swift (Fieldsync.swift,
# fieldsyncFFI.h, fieldsyncFFI.modulemap), <out-dir>/python (fieldsync.py next to a copy of
# the host library, importable as is: PYTHONPATH=<out-dir>/python python3 -c 'import fieldsync').
# The host library is for Python and tests; phone builds: docs/mobile-bindings.md.
# Environment: CARGO_TARGET_DIR (default ./target), PROFILE=release for an optimised library.
set -euo pipefail
cd "$(dirname "$0")/.."

lang="${1:-all}"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
out="${2:-$target_dir/bindings}"
profile="${PROFILE:-debug}"
case "$lang" in
    kotlin | kotlin-android | swift | python) langs=("$lang") ;;
    all) langs=(kotlin swift python) ;;
    *)
        echo "usage: $0 [kotlin|kotlin-android|swift|python|all] [out-dir]" >&2
        exit 2
        ;;
esac

build_args=(-p fieldsync-ffi -p fieldsync-bindgen)
[[ "$profile" == "release" ]] && build_args+=(--release)
cargo build "${build_args[@]}"

case "$(uname -s)" in
    Darwin) lib="$target_dir/$profile/libfieldsync_ffi.dylib" ;;
    *) lib="$target_dir/$profile/libfieldsync_ffi.so" ;;
esac
bindgen="$target_dir/$profile/uniffi-bindgen"

for l in "${langs[@]}"; do
    mkdir -p "$out/$l"
    args=(--language "$l")
    [[ "$l" == kotlin-android ]] && args=(--language kotlin --config client-sdk/ffi/uniffi-android.toml)
    # --no-format: ktlint and swiftformat are not needed to generate.
    "$bindgen" generate --library "$lib" "${args[@]}" --out-dir "$out/$l" --no-format
    if [[ "$l" == python ]]; then
        # The generated module loads the library from its own directory.
        cp "$lib" "$out/$l/"
    fi
    echo "$l bindings: $out/$l"
done
