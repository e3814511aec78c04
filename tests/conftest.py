"""Shared pytest fixtures.

* ``make_graph``: factory of small seeded random graphs (binary or continuous features, labels with optional
  unlabelled nodes, ``[N, S]`` split masks).
* ``data_root``: the raw-data mirror (``GRAPHITE_DATA``); tests using it skip with a reason when it is unset.
* ``benchmark``: ``benchmark(name)`` -> ``graphite.datasets.load(name)``, cached for the session (needs the mirror).
"""
from __future__ import annotations

import os
from typing import Dict, Optional

import pytest
import torch
from torch_geometric.data import Data


def random_graph(num_nodes: int = 30, num_features: int = 12, num_edges: int = 80, density: float = 0.2,
                 num_classes: int = 3, unlabelled: float = 0.0, continuous: bool = False, num_splits: int = 2,
                 seed: int = 0, self_loops: bool = True) -> Data:
    """A seeded random graph: ``x`` binary with the given density (or standard normal when ``continuous``),
    ``edge_index`` uniformly random (directed, may repeat and contain self-loops), ``y`` in ``[0, C)`` with a
    fraction ``unlabelled`` set to ``-1``, ``train_mask``/``val_mask``/``test_mask`` bool ``[N, num_splits]``."""
    g = torch.Generator().manual_seed(seed)
    if continuous:
        x = torch.randn(num_nodes, num_features, generator=g)
    else:
        x = (torch.rand(num_nodes, num_features, generator=g) < density).float()
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=g)
    if not self_loops:
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    y = torch.randint(0, num_classes, (num_nodes,), generator=g)
    if unlabelled > 0:
        y[torch.rand(num_nodes, generator=g) < unlabelled] = -1
    r = torch.rand(num_nodes, num_splits, generator=g)
    return Data(x=x, edge_index=edge_index, y=y, train_mask=r < 0.5, val_mask=(r >= 0.5) & (r < 0.75),
                test_mask=r >= 0.75, num_nodes=num_nodes)


@pytest.fixture
def make_graph():
    """Factory fixture: ``make_graph(**kw)`` -> :func:`random_graph` (see its arguments)."""
    return random_graph


@pytest.fixture(scope='session')
def data_root() -> str:
    """The raw-data mirror from ``GRAPHITE_DATA``; skips the test when it is not set or not a directory."""
    root = os.environ.get('GRAPHITE_DATA', '')
    if not root or not os.path.isdir(root):
        pytest.skip('GRAPHITE_DATA is not set to the raw-data mirror (e.g. export GRAPHITE_DATA=../shared/data)')
    return root


@pytest.fixture(scope='session')
def benchmark(data_root):
    """``benchmark(name)`` -> the :class:`~torch_geometric.data.Data` of ``graphite.datasets.load(name)``, loaded once
    per session (tests must not modify it in place)."""
    from graphite import datasets
    cache: Dict[str, Data] = {}

    def load(name: str, root: Optional[str] = None) -> Data:
        if name not in cache:
            cache[name] = datasets.load(name, root=root)
        return cache[name]
    return load
