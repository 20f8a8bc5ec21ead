#!/usr/bin/env bash
# The one script a GPU session runs on the device machine, over the package that
# scripts/cuda-build.sh made (.cuda-pkg/, carried). See cuda/README.md. Through the device tool:
#
#   run(command="bash cuda/run-on-gpu.sh", carry=[".cuda-pkg"], timeout_s=600)
#
# It finds the machine's CUDA 13 libraries (the wheels under its Python) and driver, recreates
# the paths dfdx baked into the binaries, checks every library and symbol, compiles dfdx's
# run-time kernels with the machine's NVRTC, runs the CUDA tests (normal and --ignored), then
# the benchmark on the GPU (where bench_cfm has --device) and on the CPU, PyTorch on the same
# GPU, and notebook 7.4's training cell (notebook_train) on the GPU and the CPU. Logs go to $OUT: run.log (everything), tests.log, bench.log, summary.txt. It stops
# starting new work once FLOWMATCH_GPU_BUDGET_S seconds (default 540) have passed.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PKG=$REPO/.cuda-pkg
OUT=${OUT:-$REPO/gpu-out}
BUDGET=${FLOWMATCH_GPU_BUDGET_S:-540}
mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
T0=$(date +%s)
FAILS=()
step() { printf '\n==== [%4ss] %s ====\n' "$(($(date +%s) - T0))" "$*"; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }
fail() { FAILS+=("$*"); echo "FAILED: $*"; }
# run_capped SECONDS LOG CMD...: runs CMD with a limit, never past the budget; output to LOG too.
run_capped() {
  local cap=$1 log=$2 l
  shift 2
  l=$(left)
  [ "$l" -lt "$cap" ] && cap=$l
  if [ "$cap" -lt 10 ]; then echo "(skipped, budget spent: $*)" | tee -a "$log"; return 124; fi
  echo "\$ $* (limit ${cap}s)" | tee -a "$log"
  timeout -k 5 "$cap" "$@" 2>&1 | tee -a "$log"
  return "${PIPESTATUS[0]}"
}

step "machine"
[ -f "$PKG/MANIFEST" ] || { echo "no .cuda-pkg: build with scripts/cuda-build.sh and carry [\".cuda-pkg\"]"; exit 2; }
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader || fail "nvidia-smi"
echo "$(uname -m), $(nproc) CPUs, $(python3 --version 2>&1) at $(command -v python3)"
(cd "$PKG" && sha256sum --quiet -c SHA256SUMS) && echo "package intact: $(grep -c . "$PKG/SHA256SUMS") files" || fail "package checksums"
grep -E '^(built|commit|rustc|nvcc|compute_cap|wheel)=' "$PKG/MANIFEST"

step "CUDA 13 libraries and driver"
# FLOWMATCH_CU13_LIB / FLOWMATCH_DRIVER_LIB override the search (for a dry run elsewhere).
CU13=${FLOWMATCH_CU13_LIB:-}
[ -n "$CU13" ] || CU13=$(python3 -c 'import nvidia, os; print(next(os.path.join(p, "cu13", "lib") for p in nvidia.__path__ if os.path.isdir(os.path.join(p, "cu13", "lib"))))' 2>/dev/null)
if [ -z "$CU13" ] || [ ! -e "$CU13/libcublas.so.13" ]; then
  CU13=$(dirname "$(find /opt /usr /root -name libcublas.so.13 -path '*cu13*' 2>/dev/null | head -1)")
fi
DRV=${FLOWMATCH_DRIVER_LIB:-}
[ -n "$DRV" ] || DRV=$(dirname "$(ldconfig -p | awk '/libcuda\.so\.1 .*x86-64/ {print $NF; exit}')" 2>/dev/null)
[ -e "$DRV/libcuda.so.1" ] || DRV=/usr/local/nvidia/lib64
echo "CUDA 13 wheels: $CU13"
echo "driver:         $DRV/libcuda.so.1 -> $(readlink -f "$DRV/libcuda.so.1")"
[ -e "$CU13/libcublas.so.13" ] && [ -e "$CU13/libnvrtc.so.13" ] || fail "CUDA 13 wheel libraries not found"
export LD_LIBRARY_PATH="$CU13:$DRV${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
python3 -m pip show nvidia-cuda-runtime nvidia-cuda-nvrtc nvidia-cublas nvidia-curand torch 2>/dev/null \
  | awk '/^Name:/ {n=tolower($2)} /^Version:/ {print n "==" $2}' | sort >"$OUT/versions.tmp"
