"""The adjacency a :class:`~graphite.nn.GraphiteConv` aggregates over: CSR + edge types + self-loops, built once."""
from __future__ import annotations

import weakref
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import Tensor

from graphite.ops import CSR

__all__ = ['TypedAdjacency', 'GRAPH_EDGE', 'FEATURE_EDGE', 'SELF_LOOP', 'cached_on']

#: edge type ids (``data.edge_type`` of the GRAPHITE transform uses 0 and 1; self-loops are added by the model)
GRAPH_EDGE, FEATURE_EDGE, SELF_LOOP = 0, 1, 2

# id(tensor) -> (weakref to tensor, {name: value}); entries die with their tensor.
_CACHE: Dict[int, Tuple[weakref.ref, Dict[str, object]]] = {}


def cached_on(tensor: Tensor, name: str, build: Callable[[], object]) -> object:
    """Return ``build()`` computed once per (``tensor`` object, ``name``) and reused while ``tensor`` is alive.

    Used to build sparse structures (CSR, normalisations) once per graph and share them between layers, training
    steps and the models of successive splits. The key is the identity of ``tensor`` (typically ``edge_index``):
    modifying a tensor in place after it was used is not detected (PyG tensors are treated as immutable).
    """
    key = id(tensor)
    entry = _CACHE.get(key)
    if entry is None or entry[0]() is not tensor:
        for k in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[k]
        entry = (weakref.ref(tensor), {})
        _CACHE[key] = entry
    store = entry[1]
    if name not in store:
        store[name] = build()
    return store[name]


class TypedAdjacency:
    r"""A graph with typed edges plus one self-loop per node, ready for :func:`graphite.ops.gated_spmm`.

    Entries ``0..E-1`` are the edges of ``edge_index`` (type ``edge_type``, or :data:`GRAPH_EDGE` when it is
    ``None``), entries ``E..E+N-1`` the self-loops :math:`(i, i)` of type :data:`SELF_LOOP`.

    Args:
        edge_index (LongTensor): ``[2, E]``, row 0 = source :math:`j`, row 1 = target :math:`i`.
        num_nodes (int): number of nodes :math:`N`.
        edge_type (LongTensor, optional): ``[E]`` with values in ``{0, 1}`` (0 graph edge, 1 feature edge).

    Attributes:
        csr (CSR): CSR of the ``E + N`` entries (rows = targets).
        edge_type (LongTensor): ``[E + N]`` type of each entry in ``edge_index`` order (self-loops last).
        src, dst (LongTensor): ``[E + N]`` source / target of each entry in ``edge_index`` order.
        num_nodes (int)
    """

    def __init__(self, edge_index: Tensor, num_nodes: int, edge_type: Optional[Tensor] = None):
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f'edge_index must have shape [2, E], got {tuple(edge_index.shape)}')
        if edge_index.dtype != torch.long:
            raise TypeError(f'edge_index must be a LongTensor, got {edge_index.dtype}')
        num_nodes = int(num_nodes)
        if num_nodes <= 0:
            raise ValueError('the graph is empty (num_nodes = 0)')
        E = edge_index.size(1)
        if E and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
            raise ValueError(f'edge_index has entries outside [0, {num_nodes})')
        device = edge_index.device
        edge_type_in = edge_type
        if edge_type is None:
            edge_type = torch.full((E,), GRAPH_EDGE, dtype=torch.long, device=device)
        else:
            if edge_type.dim() != 1 or edge_type.numel() != E:
                raise ValueError(f'edge_type must have shape [{E}] (one entry per edge), got {tuple(edge_type.shape)}')
            if E and (int(edge_type.min()) < 0 or int(edge_type.max()) > FEATURE_EDGE):
                raise ValueError('edge_type must contain only 0 (graph edge) and 1 (feature edge); self-loops '
                                 'are added by the model')
            edge_type = edge_type.long()
        loop = torch.arange(num_nodes, device=device)
        self.src = torch.cat([edge_index[0], loop])
        self.dst = torch.cat([edge_index[1], loop])
        self.edge_type = torch.cat([edge_type, torch.full((num_nodes,), SELF_LOOP, dtype=torch.long, device=device)])
        self.num_nodes = num_nodes
        self._edge_type_in = edge_type_in
        self.csr = CSR.from_edge_index(torch.stack([self.src, self.dst]), num_nodes)

    @classmethod
    def cached(cls, edge_index: Tensor, num_nodes: int, edge_type: Optional[Tensor] = None) -> 'TypedAdjacency':
        """Like the constructor, but built once per ``edge_index`` object (see :func:`cached_on`)."""
        key = f'typed_adjacency:{int(num_nodes)}:{id(edge_type) if edge_type is not None else None}'
        adj = cached_on(edge_index, key, lambda: cls(edge_index, num_nodes, edge_type))
        if adj._edge_type_in is not edge_type:  # a recycled id(): rebuild
            adj = cls(edge_index, num_nodes, edge_type)
            _CACHE[id(edge_index)][1][key] = adj
        return adj

    def degree(self, type_weight: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Entry weights :math:`w_{ji}` = ``type_weight[edge_type]`` and weighted in-degrees
        :math:`d_i = \sum_j w_{ji}` (self-loop included)."""
        w = type_weight[self.edge_type]
        deg = torch.zeros(self.num_nodes, dtype=w.dtype, device=w.device).index_add_(0, self.dst, w)
        return w, deg

    def normalized_weight(self, type_weight: Tensor) -> Tensor:
        r""":math:`w_{ji} / \sqrt{d_i d_j}` for every entry, in ``edge_index`` order (differentiable)."""
        w, deg = self.degree(type_weight)
        dinv = deg.clamp_min(1e-12).rsqrt()
        return w * dinv[self.src] * dinv[self.dst]

    def __repr__(self) -> str:
        counts = torch.bincount(self.edge_type, minlength=3).tolist()
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, graph_edges={counts[0]}, '
                f'feature_edges={counts[1]}, self_loops={counts[2]})')
