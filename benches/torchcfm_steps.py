#!/usr/bin/env python3
"""Training speed of the TorchCFM yardstick, cut to N steps.

    OMP_NUM_THREADS=1 /tmp/peer/bin/python benches/torchcfm_steps.py TASK SEED METHOD N [YARDSTICK]

Runs `shared/bench/torchcfm_2d.py` (YARDSTICK, default /work/shared/bench/torchcfm_2d.py) unchanged
except for its step count, which becomes N, and prints its own lines followed by the machine-readable
`steps: N`, `train_s: S` and, last, `steps_per_s: R` of the training loop (data draws, OT plan, forward,
backward and AdamW step; evaluation excluded). The yardstick file itself is only read, never modified.
Compare with `FLOWMATCH_THREADS=1 cargo run --release --example benchmark_2d -- --task TASK --method
METHOD --seed SEED --steps N`, run one after the other.
"""
import io
import re
import sys
from contextlib import redirect_stdout

task, seed, method, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
path = sys.argv[5] if len(sys.argv) > 5 else "/work/shared/bench/torchcfm_2d.py"
src = open(path).read()
src, k = re.subn(r"\bsteps = 20000\b", f"steps = {n}", src)
if k != 1:
    sys.exit(f"{path}: expected one 'steps = 20000' to cut, found {k}; the yardstick changed")
sys.argv = [path, task, seed, method]
buf = io.StringIO()
with redirect_stdout(buf):
    exec(compile(src, path, "exec"), {"__name__": "__main__"})
out = buf.getvalue()
print(out, end="")
m = re.search(r"train (\d+) steps in ([0-9.]+)s", out)
if not m:
    sys.exit("the yardstick printed no 'train N steps in Ss' line")
steps, secs = int(m.group(1)), float(m.group(2))
print(f"steps: {steps}")
print(f"train_s: {secs:.2f}")
print(f"steps_per_s: {steps / secs:.2f}")
