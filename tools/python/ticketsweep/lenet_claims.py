"""Compare a LeNet-300-100 sweep on MNIST with the paper's claims 1-6.

    lenet_claims RESULTS.h5 [MORE.h5 ...]

RESULTS.h5 is a results file of jobs/lenet300-paper.ini (per_round = 0.2, the
reinit control; any number of seeds and rounds). Several files count as one
sweep of all their seeds when their jobs differ only in sweep.seeds and
train.kernels (which change the arithmetic's rounding, not the experiment);
a seed in two files, or any other difference, is refused (a key only one
file lists, written before the other's release knew it, is not compared). A sweep still running or cut
short counts too: a round is used when its trainings are done for every seed
(the file keeps each finished training), and a claim at a density no round
reached yet says so. Prints a Markdown table:
the claim, the paper's figure and ticketsweep's (mean over seeds, with the
min-max over seeds), and whether it holds. Claim 7 (one-shot pruning) needs a
one-shot job and is not covered. The claims are those of
Frankle & Carbin (ICLR 2019) as summarised for checking reproductions.
"""
import argparse
import configparser
import sys

import h5py
import numpy as np


def schedule_note(f):
    """A sentence on how the rounds after the first were trained, when the job
    rewinds ('' when it does not): with rewind_schedule = continue they train
    iterations k..T, so their early-stop iterations (absolute) are >= k."""
    c = configparser.ConfigParser(interpolation=None)
    text = f.attrs["config"]
    c.read_string(text.decode() if isinstance(text, bytes) else str(text))
    k = c.getint("prune", "rewind_iteration", fallback=0)
    if not k:
        return ""
    T = c.get("train", "iterations", fallback="?")
    # a file from before the key restarted (ticketsweep reads it so)
    if c.get("prune", "rewind_schedule", fallback="restart") == "continue":
        return (f"Rewinding to iteration {k}, rewind_schedule continue: the pruned rounds train iterations "
                f"{k} to {T}; early-stop iterations are absolute (>= {k}), the dense network's from 0.\n")
    return f"Rewinding to iteration {k}, rewind_schedule restart: every round trains iterations 0 to {T}.\n"


def per_seed(f, group, name):
    """[seeds, rounds + 1] of a summary dataset of the arm group ('' or
    controls/reinit), NaN where that round's training is not done."""
    arm = 1 if "reinit" in group else 0
    rows = np.arange(f["trials/status"].shape[0])
    nodes = f["trials/nodes"][:, arm, :]
    done = f["nodes/status"][:] == 1
    v = f[f"{group}summary/{name}"][rows, :].astype(float)
    ok = (nodes >= 0) & done[np.maximum(nodes, 0)]
    v[~ok] = np.nan
    return v


def job_of(f):
    """The file's job as {section.key: value}, without the keys that may
    differ between files of one sweep (seeds, kernels)."""
    c = configparser.ConfigParser(interpolation=None)
    text = f.attrs["config"]
    c.read_string(text.decode() if isinstance(text, bytes) else str(text))
    return {f"{s}.{k}": v for s in c.sections() for k, v in c[s].items()
            if f"{s}.{k}" not in ("sweep.seeds", "train.kernels")}


def fmt(v, scale=1.0, digits=1):
    v = np.asarray(v) * scale
    if v.size == 1:
        return f"{float(v.ravel()[0]):.{digits}f}"
    return f"{v.mean():.{digits}f} ({v.min():.{digits}f} to {v.max():.{digits}f})"


def round_at(density, pm, planned):
    """The round whose planned density is nearest to pm (a fraction)."""
    return int(np.argmin(np.abs(planned - pm)))


