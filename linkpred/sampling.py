r"""Neighbour sampling for PyG's :class:`~torch_geometric.loader.LinkNeighborLoader` without ``pyg-lib`` or
``torch-sparse``: the sampler is graphite's one public sampler, :class:`graphite.sampling.NeighborSampler` (pure
PyTorch when PyG's own sampling is not installed, with a fan-out cap for feature nodes); this module only builds
the link loader around it. ``TorchNeighborSampler`` and ``sample_neighbors`` are kept as names for it.
"""
from __future__ import annotations

from typing import List, Optional

from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import LinkNeighborLoader

from graphite.sampling import NeighborSampler, sample_neighbors

__all__ = ['TorchNeighborSampler', 'link_neighbor_loader', 'sample_neighbors']

#: the graphite sampler under its former linkpred name
TorchNeighborSampler = NeighborSampler


def link_neighbor_loader(data: Data, num_neighbors: List[int], edge_label_index: Tensor, batch_size: int = 1024,
                         shuffle: bool = True, neg_sampling_ratio: float = 1.0, edge_label: Optional[Tensor] = None,
                         replace: bool = False, feature_fanout=None, **kwargs) -> LinkNeighborLoader:
    """A :class:`~torch_geometric.loader.LinkNeighborLoader` over ``edge_label_index`` using
    :class:`graphite.sampling.NeighborSampler`; ``neg_sampling_ratio`` uniform negatives per positive (binary
    labels in ``batch.edge_label``, pairs in ``batch.edge_label_index``, local ids); ``feature_fanout`` caps the
    fan-out of feature nodes on a GRAPHITE-transformed graph."""
    sampler = NeighborSampler(data, num_neighbors, replace=replace, feature_fanout=feature_fanout)
    return LinkNeighborLoader(data, num_neighbors, edge_label_index=edge_label_index, edge_label=edge_label,
                              neg_sampling_ratio=neg_sampling_ratio if neg_sampling_ratio else None,
                              batch_size=batch_size, shuffle=shuffle, neighbor_sampler=sampler, **kwargs)
