"""Draw the lottery-ticket figures (Frankle & Carbin 2019) of a ticketsweep results file.

Every round r of every done trial is one point: (density of round r, early-stop
test accuracy, early-stop iteration, final test accuracy), for the ticket and
for each control in the file. Points are grouped, per arm, by their cell
(--group cell, the default: trials with the same rounds and rate, the same round;
round 0, the dense network, is one group shared by all cells) or by their
weights remaining rounded to --digits significant digits (--group density).
Within a group the points of one seed are averaged first; means, spreads and
n_seeds are then over seeds (the dense group of a seed counts once, however
many trials share it). With the rewind axis ([sweep] rewind) a group is also
of one rewind point k (the dense group is shared by every k), accuracy.FMT
and early_stop.FMT draw a line per arm, schedule and k, and summary.csv has a
rewind column after rate. The criterion axis ([sweep] criterion) likewise: a
group of one criterion, a line per criterion, a criterion column.

The figures fit one column of a two-column paper: 3.3 in wide, text 8-9 pt
(PDF and SVG keep text as text). Writes into DIR, in each --format of png,
pdf and svg:
  accuracy.FMT    test accuracy at the early-stop iteration against weights remaining
  early_stop.FMT  early-stop iteration against weights remaining
  curves.FMT      test-accuracy learning curves at a few densities, one panel per arm;
                  for a job with test_curve = early_stop (the test set evaluated only at
                  each run's early stop and end) the validation-accuracy curves, with the
                  test accuracy at the early stop and at the end as markers
  instability.FMT with [analysis] copies >= 2 (the instability analysis): the
                  instability (largest test error on the line between two copies
                  minus the mean of its endpoints') against weights remaining
  interpolation.FMT  with copies >= 2: test error along the line (alpha 0 to 1)
                  at a few densities (with the chain axes a panel per density, a
                  line per k and criterion styled as in instability.FMT)
  instability.csv with copies >= 2: weights_remaining_pct, n_seeds,
                  instability_mean, instability_min, instability_max (in
                  percentage points of test error), endpoint_error_mean (%)
                  (with the rewind axis a rewind column first, a row per k and density;
                  with the criterion axis a criterion column after it, a row per
                  criterion too, and a line per criterion in instability.FMT)
  rewind.FMT      with the rewind axis ([sweep] rewind = 0, 100, ...): test accuracy at
                  the early stop against the rewind iteration k (symlog x), one line per
                  density (up to --curves of them, or the nearest to --curve-densities;
                  with the criterion axis too, one per density and criterion), one panel
                  per arm
  rewind.csv      with the rewind axis: arm, rewind, [criterion,] weights_remaining_pct,
                  n_seeds, es_test_acc_mean, es_test_acc_min, es_test_acc_max (a seed's
                  rows of one point averaged first)
  criterion.FMT   with the criterion axis ([sweep] criterion = magnitude, movement):
                  test accuracy at the early stop, a group per criterion of points at
                  rewind.FMT's densities (and each k, with the rewind axis), bars over
                  seeds, one panel per arm
  criterion.csv   with the criterion axis: arm, [rewind,] criterion, weights_remaining_pct,
                  n_seeds, es_test_acc_mean, es_test_acc_min, es_test_acc_max (with both
                  axes rewind.csv's rows, each density's and k's criteria together)
  instability_k.FMT  with the rewind axis and copies >= 2: instability against k, one
                  line per density (round 0: the dense network from k) and criterion
  captions.md     a caption for each figure: the setup, what lines, bars and bands
                  are, over how many seeds, and which points are cut off
  arms.csv        with more than one arm: the arms side by side, one row per group of
                  the ticket (rounds, rate, [rewind, criterion,] round,
                  weights_remaining_pct, n_seeds, as in summary.csv), then for each arm ARM (the file's order) ARM_es_acc
                  and ARM_es_iter, the mean over seeds of its early-stop test accuracy
                  and iteration at that group (empty where the arm has no such group)
  summary.csv     one row per arm x group, the group first: arm, rounds, rate, round,
                  weights_remaining_pct, n_seeds, es_test_acc_mean, es_test_acc_std,
                  es_test_acc_min, es_test_acc_max, es_iter_mean,
                  n_seeds_es_at_last_eval, final_test_acc_mean
                  (rounds and rate are empty for the dense group and for --group
                  density, round for --group density; accuracies are fractions with 4
                  decimals; std is over seeds with ddof 1, empty for one seed; weights
                  remaining with 4 significant digits; es_iter_mean with 1 decimal)
and prints the table as markdown on stdout. With --format html (alone or with
the others) also
  report.html     one self-contained page: the sweep's status, the figures (PNG
                  inside the page) with their captions, the summary table, the
                  paper's claims where the job is one they apply to (lenet_claims,
                  conv_claims), the job and the provenance; no script, no link out

Cut off by the training length: when a run's validation loss is lowest at the
last evaluation, it was still falling when training ended, so its early-stop
iteration is the training length and its early-stop accuracy the final one; a
longer training could stop later. Such points (n_seeds_es_at_last_eval >= 1) are
ringed in both figures and counted in the CSV.
"""
import argparse
import csv
import functools
import math
import os
import sys

import matplotlib
import numpy as np

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from . import instability, page
from . import results as ticketsweep

WIDTH = 3.3          # inches: one column of a two-column paper
AXES_HEIGHT = 1.9    # inches, of the plots against density
FORMATS = ("png", "pdf", "svg", "html")  # html: report.html, one page (ticketsweep.page)
DPI = 300            # PNG only; PDF and SVG are vector
PAGE_DPI = 200       # the PNGs inside report.html: sharp at twice their size on screen
matplotlib.rcParams.update({
    "font.size": 8, "axes.labelsize": 9, "axes.titlesize": 8, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "legend.fontsize": 8, "legend.title_fontsize": 8,
    "figure.titlesize": 9, "figure.labelsize": 9,
    "axes.linewidth": 0.6, "grid.linewidth": 0.4, "lines.linewidth": 1.0,
    "lines.markersize": 3.5, "xtick.major.width": 0.6, "ytick.major.width": 0.6,
    "xtick.major.size": 2.5, "ytick.major.size": 2.5, "xtick.major.pad": 2,
    "ytick.major.pad": 2, "axes.labelpad": 2,
    "legend.handlelength": 2.2, "legend.handletextpad": 0.5, "legend.labelspacing": 0.3,
    "legend.columnspacing": 1.0, "legend.borderaxespad": 0.2,
    # text stays text in vector output (Type 42 fonts in PDF, as publishers ask)
    "pdf.fonttype": 42, "svg.fonttype": "none",
})

COLUMNS = ("arm", "rounds", "rate", "round", "weights_remaining_pct", "n_seeds",
           "es_test_acc_mean", "es_test_acc_std", "es_test_acc_min", "es_test_acc_max",
           "es_iter_mean", "n_seeds_es_at_last_eval", "final_test_acc_mean")
COLORS = {"ticket": "tab:blue", "reinit": "tab:orange", "random": "tab:green", "signed_reinit": "tab:red",
          "reshuffle": "tab:purple", "signed_constant": "tab:brown", "snip": "tab:pink", "synflow": "tab:olive",
          "magnitude_init": "tab:cyan", "grasp": "tab:gray"}
