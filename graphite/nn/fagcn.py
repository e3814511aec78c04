"""FAGCN baseline (Bo et al., AAAI 2021) built from PyG's :class:`~torch_geometric.nn.FAConv`."""
from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import FAConv

from graphite.memo import reset_pyg_caches
from graphite.nn.dropout import dropout
from graphite.nn.initial_residual import InitialResidualStack

__all__ = ['FAGCN']


class FAGCN(InitialResidualStack):
    r"""Frequency-adaptive GCN:
    :math:`h^{(0)} = \mathrm{ReLU}(W_{in} x)`,
    :math:`h^{(l)} = \epsilon h^{(0)} + \sum_j \frac{\tanh(a^\top [h_i \Vert h_j])}{\sqrt{d_i d_j}} h^{(l-1)}_j`,
    :math:`\hat y = W_{out} h^{(L)}`.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size.
        out_channels (int): number of classes.
        num_layers (int, optional): number of :class:`~torch_geometric.nn.FAConv` layers. (default: ``2``)
        dropout (float, optional): dropout on features and on the gates. (default: ``0.5``)
        eps (float, optional): weight :math:`\epsilon` of the initial representation. (default: ``0.3``)
        cached (bool, optional): keep the normalised adjacency between calls on the same, unchanged
            ``edge_index`` (transductive full-batch training, see :mod:`graphite.memo`); the model always
            computes on the graph it is called with. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, eps: float = 0.3, cached: bool = False):
        super().__init__(in_channels, hidden_channels, out_channels,
                         lambda: [FAConv(hidden_channels, eps=eps, dropout=dropout, cached=cached)
                                  for _ in range(num_layers)], dropout, cached)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]`` and ``edge_index [2, E]`` (the
        graph of this call); ``edge_type [E]`` is accepted and ignored."""
        reset_pyg_caches(self, self._memo, edge_index)
        h = x0 = dropout(F.relu(self.lin_in(x, self.dropout)), self.dropout, self.training)
        for conv in self.convs:
            h = conv(h, x0, edge_index)
        return self.lin_out(dropout(h, self.dropout, self.training))
