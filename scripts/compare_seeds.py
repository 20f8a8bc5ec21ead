#!/usr/bin/env python3
"""Compares one cell's runs of ours and of TorchCFM across seeds: median, interquartile range and a
two-sided Mann-Whitney U test for W2 and for NPE.

    python3 scripts/compare_seeds.py TASK METHOD [SEEDS] [--ours-tag TAG]

Reads every row of (TASK, METHOD) in results/benchmark_2d.tsv and results/extra_seeds/TASK_METHOD_ours.tsv
(ours) and in results/torchcfm_2d.tsv and results/extra_seeds/TASK_METHOD_torchcfm.tsv (TorchCFM); SEEDS
(e.g. 0-19) restricts both sides to those seeds. Ours rows with extra flags (e.g. 'otcfm --init pytorch')
are not the method and are skipped. --ours-tag TAG takes ours from results/extra_seeds/TASK_METHOD_ours-TAG.tsv
alone instead (a variant with flags, e.g. TorchCFM's network in our code), whatever its method column says. The p-value is exact (the null distribution of U by counting,
all orderings equally likely) when there are no ties, else the normal approximation with the tie
correction. No dependencies beyond the standard library.
"""
import math, os, statistics, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rows(path, task, method, any_flags=False):
    out = {}
    if not os.path.exists(path):
        return out
    header = None
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if header is None:
            header = f
            continue
        r = dict(zip(header, f))
        r["task"] = "gaussians" if r["task"] == "8gaussians" else r["task"]  # ours name it 8gaussians
        same = r["method"] == method or (any_flags and r["method"].split(" ")[0] == method)
        if r["task"] == task and same and r["seed"].isdigit() and r["npe"] not in ("", "-"):
            out[int(r["seed"])] = (float(r["w2"]), float(r["npe"]))  # a later row of a seed replaces an earlier
    return out


def quartiles(v):
    q = statistics.quantiles(v, n=4, method="inclusive")
    return q[0], statistics.median(v), q[2]


def u_counts(m, n):
    """Number of orderings of m x's and n y's with each value of U = #(x_i > y_j), by recursion on the largest."""
    f = [[[0] * (m * n + 1) for _ in range(n + 1)] for _ in range(m + 1)]
    for i in range(m + 1):
        for j in range(n + 1):
            if i == 0 or j == 0:
                f[i][j][0] = 1
                continue
            for u in range(i * j + 1):
                # The largest value is an x (beats all j y's) or a y (adds nothing).
                f[i][j][u] = (f[i - 1][j][u - j] if u >= j else 0) + f[i][j - 1][u]
    return f[m][n]


def mann_whitney(x, y):
    m, n = len(x), len(y)
    u = sum((a > b) + 0.5 * (a == b) for a in x for b in y)
    ties = len(set(x + y)) < m + n
    if not ties and m * n <= 2500:
        counts = u_counts(m, n)
        total = sum(counts)
        lo = sum(c for k, c in enumerate(counts) if k <= min(u, m * n - u))
        return u, min(1.0, 2 * lo / total), "exact"
    allv = sorted(x + y)
    tie = sum(allv.count(v) ** 3 - allv.count(v) for v in set(allv))
    sd = math.sqrt(m * n / 12 * ((m + n + 1) - tie / ((m + n) * (m + n - 1))))
    z = (abs(u - m * n / 2) - 0.5) / sd
    return u, math.erfc(z / math.sqrt(2)), "normal"


def main():
    args = sys.argv[1:]
    tag = None
    if "--ours-tag" in args:
        i = args.index("--ours-tag")
        tag = args[i + 1]
        del args[i:i + 2]
    task, method = args[0].replace("8gaussians", "gaussians") if args[0] == "8gaussians" else args[0], args[1]
    seeds = None
    if len(args) > 2:
        a, b = args[2].split("-")
        seeds = set(range(int(a), int(b) + 1))
    if tag:
        ours = rows(os.path.join(ROOT, f"results/extra_seeds/{task}_{method}_ours-{tag}.tsv"), task, method, True)
    else:
        ours = rows(os.path.join(ROOT, "results/benchmark_2d.tsv"), task, method)
        for name in {task, "8gaussians" if task == "gaussians" else task}:
            ours.update(rows(os.path.join(ROOT, f"results/extra_seeds/{name}_{method}_ours.tsv"), task, method))
    theirs = rows(os.path.join(ROOT, "results/torchcfm_2d.tsv"), task, method)
    theirs.update(rows(os.path.join(ROOT, f"results/extra_seeds/{task}_{method}_torchcfm.tsv"), task, method))
    if seeds is not None:
        ours = {s: v for s, v in ours.items() if s in seeds}
        theirs = {s: v for s, v in theirs.items() if s in seeds}
    print(f"{task} {method}{' ours-' + tag if tag else ''}: ours seeds {sorted(ours)}, torchcfm seeds {sorted(theirs)}")
    for k, name in [(0, "w2"), (1, "npe")]:
        x = [v[k] for v in ours.values()]
        y = [v[k] for v in theirs.values()]
        if len(x) < 2 or len(y) < 2:
            print(f"{name}: too few runs")
            continue
        (q1, med, q3), (r1, rmed, r3) = quartiles(x), quartiles(y)
        u, p, how = mann_whitney(x, y)
        print(f"{name}: ours median {med:.4f} IQR [{q1:.4f}, {q3:.4f}] (n {len(x)})  torchcfm median {rmed:.4f} "
              f"IQR [{r1:.4f}, {r3:.4f}] (n {len(y)})  U {u:g}  p {p:.3g} ({how}, two-sided)")
        print(f"{name}_ratio_of_medians: {med / rmed:.3f}")
        print(f"{name}_p: {p:.4f}")
    # NPE at equal W2: one least-squares line NPE = a + b W2 through both sides' runs, then the
    # two sides' residuals compared (does one library reach a lower NPE than the other at the same fit?).
    pts = [(v[0], v[1], 0) for v in ours.values()] + [(v[0], v[1], 1) for v in theirs.values()]
    if len(ours) >= 3 and len(theirs) >= 3:
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        b = sum((p[0] - mx) * (p[1] - my) for p in pts) / sum((p[0] - mx) ** 2 for p in pts)
        a = my - b * mx
        r = sum((p[0] - mx) * (p[1] - my) for p in pts) / math.sqrt(
            sum((p[0] - mx) ** 2 for p in pts) * sum((p[1] - my) ** 2 for p in pts))
        res = [[p[1] - a - b * p[0] for p in pts if p[2] == side] for side in (0, 1)]
        u, p, how = mann_whitney(res[0], res[1])
        print(f"npe at equal w2: pooled line npe = {a:.3f} + {b:.3f} w2 (Pearson r {r:.2f}); median residual ours "
              f"{statistics.median(res[0]):+.4f}, torchcfm {statistics.median(res[1]):+.4f}; U {u:g}  p {p:.3g} ({how})")
        print(f"npe_residual_p: {p:.4f}")


if __name__ == "__main__":
    main()
