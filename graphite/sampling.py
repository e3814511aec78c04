r"""Neighbour sampling for PyG's loaders, without ``pyg-lib`` or ``torch-sparse``, with a fan-out cap for hubs.

PyG 2.8's :class:`~torch_geometric.sampler.NeighborSampler` delegates the sampling step to ``pyg-lib`` or
``torch-sparse`` and raises ``ImportError: 'NeighborSampler' requires either 'pyg-lib' or 'torch-sparse'`` on the
first batch when neither is installed (``pyg-lib`` has no wheel on PyPI for every torch version; ``torch-sparse``
is source-only). :class:`NeighborSampler` subclasses it and replaces only the homogeneous sampling step when needed;
seed handling, ``filter_data`` (every node and edge attribute sliced, ``n_id``/``e_id``), negative sampling of
:class:`~torch_geometric.loader.LinkNeighborLoader` and so on stay PyG's own. Pass it as ``neighbor_sampler=`` to
:class:`~torch_geometric.loader.NeighborLoader` or :class:`~torch_geometric.loader.LinkNeighborLoader`, or use
:func:`neighbor_loader`:

.. code-block:: python

    from graphite.sampling import neighbor_loader

    data = Graphite()(data)                                   # feature nodes are hubs (one per feature column)
    loader = neighbor_loader(data, [15, 10], input_nodes=data.train_mask, batch_size=512, shuffle=True,
                             feature_fanout=5)                # at most 5 neighbours around a feature node
    for batch in loader:                                      # seeds first: batch.y[:batch.batch_size]
        out = model(batch.x, batch.edge_index, batch.edge_type)[:batch.batch_size]

Sampling (per hop :math:`\ell` with fan-out :math:`k_\ell`): every node :math:`v` of the current frontier keeps all
of its in-neighbours if :math:`\deg(v) \le k_\ell` (or :math:`k_\ell < 0`), else :math:`k_\ell` of them uniformly
without replacement (``replace=False``: random keys, sort per node, keep the first :math:`k_\ell`) or with
replacement. On a GRAPHITE-transformed graph (``node_type``), ``feature_fanout`` replaces :math:`k_\ell` by
:math:`\min(k_\ell, f_\ell)` for feature nodes, so a feature node shared by thousands of graph nodes brings at most
:math:`f_\ell` of them. Newly reached nodes form the next frontier. Output convention as pyg-lib (directional
subgraph): ``node`` = seeds first then new nodes hop by hop, sampled edge :math:`u \to v` as ``row`` = local
:math:`u`, ``col`` = local :math:`v`, ``edge`` = position in the sampler's CSC order. Randomness comes from the
global torch RNG (``torch.manual_seed`` makes it reproducible) or from ``generator``. Cost per hop:
:math:`O(\sum_{v \in \text{frontier}} \deg(v))` plus an :math:`O(N)` id map per batch.

With ``backend='auto'`` (default) PyG's own sampling (pyg-lib / torch-sparse) is used when it is installed and no
``feature_fanout`` is set; otherwise the pure-PyTorch step. Both draw uniform neighbourhoods of the same sizes.
"""
from __future__ import annotations

import warnings
from typing import List, Optional, Sequence, Union

import torch
import torch_geometric.typing
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader
from torch_geometric.sampler import NeighborSampler as PyGNeighborSampler
from torch_geometric.sampler import SamplerOutput

from graphite.layout import FEATURE_NODE, is_transformed

__all__ = ['NeighborSampler', 'neighbor_loader', 'sample_neighbors', 'pyg_sampling_available', 'BACKENDS']

BACKENDS = ('auto', 'torch', 'pyg')
Fanout = Union[int, Sequence[int], None]


def pyg_sampling_available() -> bool:
    """Whether PyG's own neighbour sampling can run (``pyg-lib`` or ``torch-sparse`` installed)."""
    return bool(torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE)


