#!/bin/sh
# test_torch_reference.sh - tools/bench/torch_reference.py mirrors ticketsweep's round 0:
# on a small conv net (a convolution, a pool, a hidden layer) with a random
# validation split and standard inputs, the PyTorch run from the results file's
# theta0 gives, at iteration 0, ticketsweep's validation loss (to float
# rounding) and the same validation and test accuracies: the same split, the
# same inputs, the same weights, the same NCHW flattening; after 120 steps (3
# epochs, each its own order) the losses still agree closely: the same
# minibatches in the same order. Skipped without python3-torch.
. "$(dirname "$0")/lib.sh"
"$PY" -c 'import torch, h5py, numpy' 2>/dev/null || skip "python3-torch, python3-h5py or python3-numpy is not installed"
export PYTHONDONTWRITEBYTECODE=1
small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
sed -i 's/^validation = .*/&\nsplit = random\nsplit_seed = 4\nnormalize = standard/; s/^hidden = .*/conv = 4, pool\nhidden = 16/;
        s/^iterations = .*/iterations = 120/; s/^eval_every = .*/eval_every = 40/; s/^controls = .*/controls = none/;
        s/^rates = .*/rates = 0.5/; s/^rounds = .*/rounds = 1/' "$W/job.ini"
"$TS" run "$W/job.ini" -o "$W/r.h5" >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "ticketsweep run"; }
"$PY" "$TOP/tools/bench/torch_reference.py" --compare "$W/r.h5" --out "$W/out" >"$W/torch.log" 2>&1 ||
    { cat "$W/torch.log"; fail "torch_reference.py"; }
grep -q "split random seed 4); inputs standardised" "$W/torch.log" || { cat "$W/torch.log"; fail "settings not from the job"; }
"$PY" - "$W/out" <<'PYEOF' || fail "PyTorch and ticketsweep differ"
import csv, sys
for seed in (1, 2):
    rows = {}
    for impl in ("ticketsweep", "torch"):
        with open(f"{sys.argv[1]}/{impl}_seed{seed}.csv") as f:
            rows[impl] = list(csv.DictReader(f))
    a, b = rows["ticketsweep"], rows["torch"]
    assert [r["iteration"] for r in a] == [r["iteration"] for r in b] == ["0", "40", "80", "120"], (a, b)
    for k in ("val_loss", "test_loss"):
        x, y = float(a[0][k]), float(b[0][k])
        assert abs(x - y) <= 1e-5 * abs(x), f"seed {seed} iteration 0 {k}: {x} vs {y}"
    for k in ("val_acc", "test_acc"):
        assert abs(float(a[0][k]) - float(b[0][k])) < 1e-6, f"seed {seed} iteration 0 {k}: {a[0][k]} vs {b[0][k]}"
    for i in (1, 2, 3):
        x, y = float(a[i]["val_loss"]), float(b[i]["val_loss"])
        assert abs(x - y) <= 1e-3 * abs(x), f"seed {seed} iteration {a[i]['iteration']} val_loss: {x} vs {y}"
print("ok")
PYEOF
exit 0
