"""Benchmark of ``graphite tune``: worker scaling and the effect of pruning, on a cheap real objective.

Two measurements in one run (a few minutes on 2 CPU cores), both with the real runner
(:func:`graphite.cli.runner.run`) training a small model on a small heterophilic dataset (default: MLP on Cornell,
2 splits, 50 full-batch steps, every step evaluated):

1. **Throughput** -- trials per minute with 1 and with 2 worker processes (1 torch thread each, pruning off,
   the same number of trials). Reported twice: wall clock of the whole command (worker start-up included) and
   steady state (first trial start to last trial end, from the study's timestamps). Ratio 2 vs 1 worker.
2. **Pruning** -- the same search (same seed, 1 worker) with the median pruner and without: seconds (wall clock
   and CPU time of the process, which other jobs on a shared machine do not inflate) and trials until the best
   validation accuracy first reaches a target, and total time. The default target is the lower
   of the two final best values, so both runs reach it; ``--target`` fixes it instead. Ratio without / with.

Every study goes to a temporary journal storage, so nothing is left behind. Usage::

    OMP_NUM_THREADS=1 GRAPHITE_DATA=/path/to/data python benchmarks/tune.py [--dataset cornell --model mlp]
        [--trials 16 --prune-trials 30 --epochs 50 --splits 0 1 --target 0.80]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault('OMP_NUM_THREADS', '1')


def _spec(config, name, root, n_trials, splits, pruning, seed, warmup):
    from graphite.cli.tuning.storage import resolve_storage
    from graphite.cli.tuning import TuneSpec
    return TuneSpec(config=config, study_name=name, storage=resolve_storage(str(root / f'{name}.log'), name),
                    n_trials=n_trials, splits=splits, pruning=pruning, seed=seed, n_warmup_steps=warmup)


def _timed(spec, workers: int) -> Dict[str, Any]:
    from optuna.trial import TrialState

    from graphite.cli.tuning import build_objective, tune
    cpu_at_end: Dict[int, float] = {}  # trial seed -> CPU seconds of this process when the trial ended
    inner = build_objective(spec) if workers == 1 else None

    def timed_backend(params, seed, on_eval):
        try:
            return inner(params, seed, on_eval)
        finally:
            cpu_at_end[seed] = time.process_time() - cpu0

    # in-process (1 worker): also measure CPU time, which other jobs on the machine do not inflate
    backend = timed_backend if workers == 1 else None
    start_wall = time.time()
    start = time.perf_counter()
    cpu0 = time.process_time()
    study = tune(spec, workers=workers, progress=False, backend=backend)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    t0 = min(t.datetime_start for t in finished).timestamp()
    t1 = max(t.datetime_complete for t in finished).timestamp()
    # best-so-far curve over completion time (seconds since the command started)
    curve, best = [], float('-inf')
    for t in sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.datetime_complete):
        if t.value > best:
            best = t.value
            curve.append((t.datetime_complete.timestamp() - start_wall, t.number, best,
                          cpu_at_end.get(t.user_attrs['seed'], float('nan'))))
    return {
        'study': study, 'seconds': seconds, 'cpu': cpu, 'n': len(finished), 'steady': t1 - t0,
        'pruned': sum(t.state == TrialState.PRUNED for t in trials), 'curve': curve, 'best': best,
        'trial_seconds': sum((t.datetime_complete - t.datetime_start).total_seconds() for t in finished),
    }


def _reach(curve, target: float) -> Optional[tuple]:
    for seconds, number, best, cpu in curve:
        if best >= target - 1e-12:
            return seconds, number, cpu
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dataset', default='cornell')
    parser.add_argument('--model', default='mlp')
    parser.add_argument('--splits', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--epochs', type=int, default=50, help='full-batch steps per split (default: 50)')
    parser.add_argument('--trials', type=int, default=16, help='trials per throughput run (default: 16)')
    parser.add_argument('--prune-trials', type=int, default=30, help='trials per pruning run (default: 30)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='steps before pruning (default: epochs // 4, as graphite tune)')
    parser.add_argument('--target', type=float, default=None, help='validation value to reach (default: see doc)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    import optuna
    import torch

    from graphite.cli.config import load_config
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = load_config(args.dataset, args.model, overrides=(f'epochs={args.epochs}', 'patience=0', 'eval_every=1'))
    print(f'load average: {" ".join(f"{v:.1f}" for v in os.getloadavg())}')
    print(f'objective: {args.model} on {args.dataset}, splits {args.splits}, {args.epochs} steps per split, '
          f'search space {sorted(config["search"])}; {os.cpu_count()} CPU(s), 1 torch thread per worker',
          flush=True)

    with tempfile.TemporaryDirectory(prefix='graphite-tune-bench-') as tmp:
        root = Path(tmp)
        os.environ['GRAPHITE_STUDIES'] = str(root)
        from graphite.datasets import load
        load(args.dataset)  # fill the dataset cache once, outside the timings

        print('\n[1] throughput (pruning off)', flush=True)
        runs = {}
        for workers in (1, 2):
            spec = _spec(config, f'w{workers}', root, args.trials, args.splits, False, args.seed, args.warmup)
            r = runs[workers] = _timed(spec, workers)
            print(f'  {workers} worker(s): {r["n"]} trials in {r["seconds"]:.1f} s wall -> '
                  f'{60 * r["n"] / r["seconds"]:.1f} trials/min (steady state {60 * r["n"] / r["steady"]:.1f} '
                  f'trials/min; mean trial {r["trial_seconds"] / r["n"]:.2f} s)', flush=True)
        wall = (runs[2]['n'] / runs[2]['seconds']) / (runs[1]['n'] / runs[1]['seconds'])
        steady = (runs[2]['n'] / runs[2]['steady']) / (runs[1]['n'] / runs[1]['steady'])
        print(f'  ratio 2 vs 1 worker: {wall:.2f}x wall clock, {steady:.2f}x steady state', flush=True)

        print('\n[2] pruning (1 worker, same seed)', flush=True)
        pr = {}
        for pruning in (True, False):
            spec = _spec(config, f'prune-{pruning}', root, args.prune_trials, args.splits, pruning, args.seed,
                         args.warmup)
            r = pr[pruning] = _timed(spec, 1)
            print(f'  pruning {"on " if pruning else "off"}: {r["n"]} trials ({r["pruned"]} pruned) in '
                  f'{r["seconds"]:.1f} s wall / {r["cpu"]:.1f} s CPU, best validation {r["best"]:.4f} (test '
                  f'{r["study"].best_trial.user_attrs.get("test_mean", float("nan")):.4f})', flush=True)
        target = args.target if args.target is not None else min(pr[True]['best'], pr[False]['best'])
        hit = {p: _reach(pr[p]['curve'], target) for p in (True, False)}
        for p in (True, False):
            h = hit[p]
            print(f'  pruning {"on " if p else "off"}: best >= {target:.4f} ' +
                  (f'after {h[0]:.1f} s wall / {h[2]:.1f} s CPU (trial #{h[1]})' if h else 'never reached'))
        if hit[True] and hit[False]:
            print(f'  ratio time-to-target off / on: {hit[False][0] / hit[True][0]:.2f}x wall, '
                  f'{hit[False][2] / hit[True][2]:.2f}x CPU')
        print(f'  ratio total time off / on: {pr[False]["seconds"] / pr[True]["seconds"]:.2f}x wall, '
              f'{pr[False]["cpu"] / pr[True]["cpu"]:.2f}x CPU')
    print(f'\nload average at the end: {" ".join(f"{v:.1f}" for v in os.getloadavg())} '
          f'(other jobs share the {os.cpu_count()} cores: wall-clock ratios are only meaningful on an idle machine)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
