"""GPRGNN baseline (Chien et al., "Adaptive Universal Generalized PageRank GNN", ICLR 2021)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphite.memo import graph_memo
from graphite.nn.dropout import dropout
from graphite.nn.input_linear import InputLinear
from graphite.nn.normalized_adjacency import sym_normalized
from graphite.ops import spmm

__all__ = ['GPRGNN']


class GPRGNN(nn.Module):
    r"""Generalized-PageRank GNN: an MLP predicts :math:`z = \mathrm{MLP}(x)`, then a learnable polynomial of the
    normalised adjacency :math:`\hat A = \hat D^{-1/2}(A + I)\hat D^{-1/2}` propagates it:

    .. math::
        \hat y = \sum_{k=0}^{K} \gamma_k \hat A^k z, \qquad
        \gamma_k^{init} = \alpha (1 - \alpha)^k \; (k < K), \quad \gamma_K^{init} = (1 - \alpha)^K

    (personalised-PageRank initialisation). Propagation uses :func:`graphite.ops.spmm` with :math:`\hat A` built
    ``cached=True``.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size of the MLP.
        out_channels (int): number of classes.
        num_layers (int, optional): propagation steps :math:`K`. (default: ``10``)
        dropout (float, optional): dropout in the MLP. (default: ``0.5``)
        alpha (float, optional): teleport probability :math:`\alpha` of the initialisation. (default: ``0.1``)
        dprate (float, optional): dropout on :math:`z` before propagation. (default: ``0.5``)
        cached (bool, optional): keep the normalised adjacency between calls on the same, unchanged
            ``edge_index`` (transductive full-batch training, see :mod:`graphite.memo`); the model always
            computes on the graph it is called with. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 10,
                 dropout: float = 0.5, alpha: float = 0.1, dprate: float = 0.5, cached: bool = False):
        super().__init__()
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f'alpha must be in (0, 1], got {alpha}')
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.K, self.alpha, self.dropout, self.dprate = num_layers, float(alpha), float(dropout), float(dprate)
        self.lin1 = InputLinear(in_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)
        self.gamma = nn.Parameter(torch.empty(num_layers + 1))
        self._memo = graph_memo(cached)
        self.reset_parameters()

    def reset_parameters(self):
        self.lin1.reset_parameters()
        self.lin2.reset_parameters()
        k = torch.arange(self.K + 1, dtype=torch.float)
        gamma = self.alpha * (1 - self.alpha) ** k
        gamma[-1] = (1 - self.alpha) ** self.K
        with torch.no_grad():
            self.gamma.copy_(gamma)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]`` and ``edge_index [2, E]`` (the
        graph of this call); ``edge_type [E]`` is accepted and ignored."""
        adj, w = sym_normalized(edge_index, x.size(0), self_loops=True, memo=self._memo, dtype=x.dtype)
        x = F.relu(self.lin1(x, self.dropout))
        z = self.lin2(dropout(x, self.dropout, self.training))
        z = dropout(z, self.dprate, self.training)
        out = self.gamma[0] * z
        for k in range(1, self.K + 1):
            z = spmm(adj, z, w)
            out = out + self.gamma[k] * z
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'K={self.K}, alpha={self.alpha})')