def sample_neighbors(colptr: Tensor, row: Tensor, nodes: Tensor, k: Union[int, Tensor], replace: bool = False,
                     generator: Optional[torch.Generator] = None, hubs: bool = True):
    """One hop: CSC positions ``[S]`` of the sampled in-edges of ``nodes`` and, per position, the index into
    ``nodes`` of its target. ``k`` is the fan-out, one int or one per node (``[len(nodes)]``); ``k < 0`` takes
    every neighbour. ``hubs``: nodes with more than ``HUB_FACTOR * k`` neighbours draw theirs directly (uniform, in
    ``O(k)``) instead of sorting all of them; ``False`` sorts every node's neighbours."""
    start = colptr[nodes]
    deg = colptr[nodes + 1] - start
    k = torch.full_like(deg, k) if not isinstance(k, Tensor) else k.to(deg.dtype)
    take_all = (k < 0) | ((deg <= k) & (not replace))
    seg = torch.repeat_interleave(torch.arange(nodes.numel()), deg)
    seg_start = torch.cumsum(deg, 0) - deg
    offs = torch.arange(seg.numel()) - seg_start[seg]
    if bool(take_all.all()):
        return start[seg] + offs, seg
    if replace:
        some = ~take_all & (deg > 0)
        rep = torch.arange(nodes.numel())[some].repeat_interleave(k[some])
        r = torch.rand(rep.numel(), generator=generator)
        roffs = (r * deg[rep]).long().clamp_max(deg[rep] - 1)
        keep_all = take_all[seg]
        pos = torch.cat([start[seg[keep_all]] + offs[keep_all], start[rep] + roffs])
        tgt = torch.cat([seg[keep_all], rep])
        order = torch.argsort(tgt, stable=True)                 # grouped by target node
        return pos[order], tgt[order]
    hub = ~take_all & (deg > HUB_FACTOR * k)
    if hubs and bool(hub.any()):
        return _with_hubs(colptr, row, nodes, k, hub, generator)
    key = seg.double() + torch.rand(seg.numel(), generator=generator, dtype=torch.float64)
    order = torch.argsort(key)                                  # grouped by node, random order inside a node
    rank = torch.arange(seg.numel()) - seg_start[seg[order]]
    limit = torch.where(take_all, deg, k)
    keep = order[rank < limit[seg[order]]]
    return start[seg[keep]] + offs[keep], seg[keep]


#: a node with more than ``HUB_FACTOR * k`` neighbours draws its ``k`` directly instead of sorting all of them
HUB_FACTOR = 8


def _with_hubs(colptr: Tensor, row: Tensor, nodes: Tensor, k: Tensor, hub: Tensor,
               generator: Optional[torch.Generator]):
    """:func:`sample_neighbors` without replacement where the ``hub`` nodes (degree ``> HUB_FACTOR * k``) draw
    ``2k`` offsets with replacement, keep the distinct ones and ``k`` of those at random: a uniform ``k``-subset
    (the distinct set is exchangeable), at ``O(k)`` instead of ``O(degree)`` per hub. A hub left with fewer than
    ``k`` distinct draws (probability below ``1e-9`` at these degrees) goes through the exact path."""
    idx = torch.arange(nodes.numel())
    h = idx[hub]
    kh, start = k[h], colptr[nodes[h]]
    deg = colptr[nodes[h] + 1] - start
    rep = torch.arange(h.numel()).repeat_interleave(2 * kh)
    off = (torch.rand(rep.numel(), generator=generator, dtype=torch.float64) * deg[rep]).long()
    pair = torch.unique(rep * (int(deg.max()) + 1) + off)      # distinct (hub, offset), grouped by hub
    rep, off = pair // (int(deg.max()) + 1), pair % (int(deg.max()) + 1)
    distinct = torch.bincount(rep, minlength=h.numel())
    short = distinct < kh
    key = rep.double() + torch.rand(rep.numel(), generator=generator, dtype=torch.float64)
    order = torch.argsort(key)
    first = torch.cumsum(distinct, 0) - distinct
    rank = torch.arange(rep.numel()) - first[rep[order]]
    keep = order[(rank < kh[rep[order]]) & ~short[rep[order]]]
    rest = ~hub
    rest[h[short]] = True
    if bool(rest.any()):
        pos_r, seg_r = sample_neighbors(colptr, row, nodes[rest], k[rest], False, generator, hubs=False)
    else:
        pos_r, seg_r = torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
    return torch.cat([pos_r, start[rep[keep]] + off[keep]]), torch.cat([idx[rest][seg_r], h[rep[keep]]])


def _per_hop(value: Fanout, hops: int, name: str) -> Optional[List[int]]:
    if value is None:
        return None
    values = [int(value)] * hops if isinstance(value, int) else [int(v) for v in value]
    if len(values) != hops:
        raise ValueError(f'{name} must be an int or one value per hop ({hops}), got {value!r}')
    return values


