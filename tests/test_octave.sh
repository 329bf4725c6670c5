#!/bin/sh
# tests/test_octave.sh - tools/octave/load_ticketsweep.m in GNU Octave, checked against h5py.
#
# Makes a results file with the binary (the 8-trial tiny job under mpirun -np 2) and a
# shard file with pending trials, loads both in headless Octave, and compares with what
# h5py reads from the same files:
#   - every array of the struct: its class, its size (the file's dimensions reversed)
#     and every value (NaN included, floats exactly); vectors are columns;
#   - the documented indexing: summary(k+1, t), curves(:, k+1, t), masks(:, :, t).' > k
#     (mask sums per trial, layer and round, and a row-weighted sum that catches a
#     transposed mask), theta0 weight(:, :, s).' as [out, in];
#   - grid, trials table (strings without padding), status counts, root attributes
#     (read through h5dump in Octave), the summary's density against the masks;
#   - the same struct through the h5read/h5info/h5readatt path (MATLAB's), with those
#     functions emulated in Octave on top of load and h5dump;
#   - refusals: another format, a newer format version;
#   - tools/octave/plot_ticketsweep_example.m: its points (mean, std, min, max over seeds, n
#     seeds) equal the groups of the Python report (ticketsweep.report), the dense point
#     counting seeds, not trials.
# Skips only when octave is not installed.
. "$(dirname "$0")/lib.sh"

command -v octave >/dev/null 2>&1 ||
    skip "octave is not installed (DEPS_EXTRA=octave tools/build/deps.sh installs it)"
[ -x "$TS" ] || fail "$TS: not built (run make)"

small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
mpirun_ts 2 run "$W/job.ini" -o "$W/full.h5" >"$W/run.log" 2>&1 ||
    { cat "$W/run.log"; fail "the tiny sweep failed"; }
mpirun_ts 2 run "$W/job.ini" -o "$W/shard.h5" --shard 1/3 >"$W/shard.log" 2>&1 ||
    { cat "$W/shard.log"; fail "the shard run failed"; }

# A foreign file and a file of a newer format version, for the refusals.
"$PY" - "$W" <<'PYEOF' || fail "h5py could not write the refusal files"
import shutil, sys, h5py
w = sys.argv[1]
with h5py.File(w + "/foreign.h5", "w") as f:
    f.attrs["format"] = "something-else"
    f["x"] = [1, 2, 3]
shutil.copy(w + "/full.h5", w + "/newer.h5")
with h5py.File(w + "/newer.h5", "r+") as f:
    f.attrs.modify("format_version", 5)
PYEOF

# MATLAB's high-level readers emulated in Octave (Octave has none): h5info lists
# groups, datasets and root attributes; h5read returns MATLAB's shapes (1-D datasets as
# columns, string datasets as a cellstr column); h5readatt reads through h5dump.
mkdir -p "$W/shim"
cat >"$W/shim/h5info.m" <<'EOF'
function info = h5info(file)
  info = walk(load('-hdf5', file), '/');
  [~, out] = system(sprintf('h5dump -H ''%s''', file));
  names = regexp(out, '\n   ATTRIBUTE "([^"]+)"', 'tokens');
  info.Attributes = struct('Name', cellfun(@(c) c{1}, names, 'UniformOutput', false));
end
function g = walk(s, name)
  g = struct('Name', name, 'Groups', struct('Name', {}, 'Groups', {}, 'Datasets', {}, ...
             'Attributes', {}), 'Datasets', struct('Name', {}), 'Attributes', struct('Name', {}));
  f = fieldnames(s);
  for i = 1:numel(f)
    if isstruct(s.(f{i}))
      g.Groups(end + 1) = walk(s.(f{i}), [regexprep(name, '/$', '') '/' f{i}]);
    else
      g.Datasets(end + 1).Name = f{i};
    end
  end
end
EOF
cat >"$W/shim/h5read.m" <<'EOF'
function x = h5read(file, path)
  x = load('-hdf5', file);
  parts = strsplit(path(2:end), '/');
  for i = 1:numel(parts)
    x = x.(parts{i});
  end
  if ischar(x)
    x = cellstr(x);
  elseif isvector(x)
    x = x(:);
  end
