function pts = plot_ticketsweep_example(file)
%PLOT_TICKETSWEEP_EXAMPLE  The lottery-ticket plot: early-stop test accuracy against density.
%
%   pts = plot_ticketsweep_example('results.h5')
%
%   One line per arm (the ticket and any controls): for every cell of the grid (rate,
%   round count) and every round k >= 1 of it, the mean over seeds of the test accuracy
%   at the early-stop iteration, against the density of that round; plus one dense
%   point (round 0 of every trial). Only finished trials count. Returns, per arm, the
%   points sorted by falling density:
%     pts.<arm>.density, .acc_mean, .acc_std (over trials, not of the mean), .n (trials)
%   Without a graphics toolkit (e.g. Octave without gnuplot/Qt) it prints the points
%   instead of plotting. Copy and adapt: it shows how to index the struct of
%   load_ticketsweep (trial t = column t, round k = row k+1 of the summaries).

  r = load_ticketsweep(file);
  done = find(r.trials.status == 1);
  pts = struct();
  for a = 1:numel(r.arms)
    arm = r.arms{a};
    S = r.summary.(arm);
    % one row per (trial, round): [rate, rounds, k, density, early-stop accuracy];
    % round 0 (dense) is the same cell for every trial: key it [0 0 0]
    rows = zeros(0, 5);
    for t = done(:).'
      for k = 0:double(r.trials.rounds(t))
        key = [r.trials.rate(t), double(r.trials.rounds(t)), k] * (k > 0);
        rows(end + 1, :) = [key, S.density(k + 1, t), S.early_stop_test_acc(k + 1, t)]; %#ok<AGROW>
      end
    end
    % the seeds of one (rate, rounds, k) share its density: average their accuracies
    [cells, ~, which] = unique(rows(:, 1:3), 'rows');
    n = size(cells, 1);
    p = struct('density', zeros(n, 1), 'acc_mean', zeros(n, 1), 'acc_std', zeros(n, 1), 'n', zeros(n, 1));
    for i = 1:n
      sel = rows(which == i, :);
      p.density(i) = mean(sel(:, 4));
      p.acc_mean(i) = mean(sel(:, 5));
      p.acc_std(i) = std(sel(:, 5), 1);
      p.n(i) = size(sel, 1);
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
    fprintf('%s: no graphics toolkit; the points (arm, density, accuracy mean, std, trials):\n', file);
    for a = 1:numel(r.arms)
      p = pts.(r.arms{a});
      for i = 1:numel(p.density)
        fprintf('%-7s %8.4f %8.4f %8.4f %3d\n', r.arms{a}, p.density(i), p.acc_mean(i), ...
                p.acc_std(i), p.n(i));
      end
    end
    return;
  end

  figure;
  hold on;
  for a = 1:numel(r.arms)
    p = pts.(r.arms{a});
    errorbar(100 * p.density, p.acc_mean, p.acc_std, '-o', 'DisplayName', r.arms{a});
  end
  set(gca, 'XScale', 'log', 'XDir', 'reverse');
  xlabel('weights remaining (%)');
  ylabel('test accuracy at early stop');
  title(sprintf('%s: %d of %d trials done', file, r.status.done, r.n_trials), 'Interpreter', 'none');
  legend('show', 'Location', 'southwest');
  grid on;
  hold off;
end