STYLES = instability.STYLES
ARM_NAMES = {"ticket": "winning ticket", "reinit": "random reinit", "random": "random mask",
             "signed_reinit": "signed reinit", "reshuffle": "reshuffled θ0", "signed_constant": "signed constant",
             "snip": "SNIP", "synflow": "SynFlow", "magnitude_init": "magnitude at init",
             "grasp": "GraSP"}
SPREAD_NAMES = {"minmax": "min-max", "std": "± 1 std", "sem": "± 1 std error"}
RING = dict(linestyle="none", marker="o", markersize=7.5, markerfacecolor="none",
            markeredgecolor="0.15", markeredgewidth=0.7)
# test_curve = early_stop: the test accuracy at the early stop and at the end, on the curves
ES_MARK = dict(marker="o", markersize=4, markeredgecolor="black", markeredgewidth=0.4)
END_MARK = dict(marker="s", markersize=3.5, markeredgecolor="black", markeredgewidth=0.4)
ON_EDGE = dict(linestyle="none", clip_on=False, zorder=5)  # the end's markers sit on the frame


def arm_text(arm, rewind):
    """What an arm is, for the captions."""
    if arm == "ticket":
        return ("winning ticket: the pruned network with its survivors reset to " +
                (f"their values at iteration {rewind}" if rewind else "θ0"))
    start = f"the values at iteration {rewind}" if rewind else "θ0"
    return {"reinit": "random reinit: the ticket's mask from a new random initialisation",
            "random": "random mask: a random mask with the ticket's per-layer counts, from " + start,
            "signed_reinit": f"signed reinit: the ticket's mask, fresh magnitudes with the signs of {start}",
            "reshuffle": f"reshuffled: the ticket's mask, the surviving values of {start} permuted within "
                         "each layer",
            "signed_constant": f"signed constant: the ticket's mask, ± each layer's init std with the signs "
                               f"of {start}",
            "snip": f"SNIP: {start} pruned in one shot by |θ·∂L/∂θ| on a scoring batch, at the ticket's density",
            "synflow": f"SynFlow: {start} pruned by iterated synaptic flow (no data), at the ticket's density",
            "magnitude_init": f"magnitude at init: {start} pruned in one shot by |θ0|, at the ticket's "
                              "density",
            "grasp": f"GraSP: {start} pruned in one shot by θ·Hg on a scoring batch (gradient flow kept), at "
                     "the ticket's density"}[arm]


def schedule_text(r):
    """How the rounds after the first train when rewinding (empty without)."""
    k, T = r.rewind_iteration, int(r.iterations[-1])
    if r.rewind_axis:
        return ("; every arm's rounds after the first train " +
                (f"from their rewind point k to {T} (round 0's data order continued; iterations are "
                 "absolute)" if r.rewind_schedule == "continue" else
                 f"{T} iterations, the data order from the start"))
    if not k:
        return ""
    if r.rewind_schedule == "continue":
        return (f"; every arm's rounds after the first train iterations {k} to {T} (round 0's "
                f"data order continued; iterations are absolute)")
    return f"; every arm's rounds after the first train {T} iterations, the data order from the start"


def schedule_label(rounds):
    if rounds is None:
        return ""
    return "one-shot" if rounds == 1 else f"{rounds} rounds"


class Group:
    """The points of one arm that are averaged together, reduced per seed."""

    def __init__(self, arm, key, rounds, rate, round_, rows, last, chain=None):
        self.arm, self.key, self.rounds, self.rate, self.round = arm, key, rounds, rate, round_
        chain = chain or {}  # its values of the chain axes (none: the job's one, or dense)
        self.rewind, self.criterion = chain.get("rewind"), chain.get("criterion")
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
        # per seed: did a run of it reach its minimum validation loss at the last evaluation?
        self.es_at_last = np.array([bool(np.any(rows["early_stop_iter"][rows["seed"] == s] ==
                                                last)) for s in self.seeds])

    def csv_row(self):
        def std(v):
            return v.std(ddof=1) if len(v) > 1 else None
        return {"arm": self.arm, "rounds": self.rounds, "rate": self.rate, "rewind": self.rewind,
                "criterion": self.criterion, "round": self.round,
                "weights_remaining_pct": self.pct, "n_seeds": self.n_seeds,
                "es_test_acc_mean": self.es_acc.mean(), "es_test_acc_std": std(self.es_acc),
                "es_test_acc_min": self.es_acc.min(), "es_test_acc_max": self.es_acc.max(),
                "es_iter_mean": self.es_iter.mean(),
                "n_seeds_es_at_last_eval": int(self.es_at_last.sum()),
                "final_test_acc_mean": self.final_acc.mean()}


def make_groups(r, arm, by, digits):
    """The groups of `arm`, ordered dense first, then by schedule, then density falling."""
    s = r.summary(arm)
    last = int(r.iterations[-1])
    # a group is also of one value of each chain axis (the dense group: of them all, by cell)
    chain = lambda row: tuple(row[a] for a in r.chain_axes)  # noqa: E731
    if by == "cell":
        keys = [("dense",) if row["round"] == 0 else
                (int(row["rounds"]), float(row["rate"]), int(row["round"])) + chain(row) for row in s]
    else:
        keys = [("pct", float(f"{row['density'] * 100:.{digits}g}")) + chain(row) for row in s]
    groups = []
    for key in dict.fromkeys(keys):
        rows = s[np.array([k == key for k in keys])]
        if key[0] == "dense":
            groups.append(Group(arm, key, None, None, 0, rows, last))
        elif key[0] == "pct":
            groups.append(Group(arm, key, None, None, None, rows, last, dict(zip(r.chain_axes, key[2:]))))
        else:
            groups.append(Group(arm, key, key[0], key[1], key[2], rows, last, dict(zip(r.chain_axes, key[3:]))))
    order = {c: i for i, c in enumerate(r.criteria)}
    groups.sort(key=lambda g: (g.key[0] != "dense", g.rounds or 0, g.rewind or 0, order.get(g.criterion, 0), -g.pct))
    return groups


def series(groups):
    """{(schedule, k, criterion): [groups by density falling]}; the dense group
    joins every series (k and criterion None but with their axes)."""
    dense = [g for g in groups if g.key[0] == "dense"]
    out = {}
    for g in groups:
        if g.key[0] != "dense":
            out.setdefault((g.rounds, g.rewind, g.criterion), []).append(g)
    if not out:
        out[(None, None, None)] = []
    return {k: sorted(dense + v, key=lambda g: -g.pct) for k, v in out.items()}


def spread(v, how):
    """(below, above) the mean: the error bar of per-seed values v (0 for one seed)."""
    m = v.mean()
    if len(v) < 2:
        return 0.0, 0.0
    if how == "minmax":
        return m - v.min(), v.max() - m
    e = v.std(ddof=1) / (math.sqrt(len(v)) if how == "sem" else 1)
    return e, e


def band(per_seed, how):
    """(low, high) curves around the mean of per_seed [seeds, E]."""
    if how == "minmax":
        return per_seed.min(0), per_seed.max(0)
    m = per_seed.mean(0)
    e = per_seed.std(0, ddof=1) / (math.sqrt(len(per_seed)) if how == "sem" else 1)
    return m - e, m + e


