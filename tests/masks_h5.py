"""masks_h5: a trial's masks straight from a results file with h5py, without
the ticketsweep package (the tests check the package's readers against it).

A trial's mask in round k is the row of /nodes/mask of the training behind
that round (/trials/nodes; a training with no row of its own, mask_row -1,
trains its twin's), one bit a weight, least significant first, the weights
of all layers in the model's order (docs/results-file.md).
"""
import numpy as np

ARMS = ("ticket", "reinit", "random")


def layers(f):
    """The layers with weights in the model's order: conv1, ..., fc1, ..."""
    def order(name):
        conv = name.startswith("conv")
        return (not conv, int(name[4:] if conv else name[2:]))
    return sorted(f["init"].keys(), key=order)


def rounds_active(f, t, arm="ticket"):
    """{layer: uint8 [out, in] (convolutions [out, in, 3, 3])}: in how many
    rounds each weight of trial t's arm was active (what format 2 stored per
    trial in /masks)."""
    names = layers(f)
    shapes = [f[f"init/{l}/weight"].shape[1:] for l in names]
    W = sum(int(np.prod(s)) for s in shapes)
    rows, twin = f["nodes/mask_row"], f["nodes/twin"]
    cnt = np.zeros(W, np.uint8)
    for k in range(int(f["trials/rounds"][t]) + 1):
        x = f["trials/nodes"][t, ARMS.index(arm), k]
        row = rows[x] if rows[x] >= 0 else rows[twin[x]]
        cnt += np.unpackbits(f["nodes/mask"][row], bitorder="little")[:W]
    out, off = {}, 0
    for l, s in zip(names, shapes):
        out[l] = cnt[off:off + int(np.prod(s))].reshape(s)
        off += int(np.prod(s))
    return out
