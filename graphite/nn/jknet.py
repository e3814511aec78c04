"""JKNet baseline (Xu et al., ICML 2018): GCN layers + PyG's :class:`~torch_geometric.nn.JumpingKnowledge`."""
from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, JumpingKnowledge

from graphite.memo import graph_memo, reset_pyg_caches
from graphite.nn.dropout import dropout

__all__ = ['JKNet']


class JKNet(nn.Module):
    r"""Jumping-knowledge network: :math:`h^{(l)} = \mathrm{ReLU}(\mathrm{GCNConv}(h^{(l-1)}))`,
    :math:`\hat y = W\, \mathrm{JK}(h^{(1)}, \dots, h^{(L)})` with JK = concatenation or max.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size.
        out_channels (int): number of classes.
        num_layers (int, optional): number of GCN layers. (default: ``2``)
        dropout (float, optional): dropout. (default: ``0.5``)
        mode (str, optional): ``'cat'`` or ``'max'`` layer aggregation. (default: ``'cat'``)
        cached (bool, optional): keep the normalised adjacency between calls on the same, unchanged
            ``edge_index`` (transductive full-batch training, see :mod:`graphite.memo`); the model always
            computes on the graph it is called with. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, mode: str = 'cat', cached: bool = False):
        super().__init__()
        if mode not in ('cat', 'max'):
            raise ValueError(f"mode must be 'cat' or 'max', got {mode!r}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.dropout = float(dropout)
        self.convs = nn.ModuleList([GCNConv(in_channels if i == 0 else hidden_channels, hidden_channels,
                                            cached=cached)
                                    for i in range(num_layers)])
        self.jk = JumpingKnowledge(mode)
        self.lin_out = nn.Linear(hidden_channels * (num_layers if mode == 'cat' else 1), out_channels)
        self._memo = graph_memo(cached)

    def reset_parameters(self):
        for conv in self.convs:
            conv.reset_parameters()
        self.jk.reset_parameters()
        self.lin_out.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]`` and ``edge_index [2, E]`` (the
        graph of this call); ``edge_type [E]`` is accepted and ignored."""
        reset_pyg_caches(self, self._memo, edge_index)
        hs = []
        for conv in self.convs:
            x = F.relu(conv(dropout(x, self.dropout, self.training), edge_index))
            hs.append(x)
        return self.lin_out(dropout(self.jk(hs), self.dropout, self.training))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'num_layers={len(self.convs)}, mode={self.jk.mode!r})')