while read -r w; do
  n=${w%%==*}
  have=$(grep "^$n==" "$OUT/versions.tmp" || echo "$n: not installed")
  [ "$have" = "$w" ] && echo "  same as the build: $w" || echo "  DIFFERS: built against $w, machine has $have"
done < <(sed -n 's/^wheel=//p' "$PKG/MANIFEST" | grep -E 'runtime|nvrtc|cublas|curand')
grep '^torch==' "$OUT/versions.tmp" | sed 's/^/  /'
rm -f "$OUT/versions.tmp"

step "paths baked into the binaries"
for p in $(sed -n 's/^baked=//p' "$PKG/MANIFEST"); do
  mkdir -p "$p" || { fail "mkdir $p"; continue; }
  case $p in
    */include) cp "$PKG"/include/* "$p/" ;;
    */out) cp "$PKG"/dfdx-out/* "$p/" ;;
  esac
  echo "  $p: $(ls "$p" | tr '\n' ' ')"
done

step "every library and symbol resolves on this machine"
if command -v nm >/dev/null && command -v readelf >/dev/null; then
  python3 "$REPO/cuda/check_symbols.py" --lib-path "$CU13:$DRV" "$PKG"/bin/* || fail "symbol check"
else
  echo "no nm/readelf here: the loader check below is the test"
fi
for b in "$PKG"/bin/*; do
  # Rust links with -z now: a missing library or symbol stops the program at load.
  case $b in */test-*) a=(--list) ;; *) a=(--load-check) ;; esac  # bench_cfm: exits 2 at once
  if LD_BIND_NOW=1 "$b" "${a[@]}" >/dev/null 2>"$OUT/load.err" || ! grep -qE 'error while loading|symbol lookup error' "$OUT/load.err"; then
    echo "  loads: $(basename "$b")"
  else
    cat "$OUT/load.err"
    fail "load $(basename "$b")"
  fi
done
rm -f "$OUT/load.err"