end
EOF
cat >"$W/shim/h5readatt.m" <<'EOF'
function v = h5readatt(file, obj, name)
  tmp = [tempname() '.bin'];
  [~, ~] = system(sprintf('h5dump -a ''%s%s'' -b NATIVE -o ''%s'' ''%s''', obj, name, tmp, file));
  fid = fopen(tmp);
  if any(strcmp(name, {'format_version', 'input_dim'}))
    v = fread(fid, 1, 'int32=>int32');
  elseif strcmp(name, 'input_shape')
    v = fread(fid, Inf, 'int32=>int32');             % MATLAB gives a 1-D attribute as a column
  else
    v = [fread(fid, Inf, 'uint8=>char').' char(0)];   % MATLAB may keep the NUL
  end
  fclose(fid);
  delete(tmp);
end
EOF

# The Octave side: load, then write every value a check needs, one per line:
#   KEY <tab> VALUE      (numbers with 17 digits: floats from float32 are exact)
cat >"$W/dump_ts.m" <<'EOF'
function dump_ts(file, out)
  r = load_ticketsweep(file);
  fid = fopen(out, 'w');
  put = @(k, v) fprintf(fid, '%s\t%s\n', k, v);
  num = @(v) sprintf('%.17g ', double(v(:)));
  % whole arrays: class, size, values in storage order
  arrays = cell(0, 2);
  for a = 1:numel(r.arms)
    arm = r.arms{a};
    f = fieldnames(r.summary.(arm));
    for i = 1:numel(f), arrays(end + 1, :) = {['summary.' arm '.' f{i}], r.summary.(arm).(f{i})}; end
    f = fieldnames(r.curves.(arm));
    for i = 1:numel(f), arrays(end + 1, :) = {['curves.' arm '.' f{i}], r.curves.(arm).(f{i})}; end
  end
  m = fieldnames(r.masks);
  for a = 1:numel(m)
    for l = 1:numel(r.layers)
      arrays(end + 1, :) = {['masks.' m{a} '.' r.layers{l}], r.masks.(m{a}).(r.layers{l})};
    end
  end
  for l = 1:numel(r.layers)
    L = r.layers{l};
    arrays(end + 1, :) = {['theta0.' L '.weight'], r.theta0.(L).weight};
    arrays(end + 1, :) = {['theta0.' L '.bias'], r.theta0.(L).bias};
  end
  for f = {'rates', 'rounds', 'seeds'}
    arrays(end + 1, :) = {['grid.' f{1}], r.grid.(f{1})};
  end
  for f = {'rate', 'rounds', 'seed', 'status', 'wall_seconds', 'rank'}
    arrays(end + 1, :) = {['trials.' f{1}], r.trials.(f{1})};
  end
  arrays(end + 1, :) = {'iteration', r.iteration};
  for i = 1:size(arrays, 1)
    x = arrays{i, 2};
    put(['class ' arrays{i, 1}], class(x));
    put(['size ' arrays{i, 1}], sprintf('%d ', size(x)));
    put(['data ' arrays{i, 1}], num(x));
  end
  % the documented indexing, trial t and round k
  T = r.n_trials;
  for t = 1:T
    put(sprintf('host %d', t), r.trials.host{t});
    put(sprintf('error %d', t), r.trials.error{t});
    if r.trials.status(t) ~= 1, continue; end
    for k = 0:double(r.trials.rounds(t))
      for a = 1:numel(r.arms)
        arm = r.arms{a};
        put(sprintf('final %s %d %d', arm, t, k), num(r.summary.(arm).final_test_acc(k + 1, t)));
        put(sprintf('curve %s %d %d', arm, t, k), num(r.curves.(arm).test_acc(:, k + 1, t)));
      end
      for a = 1:numel(m)
        for l = 1:numel(r.layers)
          W = r.masks.(m{a}).(r.layers{l})(:, :, t).' > k;          % [out, in]
          put(sprintf('masksum %s %s %d %d', m{a}, r.layers{l}, t, k), ...
              sprintf('%d %d', nnz(W), (1:size(W, 1)) * sum(W, 2)));
        end
      end
    end
  end
  for s = 1:numel(r.grid.seeds)
    W0 = r.theta0.fc1.weight(:, :, s).';                             % [out, in]
    put(sprintf('w0 %d', s), sprintf('%d %d %.17g %.17g', size(W0), W0(2, 3), W0(end, 1)));
  end
  put('status', sprintf('%d %d %d %d', r.status.done, r.status.failed, r.status.pending, ...
                        r.status.complete));
  put('arms', sprintf('%s ', r.arms{:}));
  put('layers', sprintf('%s ', r.layers{:}));
  put('columns', sprintf('%d', all(cellfun(@(f) size(r.trials.(f), 2) == 1, fieldnames(r.trials)))));
  for f = {'format', 'config_hash', 'software_version', 'created'}
    put(['attr ' f{1}], r.(f{1}));
  end
  put('attr format_version', num(r.format_version));
  put('attr input_dim', num(r.input_dim));
  put('attr input_shape', sprintf('%d %d %d %d', size(r.input_shape), r.input_shape(2), prod(r.input_shape)));
  fclose(fid);
  % the config goes to its own file: it spans lines
  fid = fopen([out '.config'], 'w');
  fwrite(fid, r.config);
  fclose(fid);
end
EOF

oct() {
    # Octave 7 prints "error: ignoring const execution_exception& while preparing to
    # exit" on some headless exits; the exit status is what counts.
    octave --no-gui --quiet --norc --eval "addpath('$TOP/tools/octave'); addpath('$W'); $1" \
        >"$W/octave.out" 2>&1
}

start=$(date +%s)
oct "dump_ts('$W/full.h5', '$W/full.txt'); dump_ts('$W/shard.h5', '$W/shard.txt');" ||
    { cat "$W/octave.out"; fail "Octave could not load the results files"; }

# Both readers must give the same struct (and warn about nothing).
oct "a = load_ticketsweep('$W/full.h5'); addpath('$W/shim'); \
     b = load_ticketsweep('$W/full.h5', 'reader', 'h5read'); \
     if ~isequaln(a, b), error('the two readers differ'); end; \
     c = load_ticketsweep('$W/shard.h5', 'reader', 'h5read'); \
     if ~isequaln(c, load_ticketsweep('$W/shard.h5')), error('the readers differ on the shard'); end; \
     disp('readers agree')" ||
    { cat "$W/octave.out"; fail "load_ticketsweep through h5read/h5info/h5readatt (emulated) failed"; }
grep -q "readers agree" "$W/octave.out" || { cat "$W/octave.out"; fail "no verdict from the reader comparison"; }
! grep -qi "warning" "$W/octave.out" || { cat "$W/octave.out"; fail "load_ticketsweep warned"; }

for bad in foreign newer; do
    if oct "load_ticketsweep('$W/$bad.h5'); disp('loaded')"; then
        cat "$W/octave.out"; fail "load_ticketsweep accepted $bad.h5"
    fi
    grep -q "load_ticketsweep: .*$bad.h5: \(not a ticketsweep results file\|results format version 5\)" \
        "$W/octave.out" || { cat "$W/octave.out"; fail "$bad.h5: no helpful refusal"; }
done

for f in full shard; do
    oct "p = plot_ticketsweep_example('$W/$f.h5'); fid = fopen('$W/plot_$f.txt', 'w'); \
         for a = fieldnames(p).', q = p.(a{1}); for i = 1:numel(q.density), \
           fprintf(fid, '%s %d %.17g %.17g %.17g %.17g %.17g %.17g %.17g %d\n', a{1}, q.round(i), \
                   q.rounds(i), q.rate(i), q.density(i), q.acc_mean(i), q.acc_std(i), q.acc_min(i), \
                   q.acc_max(i), q.n(i)); \
         end; end; fclose(fid);" ||
        { cat "$W/octave.out"; fail "plot_ticketsweep_example failed on $f.h5"; }
done
echo "octave: $(($(date +%s) - start)) s"

# The h5py side: the same values from the files, compared.
"$PY" - "$W" "$TOP/tools/python" "$TOP/tests" <<'PYEOF'
import sys
import h5py
import numpy as np
sys.path.insert(0, sys.argv[3])
import masks_h5

w = sys.argv[1]
errors = []

def check(cond, what):
    if not cond:
        errors.append(what)

def read_dump(path):
    d = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            d[k] = v
    return d

def nums(s):
    return np.array([float(x) for x in s.split()]) if s.strip() else np.zeros(0)

def same(a, b):
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))

