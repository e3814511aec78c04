"""H2GCN baseline (Zhu et al., "Beyond Homophily in Graph Neural Networks", NeurIPS 2020)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphite.memo import graph_memo
from graphite.nn.dropout import dropout
from graphite.nn.input_linear import InputLinear
from graphite.nn.normalized_adjacency import sym_normalized, two_hop_edges
from graphite.ops import spmm

__all__ = ['H2GCN']


class H2GCN(nn.Module):
    r"""H2GCN: ego embedding, separate aggregation of 1-hop and strict 2-hop neighbours (no self-loops),
    and a final combination of all intermediate representations.

    .. math::
        r^{(0)} &= \mathrm{ReLU}(W_e x), \\
        r^{(k)} &= \big[\hat A_1 r^{(k-1)} \,\Vert\, \hat A_2 r^{(k-1)}\big], \quad k = 1..K, \\
        \hat y &= W_o\, \mathrm{Dropout}\big([r^{(0)} \Vert r^{(1)} \Vert \dots \Vert r^{(K)}]\big),

    where :math:`\hat A_1, \hat A_2` are the symmetrically normalised adjacencies of the 1-hop graph and of the
    strict 2-hop graph (node pairs at distance exactly 2). Aggregations use :func:`graphite.ops.spmm`; both
    adjacencies are kept between calls with ``cached=True``.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): size of the ego embedding.
        out_channels (int): number of classes.
        num_layers (int, optional): number of rounds :math:`K`. (default: ``2``)
        dropout (float, optional): dropout before the output layer. (default: ``0.5``)
        max_two_hop_edges (int, optional): refuse graphs whose strict 2-hop graph has more entries (a
            GRAPHITE-transformed graph with high-degree feature nodes can have tens of millions). (default: 5M)
        cached (bool, optional): keep the normalised adjacency between calls on the same, unchanged
            ``edge_index`` (transductive full-batch training, see :mod:`graphite.memo`); the model always
            computes on the graph it is called with. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, max_two_hop_edges: int = 5_000_000, cached: bool = False):
        super().__init__()
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.num_layers, self.dropout, self.max_two_hop_edges = num_layers, float(dropout), int(max_two_hop_edges)
        self.lin_ego = InputLinear(in_channels, hidden_channels)
        final = hidden_channels * (2 ** (num_layers + 1) - 1)  # 1 + 2 + 4 + ... + 2^K blocks
        self.lin_out = nn.Linear(final, out_channels)
        self._memo = graph_memo(cached)

    def reset_parameters(self):
        self.lin_ego.reset_parameters()
        self.lin_out.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]`` and ``edge_index [2, E]`` (the
        graph of this call); ``edge_type [E]`` is accepted and ignored."""
        n = x.size(0)
        a1, w1 = sym_normalized(edge_index, n, self_loops=False, memo=self._memo, dtype=x.dtype)
        e2 = two_hop_edges(edge_index, n, self.max_two_hop_edges, memo=self._memo)
        a2, w2 = sym_normalized(e2, n, self_loops=False, memo=self._memo, dtype=x.dtype)
        r = F.relu(self.lin_ego(x, self.dropout))
        reps = [r]
        for _ in range(self.num_layers):
            r = torch.cat([spmm(a1, r, w1), spmm(a2, r, w2)], dim=-1)
            reps.append(r)
        return self.lin_out(dropout(torch.cat(reps, dim=-1), self.dropout, self.training))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'num_layers={self.num_layers})')
