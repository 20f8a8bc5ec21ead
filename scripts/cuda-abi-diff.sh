#!/usr/bin/env bash
# cudarc 0.9.15's CUDA 11.8 bindings against CUDA 13.0's headers, function by function and type by
# type, for the functions the built binaries import (see cuda/README.md, "CUDA 11.8 and 13").
#
#   scripts/cuda-abi-diff.sh IMPORTS_FILE [REPORT_FILE]
#
# IMPORTS_FILE: 'LIBRARY SYMBOL' lines, as cuda/check_symbols.py --imports writes them (the build
# packs it as .cuda-pkg/imports.txt). Regenerates the bindings with the same bindgen version
# (0.64.0) and the same flags as cudarc's own src/*/bindgen.sh, on the headers of the CUDA 13.0
# root that scripts/cuda-build.sh unpacked, and compares them with cudarc's committed sys.rs.
# Installs libclang (Debian) and bindgen-cli (crates.io, into the cache) on first use.
# Exit 1 if an imported function, or a type its signature reaches, differs.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${FLOWMATCH_CUDA_CACHE:-/work/cuda-cache}
ROOT=$CACHE/cuda-13.0
REF_DRIVER=555.58.02-4
IMPORTS=${1:?usage: scripts/cuda-abi-diff.sh IMPORTS_FILE [REPORT_FILE]}
REPORT=${2:-/dev/stdout}
[ -f "$ROOT/include/cuda.h" ] || { echo "no CUDA 13.0 root at $ROOT: run scripts/cuda-build.sh first" >&2; exit 2; }

LIBCLANG_DIR=$(ls -d /usr/lib/llvm-*/lib 2>/dev/null | while read -r d; do ls "$d"/libclang-*.so* >/dev/null 2>&1 && echo "$d"; done | sort -V | tail -1)
if [ -z "$LIBCLANG_DIR" ] || [ ! -d /usr/lib/clang ]; then
  echo "installing libclang (Debian) for bindgen" >&2
  apt-get install -y -q libclang1-14 libclang-common-14-dev >&2
  LIBCLANG_DIR=/usr/lib/llvm-14/lib
fi
BINDGEN=$CACHE/tools/bin/bindgen
if [ ! -x "$BINDGEN" ] || ! "$BINDGEN" --version | grep -q '0\.64\.0'; then
  echo "installing bindgen-cli 0.64.0 (cudarc 0.9.15's sys.rs say 'rust-bindgen 0.64.0')" >&2
  cargo install --locked bindgen-cli --version 0.64.0 --root "$CACHE/tools" >&2
fi
# The cudarc that Cargo.lock pins, as cargo unpacked it (the build fetched it).
crate_src() { # NAME -> its source folder in cargo's registry
  local v; v=$(awk -v n="\"$1\"" '$1=="name" && $3==n {getline; gsub(/"/,"",$3); print $3}' "$REPO/Cargo.lock" | head -1)
  ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$1-$v" 2>/dev/null | head -1
}
CUDARC=$(crate_src cudarc)
[ -d "$CUDARC/src/driver" ] || { echo "cudarc's source not found (cargo fetch first)" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
status=0
{
  echo "# cudarc $(basename "$CUDARC") bindings (CUDA 11.8) vs bindgen 0.64.0 on CUDA 13.0 headers"
  echo "# headers: $(cd "$ROOT" && cat .versions 2>/dev/null | tr '\n' ' ')"
  for pair in driver:libcuda.so.1 cublas:libcublas.so.13 nvrtc:libnvrtc.so.13 curand:libcurand.so.10; do
    m=${pair%%:*} lib=${pair#*:}
    mkdir -p "$WORK/$m"
    # cudaProfiler.h (cuProfilerStart/Stop) is not in the CUDA 13 runtime wheel; nothing imports it.
    grep -v cudaProfiler.h "$CUDARC/src/$m/wrapper.h" >"$WORK/$m/wrapper.h"
    # cudarc's own flags; bindgen-cli 0.64 spells --whitelist-* as --allowlist-* (same meaning).
    mapfile -t args < <(sed -n '/^bindgen/,/wrapper.h/p' "$CUDARC/src/$m/bindgen.sh" \
      | grep -oE -- '--[a-z_-]+(=("[^"]*"|[^ \\]+))?' | tr -d '"' | sed 's/--whitelist-/--allowlist-/')
    (cd "$WORK/$m" && LIBCLANG_PATH=$LIBCLANG_DIR "$BINDGEN" "${args[@]}" wrapper.h -- -I"$ROOT/include" >sys13.rs)
    echo
    echo "## $m ($lib): $CUDARC/src/$m/sys.rs vs CUDA 13.0 $(grep -m1 -oE 'CUDA_VERSION: u32 = [0-9]+' "$WORK/$m/sys13.rs" || true)"
    python3 "$REPO/cuda/abi_diff.py" "$CUDARC/src/$m/sys.rs" "$WORK/$m/sys13.rs" --imports "$IMPORTS" --lib "$lib" || status=1
  done
  # No driver library comes from PyPI, and Debian's newest (non-free, experimental) is 555, a
  # CUDA 12.5 driver. Its exports still show which of cudarc's names a real driver keeps; the
  # GPU machine's 580 is checked on the machine itself (cuda/run-on-gpu.sh).
  echo
  echo "## driver exports: cudarc's 11.8 driver functions vs a real libcuda.so.1 (Debian libcuda1 $REF_DRIVER)"
  ref=$CACHE/ref/libcuda1-$REF_DRIVER
  if [ ! -f "$ref/exports.txt" ]; then
    mkdir -p "$ref/lists/partial"
    echo "deb http://deb.debian.org/debian experimental non-free" >"$ref/sources.list"
    o=(-o Dir::Etc::sourcelist="$ref/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$ref/lists" -o APT::Get::List-Cleanup=0)
    if apt-get "${o[@]}" update >/dev/null 2>&1 && (cd "$ref" && apt-get "${o[@]}" download "libcuda1=$REF_DRIVER" >/dev/null 2>&1); then
      dpkg -x "$ref"/libcuda1_*.deb "$ref/x"
      nm -D --defined-only "$(find "$ref/x" -name 'libcuda.so.*.*' | head -1)" | awk '{print $3}' | sort -u >"$ref/exports.txt"
    fi
  fi
  if [ -s "$ref/exports.txt" ]; then
    grep -oE 'pub fn cu[A-Za-z0-9_]+' "$CUDARC/src/driver/sys.rs" | sed 's/pub fn //' | sort -u >"$WORK/cudarc-driver.txt"
    awk '$1=="libcuda.so.1" {print $2}' "$IMPORTS" | sort -u >"$WORK/imported-driver.txt"
    echo "exported by libcuda.so.1 of libcuda1 $REF_DRIVER: $(wc -l <"$ref/exports.txt") symbols (no symbol versions)"
    echo "cudarc 11.8 driver functions it lacks: $(comm -23 "$WORK/cudarc-driver.txt" "$ref/exports.txt" | tr '\n' ' ')(none listed = none)"
    echo "imported functions it lacks: $(comm -23 "$WORK/imported-driver.txt" "$ref/exports.txt" | tr '\n' ' ')(none listed = none)"
  else
    echo "(could not fetch Debian's libcuda1 $REF_DRIVER; skipped)"
  fi
} >"$REPORT"
exit $status
