"""graphite: learning on heterophilic graphs with PyTorch Geometric.

>>> from graphite import Graphite            # the GRAPHITE transform (a torch_geometric BaseTransform)
>>> from graphite import homophily            # homophily measures and the before/after report

Submodules are imported on first use, so ``import graphite`` stays cheap.
"""
from __future__ import annotations

import importlib

__version__ = '0.1.0'
__all__ = ['Graphite', 'homophily', 'validation', 'layout', 'memo', 'sampling', 'datasets', 'ops', 'nn', 'metrics',
           'device', 'saved_model']

_LAZY_ATTRS = {'Graphite': ('graphite.transform', 'Graphite')}
_LAZY_MODULES = {'homophily', 'validation', 'layout', 'memo', 'sampling', 'datasets', 'ops', 'nn', 'transform',
                 'discretize', 'metrics', 'device', 'saved_model'}


def __getattr__(name: str):
    if name in _LAZY_ATTRS:
        module, attr = _LAZY_ATTRS[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        module = importlib.import_module(f'graphite.{name}')
        globals()[name] = module
        return module
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(list(globals()) + __all__)
