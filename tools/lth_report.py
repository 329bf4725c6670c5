#!/usr/bin/python3
"""Draw the lottery-ticket figures (Frankle & Carbin 2019) of a ticketsweep results file.

Every round r of every done trial is one point: (density of round r, early-stop
test accuracy, early-stop iteration, final test accuracy), for the ticket and
for each control in the file. Points are grouped, per arm, by their cell
(--group cell, the default: trials with the same rounds and rate, the same round;
round 0, the dense network, is one group shared by all cells) or by their
weights remaining rounded to --digits significant digits (--group density).
Within a group the points of one seed are averaged first; means, spreads and
n_seeds are then over seeds.

Writes into DIR:
  accuracy.png    test accuracy at the early-stop iteration against weights remaining
  early_stop.png  early-stop iteration against weights remaining
  curves.png      test-accuracy learning curves at a few densities, one panel per arm
  summary.csv     one row per arm x group: arm, weights_remaining_pct, n_seeds,
                  es_test_acc_mean, es_test_acc_std, es_iter_mean, final_test_acc_mean,
                  es_test_acc_min, es_test_acc_max, rounds, rate, round
                  (accuracies are fractions; std is over seeds with ddof 1, NaN for one
                  seed; rounds and rate are empty for the dense group and for --group
                  density, round is empty for --group density)
and prints the table as markdown on stdout.
"""
import argparse
import csv
import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ticketsweep  # noqa: E402

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator  # noqa: E402

COLUMNS = ("arm", "weights_remaining_pct", "n_seeds", "es_test_acc_mean", "es_test_acc_std",
           "es_iter_mean", "final_test_acc_mean", "es_test_acc_min", "es_test_acc_max",
           "rounds", "rate", "round")
COLORS = {"ticket": "tab:blue", "reinit": "tab:orange", "random": "tab:green"}
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]


def arm_label(arm, rewind):
    if arm == "ticket":
        return "winning ticket " + (f"(rewind to it. {rewind})" if rewind else "(reset to θ0)")
    return {"reinit": "reinit (ticket's mask, new init)",
            "random": "random mask (same init)"}[arm]


def schedule_label(rounds):
    if rounds is None:
        return ""
    return "one-shot" if rounds == 1 else f"iterative, {rounds} rounds"


class Group:
    """The points of one arm that are averaged together, reduced per seed."""

    def __init__(self, arm, key, rounds, rate, round_, rows):
        self.arm, self.key, self.rounds, self.rate, self.round = arm, key, rounds, rate, round_
        self.rows = rows  # the summary rows (see ticketsweep.Results.summary)
        self.seeds = np.unique(rows["seed"])
        self.n_seeds = len(self.seeds)

        def per_seed(field):
            return np.array([rows[field][rows["seed"] == s].astype(float).mean()
                             for s in self.seeds])
        self.pct = per_seed("density").mean() * 100
        self.es_acc = per_seed("early_stop_test_acc")
        self.es_iter = per_seed("early_stop_iter")
        self.final_acc = per_seed("final_test_acc")

    def csv_row(self):
        def std(v):
            return v.std(ddof=1) if len(v) > 1 else float("nan")
        return {"arm": self.arm, "weights_remaining_pct": self.pct, "n_seeds": self.n_seeds,
                "es_test_acc_mean": self.es_acc.mean(), "es_test_acc_std": std(self.es_acc),
                "es_iter_mean": self.es_iter.mean(), "final_test_acc_mean": self.final_acc.mean(),
                "es_test_acc_min": self.es_acc.min(), "es_test_acc_max": self.es_acc.max(),
                "rounds": self.rounds, "rate": self.rate, "round": self.round}


