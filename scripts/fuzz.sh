#!/usr/bin/env bash
# Fuzzes the server's decoders with libFuzzer through cargo-fuzz (nightly toolchain), one
# target after another, and appends what ran to fuzz/fuzzing-log.tsv (the cumulative time per
# target that docs/reliability.md reports).
#
#   scripts/fuzz.sh                      every target, 10 minutes each
#   scripts/fuzz.sh --seconds 3600 tokens csv_import
#   scripts/fuzz.sh --parallel --seconds 3600   every target at once, one process each
#   scripts/fuzz.sh --list
#
# A crash stops that target: libFuzzer writes the input to fuzz/artifacts/<target>/. Fix the
# bug, then keep the input in fuzz/regressions/<target>/ so the stable suite runs it for good
# (cargo test -p fieldsync-fuzz). cargo-fuzz is installed once into ~/.cache/fieldsync.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
parallel=0
targets=()
all=(sync_request sync_push photo_upload csv_import tokens query_filters)
while (($#)); do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --parallel) parallel=1; shift ;;
        --list) printf '%s\n' "${all[@]}"; exit 0 ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
((${#targets[@]})) || targets=("${all[@]}")

cache="${XDG_CACHE_HOME:-$HOME/.cache}/fieldsync"
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz: cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2
    exit 1
fi
export PATH="$cache/cargo-fuzz/bin:$PATH"
if [[ ! -x "$cache/cargo-fuzz/bin/cargo-fuzz" ]]; then
    echo "fuzz: installing cargo-fuzz into $cache/cargo-fuzz (once, a few minutes)"
    cargo install cargo-fuzz --locked --root "$cache/cargo-fuzz"
fi

# The seeds are built against the harness's server (its device actor, rep1's store), so they
# are written fresh before each run.
echo "fuzz: writing the generated seeds into fuzz/corpus/"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}" \
    cargo test -q -p fieldsync-fuzz --test decoders -- --ignored write_seed_corpus >/dev/null

export CARGO_TARGET_DIR="$cache/fuzz-target"
# The workspace's release profile links with thin LTO over 4 codegen units: for a fuzz target,
# which links the whole instrumented server, that took over 20 CPU minutes per target. The
# fuzzer needs no LTO.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
log=fuzz/fuzzing-log.tsv
[[ -f "$log" ]] || printf 'started_utc\ttarget\tseconds\texecutions\tresult\n' > "$log"
# One target for $seconds; appends its line to the log.
fuzz_one() {
    local target="$1"
    echo "fuzz: $target for ${seconds}s"
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    local started t0 out rc ran execs result
    started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    t0=$SECONDS
    out="$(mktemp)"
    set +e
    cargo +nightly fuzz run --fuzz-dir fuzz --features libfuzzer "$target" \
        "fuzz/corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 \
        -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 2>&1 | tee "$out" \
        | grep --line-buffered -E '^#[0-9]+.*(pulse|NEW|REDUCE)|ERROR|panicked' | sed -n '1~50p' \
        | sed "s/^/$target: /"
    rc=${PIPESTATUS[0]}
    set -e
    ran=$((SECONDS - t0))
    execs="$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$out" | grep -oE '[0-9]+$' || echo 0)"
    if ((rc == 0)); then result=ok; else result="crash (exit $rc, see fuzz/artifacts/$target/)"; fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$started" "$target" "$ran" "${execs:-0}" "$result" >> "$log"
    echo "fuzz: $target: ${ran}s, ${execs:-0} executions, $result"
    rm -f "$out"
}

if ((parallel)); then
    # Build once before the targets start side by side (they share the build directory).
    cargo +nightly fuzz build --fuzz-dir fuzz --features libfuzzer
    for target in "${targets[@]}"; do fuzz_one "$target" & done
    wait
else
    for target in "${targets[@]}"; do fuzz_one "$target"; done
fi
echo "fuzz: cumulative seconds per target:"
awk -F'\t' 'NR > 1 { s[$2] += $3 } END { for (t in s) printf "  %-14s %7d s\n", t, s[t] }' "$log"
