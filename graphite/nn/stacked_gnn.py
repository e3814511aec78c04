"""Base class of the plain stacked baselines (GCN, GraphSAGE, GAT, GIN): L PyG convolutions with ReLU + dropout."""
from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from graphite.memo import reset_pyg_caches
from graphite.nn.dropout import dropout

__all__ = ['StackedGNN']


class StackedGNN(nn.Module):
    r""":math:`h^{(l)} = \mathrm{ReLU}(\mathrm{Conv}_l(\mathrm{Dropout}(h^{(l-1)}), A))`, the last layer without
    ReLU, :math:`h^{(0)} = x`. Subclasses implement :meth:`make_conv`. ``edge_type`` is accepted and ignored, so the
    model also runs on a GRAPHITE-transformed graph (where feature edges are treated like graph edges).

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size.
        out_channels (int): number of classes.
        num_layers (int, optional): number of convolutions (>= 1). (default: ``2``)
        dropout (float, optional): dropout before each convolution. (default: ``0.5``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.dropout = float(dropout)
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList([self.make_conv(a, b, last=(i == num_layers - 1))
                                    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]))])

    _memo = None  # set by subclasses with a cached=True option

    def make_conv(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        raise NotImplementedError

    def reset_parameters(self):
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]`` and ``edge_index [2, E]`` (the
        graph of this call); ``edge_type [E]`` is accepted and ignored."""
        reset_pyg_caches(self, self._memo, edge_index)
        for i, conv in enumerate(self.convs):
            x = conv(dropout(x, self.dropout, self.training), edge_index)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'num_layers={len(self.convs)})')
