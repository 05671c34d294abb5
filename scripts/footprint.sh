#!/usr/bin/env bash
# Footprint of the device library apps ship (client-sdk/ffi): builds the cdylib for the host
# in release, strips a copy, and prints its sizes (unstripped / stripped / gzip -9), the number
# of crates it links, the heaviest crates by code size (from the symbol table: cargo-bloat is
# not needed), and checks that no server-only crate is in its dependency graph.
#
#   scripts/footprint.sh            (CARGO_TARGET_DIR honoured; needs nm, strip, gzip, python3)
#
# A first release build takes several minutes on 2 cores. docs/mobile-bindings.md records the
# numbers; re-measure after adding a dependency to shared/, client-sdk/ or client-sdk/ffi/.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
top="${TOP:-15}"

echo "==> cargo build --release (cdylib only) for the host: $(rustc -vV | sed -n 's/^host: //p')"
cargo rustc --release -p fieldsync-ffi --lib --crate-type cdylib --quiet

case "$(uname -s)" in
    Darwin) lib="$target_dir/release/libfieldsync_ffi.dylib" ;;
    *) lib="$target_dir/release/libfieldsync_ffi.so" ;;
esac
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$lib" "$work/lib.so"
strip "$work/lib.so"
gzip -9 -c "$work/lib.so" >"$work/lib.so.gz"

size_of() { wc -c <"$1" | tr -d ' '; }
human() { awk -v b="$1" 'BEGIN { printf "%.2f MiB (%d bytes)", b / 1048576, b }'; }
echo
echo "library:    $lib"
echo "unstripped: $(human "$(size_of "$lib")")"
echo "stripped:   $(human "$(size_of "$work/lib.so")")"
echo "gzip -9:    $(human "$(size_of "$work/lib.so.gz")")   (stripped; roughly what an APK/IPA adds)"

deps="$(cargo tree -p fieldsync-ffi -e normal,no-proc-macro --prefix none --format '{p}' |
    awk '{ print $1 }' | sort -u)"
echo
echo "crates linked (normal dependencies, proc-macros excluded): $(echo "$deps" | wc -l)"

server_only='^(fieldsync-server|axum.*|tokio.*|hyper.*|tower.*|sqlx.*|aws-.*|argon2|jsonwebtoken|prometheus-client|tracing-subscriber|utoipa.*|csv|uniffi_bindgen|askama.*|goblin|cargo_metadata)$'
if echo "$deps" | grep -Eq "$server_only"; then
    echo "ERROR: server-only or bindgen crates in the device library's graph:" >&2
    echo "$deps" | grep -E "$server_only" >&2
    exit 1
fi
echo "no server-only crate (axum, tokio, hyper, sqlx, aws-*, ...) in the graph: ok"

echo
echo "heaviest crates by code and data size (symbol table of the unstripped library):"
nm --size-sort -S -C "$lib" | python3 -c '
import collections, re, sys
top = int(sys.argv[1])
sizes = collections.Counter()
for line in sys.stdin:
    parts = line.rstrip("\n").split(" ", 3)
    if len(parts) < 4:
        continue
    size, name = int(parts[1], 16), parts[3]
    name = re.sub(r"^(<|&|dyn |impl |mut )+", "", name)
    name = re.sub(r"^[A-Za-z_]\w* as ", "", name)  # <T as core::fmt::Debug>: counted for the trait crate
    if "::" in name:
        crate = name.split("::", 1)[0]
    elif name.startswith("sqlite3"):
        crate = "sqlite (C)"
    elif name.startswith("ring_core") or name.startswith("GFp"):
        crate = "ring (C/asm)"
    else:
        # C statics (most of SQLite: whereLoop..., select...), compiler-generated constants
        crate = "C statics (mostly SQLite), anonymous data"
    sizes[crate] += size
total = sum(sizes.values())
for crate, size in sizes.most_common(top):
    print(f"  {size / 1024:9.1f} KiB  {100 * size / total:5.1f} %  {crate}")
' "$top"