def seeds_text(ns):
    """'2 seeds', '1 seed', '1-3 seeds' for the seed counts ns of the groups shown."""
    lo, hi = min(ns), max(ns)
    return (f"{lo}" if lo == hi else f"{lo}-{hi}") + (" seed" if hi == 1 else " seeds")


def spread_text(ns, how, what):
    """How the groups' means and spreads are made, e.g. 'mean of 2 seeds, bars: min-max'."""
    if max(ns) == 1:
        return f"one seed, no {what}"
    s = f"mean of {seeds_text(ns)}, {what}: {SPREAD_NAMES[how]}"
    return s + (" (none for 1 seed)" if min(ns) == 1 else "")


def density_axis(ax, pcts, axis_inches):
    """Log x axis of weights remaining, reversed (dense on the left), ticks at the
    groups' densities, thinned so that labels do not overlap."""
    ax.set_xscale("log")
    lo, hi = min(pcts), max(pcts)
    if lo == hi:
        lo, hi = lo / 1.5, hi * 1.5
    ax.set_xlim(hi * 1.25, lo / 1.25)
    # a label ("51.6") is about 0.3 in wide at 8 pt: that share of the axis's decades
    gap = 0.3 / axis_inches * math.log10(hi / lo * 1.25 ** 2)
    ticks = []
    for p in sorted(set(round(p, 10) for p in pcts), reverse=True):
        if not ticks or math.log10(ticks[-1] / p) > gap:
            ticks.append(p)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Weights remaining (%, log scale)")
    ax.grid(True, which="major", alpha=0.3)


def legend_below(fig, handles, labels, title, ncol=None, **kw):
    """The legend under the figure (bbox_inches='tight' makes room), never over a point."""
    if ncol is None:
        ncol = 2 if len(labels) > 2 and max(len(l) for l in labels) <= 22 else 1
    return fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=ncol, frameon=False, title=title, **kw)


def plot_vs_density(r, by_arm, field, ylabel, how, scale=1.0):
    """Accuracy (field es_acc) or early-stop iteration (es_iter) against weights
    remaining: a line per arm and schedule, a point per group. Returns the figure."""
    fig, ax = plt.subplots(figsize=(WIDTH, AXES_HEIGHT + 0.55))
    last = int(r.iterations[-1])
    pcts, ns, n_cut, n_points = [], [], 0, 0
    handles, labels = [], []
    several = any(len(series(gs)) > 1 for gs in by_arm.values())
    for arm, groups in by_arm.items():
        ser = series(groups)
        for i, ((rounds, k, crit), gs) in enumerate(ser.items()):  # make_groups' order
            ls, mk = STYLES[i % len(STYLES)]
            x = np.array([g.pct for g in gs])
            vals = [getattr(g, field) * scale for g in gs]
            y = np.array([v.mean() for v in vals])
            lab = ARM_NAMES[arm] + (f", {schedule_label(rounds)}"
                                    if several or rounds is not None else "") + (
                f", k = {k}" if k is not None else "") + (f", {crit}" if crit is not None else "")
            style = dict(color=COLORS[arm], linestyle=ls, marker=mk, alpha=0.9)
            if max(len(v) for v in vals) > 1:
                err = np.array([spread(v, how) for v in vals]).T
                h = ax.errorbar(x, y, yerr=err, capsize=1.5, elinewidth=0.6, **style)
            else:
                h, = ax.plot(x, y, **style)
            handles.append(h)
            labels.append(lab)
            cut = np.array([g.es_at_last.any() for g in gs])
            if cut.any():
                ax.plot(x[cut], y[cut], zorder=5, **RING)
            n_cut += int(cut.sum())
            n_points += len(gs)
            pcts += list(x)
            ns += [g.n_seeds for g in gs]
    density_axis(ax, pcts, WIDTH - 0.6)
    ax.set_ylabel(ylabel)
    if field == "es_iter":
        ax.set_ylim(0, last * 1.08)
        ax.axhline(last, color="0.5", linewidth=0.6, linestyle=":", zorder=0)
        if n_cut == n_points:
            ax.text(0.5, 0.45, "every run's validation loss was lowest at\nthe last "
                    "evaluation: train longer", transform=ax.transAxes, ha="center",
                    va="center", color="0.3")
    if n_cut:
        handles.append(Line2D([], [], **RING))
        labels.append(f"early stop at the last evaluation ({last}):\ncut off by the training "
                      "length")
    fig.tight_layout(pad=0.2)
    legend_below(fig, handles, labels, spread_text(ns, how, "bars"))
    return fig


def density_targets(hi, lo, n, wanted):
    """The weights remaining (%) a figure of a few densities aims at: the wanted
    ones, or n from hi to lo evenly in log density."""
    return wanted or [hi * (lo / hi) ** (i / max(1, n - 1)) for i in range(n)]


def pick_curve_groups(groups, n, wanted):
    """Up to n groups spread evenly in log density (or nearest to the wanted percentages)."""
    pool = sorted(groups, key=lambda g: -g.pct)
    picked = []
    for t in density_targets(pool[0].pct, pool[-1].pct, n, wanted):
        free = [g for g in pool if g not in picked]
        if free:
            picked.append(min(free, key=lambda g: abs(math.log(g.pct / t))))
    return sorted(picked, key=lambda g: -g.pct)


def plot_curves(r, by_arm, n, wanted, how):
    """Test accuracy against iteration at a few densities, one panel per arm (stacked).
    A job with test_curve = early_stop has no test curve (the test set was evaluated at
    each run's early stop and end only): the lines are then validation accuracy, and
    markers give the test accuracy at the early stop (mean over seeds of the iteration
    and the accuracy) and at the end. The y range holds every line, band and marker
    from iteration 0 on. Returns the figure."""
    early = r.test_curve == "early_stop"
    arms = list(by_arm)
    chosen = pick_curve_groups(by_arm["ticket"], n, wanted)
    it = r.iterations
    fig, axes = plt.subplots(len(arms), 1, figsize=(WIDTH, 0.45 + 1.15 * len(arms)),
                             sharex=True, sharey=True, squeeze=False)
    cmap = plt.get_cmap("viridis")
    drawn, handles, ns = [], {}, []
    for ax, arm in zip(axes[:, 0], arms):
        acc = r.curves(arm, "val_acc" if early else "test_acc") * 100
        for i, tg in enumerate(chosen):
            g = next((g for g in by_arm[arm] if g.key == tg.key), None)
            if g is None:
                continue
            per_seed = np.array([np.mean([acc[row["trial"], row["round"]] for row in
                                          g.rows[g.rows["seed"] == s]], axis=0) for s in g.seeds])
            m = per_seed.mean(0)
            color = cmap(0.85 * i / max(1, len(chosen) - 1))
            handles[i], = ax.plot(it, m, color=color, label=f"{tg.pct:.3g}%")
            drawn.append(m)
            ns.append(len(per_seed))
            if len(per_seed) > 1:
                lo, hi = band(per_seed, how)
                ax.fill_between(it, lo, hi, color=color, alpha=0.18, linewidth=0)
                drawn += [lo, hi]
            if early:  # the test set where it was evaluated
                es = np.array([g.es_acc.mean(), g.final_acc.mean()]) * 100
                ax.plot([g.es_iter.mean()], es[:1], color=color, **ES_MARK, **ON_EDGE)
                ax.plot([it[-1]], es[1:], color=color, **END_MARK, **ON_EDGE)
                drawn.append(es)
        ax.set_title(ARM_NAMES[arm], loc="left", pad=2)
        ax.grid(True, alpha=0.3)
    # every line and band whole, iteration 0 (chance level) included
    lo = min(np.nanmin(v) for v in drawn)
    hi = max(np.nanmax(v) for v in drawn)
    pad = max(0.5, (hi - lo) * 0.04)
    axes[0][0].set_ylim(lo - pad, hi + pad)
    axes[0][0].set_xlim(it[0], it[-1])
    axes[-1][0].set_xlabel("Training iteration")
    fig.supylabel("Validation accuracy (%), test at markers" if early else "Test accuracy (%)",
                  x=0.01)
    fig.tight_layout(pad=0.2, h_pad=0.4)
    lines = [handles[i] for i in sorted(handles)]
    labels = [h.get_label() for h in lines]
    if early:
        lines += [Line2D([], [], linestyle="none", color="0.3", **ES_MARK),
                  Line2D([], [], linestyle="none", color="0.3", **END_MARK)]
        labels += ["test, early stop", "test, end"]
    title = "weights remaining\n(" + spread_text(ns, how, "band") + ")"
    legend_below(fig, lines, labels, title, ncol=min(len(lines), 5) if not early else 4,
                 handlelength=1.2, columnspacing=0.8)
    return fig


