"""Experiment configurations: YAML files (bundled under ``graphite/cli/configs/``) and ``key=value`` overrides.

A config file is a mapping with the keys

* ``dataset`` (str), ``model`` (str), ``transform`` (``null`` or ``graphite``), optional ``description``;
* ``params``: model options (constructor arguments of the class in :data:`graphite.nn.MODELS`, without the
  channel sizes except ``hidden_channels``) and training options (:data:`TRAINING_DEFAULTS`), plus an optional
  ``transform_options`` mapping passed to :class:`graphite.Graphite`;
* ``search``: an Optuna search space, ``name: {type: float|int|categorical, low, high, log, step, choices}``;
* ``selection`` (optional): how the params were chosen (``method``, ``study``, ``trials``, ``cpu_hours``, ...;
  written by ``graphite tune --export``), copied into every result JSON;
* ``extends`` (optional): another config file this one varies (:func:`read_mapping`): its ``dataset``, ``model``,
  ``transform``, ``params`` and ``search`` are inherited, ``params`` key by key, and this file's keys win; its
  ``description`` and ``selection`` are not (they describe the other file). The path is relative to this file's
  folder; ``configs/<...>.yaml`` names a bundled config, as results record them. A result records the resolved
  ``params``, so it never depends on the file it extended.

Lookup order in :func:`load_config` (first existing file wins): an explicit ``path``;
``configs/<dataset>/<model>-graphite.yaml`` (only with ``transform='graphite'``); ``configs/<dataset>/<model>.yaml``;
``configs/default/<model>-graphite.yaml`` (only with ``transform='graphite'``); ``configs/default/<model>.yaml``,
all under :data:`CONFIG_DIR` (package data, read-only). Results record a bundled config as ``configs/...`` and any
other file as the path the user gave (:func:`config_label`), never a machine's absolute path.
"""
from __future__ import annotations

import copy
import inspect
import os
from typing import Any, Dict, Iterable, List, Optional, Set

import yaml

__all__ = ['CONFIG_DIR', 'TRAINING_DEFAULTS', 'TOP_LEVEL_KEYS', 'load_config', 'find_config', 'parse_override',
           'allowed_params', 'searchable_params', 'transform_option_names', 'validate_params', 'config_label',
           'ConfigError']

#: the bundled configs (package data): ``<dataset>/<model>.yaml``, ``default/<model>.yaml``, ``linkpred/<dataset>.yaml``
CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'configs')

#: training options understood by :func:`graphite.cli.runner.run` and their defaults
TRAINING_DEFAULTS: Dict[str, Any] = {
    'lr': 0.01,            # Adam learning rate
    'weight_decay': 5e-4,  # Adam weight decay (L2)
    'epochs': 500,         # maximum number of full-batch training steps (mini-batch: epochs) per split
    'patience': 100,       # stop after this many steps without a better validation metric (0 = never)
    'eval_every': 1,       # evaluate every this many steps
    'hidden_channels': 64,
    'batch_size': None,    # seed nodes per mini-batch (per rank with --distributed); None = full-batch training
    'fanout': None,        # neighbours per hop of a mini-batch, e.g. [15, 10] or '15,10' (default [15, 10])
    'feature_fanout': None,  # at most this many neighbours around a feature node per hop (default: no cap)
    'undirected': False,   # make the graph undirected before any transform (tunedGNN's preprocessing of *-filtered)
    'normalize_features': False,  # row-normalise x (PyG NormalizeFeatures) on the original graph; no transform
    'label_smoothing': 0.0,  # cross-entropy against (1 - e) * one-hot + e / C (torch's label_smoothing), 0 <= e < 1
    'ema_decay': 0.0,      # evaluate/checkpoint an EMA of the weights, w_avg <- d w_avg + (1 - d) w; 0 <= d < 1
    'transform_options': {},
}

TOP_LEVEL_KEYS = {'dataset', 'model', 'transform', 'params', 'search', 'description', 'selection', 'extends'}
_NOT_INHERITED = ('description', 'selection')  # they describe the other file
_SEARCH_KEYS = {'type', 'low', 'high', 'log', 'step', 'choices'}


