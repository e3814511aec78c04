"""Optuna search spaces read from the ``search:`` section of an experiment config.

A config YAML (bundled ``graphite/cli/configs/*/*.yaml`` or any ``--config`` file) keeps the search space next to
the run settings, so tuning a model means editing YAML, not code::

    params:
      lr: 0.005
      hidden: 64
      dropout: 0.5
      norm: layer
    search:
      lr:      {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
      hidden:  {type: int, low: 16, high: 256, step: 16}
      dropout: {type: float, low: 0.0, high: 0.8}
      norm:    {type: categorical, choices: [none, layer, batch]}

Each entry becomes one Optuna distribution:

* ``float``: :class:`optuna.distributions.FloatDistribution` on ``[low, high]``, log-uniform when ``log: true``,
  discretised to ``low + k * step`` when ``step`` is given;
* ``int``: :class:`optuna.distributions.IntDistribution` on ``{low, low + step, ..., high}`` (``step`` defaults
  to 1), log-uniform when ``log: true``;
* ``categorical``: :class:`optuna.distributions.CategoricalDistribution` over ``choices`` (``None``, bools,
  numbers and strings);
* ``{same_as: other}``: no distribution of its own; the value of the searched parameter ``other`` is used (e.g.
  ``input_dropout: {same_as: dropout}`` keeps a model's dropouts tied, as FAGCN ties them), so a space can
  contain another model's space exactly.

A name ``head.key`` searches the option ``key`` of the mapping parameter ``head``, e.g.
``transform_options.min_count: {type: int, low: 1, high: 20, log: true}`` searches one option of the GRAPHITE
transform (:func:`graphite.cli.param_names.apply_values` writes it into ``params['transform_options']``, the other
options kept).

Everything is validated up front, with an error that names the parameter: unknown ``type`` or keys, missing or
non-numeric bounds, ``low > high``, ``log: true`` with ``low <= 0``, ``log`` together with ``step`` (Optuna
cannot sample a stepped log scale), non-positive ``step``, empty or duplicate ``choices``, and a searched name
that is not one of the config's ``params`` (its value could never reach the model).
"""
from __future__ import annotations

import math
from typing import Any, Dict, Iterable, Mapping, Optional

from graphite.cli.param_names import lookup

__all__ = ['SearchSpace']

