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
#   - a file with the instability analysis's copies (copies = 3, [output] weights = final)
#     and the rewind axis under rewind_schedule = continue: r.instability and its copies
#     (the ledger, the weights per layer, copy_index against the Python reader's
#     copy_weights, the copies' count and data seeds, copy 0's weights the training's),
#     trial_start_iteration against the Python reader's start_iteration(round, t); the same
#     file without /copies (an earlier release's) has no r.instability.copies;
#   - a file of a convolutional model with one seed, compared whole as the first;
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
# each cell's start and copy 1's analysis set differ by its k
cp "$W/job.ini" "$W/copies.ini"
printf '[analysis]\ncopies = 3\ninterpolation = 5\n[output]\nweights = final\n' >>"$W/copies.ini"
mpirun_ts 2 run "$W/copies.ini" -o "$W/copies.h5" --set sweep.rewind=0,20,40 \
    --set prune.rewind_schedule=continue >"$W/copies.log" 2>&1 ||
    { cat "$W/copies.log"; fail "the sweep with copies failed"; }
# a convolution and one seed: the seed dimension of /init drops out in MATLAB and Octave
sed -e 's/^hidden = .*/conv = 2\nhidden = 8/' -e 's/^seeds = .*/seeds = 1/' "$W/job.ini" >"$W/conv.ini"
"$TS" run "$W/conv.ini" -o "$W/conv.h5" >"$W/conv.log" 2>&1 || { cat "$W/conv.log"; fail "the conv sweep failed"; }

# A foreign file and a file of a newer format version, for the refusals.
"$PY" - "$W" <<'PYEOF' || fail "h5py could not write the refusal files"
import shutil, sys, h5py
w = sys.argv[1]
with h5py.File(w + "/foreign.h5", "w") as f:
    f.attrs["format"] = "something-else"
    f["x"] = [1, 2, 3]
shutil.copy(w + "/full.h5", w + "/newer.h5")
with h5py.File(w + "/newer.h5", "r+") as f:
    f.attrs.modify("format_version", 6)
# an earlier release's file: the instability analysis without /copies and /lines
shutil.copy(w + "/copies.h5", w + "/nocopies.h5")
with h5py.File(w + "/nocopies.h5", "r+") as f:
    del f["copies"], f["lines"]
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
  arrays(end + 1, :) = {'trial_start_iteration', r.trial_start_iteration};
  put('start_iteration', num(r.start_iteration));
  if isfield(r, 'instability')
    for f = {'alpha', 'data_seed', 'test_error', 'test_loss', 'val_error', 'value'}
      arrays(end + 1, :) = {['instability.' f{1}], r.instability.(f{1})};
    end
  end
  if isfield(r, 'instability') && isfield(r.instability, 'copies')
    c = r.instability.copies;
    for f = {'node', 'rewind_index', 'copy', 'data_seed', 'status', 'wall_seconds', 'rank'}
      arrays(end + 1, :) = {['copies.' f{1}], c.(f{1})};
    end
    for l = 1:numel(r.layers)
      L = r.layers{l};
      arrays(end + 1, :) = {['copies.weights.' L '.weight'], c.weights.(L).weight};
      arrays(end + 1, :) = {['copies.weights.' L '.bias'], c.weights.(L).bias};
    end
    arrays(end + 1, :) = {'copy_index', r.instability.copy_index};
    for i = 1:numel(c.status)
      put(sprintf('copy host %d', i), c.host{i});
      put(sprintf('copy error %d', i), c.error{i});
    end
    put('copies columns', sprintf('%d', all(structfun(@(v) ~isstruct(v) && size(v, 2) == 1, ...
                                                       rmfield(c, 'weights')))));
  end
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
          if strncmp(r.layers{l}, 'conv', 4)                          % [out, in, 3, 3]
            W = permute(r.masks.(m{a}).(r.layers{l})(:, :, :, :, t), [4 3 2 1]) > k;
          else
            W = r.masks.(m{a}).(r.layers{l})(:, :, t).' > k;        % [out, in]
          end
          put(sprintf('masksum %s %s %d %d', m{a}, r.layers{l}, t, k), ...
              sprintf('%d %d', nnz(W), (1:size(W, 1)) * sum(reshape(W, size(W, 1), []), 2)));
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
oct "dump_ts('$W/full.h5', '$W/full.txt'); dump_ts('$W/shard.h5', '$W/shard.txt'); \
     dump_ts('$W/copies.h5', '$W/copies.txt'); dump_ts('$W/conv.h5', '$W/conv.txt');" ||
    { cat "$W/octave.out"; fail "Octave could not load the results files"; }

