#!/usr/bin/env bash
# Executes every notebook in notebooks/ headless, each in a fresh evcxr kernel,
# and fails on any cell error or panic. Called by .ci/run; also fine by hand.
#
# What it needs on a fresh machine, and installs when missing:
#   * a Python 3.9+ with the venv module   -> .venv with nbclient + nbformat (pip, PyPI)
#   * evcxr_jupyter 0.22.x                 -> cargo install --locked (about 15 min on
#                                             2 cores; an installed one is reused)
# Both are done by `course execute` itself (`course setup --headless` alone installs).
#
# Environment:
#   NOTEBOOK_CELL_TIMEOUT       seconds one cell may take (default 1200)
#   NOTEBOOKS                   space-separated notebook names (default: all)
#   FLOWMATCH_EVCXR_BUILD_DIR   where the kernels compile the dependencies (default here:
#                               ~/.cache/flowmatch-evcxr, outside the clone, so a later CI
#                               run on the same machine reuses dfdx & co. instead of
#                               compiling them again; by hand the default is target/evcxr)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export FLOWMATCH_EVCXR_BUILD_DIR="${FLOWMATCH_EVCXR_BUILD_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/flowmatch-evcxr}"

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

section "notebooks: build the course command"
cargo build --release --bin course

section "notebooks: execute"
# Default: the student copies (their exercise checks must say "not yet solved", not crash)
# and the instructor copies (solved in full).
read -r -a names <<<"${NOTEBOOKS:-$(echo notebooks/*.ipynb notebooks/solutions/*.ipynb)}"
cargo run --release --bin course -- execute --timeout "${NOTEBOOK_CELL_TIMEOUT:-1200}" "${names[@]+"${names[@]}"}"

section "notebooks: done"
