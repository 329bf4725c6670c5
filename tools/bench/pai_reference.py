#!/usr/bin/env python3
"""Pruning at initialisation in PyTorch, against a ticketsweep results file.

    pai_reference.py RESULTS.h5 [--threads T]

For every seed and every pruning-at-initialisation arm of the file (snip,
synflow, magnitude_init, grasp; the job's [prune] pai_scope = global and
pai_shuffle = false), the scores of
theta0 (the file's /init) are computed here in float64 with PyTorch's
autograd, on the model, data and inputs of the file's job (torch_reference.py
mirrors them: the split, the normalisation, the NCHW flattening):

  magnitude_init  |theta|
  snip            |theta * dL/dtheta|, L the mean cross-entropy of the
                  scoring batch: prune.pai_images training images of each
                  class, the first of each class in ticketsweep's shuffle of
                  the training split keyed rng_key(seed, 9, pai_seed, 0)
  synflow         |theta * dR/dtheta|, R = sum of the outputs of an all-ones
                  input through |theta| (biases 0), pruned in
                  prune.synflow_iterations steps to (keep / all)^(i / I)
  grasp           theta * Hg (the lowest pruned: Synaptic-Flow's convention),
                  g the gradient over the weights of the mean cross-entropy
                  of softmax(logits / T), T = prune.grasp_temperature, on
                  snip's scoring batch, H its Hessian (double backward)

and each of the arm's trainings' masks (its row of /nodes/mask) is checked
against them. One shot (snip, magnitude_init, grasp): every weight whose
reference score is above the kept set's threshold by a relative margin of
1e-4 is kept, every one below it by that margin pruned (float32 against
float64 can only swap weights inside the margin; GraSP's signed scores
cluster at 0, so its margin is 1e-6 of the largest |score| wider), and the
file keeps exactly as many weights as the ticket's round. SynFlow, iterated: float rounding near one
step's threshold can change what the later steps score, so the masks must
agree on at least 99 % of the kept weights (LeNet-300-100 on MNIST: 99.3 % at the worst of 30 trainings, 100 % for most). Prints a line per arm and seed;
exits 1 when a check fails, 2 on bad input.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.dont_write_bytecode = True
import torch_reference as tr  # noqa: E402

RNG_PAI = 9
MARGIN = 1e-4
GRASP_FLOOR = 1e-6
SYNFLOW_AGREE = 0.99


def scoring_batch(train, seed, per, pai_seed):
    """The rows of ticketsweep's scoring batch (trial.c scoring_batch), in its order."""
    x, y = train
    order = tr.rng_shuffle(tr.rng_key(seed, RNG_PAI, pai_seed, 0), len(y))
    have, rows = [0] * 10, []
    yy = y.numpy()
    for i in order:
        c = int(yy[i])
        if have[c] < per:
            have[c] += 1
            rows.append(int(i))
            if len(rows) == 10 * per:
                break
    return x[rows], y[rows]


def weights(net, torch):
    """The prunable weights (conv and linear) in ticketsweep's layer order."""
    return [m.weight for m in net if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]


def flat(ws):
    return np.concatenate([w.detach().numpy().ravel() for w in ws])


def snip_scores(torch, net, batch):
    ws = weights(net, torch)
    loss = torch.nn.functional.cross_entropy(net(batch[0].double()), batch[1])
    grads = torch.autograd.grad(loss, ws)
    return np.abs(flat(ws) * np.concatenate([g.numpy().ravel() for g in grads]))


def grasp_scores(torch, net, batch, temperature):
    """theta * Hg (Synaptic-Flow's GraSP score, the lowest pruned): g the gradient of
    the mean cross-entropy of softmax(logits / T) over the prunable weights, H its
    Hessian there, by double backward."""
    ws = weights(net, torch)
    loss = torch.nn.functional.cross_entropy(net(batch[0].double()) / temperature, batch[1])
    grads = torch.autograd.grad(loss, ws, create_graph=True)
    gdotg = sum((g * g.detach()).sum() for g in grads)
    hg = torch.autograd.grad(gdotg, ws)
    return flat(ws) * np.concatenate([h.numpy().ravel() for h in hg])


def synflow_scores(torch, net, shape, theta, mask):
    """One SynFlow scoring at params |theta| * mask, biases 0."""
    ws = weights(net, torch)
    with torch.no_grad():
        off = 0
        for w in ws:
            n = w.numel()
            w.copy_(torch.from_numpy(np.abs(theta[off:off + n]) * mask[off:off + n]).view_as(w))
            off += n
        for m in net:
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                m.bias.zero_()
    r = net(torch.ones((1,) + shape, dtype=torch.float64)).sum()
    grads = torch.autograd.grad(r, ws)
    return np.abs(flat(ws) * np.concatenate([g.numpy().ravel() for g in grads]))