step "NVRTC on this machine: the kernels dfdx compiles at run time"
INC=$(sed -n 's/^baked=\(.*\/include\)$/\1/p' "$PKG/MANIFEST" | head -1)
OUTDIR=$(sed -n 's/^baked=\(.*\/out\)$/\1/p' "$PKG/MANIFEST" | head -1)
python3 "$REPO/cuda/nvrtc_check.py" compile --lib "$CU13/libnvrtc.so.13" --arch "sm_$(sed -n 's/^compute_cap=//p' "$PKG/MANIFEST")" \
  --include "$INC" ${OUTDIR:+--include "$OUTDIR"} "$PKG"/jit/*.cu || fail "NVRTC"

step "tests (each binary: its normal tests, then --ignored)"
: >"$OUT/tests.log"
for b in "$PKG"/bin/test-*; do
  n=$(basename "$b")
  run_capped 120 "$OUT/tests.log" "$b" --test-threads=4 || fail "$n"
  run_capped 180 "$OUT/tests.log" "$b" --ignored --test-threads=1 --nocapture || fail "$n --ignored"
done

step "benchmarks"
: >"$OUT/bench.log"
B=$PKG/bin/bench_cfm
rate() { sed -n "s/^$1: //p" "$2" | tail -1; }
declare -A R
bench() { # KEY CAP CMD...
  local key=$1 cap=$2 log="$OUT/bench.$1.tmp"
  shift 2
  run_capped "$cap" "$log" "$@" || fail "bench $key"
  cat "$log" >>"$OUT/bench.log"
  R[$key.train]=$(rate train_steps_per_s "$log")
  R[$key.sample]=$(rate sample_points_per_s "$log")
  rm -f "$log"
}
probe=$(timeout 20 "$B" --device probe 2>&1)
if [[ $probe == *"unknown argument '--device'"* ]]; then
  HAS_DEVICE=0
  echo "bench_cfm has no --device option yet (issue 22, deliverable 3): CPU figures only" | tee -a "$OUT/bench.log"
else
  HAS_DEVICE=1
fi
for batch in 256 4096; do
  [ $HAS_DEVICE = 1 ] && bench "ours_gpu_$batch" 120 "$B" --device cuda --batch $batch
  if [ -f "$PKG/bench/torch_cfm.py" ]; then
    bench "torch_gpu_$batch" 120 python3 "$REPO/cuda/torch_on_gpu.py" "$PKG/bench/torch_cfm.py" --batch $batch
  fi
done
cpu_dev=()
[ $HAS_DEVICE = 1 ] && cpu_dev=(--device cpu)
bench ours_cpu_256 90 "$B" "${cpu_dev[@]}" --batch 256
bench ours_cpu_4096 150 "$B" "${cpu_dev[@]}" --batch 4096 --steps 200
# The training cell of notebook 7.4 (Net::mlp(2, 64), 3000 steps at batch 256), timed whole.
NB=$PKG/bin/notebook_train
cell() { # KEY DEVICE
  local log="$OUT/cell.$1.tmp"
  run_capped 120 "$log" "$NB" --device "$2" || fail "notebook cell on $2"
  cat "$log" >>"$OUT/bench.log"
  R[$1.cell]=$(rate cell_seconds "$log")
  R[$1.steps]=$(rate train_seconds "$log")
  rm -f "$log"
}
if [ -x "$NB" ]; then
  cell cell_gpu cuda
  cell cell_cpu cpu
else
  echo "no notebook_train in the package: rebuild with scripts/cuda-build.sh" | tee -a "$OUT/bench.log"
fi

step "summary"
{
  echo "flowmatch CUDA run, $(date -u +%FT%TZ), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
  echo "package: $(grep -E '^(commit|built)=' "$PKG/MANIFEST" | tr '\n' ' ')"
  printf '%-16s %14s %16s\n' run train_steps/s sample_points/s
  for k in ours_gpu_256 torch_gpu_256 ours_cpu_256 ours_gpu_4096 torch_gpu_4096 ours_cpu_4096; do
    printf '%-16s %14s %16s\n' "$k" "${R[$k.train]:--}" "${R[$k.sample]:--}"
  done
  ratio() { python3 -c "import sys; a,b=sys.argv[1:]; print(f'{float(a)/float(b):.2f}x')" "$1" "$2" 2>/dev/null || echo n/a; }
  echo "GPU/CPU at batch 4096 (ours):  train $(ratio "${R[ours_gpu_4096.train]:-}" "${R[ours_cpu_4096.train]:-}"), sample $(ratio "${R[ours_gpu_4096.sample]:-}" "${R[ours_cpu_4096.sample]:-}")  (target >= 10x)"
  for b in 256 4096; do
    echo "ours/PyTorch on the GPU, batch $b: train $(ratio "${R[ours_gpu_$b.train]:-}" "${R[torch_gpu_$b.train]:-}"), sample $(ratio "${R[ours_gpu_$b.sample]:-}" "${R[torch_gpu_$b.sample]:-}")"
  done
  echo "notebook 7.4 training cell (Net::mlp(2, 64), 3000 steps, batch 256): GPU ${R[cell_gpu.cell]:--} s (steps alone ${R[cell_gpu.steps]:--} s), CPU ${R[cell_cpu.cell]:--} s; CPU/GPU time $(ratio "${R[cell_cpu.cell]:-}" "${R[cell_gpu.cell]:-}")"
  echo "test results:"
  grep -E '^test result|^\$ ' "$OUT/tests.log" | sed 's/^/  /'
  if [ ${#FAILS[@]} -eq 0 ]; then echo "all steps passed"; else printf 'FAILED: %s\n' "${FAILS[@]}"; fi
  echo "elapsed: $(($(date +%s) - T0)) s"
} | tee "$OUT/summary.txt"
[ ${#FAILS[@]} -eq 0 ]
