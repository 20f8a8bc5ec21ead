#!/usr/bin/env python3
"""How often would two *identical* implementations meet the five-seed targets of issues 16 and 18?

    python3 scripts/target_chance.py [--draws N] [--seed S]

The targets compare medians over seeds 0-4 of two libraries:
  issue 18, every (task, method) cell:  W2_a <= 1.1 W2_b   and   NPE_a <= 1.1 NPE_b + 0.01
  issue 16, OT-CFM on gaussians, moons, moons-8gaussians:
                                        W2_a <= W2_b, NPE_a <= NPE_b + 0.01, NPE_a <= 0.25 NPE_a(I-CFM)

Part 1 (one library against itself, real runs). Where one side has run at least ten seeds of a cell,
its seeds are cut into blocks of five (0-4, 5-9, ...) and every ordered pair of different blocks is
judged by the issue-18 target, as if the two blocks were two libraries.

Part 2 (resampling under "no difference"). For each cell every run of both sides (every seed,
results/benchmark_2d.tsv, results/torchcfm_2d.tsv and results/extra_seeds/) is pooled as the runs of
one implementation; each draw takes five (W2, NPE) runs for side a and five for side b, with
replacement, and judges the targets on their medians. It prints each cell's chance of being met and
the chance that all cells are met in the same draw (cells drawn independently). Pools of five to
thirty runs make these estimates, not exact values. Standard library only.
"""
import os, random, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_seeds import ROOT, rows  # noqa: E402

TASKS = ["gaussians", "moons", "moons-8gaussians", "scurve"]
METHODS = ["icfm", "otcfm", "sbcfm", "fm", "vpcfm"]


def runs(task, method):
    """(ours, theirs): seed -> (w2, npe), every stored seed of each side."""
    ours = rows(os.path.join(ROOT, "results/benchmark_2d.tsv"), task, method)
    for name in {task, "8gaussians" if task == "gaussians" else task}:
        ours.update(rows(os.path.join(ROOT, f"results/extra_seeds/{name}_{method}_ours.tsv"), task, method))
    theirs = rows(os.path.join(ROOT, "results/torchcfm_2d.tsv"), task, method)
    theirs.update(rows(os.path.join(ROOT, f"results/extra_seeds/{task}_{method}_torchcfm.tsv"), task, method))
    return ours, theirs


def medians(sample):
    return statistics.median(v[0] for v in sample), statistics.median(v[1] for v in sample)


def met18(a, b):
    (wa, na), (wb, nb) = medians(a), medians(b)
    return wa <= 1.1 * wb and na <= 1.1 * nb + 0.01


def met16(a, b, a_icfm):
    (wa, na), (wb, nb) = medians(a), medians(b)
    return wa <= wb and na <= nb + 0.01 and na <= 0.25 * medians(a_icfm)[1]


def blocks(by_seed):
    out = []
    for start in range(0, max(by_seed) + 1, 5):
        block = [by_seed[s] for s in range(start, start + 5) if s in by_seed]
        if len(block) == 5:
            out.append((f"{start}-{start + 4}", block))
    return out


def main():
    args = sys.argv[1:]
    draws = int(args[args.index("--draws") + 1]) if "--draws" in args else 20000
    rng = random.Random(int(args[args.index("--seed") + 1]) if "--seed" in args else 0)
    cells = [(t, m) for t in TASKS for m in METHODS if not (t == "moons-8gaussians" and m == "fm")]
    data = {c: runs(*c) for c in cells}

    print("# Part 1: one library against itself, blocks of five seeds judged by the issue-18 target")
    self_met = self_total = 0
    for (task, method), (ours, theirs) in data.items():
        for side, by_seed in (("ours", ours), ("torchcfm", theirs)):
            if len(by_seed) < 10:
                continue
            bl = blocks(by_seed)
            judged = [(na, nb, met18(a, b)) for na, a in bl for nb, b in bl if na != nb]
            if not judged:
                continue
            k = sum(j[2] for j in judged)
            self_met += k
            self_total += len(judged)
            missed = ", ".join(f"{na} vs {nb}" for na, nb, ok in judged if not ok)
            print(f"{task} {method} {side}: blocks {', '.join(n for n, _ in bl)}; met {k}/{len(judged)}"
                  + (f"; missed: {missed}" if missed else ""))
    print(f"self_comparisons_met: {self_met}/{self_total}")

    print(f"\n# Part 2: both sides' runs pooled per cell, {draws} draws of five against five")
    pools = {c: list(o.values()) + list(t.values()) for c, (o, t) in data.items()}
    p_all18 = 1.0
    for c in cells:
        pool = pools[c]
        if len(pool) < 5:
            print(f"{c[0]} {c[1]}: {len(pool)} runs, too few")
            continue
        k = sum(met18(rng.choices(pool, k=5), rng.choices(pool, k=5)) for _ in range(draws))
        p_all18 *= k / draws
        print(f"{c[0]} {c[1]}: pool {len(pool)} runs; P(issue-18 target met) = {k / draws:.3f}")
    print(f"p_all_issue18_cells_met: {p_all18:.2e}")

    p_all16 = 1.0
    for task in ["gaussians", "moons", "moons-8gaussians"]:
        ot, icfm = pools[(task, "otcfm")], pools[(task, "icfm")]
        k = sum(met16(rng.choices(ot, k=5), rng.choices(ot, k=5), rng.choices(icfm, k=5)) for _ in range(draws))
        p_all16 *= k / draws
        print(f"{task} otcfm: pool {len(ot)} runs (icfm {len(icfm)}); P(issue-16 targets met) = {k / draws:.3f}")
    print(f"p_all_issue16_tasks_met: {p_all16:.3f}")


if __name__ == "__main__":
    main()