_TYPES = ('float', 'int', 'categorical')
_KEYS = {
    'float': {'type', 'low', 'high', 'log', 'step'},
    'int': {'type', 'low', 'high', 'log', 'step'},
    'categorical': {'type', 'choices'},
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class SearchSpace:
    r"""A validated Optuna search space.

    Args:
        spec (Mapping[str, Mapping]): the ``search:`` section of a config: parameter name -> ``{type, low, high,
            log, step}`` (numeric) or ``{type: categorical, choices}``.
        params (Mapping[str, Any], optional): the config's ``params``; when given, every searched name must be one
            of its keys. (default: :obj:`None`, no check)
        source (str, optional): where ``spec`` came from (a file name), used in error messages.
            (default: ``'search'``)

    Raises:
        TypeError: ``spec`` or an entry is not a mapping, or a bound/choice has the wrong type.
        ValueError: an empty space, unknown ``type``/keys, ``low > high``, ``log`` with ``low <= 0``, ``log`` with
            ``step``, a non-positive ``step``, empty or duplicate ``choices``.
        KeyError: a searched name is not in ``params``.
    """

    def __init__(self, spec: Mapping[str, Any], params: Optional[Mapping[str, Any]] = None,
                 source: str = 'search') -> None:
        import optuna  # heavy: imported only when a search space is actually built

        self.source = source
        if not isinstance(spec, Mapping):
            raise TypeError(f'{source}: expected a mapping of parameter name -> distribution, got '
                            f'{type(spec).__name__}')
        if len(spec) == 0:
            raise ValueError(f'{source}: the search space is empty; add entries like '
                             f'`lr: {{type: float, low: 1.0e-4, high: 1.0e-1, log: true}}`')
        self.spec: Dict[str, Dict[str, Any]] = {}
        self.distributions: Dict[str, optuna.distributions.BaseDistribution] = {}
        self.tied: Dict[str, str] = {}  # name -> the searched parameter whose value it takes
        for name, entry in spec.items():
            where = f'{source}: parameter {name!r}'
            if not isinstance(name, str) or not name:
                raise TypeError(f'{source}: parameter names must be non-empty strings, got {name!r}')
            head, dot, _ = name.partition('.')
            if params is not None and dot and not (head in params and isinstance(params[head] or {}, Mapping)):
                raise KeyError(f'{where} searches an option of {head!r}, which is not a mapping among the config '
                               f'params ({", ".join(sorted(params)) or "none"})')
            if params is not None and not dot and name not in params:
                raise KeyError(f'{where} is searched but is not one of the config params '
                               f'({", ".join(sorted(params)) or "none"}); add a default value under `params:`')
            self.spec[name] = dict(entry) if isinstance(entry, Mapping) else entry
            if isinstance(entry, Mapping) and 'same_as' in entry:
                if set(entry) != {'same_as'}:
                    raise ValueError(f'{where}: `same_as` takes no other keys, got '
                                     f'{", ".join(sorted(map(str, entry)))}')
                self.tied[name] = entry['same_as']
                continue
            self.distributions[name] = self._distribution(where, entry)
        for name, target in self.tied.items():
            if target not in self.distributions:
                raise ValueError(f'{source}: parameter {name!r} is `same_as: {target!r}`, which is not a searched '
                                 f'parameter with a distribution')

    @staticmethod
    def _distribution(where: str, entry: Any):
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if not isinstance(entry, Mapping):
            raise TypeError(f'{where}: expected a mapping like {{type: float, low: ..., high: ...}}, '
                            f'got {type(entry).__name__} {entry!r}')
        kind = entry.get('type')
        if kind not in _TYPES:
            raise ValueError(f'{where}: unknown type {kind!r}; expected one of {", ".join(_TYPES)}')
        unknown = set(entry) - _KEYS[kind]
        if unknown:
            raise ValueError(f'{where}: unknown key(s) {", ".join(sorted(map(str, unknown)))} for type {kind!r}; '
                             f'allowed: {", ".join(sorted(_KEYS[kind]))}')

        if kind == 'categorical':
            choices = entry.get('choices')
            if not isinstance(choices, (list, tuple)) or len(choices) == 0:
                raise ValueError(f'{where}: categorical needs a non-empty list `choices`, got {choices!r}')
            for c in choices:
                if c is not None and not isinstance(c, (bool, int, float, str)):
                    raise TypeError(f'{where}: choice {c!r} has type {type(c).__name__}; choices must be null, '
                                    f'bool, int, float or str')
            keys = [(type(c), c) for c in choices]
            if len(set(keys)) != len(keys):
                raise ValueError(f'{where}: duplicate entries in choices {list(choices)!r}')
            return CategoricalDistribution(list(choices))

        for key in ('low', 'high'):
            if key not in entry:
                raise ValueError(f'{where}: type {kind!r} needs `{key}`')
            if not _is_number(entry[key]) or not math.isfinite(entry[key]):
                raise TypeError(f'{where}: `{key}` must be a finite number, got {entry[key]!r}')
        low, high = entry['low'], entry['high']
        log = entry.get('log', False)
        if not isinstance(log, bool):
            raise TypeError(f'{where}: `log` must be true or false, got {log!r}')
        step = entry.get('step')
        if low > high:
            raise ValueError(f'{where}: low ({low}) > high ({high})')
        if log and low <= 0:
            raise ValueError(f'{where}: log scale needs low > 0, got low={low}')
        if step is not None:
            if log:
                raise ValueError(f'{where}: `step` cannot be combined with `log: true` (Optuna samples a log '
                                 f'scale continuously); drop one of them')
            if not _is_number(step) or not step > 0:
                raise ValueError(f'{where}: `step` must be a positive number, got {step!r}')

        if kind == 'int':
            for key, value in (('low', low), ('high', high), ('step', step)):
                if value is not None and not (isinstance(value, int) or float(value).is_integer()):
                    raise TypeError(f'{where}: type int needs an integer `{key}`, got {value!r}')
            return IntDistribution(int(low), int(high), log=log, step=int(step) if step is not None else 1)
        return FloatDistribution(float(low), float(high), log=log, step=float(step) if step is not None else None)

    # ------------------------------------------------------------------------------------------------------------
    def suggest(self, trial) -> Dict[str, Any]:
        """Sample one value per parameter from ``trial`` (an :class:`optuna.trial.Trial`)."""
        from optuna.distributions import CategoricalDistribution, IntDistribution

        values: Dict[str, Any] = {}
        for name, d in self.distributions.items():
            if isinstance(d, CategoricalDistribution):
                values[name] = trial.suggest_categorical(name, d.choices)
            elif isinstance(d, IntDistribution):
                values[name] = trial.suggest_int(name, d.low, d.high, step=d.step, log=d.log)
            else:
                values[name] = trial.suggest_float(name, d.low, d.high, step=d.step, log=d.log)
        return self.with_tied(values)

    def with_tied(self, values: Mapping[str, Any]) -> Dict[str, Any]:
        """``values`` (sampled parameters, e.g. a trial's ``params``) with every ``same_as`` parameter added."""
        out = dict(values)
        for name, target in self.tied.items():
            if target in out:
                out[name] = out[target]
        return out

    def values_of(self, params: Mapping[str, Any], source: str = 'params') -> Dict[str, Any]:
        """The searched values of a full configuration ``params`` (e.g. an earlier study's winner), to enqueue as a
        trial: every distribution's value, checked to lie in its distribution, and every ``same_as`` parameter
        checked to equal its target.

        Raises:
            KeyError: ``params`` has no value for a searched parameter.
            ValueError: a value outside its distribution, or a tied parameter that differs from its target.
        """
        values: Dict[str, Any] = {}
        for name, d in self.distributions.items():
            try:
                value = lookup(params, name)
            except KeyError:
                raise KeyError(f'{source}: no value for the searched parameter {name!r}') from None
            try:
                inside = d._contains(d.to_internal_repr(value))
            except (TypeError, ValueError):
                inside = False
            if not inside:
                raise ValueError(f'{source}: {name}={value!r} is outside the search space ({self.spec[name]})')
            values[name] = value
        for name, target in self.tied.items():
            try:
                value = lookup(params, name)
            except KeyError:
                continue
            if value != values[target]:
                raise ValueError(f'{source}: {name}={value!r} differs from {target}={values[target]!r}, '
                                 f'which the search space ties it to (same_as)')
        return values

    def names(self) -> Iterable[str]:
        return [*self.distributions.keys(), *self.tied.keys()]

    def to_dict(self) -> Dict[str, Dict[str, Any]]:
        """The validated spec as plain data (JSON/YAML serialisable), e.g. to store in the study's attributes."""
        return {name: dict(entry) for name, entry in self.spec.items()}

    def __len__(self) -> int:
        return len(self.distributions) + len(self.tied)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({", ".join(self.distributions)})'
