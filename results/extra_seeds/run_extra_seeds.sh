#!/usr/bin/env bash
# Extra seeds of one (task, method) cell, on one side, one row per run with the command that made it:
#   bash results/extra_seeds/run_extra_seeds.sh ours|torchcfm TASK METHOD "5 6 ... 19"
# ours:     FLOWMATCH_THREADS=1 target/release/examples/benchmark_2d (BIN=path overrides), appended to
#           results/extra_seeds/TASK_METHOD_ours.tsv (same columns as results/benchmark_2d.tsv);
# torchcfm: OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 /tmp/peer/bin/python shared/bench/torchcfm_2d.py,
#           appended to results/extra_seeds/TASK_METHOD_torchcfm.tsv (columns of results/torchcfm_2d.tsv).
# EXTRA="--activation selu ..." (ours only) passes flags to every run; the rows then go to
# TASK_METHOD_ours-TAG.tsv with TAG=... (required with EXTRA), and the flags into the method column.
# These rows are kept apart from the seeds 0-4 tables that reproduce_table reads.
set -u
cd "$(dirname "$0")/../.."
side=$1 task=$2 method=$3 seeds=$4
EXTRA=${EXTRA:-}
OUT=results/extra_seeds/${task}_${method}_${side}${EXTRA:+-$TAG}.tsv
if [ "$side" = ours ]; then
  BIN=${BIN:-./target/release/examples/benchmark_2d}
  [ -f $OUT ] || printf 'task\tseed\tmethod\tw2\tnpe\tw2_floor\ttrain_s\tsteps_per_s\tload\tdate\tcommand\n' > $OUT
else
  [ -f $OUT ] || printf 'task\tseed\tmethod\tw2\tnpe\tw2_floor\ttrain_s\tload\tdate\tcommand\n' > $OUT
fi
for seed in $seeds; do
  load=$(cut -d' ' -f1 /proc/loadavg)
  if [ "$side" = ours ]; then
    cmd="FLOWMATCH_THREADS=1 cargo run --release --example benchmark_2d -- --task $task --method $method --seed $seed${EXTRA:+ $EXTRA}"
    log=$(FLOWMATCH_THREADS=1 nice -n 5 $BIN --task $task --method $method --seed $seed $EXTRA 2>/dev/null)
    ts=$(sed -n 's/^trained [0-9]* steps in \([0-9.]*\)s (\([0-9]*\) steps\/s).*/\1\t\2/p' <<<"$log")
  else
    cmd="OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python3 shared/bench/torchcfm_2d.py $task $seed $method"
    log=$(OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 5 /tmp/peer/bin/python /work/shared/bench/torchcfm_2d.py $task $seed $method 2>/dev/null)
    ts=$(sed -n 's/.*: train [0-9]* steps in \([0-9.]*\)s$/\1/p' <<<"$log")
  fi
  w2=$(awk '/^w2:/{print $2}' <<<"$log"); npe=$(awk '/^npe:/{print $2}' <<<"$log"); fl=$(awk '/^w2_floor:/{print $2}' <<<"$log")
  [ -n "$w2" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $task $seed "$method${EXTRA:+ $EXTRA}" $w2 $npe $fl "$ts" "$load" "$(date -u +%F)" "$cmd" >> $OUT
done