def main(argv=None):
    """The command lenet_claims (python3 -m ticketsweep.lenet_claims): argv as
    sys.argv[1:]; prints the tables, or exits with a message on a refused set of files."""
    doc = __doc__.split("\n\n")
    ap = argparse.ArgumentParser(prog="lenet_claims", description=doc[0],
                                 epilog="\n\n".join(doc[2:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", metavar="RESULTS.h5",
                    help="results files of jobs/lenet300-paper.ini: one sweep, other seeds each")
    paths = ap.parse_args(argv).results
    files = [h5py.File(p, "r") for p in paths]
    f = files[0]
    seeds = [s for g in files for s in g["grid/seeds"][:].tolist()]
    if len(set(seeds)) != len(seeds):
        sys.exit(f"lenet_claims: a seed is in two files (seeds {seeds})")
    for p, g in zip(paths[1:], files[1:]):
        a, b = job_of(f), job_of(g)
        # a key one file's release did not know yet ran as its default: not compared
        diff = sorted(k for k in a.keys() & b.keys() if a[k] != b[k])
        if diff:
            sys.exit(f"lenet_claims: {p} is another job than {paths[0]}: {', '.join(diff)} differ")
        if g["trials/nodes"].shape[2] != f["trials/nodes"].shape[2]:
            sys.exit(f"lenet_claims: {p} has another number of rounds than {paths[0]}")
    # each file one row per trial (a per_round job: one trial per seed)
    cat = lambda group, name: np.concatenate([per_seed(g, group, name) for g in files])
    dens = cat("", "density")
    es = cat("", "early_stop_iter")
    acc = cat("", "early_stop_test_acc")
    r_es = cat("controls/reinit/", "early_stop_iter")
    r_acc = cat("controls/reinit/", "early_stop_test_acc")
    n = dens.shape[0]
    # the densities the schedule gives (hidden layers 20 %, output 10 % a round), to find the
    # paper's rounds even where they have not been trained yet
    hidden, out = 784 * 300 + 300 * 100, 100 * 10
    q = 0.2
    planned = np.array([(hidden * (1 - q) ** k + out * (1 - q / 2) ** k) / (hidden + out)
                        for k in range(dens.shape[1])])
    k21, k13, k36, k29 = (round_at(dens, p, planned) for p in (0.211, 0.135, 0.036, 0.029))
    def reached_of(a):
        ok = ~np.isnan(a).any(axis=0)
        return max([k for k in range(len(ok)) if ok[: k + 1].all()], default=-1)
    reached_t, reached_r = reached_of(acc), max(reached_of(r_acc), 0)
    reached = reached_t
    rows = []

    def row(claim, paper, ours, holds, need=0, control=False):
        got = min(reached_t, reached_r) if control else reached_t
        if need > got:
            rows.append(f"| {claim} | {paper} | not reached yet (rounds 0..{got} done"
                        f"{' for both arms' if control else ''}) | - |")
        else:
            rows.append(f"| {claim} | {paper} | {ours} | {'yes' if holds else 'no'} |")

    e = es[:, k21] / es[:, 0]
    row(f"1. early stop at Pm = 21 % (round {k21}, {fmt(dens[:, k21], 100)} %) against dense",
        "38 % earlier", f"{fmt(100 * (1 - e), digits=0)} % earlier (iteration {fmt(es[:, k21], digits=0)} "
        f"vs {fmt(es[:, 0], digits=0)})", np.mean(1 - e) > 0, k21)
    d = 100 * (acc[:, k13] - acc[:, 0])
    row(f"2. early-stop test accuracy at Pm = 13.5 % (round {k13}) minus dense", "> +0.3 points",
        f"{fmt(d, digits=2)} points", d.mean() > 0.3, k13)
    d36, e36 = 100 * (acc[:, k36] - acc[:, 0]), es[:, k36] / es[:, 0]
    row(f"3. at Pm = 3.6 % (round {k36}): accuracy and early stop against dense", "back at dense level",
        f"{fmt(d36, digits=2)} points; early stop x{fmt(e36, digits=2)}",
        abs(d36.mean()) < 0.5 and abs(e36.mean() - 1) < 0.5, k36)
    sp, da = r_es[:, k21] / es[:, k21], 100 * (acc[:, k21] - r_acc[:, k21])
    row(f"4. ticket against reinit at Pm = 21 % (round {k21})", "2.51x sooner, +0.5 points",
        f"{fmt(sp, digits=2)}x sooner, {fmt(da, digits=2)} points", sp.mean() > 1 and da.mean() > 0, k21,
        True)
    # 5: the sparsest round where the ticket (reinit) is still at least as accurate as dense
    def holds_to(a):
        ok = np.nanmean(a, axis=0) >= np.nanmean(acc[:, 0]) - 1e-9
        ks = [k for k in range(1, min(a.shape[1], reached + 1)) if ok[k] and not np.isnan(a[:, k]).any()]
        return (100 * np.nanmean(dens[:, max(ks)]), max(ks)) if ks else (100.0, 0)
    t_pm, t_k = holds_to(acc)
    r_pm, r_k = holds_to(r_acc)
    drop = next((k for k in range(1, reached_r + 1) if np.nanmean(r_acc[:, k]) < np.nanmean(acc[:, 0]) - 0.002),
                None)
    row("5. reinit loses accuracy from Pm = 21.1 %; tickets hold out to about 2.9 %",
        "reinit from 21.1 %; ticket to 2.9 %",
        f"reinit below dense - 0.2 points from {100 * np.nanmean(dens[:, drop]):.1f} % (round {drop}); "
        f"ticket at or above dense down to {t_pm:.1f} % (round {t_k}; reinit to {r_pm:.1f} %)"
        if drop is not None else f"reinit never 0.2 points below dense; ticket down to {t_pm:.1f} %",
        drop is not None and t_pm < 100 * np.nanmean(dens[:, drop]), k29, True)
    row("6. dense test accuracy (early stop)", "97.9-98.2 %", f"{fmt(acc[:, 0], 100, 2)} %",
        97.9 <= 100 * acc[:, 0].mean() <= 98.2)
    print(f"{', '.join(paths)}: {n} seed{'s' if n != 1 else ''} ({', '.join(map(str, seeds))}), {dens.shape[1] - 1} rounds planned, "
          f"tickets' rounds 0..{reached_t} and reinit's 0..{reached_r} done for every seed; "
          f"mean over seeds (min to max)\n")
    note = schedule_note(f)
    print(note, end="\n" if note else "")
    print("| claim | paper | ticketsweep | holds |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print("\n| round | Pm % | ticket early-stop iter | ticket acc % | reinit early-stop iter | reinit acc % |")
    print("|---|---|---|---|---|---|")
    nan = lambda v, f: "-" if np.isnan(v).any() else f(v)
    for k in range(reached_t + 1):
        print(f"| {k} | {100 * np.mean(dens[:, k]):.1f} | {np.mean(es[:, k]):.0f} | "
              f"{100 * np.mean(acc[:, k]):.2f} | {nan(r_es[:, k], lambda v: f'{np.mean(v):.0f}')} | "
              f"{nan(r_acc[:, k], lambda v: f'{100 * np.mean(v):.2f}')} |")


if __name__ == "__main__":
    main()
