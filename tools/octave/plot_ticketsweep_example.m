function pts = plot_ticketsweep_example(file)
%PLOT_TICKETSWEEP_EXAMPLE  The lottery-ticket plot: early-stop test accuracy against density.
%
%   pts = plot_ticketsweep_example('results.h5')
%
%   One line per arm (the ticket and any controls): for every cell of the grid (rate,
%   round count) and every round k >= 1 of it, the test accuracy at the early-stop
%   iteration against the density of that round; plus one dense point (round 0, one
%   training per seed that every trial of the seed shares). Only finished trials count.
%   Statistics are over seeds, as in tools/lth_report.py (its summary.csv with the
%   default --group cell holds the same numbers): the trials of one seed in a point are
%   averaged first, so the dense point counts each seed once, however many trials share
%   it. Returns, per arm, the points sorted by falling density:
%     pts.<arm>.round     round k (0 for the dense point)
%     pts.<arm>.rounds, .rate  the cell (NaN for the dense point)
%     pts.<arm>.density   fraction of weights remaining (mean over seeds)
%     pts.<arm>.acc_mean, .acc_std, .acc_min, .acc_max   early-stop test accuracy over
%                         seeds (std with N-1; NaN for one seed)
%     pts.<arm>.n         seeds
%   The plot draws the mean with min-max bars (none with one seed). Without a graphics
%   toolkit (e.g. Octave without gnuplot/Qt) it prints the points instead. Copy and
%   adapt: it shows how to index the struct of load_ticketsweep (trial t = column t,
%   round k = row k+1 of the summaries).

  r = load_ticketsweep(file);
  done = find(r.trials.status == 1);
  pts = struct();
  for a = 1:numel(r.arms)
    arm = r.arms{a};
    S = r.summary.(arm);
    % one row per (trial, round): [rate, rounds, k, seed, density, early-stop accuracy];
    % round 0 (dense) is the same cell for every trial: key it [0 0 0]
    rows = zeros(0, 6);
    for t = done(:).'
      for k = 0:double(r.trials.rounds(t))
        key = [r.trials.rate(t), double(r.trials.rounds(t)), k] * (k > 0);
        rows(end + 1, :) = [key, double(r.trials.seed(t)), S.density(k + 1, t), ...
                            S.early_stop_test_acc(k + 1, t)]; %#ok<AGROW>
      end
    end
    [cells, ~, which] = unique(rows(:, 1:3), 'rows');
    n = size(cells, 1);
    z = zeros(n, 1);
    p = struct('round', cells(:, 3), 'rounds', cells(:, 2), 'rate', cells(:, 1), ...
               'density', z, 'acc_mean', z, 'acc_std', z, 'acc_min', z, 'acc_max', z, 'n', z);
    p.rounds(p.round == 0) = NaN;
    p.rate(p.round == 0) = NaN;
    for i = 1:n
      sel = rows(which == i, :);
      % the samples are seeds: average the trials of each seed first
      seeds = unique(sel(:, 4));
      dens = zeros(numel(seeds), 1);
      acc = dens;
      for j = 1:numel(seeds)
        mine = sel(:, 4) == seeds(j);
        dens(j) = mean(sel(mine, 5));
        acc(j) = mean(sel(mine, 6));
      end
      p.density(i) = mean(dens);
      p.acc_mean(i) = mean(acc);
      p.acc_std(i) = NaN;
      if numel(acc) > 1
        p.acc_std(i) = std(acc);
      end
      p.acc_min(i) = min(acc);
      p.acc_max(i) = max(acc);
      p.n(i) = numel(acc);
    end
    [~, order] = sort(p.density, 'descend');
    f = fieldnames(p);
    for j = 1:numel(f)
      p.(f{j}) = p.(f{j})(order);
    end
    pts.(arm) = p;
  end

  can_plot = true;
  if exist('OCTAVE_VERSION', 'builtin')
    can_plot = ~isempty(available_graphics_toolkits());
  end
  if ~can_plot
    fprintf(['%s: no graphics toolkit; the points (arm, density, early-stop accuracy over ' ...
             'seeds: mean, std, min, max, seeds):\n'], file);
    for a = 1:numel(r.arms)
      p = pts.(r.arms{a});
      for i = 1:numel(p.density)
        fprintf('%-7s %8.4f %8.4f %8.4f %8.4f %8.4f %3d\n', r.arms{a}, p.density(i), ...
                p.acc_mean(i), p.acc_std(i), p.acc_min(i), p.acc_max(i), p.n(i));
      end
    end
    return;
  end

  figure;
  hold on;
  for a = 1:numel(r.arms)
    p = pts.(r.arms{a});
    if max(p.n) > 1
      errorbar(100 * p.density, p.acc_mean, p.acc_mean - p.acc_min, p.acc_max - p.acc_mean, ...
               '-o', 'DisplayName', sprintf('%s (mean of %s seeds, bars min-max)', ...
                                            r.arms{a}, seed_count(p.n)));
    else
      plot(100 * p.density, p.acc_mean, '-o', 'DisplayName', sprintf('%s (one seed)', r.arms{a}));
    end
  end
  set(gca, 'XScale', 'log', 'XDir', 'reverse');
  xlabel('weights remaining (%)');
  ylabel('test accuracy at early stop');
  title(sprintf('%s: %d of %d trials done', file, r.status.done, r.n_trials), 'Interpreter', 'none');
  legend('show', 'Location', 'southwest');
  grid on;
  hold off;
end

function s = seed_count(n)
% '2' or '1-3': the seeds behind the points of a line.
  if min(n) == max(n)
    s = sprintf('%d', max(n));
  else
    s = sprintf('%d-%d', min(n), max(n));
  end
end
