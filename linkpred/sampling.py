r"""Neighbour sampling in pure PyTorch, so PyG's :class:`~torch_geometric.loader.LinkNeighborLoader` works without
``pyg-lib`` or ``torch-sparse``.

Why: PyG 2.8's :class:`~torch_geometric.sampler.NeighborSampler` delegates the actual sampling to
``torch.ops.pyg.neighbor_sample`` (pyg-lib) or ``torch.ops.torch_sparse.neighbor_sample`` and raises
``ImportError: 'NeighborSampler' requires either 'pyg-lib' or 'torch-sparse'`` on the first batch when neither is
installed (pyg-lib has no wheel on PyPI for torch 2.13; torch-sparse is source-only). :class:`TorchNeighborSampler`
subclasses it and replaces only the homogeneous ``_sample`` step; everything else (seed handling, negative
sampling, ``filter_data``, ``edge_label_index`` remapping) is PyG's own.

Sampling (per hop :math:`\ell` with fan-out :math:`k_\ell`): for every node :math:`v` of the current frontier take
all of its in-neighbours if :math:`\deg(v) \le k_\ell` (or :math:`k_\ell < 0`), else :math:`k_\ell` of them uniformly
without replacement (``replace=False``: random keys, sort per node, keep the first :math:`k_\ell`) or with
replacement. Newly reached nodes form the next frontier. Output convention as pyg-lib (directional subgraph):
``node`` = seeds first then new nodes hop by hop, sampled edge :math:`u \to v` as ``row`` = local :math:`u`,
``col`` = local :math:`v`, ``edge`` = position in the sampler's CSC order. Randomness comes from the global torch
RNG (``torch.manual_seed`` makes it reproducible) or from ``generator``. Cost per hop:
:math:`O(\sum_{v \in \text{frontier}} \deg(v))` plus an :math:`O(N)` id map per batch.
"""
from __future__ import annotations

import warnings
from typing import List, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import LinkNeighborLoader
from torch_geometric.sampler import NeighborSampler, SamplerOutput

__all__ = ['TorchNeighborSampler', 'link_neighbor_loader', 'sample_neighbors']


def sample_neighbors(colptr: Tensor, row: Tensor, nodes: Tensor, k: int, replace: bool = False,
                     generator: Optional[torch.Generator] = None):
    """One hop: CSC positions ``[S]`` of the sampled in-edges of ``nodes`` and, per position, the index into
    ``nodes`` of its target. ``k < 0`` takes every neighbour."""
    start = colptr[nodes]
    deg = colptr[nodes + 1] - start
    if k < 0 or (not replace and (int(deg.max()) if deg.numel() else 0) <= k):
        seg = torch.repeat_interleave(torch.arange(nodes.numel()), deg)
        offs = torch.arange(seg.numel()) - torch.repeat_interleave(torch.cumsum(deg, 0) - deg, deg)
        return start[seg] + offs, seg
    if replace:
        has = deg > 0
        seg = torch.arange(nodes.numel())[has].repeat_interleave(k)
        r = torch.rand(seg.numel(), generator=generator)
        offs = (r * deg[seg]).long().clamp_max(deg[seg] - 1)
        return start[seg] + offs, seg
    seg = torch.repeat_interleave(torch.arange(nodes.numel()), deg)
    seg_start = torch.cumsum(deg, 0) - deg
    offs = torch.arange(seg.numel()) - seg_start[seg]
    key = seg.double() + torch.rand(seg.numel(), generator=generator, dtype=torch.float64)
    order = torch.argsort(key)                      # grouped by node, random order inside a node
    rank = torch.arange(seg.numel()) - seg_start[seg[order]]
    keep = order[rank < k]
    return start[seg[keep]] + offs[keep], seg[keep]


class TorchNeighborSampler(NeighborSampler):
    """:class:`~torch_geometric.sampler.NeighborSampler` whose homogeneous sampling step is pure PyTorch.

    Args:
        data (Data): the (homogeneous) graph to sample from.
        num_neighbors (list of int): fan-out per hop (``-1`` = all neighbours).
        replace (bool): sample with replacement.
        generator (torch.Generator, optional): RNG of the sampling (default: the global torch RNG).
    """

    def __init__(self, data: Data, num_neighbors: List[int], replace: bool = False,
                 generator: Optional[torch.Generator] = None):
        if not isinstance(data, Data):
            raise TypeError(f'TorchNeighborSampler supports homogeneous Data only, got {type(data).__name__}')
        with warnings.catch_warnings():  # PyG warns about the missing pyg-lib, which this class replaces
            warnings.simplefilter('ignore')
            super().__init__(data, num_neighbors=num_neighbors, replace=replace)
        self.generator = generator

    def _sample(self, seed: Tensor, seed_time: Optional[Tensor] = None, **kwargs) -> SamplerOutput:
        if isinstance(seed, dict):
            raise NotImplementedError('TorchNeighborSampler samples homogeneous graphs only')
        if seed_time is not None or self.disjoint:
            raise NotImplementedError('TorchNeighborSampler supports neither temporal nor disjoint sampling')
        mapping = torch.full((self.num_nodes,), -1, dtype=torch.long)
        mapping[seed] = torch.arange(seed.numel())
        nodes, rows, cols, edges = [seed], [], [], []
        num_nodes, num_edges = [seed.numel()], []
        frontier, total = seed, seed.numel()
        for k in self.num_neighbors.get_mapped_values():
            e, seg = sample_neighbors(self.colptr, self.row, frontier, int(k), self.replace, self.generator)
            nbr = self.row[e]
            new = torch.unique(nbr[mapping[nbr] < 0])
            mapping[new] = torch.arange(total, total + new.numel())
            rows.append(mapping[nbr])
            cols.append(mapping[frontier[seg]])
            edges.append(e)
            nodes.append(new)
            num_nodes.append(new.numel())
            num_edges.append(e.numel())
            frontier, total = new, total + new.numel()
        cat = (lambda xs: torch.cat(xs) if xs else torch.empty(0, dtype=torch.long))
        return SamplerOutput(node=torch.cat(nodes), row=cat(rows), col=cat(cols), edge=cat(edges), batch=None,
                             num_sampled_nodes=num_nodes, num_sampled_edges=num_edges)


def link_neighbor_loader(data: Data, num_neighbors: List[int], edge_label_index: Tensor, batch_size: int = 1024,
                         shuffle: bool = True, neg_sampling_ratio: float = 1.0, edge_label: Optional[Tensor] = None,
                         replace: bool = False, **kwargs) -> LinkNeighborLoader:
    """A :class:`~torch_geometric.loader.LinkNeighborLoader` over ``edge_label_index`` using
    :class:`TorchNeighborSampler`; ``neg_sampling_ratio`` uniform negatives per positive (binary labels in
    ``batch.edge_label``, pairs in ``batch.edge_label_index``, local ids)."""
    sampler = TorchNeighborSampler(data, num_neighbors, replace=replace)
    return LinkNeighborLoader(data, num_neighbors, edge_label_index=edge_label_index, edge_label=edge_label,
                              neg_sampling_ratio=neg_sampling_ratio if neg_sampling_ratio else None,
                              batch_size=batch_size, shuffle=shuffle, neighbor_sampler=sampler, **kwargs)
