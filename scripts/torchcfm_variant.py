#!/usr/bin/env python3
"""Runs the TorchCFM yardstick unchanged except for its network's activation and its optimiser, to
isolate those two protocol differences (the yardstick: SELU and AdamW; ours: SiLU and Adam):

    OMP_NUM_THREADS=1 /tmp/peer/bin/python scripts/torchcfm_variant.py TASK SEED METHOD [--silu] [--adam]

--silu replaces torch.nn.SELU by torch.nn.SiLU and --adam torch.optim.AdamW by torch.optim.Adam (lr
1e-3, no weight decay) before /work/shared/bench/torchcfm_2d.py runs (runpy; the file is only read),
so everything else (data, times, sigma, loss, sampler, metrics, seeding) is the yardstick's own code.
Prints what the yardstick prints.
"""
import runpy, sys
import torch

YARDSTICK = "/work/shared/bench/torchcfm_2d.py"
flags = [a for a in sys.argv[1:] if a.startswith("--")]
args = [a for a in sys.argv[1:] if not a.startswith("--")]
if "--silu" in flags:
    torch.nn.SELU = torch.nn.SiLU
if "--adam" in flags:
    torch.optim.AdamW = lambda params, lr, weight_decay=0.0: torch.optim.Adam(params, lr)
print(f"variant: {' '.join(flags) or 'none'}", flush=True)
sys.argv = [YARDSTICK] + args
runpy.run_path(YARDSTICK, run_name="__main__")
