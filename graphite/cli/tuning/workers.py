"""Hyper-parameter search with Optuna: studies, objectives, worker processes, summary, plots and export.

One *study* is a search for one (task, dataset, model/encoder-decoder, transform, splits) combination. Its trials
sample the config's ``search:`` space (:class:`experiments.search_space.SearchSpace`), train with those values and
score the **validation** metric (``val_mean``, the mean over splits/runs of the best-validation metric). The test
metric is never optimised: it is only recorded with each trial (user attributes ``test_mean``, ``test_std``,
``seed``, ``seconds``, ``val_std``, ``metric``) so the best configuration's test score can be reported without
selection bias on the test set.

How a search runs (:func:`tune`):

1. :func:`create_or_load_study` creates the study, or loads it when it exists (resume: re-running the same
   command continues it). The study remembers what it optimises (task, dataset, model, transform, splits, base
   params) and refuses to continue with a different objective: pick another ``--study`` name for that.
2. Stale trials (their worker died: no heartbeat for ``grace_period`` seconds) are marked ``FAIL``.
3. ``workers`` worker processes (or the current process when ``workers == 1``) run :func:`run_worker`: each loads
   the study, pins itself to ``threads`` torch threads, and runs trials one at a time until the study holds
   ``n_trials`` counted trials (``COMPLETE``, ``PRUNED``, ``RUNNING``; failed trials do not count, so a resumed
   search replaces them) or the ``timeout`` passes. Workers on other machines run the same command against the
   same database URL and share the same total.
4. :func:`summarize` prints the best trial, :func:`write_plots` saves the optimisation history and parameter
   importances (PNG with matplotlib, HTML with plotly when installed), :func:`export_best` writes a config YAML
   that ``graphite run --config best.yaml`` runs unchanged.

Sampling is TPE (``constant_liar=True`` so parallel workers do not all probe the same point); pruning is
:class:`optuna.pruners.MedianPruner`: a trial stops when its validation metric at an evaluation step is below
the median of earlier trials at the same step (after ``n_startup_trials`` complete trials and ``n_warmup_steps``
evaluations). The objective reports through ``on_eval(step, value)``, the runner's per-evaluation callback.

Reproducibility: trial ``k`` trains with seed ``seed + k`` (recorded as user attribute ``seed``), so every trial can
be re-run exactly. A single local worker seeds its sampler from ``(seed, number of trials already in the study)``:
the same ``--seed`` proposes the same trials, and a resumed search does not re-propose the first ones. Concurrent
workers (``--workers N`` or a database URL shared by hosts) also mix their host, process id and start time into the
sampler seed, so they never draw identical random start-up points.
"""
from __future__ import annotations

import copy
import importlib
import math
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

import optuna
import yaml
from optuna.trial import TrialState

from experiments.search_space import SearchSpace
from experiments.storage import (DEFAULT_GRACE_PERIOD, DEFAULT_HEARTBEAT_INTERVAL, StorageSpec, fail_stale_trials,
                                 open_storage)

__all__ = ['TuneSpec', 'TrialObjective', 'COUNTED_STATES', 'best_config', 'best_trial_or_none', 'build_objective',
           'count_trials', 'create_or_load_study', 'default_study_name', 'export_best', 'run_worker', 'summarize',
           'tune', 'write_plots']

#: trial states that count toward the requested number of trials
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
#: objective exceptions recorded as a FAIL trial without stopping the worker (a diverging configuration: the runner
#: raises FloatingPointError on a non-finite loss); any other exception stops the worker
CAUGHT = (FloatingPointError,)
#: a worker gives up after this many consecutive failed trials of its own (e.g. a diverging objective -> NaN)
MAX_CONSECUTIVE_FAILURES = 5
#: study user attributes that define the objective; a resumed study must match them
IDENTITY_KEYS = ('task', 'dataset', 'model', 'transform', 'encoder', 'decoder', 'splits', 'runs', 'base_params',
                 'objective')

#: signature of an objective backend: (params, seed, on_eval) -> result dict with at least 'val_mean'
ObjectiveFn = Callable[[Dict[str, Any], int, Optional[Callable[[int, float], None]]], Mapping[str, Any]]


