"""Studies and workers: create or resume a study, run trials in one or several processes until it is full.

:func:`create_or_load_study` opens the study with a seeded TPE sampler (``constant_liar=True``) and the median
pruner, and refuses to resume a study created for another objective. :func:`run_worker` is what every worker
process (local or on another host) runs; :func:`tune` starts ``workers - 1`` spawned processes next to the current
one and stops them together on an error or Ctrl-C.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
import warnings
import zlib
from typing import Any, Callable, List, Optional, Tuple

import optuna
import yaml
from optuna.trial import TrialState

from graphite.cli.tuning.objective import ObjectiveFn, TrialObjective
from graphite.cli.tuning.spec import TuneSpec
from graphite.cli.tuning.storage import fail_stale_trials, open_storage

__all__ = ['CAUGHT', 'COUNTED_STATES', 'MAX_CONSECUTIVE_FAILURES', 'best_trial_or_none', 'count_trials',
           'create_or_load_study', 'run_worker', 'tune']

#: trial states that count toward the requested number of trials
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
#: objective exceptions recorded as a FAIL trial without stopping the worker (a diverging configuration: the runner
#: raises FloatingPointError on a non-finite loss); any other exception stops the worker
CAUGHT = (FloatingPointError,)
#: a worker gives up after this many consecutive failed trials of its own (e.g. a diverging objective -> NaN)
MAX_CONSECUTIVE_FAILURES = 5


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


def read_configs(search, paths) -> List[Tuple[str, dict]]:
    """``(path, searched values)`` of each config file in ``paths`` (its ``params``, e.g. an earlier study's exported
    winner), every value checked against ``search`` (:meth:`SearchSpace.values_of`) before anything is written."""
    from graphite.cli.config import read_mapping

    out = []
    for path in paths:
        params = read_mapping(str(path)).get('params')  # with its `extends:` resolved
        if not isinstance(params, dict):
            raise ValueError(f'{path}: no `params:` mapping to enqueue')
        out.append((str(path), search.values_of(params, str(path))))
    return out


def enqueue_configs(study: optuna.Study, configs: List[Tuple[str, dict]]) -> int:
    """Enqueue each ``(path, values)`` of :func:`read_configs` as a trial that the next worker evaluates before
    sampling (Optuna's ``enqueue_trial``); a configuration the study already holds is not enqueued again. Returns
    the number of trials enqueued."""
    before = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    for path, values in configs:
        study.enqueue_trial(values, user_attrs={'enqueued_from': path}, skip_if_exists=True)
    return len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,))) - before


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
               backend: Optional[ObjectiveFn] = None, unique_sampler: bool = False,
               keep_going: Optional[Callable[[], bool]] = None) -> int:
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
        keep_going (callable, optional): asked before each new trial; ``False`` ends the worker (a spawned worker
            stops when its main process is gone). (default: always go on)

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
            if count_trials(study) >= spec.n_trials or (keep_going is not None and not keep_going()):
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
    from graphite.cli.termination import EXIT_CODE, Terminated, sigterm_interrupts
    parent = os.getppid()
    try:
        with sigterm_interrupts(stop_once=True):  # SIGTERM to the whole job: record the running trial FAIL
            # a main process killed outright (SIGKILL) cannot stop its workers: each ends after its running trial
            run_worker(spec, worker_index, progress=False, unique_sampler=True,
                       keep_going=lambda: os.getppid() == parent)
    except Terminated:
        sys.exit(EXIT_CODE)
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