def make_groups(r, arm, by, digits):
    """The groups of `arm`, ordered dense first, then by schedule, then density falling."""
    s = r.summary(arm)
    if by == "cell":
        keys = [("dense",) if row["round"] == 0 else
                (int(row["rounds"]), float(row["rate"]), int(row["round"])) for row in s]
    else:
        keys = [("pct", float(f"{row['density'] * 100:.{digits}g}")) for row in s]
    groups = []
    for key in dict.fromkeys(keys):
        rows = s[np.array([k == key for k in keys])]
        if key[0] == "dense":
            groups.append(Group(arm, key, None, None, 0, rows))
        elif key[0] == "pct":
            groups.append(Group(arm, key, None, None, None, rows))
        else:
            groups.append(Group(arm, key, key[0], key[1], key[2], rows))
    groups.sort(key=lambda g: (g.key[0] != "dense", g.rounds or 0, -g.pct))
    return groups


def series(groups):
    """{schedule: [groups by density falling]}; the dense group joins every schedule."""
    dense = [g for g in groups if g.key[0] == "dense"]
    out = {}
    for g in groups:
        if g.key[0] != "dense":
            out.setdefault(g.rounds, []).append(g)
    if not out:
        out[None] = []
    return {k: sorted(dense + v, key=lambda g: -g.pct) for k, v in out.items()}


def spread(v, how):
    """(below, above) the mean: the error bar of per-seed values v."""
    m = v.mean()
    if how == "minmax":
        return m - v.min(), v.max() - m
    if len(v) < 2:
        return 0.0, 0.0
    e = v.std(ddof=1) / (math.sqrt(len(v)) if how == "sem" else 1)
    return e, e


def density_axis(ax, pcts):
    """Log x axis of weights remaining, reversed (dense on the left), ticks at the
    groups' densities, thinned so that labels do not overlap."""
    ax.set_xscale("log")
    lo, hi = min(pcts), max(pcts)
    ax.set_xlim(hi * 1.25, lo / 1.25)
    gap = 0.065 * math.log10(hi / lo * 1.25 ** 2)  # about a label's width on an 8-inch axis
    ticks = []
    for p in sorted(set(round(p, 10) for p in pcts), reverse=True):
        if not ticks or math.log10(ticks[-1] / p) > gap:
            ticks.append(p)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Weights remaining (%, log scale)")
    ax.grid(True, which="major", alpha=0.3)


def setup_text(r, groups, how):
    c = r.config
    get = lambda s, k, d="?": c.get(s, k, fallback=d)  # noqa: E731
    hidden = get("model", "hidden").replace(" ", "").split(",")
    dims = [str(r.attrs.get("input_dim", "?"))] + hidden + ["10"]
    n = sorted({g.n_seeds for g in groups})
    ns = f"{n[0]}" if len(n) == 1 else f"{n[0]}-{n[-1]}"
    bar = {"minmax": "min-max", "std": "± std", "sem": "± std error"}[how]
    seeds = ("one seed, no error bars" if n == [1] else
             f"mean over {ns} seeds, bars {bar} over seeds")
    return (f"MLP {'-'.join(dims)}, {get('train', 'optimizer')} lr {get('train', 'lr')}, "
            f"batch {get('train', 'batch')}, {get('train', 'iterations')} iterations/round, "
            f"{get('prune', 'scope')} pruning; {seeds}")


def plot_vs_density(r, by_arm, field, ylabel, title, how, path, scale=1.0):
    fig, ax = plt.subplots(figsize=(10, 6.5))
    pcts, n_rows = [], 1
    for arm, groups in by_arm.items():
        ser = series(groups)
        n_rows = max(n_rows, len(ser))
        for i, (rounds, gs) in enumerate(sorted(ser.items(), key=lambda kv: kv[0] or 0)):
            ls, mk = STYLES[i % len(STYLES)]
            x = np.array([g.pct for g in gs])
            vals = [getattr(g, field) * scale for g in gs]
            y = np.array([v.mean() for v in vals])
            err = np.array([spread(v, how) for v in vals]).T
            lab = arm_label(arm, r.rewind_iteration)
            if len(ser) > 1 or rounds is not None:
                lab += f", {schedule_label(rounds)}"
            ax.errorbar(x, y, yerr=err, color=COLORS[arm], linestyle=ls, marker=mk, markersize=5,
                        capsize=3, linewidth=1.5, elinewidth=1, alpha=0.9, label=lab)
            pcts += list(x)
    density_axis(ax, pcts)
    ax.set_ylabel(ylabel)
    if field == "es_iter":
        last = int(r.iterations[-1])
        ax.set_ylim(0, last * 1.05)
        ax.axhline(last, color="0.5", linewidth=0.8, linestyle=":")
        every = [g.es_iter for gs in by_arm.values() for g in gs]
        if all(np.all(v == last) for v in every):
            ax.text(0.5, 0.5, f"every run reached its minimum validation loss at the last "
                    f"evaluation ({last}):\nno early stop within this budget; train longer",
                    transform=ax.transAxes, ha="center", va="center", fontsize=10, color="0.3")
    ax.set_title(title, fontsize=13, pad=24)
    ax.text(0.5, 1.015, setup_text(r, [g for gs in by_arm.values() for g in gs], how),
            transform=ax.transAxes, ha="center", va="bottom", fontsize=8, color="0.3")
    # below the axes, so that it never hides a point: one column per arm
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8.5, loc="lower center",
               ncol=len(by_arm), frameon=False)
    fig.tight_layout(rect=(0, 0.015 + 0.035 * n_rows, 1, 1))
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)


