"""Instability against the rewind point k, from one results file with the
rewind axis, or from one results file per k.

    python3 -m ticketsweep.instability SWEEP.h5 [-o instability_k.png]
    python3 -m ticketsweep.instability K0.h5 K100.h5 K500.h5 [-o instability_k.png]

Each file is a sweep with [analysis] copies >= 2: one whose [sweep] rewind
axis lists the k (rewind = 0, 100, 500: every cell analysed from its k), or
one whose [prune] rewind_iteration is its k (a job run once per k, e.g. with
--set prune.rewind_iteration=100). For every k and every density (weights remaining,
4 significant digits: the same pruning counts give the same density whatever
k) it prints a row: k, weights_remaining_pct, n_seeds, instability_mean,
instability_min, instability_max (percentage points of test error; a seed's
lines averaged first, then mean, min and max over seeds). With -o it draws
instability against k, one line per density (round 0, the dense network from
k, included), log-symlog x so that k = 0 shows.
"""
import argparse
import sys

import numpy as np

from . import results as ticketsweep


def rows_of(r, digits=4):
    """[(k, pct, per-seed instability in %)] of one results file (a row per k
    of its rewind axis, or its rewind_iteration), densest first."""
    groups = {}
    for row in r.instability_summary():
        k = int(row["rewind"]) if r.rewind_axis else r.rewind_iteration
        pct = float(f"{100 * row['density']:.{digits}g}")
        # a training shared by cells appears once per cell, with the same values
        lines = groups.setdefault((k, pct), {}).setdefault(int(row["seed"]), {})
        lines[(int(row["round"]), int(row["pair"]))] = float(row["value"])
    out = []
    for k, pct in sorted(groups, key=lambda kp: (-kp[1], kp[0])):
        per_seed = [np.mean(list(lines.values())) for lines in groups[(k, pct)].values()]
        out.append((k, pct, 100 * np.array(per_seed)))
    return out


def draw(ax, table, pick=None):
    """Instability against k on ax, one line per density of table (rows_of's
    rows; pick: only these densities), log-symlog x so that k = 0 shows."""
    import matplotlib.pyplot as plt
    pcts = sorted({pct for _, pct, _ in table if pick is None or pct in pick}, reverse=True)
    cmap = plt.get_cmap("viridis")
    for i, pct in enumerate(pcts):
        pts = sorted((k, v) for k, p, v in table if p == pct)
        ks = np.array([k for k, _ in pts])
        m = np.array([v.mean() for _, v in pts])
        err = np.array([[v.mean() - v.min(), v.max() - v.mean()] for _, v in pts]).T
        ax.errorbar(ks, m, yerr=err, marker="o", capsize=1.5, color=cmap(i / max(len(pcts) - 1, 1) * 0.9),
                    label=f"{pct:.3g} %")
    ax.set_xscale("symlog", linthresh=max(1, min([k for k, _, _ in table if k > 0], default=1)))
    ax.set_xlabel("Rewind iteration k")
    ax.set_ylabel("Instability (% test error)")
    ax.axhline(0, color="0.5", linewidth=0.6, linestyle=":")
    ax.legend(title="weights remaining", fontsize=7, title_fontsize=7)


def main(argv=None):
    """The command: argv as sys.argv[1:]."""
    ap = argparse.ArgumentParser(prog="python3 -m ticketsweep.instability", description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", metavar="RESULTS.h5", help="one results file per rewind point k")
    ap.add_argument("-o", "--output", metavar="FIG", help="draw instability against k into FIG (png, pdf, svg)")
    a = ap.parse_args(argv)
    table = []
    for path in a.results:
        try:
            with ticketsweep.load(path) as r:
                if r.copies < 2:
                    sys.exit(f"ticketsweep.instability: {path}: the job had [analysis] copies = {r.copies}: "
                             f"no instability analysis (set copies = 2)")
                table += rows_of(r)
        except (ticketsweep.FormatError, OSError) as e:
            sys.exit(f"ticketsweep.instability: {e}")
    table.sort(key=lambda x: (-x[1], x[0]))
    print("k,weights_remaining_pct,n_seeds,instability_mean,instability_min,instability_max")
    for k, pct, v in table:
        print(f"{k},{pct:.4g},{len(v)},{v.mean():.3f},{v.min():.3f},{v.max():.3f}")
    if a.output:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(3.3, 2.4))
        draw(ax, table)
        fig.tight_layout()
        fig.savefig(a.output, dpi=200)
        print(f"ticketsweep.instability: wrote {a.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