CLASS = {"float32": "double", "float64": "double", "uint8": "uint8", "int8": "int8",
         "int32": "int32", "int64": "int64"}

def dataset_of(key):
    """struct path -> file path"""
    p = key.split(".")
    if p[0] in ("summary", "curves", "masks"):
        arm = "" if p[1] == "ticket" else "/controls/" + p[1]
        return "%s/%s/%s" % (arm, p[0], p[2])
    if p[0] == "theta0":
        return "/init/%s/%s" % (p[1], p[2])
    if p[0] == "iteration":
        return "/curves/iteration"
    return "/" + "/".join(p)

def cell_rounds(f, arm):
    """{layer: uint8 [T, out, in]}: rounds each weight of each done trial's arm
    was active (0 for trials not done), from the file alone (tests/masks_h5.py):
    what format 2 stored as /masks per trial."""
    T = len(f["/trials/status"])
    done = f["/trials/status"][:] == 1
    per = [masks_h5.rounds_active(f, t, arm) if done[t] else None for t in range(T)]
    return {l: np.stack([p[l] if p else np.zeros(f["/init/%s/weight" % l].shape[1:], np.uint8) for p in per])
            for l in masks_h5.layers(f)}


def compare(name, only_done):
    d = read_dump("%s/%s.txt" % (w, name))
    f = h5py.File("%s/%s.h5" % (w, name), "r")
    status = f["/trials/status"][:]
    done = status == 1
    T = len(status)
    # every array: class, reversed shape, values in storage order
    keys = [k[5:] for k in d if k.startswith("data ")]
    check(len(keys) >= 40, "%s: only %d arrays dumped" % (name, len(keys)))
    derived = {arm: cell_rounds(f, arm) for arm in ("ticket", "random")}
    check("/masks" not in f, "%s: per-cell /masks in a format 3 file" % name)
    for key in keys:
        if key.startswith("masks."):  # format 3: derived from the trainings
            _, arm, l = key.split(".")
            ds = derived[arm][l]
            x = ds
        else:
            ds = f[dataset_of(key)]
            x = ds[()]
        check(d["class " + key] == CLASS[str(ds.dtype)],
              "%s %s: class %s for %s" % (name, key, d["class " + key], ds.dtype))
        want = list(reversed(ds.shape)) if ds.ndim > 1 else [ds.shape[0], 1]
        got = [int(v) for v in d["size " + key].split()]
        while len(got) > len(want) and got[-1] == 1:
            got.pop()
        check(got == want, "%s %s: size %s, expected %s" % (name, key, got, want))
        v = nums(d["data " + key])
        if only_done and ds.ndim > 1 and ds.shape[0] == T and not key.startswith("theta0"):
            # undefined rows of trials not done: compare the done rows only
            v = v.reshape(x.shape)[done]
            x = x[done]
        check(same(v, x), "%s %s: values differ from h5py" % (name, key))
    # documented indexing
    L = sorted(f["/init"].keys(), key=lambda s: int(s[2:]))
    arms = ["ticket"] + [a for a in ("reinit", "random") if "/controls/" + a in f]
    check(d["arms"].split() == arms, "%s: arms %s" % (name, d["arms"]))
    check(d["layers"].split() == L, "%s: layers %s" % (name, d["layers"]))
    n = 0
    for t in range(T):
        check(d["host %d" % (t + 1)] == f["/trials/host"][t].decode(), "%s: host of trial %d" % (name, t))
        check(d["error %d" % (t + 1)] == f["/trials/error"][t].decode(), "%s: error of trial %d" % (name, t))
        if not done[t]:
            check("final ticket %d 0" % (t + 1) not in d, "%s: pending trial %d dumped" % (name, t))
            continue
        for k in range(int(f["/trials/rounds"][t]) + 1):
            for arm in arms:
                pre = "" if arm == "ticket" else "/controls/" + arm
                check(same(nums(d["final %s %d %d" % (arm, t + 1, k)]), f[pre + "/summary/final_test_acc"][t, k]),
                      "%s: final_test_acc(%d, %d) of %s" % (name, k + 1, t + 1, arm))
                check(same(nums(d["curve %s %d %d" % (arm, t + 1, k)]), f[pre + "/curves/test_acc"][t, k, :]),
                      "%s: test_acc(:, %d, %d) of %s" % (name, k + 1, t + 1, arm))
            for arm in ("ticket", "random"):
                pre = "" if arm == "ticket" else "/controls/random"
                active = 0
                total = 0
                for l in L:
                    m = derived[arm][l][t] > k                            # [out, in]
                    want = "%d %d" % (m.sum(), (np.arange(1, m.shape[0] + 1) * m.sum(axis=1)).sum())
                    check(d["masksum %s %s %d %d" % (arm, l, t + 1, k)] == want,
                          "%s: mask %s %s trial %d round %d: %s, h5py %s"
                          % (name, arm, l, t + 1, k, d["masksum %s %s %d %d" % (arm, l, t + 1, k)], want))
                    active += m.sum()
                    total += m.size
                    n += 1
                # the layout's promise: density = fraction of weights active in round k
                dens = f[pre + "/summary/density"][t, k]
                check(abs(active / total - dens) < 1e-12,
                      "%s: %s density(%d, %d) = %g, the masks say %g" % (name, arm, k + 1, t + 1, dens, active / total))
    check(n > 0 or not done.any(), "%s: no mask was compared" % name)
    for s in range(f["/grid/seeds"].shape[0]):
        w0 = f["/init/fc1/weight"][s]
        got = d["w0 %d" % (s + 1)].split()
        check([int(got[0]), int(got[1])] == list(w0.shape) and same(float(got[2]), w0[1, 2])
              and same(float(got[3]), w0[-1, 0]), "%s: theta0 fc1 of seed %d: %s" % (name, s + 1, got))
    want = "%d %d %d %d" % ((status == 1).sum(), (status == 2).sum(), (status == 0).sum(), int(done.all()))
    check(d["status"] == want, "%s: status %s, expected %s" % (name, d["status"], want))
    check(d["columns"] == "1", "%s: trials fields are not all columns" % name)
    a = f.attrs
    for k in ("format", "config_hash", "software_version", "created"):
        check(d["attr " + k] == a[k].decode(), "%s: attribute %s: %r vs %r" % (name, k, d["attr " + k], a[k]))
    check(int(float(d["attr format_version"])) == a["format_version"], "%s: format_version" % name)
    check(int(float(d["attr input_dim"])) == a["input_dim"], "%s: input_dim" % name)
    shape = list(a["input_shape"])
    check(d["attr input_shape"] == "3 1 %d %d" % (shape[1], np.prod(shape)) and np.prod(shape) == a["input_dim"],
          "%s: input_shape %s, the file has %s" % (name, d["attr input_shape"], shape))
    with open("%s/%s.txt.config" % (w, name)) as c:
        check(c.read() == a["config"].decode(), "%s: config text differs" % name)
    return f, status