def instability_groups(r, digits=4, k=None, criterion=None):
    """The instability analysis by density: [(pct, {seed: [per-line values]}, rows)]
    from r.instability_summary() (with the rewind axis, the cells of rewind point
    k; with the criterion axis, those of `criterion`), densest first; a training
    shared by several cells counts once per seed (its rows are the same values)."""
    rows = r.instability_summary()
    if k is not None:
        rows = rows[rows["rewind"] == k]
    if criterion is not None:
        rows = rows[rows["criterion"] == criterion]
    groups = {}
    for row in rows:
        pct = float(f"{100 * row['density']:.{digits}g}")
        g = groups.setdefault(pct, {})
        g.setdefault(int(row["seed"]), {})[(int(row["round"]), int(row["pair"]), float(row["value"]))] = row
    out = []
    for pct in sorted(groups, reverse=True):
        per_seed = {s: np.array([v for (_, _, v) in d]) for s, d in groups[pct].items()}
        ends = [100 * (float(x["test_error_0"]) + float(x["test_error_1"])) / 2
                for d in groups[pct].values() for x in d.values()]
        out.append((pct, per_seed, float(np.mean(ends))))
    return out


def instability_series(r):
    """[(k, criterion)]: a line of instability.FMT and a block of instability.csv's
    rows each, one per value of the file's chain axes (None for an axis it lacks)."""
    return [(k, c) for k in (r.rewinds if r.rewind_axis else [None])
            for c in (r.criteria if r.criterion_axis else [None])]


def series_style(r, k, c):
    """The style of (k, criterion)'s line in instability.FMT and interpolation.FMT:
    a colour per k, a line style and marker per criterion (per k without the
    criterion axis), labelled by the axes the file has (None without any)."""
    ks = list(r.rewinds)
    i = ks.index(k) if k is not None else 0
    ls, mk = STYLES[(r.criteria.index(c) if c is not None else i) % len(STYLES)]
    label = ", ".join([f"k = {k}"] * (k is not None) + [c] * (c is not None)) or None
    return dict(color=COLORS["ticket"] if k is None else plt.get_cmap("viridis")(0.9 * i / max(1, len(ks) - 1)),
                marker=mk, linestyle=ls, label=label)


def plot_instability(r, how):
    """Instability (percentage points of test error) against weights remaining:
    mean over seeds of each seed's mean over its lines, bars over seeds; a line
    per k and criterion of the chain axes (a colour per k, a line style per
    criterion, or per k without the criterion axis)."""
    fig, ax = plt.subplots(figsize=(WIDTH, AXES_HEIGHT + 0.3))
    xs = []
    for k, c in instability_series(r):
        gs = instability_groups(r, k=k, criterion=c)
        x = np.array([g[0] for g in gs])
        vals = [100 * np.array([v.mean() for v in g[1].values()]) for g in gs]
        y = np.array([v.mean() for v in vals])
        style = series_style(r, k, c)
        if max(len(v) for v in vals) > 1:
            ax.errorbar(x, y, yerr=np.array([spread(v, how) for v in vals]).T, capsize=1.5,
                        elinewidth=0.6, **style)
        else:
            ax.plot(x, y, **style)
        xs += list(x)
    ax.axhline(0, color="0.5", linewidth=0.6, linestyle=":", zorder=0)
    density_axis(ax, xs, WIDTH - 0.6)
    ax.set_ylabel("Instability (% test error)")
    fig.tight_layout(pad=0.2)
    if r.criterion_axis:
        legend_below(fig, *ax.get_legend_handles_labels(), "rewind iteration, criterion" if r.rewind_axis
                     else "criterion")
    elif r.rewind_axis:
        legend_below(fig, *ax.get_legend_handles_labels(), "rewind iteration", ncol=min(len(r.rewinds), 4))
    return fig


def interpolation_curves(err, rows, pct, k=None, criterion=None):
    """[seed, alpha] test error (%) on the lines of the rows at weights remaining
    pct (4 significant digits), of rewind point k and `criterion` where given:
    each seed's lines averaged first, a (round, pair) once a seed. err is
    instability().test_error, read once by the caller (it reads the whole dataset)."""
    per_seed = {}
    for row in rows:
        if (float(f"{100 * row['density']:.4g}") != pct or (k is not None and row["rewind"] != k)
                or (criterion is not None and row["criterion"] != criterion)):
            continue
        line = 100 * err[row["trial"], row["round"], row["pair"]]
        per_seed.setdefault(int(row["seed"]), {})[(int(row["round"]), int(row["pair"]))] = line
    return np.array([np.mean(list(d.values()), axis=0) for d in per_seed.values()])


def plot_interpolation(r, n, how):
    """Test error along the line between two copies (alpha 0 to 1) at up to n
    densities (the densest, the sparsest and evenly between): mean over seeds
    (each seed's lines averaged first), band over seeds. Without the chain axes
    a line per density (a colour each); with them a panel per density and a
    line per k and criterion, styled as instability.FMT's."""
    ins = r.instability()
    rows = r.instability_summary()
    pcts = sorted({float(f"{100 * d:.4g}") for d in rows["density"]}, reverse=True)
    pick = pcts if len(pcts) <= n else [pcts[int(round(i * (len(pcts) - 1) / (n - 1)))] for i in range(n)]
    if r.chain_axes:
        return plot_interpolation_axes(r, ins, rows, pick, how)
    fig, ax = plt.subplots(figsize=(WIDTH, AXES_HEIGHT + 0.3))
    cmap = plt.get_cmap("viridis")
    handles, labels = [], []
    for i, pct in enumerate(pick):
        curves = interpolation_curves(ins.test_error, rows, pct)
        color = cmap(i / max(len(pick) - 1, 1) * 0.9)
        h, = ax.plot(ins.alpha, curves.mean(axis=0), color=color)
        if len(curves) > 1:
            lo, hi = band(curves, how)
            ax.fill_between(ins.alpha, lo, hi, color=color, alpha=0.2, linewidth=0)
        handles.append(h)
        labels.append(f"{pct:.3g} %")
    ax.set_xlabel("Interpolation alpha (copy i at 0, copy j at 1)")
    ax.set_ylabel("Test error (%)")
    ax.grid(True, alpha=0.3)
    fig.tight_layout(pad=0.2)
    legend_below(fig, handles, labels, "weights remaining", ncol=min(len(labels), 3))
    return fig


