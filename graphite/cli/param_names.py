"""Dotted parameter names: ``name`` is ``params[name]``, ``head.key`` is ``params[head][key]`` (e.g.
``transform_options.min_count``, one option of the GRAPHITE transform). Used by ``--set`` overrides
(:func:`graphite.cli.config.load_config`) and by search spaces (:mod:`graphite.cli.tuning.search_space`)."""
from __future__ import annotations

import copy
from typing import Any, Dict, Mapping

__all__ = ['apply_values', 'lookup']


def apply_values(params: Mapping[str, Any], values: Mapping[str, Any]) -> Dict[str, Any]:
    """A copy of ``params`` with ``values`` set: ``name`` replaces ``params[name]``, ``head.key`` sets ``key`` in a
    copy of the mapping ``params[head]`` (its other keys kept; a missing or null ``head`` starts empty)."""
    out = copy.deepcopy(dict(params))
    for name, value in values.items():
        head, dot, key = name.partition('.')
        if dot:
            out[head] = {**(out.get(head) or {}), key: value}
        else:
            out[name] = value
    return out


def lookup(params: Mapping[str, Any], name: str) -> Any:
    """``params[name]``, or ``params[head][key]`` for ``name = 'head.key'``.

    Raises:
        KeyError: no such value.
    """
    head, dot, key = name.partition('.')
    if not dot:
        return params[name]
    inner = params.get(head) or {}
    if not isinstance(inner, Mapping) or key not in inner:
        raise KeyError(name)
    return inner[key]
