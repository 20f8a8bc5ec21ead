#!/usr/bin/env python3
"""Refreshes results/torchcfm_2d.tsv: the TorchCFM yardstick runs of the 2-D protocol, one row per
(task, seed, method), each with the command that made it.

    python3 scripts/refresh_torchcfm_2d.py [QUEUE_TSV ...]

Reads the rows already in results/torchcfm_2d.tsv, then /work/shared/bench/results/torchcfm_2d.tsv
(read-only; its rows marked 'median' summarise older runs and are kept as such) and the yardstick
queue's /work/yardstick/results.tsv (or the files given), and writes the union back: a later source
replaces an earlier row of the same (task, seed, method). Nothing is invented: a cell without a run
simply has no row, and reproduce_table shows it as pending.
"""
import os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "results", "torchcfm_2d.tsv")
SHARED = "/work/shared/bench/results/torchcfm_2d.tsv"
QUEUE = ["/work/yardstick/results.tsv"]
COLS = ["task", "seed", "method", "w2", "npe", "w2_floor", "train_s", "date", "source", "command"]
HEADER = (
    "# TorchCFM 1.0.7 yardstick runs of the 2-D protocol (shared/bench/torchcfm_2d.py: SELU 3x64 MLP, AdamW lr 1e-3\n"
    "# weight decay 1e-5, batch 512, 20 000 steps, sigma 0.1, 20 Euler steps; torch CPU, OMP_NUM_THREADS=1), on this\n"
    "# project's 2-core machine. One row per run; seed 'median' rows summarise seeds 0-4 of an older run (npe '-').\n"
    "# Refreshed by: python3 scripts/refresh_torchcfm_2d.py\n"
)


def read(path, source):
    rows = []
    if not os.path.exists(path):
        return rows
    header = None
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        if header is None:
            header = f
            continue
        r = dict(zip(header, f))
        r.setdefault("date", "-")
        r.setdefault("source", source)
        if not r.get("command"):
            r["command"] = "-" if r["seed"] == "median" else (
                f"OMP_NUM_THREADS=1 python3 shared/bench/torchcfm_2d.py {r['task']} {r['seed']} {r['method']}")
        rows.append({c: r.get(c, "-") or "-" for c in COLS})
    return rows


def main():
    queue = sys.argv[1:] or QUEUE
    merged = {}
    for path, source in [(OUT, None), (SHARED, "shared/bench/results/torchcfm_2d.tsv")] + [(q, "yardstick queue") for q in queue]:
        for r in read(path, source or "results/torchcfm_2d.tsv"):
            merged[(r["task"], r["seed"], r["method"])] = r
    order = {"gaussians": 0, "moons": 1, "moons-8gaussians": 2, "scurve": 3}
    morder = {"icfm": 0, "otcfm": 1, "sbcfm": 2, "fm": 3, "vpcfm": 4}
    rows = sorted(merged.values(), key=lambda r: (morder.get(r["method"], 9), order.get(r["task"], 9), r["seed"]))
    with open(OUT + ".tmp", "w") as f:
        f.write(HEADER)
        f.write("\t".join(COLS) + "\n")
        for r in rows:
            f.write("\t".join(r[c] for c in COLS) + "\n")
    os.replace(OUT + ".tmp", OUT)
    runs = sum(r["seed"] != "median" for r in rows)
    print(f"{OUT}: {runs} runs, {len(rows) - runs} median rows")


if __name__ == "__main__":
    main()