def plot_interpolation_axes(r, ins, rows, pick, how):
    """interpolation.FMT with the chain axes: a panel per density (stacked), in
    each a line per (k, criterion); one density's lines of every k and criterion
    on one panel would be too many to tell apart."""
    fig, axes = plt.subplots(len(pick), 1, figsize=(WIDTH, 0.6 + 1.0 * len(pick)), sharex=True,
                             sharey=True, squeeze=False)
    handles = {}
    for ax, pct in zip(axes[:, 0], pick):
        for k, c in instability_series(r):
            curves = interpolation_curves(ins.test_error, rows, pct, k, c)
            if not len(curves):
                continue
            # no markers: a line has up to 1001 points
            style = series_style(r, k, c) | {"marker": None}
            h, = ax.plot(ins.alpha, curves.mean(axis=0), **style)
            if len(curves) > 1:
                lo, hi = band(curves, how)
                ax.fill_between(ins.alpha, lo, hi, color=style["color"], alpha=0.12, linewidth=0)
            handles.setdefault(style["label"], h)
        ax.set_title(f"{pct:.3g} % weights remaining", loc="left", pad=2)
        ax.grid(True, alpha=0.3)
    axes[-1][0].set_xlabel("Interpolation alpha (copy i at 0, copy j at 1)")
    fig.supylabel("Test error (%)", x=0.01)
    fig.tight_layout(pad=0.2, h_pad=0.4)
    title = ("rewind iteration, criterion" if r.rewind_axis and r.criterion_axis else
             "rewind iteration" if r.rewind_axis else "criterion")
    # "k = 20, magnitude" is long: two such labels fill the column's width
    legend_below(fig, list(handles.values()), list(handles), title,
                 ncol=2 if r.rewind_axis and r.criterion_axis else min(len(handles), 4))
    return fig


def instability_rows(r):
    """instability.csv's rows: one per density group (and k and criterion, with
    the rewind and criterion axes), a line of instability.FMT's rows together."""
    out = []
    for k, c in instability_series(r):
        for pct, per_seed, ends in instability_groups(r, k=k, criterion=c):
            v = 100 * np.array([x.mean() for x in per_seed.values()])
            out.append(({"rewind": int(k)} if k is not None else {}) | ({"criterion": c} if c is not None else {}) |
                       {"weights_remaining_pct": pct, "n_seeds": len(v), "instability_mean": float(v.mean()),
                        "instability_min": float(v.min()), "instability_max": float(v.max()),
                        "endpoint_error_mean": ends})
    return out


def plot_instability_k(r):
    """Instability against the rewind point k (the rewind axis), a line per
    density and criterion (ticketsweep.instability's figure, from this one file)."""
    fig, ax = plt.subplots(figsize=(WIDTH, AXES_HEIGHT + 0.6))
    instability.draw(ax, instability.rows_of(r))
    fig.tight_layout(pad=0.2)
    return fig


def axis_points(r, arm, n, wanted, digits=4):
    """The points of rewind.FMT and criterion.FMT of `arm`: {(pct, k, criterion):
    per-seed early-stop test accuracy} at up to n densities (4 significant digits;
    those density_targets aims at, the nearest there are), for each value of the
    file's chain axes (None for an axis it lacks), a seed's rows of one point
    averaged first; by density falling, then k, then criterion (the axis's order).
    Both figures and their CSV files read these, so they show the same numbers."""
    s = r.summary(arm)
    pct = np.array([float(f"{100 * d:.{digits}g}") for d in s["density"]])
    pool = sorted(set(pct), reverse=True)
    pick = sorted({min(pool, key=lambda p: abs(math.log(p / t)))
                   for t in density_targets(pool[0], pool[-1], n, wanted)}, reverse=True)
    ks = [int(k) for k in r.rewinds] if r.rewind_axis else [None]
    crits = list(r.criteria) if r.criterion_axis else [None]
    out = {}
    for p in pick:
        for k in ks:
            for c in crits:
                sel = s[(pct == p) & ((s["rewind"] == k) if k is not None else True) &
                        ((s["criterion"] == c) if c is not None else True)]
                per_seed = [sel["early_stop_test_acc"][sel["seed"] == sd].astype(float).mean()
                            for sd in np.unique(sel["seed"])]
                if per_seed:
                    out[(p, k, c)] = np.array(per_seed)
    return out


AXIS_COLUMNS = ("arm", "rewind", "criterion", "weights_remaining_pct", "n_seeds", "es_test_acc_mean",
                "es_test_acc_min", "es_test_acc_max")


def axis_columns(r):
    """rewind.csv's and criterion.csv's columns: those of the file's chain axes only."""
    return tuple(c for c in AXIS_COLUMNS if c not in ("rewind", "criterion") or c in r.chain_axes)


def axis_rows(r, points, along):
    """rewind.csv's (along "rewind") or criterion.csv's ("criterion") rows from
    axis_points: per arm and density, the points of one line or group together."""
    order = {c: i for i, c in enumerate(r.criteria)}
    key = ((lambda p: (-p[0], order.get(p[2], 0), p[1] or 0)) if along == "rewind" else
           (lambda p: (-p[0], p[1] or 0, order.get(p[2], 0))))
    return [{"arm": arm, "rewind": k, "criterion": c, "weights_remaining_pct": p, "n_seeds": len(v),
             "es_test_acc_mean": v.mean(), "es_test_acc_min": v.min(), "es_test_acc_max": v.max()}
            for arm, pts in points.items() for (p, k, c), v in sorted(pts.items(), key=lambda kv: key(kv[0]))]


def density_colors(points):
    """{pct: colour} over the densities of every arm's axis_points (densest first),
    so that a density has one colour in every panel."""
    pcts = sorted({p for pts in points.values() for p, _, _ in pts}, reverse=True)
    cmap = plt.get_cmap("viridis")
    return {p: cmap(0.85 * i / max(1, len(pcts) - 1)) for i, p in enumerate(pcts)}


def axis_legend(fig, color, by, lines, handles=None):
    """The legend of rewind.FMT (lines) and criterion.FMT (points, no lines): a
    colour per density (color: density_colors), and with `by` (an axis's name and
    values) a line style and marker per value (a marker only without lines)."""
    hs = handles or [Line2D([], [], color=c, marker="o", linestyle="-" if lines else "none")
                     for c in color.values()]
    labels = [f"{p:.3g}%" for p in color]
    title = "weights remaining"
    if by:
        name, values = by
        hs += [Line2D([], [], color="0.3", linestyle=ls if lines else "none", marker=mk)
               for ls, mk in (STYLES[i % len(STYLES)] for i in range(len(values)))]
        labels += [f"k = {v}" if name == "rewind" else str(v) for v in values]
        title = (f"weights remaining (colour); {'rewind iteration' if name == 'rewind' else 'criterion'} "
                 f"({'line' if lines else 'marker'})")
    # short handles, as curves': five densities in a row within the column's width
    legend_below(fig, hs, labels, title, ncol=min(len(labels), 5 if not by else 3), handlelength=1.2,
                 columnspacing=0.8)


