#!/usr/bin/env bash
# The device library's figures from Kotlin (docs/performance.md, "The app library"):
#   * stripped release size of libfieldsync_ffi (scripts/footprint.sh);
#   * cold open + login + first sync of a 200-store, 500-SKU territory, from a Kotlin program on
#     the JVM (benches/bindings/Bench.kt) against a release server on loopback;
#   * a durable offline edit's median / p90 / p99 through the bindings.
#
#   scripts/bench-bindings.sh                 (CARGO_TARGET_DIR honoured; release builds)
#   STORES=200 PRODUCTS=500 EDITS=1000 scripts/bench-bindings.sh
#
# Needs the Kotlin toolchain of the test command (scripts/kotlin-toolchain.sh: JDK, JNA, the
# pinned kotlinc). Everything runs in a temporary directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
stores="${STORES:-200}"
products="${PRODUCTS:-500}"
edits="${EDITS:-1000}"
port="${PORT:-18089}"

echo "==> release build: server, device library, bindings generator" >&2
cargo build --release --quiet -p fieldsync-server -p fieldsync-ffi -p fieldsync-bindgen
server="$target_dir/release/fieldsync-server"
lib="$target_dir/release/libfieldsync_ffi.so"

echo "==> footprint" >&2
size="$(scripts/footprint.sh | sed -n 's/^stripped: *//p')"

kotlin_home="$(scripts/kotlin-toolchain.sh)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "==> a tenant with a $stores-store, $products-SKU territory" >&2
data="$work/server"
python3 - "$work" "$stores" "$products" <<'PY'
import sys, datetime
work, stores, products = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
today = datetime.date.today().isoformat()
with open(f"{work}/stores.csv", "w") as f:
    f.write("code,name,channel,grade,address,lat,lon,geofence_radius_m,delivery_lead_days\n")
    for i in range(stores):
        f.write(f"BENCH-{i:04},Store {i} 门店,lka,{'ABC'[i % 3]},Road {i},"
                f"{30.45 + (i % 20) * 0.01:.4f},{114.20 + (i // 20) * 0.01:.4f},150,2\n")
with open(f"{work}/products.csv", "w") as f:
    f.write("sku,name,case_pack,sold_by_case,shelf_life_days,list_price,floor_price\n")
    for i in range(products):
        f.write(f"SKU-{i:04},Product {i} 产品,{(6, 12, 24)[i % 3]},{'true' if i % 2 else 'false'},"
                f"{90 + i % 300},{3 + i % 50}.00,{2 + i % 50}.50\n")
with open(f"{work}/credit.csv", "w") as f:
    f.write("store_code,credit_limit,receivables,overdue,as_of\n")
    for i in range(stores):
        f.write(f"BENCH-{i:04},200000.00,{i * 100}.00,0.00,{today}\n")
with open(f"{work}/territories.csv", "w") as f:
    f.write("territory,store_code,username\n")
    for i in range(stores):
        f.write(f"bench,BENCH-{i:04},{'benchrep' if i == 0 else ''}\n")
PY
password="bench-password-$$"
"$server" --data-dir "$data" seed-demo >/dev/null
echo "$password" | "$server" --data-dir "$data" user add --tenant demo --username benchrep \
    --role rep --code B001 --name "Bench Rep" >/dev/null
for kind in stores products credit territories; do
    "$server" --data-dir "$data" import "$kind" "$work/$kind.csv" --tenant demo >/dev/null
done

echo "==> release server on 127.0.0.1:$port" >&2
FIELDSYNC_LISTEN="127.0.0.1:$port" FIELDSYNC_OPS_LISTEN="127.0.0.1:$((port + 1))" \
    "$server" --data-dir "$data" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$((port + 1))/health" >/dev/null 2>&1 && break
    sleep 0.1
done

echo "==> Kotlin bindings and the bench program" >&2
"$target_dir/release/uniffi-bindgen" generate --language kotlin --no-format \
    --library "$lib" --out-dir "$work/generated" >/dev/null
jna=/usr/share/java/jna.jar
libs="$jna:$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"
"$kotlin_home/bin/kotlinc-jvm" -nowarn -d "$work/classes" -cp "$libs" \
    "$work/generated/com/fieldsync/device/fieldsync.kt" benches/bindings/Bench.kt

echo
echo "app library (stripped, release): $size"
FIELDSYNC_BENCH_SERVER_URL="http://127.0.0.1:$port" FIELDSYNC_BENCH_DATA_DIR="$work/phone" \
FIELDSYNC_BENCH_USER=benchrep FIELDSYNC_BENCH_PASSWORD="$password" FIELDSYNC_BENCH_EDITS="$edits" \
FIELDSYNC_BENCH_STORES="$stores" FIELDSYNC_BENCH_PRODUCTS="$products" \
    java -Djna.library.path="$(dirname "$lib")" -Djava.awt.headless=true \
    -cp "$work/classes:$kotlin_home/lib/kotlin-stdlib.jar:$libs" com.fieldsync.bench.BenchKt
