"""GCNII baseline (Chen et al., ICML 2020) built from PyG's :class:`~torch_geometric.nn.GCN2Conv`."""
from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GCN2Conv

from graphite.memo import reset_pyg_caches
from graphite.nn.dropout import dropout
from graphite.nn.initial_residual import InitialResidualStack

__all__ = ['GCNII']


class GCNII(InitialResidualStack):
    r"""GCN with initial residual and identity mapping:
    :math:`h^{(l+1)} = \mathrm{ReLU}\big(((1-\alpha) \hat A h^{(l)} + \alpha h^{(0)})
    ((1-\beta_l) I + \beta_l W_l)\big)`, :math:`\beta_l = \log(\theta / l + 1)`.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size.
        out_channels (int): number of classes.
        num_layers (int, optional): number of :class:`~torch_geometric.nn.GCN2Conv` layers. (default: ``8``)
        dropout (float, optional): dropout. (default: ``0.5``)
        alpha (float, optional): initial-residual strength :math:`\alpha`. (default: ``0.1``)
        theta (float, optional): identity-mapping strength :math:`\theta`. (default: ``0.5``)
        cached (bool, optional): keep the normalised adjacency between calls on the same, unchanged
            ``edge_index`` (transductive full-batch training, see :mod:`graphite.memo`); the model always
            computes on the graph it is called with. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 8,
                 dropout: float = 0.5, alpha: float = 0.1, theta: float = 0.5, cached: bool = False):
        super().__init__(in_channels, hidden_channels, out_channels,
                         lambda: [GCN2Conv(hidden_channels, alpha=alpha, theta=theta, layer=i + 1, cached=cached)
                                  for i in range(num_layers)], dropout, cached)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]`` and ``edge_index [2, E]`` (the
        graph of this call); ``edge_type [E]`` is accepted and ignored."""
        reset_pyg_caches(self, self._memo, edge_index)
        h = x0 = F.relu(self.lin_in(x, self.dropout))
        for conv in self.convs:
            h = F.relu(conv(dropout(h, self.dropout, self.training), x0, edge_index))
        return self.lin_out(dropout(h, self.dropout, self.training))