class NeighborSampler(PyGNeighborSampler):
    """PyG's :class:`~torch_geometric.sampler.NeighborSampler` for homogeneous graphs that also runs without
    ``pyg-lib``/``torch-sparse`` and can cap the fan-out of feature nodes (see the module docstring).

    Args:
        data (Data): the (homogeneous) graph to sample from, e.g. a GRAPHITE-transformed graph.
        num_neighbors (list of int): fan-out per hop (``-1`` = all neighbours), e.g. ``[15, 10]``.
        replace (bool, optional): sample with replacement. (default: :obj:`False`)
        feature_fanout (int or list of int, optional): at most this many neighbours of a *feature* node
            (``data.node_type == 1``) per hop (one value for every hop, or one per hop). (default: no cap)
        generator (torch.Generator, optional): RNG of the pure-PyTorch step. (default: the global torch RNG)
        backend (str, optional): ``'auto'`` (PyG's sampling when installed and no ``feature_fanout``, else
            PyTorch), ``'torch'`` or ``'pyg'``. (default: ``'auto'``)
        **kwargs: passed to PyG's sampler (``subgraph_type``, ``disjoint``, ...; the PyTorch step supports the
            default directional, non-disjoint, non-temporal, unweighted sampling only).
    """

    def __init__(self, data: Data, num_neighbors: List[int], replace: bool = False, feature_fanout: Fanout = None,
                 generator: Optional[torch.Generator] = None, backend: str = 'auto', **kwargs):
        if not isinstance(data, Data):
            raise TypeError(f'NeighborSampler samples homogeneous Data only, got {type(data).__name__}')
        if backend not in BACKENDS:
            raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
        if backend == 'pyg' and not pyg_sampling_available():
            raise ImportError("backend='pyg' needs 'pyg-lib' or 'torch-sparse'; use backend='torch'")
        hops = len(num_neighbors)
        self.feature_fanout = _per_hop(feature_fanout, hops, 'feature_fanout')
        if self.feature_fanout is not None and not is_transformed(data):
            raise ValueError('feature_fanout needs a GRAPHITE-transformed graph (data.node_type)')
        if backend == 'pyg' and self.feature_fanout is not None:
            raise ValueError("feature_fanout needs backend='torch' (PyG's sampler has one fan-out per hop)")
        self.backend = backend if backend != 'auto' else (
            'pyg' if pyg_sampling_available() and self.feature_fanout is None else 'torch')
        with warnings.catch_warnings():  # PyG warns about a missing pyg-lib, which the torch step replaces
            warnings.simplefilter('ignore')
            super().__init__(data, num_neighbors=num_neighbors, replace=replace, **kwargs)
        self.generator = generator
        self.is_feature = (data.node_type == FEATURE_NODE).cpu() if self.feature_fanout is not None else None

    def _sample(self, seed: Tensor, seed_time: Optional[Tensor] = None, **kwargs) -> SamplerOutput:
        if self.backend == 'pyg':
            return super()._sample(seed, seed_time, **kwargs)
        if isinstance(seed, dict):
            raise NotImplementedError('the PyTorch sampling step handles homogeneous graphs only')
        if seed_time is not None or self.disjoint or self.edge_weight is not None or \
                self.subgraph_type.value != 'directional':
            raise NotImplementedError('the PyTorch sampling step supports neither temporal, disjoint, weighted nor '
                                      'induced sampling; install pyg-lib for those')
        seed = seed.cpu()
        mapping = torch.full((self.num_nodes,), -1, dtype=torch.long)
        mapping[seed] = torch.arange(seed.numel())
        nodes, rows, cols, edges = [seed], [], [], []
        num_nodes, num_edges = [seed.numel()], []
        frontier, total = seed, seed.numel()
        for hop, k in enumerate(self.num_neighbors.get_mapped_values()):
            k = int(k)
            if self.feature_fanout is not None:
                cap = self.feature_fanout[hop]
                capped = min(k, cap) if k >= 0 else cap
                k = torch.where(self.is_feature[frontier], capped, k)
            e, seg = sample_neighbors(self.colptr, self.row, frontier, k, self.replace, self.generator)
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


def neighbor_loader(data: Data, num_neighbors: List[int], input_nodes=None, batch_size: int = 1,
                    shuffle: bool = False, replace: bool = False, feature_fanout: Fanout = None,
                    generator: Optional[torch.Generator] = None, backend: str = 'auto',
                    **kwargs) -> NeighborLoader:
    """PyG's :class:`~torch_geometric.loader.NeighborLoader` with a :class:`NeighborSampler`: mini-batches of the
    ``num_neighbors``-hop sampled neighbourhoods of ``input_nodes`` (indices or a bool mask, e.g.
    ``data.train_mask``; seeds are the first ``batch.batch_size`` nodes of each batch). Further ``kwargs`` go to
    the loader (``num_workers``, ``transform``, ...)."""
    sampler = NeighborSampler(data, num_neighbors, replace=replace, feature_fanout=feature_fanout,
                              generator=generator, backend=backend)
    return NeighborLoader(data, num_neighbors, input_nodes=input_nodes, batch_size=batch_size, shuffle=shuffle,
                          replace=replace, neighbor_sampler=sampler, **kwargs)