@dataclass
class TuneSpec:
    """Everything a worker process needs to run trials of one study (plain data, so it pickles to workers).

    Args:
        config (dict): the experiment config (``dataset``, ``model``, ``transform``, ``params``, ``search``...).
        study_name (str): the study's name.
        storage (StorageSpec): where the study lives (:func:`experiments.storage.resolve_storage`).
        n_trials (int): total number of counted trials the study should reach.
        task (str): ``'node'`` (node classification through :func:`experiments.runner.run`) or ``'linkpred'``
            (:func:`experiments.linkpred_command.run_linkpred`). (default: ``'node'``)
        splits (list of int, optional): split indices for node classification (:obj:`None`: all). (default: None)
        runs (int): runs per trial for link prediction. (default: 1)
        encoder, decoder (str, optional): link-prediction encoder and decoder names.
        seed (int): base seed; trial ``k`` uses ``seed + k``. (default: 0)
        pruning (bool): enable the median pruner. (default: True)
        timeout (float, optional): seconds after which a worker starts no new trial. (default: None)
        threads (int): torch threads per worker. (default: 1)
        heartbeat_interval, grace_period (int): dead-worker detection (:mod:`experiments.storage`).
        objective (str, optional): ``'module:function'`` of a custom objective backend with signature
            ``f(params, seed, on_eval) -> {'val_mean': ..., ...}`` (stand-ins, experiments beyond the two tasks).
        n_startup_trials (int): complete trials before the pruner acts (:class:`optuna.pruners.MedianPruner`).
            (default: 5)
        n_warmup_steps (int, optional): evaluation steps of a trial before it may be pruned. :obj:`None`: a quarter
            of the first split/run (``params['epochs'] // 4``) when the config fixes ``epochs``, else 0.
        report_every (int, optional): report the validation metric to the study only at steps divisible by this
            (each report is one storage write; the journal file fsyncs every write). :obj:`None`: a multiple of
            ``eval_every`` giving about 20 reports per split/run when the config fixes ``epochs``, else 1.
    """
    config: Dict[str, Any]
    study_name: str
    storage: StorageSpec
    n_trials: int
    task: str = 'node'
    splits: Optional[List[int]] = None
    runs: int = 1
    encoder: Optional[str] = None
    decoder: Optional[str] = None
    seed: int = 0
    pruning: bool = True
    timeout: Optional[float] = None
    threads: int = 1
    heartbeat_interval: Optional[int] = DEFAULT_HEARTBEAT_INTERVAL
    grace_period: Optional[int] = DEFAULT_GRACE_PERIOD
    objective: Optional[str] = None
    n_startup_trials: int = 5
    n_warmup_steps: Optional[int] = None
    report_every: Optional[int] = None
    search: SearchSpace = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._auto_schedule()
        if self.task not in ('node', 'linkpred'):
            raise ValueError(f"unknown task {self.task!r}; expected 'node' or 'linkpred'")
        if self.task == 'linkpred' and (not self.encoder or not self.decoder) and self.objective is None:
            raise ValueError('link prediction tuning needs --encoder and --decoder')
        for name in ('n_trials', 'threads', 'runs', 'report_every'):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'{name} must be a positive integer, got {value!r}')
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f'timeout must be positive seconds, got {self.timeout!r}')
        if self.splits is not None:
            if len(self.splits) == 0 or any(not isinstance(s, int) or s < 0 for s in self.splits):
                raise ValueError(f'splits must be a non-empty list of non-negative split indices, got {self.splits!r}')
            if len(set(self.splits)) != len(self.splits):
                raise ValueError(f'duplicate split indices in {self.splits!r}')
        if not isinstance(self.config, Mapping):
            raise TypeError(f'config must be a mapping, got {type(self.config).__name__}')
        if 'search' not in self.config or not self.config['search']:
            raise KeyError(f'config for {self.config.get("dataset")}/{self.config.get("model")} has no `search:` '
                           f'section; add one (see experiments/search_space.py) or pass --config')
        params = self.config.get('params')
        if not isinstance(params, Mapping):
            raise TypeError(f'config `params` must be a mapping, got {type(params).__name__}')
        self.search = SearchSpace(self.config['search'], params=params, source='config search')

    def _auto_schedule(self) -> None:
        params = self.config.get('params') if isinstance(self.config, Mapping) else None
        search = self.config.get('search') or {} if isinstance(self.config, Mapping) else {}
        epochs = every = None
        if isinstance(params, Mapping) and 'epochs' not in search and 'eval_every' not in search:
            epochs, every = params.get('epochs'), params.get('eval_every', 1)
            if not (isinstance(epochs, int) and isinstance(every, int) and epochs > 0 and every > 0):
                epochs = every = None
        if self.report_every is None:
            self.report_every = every * max(1, round(epochs / every / 20)) if epochs else 1
        if self.n_warmup_steps is None:
            self.n_warmup_steps = epochs // 4 if epochs else 0
        if not isinstance(self.n_warmup_steps, int) or self.n_warmup_steps < 0:
            raise ValueError(f'n_warmup_steps must be a non-negative integer, got {self.n_warmup_steps!r}')

    def identity(self) -> Dict[str, Any]:
        """What the study optimises; stored in the study and checked on resume."""
        return {
            'task': self.task, 'dataset': self.config.get('dataset'), 'model': self.config.get('model'),
            'transform': self.config.get('transform'), 'encoder': self.encoder, 'decoder': self.decoder,
            'splits': sorted(self.splits) if self.splits is not None else None,  # the runner sorts them too
            'runs': self.runs if self.task == 'linkpred' else None,
            'base_params': {k: v for k, v in self.config['params'].items() if k not in self.search.distributions},
            'objective': self.objective,
        }


