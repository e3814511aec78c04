"""The GRAPHITE node classifier: input MLP -> L x GraphiteConv -> output linear."""
from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from graphite.memo import graph_memo, memoize
from graphite.nn.dropout import dropout
from graphite.nn.graphite_conv import GraphiteConv
from graphite.nn.input_linear import InputLinear
from graphite.nn.typed_adjacency import TypedAdjacency

__all__ = ['GraphiteNet']


class GraphiteNet(nn.Module):
    r"""The GRAPHITE model (Qiu et al., arXiv 2509.12530) for node classification on a graph transformed by
    :class:`graphite.Graphite` (graph nodes + feature nodes, ``edge_type`` 0/1), or on any graph (then every edge
    is a graph edge and the model behaves like FAGCN with residual MLP blocks).

    .. math::
        h^{(0)} = \mathrm{Dropout}(\mathrm{GELU}(W_{in}\, \mathrm{Dropout}(x))), \quad
        h^{(l)} = \mathrm{GraphiteConv}_l(h^{(l-1)}), \quad
        \hat y = W_{out}\, \mathrm{LN}(h^{(L)})

    Logits are returned for every node (feature nodes included); the loss and the metrics are restricted to graph
    nodes by the masks of the transformed graph (``False`` on feature nodes). The typed adjacency with self-loops is
    built once per call and shared by the layers; with ``cached=True`` it is kept between calls on the same,
    unchanged ``edge_index`` and ``edge_type``. Every call checks that ``edge_type`` matches ``edge_index`` and holds
    only graph (0) and feature (1) edges (:func:`graphite.layout.check_typed_graph`): a PyG transform applied after
    ``Graphite()`` (``T.ToUndirected()``, ``T.AddSelfLoops()``) raises a clear error instead of training on a
    corrupted graph.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size :math:`H`.
        out_channels (int): number of classes.
        num_layers (int, optional): number of :class:`GraphiteConv` layers :math:`L`. (default: ``2``)
        dropout (float, optional): dropout on hidden representations and inside the layers. (default: ``0.5``)
        input_dropout (float, optional): dropout on the input features. (default: ``0.0``)
        feature_weight (float, optional): (initial) feature-edge weight :math:`w_F`. (default: ``1.0``)
        self_loop_weight (float, optional): (initial) self-loop weight :math:`w_0`. (default: ``1.0``)
        learn_weights (bool, optional): learn :math:`w_F, w_0` (per layer) instead of fixing them. (default: ``True``)
        tau (float, optional): gate temperature :math:`\tau`. (default: ``1.0``)
        ffn_multiplier (int, optional): MLP width multiplier of each layer. (default: ``1``)
        norm (bool, optional): LayerNorm before each layer and before the output. (default: ``True``)
        separate_ego (bool, optional): ego/neighbour separation in every layer (see :class:`GraphiteConv`).
            (default: ``False``)
        cached (bool, optional): keep the typed adjacency between calls on the same, unchanged ``edge_index`` and
            ``edge_type`` (transductive full-batch training, see :mod:`graphite.memo`); the model always computes on
            the graph it is called with. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, input_dropout: float = 0.0, feature_weight: float = 1.0,
                 self_loop_weight: float = 1.0, learn_weights: bool = True, tau: float = 1.0,
                 ffn_multiplier: int = 1, norm: bool = True, separate_ego: bool = False,
                 cached: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.dropout, self.input_dropout = float(dropout), float(input_dropout)
        self.lin_in = InputLinear(in_channels, hidden_channels)
        self.convs = nn.ModuleList([
            GraphiteConv(hidden_channels, feature_weight=feature_weight, self_loop_weight=self_loop_weight,
                         learn_weights=learn_weights, tau=tau, dropout=dropout, ffn_multiplier=ffn_multiplier,
                         norm=norm, separate_ego=separate_ego) for _ in range(num_layers)])
        self.norm_out = nn.LayerNorm(hidden_channels) if norm else None
        self.lin_out = nn.Linear(hidden_channels, out_channels)
        self._memo = graph_memo(cached)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-initialise all parameters."""
        self.lin_in.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        if self.norm_out is not None:
            self.norm_out.reset_parameters()
        self.lin_out.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """``x [N, in_channels]``, ``edge_index [2, E]``, ``edge_type [E]`` (optional) -> logits ``[N, C]``."""
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f'x must have shape [N, {self.in_channels}], got {tuple(x.shape)}')
        adj = memoize(self._memo, (edge_index, edge_type), ('typed_adjacency', x.size(0)),
                      lambda: TypedAdjacency(edge_index, x.size(0), edge_type))
        h = dropout(F.gelu(self.lin_in(x, self.input_dropout)), self.dropout, self.training)
        for conv in self.convs:
            h = conv(h, adj)
        if self.norm_out is not None:
            h = self.norm_out(h)
        return self.lin_out(h)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'num_layers={len(self.convs)}, dropout={self.dropout})')
