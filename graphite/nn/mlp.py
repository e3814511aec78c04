"""Multi-layer perceptron baseline (ignores the graph)."""
from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from graphite.nn.dropout import dropout
from graphite.nn.input_linear import InputLinear

__all__ = ['MLP']


class MLP(nn.Module):
    r"""A graph-agnostic MLP: :math:`\hat y = W_L\, \sigma(\cdots \sigma(W_1 x))` with ReLU and dropout.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size.
        out_channels (int): number of classes.
        num_layers (int, optional): number of linear layers (>= 1). (default: ``2``)
        dropout (float, optional): dropout before every linear layer. (default: ``0.5``)
        norm (bool, optional): LayerNorm after every hidden layer. (default: ``False``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, norm: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.lins = nn.ModuleList([(InputLinear if i == 0 else nn.Linear)(a, b)
                                   for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]))])
        self.norms = nn.ModuleList([nn.LayerNorm(hidden_channels) if norm else nn.Identity()
                                    for _ in range(num_layers - 1)])
        self.dropout = float(dropout)

    def reset_parameters(self):
        for lin in self.lins:
            lin.reset_parameters()
        for n in self.norms:
            if hasattr(n, 'reset_parameters'):
                n.reset_parameters()

    def forward(self, x: Tensor, edge_index: Optional[Tensor] = None, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]``; ``edge_index`` and ``edge_type``
        are accepted (same call as the graph models) and ignored."""
        if len(self.lins) == 1:
            return self.lins[0](x, self.dropout)
        x = F.relu(self.norms[0](self.lins[0](x, self.dropout)))
        for lin, norm in zip(self.lins[1:-1], self.norms[1:]):
            x = F.relu(norm(lin(dropout(x, self.dropout, self.training))))
        return self.lins[-1](dropout(x, self.dropout, self.training))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.lins[0].in_features}, {self.lins[-1].out_features}, '
                f'num_layers={len(self.lins)})')
