#!/usr/bin/env bash
# Runs examples/benchmark_2d for every (task, seed, method) given and appends one row per run to
# results/benchmark_2d.tsv, with the command that made it. One thread (FLOWMATCH_THREADS=1), as the
# yardstick runs with OMP_NUM_THREADS=1.
#   bash results/run_benchmark_2d.sh "otcfm icfm" "8gaussians moons moons-8gaussians" "0 1 2 3 4" ["EXTRA FLAGS"]
# EXTRA FLAGS (e.g. "--optimizer adamw --activation selu") go to every run and into the method column.
# BIN=path runs that binary instead of building target/release/examples/benchmark_2d (a copy
# keeps a long queue independent of rebuilds while you work).
set -u
cd "$(dirname "$0")/.."
OUT=results/benchmark_2d.tsv
[ -f $OUT ] || printf 'task\tseed\tmethod\tw2\tnpe\tw2_floor\ttrain_s\tsteps_per_s\tload\tdate\tcommand\n' > $OUT
EXTRA=${4:-}
if [ -z "${BIN:-}" ]; then
  cargo build --release --example benchmark_2d >/dev/null 2>&1 || { echo "build failed"; exit 1; }
  BIN=./target/release/examples/benchmark_2d
fi
for method in $1; do for task in $2; do for seed in $3; do
  cmd="FLOWMATCH_THREADS=1 cargo run --release --example benchmark_2d -- --task $task --method $method --seed $seed${EXTRA:+ $EXTRA}"
  load=$(cut -d' ' -f1 /proc/loadavg)
  log=$(FLOWMATCH_THREADS=1 $BIN --task $task --method $method --seed $seed $EXTRA 2>/dev/null)
  w2=$(awk '/^w2:/{print $2}' <<<"$log"); npe=$(awk '/^npe:/{print $2}' <<<"$log"); fl=$(awk '/^w2_floor:/{print $2}' <<<"$log")
  ts=$(sed -n 's/^trained [0-9]* steps in \([0-9.]*\)s (\([0-9]*\) steps\/s).*/\1\t\2/p' <<<"$log")
  [ -n "$w2" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $task $seed "$method${EXTRA:+ $EXTRA}" $w2 $npe $fl "$ts" "$load" "$(date -u +%F)" "$cmd" >> $OUT
done; done; done