def prune_lowest(score, mask, count):
    """Set mask = 0 for the `count` active entries of lowest score, ties to the lower index."""
    alive = np.flatnonzero(mask)
    order = alive[np.lexsort((alive, score[alive]))]
    mask[order[:count]] = 0


def one_shot_check(score, got, keep, signed=False):
    """(ok, inside): got keeps `keep` weights and agrees with the reference scores
    outside the margin around the threshold; inside counts the weights in it.
    The margin is MARGIN of the threshold, and for signed scores (GraSP's,
    whose threshold can sit near 0, where a float sum's rounding is a share of
    its largest terms, not of the result) GRASP_FLOOR of the largest |score|
    more."""
    thr = np.sort(score)[::-1][keep - 1] if keep else np.inf
    tol = MARGIN * abs(thr) + (GRASP_FLOOR * np.abs(score).max() if signed else 0)
    above = score > thr + tol
    below = score < thr - tol
    ok = int(got.sum()) == keep and got[above].all() and not got[below].any()
    return ok, int((~above & ~below).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", metavar="RESULTS.h5")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    import ticketsweep
    try:
        r = ticketsweep.load(a.results)
    except (ticketsweep.FormatError, OSError) as e:
        tr.die(str(e))
    job = r.config
    arms = [x for x in ("snip", "synflow", "magnitude_init", "grasp") if x in r.arms]
    if not arms:
        tr.die(f"{a.results} has no snip, synflow, magnitude_init or grasp arm ([prune] controls)")
    if job.get("prune", "pai_scope", fallback="global") != "global":
        tr.die("only [prune] pai_scope = global is mirrored here")
    if job.get("prune", "pai_shuffle", fallback="false") != "false":
        tr.die("[prune] pai_shuffle = true permutes the masks at random: nothing to compare with scores")
    o = argparse.Namespace(**{k: None for k in list(tr.DEFAULTS) + list(tr.FILES)}, data_dir=tr.DATA_DIR)
    tr.resolve(o, job)
    per = int(job.get("prune", "pai_images", fallback="10"))
    pai_seed = int(job.get("prune", "pai_seed", fallback="0"))
    steps = int(job.get("prune", "synflow_iterations", fallback="100"))
    temperature = float(job.get("prune", "grasp_temperature", fallback="200"))
    import torch
    torch.set_num_threads(a.threads)
    data, _ = tr.load_data(o, torch)
    shape = tuple(data[0][0].shape[1:])
    f = r.file
    arm_of, seed_of = f["nodes/arm"][:], f["nodes/seed_index"][:]
    twin, mrow, status = f["nodes/twin"][:], f["nodes/mask_row"][:], f["nodes/status"][:]
    W = r.n_weights
    bits = lambda x: np.unpackbits(f["nodes/mask"][mrow[x]], bitorder="little")[:W].astype(bool)
    failed = 0
    for si, seed in enumerate(r.seeds):
        seed = int(seed)
        theta0 = r.theta0(seed)
        net = tr.build(torch, o, shape, seed, theta0).double()
        theta = flat(weights(net, torch))
        ref = {"magnitude_init": np.abs(theta)}
        if "snip" in arms:
            ref["snip"] = snip_scores(torch, net, scoring_batch(data[0], seed, per, pai_seed))
        if "grasp" in arms:
            ref["grasp"] = grasp_scores(torch, net, scoring_batch(data[0], seed, per, pai_seed), temperature)
        for arm in arms:
            nodes = [x for x in np.flatnonzero((arm_of == ticketsweep.ARMS.index(arm)) & (seed_of == si))
                     if status[x] == 1]
            worst, inside, agree = True, 0, 1.0
            for x in nodes:
                got, keep = bits(x), int(bits(twin[x]).sum())  # the twin ticket's survivors
                if arm == "synflow":
                    mask = np.ones(W)
                    for i in range(1, steps + 1):
                        s = synflow_scores(torch, net, shape, theta, mask)
                        want = keep if i == steps else max(keep, int(np.floor(
                            (keep / W) ** (i / steps) * W + 0.5)))
                        alive = int(mask.sum())
                        if alive > want:
                            prune_lowest(s, mask, alive - want)
                    a_ = (got & (mask > 0)).sum() / max(keep, 1)
                    agree = min(agree, a_)
                    worst &= int(got.sum()) == keep and a_ >= SYNFLOW_AGREE
                else:
                    ok, n_in = one_shot_check(ref[arm], got, keep, arm == "grasp")
                    worst &= ok
                    inside = max(inside, n_in)
            what = (f"masks agree on {100 * agree:.3f} % of the kept weights at least" if arm == "synflow"
                    else f"at most {inside} weights within {MARGIN:g} of the threshold")
            print(f"seed {seed} {arm}: {len(nodes)} trainings, {'ok' if worst else 'DIFFER'}: {what}")
            failed += not worst or not nodes
    r.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