def pick_curve_groups(groups, n, wanted):
    """Up to n groups spread evenly in log density (or nearest to the wanted percentages)."""
    pool = sorted(groups, key=lambda g: -g.pct)
    if wanted:
        targets = wanted
    else:
        hi, lo = pool[0].pct, pool[-1].pct
        targets = [hi * (lo / hi) ** (i / max(1, n - 1)) for i in range(n)]
    picked = []
    for t in targets:
        free = [g for g in pool if g not in picked]
        if free:
            picked.append(min(free, key=lambda g: abs(math.log(g.pct / t))))
    return sorted(picked, key=lambda g: -g.pct)


def plot_curves(r, by_arm, n, wanted, path):
    arms = list(by_arm)
    chosen = pick_curve_groups(by_arm["ticket"], n, wanted)
    it = r.iterations
    fig, axes = plt.subplots(1, len(arms), figsize=(5.2 * len(arms) + 0.6, 4.8), sharey=True,
                             squeeze=False)
    cmap = plt.get_cmap("viridis")
    lows, handles = [], {}
    for ax, arm in zip(axes[0], arms):
        acc = r.curves(arm, "test_acc") * 100
        for i, tg in enumerate(chosen):
            g = next((g for g in by_arm[arm] if g.key == tg.key), None)
            if g is None:
                continue
            per_seed = np.array([np.mean([acc[row["trial"], row["round"]] for row in
                                          g.rows[g.rows["seed"] == s]], axis=0) for s in g.seeds])
            m = per_seed.mean(0)
            color = cmap(0.85 * i / max(1, len(chosen) - 1))
            handles[i], = ax.plot(it, m, color=color, linewidth=1.6, label=f"{tg.pct:.3g}%")
            if len(per_seed) > 1:
                ax.fill_between(it, per_seed.min(0), per_seed.max(0), color=color, alpha=0.15,
                                linewidth=0)
            # the y range leaves out the first tenth of training (it starts at chance level,
            # which would squash the rest)
            lows.append(per_seed[:, it >= it[-1] / 10])
        ax.set_title(arm_label(arm, r.rewind_iteration), fontsize=10)
        ax.set_xlabel("Training iteration")
        ax.grid(True, alpha=0.3)
    hi = max(np.nanmax(v) for v in lows)
    lo = min(np.nanmin(v) for v in lows)
    pad = max(0.5, (hi - lo) * 0.06)
    axes[0][0].set_ylim(lo - pad, hi + pad)
    axes[0][0].set_ylabel("Test accuracy (%)")
    lines = [handles[i] for i in sorted(handles)]
    fig.legend(lines, [h.get_label() for h in lines],
               title="weights\nremaining", loc="center left", bbox_to_anchor=(1.0, 0.5),
               fontsize=9, title_fontsize=9, frameon=False)
    fig.suptitle("Test accuracy during training, mean over seeds (band: min-max over seeds)",
                 fontsize=13)
    fig.text(0.5, 0.915, f"{os.path.basename(r.path)}; y range fitted to the last 90% of "
             "training", ha="center", fontsize=8, color="0.3")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{v:.10g}"
    return str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", metavar="RESULTS.h5", help="results file of ticketsweep run")
    ap.add_argument("-o", "--output", metavar="DIR", required=True,
                    help="folder for the figures and summary.csv (created if missing)")
    ap.add_argument("--group", choices=("cell", "density"), default="cell",
                    help="group points by (rounds, rate, round) or by rounded density "
                         "(default cell)")
    ap.add_argument("--digits", type=int, default=2,
                    help="significant digits of weights remaining for --group density (default 2)")
    ap.add_argument("--spread", choices=("minmax", "std", "sem"), default="minmax",
                    help="error bars over seeds: min-max, standard deviation or standard error "
                         "(default minmax)")
    ap.add_argument("--curves", type=int, default=5, metavar="N",
                    help="number of densities in curves.png (default 5)")
    ap.add_argument("--curve-densities", metavar="PCT,...",
                    help="weights remaining (%%) for curves.png; the nearest groups are drawn")
    a = ap.parse_args()
    wanted = None
    if a.curve_densities:
        try:
            wanted = [float(x) for x in a.curve_densities.split(",")]
        except ValueError:
            ap.error(f"--curve-densities {a.curve_densities!r}: expected numbers like 100,50,10")
        if any(w <= 0 for w in wanted):
            ap.error("--curve-densities: percentages must be > 0")
    if a.digits < 1 or a.curves < 1:
        ap.error("--digits and --curves must be >= 1")

    try:
        r = ticketsweep.load(a.results)
    except (ticketsweep.FormatError, OSError) as e:
        sys.exit(f"lth_report.py: {e}")
    with r:
        st = r.trials["status"]
        if not r.done.any():
            sys.exit(f"lth_report.py: {a.results}: no trial is done ({np.sum(st == 0)} pending, "
                     f"{np.sum(st == 2)} failed); nothing to draw")
        if not r.done.all():
            print(f"lth_report.py: note: {np.sum(~r.done)} of {len(st)} trials are not done "
                  f"({np.sum(st == 0)} pending, {np.sum(st == 2)} failed) and are left out",
                  file=sys.stderr)
        r.rewind_iteration = r.config.getint("prune", "rewind_iteration", fallback=0)
        by_arm = {arm: make_groups(r, arm, a.group, a.digits) for arm in r.arms}
        os.makedirs(a.output, exist_ok=True)
        rows = [g.csv_row() for gs in by_arm.values() for g in gs]
        csv_path = os.path.join(a.output, "summary.csv")
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, COLUMNS)
            w.writeheader()
            for row in rows:
                w.writerow({k: fmt(v) for k, v in row.items()})
        plot_vs_density(r, by_arm, "es_acc", "Test accuracy at early stop (%)",
                        "Test accuracy at the early-stop iteration vs. weights remaining",
                        a.spread, os.path.join(a.output, "accuracy.png"), scale=100)
        plot_vs_density(r, by_arm, "es_iter", "Early-stop iteration (training iterations)",
                        "Early-stop iteration (minimum validation loss) vs. weights remaining",
                        a.spread, os.path.join(a.output, "early_stop.png"))
        plot_curves(r, by_arm, a.curves, wanted, os.path.join(a.output, "curves.png"))

    def md(v, k):
        if v is None:
            return ""
        if k == "weights_remaining_pct":
            return f"{v:.3g}"
        if isinstance(v, (float, np.floating)):
            return "nan" if math.isnan(v) else (f"{v:.1f}" if k == "es_iter_mean" else
                                                f"{v:.4g}" if k == "rate" else f"{v:.4f}")
        return str(v)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---" if c == "arm" else "---:" for c in COLUMNS) + "|")
    for row in rows:
        print("| " + " | ".join(md(row[k], k) for k in COLUMNS) + " |")
    names = ("accuracy.png", "early_stop.png", "curves.png", "summary.csv")
    print(f"lth_report.py: wrote {', '.join(os.path.join(a.output, n) for n in names)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
