#!/usr/bin/env bash
# `make sam-build [ARCH=arm64|x86_64] [FUNCTIONS="LogicalId ..."]`: `sam build` of
# infra/template.yaml into target/sam-build (target/sam-build-partial for FUNCTIONS), then
# infra/sam_build_report.py checks that every function has its bootstrap and prints the sizes.
# Expects .venv-sam (the Makefile makes it).
# SAM_CARGO_TARGET_DIR moves the cargo target dir (default target/sam-cargo).
#
# The build runs at nice 19 in a cargo target dir of its own (target/sam-cargo): release
# builds of every function take long, and at the lowest priority they use only CPU that debug
# builds and tests leave idle, without ever locking the workspace's debug target dir.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
venv=$root/.venv-sam
build_dir=target/sam-build
cargo_target_dir=${SAM_CARGO_TARGET_DIR:-$root/target/sam-cargo}
asked=${1:-}
shift || true
functions=("$@")
# A partial build goes elsewhere: target/sam-build is what `make deploy` ships, and its template
# would still point the functions not built at their source.
if [ ${#functions[@]} -gt 0 ]; then
    build_dir=target/sam-build-partial
fi

triple_of() {
    case $1 in
        arm64) echo aarch64-unknown-linux-gnu ;;
        x86_64) echo x86_64-unknown-linux-gnu ;;
        *) echo "ARCH must be arm64 or x86_64, not '$1'" >&2; exit 2 ;;
    esac
}
# cargo-lambda cross-compiles with zig but links against the Rust standard library of the
# target, which only rustup provides.
has_target() {
    command -v rustup >/dev/null && rustup target list --installed | grep -qx "$(triple_of "$1")"
}

if [ -n "$asked" ]; then
    arch=$asked
    triple_of "$arch" >/dev/null
    # Asked for by name (CI's deploy workflow asks for arm64): install the target if rustup can.
    has_target "$arch" || rustup target add "$(triple_of "$arch")" || {
        echo "ARCH=$arch needs the rustup target $(triple_of "$arch"), which rustup could not install" >&2
        exit 2
    }
    why="ARCH=$arch was asked for"
elif has_target arm64; then
    arch=arm64
    why="the rustup target aarch64-unknown-linux-gnu is installed"
else
    arch=x86_64
    why="the rustup target aarch64-unknown-linux-gnu is NOT installed (rustup target add aarch64-unknown-linux-gnu to build arm64)"
fi
banner="==> sam build for $arch: $why"
echo "$banner"
echo "==> make deploy reads it from the built bootstraps; sam deploy by hand needs --parameter-overrides Architecture=$arch"

# --no-cached: a cached build hashes each function's CodeUri, here the whole repository with
# target/ (tens of GB) and the venvs, once per function, and target/ changes during the build.
# SAM_CLI_TELEMETRY=0: no network calls beyond the build itself.
rm -rf "$build_dir"
start=$(date +%s)
nice -n 19 env \
    CARGO_TARGET_DIR="$cargo_target_dir" \
    PATH="$venv/bin:$PATH" \
    SAM_CLI_TELEMETRY=0 \
    "$venv/bin/sam" build "${functions[@]}" \
    --template-file infra/template.yaml \
    --build-dir "$build_dir" \
    --parameter-overrides "Architecture=$arch" \
    --no-cached
seconds=$(( $(date +%s) - start ))

echo
"$venv/bin/python" infra/sam_build_report.py infra/template.yaml "$build_dir" \
    --arch "$arch" --seconds "$seconds" --cargo-target-dir "$cargo_target_dir" "${functions[@]}"
echo "$banner"
