"""Objectives of a search: what one trial runs (sample, train, score validation) and the training backends.

A backend is ``f(params, seed, on_eval) -> result`` with ``result['val_mean']``, the validation metric the study
maximises: :func:`graphite.cli.runner.run` for node classification, :func:`linkpred.cli.command.run_linkpred` for
link prediction, or any ``'module:function'``. :class:`TrialObjective` wraps a backend for
:meth:`optuna.study.Study.optimize`: it samples the search space, reports the validation metric every
``report_every`` steps (so the median pruner can stop the trial) and records the seed, seconds and threads as user
attributes (and a test metric only when a custom backend returns one).

The node-classification backend never sees a test mask: it hands the runner the dataset with every split's
``test_mask`` replaced by its ``val_mask`` (:func:`validation_only`), and drops the (then meaningless) test entries
of the result. Test numbers are computed once, after the search, by ``graphite run --config <exported best>.yaml``
(``tests/test_tune.py`` checks that poisoning the test masks and test labels changes no trial).
"""
from __future__ import annotations

import contextlib
import copy
import importlib
import math
import os
import time
from typing import Any, Callable, Dict, Mapping, Optional

import optuna

from graphite.cli.param_names import apply_values
from graphite.cli.tuning.spec import TuneSpec

__all__ = ['ObjectiveFn', 'TrialObjective', 'build_objective', 'validation_only']

#: signature of an objective backend: (params, seed, on_eval) -> result dict with at least 'val_mean'
ObjectiveFn = Callable[[Dict[str, Any], int, Optional[Callable[[int, float], None]]], Mapping[str, Any]]


def _import_callable(path: str) -> Callable:
    module, sep, name = path.partition(':')
    if not sep or not module or not name:
        raise ValueError(f"objective must look like 'package.module:function', got {path!r}")
    fn = getattr(importlib.import_module(module), name, None)
    if not callable(fn):
        raise AttributeError(f'{path!r}: {module} has no callable {name!r}')
    return fn


def validation_only(data):
    """A shallow copy of ``data`` whose ``test_mask`` is its ``val_mask``: what a search may see (the runner still
    finds the three masks it needs, and every node it scores is a validation node)."""
    out = copy.copy(data)
    out.test_mask = data.val_mask.clone()
    return out


def build_objective(spec: TuneSpec) -> ObjectiveFn:
    """The objective backend of ``spec``: ``f(params, seed, on_eval) -> result`` with ``result['val_mean']``.

    * custom (``spec.objective = 'module:function'``): that function;
    * ``node``: :func:`graphite.cli.runner.run` on ``spec.splits``, the dataset loaded once per worker and its test
      masks removed (:func:`validation_only`);
    * ``linkpred``: :func:`linkpred.cli.command.run_linkpred` with ``spec.runs`` runs, the graph loaded
      once per worker.
    """
    if spec.objective is not None:
        return _import_callable(spec.objective)
    cfg = spec.config
    cache: Dict[Any, Any] = {}
    if spec.task == 'linkpred':
        from linkpred.cli.command import load_graph, run_linkpred

        def linkpred(params, seed, on_eval):
            options = dict(params.get('dataset_options') or {})
            key = repr(sorted(options.items()))
            if key not in cache:  # load the graph (or generate the synthetic one) once per worker and options
                cache.clear()
                cache[key] = load_graph(cfg['dataset'], **options)
            return run_linkpred(cfg['dataset'], spec.encoder, spec.decoder, params, spec.runs, seed=seed,
                                on_eval=on_eval, progress=False, transform=cfg.get('transform'), data=cache[key],
                                device=spec.device)
        return linkpred

    from graphite.cli.runner import run

    def node(params, seed, on_eval):
        if 'data' not in cache:  # load (and copy out of the read-only mirror) once per worker process
            from graphite.datasets import load
            cache['data'] = validation_only(load(cfg['dataset']))
        result = run(cfg['dataset'], cfg['model'], cfg.get('transform'), params, spec.splits, seed=seed,
                     on_eval=on_eval, progress=False, data=cache['data'], device=spec.device)
        return {k: v for k, v in result.items() if k not in ('mean', 'std', 'per_split')}
    return node


class TrialObjective:
    """The callable handed to :meth:`optuna.study.Study.optimize`: one trial = sample, train, score validation.

    Args:
        spec (TuneSpec): the search.
        backend (callable, optional): the objective backend (default: :func:`build_objective` ``(spec)``).
    """

    def __init__(self, spec: TuneSpec, backend: Optional[ObjectiveFn] = None) -> None:
        self.spec = spec
        self.backend = backend if backend is not None else build_objective(spec)
        #: number of the last trial that another worker declared dead (FAIL) while this one was still running it
        self.stale_trial: Optional[int] = None

    def __call__(self, trial: optuna.Trial) -> float:
        self.stale_trial = None
        try:
            return self._run(trial)
        except optuna.exceptions.UpdateFinishedTrialError:
            # our heartbeat was late (process stopped/suspended longer than the grace period) and another worker
            # marked this trial FAIL; its result can no longer be recorded
            self.stale_trial = trial.number
            raise

    def _run(self, trial: optuna.Trial) -> float:
        spec = self.spec
        sampled = spec.search.suggest(trial)
        params = apply_values(spec.config['params'], sampled)
        seed = spec.seed + trial.number
        trial.set_user_attr('seed', seed)
        trial.set_user_attr('worker', f'{os.uname().nodename}:{os.getpid()}')

        def on_eval(step: int, value: float) -> None:
            if step % spec.report_every:
                return
            value = float(value)
            if not math.isfinite(value):
                raise optuna.TrialPruned(f'validation metric is {value} at step {step}')
            trial.report(value, int(step))
            if spec.pruning and trial.should_prune():
                raise optuna.TrialPruned(f'pruned at step {step} with validation {value:.4f}')

        trial.set_user_attr('threads', int(spec.threads))
        start = time.perf_counter()
        try:
            result = self.backend(params, seed, on_eval)
        except optuna.TrialPruned:  # what the trial cost counts toward the search budget too
            trial.set_user_attr('seconds', round(time.perf_counter() - start, 3))
            raise
        except BaseException:  # failed, interrupted (Ctrl-C) or terminated (SIGTERM): its cost counts as well
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):  # keep the original error
                trial.set_user_attr('seconds', round(time.perf_counter() - start, 3))
            raise
        seconds = time.perf_counter() - start
        if not isinstance(result, Mapping) or 'val_mean' not in result:
            raise KeyError(f'the objective must return a dict with key "val_mean" (validation metric), got '
                           f'{type(result).__name__} with keys {sorted(result) if isinstance(result, Mapping) else ""}')
        value = float(result['val_mean'])
        trial.set_user_attr('seconds', round(float(result.get('seconds', seconds)), 3))
        for key, attr in (('mean', 'test_mean'), ('std', 'test_std'), ('val_std', 'val_std')):
            if result.get(key) is not None:
                trial.set_user_attr(attr, float(result[key]))
        if result.get('per_split_val') is not None:
            trial.set_user_attr('per_split_val', [float(v) for v in result['per_split_val']])
        if result.get('metric') is not None:
            trial.set_user_attr('metric', str(result['metric']))
        return value  # NaN/inf: Optuna records the trial as FAIL with a warning