def default_study_name(task: str, dataset: str, model: Optional[str] = None, transform: Optional[str] = None,
                       encoder: Optional[str] = None, decoder: Optional[str] = None) -> str:
    """``<dataset>-<model>[-<transform>]`` (node classification) or ``linkpred-<dataset>-<encoder>-<decoder>[-...]``."""
    if task == 'linkpred':
        return f'linkpred-{dataset}-{encoder}-{decoder}' + (f'-{transform}' if transform else '')
    return f'{dataset}-{model}' + (f'-{transform}' if transform else '')


# ----------------------------------------------------------------------------------------------------------------
# objectives
def _import_callable(path: str) -> Callable:
    module, sep, name = path.partition(':')
    if not sep or not module or not name:
        raise ValueError(f"objective must look like 'package.module:function', got {path!r}")
    fn = getattr(importlib.import_module(module), name, None)
    if not callable(fn):
        raise AttributeError(f'{path!r}: {module} has no callable {name!r}')
    return fn


def build_objective(spec: TuneSpec) -> ObjectiveFn:
    """The objective backend of ``spec``: ``f(params, seed, on_eval) -> result`` with ``result['val_mean']``.

    * custom (``spec.objective = 'module:function'``): that function;
    * ``node``: :func:`experiments.runner.run` on ``spec.splits``, the dataset loaded once per worker;
    * ``linkpred``: :func:`experiments.linkpred_command.run_linkpred` with ``spec.runs`` runs, the graph loaded
      once per worker.
    """
    if spec.objective is not None:
        return _import_callable(spec.objective)
    cfg = spec.config
    cache: Dict[Any, Any] = {}
    if spec.task == 'linkpred':
        from experiments.linkpred_command import load_graph, run_linkpred

        def linkpred(params, seed, on_eval):
            options = dict(params.get('dataset_options') or {})
            key = repr(sorted(options.items()))
            if key not in cache:  # load the graph (or generate the synthetic one) once per worker and options
                cache.clear()
                cache[key] = load_graph(cfg['dataset'], **options)
            return run_linkpred(cfg['dataset'], spec.encoder, spec.decoder, params, spec.runs, seed=seed,
                                on_eval=on_eval, progress=False, transform=cfg.get('transform'), data=cache[key])
        return linkpred

    from experiments.runner import run

    def node(params, seed, on_eval):
        if 'data' not in cache:  # load (and copy out of the read-only mirror) once per worker process
            from graphite.datasets import load
            cache['data'] = load(cfg['dataset'])
        return run(cfg['dataset'], cfg['model'], cfg.get('transform'), params, spec.splits, seed=seed,
                   on_eval=on_eval, progress=False, data=cache['data'])
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
        params = {**copy.deepcopy(spec.config['params']), **sampled}
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

        start = time.perf_counter()
        result = self.backend(params, seed, on_eval)
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


