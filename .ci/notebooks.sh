#!/usr/bin/env bash
# Executes every notebook in notebooks/ headless, each in a fresh kernel, and fails on any cell
# error, panic, hidden figure or version drift. Called by .ci/run; also fine by hand.
#
# The kernels run as on a new user's machine: with a FRESH, EMPTY cargo home. Every crate they
# build from must then be downloaded by `course` itself (`cargo fetch --locked` in `course setup`),
# so a missing install step fails here rather than in class. Only the evcxr_jupyter binary is
# reused from the normal cargo home (building it takes 5-15 minutes and is not what is tested).
#
# Steps:
#   1. evcxr_jupyter 0.22.x in the normal cargo home (installed when missing);
#   2. CARGO_HOME=<new empty folder>, FLOWMATCH_EVCXR_BUILD_DIR=<new empty folder>;
#   3. the README's set-up command, `cargo run --release --bin course -- setup --headless`: it
#      downloads the crates and runs the notebooks' first cell in a kernel (the warm dependency
#      set), so it fails if a new user's first cell would fail;
#   4. `course execute` on the student and the instructor copies.
#
# Environment:
#   NOTEBOOK_CELL_TIMEOUT   seconds one cell may take (default 1200)
#   NOTEBOOKS               space-separated notebook names (default: all)
#   KEEP_CARGO_HOME=1       use the normal cargo home for the kernels (a quicker local rerun)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n=== %s (%ds)\n' "$1" "$SECONDS"; }

section "notebooks: prerequisites"
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    # Debian/Ubuntu split the venv module (and ensurepip) into their own package.
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
    fi
fi
python3 --version
cargo --version

section "notebooks: evcxr_jupyter (normal cargo home)"
normal_home="${CARGO_HOME:-$HOME/.cargo}"
evcxr="$normal_home/bin/evcxr_jupyter"
if [ ! -x "$evcxr" ]; then
    cargo install --locked evcxr_jupyter --version 0.22.0
fi
ls -l "$evcxr"

if [ "${KEEP_CARGO_HOME:-0}" != 1 ]; then
    section "notebooks: a fresh, empty cargo home and kernel build folder"
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"   # rustup finds the toolchain here, not in CARGO_HOME
    export PATH="$normal_home/bin:$PATH"                 # cargo and rustc (rustup's proxies)
    export CARGO_HOME="$scratch/cargo-home"
    export FLOWMATCH_EVCXR_BUILD_DIR="$scratch/evcxr-build"
    mkdir -p "$CARGO_HOME"
    echo "CARGO_HOME=$CARGO_HOME (empty)"
fi
export FLOWMATCH_EVCXR_JUPYTER="$evcxr"

section "notebooks: the README's set-up command on this cache"
cargo run --release --bin course -- setup --headless
if [ "${KEEP_CARGO_HOME:-0}" != 1 ]; then
    echo "crates in the fresh cargo home: $(find "$CARGO_HOME/registry/cache" -name '*.crate' | wc -l)"
fi

section "notebooks: execute"
# Default: the student copies (their exercise checks must say "not yet solved", not crash)
# and the instructor copies (solved in full).
read -r -a names <<<"${NOTEBOOKS:-$(echo notebooks/*.ipynb notebooks/solutions/*.ipynb)}"
cargo run --release --bin course -- execute --skip-setup --timeout "${NOTEBOOK_CELL_TIMEOUT:-1200}" "${names[@]+"${names[@]}"}"

section "notebooks: done"
