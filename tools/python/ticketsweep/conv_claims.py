"""Compare a Conv-2/4/6 sweep on CIFAR-10 with the paper's claims 8-10.

    conv_claims RESULTS.h5 [conv2|conv4|conv6] [--reach LOSS]

RESULTS.h5 is a results file of a per_round job with the reinit control
(jobs/conv2-paper.ini, or a cut of it: fewer steps, several paper rounds a
round); any number of seeds. A sweep still running or cut short counts too:
a round is used when its trainings are done for every seed. Prints a
Markdown table: the claim, the paper's figure (second-hand summaries, see
the paper-claims notes in README) and ticketsweep's over the rounds reached
(mean over seeds, min-max), and the round-by-round ticket against reinit.
Claims at densities no round reached say so. With --reach LOSS the round
table also gives, per arm, the first iteration whose validation loss is at
most LOSS (a speed measure that still works when a cut run's dense network
is still improving at its last step, so its early stop is the end).
"""
import argparse
import sys

import h5py
import numpy as np

from .lenet_claims import fmt, per_seed, schedule_note

PAPER = {  # best early-stop speed-up (x, at Pm %), best accuracy gain (points, at Pm %)
    "conv2": ((3.5, 8.8), (3.4, 4.6)),
    "conv4": ((3.5, 9.2), (3.5, 11.1)),
    "conv6": ((2.5, 15.1), (3.3, 26.4)),
}


def main(argv=None):
    """The command conv_claims (python3 -m ticketsweep.conv_claims): argv as
    sys.argv[1:]; prints the tables, or exits with a message."""
    doc = __doc__.split("\n\n")
    ap = argparse.ArgumentParser(prog="conv_claims", description=doc[0],
                                 epilog="\n\n".join(doc[2:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", metavar="RESULTS.h5", help="results file of a per_round job "
                    "with the reinit control (jobs/conv2-paper.ini or a cut of it)")
    ap.add_argument("arch", nargs="?", default="conv2", choices=sorted(PAPER),
                    help="the paper's architecture whose figures to compare with (default conv2)")
    ap.add_argument("--reach", type=float, metavar="LOSS",
                    help="also give, per round and arm, the first iteration whose validation "
                         "loss is at most LOSS")
    a = ap.parse_args(argv)
    reach, arch = a.reach, a.arch
    f = h5py.File(a.results, "r")
    dens = per_seed(f, "", "density")
    es, acc = per_seed(f, "", "early_stop_iter"), per_seed(f, "", "early_stop_test_acc")
    r_es = per_seed(f, "controls/reinit/", "early_stop_iter")
    r_acc = per_seed(f, "controls/reinit/", "early_stop_test_acc")
    done = ~np.isnan(acc).any(axis=0)
    reached = max([k for k in range(len(done)) if done[: k + 1].all()], default=-1)
    if reached < 1:
        sys.exit(f"conv_claims: {a.results}: no pruned round done yet (rounds 0..{reached})")
    ks = range(1, reached + 1)
    pm = lambda k: 100 * np.mean(dens[:, k])
    (sp_paper, sp_pm), (gain_paper, gain_pm) = PAPER[arch]
    speed = [np.mean(es[:, 0] / es[:, k]) for k in ks]
    gain = [100 * np.mean(acc[:, k] - acc[:, 0]) for k in ks]
    kb, kg = 1 + int(np.argmax(speed)), 1 + int(np.argmax(gain))
    lowest = pm(reached)
    print(f"{a.results}: {arch}, {dens.shape[0]} seed(s), rounds 0..{reached} done for every seed "
          f"(Pm down to {lowest:.1f} %); mean over seeds (min to max)\n")
    note_text = schedule_note(f)
    print(note_text, end="\n" if note_text else "")
    print("| claim | paper | ticketsweep, rounds reached | holds |")
    print("|---|---|---|---|")
    note = lambda p: "" if lowest <= p else f" (the paper's Pm {p} % not reached: lowest {lowest:.1f} %)"
    print(f"| 8. best early-stop speed-up over dense | {sp_paper}x at Pm {sp_pm} % | "
          f"{speed[kb - 1]:.2f}x at Pm {pm(kb):.1f} % (round {kb}; iteration {fmt(es[:, kb], digits=0)} vs "
          f"{fmt(es[:, 0], digits=0)}){note(sp_pm)} | {'yes' if speed[kb - 1] > 1 else 'no'} (faster than dense) |")
    print(f"| 9. best test-accuracy gain over dense (early stop) | +{gain_paper} points at Pm {gain_pm} % | "
          f"{gain[kg - 1]:+.2f} points at Pm {pm(kg):.1f} % (round {kg}; {fmt(acc[:, kg], 100, 2)} % vs "
          f"{fmt(acc[:, 0], 100, 2)} %){note(gain_pm)} | {'yes' if gain[kg - 1] > 0 else 'no'} (above dense) |")
    over2 = [(k, g) for k, g in zip(ks, gain) if pm(k) > 2]
    above = all(g >= 0 for _, g in over2)
    print(f"| 10. above dense accuracy while Pm > 2 % | every round | "
          f"{'every' if above else 'not every'} round reached with Pm > 2 % "
          f"(rounds 1..{over2[-1][0] if over2 else 0}): {', '.join(f'{g:+.2f}' for _, g in over2)} points | "
          f"{'yes' if above else 'no'}{' (so far)' if lowest > 2 else ''} |")
    head = "| round | Pm % | ticket early-stop iter | ticket acc % | reinit early-stop iter | reinit acc % |"
    if reach is not None:
        head += f" ticket: first iter at val. loss <= {reach:g} | reinit: the same |"
        its = f["curves/iteration"][:]
        # NaN (points before a round's start, when it continues from the rewind point) never reaches
        first = lambda curve: next((int(its[i]) for i, v in enumerate(curve) if v <= reach), None)
        def val_loss(group, t, k):  # a cell's row, or its training's ([output] curves = trainings)
            if "nodes/curves" not in f:
                return f[group + "curves/val_loss"][t, k]
            return f["nodes/curves/val_loss"][f["trials/nodes"][t, 1 if group else 0, k]]
        def firsts(group, k):
            out = [first(val_loss(group, t, k)) for t in range(dens.shape[0])]
            return "never" if any(o is None for o in out) else " / ".join(str(o) for o in out)
    print("\n" + head)
    print("|---" * head.count(" |") + "|")
    dash = lambda v, fn: "-" if np.isnan(v).any() else fn(v)
    for k in range(reached + 1):
        line = (f"| {k} | {pm(k):.1f} | {np.mean(es[:, k]):.0f} | {100 * np.mean(acc[:, k]):.2f} | "
                f"{dash(r_es[:, k], lambda v: f'{np.mean(v):.0f}')} | "
                f"{dash(r_acc[:, k], lambda v: f'{100 * np.mean(v):.2f}')} |")
        if reach is not None:
            rdone = not np.isnan(r_acc[:, k]).any()
            line += f" {firsts('', k)} | {firsts('controls/reinit/', k) if rdone else '-'} |"
        print(line)


if __name__ == "__main__":
    main()
