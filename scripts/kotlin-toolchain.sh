#!/usr/bin/env bash
# Installs (once) and checks the Kotlin toolchain of the Kotlin binding tests
# (tests/e2e/kotlin_bindings.rs), from this machine's registries only, no Gradle or Maven:
#
#   * a JDK 17 and JNA from Debian (`openjdk-17-jdk-headless`, `libjna-java`:
#     /usr/share/java/jna.jar), installed with apt-get when missing and run as root;
#   * JetBrains' Kotlin compiler distribution from the npm registry's `kotlin-compiler`
#     package, pinned (KOTLIN_VERSION) and checked against its pinned integrity (the sha512
#     the registry publishes), unpacked into ~/.cache/fieldsync/kotlin/kotlinc-<version>
#     (outside the clone, like Garage). It brings kotlin-stdlib and kotlinx-coroutines-core.
#
# A cached compiler is trusted only with the manifest this script writes after unpacking a
# verified package (a sha256 of every file); a cache without it, or one that no longer
# matches it, is installed again.
#
#   scripts/kotlin-toolchain.sh          install if needed; prints the compiler's home
#
# Environment: FIELDSYNC_KOTLIN_ROOT (default ~/.cache/fieldsync/kotlin).
set -euo pipefail

PROG="kotlin-toolchain"
KOTLIN_VERSION="2.4.20"
KOTLIN_INTEGRITY="sha512-IF5IVM7LpPhA/ntHQQpaVt1yxpaaQovtEVYLyqWMuaLr0XelLPPm7/sM6HLhtcRjjjoSsK7I7lP2kzYJkMy73w=="
JNA_JAR="/usr/share/java/jna.jar"

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }

CACHE_HOME="${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}"
ROOT="${FIELDSYNC_KOTLIN_ROOT:-$CACHE_HOME/fieldsync/kotlin}"
HOME_DIR="$ROOT/kotlinc-$KOTLIN_VERSION"
MANIFEST="$HOME_DIR/.fieldsync-verified.sha256"

# ---------------------------------------------------------------------------------------------
# 1. JDK and JNA (Debian).

missing=()
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[[ -f "$JNA_JAR" ]] || missing+=(libjna-java)
if ((${#missing[@]})); then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
        note "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    else
        die "missing ${missing[*]}: apt-get install -y ${missing[*]} (as root)"
    fi
fi

# ---------------------------------------------------------------------------------------------
# 2. The Kotlin compiler (npm registry, pinned and checked).

verified() {
    [[ -f "$MANIFEST" ]] && (cd "$HOME_DIR" && sha256sum --check --quiet --strict "$MANIFEST" >/dev/null 2>&1)
}

install_kotlin() {
    command -v npm >/dev/null || die "npm is needed to fetch kotlin-compiler@$KOTLIN_VERSION (apt-get install -y npm)"
    command -v openssl >/dev/null || die "openssl is needed to check the package's integrity"
    mkdir -p "$ROOT"
    local work
    work="$(mktemp -d "$ROOT/.install.XXXXXX")"
    trap 'rm -rf "$work"' RETURN
    note "fetching kotlin-compiler@$KOTLIN_VERSION from the npm registry"
    (cd "$work" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null) ||
        die "npm pack kotlin-compiler@$KOTLIN_VERSION failed"
    local tarball="$work/kotlin-compiler-$KOTLIN_VERSION.tgz"
    [[ -f "$tarball" ]] || die "npm pack did not produce $tarball"
    local actual
    actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
    [[ "$actual" == "$KOTLIN_INTEGRITY" ]] ||
        die "kotlin-compiler@$KOTLIN_VERSION integrity mismatch: expected $KOTLIN_INTEGRITY, got $actual"
    mkdir "$work/unpacked"
    tar -xzf "$tarball" -C "$work/unpacked"
    local pkg="$work/unpacked/package"
    [[ -x "$pkg/bin/kotlinc-jvm" && -f "$pkg/lib/kotlin-stdlib.jar" ]] ||
        die "the package has no bin/kotlinc-jvm or lib/kotlin-stdlib.jar"
    (cd "$pkg" && find . -type f ! -name '.fieldsync-verified.sha256' -print0 | sort -z |
        xargs -0 sha256sum >.fieldsync-verified.sha256)
    # Replace an unverified or altered copy (only this version's directory).
    rm -rf "$HOME_DIR"
    mv "$pkg" "$HOME_DIR"
    note "installed $HOME_DIR"
}

mkdir -p "$ROOT"
exec 9>"$ROOT/.install.lock"
flock 9
if ! verified; then
    [[ -d "$HOME_DIR" ]] && note "$HOME_DIR is not a verified install: installing it again"
    install_kotlin
    verified || die "the installed compiler does not match its manifest"
fi
for jar in kotlin-stdlib.jar kotlinx-coroutines-core-jvm.jar; do
    [[ -f "$HOME_DIR/lib/$jar" ]] || die "$HOME_DIR/lib/$jar is missing"
done
echo "$HOME_DIR"
