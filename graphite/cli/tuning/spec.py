"""What one Optuna search optimises: :class:`TuneSpec` (plain, picklable data for every worker) and the default
study name.

A spec names the task (node classification or link prediction), the config (fixed ``params`` plus the ``search:``
space, validated into a :class:`~graphite.cli.tuning.search_space.SearchSpace`), the splits or runs each trial
trains on, the storage and the schedule (trials, timeout, threads, pruning warm-up, report interval). Its
:meth:`TuneSpec.identity` is stored in the study, so a resumed search cannot silently change its objective.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from graphite.cli.tuning.search_space import SearchSpace
from graphite.cli.tuning.storage import DEFAULT_GRACE_PERIOD, DEFAULT_HEARTBEAT_INTERVAL, StorageSpec

__all__ = ['TuneSpec', 'IDENTITY_KEYS', 'default_study_name']

#: study user attributes that define the objective; a resumed study must match them
IDENTITY_KEYS = ('task', 'dataset', 'model', 'transform', 'encoder', 'decoder', 'splits', 'runs', 'base_params',
                 'objective')


@dataclass
class TuneSpec:
    """Everything a worker process needs to run trials of one study (plain data, so it pickles to workers).

    Args:
        config (dict): the experiment config (``dataset``, ``model``, ``transform``, ``params``, ``search``...).
        study_name (str): the study's name.
        storage (StorageSpec): where the study lives (:func:`graphite.cli.tuning.storage.resolve_storage`).
        n_trials (int): total number of counted trials the study should reach.
        task (str): ``'node'`` (node classification through :func:`graphite.cli.runner.run`) or ``'linkpred'``
            (:func:`linkpred.cli.command.run_linkpred`). (default: ``'node'``)
        splits (list of int, optional): split indices for node classification (:obj:`None`: all). (default: None)
        runs (int): runs per trial for link prediction. (default: 1)
        encoder, decoder (str, optional): link-prediction encoder and decoder names.
        seed (int): base seed; trial ``k`` uses ``seed + k``. (default: 0)
        pruning (bool): enable the median pruner. (default: True)
        timeout (float, optional): seconds after which a worker starts no new trial. (default: None)
        threads (int): torch threads per worker. (default: 1)
        device (str): device every trial trains on (:func:`graphite.device.resolve_device`). (default: ``'cpu'``)
        heartbeat_interval, grace_period (int): dead-worker detection (:mod:`graphite.cli.tuning.storage`).
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
    device: str = 'cpu'
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
                           f'section; add one (see graphite/cli/tuning/search_space.py) or pass --config')
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
