"""The adjacency a :class:`~graphite.nn.GraphiteConv` aggregates over: CSR + edge types + self-loops."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from graphite.layout import FEATURE_EDGE, GRAPH_EDGE, SELF_LOOP, check_typed_graph
from graphite.ops import CSR

__all__ = ['TypedAdjacency', 'GRAPH_EDGE', 'FEATURE_EDGE', 'SELF_LOOP']


class TypedAdjacency:
    r"""A graph with typed edges plus one self-loop per node, ready for :func:`graphite.ops.gated_spmm`.

    Entries ``0..E-1`` are the edges of ``edge_index`` (type ``edge_type``, or :data:`GRAPH_EDGE` when it is
    ``None``), entries ``E..E+N-1`` the self-loops :math:`(i, i)` of type :data:`SELF_LOOP`.

    Args:
        edge_index (LongTensor): ``[2, E]``, row 0 = source :math:`j`, row 1 = target :math:`i`.
        num_nodes (int): number of nodes :math:`N`.
        edge_type (LongTensor, optional): ``[E]`` with values in ``{0, 1}`` (:data:`~graphite.layout.GRAPH_EDGE`,
            :data:`~graphite.layout.FEATURE_EDGE`); checked by :func:`graphite.layout.check_typed_graph`.

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
        if edge_type is None:
            edge_type = torch.full((E,), GRAPH_EDGE, dtype=torch.long, device=device)
        else:
            check_typed_graph(edge_index, edge_type)
            edge_type = edge_type.long()
        loop = torch.arange(num_nodes, device=device)
        self.src = torch.cat([edge_index[0], loop])
        self.dst = torch.cat([edge_index[1], loop])
        self.edge_type = torch.cat([edge_type, torch.full((num_nodes,), SELF_LOOP, dtype=torch.long, device=device)])
        self.num_nodes = num_nodes
        self.csr = CSR.from_edge_index(torch.stack([self.src, self.dst]), num_nodes)
        self._type_onehot: Optional[Tensor] = None

    def type_onehot(self, dtype: torch.dtype) -> Tensor:
        """``[E + N, 3]`` constant one-hot of :attr:`edge_type` (built once per dtype)."""
        if self._type_onehot is None or self._type_onehot.dtype != dtype:
            self._type_onehot = torch.nn.functional.one_hot(self.edge_type, 3).to(dtype)
        return self._type_onehot

    def degree(self, type_weight: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Entry weights :math:`w_{ji}` = ``type_weight[edge_type]`` and weighted in-degrees
        :math:`d_i = \sum_j w_{ji}` (self-loop included).

        The per-entry weights are ``one_hot(edge_type) @ type_weight``, not ``type_weight[edge_type]``: the backward
        of that gather is an indexed accumulation of ``E + N`` gradients into 3 slots, which PyTorch's CUDA
        ``index_put_`` serialises (measured on an H200 with the paper-size Actor model: 64 of 93 ms per training
        step); the product's backward is a matrix-vector reduction."""
        w = self.type_onehot(type_weight.dtype) @ type_weight
        deg = torch.zeros(self.num_nodes, dtype=w.dtype, device=w.device).index_add_(0, self.dst, w)
        return w, deg

    def normalized_weight(self, type_weight: Tensor) -> Tensor:
        r""":math:`w_{ji} / \sqrt{d_i d_j}` for every entry, in ``edge_index`` order (differentiable)."""
        w, deg = self.degree(type_weight)
        dinv = deg.clamp_min(1e-12).rsqrt()
        # index_select (backward: index_add_) rather than advanced indexing (backward: the sorting index_put_)
        return w * dinv.index_select(0, self.src) * dinv.index_select(0, self.dst)

    def __repr__(self) -> str:
        counts = torch.bincount(self.edge_type, minlength=3).tolist()
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, graph_edges={counts[0]}, '
                f'feature_edges={counts[1]}, self_loops={counts[2]})')