class ConfigError(KeyError, ValueError):
    """A bad configuration (unknown key, bad value); both a :class:`KeyError` and a :class:`ValueError`."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def allowed_params(model: str) -> Set[str]:
    """Parameter names accepted in ``params`` for ``model``: its constructor options plus training options."""
    from graphite.nn import get_model
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    skip = ('self', 'in_channels', 'out_channels')
    names: Set[str] = set()
    for cls in get_model(model).__mro__:  # a constructor's **options go to its base class (graphite.nn.StackedGNN)
        if '__init__' not in vars(cls):
            continue
        params = inspect.signature(cls.__init__).parameters
        names |= {n for n, p in params.items() if n not in skip and p.kind in kinds}
        if not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values()):
            break
    return names | set(TRAINING_DEFAULTS)


def transform_option_names() -> List[str]:
    """The options of :class:`graphite.Graphite` (the keys ``transform_options`` may hold)."""
    from graphite.transform import Graphite
    return [p for p in inspect.signature(Graphite.__init__).parameters if p != 'self']


def searchable_params(model: str) -> Set[str]:
    """Names a ``search:`` section or a ``key=value`` override may use for ``model``: :func:`allowed_params` and
    ``transform_options.<option>`` for each option of :class:`graphite.Graphite`."""
    return allowed_params(model) | {f'transform_options.{o}' for o in transform_option_names()}


def validate_params(model: str, params: Dict[str, Any], where: str = 'params') -> None:
    """Raise :class:`ConfigError` naming every key of ``params`` that ``model`` does not understand."""
    if not isinstance(params, dict):
        raise ConfigError(f'{where} must be a mapping, got {type(params).__name__}')
    allowed = allowed_params(model)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ConfigError(f'unknown {where} key(s) {unknown} for model {model!r}; allowed: {sorted(allowed)}')
    if not isinstance(params.get('transform_options', {}), dict):
        raise ConfigError('transform_options must be a mapping')


def _validate_search(search: Any, model: str) -> None:
    if search is None:
        return
    if not isinstance(search, dict):
        raise ConfigError('search must be a mapping name -> {type, low, high, ...}')
    allowed = searchable_params(model)
    for name, spec in search.items():
        if name not in allowed:
            raise ConfigError(f'search space names unknown parameter {name!r} for model {model!r} (a transform '
                              f'option is searched as transform_options.<option>, one of {transform_option_names()})')
        if isinstance(spec, dict) and 'same_as' in spec:  # a tie to another searched parameter
            if set(spec) != {'same_as'} or spec['same_as'] not in search or 'same_as' in search[spec['same_as']]:
                raise ConfigError(f'search.{name}: {{same_as: X}} takes no other keys and X must be another searched '
                                  f'parameter with a type, got {spec!r}')
            continue
        if not isinstance(spec, dict) or spec.get('type') not in ('float', 'int', 'categorical'):
            raise ConfigError(f"search.{name} needs type float|int|categorical (or same_as), got {spec!r}")
        extra = set(spec) - _SEARCH_KEYS
        if extra:
            raise ConfigError(f'search.{name} has unknown key(s) {sorted(extra)}')
        if spec['type'] == 'categorical':
            if not spec.get('choices'):
                raise ConfigError(f'search.{name}: categorical needs a non-empty choices list')
        elif 'low' not in spec or 'high' not in spec or spec['low'] > spec['high']:
            raise ConfigError(f'search.{name}: {spec["type"]} needs low <= high')


def parse_override(item: str):
    """``'key=value'`` -> ``(key, value)`` with ``value`` parsed as YAML (numbers, booleans, lists, null)."""
    if '=' not in item:
        raise ConfigError(f'override {item!r} is not of the form key=value')
    key, value = item.split('=', 1)
    key = key.strip()
    if not key:
        raise ConfigError(f'override {item!r} has an empty key')
    return key, yaml.safe_load(value) if value.strip() else None


def config_label(path: str) -> str:
    """How a result records the config file at ``path``: ``configs/<...>.yaml`` for a bundled one (the same label in
    every installation), else ``path`` as given."""
    bundled = os.path.abspath(path)
    if os.path.commonpath([bundled, CONFIG_DIR]) == CONFIG_DIR:
        return os.path.relpath(bundled, os.path.dirname(CONFIG_DIR)).replace(os.sep, '/')
    return str(path)


def find_config(dataset: str, model: str, transform: Optional[str] = None) -> str:
    """Path of the config file used for ``dataset``/``model`` (see the module docstring for the lookup order)."""
    model = model.lower()
    candidates = []
    for folder in (dataset, 'default'):
        if transform:
            candidates.append(os.path.join(CONFIG_DIR, folder, f'{model}-{transform}.yaml'))
        candidates.append(os.path.join(CONFIG_DIR, folder, f'{model}.yaml'))
    for path in candidates:
        if os.path.exists(path):
            return path
    raise ConfigError(f'no config for dataset={dataset!r} model={model!r}; looked for: {candidates}')


def _extended_path(path: str, base: Any) -> str:
    """The file named by ``extends: base`` in the config at ``path``."""
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f'{path}: extends must be the path of another config file, got {base!r}')
    near = os.path.join(os.path.dirname(os.path.abspath(path)), base)
    bundled = os.path.join(os.path.dirname(CONFIG_DIR), base)
    if not os.path.exists(near) and base.replace(os.sep, '/').startswith('configs/') and os.path.exists(bundled):
        return bundled
    return near


def read_mapping(path: str, _chain: tuple = ()) -> Dict[str, Any]:
    """The YAML mapping in the config file at ``path`` (``{}`` for an empty file), with an ``extends:`` resolved:
    the extended file's mapping (itself resolved) without its ``description`` and ``selection``, ``params`` merged
    key by key, this file's keys winning.

    Raises:
        ConfigError: the file (or one it extends) does not exist or does not hold a mapping, or the chain of
            ``extends`` comes back to a file.
    """
    if not os.path.exists(path):
        where = f' (extended by {_chain[-1]})' if _chain else ''
        raise ConfigError(f'config file {path!r} does not exist{where}')
    with open(path) as f:
        raw = yaml.safe_load(f) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f'{path}: a config must be a mapping, got {type(raw).__name__}')
    if 'extends' not in raw:
        return raw
    key = os.path.realpath(path)
    if key in _chain:
        raise ConfigError(f'{path}: extends comes back to itself ({" -> ".join(_chain + (key,))})')
    parent = read_mapping(_extended_path(path, raw['extends']), _chain + (key,))
    out = {k: v for k, v in parent.items() if k not in _NOT_INHERITED}
    for k, v in raw.items():
        if k == 'extends':
            continue
        if k == 'params' and isinstance(v, dict) and isinstance(out.get('params'), dict):
            v = {**out['params'], **v}
        out[k] = v
    return out


def read_identity(path: str):
    """``(dataset, model)`` named by the config file at ``path`` (for ``graphite run --config FILE``).

    Raises:
        ConfigError: the file does not name both.
    """
    raw = read_mapping(path)
    missing = [k for k in ('dataset', 'model') if not raw.get(k)]
    if missing:
        raise ConfigError(f'{path}: no {" / ".join(missing)} in the file: pass --{" and --".join(missing)}')
    return str(raw['dataset']), str(raw['model'])


def load_config(dataset: str, model: str, path: Optional[str] = None, overrides: Iterable[str] = (),
                transform: Optional[str] = None) -> Dict[str, Any]:
    """Load, validate and complete a configuration.

    Args:
        dataset (str): dataset name (recorded in the result; selects the config folder).
        model (str): model name (a key of :data:`graphite.nn.MODELS`).
        path (str, optional): explicit YAML file; otherwise looked up as described in the module docstring.
        overrides (iterable of str): ``key=value`` items applied to ``params`` (validated like the file).
        transform (str, optional): ``'graphite'`` to prefer ``<model>-graphite.yaml`` files.

    Returns:
        dict with ``dataset``, ``model``, ``transform``, ``params`` (training defaults filled in), ``search``,
        ``description`` and ``path``.

    Raises:
        ConfigError: unknown top-level/params/search keys, malformed overrides, missing file.
        KeyError: unknown model.
    """
    from graphite.cli.param_names import apply_values
    from graphite.nn import get_model
    get_model(model)  # KeyError for unknown models
    if path is None:
        path = find_config(dataset, model, transform)
    raw = read_mapping(path)
    unknown = set(raw) - TOP_LEVEL_KEYS
    if unknown:
        raise ConfigError(f'{path}: unknown top-level key(s) {sorted(unknown)}; allowed: {sorted(TOP_LEVEL_KEYS)}')
    if raw.get('model') is not None and str(raw['model']).lower() != model.lower():
        raise ConfigError(f'{path} is a config for model {raw["model"]!r}, not {model!r}')
    params = copy.deepcopy(raw.get('params') or {})
    validate_params(model, params, where=f'{path}: params')
    allowed = searchable_params(model)
    for item in overrides:
        key, value = parse_override(item)
        if key.startswith('transform_options.') and key not in allowed:
            raise ConfigError(f'unknown transform option {key.partition(".")[2]!r} in override {key!r}; known: '
                              f'{", ".join(transform_option_names())}')
        if key not in allowed:
            raise ConfigError(f'unknown override key {key!r} for model {model!r}; allowed: '
                              f'{sorted(allowed_params(model))} and transform_options.<option>')
        params = apply_values(params, {key: value})  # transform_options.<option>: one option, the others kept
    full = copy.deepcopy(TRAINING_DEFAULTS)
    full.update(params)
    _validate_search(raw.get('search'), model)
    cfg_transform = raw.get('transform')
    if cfg_transform not in (None, 'graphite', 'none'):
        raise ConfigError(f"{path}: transform must be null or 'graphite', got {cfg_transform!r}")
    return {
        'dataset': dataset,
        'model': model.lower(),
        'transform': transform if transform is not None else (None if cfg_transform == 'none' else cfg_transform),
        'params': full,
        'search': copy.deepcopy(raw.get('search') or {}),
        'description': raw.get('description'),
        'selection': copy.deepcopy(raw.get('selection')),
        'path': config_label(path),
    }
