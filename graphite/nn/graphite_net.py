"""The GRAPHITE node classifier: input MLP -> L x GraphiteConv -> output linear."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphite.memo import graph_memo, memoize
from graphite.nn.dropout import dropout
from graphite.nn.graphite_conv import GraphiteConv
from graphite.nn.input_linear import InputLinear
from graphite.nn.skeleton import jk_mode, make_norm, norm_kind
from graphite.nn.typed_adjacency import TypedAdjacency

__all__ = ['GraphiteNet', 'FAGCN_SETTINGS']

#: the options under which :class:`GraphiteNet` computes what :class:`~graphite.nn.FAGCN` computes (with
#: ``dropout`` = ``gate_dropout`` = FAGCN's dropout, ``eps`` = FAGCN's eps; logits equal in eval mode, see
#: ``tests/test_skeleton.py``)
FAGCN_SETTINGS = dict(feature_edges=False, ffn=False, norm='none', residual='initial', activation='relu',
                      self_loop_weight=1.0, learn_weights=False, tau=1.0, gate_bias=False, separate_ego=False)


class GraphiteNet(nn.Module):
    r"""The GRAPHITE model (Qiu et al., arXiv 2509.12530) for node classification on a graph transformed by
    :class:`graphite.Graphite` (graph nodes + feature nodes, ``edge_type`` 0/1), or on any graph (then every edge
    is a graph edge and the model behaves like FAGCN with residual MLP blocks).

    .. math::
        h^{(0)} = \mathrm{Dropout}(\mathrm{GELU}(W_{in}\, \mathrm{Dropout}(x))), \quad
        h^{(l)} = \mathrm{GraphiteConv}_l(h^{(l-1)}), \quad
        \hat y = W_{out}\, \mathrm{LN}(h^{(L)})

    **Special cases.** ``feature_edges=False`` removes the feature edges exactly (an explicit switch, not
    :math:`w_F \approx 0`). With :data:`FAGCN_SETTINGS`, ``input_dropout = output_dropout = dropout`` the model *is*
    FAGCN (Bo et al., AAAI 2021; :class:`~graphite.nn.FAGCN`, PyG's :class:`~torch_geometric.nn.FAConv`): same
    parameters (``lin_in``, per layer ``att_src``/``att_dst`` = FAConv's ``att_l``/``att_r``, ``lin_out``), same
    logits in eval mode. FAConv's dropout on the gates is ``gate_dropout`` (set it to FAGCN's dropout too); the two
    draw their masks in different orders, so training matches in distribution, not bit for bit. So a search over
    GraphiteNet's space that contains these settings contains FAGCN's.

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
        norm (bool or str, optional): normalisation before each layer and before the output: ``True``/``'layer'``,
            ``'batch'`` or ``False``/``'none'``. (default: ``True``)
        separate_ego (bool, optional): ego/neighbour separation in every layer (see :class:`GraphiteConv`).
            (default: ``False``)
        feature_edges (bool, optional): ``False``: aggregate over graph edges and self-loops only. (default: ``True``)
        ffn (bool, optional): the MLP of each layer (:class:`GraphiteConv`). (default: ``True``)
        residual (str, optional): ``'sum'``, ``'none'`` or ``'initial'`` (:class:`GraphiteConv`). (default: ``'sum'``)
        eps (float, optional): weight of ``h^{(0)}`` for ``residual='initial'``. (default: ``1.0``)
        gate_bias (bool, optional): learn the gate bias of each layer. (default: ``True``)
        gate_bias_init (float, optional): initial (fixed without ``gate_bias``) gate bias of each layer
            (:class:`GraphiteConv`). (default: ``0.0``)
        gate_dropout (float, optional): dropout on each layer's edge coefficients in training, FAConv's attention
            dropout (:class:`GraphiteConv`). (default: ``0.0``)
        activation (str, optional): ``'gelu'`` or ``'relu'`` after the input layer. (default: ``'gelu'``)
        output_dropout (float, optional): dropout before the output layer. (default: ``0.0``)
        jk (str or bool, optional): ``'none'``, ``'sum'`` or ``'cat'`` of the layer outputs before the output
            normalisation (jumping knowledge, :mod:`graphite.nn.skeleton`). (default: ``'none'``)
        cached (bool, optional): keep the typed adjacency between calls on the same, unchanged ``edge_index`` and
            ``edge_type`` (transductive full-batch training, see :mod:`graphite.memo`); the model always computes on
            the graph it is called with. (default: :obj:`False`)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, input_dropout: float = 0.0, feature_weight: float = 1.0,
                 self_loop_weight: float = 1.0, learn_weights: bool = True, tau: float = 1.0,
                 ffn_multiplier: int = 1, norm=True, separate_ego: bool = False,
                 cached: bool = False, feature_edges: bool = True, ffn: bool = True, residual: str = 'sum',
                 eps: float = 1.0, gate_bias: bool = True, activation: str = 'gelu', output_dropout: float = 0.0,
                 jk='none', gate_bias_init: float = 0.0, gate_dropout: float = 0.0):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        if activation not in ('gelu', 'relu'):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {activation!r}")
        self.dropout, self.input_dropout = float(dropout), float(input_dropout)
        self.output_dropout, self.activation = float(output_dropout), activation
        self.feature_edges, self.jk = bool(feature_edges), jk_mode(jk)
        self.lin_in = InputLinear(in_channels, hidden_channels)
        self.convs = nn.ModuleList([
            GraphiteConv(hidden_channels, feature_weight=feature_weight, self_loop_weight=self_loop_weight,
                         learn_weights=learn_weights, tau=tau, dropout=dropout, ffn_multiplier=ffn_multiplier,
                         norm=norm, separate_ego=separate_ego, feature_edges=feature_edges, ffn=ffn,
                         residual=residual, eps=eps, gate_bias=gate_bias, gate_bias_init=gate_bias_init,
                         gate_dropout=gate_dropout)
            for _ in range(num_layers)])
        out_width = hidden_channels * (num_layers if self.jk == 'cat' else 1)
        self.norm_out = make_norm(norm_kind(norm), out_width)
        self.lin_out = nn.Linear(out_width, out_channels)
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
        adj = memoize(self._memo, (edge_index, edge_type), ('typed_adjacency', x.size(0), self.feature_edges),
                      lambda: self._adjacency(edge_index, x.size(0), edge_type))
        act = F.gelu if self.activation == 'gelu' else F.relu
        h = h0 = dropout(act(self.lin_in(x, self.input_dropout)), self.dropout, self.training)
        outs = []
        for conv in self.convs:
            h = conv(h, adj, x0=h0)
            outs.append(h)
        if self.jk == 'sum':
            h = torch.stack(outs).sum(0)
        elif self.jk == 'cat':
            h = torch.cat(outs, dim=-1)
        if self.norm_out is not None:
            h = self.norm_out(h)
        return self.lin_out(dropout(h, self.output_dropout, self.training))

    def _adjacency(self, edge_index: Tensor, num_nodes: int, edge_type: Optional[Tensor]) -> TypedAdjacency:
        if not self.feature_edges and edge_type is not None:
            # the layers give feature edges weight 0; dropping them here is the same result, computed faster
            from graphite.layout import check_typed_graph
            check_typed_graph(edge_index, edge_type)
            keep = edge_type == 0
            return TypedAdjacency(edge_index[:, keep], num_nodes)
        return TypedAdjacency(edge_index, num_nodes, edge_type)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'num_layers={len(self.convs)}, dropout={self.dropout})')