def plot_rewind(r, points, how):
    """Test accuracy at the early stop against the rewind point k (the rewind
    axis), one line per density (with the criterion axis, per density and
    criterion: a line style each), one panel per arm. points: axis_points per arm."""
    arms = list(points)
    fig, axes = plt.subplots(len(arms), 1, figsize=(WIDTH, 0.6 + 1.2 * len(arms)), sharex=True, squeeze=False)
    color = density_colors(points)
    crits = list(r.criteria) if r.criterion_axis else [None]
    handles = {}
    for ax, arm in zip(axes[:, 0], arms):
        for p in color:
            for j, c in enumerate(crits):
                ks = [k for (q, k, c2) in points[arm] if q == p and c2 == c]
                if not ks:
                    continue
                vals = [100 * points[arm][(p, k, c)] for k in ks]
                y = np.array([v.mean() for v in vals])
                ls, mk = STYLES[j % len(STYLES)]
                style = dict(color=color[p], marker=mk, linestyle=ls)
                if max(len(v) for v in vals) > 1:
                    h = ax.errorbar(ks, y, yerr=np.array([spread(v, how) for v in vals]).T, capsize=1.5,
                                    elinewidth=0.6, **style)
                else:
                    h, = ax.plot(ks, y, **style)
                handles.setdefault(p, h)
        ax.set_title(ARM_NAMES[arm], loc="left", pad=2)
        ax.grid(True, alpha=0.3)
    pos = [int(k) for k in r.rewinds if k > 0]
    axes[0][0].set_xscale("symlog", linthresh=max(1, min(pos, default=1)))
    axes[-1][0].set_xlabel("Rewind iteration k (symlog scale)")
    fig.supylabel("Test accuracy at early stop (%)", x=0.01)
    fig.tight_layout(pad=0.2, h_pad=0.4)
    if r.criterion_axis:
        axis_legend(fig, color, ("criterion", crits), True)
    else:  # the lines themselves
        axis_legend(fig, color, None, True, [handles[p] for p in color])
    return fig


def plot_criterion(r, points, how):
    """Test accuracy at the early stop per pruning criterion (the criterion axis):
    a group of points per criterion, one per density (with the rewind axis, per
    density and k: a marker each) side by side, bars over seeds, one panel per arm.
    points: axis_points per arm."""
    arms = list(points)
    fig, axes = plt.subplots(len(arms), 1, figsize=(WIDTH, 0.8 + 1.2 * len(arms)), sharex=True, squeeze=False)
    color = density_colors(points)
    crits = list(r.criteria)
    ks = [int(k) for k in r.rewinds] if r.rewind_axis else [None]
    n = len(color) * len(ks)
    for ax, arm in zip(axes[:, 0], arms):
        for i, p in enumerate(color):
            for j, k in enumerate(ks):
                # side by side within a criterion's group, density-major
                dx = 0.8 * ((i * len(ks) + j + 0.5) / n - 0.5)
                xs = [x + dx for x, c in enumerate(crits) if (p, k, c) in points[arm]]
                if not xs:
                    continue
                vals = [100 * points[arm][(p, k, c)] for c in crits if (p, k, c) in points[arm]]
                y = np.array([v.mean() for v in vals])
                style = dict(color=color[p], marker=STYLES[j % len(STYLES)][1], linestyle="none")
                if max(len(v) for v in vals) > 1:
                    ax.errorbar(xs, y, yerr=np.array([spread(v, how) for v in vals]).T, capsize=1.5,
                                elinewidth=0.6, **style)
                else:
                    ax.plot(xs, y, **style)
        for x in range(1, len(crits)):  # the groups' borders
            ax.axvline(x - 0.5, color="0.8", linewidth=0.5, zorder=0)
        ax.set_title(ARM_NAMES[arm], loc="left", pad=2)
        ax.grid(True, axis="y", alpha=0.3)
    ax = axes[-1][0]
    ax.set_xlim(-0.5, len(crits) - 0.5)
    ax.set_xticks(range(len(crits)))
    # a character is about 0.065 in at 8 pt: tilt the names when the longest is wider than its group
    tilt = max(len(c) for c in crits) * 0.065 > (WIDTH - 0.6) / len(crits)
    ax.set_xticklabels(crits, rotation=25 if tilt else 0, ha="right" if tilt else "center")
    ax.set_xlabel("Pruning criterion")
    fig.supylabel("Test accuracy at early stop (%)", x=0.01)
    fig.tight_layout(pad=0.2, h_pad=0.4)
    axis_legend(fig, color, ("rewind", ks) if r.rewind_axis else None, False)
    return fig


AXIS_PLOTS = {"rewind": plot_rewind, "criterion": plot_criterion}


def columns(r):
    """summary.csv's columns: COLUMNS, with rewind and criterion after rate with
    those axes."""
    return COLUMNS[:3] + r.chain_axes + COLUMNS[3:]


INSTABILITY_COLUMNS = ("weights_remaining_pct", "n_seeds", "instability_mean", "instability_min",
                       "instability_max", "endpoint_error_mean")


def setup_text(r):
    """The job in one sentence: model, optimiser, batch, iterations, pruning, reset."""
    c = r.config
    get = lambda s, k, d="?": c.get(s, k, fallback=d).strip()  # noqa: E731
    hidden = [h for h in get("model", "hidden", "").replace(" ", "").split(",") if h]
    fc = "-".join([str(r.attrs.get("input_dim", "?"))] + hidden + ["10"])
    conv = get("model", "conv", "")
    model = f"conv {conv.replace(' ', '')} then FC {fc}" if conv else f"MLP {fc}"
    rewind = r.config.getint("prune", "rewind_iteration", fallback=0)
    reset = (f"iteration k of round 0 for each k of the rewind axis ({', '.join(map(str, r.rewinds))}; "
             "0: θ0)" if r.rewind_axis else f"iteration {rewind}" if rewind else "θ0")
    return (f"{model}; {get('train', 'optimizer')} lr {get('train', 'lr')}, batch "
            f"{get('train', 'batch')}, {get('train', 'iterations')} iterations a round, "
            f"evaluated every {get('train', 'eval_every')}; {get('prune', 'scope')} pruning by "
            + (f"each criterion of the axis ({', '.join(r.criteria)})" if r.criterion_axis else
               get('prune', 'criterion', 'magnitude')) + ", survivors reset to " + reset + schedule_text(r))


def captions(r, by_arm, how, names, points=None):
    """captions.md: one caption per figure (names: {figure: [files]}; points as
    caption_texts takes them)."""
    text = caption_texts(r, by_arm, how, points)
    out = [f"# Figures of {os.path.basename(r.path)}", ""]
    for name, files in names.items():
        out += [f"## {', '.join(files)}", "", text[name], ""]
    return "\n".join(out) + "\n"


