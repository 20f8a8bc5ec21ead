#!/usr/bin/env python3
"""Runs a CPU PyTorch yardstick (shared/bench/torch_cfm.py) unchanged on the GPU.

  python3 cuda/torch_on_gpu.py PATH/torch_cfm.py [its options]

Every tensor the script makes goes to the GPU (torch.set_default_device), and each
time.perf_counter() call first waits for the GPU (torch.cuda.synchronize), so the script's own
timers measure finished GPU work, not queued launches. The yardstick's file is not edited, so
its settings stay those of the CPU comparison.
"""
import runpy
import sys
import time

import torch

if len(sys.argv) < 2:
    sys.exit(__doc__)
if not torch.cuda.is_available():
    sys.exit("torch sees no CUDA device")
torch.set_default_device("cuda")
_perf_counter = time.perf_counter


def _synced_perf_counter():
    torch.cuda.synchronize()
    return _perf_counter()


time.perf_counter = _synced_perf_counter
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}) on {torch.cuda.get_device_name()}", flush=True)
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