# Both readers must give the same struct (and warn about nothing).
oct "a = load_ticketsweep('$W/full.h5'); addpath('$W/shim'); \
     b = load_ticketsweep('$W/full.h5', 'reader', 'h5read'); \
     if ~isequaln(a, b), error('the two readers differ'); end; \
     c = load_ticketsweep('$W/shard.h5', 'reader', 'h5read'); \
     if ~isequaln(c, load_ticketsweep('$W/shard.h5')), error('the readers differ on the shard'); end; \
     c = load_ticketsweep('$W/copies.h5', 'reader', 'h5read'); \
     if ~isequaln(c, load_ticketsweep('$W/copies.h5')), error('the readers differ on copies.h5'); end; \
     if isfield(a, 'instability'), error('full.h5 has no instability analysis'); end; \
     n = load_ticketsweep('$W/nocopies.h5', 'reader', 'h5read'); \
     if ~isequaln(n, load_ticketsweep('$W/nocopies.h5')), error('the readers differ on nocopies.h5'); end; \
     if any(isfield(n.instability, {'copies', 'copy_index'})), error('copies from a file without /copies'); end; \
     if ~isequaln(n.instability, rmfield(c.instability, {'copies', 'copy_index'})) \
       error('nocopies.h5: another instability than copies.h5'); end; \
     disp('readers agree')" ||
    { cat "$W/octave.out"; fail "load_ticketsweep through h5read/h5info/h5readatt (emulated) failed"; }
grep -q "readers agree" "$W/octave.out" || { cat "$W/octave.out"; fail "no verdict from the reader comparison"; }
! grep -qi "warning" "$W/octave.out" || { cat "$W/octave.out"; fail "load_ticketsweep warned"; }

for bad in foreign newer; do
    if oct "load_ticketsweep('$W/$bad.h5'); disp('loaded')"; then
        cat "$W/octave.out"; fail "load_ticketsweep accepted $bad.h5"
    fi
    grep -q "load_ticketsweep: .*$bad.h5: \(not a ticketsweep results file\|results format version 6\)" \
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
sys.path.insert(0, sys.argv[2])
import ticketsweep

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

def split_params(f, row):
    """{layer: (weight, bias)} of a row of /nodes/weights or /copies/weights: each
    layer's weight, then its bias, in C order."""
    out, off = {}, 0
    for l in masks_h5.layers(f):
        ws, bs = f["/init/%s/weight" % l].shape[1:], f["/init/%s/bias" % l].shape[1:]
        nw, nb = int(np.prod(ws)), int(np.prod(bs))
        out[l] = (row[off:off + nw].reshape(ws), row[off + nw:off + nw + nb].reshape(bs))
        off += nw + nb
    check(off == len(row), "a row of weights holds %d values, the layers %d" % (len(row), off))
    return out

def copy_rows(f, x, k_index, copy):
    """The rows of /copies of copy `copy` of training x in analysis set k_index, as the
    Python reader's copy_weights looks them up (copy 0 serves every set)."""
    g = f["copies"]
    return np.flatnonzero((g["node"][:] == x) & (g["copy"][:] == copy)
                          & ((g["rewind_index"][:] == k_index) | (copy == 0)))

def not_datasets(f, path):
    """{struct path: array in C order}: the loader's fields that are no dataset of the
    file: the copies' weights per layer, copy_index, trial_start_iteration."""
    out = {}
    with ticketsweep.load(path) as r:
        T, R1 = len(r.trials), f["/trials/nodes"].shape[2]
        out["trial_start_iteration"] = np.array(
            [[r.start_iteration(k, t) for k in range(R1)] for t in range(T)], dtype=np.float64)
        if "copies" not in f:
            return out
        rows = [split_params(f, row) for row in f["/copies/weights"][:]]
        for l in r.layers:
            out["copies.weights.%s.weight" % l] = np.stack([p[l][0] for p in rows])
            out["copies.weights.%s.bias" % l] = np.stack([p[l][1] for p in rows])
        C = len(f["/instability/data_seed"])
        idx = np.zeros((T, R1, C))
        for t in range(T):
            kt = int(np.flatnonzero(r.rewinds == r.trials["rewind"][t])[0])
            for k in range(R1):
                x = int(f["/trials/nodes"][t, 0, k])
                for c in range(C) if x >= 0 else ():
                    i = copy_rows(f, x, kt if k == 0 else 0, c)
                    idx[t, k, c] = i[0] + 1 if len(i) == 1 else -1
        out["copy_index"] = idx
    return out

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
    derived.update(not_datasets(f, "%s/%s.h5" % (w, name)))
    check("/masks" not in f, "%s: per-cell /masks in a format 3 file" % name)
    for key in keys:
        if key.startswith("masks."):  # format 3: derived from the trainings
            _, arm, l = key.split(".")
            ds = derived[arm][l]
            x = ds
        elif key in derived:
            ds = x = derived[key]
        else:
            ds = f[dataset_of(key)]
            x = ds[()]
        check(d["class " + key] == CLASS[str(ds.dtype)],
              "%s %s: class %s for %s" % (name, key, d["class " + key], ds.dtype))
        want = list(reversed(ds.shape)) if ds.ndim > 1 else [ds.shape[0], 1]
        got = [int(v) for v in d["size " + key].split()]
        # MATLAB and Octave drop trailing singleton dimensions (one seed: theta0's last)
        for v in (got, want):
            while len(v) > 2 and v[-1] == 1:
                v.pop()
        check(got == want, "%s %s: size %s, expected %s" % (name, key, got, want))
        v = nums(d["data " + key])
        if only_done and ds.ndim > 1 and ds.shape[0] == T and not key.startswith("theta0"):
            # undefined rows of trials not done: compare the done rows only
            v = v.reshape(x.shape)[done]
            x = x[done]
        check(same(v, x), "%s %s: values differ from h5py" % (name, key))
    # documented indexing
    L = masks_h5.layers(f)
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
                    m = derived[arm][l][t] > k                            # [out, in(, 3, 3)]
                    rows = m.reshape(m.shape[0], -1).sum(axis=1)
                    want = "%d %d" % (m.sum(), (np.arange(1, m.shape[0] + 1) * rows).sum())
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
check("data instability.alpha" not in read_dump(w + "/full.txt"), "full.h5: an instability analysis")
compare("conv", False)