def caption_texts(r, by_arm, how, points=None):
    """{figure: its caption}; points (axis_points per arm) for rewind and criterion."""
    groups = [g for gs in by_arm.values() for g in gs]
    ns = [g.n_seeds for g in groups]
    last = int(r.iterations[-1])
    cut = [g for g in groups if g.es_at_last.any()]
    shuffled = r.config.get("prune", "pai_shuffle", fallback="false") == "true"
    arms = "; ".join(arm_text(a, "k" if r.rewind_axis else r.rewind_iteration) +
                     (", its mask then permuted at random within each layer (pai_shuffle)"
                      if shuffled and a in ("snip", "synflow", "magnitude_init", "grasp") else "")
                     for a in by_arm)
    bars = ("One seed: no bars." if max(ns) == 1 else
            f"Points: mean over {seeds_text(ns)}; bars: {SPREAD_NAMES[how]} over seeds" +
            (" (none where a point has one seed)." if min(ns) == 1 else "."))
    if cut:
        ring = (f"Ringed points ({len(cut)} of {len(groups)}): for at least one seed the "
                f"validation loss was lowest at the last evaluation (iteration {last}), so "
                "the early-stop metric is cut off by the training length: the loss was still "
                "falling, a longer training could stop later, and the accuracy there is the "
                "final accuracy.")
    else:
        ring = f"Every early stop came before the last evaluation (iteration {last})."
    setup = f"{setup_text(r)}. Arms: {arms}."
    early = r.test_curve == "early_stop"
    curves_ns = ns  # the curves draw a subset; its seeds are among these
    band_txt = ("One seed: no band." if max(curves_ns) == 1 else
                f"Lines: mean over {seeds_text(curves_ns)}; bands: {SPREAD_NAMES[how]} over "
                "seeds.")
    text = {
        "accuracy": "Test accuracy at the early-stop iteration (the evaluation of minimum "
                    "validation loss) against the percentage of weights remaining (log scale, "
                    f"density falling left to right). {bars} {ring} {setup}",
        "early_stop": "Early-stop iteration (minimum validation loss) against the percentage "
                      "of weights remaining (log scale). The dotted line is the last "
                      f"evaluation (iteration {last}). {bars} {ring} {setup}",
        "curves": ("Validation accuracy" if early else "Test accuracy") +
                  " during training at a few densities (weights remaining in "
                  "the legend), one panel per arm, from iteration 0 (the untrained network"
                  + ("; the pruned rounds from their rewind point k, where they start"
                     if r.rewind_axis and r.rewind_schedule == "continue" else
                     f"; the pruned rounds from iteration {r.start_iteration(1)}, where they start"
                     if not r.rewind_axis and r.start_iteration(1) else "") +
                  f") to the end; the y range holds every line and band. {band_txt} " +
                  ("The job has test_curve = early_stop: the test set was evaluated only at each "
                   "run's early stop (minimum validation loss) and at the end, so there is no "
                   "test curve; markers give the test accuracy there (circles: at the early stop, "
                   "placed at the mean of the seeds' early-stop iterations; squares: at the end), "
                   "means over the same seeds. " if early else "") + setup,
    }
    if r.copies >= 2:
        ns = [len(g[1]) for g in instability_groups(r)]
        k = r.rewind_iteration
        start = (f"from iteration {k} of the dense network (round 0's copies share its first {k} steps) "
                 f"and each ticket round from its start" if k else "from their start")
        if r.rewind_axis:
            start = ("from iteration k of the dense network for each k of the rewind axis (round 0, one "
                     "training for every k, analysed from each: its copies share its first k steps) and "
                     "each ticket round from its start")
        common = (f"Instability analysis (Frankle et al. 2020, linear mode connectivity): each ticket "
                  f"training (round 0: the dense network) trained {r.copies} times {start}, the copies "
                  f"differing only in data order, and evaluated at {len(r.alpha)} evenly spaced points on "
                  f"the line between each pair's final weights (the mask shared). ")
        bars = ("One seed: no bars." if max(ns) == 1 else
                f"Mean over {seeds_text(ns)} (each seed's lines averaged first); bars and bands: "
                f"{SPREAD_NAMES[how]} over seeds.")
        per = {(True, False): "a line per k", (False, True): "a line per pruning criterion (a line style each)",
               (True, True): "a line per k (a colour each) and pruning criterion (a line style each)"}
        text["instability"] = (common + "Instability: the largest test error on the line minus the mean of "
                               "its two endpoints' test errors, in percentage points, against the weights "
                               f"remaining (log scale). {bars} {setup_text(r)}.")
        text["interpolation"] = (common + "Test error along the line, alpha 0 and 1 being two copies' own "
                                 "final weights, at a few densities" +
                                 (", a panel per density (weights remaining) and in it " +
                                  per[r.rewind_axis, r.criterion_axis] +
                                  ("; at 100 %, the dense network, one training for every criterion, its "
                                   "criteria's lines coincide" if r.criterion_axis else "")
                                  if r.chain_axes else "") + f". {bars} {setup_text(r)}.")
        if r.chain_axes:
            text["instability"] = text["instability"].replace(
                "against the weights remaining", "against the weights remaining, " +
                per[r.rewind_axis, r.criterion_axis])
        if r.rewind_axis:
            text["instability_k"] = (common + "Instability against the rewind iteration k (symlog scale), a "
                                     "line per density (weights remaining" +
                                     ("; a colour each) and pruning criterion (a line style each; 100 %: the "
                                      "dense network from k, one training for every criterion" if r.criterion_axis
                                      else "; 100 %: the dense network from k") +
                                     f"). Bars: min-max over seeds. {setup_text(r)}.")
    if points:
        # the seeds of the points these two figures draw (not of every group, nor the instability's)
        ns = [len(v) for pts in points.values() for v in pts.values()]
        bars = ("One seed: no bars." if max(ns) == 1 else
                f"Points: mean over {seeds_text(ns)}; bars: {SPREAD_NAMES[how]} over seeds" +
                (" (none where a point has one seed)." if min(ns) == 1 else "."))
        dense = ("100 %: the dense network, one training for every " +
                 " and ".join({"rewind": "k", "criterion": "criterion"}[a] for a in r.chain_axes) +
                 " of a seed. " if any(p == 100 for pts in points.values() for p, _, _ in pts) else "")
    if r.rewind_axis:
        text["rewind"] = ("Test accuracy at the early stop against the rewind iteration k (symlog scale: k = 0, "
                          "survivors reset to θ0, shows), one line per density (weights remaining" +
                          ("; a colour each) and pruning criterion (a line style and marker each)"
                           if r.criterion_axis else ")") + f", one panel per arm. {dense}{bars} {setup}")
    if r.criterion_axis:
        text["criterion"] = ("Test accuracy at the early stop for each pruning criterion of the axis, one group "
                             "per criterion, at a few densities (weights remaining, a colour each" +
                             ("; and each rewind iteration k, a marker each" if r.rewind_axis else "") +
                             ") side by side within the group, one panel per arm. " + dense +
                             f"{bars} {setup}")
    return text


