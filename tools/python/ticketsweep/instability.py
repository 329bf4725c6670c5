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
lines averaged first, then mean, min and max over seeds). With the criterion
axis ([sweep] criterion = magnitude, movement) in a file, or files of different
[prune] criterion, a row is also of one criterion: a criterion column after k,
the criteria of a k and density in a row each (round 0, one training for every
criterion, repeated for each). With -o it draws instability against k, one line
per density (round 0, the dense network from k, included) and criterion (a line
style each), log-symlog x so that k = 0 shows.
"""
import argparse
import sys

import numpy as np

from . import results as ticketsweep

# a line style and marker per series (lth_report's too): here one per criterion
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]


def rows_of(r, digits=4):
    """[(k, criterion, pct, per-seed instability in %)] of one results file (a
    row per k of its rewind axis, or its rewind_iteration, and per criterion of
    its criterion axis, or its prune.criterion), densest first, then by k, then
    by criterion (the axis's order)."""
    groups = {}
    for row in r.instability_summary():
        k = int(row["rewind"]) if r.rewind_axis else r.rewind_iteration
        # the criteria apart: a cell's lines are of its own criterion (round 0's shared by all)
        c = str(row["criterion"]) if r.criterion_axis else r.criteria[0]
        pct = float(f"{100 * row['density']:.{digits}g}")
        # a training shared by cells appears once per cell, with the same values
        lines = groups.setdefault((k, c, pct), {}).setdefault(int(row["seed"]), {})
        lines[(int(row["round"]), int(row["pair"]))] = float(row["value"])
    order = {c: i for i, c in enumerate(r.criteria)}
    out = []
    for k, c, pct in sorted(groups, key=lambda g: (-g[2], g[0], order[g[1]])):
        per_seed = [np.mean(list(lines.values())) for lines in groups[(k, c, pct)].values()]
        out.append((k, c, pct, 100 * np.array(per_seed)))
    return out


def draw(ax, table, pick=None):
    """Instability against k on ax, one line per density of table (rows_of's
    rows; pick: only these densities) and criterion (a line style each when
    there are several), log-symlog x so that k = 0 shows."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    pcts = sorted({pct for _, _, pct, _ in table if pick is None or pct in pick}, reverse=True)
    crits = list(dict.fromkeys(c for _, c, _, _ in table))
    cmap = plt.get_cmap("viridis")
    handles, labels = [], []
    for i, pct in enumerate(pcts):
        color = cmap(i / max(len(pcts) - 1, 1) * 0.9)
        for j, c in enumerate(crits):
            pts = sorted((k, v) for k, c2, p, v in table if p == pct and c2 == c)
            if not pts:
                continue
            ks = np.array([k for k, _ in pts])
            m = np.array([v.mean() for _, v in pts])
            err = np.array([[v.mean() - v.min(), v.max() - v.mean()] for _, v in pts]).T
            ls, mk = STYLES[j % len(STYLES)]
            h = ax.errorbar(ks, m, yerr=err, marker=mk, linestyle=ls, capsize=1.5, color=color)
            if len(handles) == i:  # a density's colour once in the legend
                handles.append(h)
                labels.append(f"{pct:.3g} %")
    title = "weights remaining"
    if len(crits) > 1:  # then a line style and marker per criterion
        handles += [Line2D([], [], color="0.3", linestyle=ls, marker=mk)
                    for ls, mk in (STYLES[j % len(STYLES)] for j in range(len(crits)))]
        labels += crits
        title = "weights remaining (colour);\ncriterion (line)"
    ax.set_xscale("symlog", linthresh=max(1, min([k for k, _, _, _ in table if k > 0], default=1)))
    ax.set_xlabel("Rewind iteration k")
    ax.set_ylabel("Instability (% test error)")
    ax.axhline(0, color="0.5", linewidth=0.6, linestyle=":")
    ax.legend(handles, labels, title=title, fontsize=7, title_fontsize=7)


def main(argv=None):
    """The command: argv as sys.argv[1:]."""
    ap = argparse.ArgumentParser(prog="python3 -m ticketsweep.instability", description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", metavar="RESULTS.h5", help="one results file per rewind point k")
    ap.add_argument("-o", "--output", metavar="FIG", help="draw instability against k into FIG (png, pdf, svg)")
    a = ap.parse_args(argv)
    table, axis = [], False
    for path in a.results:
        try:
            with ticketsweep.load(path) as r:
                if r.copies < 2:
                    sys.exit(f"ticketsweep.instability: {path}: the job had [analysis] copies = {r.copies}: "
                             f"no instability analysis (set copies = 2)")
                table += rows_of(r)
                axis |= r.criterion_axis
        except (ticketsweep.FormatError, OSError) as e:
            sys.exit(f"ticketsweep.instability: {e}")
    # by density, then k; a file's criteria stay in its axis's order
    table.sort(key=lambda x: (-x[2], x[0]))
    # a criterion column only where criteria are there to keep apart
    axis = axis or len({c for _, c, _, _ in table}) > 1
    print("k," + ("criterion," if axis else "") +
          "weights_remaining_pct,n_seeds,instability_mean,instability_min,instability_max")
    for k, c, pct, v in table:
        print(f"{k}," + (f"{c}," if axis else "") +
              f"{pct:.4g},{len(v)},{v.mean():.3f},{v.min():.3f},{v.max():.3f}")
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
