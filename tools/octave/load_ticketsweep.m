function r = load_ticketsweep(file, varargin)
%LOAD_TICKETSWEEP  Read a ticketsweep results file into a struct (MATLAB and GNU Octave).
%
%   r = load_ticketsweep('results.h5')
%   r = load_ticketsweep('results.h5', 'reader', READER)
%
%   Reads a file of format "ticketsweep-results" version 2 to 5 (README.md, "The results file") and
%   refuses any other format or version. READER is 'auto' (default: h5read/h5info/h5readatt in
%   MATLAB, load in Octave), 'h5read' or 'load'. Octave's load cannot read HDF5
%   attributes: there the root attributes are read with the h5dump program (package
%   hdf5-tools) when it is on the PATH, and are left empty with a warning otherwise.
%   The returned struct is the same from both readers.
%
%   DIMENSIONS. The file is written in C order; MATLAB and Octave see every dataset
%   with its dimensions reversed. A mask stored as [T, out, in] arrives as [in, out, T].
%   Below, t = 1..T is the trial (file row t-1), k = 0..R is a round (index k+1), e an
%   evaluation point (index e, iteration r.iteration(e)), s a seed (index into
%   r.grid.seeds). Vectors are columns.
%
%   FIELDS
%     file, format, format_version, config (the resolved job file, INI text), config_hash,
%     software_version, created, input_dim, input_shape   root attributes; input_shape is
%              [channels; rows; cols] of an example (double, a column), input_dim their product
%     n_trials (T), max_rounds (R), iteration [E x 1] (int32: iteration of each point)
%     arms     {'ticket'; 'reinit'; 'random'; ...}: the arms present (controls only if run), in
%              the order ticket, reinit, random, signed_reinit, reshuffle, signed_constant,
%              snip, synflow, magnitude_init, grasp
%     layers   {'conv1'; ...; 'fc1'; 'fc2'; ...}: the layers with weights in the model's
%              order (convolutions first), the last is the output layer. A convolution's
%              mask and theta0 are [3, 3, in, out, T] and [3, 3, in, out, S] (C order
%              [T, out, in, 3, 3] reversed)
%     grid     .rates [n_rates x 1], .rounds [n_rounds x 1] int32, .seeds [S x 1] int64,
%              .rewind [K x 1] (double): the rewind axis ([sweep] rewind), or the job's one
%              rewind_iteration (K = 1); .rewind_axis true when the job crossed the axis;
%              .criterion {C x 1} cellstr: the criterion axis ([sweep] criterion), or the
%              job's one prune.criterion; .criterion_axis true when the job crossed it
%     trials   one column per field, T rows: .rate, .rounds (int32), .seed (int64),
%              .rewind (double: the cell's rewind iteration k), .criterion (cellstr: its
%              pruning criterion),
%              .status (int8: 0 pending, 1 done, 2 failed), .error (cellstr), .wall_seconds,
%              .rank (int32), .host (cellstr). In MATLAB struct2table(r.trials) makes a table.
%     status   counts: .done, .failed, .pending; .complete is true when all trials are done
%     summary.<arm>  .density, .early_stop_iter (int32), .early_stop_test_acc,
%                    .final_test_acc: each [R+1, T]; NaN (-1 for the iteration) past a
%                    trial's rounds. Trial t, round k: r.summary.ticket.final_test_acc(k+1, t)
%     curves.<arm>   .train_loss, .val_loss, .val_acc, .test_loss, .test_acc: each
%                    [E, R+1, T]. The curve of trial t, round k: r.curves.ticket.test_acc(:, k+1, t)
%                    NaN at the points before round k's start (r.start_iteration(k+1)).
%                    With test_curve 'early_stop' the test set was evaluated only at each
%                    run's early stop and last point: .test_loss and .test_acc are NaN at
%                    every other point (plot .val_acc for a whole curve); the summary is
%                    what 'full' gives, bit for bit
%     test_curve     the job's train.test_curve: 'full' (the test set at every point) or
%                    'early_stop' (above); a file from before the key reads as 'full'; ''
%                    when the attributes cannot be read
%     rewind_iteration, rewind_schedule   the job's prune.rewind_iteration (k, double; 0: no
%                    rewinding) and prune.rewind_schedule ('continue' or 'restart'; a file
%                    from before the key reads as 'restart' when it rewinds), from config
%     start_iteration [R+1 x 1] (double): the iteration at which round k's trainings (every
%                    arm) start, index k+1 (with the rewind axis a cell's own: rounds >= 1
%                    start at r.trials.rewind(t) under 'continue'; then NaN here, see
%                    trial_start_iteration): k = rewind_iteration for rounds >= 1 under
%                    'continue' (they train iterations k..T, round 0's data order continued;
%                    early-stop iterations are absolute), else 0. Empty, like config, when
%                    the attributes cannot be read
%     trial_start_iteration [R+1, T] (double): the same for each trial, round k of trial t
%                    at (k+1, t), also with the rewind axis (r.trials.rewind(t) for rounds
%                    >= 1 under 'continue'); every round up to R, whether the trial has it or
%                    not. Without the axis each column is start_iteration. Empty when the
%                    attributes cannot be read
%     masks.<arm>.<layer>  uint8 [in, out, T]: how many rounds each weight was active; it is
%                    active in round k exactly when the value is > k. The ticket, the random
%                    control and snip, synflow, magnitude_init, grasp have masks (the last four:
%                    one-shot prunings of theta0, not nested, so only a count); reinit and
%                    the sign controls train the ticket's.
%                    Mask of trial t, round k as the layer's [out, in] weight shape:
%                    r.masks.ticket.fc1(:, :, t).' > k
%                    A file of format 3 stores each training's mask once (/nodes/mask); the
%                    loader builds these arrays from the trainings behind each trial's rounds
%                    (/trials/nodes), as format 2 stored them per trial.
%     theta0.<layer> .weight [in, out, S], .bias [out, S]: the initial weights of each seed.
%                    theta0 of trial t: s = find(r.grid.seeds == r.trials.seed(t));
%                    W0 = r.theta0.fc1.weight(:, :, s).'   (shape [out, in], y = W0 * x)
%     rewind.<layer> as theta0, only when the job rewinds: .weight [in, out, S*K], a point
%                    per seed s and rewind index i (r.grid.rewind(i)) at (s-1)*K + i
%     instability    only when the job had [analysis] copies >= 2 (docs/job-files.md,
%                    "Instability analysis"): .alpha [A x 1] (the points of a line, 0 to 1),
%                    .data_seed [C x 1] int64 (each copy's data-order seed; copy 0 is the
%                    sweep's own training), .pairs [P x 2] (the copies i, j of each line,
%                    0-based, i < j), .test_error, .test_loss, .val_error [A, P, R+1, T]
%                    along each line of the ticket's rounds (round 0: the dense network),
%                    .value [P, R+1, T] (the largest test error on the line minus the mean
%                    of its endpoints'); NaN past a trial's rounds. Line p of trial t,
%                    round k: plot(r.instability.alpha, r.instability.test_error(:, p, k+1, t))
%                    Files of this release on (/copies; not earlier ones) also have:
%                    .copies: every copy of every ticket training, NC of them, as columns
%                      .node (int32: the training, 0-based row of /nodes), .rewind_index
%                      (int32: its analysis set, 0-based into r.grid.rewind for round 0
%                      with the rewind axis, else 0; -1 for copy 0, the training itself,
%                      which serves every set), .copy (int32: 0 .. C-1), .data_seed
%                      (int64), .status (int8, as r.trials.status), .error, .wall_seconds,
%                      .rank, .host; and .weights.<layer> .weight [in, out, NC], .bias
%                      [out, NC] (as theta0): the final weights, the ends of the lines
%                      (copy 0's: the training's own); undefined where status ~= 1
%                    .copy_index [C, R+1, T] (double): copy c of trial t's round k is
%                      copy i = copy_index(c+1, k+1, t) of .copies (with the rewind axis
%                      round 0's of the trial's k); 0 where the trial has no such round.
%                      Its fc1 weight [out, in]: r.instability.copies.weights.fc1.weight(:, :, i).'
%
%   Floating-point data arrives as double (float32 in the file: exact), integers keep
%   their class. Rows of trials that are not done hold undefined values: always select
%   with r.trials.status == 1.
%
%   EXAMPLE (see also tools/plot_ticketsweep_example.m)
%     r = load_ticketsweep('demo.h5');
%     t = find(r.trials.status == 1, 1);                    % first finished trial
%     k = double(r.trials.rounds(t));                       % its last round
%     plot(r.iteration, squeeze(r.curves.ticket.val_acc(:, [1, k+1], t)));  % whole in any file
%     legend('dense (round 0)', sprintf('round %d, density %.3f', k, ...
%            r.summary.ticket.density(k+1, t)));
%     xlabel('iteration'); ylabel('validation accuracy');
%     active = nnz(r.masks.ticket.fc1(:, :, t) > k);       % fc1 weights left in round k

  if nargin < 1 || ~ischar(file)
    error('load_ticketsweep: usage: r = load_ticketsweep(FILE.h5)');
  end
  reader = 'auto';
  if mod(numel(varargin), 2) ~= 0
    error('load_ticketsweep: options come in name, value pairs');
  end
  for i = 1:2:numel(varargin)
    if ~strcmpi(varargin{i}, 'reader')
      error('load_ticketsweep: unknown option ''%s'' (known: ''reader'')', varargin{i});
    end
    reader = lower(varargin{i + 1});
  end
  is_octave = exist('OCTAVE_VERSION', 'builtin') ~= 0;
  if strcmp(reader, 'auto')
    if is_octave
      reader = 'load';
    else
      reader = 'h5read';
    end
  end
  if exist(file, 'file') ~= 2
    error('load_ticketsweep: %s: no such file', file);
  end

  switch reader
    case 'load'
      [raw, attrs] = read_with_load(file);
      strings_in_rows = true;      % Octave's load: one string per row
    case 'h5read'
      [raw, attrs] = read_with_h5read(file);
      strings_in_rows = false;     % MATLAB's convention: one string per column
    otherwise
      error('load_ticketsweep: reader ''%s'': expected ''auto'', ''h5read'' or ''load''', reader);
  end
  r = build(file, raw, attrs, strings_in_rows);
end

% ---------------------------------------------------------------------------------------

function [raw, attrs] = read_with_load(file)
% Octave: `load` turns groups into nested structs and datasets into arrays.
  try
    raw = load('-hdf5', file);
  catch err
    error('load_ticketsweep: %s: cannot read it as HDF5 (%s)', file, err.message);
  end
  attrs = read_attrs_h5dump(file);
end

function attrs = read_attrs_h5dump(file)
% Root attributes through `h5dump -b` (raw bytes into a temporary file): Octave's load
% skips attributes. Returns [] where an attribute cannot be read.
  attrs = empty_attrs();
  [rc, ~] = system('h5dump --version');
  if rc ~= 0
    warning('load_ticketsweep:noattrs', ...
            ['load_ticketsweep: %s: h5dump not found (Debian package hdf5-tools): the root ' ...
             'attributes (format, config, ...) are left empty and the format is not checked'], file);
    attrs.unreadable = true;
    return;
  end
  names = fieldnames(attrs);
  tmp = [tempname() '.bin'];
  for i = 1:numel(names)
    name = names{i};
    if strcmp(name, 'unreadable')
      continue;
    end
    cmd = sprintf('h5dump -a %s -b NATIVE -o %s %s', shell_quote(['/' name]), ...
                  shell_quote(tmp), shell_quote(file));
    [rc, ~] = system(cmd);
    fid = -1;
    if rc == 0
      fid = fopen(tmp, 'r');
    end
    if fid < 0
      continue;
    end
    if any(strcmp(name, {'format_version', 'input_dim'}))
      v = fread(fid, 1, 'int32');
    elseif strcmp(name, 'input_shape')
      v = fread(fid, Inf, 'int32');          % a column: channels, rows, cols
    else
      v = fread(fid, Inf, 'uint8=>char').';
      v(v == char(0)) = [];                  % the text exactly, but no terminator
    end
    fclose(fid);
    attrs.(name) = v;
  end
  if exist(tmp, 'file')
    delete(tmp);
  end
end

function q = shell_quote(s)
  q = ['''' strrep(s, '''', '''\''''') ''''];
end

function [raw, attrs] = read_with_h5read(file)
% MATLAB (or Octave with an h5read on the path): walk the file with h5info.
  try
    info = h5info(file);
  catch err
    error('load_ticketsweep: %s: cannot read it as HDF5 (%s)', file, err.message);
  end
  raw = read_group(file, info);
  attrs = empty_attrs();
  names = fieldnames(attrs);
  present = {};
  if isfield(info, 'Attributes') && ~isempty(info.Attributes)
    present = {info.Attributes.Name};
  end
  for i = 1:numel(names)
    if any(strcmp(names{i}, present))
      v = h5readatt(file, '/', names{i});
      if iscell(v)
        v = v{1};
      end
      if ischar(v) || (exist('isstring', 'builtin') && isstring(v))
        v = char(v);
        v = v(:).';
        v(v == char(0)) = [];
      else
        v = double(v(:));                    % input_shape: a column, as from h5dump
      end
      attrs.(names{i}) = v;
    end
  end
end

function s = read_group(file, g)
  s = struct();
  for i = 1:numel(g.Datasets)
    name = g.Datasets(i).Name;
    if strcmp(g.Name, '/')
      path = ['/' name];
    else
      path = [g.Name '/' name];
    end
    s.(name) = h5read(file, path);
  end
  for i = 1:numel(g.Groups)
    full = g.Groups(i).Name;
    slash = find(full == '/', 1, 'last');
    s.(full(slash + 1:end)) = read_group(file, g.Groups(i));
  end
end

function a = empty_attrs()
  a = struct('format', [], 'format_version', [], 'config', [], 'config_hash', [], ...
             'software_version', [], 'created', [], 'input_dim', [], 'input_shape', [], ...
             'unreadable', false);
end

function s = strip_nul(s)
% One string of a fixed-length string dataset: without its NUL or space padding.
  s = s(:).';
  s(s == char(0)) = [];
  s = deblank(s);
end

% ---------------------------------------------------------------------------------------

function r = build(file, raw, attrs, strings_in_rows)
% From the file's tree (as either reader returns it) to the documented struct.
  if ~attrs.unreadable
    if ~ischar(attrs.format) || ~strcmp(attrs.format, 'ticketsweep-results')
      error(['load_ticketsweep: %s: not a ticketsweep results file (its format attribute ' ...
             'is ''%s''; expected ''ticketsweep-results'')'], file, char(attrs.format));
    end
    if isempty(attrs.format_version) || ~any(attrs.format_version == [2, 3, 4, 5])
      error(['load_ticketsweep: %s: results format version %g; this reader knows versions 2 to 5 ' ...
             '(use the load_ticketsweep.m of the ticketsweep that wrote the file)'], ...
            file, attrs.format_version);
    end
  end
  need = {'grid', 'trials', 'curves', 'summary', 'init', 'nodes'};
  for i = 1:numel(need)
    if ~isfield(raw, need{i})
      error('load_ticketsweep: %s: no /%s group: not a ticketsweep results file', file, need{i});
    end
  end

  r = struct();
  r.file = file;
  names = fieldnames(attrs);
  for i = 1:numel(names)
    if ~strcmp(names{i}, 'unreadable')
      r.(names{i}) = attrs.(names{i});
    end
  end

  if isfield(raw.grid, 'rates')
    rates = column(raw.grid.rates); per_round = [];
  else  % a per_round job: the rate axis is the fraction pruned each round
    rates = unique(column(raw.trials.rate)); per_round = column(raw.grid.per_round);
  end
  r.grid = struct('rates', rates, 'per_round', per_round, 'rounds', column(raw.grid.rounds), ...
                  'seeds', column(raw.grid.seeds));
  r.grid.rewind_axis = isfield(raw.grid, 'rewind');
  tr = raw.trials;
  T = numel(tr.status);
  r.trials = struct();
  r.trials.rate = column(tr.rate);
  r.trials.rounds = column(tr.rounds);
  r.trials.seed = column(tr.seed);
  r.trials.status = column(tr.status);
  r.trials.error = string_column(tr.error, T, strings_in_rows);
  r.trials.wall_seconds = column(tr.wall_seconds);
  r.trials.rank = column(tr.rank);
  r.trials.host = string_column(tr.host, T, strings_in_rows);
  [k, ~, ~] = schedule(attrs, 0);
  r.grid.criterion_axis = isfield(raw.grid, 'criterion');
  if r.grid.criterion_axis  % the criterion axis: each cell its own
    g = raw.grid.criterion;   % C names: a cell, or a char array in rows or columns
    C = numel(g) * iscell(g) + ~iscell(g) * size(g, 1 + ~strings_in_rows);
    r.grid.criterion = string_column(g, C, strings_in_rows);
    r.trials.criterion = string_column(tr.criterion, T, strings_in_rows);
  else
    r.grid.criterion = {job_criterion(attrs)};
    r.trials.criterion = repmat(r.grid.criterion, T, 1);
  end
  if r.grid.rewind_axis  % the rewind axis: each cell its own k
    r.grid.rewind = double(column(raw.grid.rewind));
    r.trials.rewind = double(column(tr.rewind));
  else
    r.grid.rewind = k;
    r.trials.rewind = repmat(k, T, 1);
  end

  r.n_trials = T;
  r.max_rounds = double(max(r.grid.rounds));
  r.iteration = column(raw.curves.iteration);
  [r.rewind_iteration, r.rewind_schedule, r.start_iteration] = schedule(attrs, r.max_rounds);
  if r.grid.rewind_axis && strcmp(r.rewind_schedule, 'continue')
    r.start_iteration(2:end) = NaN;   % a cell's own: r.trial_start_iteration
  end
  % each trial's, as the Python reader's start_iteration(round, t): [R+1, T], not in r.trials,
  % whose fields are columns of T rows (struct2table)
  r.trial_start_iteration = [];
  if ~isempty(r.start_iteration)
    r.trial_start_iteration = repmat(r.start_iteration, 1, T);
    if strcmp(r.rewind_schedule, 'continue')
      r.trial_start_iteration(2:end, :) = repmat(r.trials.rewind.', r.max_rounds, 1);
    end
  end
  r.test_curve = test_curve(attrs);
  r.status = struct('done', sum(r.trials.status == 1), 'failed', sum(r.trials.status == 2), ...
                    'pending', sum(r.trials.status == 0));
  r.status.complete = r.status.done == T;

  % the arms: the ticket at the root, controls under /controls/<arm>
  arm_root = struct('ticket', raw);
  if isfield(raw, 'controls')
    for a = {'reinit', 'random', 'signed_reinit', 'reshuffle', 'signed_constant', 'snip', 'synflow', ...
             'magnitude_init', 'grasp'}
      if isfield(raw.controls, a{1})
        arm_root.(a{1}) = raw.controls.(a{1});
      end
    end
  end
  r.arms = fieldnames(arm_root);
  r.layers = sort_layers(fieldnames(raw.init));
  r.summary = struct();
  r.curves = struct();
  r.masks = struct();
  for i = 1:numel(r.arms)
    arm = r.arms{i};
    g = arm_root.(arm);
    r.summary.(arm) = floats(g.summary);
    if isfield(raw.nodes, 'curves')  % format 5: a row per training, a cell's round is its training's
      r.curves.(arm) = training_curves(raw, find(strcmp(arm, {'ticket', 'reinit', 'random', ...
                                       'signed_reinit', 'reshuffle', 'signed_constant', 'snip', 'synflow', ...
                                       'magnitude_init', 'grasp'})), r.max_rounds + 1, T);
    else
      c = g.curves;
      if isfield(c, 'iteration')
        c = rmfield(c, 'iteration');
      end
      r.curves.(arm) = floats(c);
    end
    if isfield(g, 'masks')         % format 2: a row per trial
      r.masks.(arm) = order_fields(g.masks, r.layers);
    elseif ~any(strcmp(arm, {'reinit', 'signed_reinit', 'reshuffle', 'signed_constant'}))
      % format 3: from the trainings (reinit and the sign controls train the ticket's); the
      % arm's index is its number in /nodes/arm, plus one
      r.masks.(arm) = cell_masks(raw, r.layers, find(strcmp(arm, {'ticket', 'reinit', 'random', ...
                                 'signed_reinit', 'reshuffle', 'signed_constant', 'snip', 'synflow', ...
                                 'magnitude_init', 'grasp'})), r.trials);
    end
  end
  r.theta0 = layer_params(raw.init, r.layers);
  if isfield(raw, 'rewind')
    r.rewind = layer_params(raw.rewind, r.layers);
  end
  if isfield(raw, 'instability')
    r.instability = floats(raw.instability);
    r.instability.alpha = column(r.instability.alpha);
    r.instability.data_seed = column(r.instability.data_seed);
    C = numel(r.instability.data_seed);
    pairs = zeros(0, 2);
    for i = 0:C-1
      for j = i+1:C-1
        pairs(end+1, :) = [i, j];  %#ok<AGROW>
      end
    end
    r.instability.pairs = pairs;
    % one pair: load and h5read drop the trailing singleton dimensions alike; keep [A, P, R+1, T]
    R1 = r.max_rounds + 1;
    for f = {'test_error', 'test_loss', 'val_error'}
      r.instability.(f{1}) = reshape(r.instability.(f{1}), numel(r.instability.alpha), size(pairs, 1), R1, T);
    end
    r.instability.value = reshape(r.instability.value, size(pairs, 1), R1, T);
    if isfield(raw, 'copies')   % files of earlier releases trained the copies inside their training
      r.instability.copies = copies(raw, r.layers, strings_in_rows);
      r.instability.copy_index = copy_index(raw, r);
    end
  end
end

function c = copies(raw, layers, strings_in_rows)
% /copies: the ledger as columns, and the final weights split per layer as theta0 is, the copy
% last. A row of /copies/weights holds each layer's weight, then its bias, in C order.
  g = raw.copies;
  NC = numel(g.status);
  c = struct('node', column(g.node), 'rewind_index', column(g.rewind_index), ...
             'copy', column(g.copy), 'data_seed', column(g.data_seed), 'status', column(g.status), ...
             'error', {string_column(g.error, NC, strings_in_rows)}, ...
             'wall_seconds', column(g.wall_seconds), 'rank', column(g.rank), ...
             'host', {string_column(g.host, NC, strings_in_rows)});
  w = reshape(double(g.weights), [], NC);   % [P, NC]
  c.weights = struct();
  off = 0;
  for l = 1:numel(layers)
    [ws, bs] = param_shapes(raw.init.(layers{l}), layers{l});
    nw = prod(ws);
    nb = prod(bs);
    c.weights.(layers{l}) = struct('weight', reshape(w(off + (1:nw), :), [ws, NC]), ...
                                   'bias', reshape(w(off + nw + (1:nb), :), [bs, NC]));
    off = off + nw + nb;
  end
end

function [ws, bs] = param_shapes(g, layer)
% A layer's weight and bias shapes as MATLAB sees one seed's ([in, out] or [3, 3, in, out];
% [out]): from /init, whose trailing seed dimension is dropped when there is one seed.
  nd = 2 + 2 * strncmp(layer, 'conv', 4);
  ws = size(g.weight);
  ws(end + 1:nd) = 1;
  ws = ws(1:nd);
  bs = size(g.bias, 1);
end

function idx = copy_index(raw, r)
% Copy c of the ticket's round k of trial t is copy idx(c+1, k+1, t) of r.instability.copies, as
% the Python reader's copy_weights finds it: the row of /copies with the trial's training, the
% copy, and its analysis set (round 0 with the rewind axis: the index of the trial's k; else 0);
% copy 0, the training itself, serves every set. 0 where the trial has no such training.
  g = raw.copies;
  node = double(g.node(:));
  set = double(g.rewind_index(:));
  cp = double(g.copy(:));
  C = numel(r.instability.data_seed);
  K = max([set; 0]) + 2;   % sets -1 (copy 0) .. K-2
  keys = (node * K + set + 1) * C + cp;
  T = r.n_trials;
  R1 = r.max_rounds + 1;
  x = double(reshape(raw.trials.nodes, R1, [], T));
  x = reshape(x(:, 1, :), R1, T);   % the ticket's training of each round
  s = zeros(R1, T);
  if r.grid.rewind_axis
    [~, i] = ismember(r.trials.rewind, r.grid.rewind);
    s(1, :) = i - 1;
  end
  idx = zeros(C, R1, T);
  for c = 0:C - 1
    q = (x * K + (s + 1) * (c > 0)) * C + c;
    [~, at] = ismember(q, keys);
    at(x < 0) = 0;
    idx(c + 1, :, :) = reshape(at, 1, R1, T);
  end
end

function c = training_curves(raw, a, R1, T)
% Format 5 ([output] curves = trainings): arm a's curves [E, R+1, T] from /nodes/curves ([E, N]
% each) through /trials/nodes ([R+1, A, T]: the training of each round, -1 none: NaN).
  x = reshape(double(raw.trials.nodes(:, a, :)), R1, T);
  c = struct();
  for f = {'train_loss', 'val_loss', 'val_acc', 'test_loss', 'test_acc'}
    rows = double(raw.nodes.curves.(f{1}));
    E = size(rows, 1);
    out = NaN(E, R1 * T);
    have = find(x(:) >= 0);
    out(:, have) = rows(:, x(have) + 1);
    c.(f{1}) = reshape(out, E, R1, T);
  end
end

function m = cell_masks(raw, layers, a, trials)
% Format 3: each trial's masks of arm a (1 ticket, 3 random, ...) as format 2 stored them, uint8
% [in, out, T] a layer (how many rounds each weight was active), from the training behind
% each round (/trials/nodes, [R+1, 3, T] here) and its row of /nodes/mask (one bit a weight,
% least significant first, weights of all layers in order). Trials that are not done: 0.
  nodes = raw.trials.nodes;
  rows = double(raw.nodes.mask_row(:));
  twin = double(raw.nodes.twin(:));
  shapes = cell(numel(layers), 1);
  sizes = zeros(numel(layers), 1);
  for l = 1:numel(layers)
    shapes{l} = param_shapes(raw.init.(layers{l}), layers{l});
    sizes(l) = prod(shapes{l});
  end
  T = numel(trials.status);
  counts = zeros(sum(sizes), T, 'uint8');
  for t = 1:T
    if trials.status(t) ~= 1
      continue;
    end
    for k = 0:double(trials.rounds(t))
      x = double(nodes(k + 1, a, t));
      row = rows(x + 1);
      if row < 0
        row = rows(twin(x + 1) + 1);
      end
      b = double(raw.nodes.mask(:, row + 1));
      bits = mod(floor(b ./ 2 .^ (0:7)), 2).';   % [8, bytes]: bit j of byte i at (j+1, i)
      counts(:, t) = counts(:, t) + uint8(bits(1:sum(sizes)).');
    end
  end
  m = struct();
  off = 0;
  for l = 1:numel(layers)
    m.(layers{l}) = reshape(counts(off + (1:sizes(l)), :), [shapes{l}, T]);
    off = off + sizes(l);
  end
end

function [k, sched, start] = schedule(attrs, R)
% Rewinding from the resolved job (the config attribute): rewind_iteration, rewind_schedule
% and each round's start iteration; [], '' and [] when the attributes are unreadable.
  k = []; sched = ''; start = [];
  if attrs.unreadable || ~ischar(attrs.config)
    return;
  end
  v = regexp(attrs.config, '^rewind_iteration = (\d+)', 'tokens', 'once', 'lineanchors');
  k = 0;
  if ~isempty(v)
    k = str2double(v{1});
  end
  v = regexp(attrs.config, '^rewind_schedule = (\w+)', 'tokens', 'once', 'lineanchors');
  if ~isempty(v)
    sched = v{1};
  elseif k > 0
    sched = 'restart';     % a file from before the key: its rounds restarted
  else
    sched = 'continue';
  end
  start = zeros(R + 1, 1);
  if strcmp(sched, 'continue')
    start(2:end) = k;
  end
end

function c = job_criterion(attrs)
% prune.criterion from the resolved job ('magnitude' when absent or unreadable)
  c = 'magnitude';
  if attrs.unreadable || ~ischar(attrs.config)
    return;
  end
  v = regexp(attrs.config, '^criterion = (\w+)', 'tokens', 'once', 'lineanchors');
  if ~isempty(v)
    c = v{1};
  end
end

function v = test_curve(attrs)
% The job's train.test_curve from the resolved job; 'full' for a file from before the key,
% '' when the attributes are unreadable.
  v = '';
  if attrs.unreadable || ~ischar(attrs.config)
    return;
  end
  t = regexp(attrs.config, '^test_curve = (\w+)', 'tokens', 'once', 'lineanchors');
  v = 'full';
  if ~isempty(t)
    v = t{1};
  end
end

function x = column(x)
  x = x(:);
  if isa(x, 'single')
    x = double(x);
  end
end

function s = floats(s)
% float32 datasets as double (MATLAB's h5read gives single, Octave's load double).
  f = fieldnames(s);
  for i = 1:numel(f)
    if isa(s.(f{i}), 'single')
      s.(f{i}) = double(s.(f{i}));
    end
  end
end

function c = string_column(x, T, in_rows)
% Fixed-length string datasets as a T x 1 cellstr without padding.
  if exist('isstring', 'builtin') && isstring(x)
    x = cellstr(x);
  end
  if iscell(x)
    c = cellfun(@strip_nul, x(:), 'UniformOutput', false);
    return;
  end
  if ~in_rows || (size(x, 1) ~= T && size(x, 2) == T)
    x = x.';
  end
  c = cell(T, 1);
  for t = 1:T
    c{t} = strip_nul(x(t, :));
  end
end

function p = layer_params(g, layers)
  p = struct();
  for i = 1:numel(layers)
    p.(layers{i}) = floats(g.(layers{i}));
  end
end

function s = order_fields(s, layers)
  s = orderfields(s, layers(ismember(layers, fieldnames(s))));
end

function names = sort_layers(names)
% The model's order: conv1, conv2, ..., then fc1, fc2, ..., fc10, each in numeric
% order (fieldnames may come sorted as text).
  n = zeros(numel(names), 1);
  for i = 1:numel(names)
    if strncmp(names{i}, 'conv', 4)
      n(i) = str2double(names{i}(5:end));
    else
      n(i) = 1e6 + str2double(names{i}(3:end));
    end
  end
  [~, idx] = sort(n);
  names = names(idx);
  names = names(:);
end
