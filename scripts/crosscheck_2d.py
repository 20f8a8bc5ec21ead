#!/usr/bin/env python3
"""Cross-checks one 2-D benchmark run of ours against the TorchCFM yardstick's data and metrics.

    python3 scripts/crosscheck_2d.py TASK SEED METHOD OUR_DUMP.tsv [--torchcfm]

OUR_DUMP.tsv is written by `benchmark_2d ... --dump OUR_DUMP.tsv`: the 21 states of our 20-step Euler
paths from 1 000 source points (rows `state<k>`) and our three fresh target samples (`ref`, `ref2`,
`ref3`). The script recomputes, with the yardstick's own code (POT's exact EMD, TorchCFM's samplers):
  * our W2 and NPE from the dumped points, exactly as torchcfm_2d.py computes them (metric agreement);
  * W2 of our samples against a fresh yardstick target sample (data agreement on the target side);
  * W2 between our target sampler and the yardstick's (each 1 000 points) against W2 between two
    yardstick samples, and likewise for the source.
With --torchcfm it also trains the yardstick's model for (TASK, SEED, METHOD) by running
/work/shared/bench/torchcfm_2d.py unchanged (runpy) and evaluates ITS samples against OUR target
samples, the reverse check. Run it with OMP_NUM_THREADS=1 and /tmp/peer/bin/python.
"""
import math, runpy, sys
import numpy as np, ot, torch

YARDSTICK = "/work/shared/bench/torchcfm_2d.py"


def w2(a, b):
    return math.sqrt(ot.emd2(ot.unif(len(a)), ot.unif(len(b)), ot.dist(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))))


def load(path):
    groups = {}
    for line in open(path):
        if line.startswith("#") or line.startswith("kind"):
            continue
        kind, _, x, y = line.split("\t")
        groups.setdefault(kind, []).append((float(x), float(y)))
    return {k: np.array(v) for k, v in groups.items()}


def main():
    task, seed, method, dump = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    d = load(dump)
    states = [d[f"state{k}"] for k in range(21)]
    n = len(states) - 1
    # Their PE: mean over points of sum_k |v_k|^2 / n with v_k = n (x_{k+1} - x_k).
    pe = np.mean(sum(((n * (states[k + 1] - states[k])) ** 2).sum(1) / n for k in range(n)))
    ot_sq = w2(states[0], d["ref3"]) ** 2
    print(f"ours, yardstick metric code: w2 {w2(states[-1], d['ref']):.4f}  w2_floor {w2(d['ref2'], d['ref']):.4f}  "
          f"npe {abs(pe - ot_sq) / ot_sq:.4f}  (pe {pe:.4f}, W2^2 {ot_sq:.4f})")
    torch.manual_seed(1000 + seed); np.random.seed(1000 + seed)
    # The yardstick's samplers (the same calls as torchcfm_2d.py's src and tgt).
    from torchcfm.utils import sample_8gaussians, sample_moons
    def tgt(m):
        if task == "moons":
            return sample_moons(m).numpy()
        if task == "scurve":
            from sklearn.datasets import make_s_curve
            x, _ = make_s_curve(m, noise=0.1, random_state=int(np.random.randint(0, 2**31 - 1)))
            return x[:, [0, 2]]
        return sample_8gaussians(m).numpy()
    def src(m):
        return sample_moons(m).numpy() if task == "moons-8gaussians" else torch.randn(m, 2).numpy()
    t1, t2, t3 = tgt(1000), tgt(1000), tgt(1000)
    s1 = src(1000)
    print(f"ours vs a yardstick target sample: w2 {w2(states[-1], t1):.4f}")
    print(f"target samplers: W2(ours ref, yardstick) {w2(d['ref'], t1):.4f} {w2(d['ref2'], t2):.4f}  "
          f"W2(yardstick, yardstick) {w2(t3, t1):.4f} {w2(t3, t2):.4f}  W2(ours, ours) {w2(d['ref'], d['ref2']):.4f}")
    print(f"source samplers: W2(ours x0, yardstick) {w2(states[0], s1):.4f}")
    if "--torchcfm" in sys.argv[5:]:
        # The yardstick unchanged: its globals after the run hold its generated points x and its ref.
        sys.argv = [YARDSTICK, task, str(seed), method]
        g = runpy.run_path(YARDSTICK, run_name="__main__")
        x = g["x"].numpy()
        print(f"yardstick model vs OUR target samples: w2 {w2(x, d['ref']):.4f} {w2(x, d['ref2']):.4f} {w2(x, d['ref3']):.4f}  "
              f"(vs its own ref {w2(x, g['ref'].numpy()):.4f})")
        np.savetxt(dump + ".torchcfm_samples.tsv", x, delimiter="\t", fmt="%.6f")


if __name__ == "__main__":
    main()