# ----------------------------------------------------------------------------------------------------------------
# studies and workers
def _sampler(spec: TuneSpec, worker_index: int, existing: int, unique: bool) -> optuna.samplers.BaseSampler:
    seed = spec.seed * 1_000_003 + worker_index * 10_007 + existing
    if unique:  # concurrent workers (other processes or hosts) must not draw the same random start-up points
        seed += zlib.crc32(f'{socket.gethostname()}:{os.getpid()}:{time.time_ns()}'.encode())
    seed %= 2 ** 31
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True,
                                          n_startup_trials=min(10, max(2, spec.n_trials // 5)))


def _pruner(spec: TuneSpec) -> optuna.pruners.BasePruner:
    if not spec.pruning:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=spec.n_startup_trials, n_warmup_steps=spec.n_warmup_steps)


def _jsonable(value: Any) -> Any:
    return yaml.safe_load(yaml.safe_dump(value))  # tuples -> lists, numpy scalars rejected early


def create_or_load_study(spec: TuneSpec, worker_index: int = 0, unique_sampler: bool = False) -> optuna.Study:
    """Create ``spec.study_name`` in ``spec.storage`` or load it (resume), checking it optimises the same thing.

    The study's TPE sampler is seeded from ``(spec.seed, worker_index, trials already in the study)``, plus this
    host, process and time when ``unique_sampler`` (several concurrent workers: reproducible proposals are
    impossible there anyway, identical random start-up points must be avoided).

    Raises:
        ValueError: the existing study was created for a different task/dataset/model/transform/splits/params.
    """
    storage = open_storage(spec.storage, spec.heartbeat_interval, spec.grace_period)
    existing = 0
    try:
        existing = len(optuna.load_study(study_name=spec.study_name, storage=storage).get_trials(deepcopy=False))
    except KeyError:
        pass
    study = optuna.create_study(study_name=spec.study_name, storage=storage, direction='maximize',
                                load_if_exists=True, sampler=_sampler(spec, worker_index, existing, unique_sampler),
                                pruner=_pruner(spec))
    identity = _jsonable(spec.identity())
    attrs = study.user_attrs
    if 'identity' in attrs:
        if attrs['identity'] != identity:
            diff = {k: (attrs['identity'].get(k), identity.get(k)) for k in identity
                    if attrs['identity'].get(k) != identity.get(k)}
            raise ValueError(f'study {spec.study_name!r} in {spec.storage.display} was created for a different '
                             f'objective (stored vs requested: {diff}); use another --study name to start a new '
                             f'search')
        if attrs.get('search') != _jsonable(spec.search.to_dict()):
            warnings.warn(f'study {spec.study_name!r}: the search space changed since the study was created; '
                          f'earlier trials keep their values and TPE treats changed ranges as new distributions')
    else:
        study.set_user_attr('identity', identity)
        study.set_user_attr('search', _jsonable(spec.search.to_dict()))
        study.set_user_attr('config', _jsonable(dict(spec.config)))
        study.set_user_attr('seed', spec.seed)
    return study


def count_trials(study: optuna.Study) -> int:
    """Number of trials that count toward ``--trials`` (complete, pruned, running, waiting)."""
    return len(study.get_trials(deepcopy=False, states=COUNTED_STATES))


def _set_threads(threads: int) -> None:
    """Pin this process to ``threads`` intra-op threads (torch and OpenMP/MKL).

    The environment variables cover a torch imported later (OpenMP reads them when it starts); torch itself is not
    imported here, so a stand-in objective does not pay for it.
    """
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = str(threads)
    torch = sys.modules.get('torch')
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def run_worker(spec: TuneSpec, worker_index: int = 0, progress: bool = False,
               backend: Optional[ObjectiveFn] = None, unique_sampler: bool = False) -> int:
    """Run trials of ``spec``'s study until it holds ``spec.n_trials`` counted trials or the timeout passes.

    This is what each worker process (local or on another host) runs. Exceptions raised by the objective stop
    the worker after the trial is recorded as ``FAIL`` (a bug should not burn the whole budget), except
    :data:`CAUGHT` ones (divergence); those and NaN values are recorded as ``FAIL`` and the worker stops after
    :data:`MAX_CONSECUTIVE_FAILURES` failed trials in a row.

    Args:
        spec (TuneSpec): the search.
        worker_index (int): this worker's index (seeds its sampler). (default: 0)
        progress (bool): show a tqdm bar over the study's trials. (default: False)
        backend (callable, optional): objective backend (default: :func:`build_objective`).
        unique_sampler (bool): seed the sampler per process (see :func:`create_or_load_study`). (default: False)

    Returns:
        the number of trials this worker ran.
    """
    _set_threads(spec.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = create_or_load_study(spec, worker_index, unique_sampler)
    objective = TrialObjective(spec, backend)
    _set_threads(spec.threads)  # again: building the objective may have imported torch
    deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=spec.n_trials, initial=min(count_trials(study), spec.n_trials), desc=spec.study_name,
                   unit='trial', dynamic_ncols=True)
    ran = failures = 0
    try:
        while deadline is None or time.monotonic() < deadline:
            if count_trials(study) >= spec.n_trials:
                break
            finished: List[optuna.trial.FrozenTrial] = []
            try:
                study.optimize(objective, n_trials=1, catch=CAUGHT, gc_after_trial=False,
                               callbacks=[lambda _study, frozen: finished.append(frozen)])
            except Exception:  # noqa: BLE001 - re-raised unless the trial was failed as stale by another worker
                if objective.stale_trial is None:
                    raise
                warnings.warn(f'trial #{objective.stale_trial} was marked FAIL by another worker (no heartbeat for '
                              f'{spec.grace_period} s) while this worker was running it; its result is discarded')
                finished.append(study.get_trials(deepcopy=False)[objective.stale_trial])
            ran += 1
            last = finished[-1]
            failures = failures + 1 if last.state == TrialState.FAIL else 0
            if failures >= MAX_CONSECUTIVE_FAILURES:
                raise RuntimeError(f'{failures} consecutive trials failed (last: #{last.number}); stopping this '
                                   f'worker. Check the objective (NaN metric?) and the study in '
                                   f'{spec.storage.display}')
            if bar is not None:
                bar.n = min(count_trials(study), spec.n_trials)
                best = best_trial_or_none(study)
                bar.set_postfix(best=f'{best.value:.4f}' if best else '-', refresh=False)
                bar.refresh()
    finally:
        if bar is not None:
            bar.close()
    return ran


def best_trial_or_none(study: optuna.Study):
    try:
        return study.best_trial
    except ValueError:  # no complete trial yet
        return None


def _worker_main(spec: TuneSpec, worker_index: int) -> None:
    """Entry point of a spawned worker process."""
    try:
        run_worker(spec, worker_index, progress=False, unique_sampler=True)
    except KeyboardInterrupt:
        sys.exit(130)


def tune(spec: TuneSpec, workers: int = 1, progress: bool = True, backend: Optional[ObjectiveFn] = None
         ) -> optuna.Study:
    """Run the search of ``spec`` with ``workers`` local processes and return the (reloaded) study.

    This process is worker 0 (with the progress bar); ``workers - 1`` fresh processes (``spawn``: no inherited
    torch thread pools or open database connections) run :func:`run_worker` on the same study next to it. Each
    worker uses ``spec.threads`` torch threads. If worker 0 fails or is interrupted, the others are interrupted
    too (their running trial is recorded as ``FAIL``, finished trials stay).

    Raises:
        RuntimeError: a worker process exited with an error.
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f'workers must be a positive integer, got {workers!r}')
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if workers > 1 and spec.storage.location.startswith('sqlite'):
        warnings.warn('SQLite serialises writers and may fail with "database is locked" under several workers; '
                      'the default journal-file storage (no --storage) is made for local parallel workers')
    study = create_or_load_study(spec)
    failed = fail_stale_trials(study)
    if failed:
        print(f'marked {len(failed)} stale trial(s) FAIL (no heartbeat for {spec.grace_period} s): '
              f'{", ".join(f"#{n}" for n in failed)}', file=sys.stderr)
    if workers == 1:
        # a database URL means other hosts may be running workers on the same study right now
        run_worker(spec, 0, progress=progress, backend=backend, unique_sampler=spec.storage.kind == 'rdb')
        return study
    if backend is not None:
        raise ValueError('a backend object cannot be sent to worker processes; pass spec.objective="module:fn"')
    ctx = multiprocessing.get_context('spawn')
    procs = [ctx.Process(target=_worker_main, args=(spec, i), name=f'graphite-tune-{i}', daemon=False)
             for i in range(1, workers)]
    for p in procs:
        p.start()
    try:
        # this process is worker 0: it already holds the imports (and, after its first trial, the dataset)
        run_worker(spec, 0, progress=progress, unique_sampler=True)
    except BaseException:
        for p in procs:  # let the other workers record their running trial as FAIL and stop (as on Ctrl-C)
            if p.is_alive():
                os.kill(p.pid, signal.SIGINT)
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.terminate()
                p.join()
        raise
    for p in procs:
        p.join()
    bad = [(p.name, p.exitcode) for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError(f'worker(s) failed: {bad}; the study keeps every finished trial, re-run to continue')
    return study


# ----------------------------------------------------------------------------------------------------------------
# results
def summarize(study: optuna.Study) -> str:
    """A human-readable summary: trial counts by state and the best trial (params, validation, test, seed)."""
    trials = study.get_trials(deepcopy=False)
    counts = {s.name: sum(t.state == s for t in trials) for s in TrialState}
    lines = [f'study {study.study_name}: {len(trials)} trials (' +
             ', '.join(f'{n.lower()} {c}' for n, c in counts.items() if c) + ')']
    best = best_trial_or_none(study)
    if best is None:
        lines.append('no complete trial yet')
        return '\n'.join(lines)
    ua = best.user_attrs
    metric = ua.get('metric', 'metric')
    test = f', test {metric} {ua["test_mean"]:.4f}' + (f' +- {ua["test_std"]:.4f}' if 'test_std' in ua else '') \
        if 'test_mean' in ua else ''
    lines.append(f'best trial #{best.number}: validation {metric} {best.value:.4f}{test}, seed {ua.get("seed")}, '
                 f'{ua.get("seconds", float("nan")):.1f} s')
    width = max(len(k) for k in best.params) if best.params else 0
    for k, v in best.params.items():
        lines.append(f'  {k:<{width}} = {v!r}')
    return '\n'.join(lines)


def _atomic_write(path: Path, write: Callable[[str], None], suffix: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.stem}.', suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_plots(study: optuna.Study, out_dir: Path) -> Dict[str, Path]:
    """Save the optimisation history and the parameter importances of ``study`` into ``out_dir``.

    PNG files via :mod:`optuna.visualization.matplotlib`; interactive HTML via :mod:`optuna.visualization` when
    plotly is installed. Importances (fANOVA) need at least two complete trials and are skipped otherwise.

    Returns:
        name -> path of every file written.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from optuna import visualization as vis
    from optuna.visualization import matplotlib as vis_mpl

    out_dir = Path(out_dir)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    plots = [('optimization_history', vis_mpl.plot_optimization_history, vis.plot_optimization_history, 1)]
    if len({tuple(sorted(t.params.items())) for t in complete}) >= 2 and study.best_trial.params:
        plots.append(('param_importances', vis_mpl.plot_param_importances, vis.plot_param_importances, 2))
    written: Dict[str, Path] = {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
        for name, mpl_fn, plotly_fn, need in plots:
            if len(complete) < need:
                continue
            ax = mpl_fn(study)
            fig = (ax.flat[0] if hasattr(ax, 'flat') else ax).figure
            fig.set_size_inches(8, 5)
            fig.tight_layout()
            png = out_dir / f'{name}.png'
            _atomic_write(png, lambda tmp: fig.savefig(tmp, format='png', dpi=110), '.png')
            plt.close(fig)
            written[f'{name}.png'] = png
            if vis.is_available():
                html = out_dir / f'{name}.html'
                figure = plotly_fn(study)
                _atomic_write(html, lambda tmp: figure.write_html(tmp, include_plotlyjs='cdn'), '.html')
                written[f'{name}.html'] = html
    return written


def best_config(study: optuna.Study, config: Mapping[str, Any]) -> Dict[str, Any]:
    """``config`` with ``params`` set to the best trial's values (the ``search`` section is kept)."""
    best = study.best_trial
    out = {k: copy.deepcopy(v) for k, v in config.items() if k != 'path'}  # `path`: where load_config found it
    unknown = set(best.params) - set(out.get('params', {}))
    if unknown:
        raise KeyError(f'best trial #{best.number} has parameters {sorted(unknown)} that are not in the config params')
    # stepped floats come back as low + k * step (0.6000000000000001): print them at 12 significant digits
    tuned = {k: float(f'{v:.12g}') if getattr(best.distributions[k], 'step', None) and isinstance(v, float) else v
             for k, v in best.params.items()}
    out['params'] = {**out['params'], **tuned}
    ua = best.user_attrs
    note = (f'tuned by graphite tune: study {study.study_name}, best of {len(study.trials)} trials (#{best.number}, '
            f'validation {ua.get("metric", "metric")} {best.value:.4f}, seed {ua.get("seed")}')
    if 'test_mean' in ua:
        note += f', test {ua["test_mean"]:.4f}'
    note += ')'
    out['description'] = f'{out["description"].rstrip()} | {note}' if out.get('description') else note
    return out


def export_best(study: optuna.Study, config: Mapping[str, Any], path: Path) -> Path:
    """Write :func:`best_config` as YAML to ``path`` atomically; ``graphite run --config path`` runs it as is."""
    path = Path(path)
    data = best_config(study, config)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)

    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            f.write(text)
    _atomic_write(path, write, '.yaml')
    return path