# the copies: their ledger, count, data seeds and weights, and each cell's start
f, status = compare("copies", False)
d = read_dump(w + "/copies.txt")
check(bool((status == 1).all()), "copies.h5: not every trial is done: %s" % status)
def dumped(key, shape):
    """an array of the dump in C order (the file's order: Octave's dimensions reversed)"""
    return nums(d["data " + key]).reshape(shape)
g = f["copies"]
NC = len(g["node"])
for i in range(NC):
    check(d["copy host %d" % (i + 1)] == g["host"][i].decode(), "copies.h5: host of copy %d" % i)
    check(d["copy error %d" % (i + 1)] == g["error"][i].decode(), "copies.h5: error of copy %d" % i)
check(d["copies columns"] == "1", "copies.h5: the copies' fields are not all columns")
C, K = len(f["/instability/data_seed"]), len(f["/grid/rewind"])
check(C == 3 and K == 3, "copies.h5: %d copies, %d rewind points" % (C, K))
# every ticket training's copy 0, and C - 1 copies a set: round 0 has a set per k
ticket = f["/nodes/arm"][:] == 0
want = int(ticket.sum()) + (C - 1) * int((ticket & (f["/nodes/round"][:] == 0)).sum() * K
                                         + (ticket & (f["/nodes/round"][:] > 0)).sum())
check(NC == want, "copies.h5: %d copies, expected %d" % (NC, want))
copy = dumped("copies.copy", NC).astype(int)
seeds = dumped("instability.data_seed", C)
check(same(dumped("copies.data_seed", NC), seeds[copy]),
      "copies.h5: the copies' data seeds are not /instability/data_seed's of their copy number")
check(seeds[0] == 0 and len(set(seeds)) == C, "copies.h5: data seeds %s" % seeds)
check(bool((dumped("copies.status", NC) == 1).all()), "copies.h5: a copy is not done")
# copy_index gives the copies of every round a trial has, copy 0's weights are the
# training's (/nodes/weights) and copy c's what the Python reader's copy_weights gives
T, R1 = len(status), f["/trials/nodes"].shape[2]
idx = dumped("copy_index", (T, R1, C)).astype(int)
L = masks_h5.layers(f)
W = {(l, p): dumped("copies.weights.%s.%s" % (l, p), (NC,) + f["/init/%s/%s" % (l, p)].shape[1:])
     for l in L for p in ("weight", "bias")}
n = 0
with ticketsweep.load(w + "/copies.h5") as r:
    for t in range(T):
        for k in range(int(f["/trials/rounds"][t]) + 1):
            check(bool((idx[t, k] > 0).all()), "copies.h5: trial %d round %d: copy_index %s" % (t, k, idx[t, k]))
            if not (idx[t, k] > 0).all():
                continue
            node = split_params(f, f["/nodes/weights"][f["/trials/nodes"][t, 0, k]])
            for c in range(C):
                want = node if c == 0 else r.copy_weights(t, k, c)
                for l in L:
                    check(same(W[l, "weight"][idx[t, k, c] - 1], want[l][0]) and
                          same(W[l, "bias"][idx[t, k, c] - 1], want[l][1]),
                          "copies.h5: trial %d round %d copy %d: %s's weights" % (t, k, c, l))
                n += 1
        check(bool((idx[t, int(f["/trials/rounds"][t]) + 1:] == 0).all()),
              "copies.h5: trial %d: a copy_index past its rounds" % t)
check(n >= T * 2 * C, "copies.h5: %d copies compared" % n)
# rounds >= 1 start at the cell's k (the file-wide column cannot say: NaN)
start = dumped("trial_start_iteration", (T, R1))
check(same(start[:, 0], np.zeros(T)) and all(same(start[:, k], f["/trials/rewind"][:]) for k in range(1, R1))
      and len(set(f["/trials/rewind"][:])) == K, "copies.h5: trial_start_iteration %s" % start)
check(same(nums(d["start_iteration"]), [0] + [np.nan] * (R1 - 1)), "copies.h5: start_iteration")

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