def arms_table(r, by_arm):
    """arms.csv's columns and rows: the ticket's groups, each arm's means beside them
    (with the rewind or criterion axis, a group is also of its k or criterion)."""
    arms = list(by_arm)
    cols = ["rounds", "rate"] + list(r.chain_axes) + ["round", "weights_remaining_pct", "n_seeds"]
    cols += [f"{a}_{f}" for a in arms for f in ("es_acc", "es_iter")]
    index = {a: {g.key: g for g in gs} for a, gs in by_arm.items()}
    rows = []
    for t in by_arm["ticket"]:
        row = {"rounds": t.rounds, "rate": t.rate, "round": t.round,
               "weights_remaining_pct": t.pct, "n_seeds": t.n_seeds}
        row.update({c: getattr(t, c) for c in r.chain_axes})
        for a in arms:
            g = index[a].get(t.key)
            row[f"{a}_es_acc"] = g.es_acc.mean() if g else None
            row[f"{a}_es_iter"] = g.es_iter.mean() if g else None
        rows.append(row)
    return cols, rows


def fmt(v, k):
    """A value of the table as text: identifying columns exact, the rest rounded."""
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return ""
    if k == "weights_remaining_pct":
        return f"{v:.4g}"
    if k == "rate":
        return f"{v:.6g}"
    if k == "es_iter_mean" or k.endswith("_es_iter"):
        s = f"{v:.1f}"
        return s[:-2] if s.endswith(".0") else s
    if isinstance(v, (float, np.floating)):
        return f"{v:.4f}"
    return str(v)


def instability_text(v, k):
    """A value of instability.csv as text."""
    if k in ("n_seeds", "rewind", "criterion"):
        return str(v)
    return f"{v:.4g}" if k == "weights_remaining_pct" else f"{v:.3f}"


def write_csv(folder, name, cols, rows, text=fmt, extrasaction="raise"):
    """Write rows (dicts) under the header cols into folder/name, each value as
    text(value, column) gives it; returns the path. extrasaction as csv.DictWriter's."""
    path = os.path.join(folder, name)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, cols, extrasaction=extrasaction)
        w.writeheader()
        for row in rows:
            w.writerow({k: text(v, k) for k, v in row.items()})
    return path


def parse_formats(text):
    """'png,pdf' -> ['png', 'pdf']; None when a name is not a known format."""
    out = []
    for f in text.lower().split(","):
        f = f.strip().lstrip(".")
        if f not in FORMATS:
            return None
        if f not in out:
            out.append(f)
    return out


def main(argv=None):
    """The command lth_report (python3 -m ticketsweep.report): argv as sys.argv[1:]."""
    ap = argparse.ArgumentParser(prog="lth_report", description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", metavar="RESULTS.h5", help="results file of ticketsweep run")
    ap.add_argument("-o", "--output", metavar="DIR", required=True,
                    help="folder for the figures, captions.md and summary.csv (created if "
                         "missing)")
    ap.add_argument("--format", default="png", metavar="FMT[,FMT...]",
                    help=f"output formats, comma-separated, of {', '.join(FORMATS)} "
                         "(default png; e.g. png,pdf; html: report.html, one page with "
                         "everything)")
    ap.add_argument("--group", choices=("cell", "density"), default="cell",
                    help="group points by (rounds, rate, round) or by rounded density "
                         "(default cell)")
    ap.add_argument("--digits", type=int, default=2,
                    help="significant digits of weights remaining for --group density (default 2)")
    ap.add_argument("--spread", choices=("minmax", "std", "sem"), default="minmax",
                    help="bars and bands over seeds: min-max, mean ± standard deviation or "
                         "± standard error (default minmax)")
    ap.add_argument("--curves", type=int, default=5, metavar="N",
                    help="number of densities in curves (default 5)")
    ap.add_argument("--curve-densities", metavar="PCT,...",
                    help="weights remaining (%%) for curves; the nearest groups are drawn")
    a = ap.parse_args(argv)
    matplotlib.use("Agg")  # the command writes files; it never opens a window
    formats = parse_formats(a.format)
    if not formats:
        ap.error(f"--format {a.format!r}: expected one or more of {', '.join(FORMATS)}, "
                 "comma-separated (e.g. png,pdf)")
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
        sys.exit(f"lth_report: {e}")
    written = []
    with r:
        st = r.trials["status"]
        if not r.done.any():
            sys.exit(f"lth_report: {a.results}: no trial is done ({np.sum(st == 0)} pending, "
                     f"{np.sum(st == 2)} failed); nothing to draw")
        if not r.done.all():
            print(f"lth_report: note: {np.sum(~r.done)} of {len(st)} trials are not done "
                  f"({np.sum(st == 0)} pending, {np.sum(st == 2)} failed) and are left out",
                  file=sys.stderr)
        by_arm = {arm: make_groups(r, arm, a.group, a.digits) for arm in r.arms}
        os.makedirs(a.output, exist_ok=True)
        cols = columns(r)
        rows = [g.csv_row() for gs in by_arm.values() for g in gs]
        # summary.csv leaves out the columns of axes the file does not have
        written.append(write_csv(a.output, "summary.csv", cols, rows, extrasaction="ignore"))
        if len(by_arm) > 1:
            written.append(write_csv(a.output, "arms.csv", *arms_table(r, by_arm)))
        figures = {
            "accuracy": lambda: plot_vs_density(r, by_arm, "es_acc",
                                                "Test accuracy at early stop (%)", a.spread,
                                                scale=100),
            "early_stop": lambda: plot_vs_density(r, by_arm, "es_iter", "Early-stop iteration",
                                                  a.spread),
            "curves": lambda: plot_curves(r, by_arm, a.curves, wanted, a.spread),
        }
        if r.copies >= 2:
            figures["instability"] = lambda: plot_instability(r, a.spread)
            figures["interpolation"] = lambda: plot_interpolation(r, a.curves, a.spread)
            written.append(write_csv(a.output, "instability.csv", r.chain_axes + INSTABILITY_COLUMNS,
                                     instability_rows(r), instability_text))
            if r.rewind_axis:
                figures["instability_k"] = lambda: plot_instability_k(r)
        # rewind and criterion: accuracy against an axis at a few densities, the same points
        points = {arm: axis_points(r, arm, a.curves, wanted) for arm in by_arm} if r.chain_axes else {}
        for axis in r.chain_axes:
            figures[axis] = functools.partial(AXIS_PLOTS[axis], r, points, a.spread)
            written.append(write_csv(a.output, f"{axis}.csv", axis_columns(r), axis_rows(r, points, axis),
                                     extrasaction="ignore"))
        names, uris = {}, {}
        for name, draw in figures.items():
            fig = draw()
            names[name] = []
            if "html" in formats:
                uris[name] = page.png_uri(fig, PAGE_DPI)
            for ext in formats:
                if ext == "html":
                    continue
                path = os.path.join(a.output, f"{name}.{ext}")
                fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.02)
                names[name].append(f"{name}.{ext}")
                written.append(path)
            plt.close(fig)
        path = os.path.join(a.output, "captions.md")
        with open(path, "w") as f:
            f.write(captions(r, by_arm, a.spread, {n: fs or [n] for n, fs in names.items()}, points))
        written.append(path)
        if "html" in formats:
            path = os.path.join(a.output, "report.html")
            page.write(path, r, uris, caption_texts(r, by_arm, a.spread, points), cols,
                       [[fmt(row[k], k) for k in cols] for row in rows])
            written.append(path)

    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" if c == "arm" else "---:" for c in cols) + "|")
    for row in rows:
        print("| " + " | ".join(fmt(row[k], k) for k in cols) + " |")
    print(f"lth_report: wrote {', '.join(written)}", file=sys.stderr)


if __name__ == "__main__":
    main()