f, status = compare("full", False)
check(bool((status == 1).all()), "full.h5: not every trial is done: %s" % status)
g, st2 = compare("shard", True)
want = np.array([1 if t % 3 == 1 else 0 for t in range(len(st2))])
check(bool((st2 == want).all()), "shard.h5: status %s, expected %s" % (st2, want))

# the plot example's points agree with the Python report's groups (ticketsweep.report,
# --group cell): statistics over seeds, the dense point counting each seed once however
# many trials share it (in shard.h5 three trials of two seeds)
sys.path.insert(0, sys.argv[2])
import ticketsweep
from ticketsweep import report as lth_report
for name in ("full", "shard"):
    got = {}
    with open("%s/plot_%s.txt" % (w, name)) as p:
        for line in p:
            arm, k, rounds, rate, *v = line.split()
            key = (arm, int(k)) if int(k) == 0 else (arm, int(float(rounds)), float(rate), int(k))
            check(key not in got, "plot example, %s: point %s twice" % (name, key))
            check(int(k) > 0 or (rounds == "NaN" and rate == "NaN"),
                  "plot example, %s: the dense point's cell is %s %s, not NaN" % (name, rounds, rate))
            got[key] = [float(x) for x in v]
    want = {}
    with ticketsweep.load("%s/%s.h5" % (w, name)) as r:
        for arm in r.arms:
            for g in lth_report.make_groups(r, arm, "cell", 2):
                key = (arm, 0) if g.round == 0 else (arm, g.rounds, g.rate, g.round)
                std = g.es_acc.std(ddof=1) if g.n_seeds > 1 else float("nan")
                want[key] = [g.pct / 100, g.es_acc.mean(), std, g.es_acc.min(), g.es_acc.max(),
                             g.n_seeds]
    check(set(got) == set(want), "plot example, %s: points %s, the report has %s"
          % (name, sorted(set(got) - set(want), key=str), sorted(set(want) - set(got), key=str)))
    for key in set(got) & set(want):
        check(np.allclose(got[key], want[key], rtol=1e-12, atol=1e-12, equal_nan=True),
              "plot example, %s %s: (density, mean, std, min, max, seeds) %s, the report %s"
              % (name, key, got[key], want[key]))
    if name == "shard":
        dense_trials = int(sum(1 for t in range(len(st2)) if st2[t] == 1))
        check(dense_trials == 3 and got.get(("ticket", 0), [0] * 6)[5] == 2,
              "plot example, shard: the dense point counts %s samples from %d trials of 2 seeds"
              % (got.get(("ticket", 0), [None] * 6)[5], dense_trials))

if errors:
    print("\n".join(errors[:40]))
    print("%d mismatches" % len(errors))
    sys.exit(1)
print("octave and h5py agree")
PYEOF
[ $? -eq 0 ] || fail "load_ticketsweep and h5py disagree"
