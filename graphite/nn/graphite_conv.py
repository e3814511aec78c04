"""GRAPHITE's edge-type-aware, self-gating graph convolution."""
from __future__ import annotations

import math
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphite.nn.dropout import dropout
from graphite.nn.skeleton import Residual, make_norm, norm_kind
from graphite.nn.typed_adjacency import TypedAdjacency
from graphite.ops import gated_spmm

__all__ = ['GraphiteConv']


def _inverse_softplus(value: float) -> float:
    return value + math.log(-math.expm1(-value))


class GraphiteConv(nn.Module):
    r"""The edge-type-aware self-gating convolution of GRAPHITE (Qiu et al., "Graph Homophily Booster",
    arXiv 2509.12530), in the style of FAGCN (Bo et al., AAAI 2021).

    The graph has three edge types, each with its own weight: graph edges :math:`w_E = 1`, feature edges
    :math:`w_F` and self-loops :math:`w_0` (added by the layer). With :math:`u = \mathrm{LN}(h)` (or
    :math:`u = h` when ``norm=False``) the layer computes

    .. math::
        d_i &= \sum_{j \in \mathcal{N}(i) \cup \{i\}} w_{ji}, \qquad
        \tilde w_{ji} = \frac{w_{ji}}{\sqrt{d_i d_j}}, \\
        \alpha_{ji} &= \tanh\!\Big(\frac{\mathbf{a}^\top [u_i \,\|\, u_j] + b}{\tau}\Big)
                    = \tanh\!\Big(\frac{s^{dst}_i + s^{src}_j}{\tau}\Big), \quad
        s^{dst} = u\,\mathbf{a}_{dst} + b,\; s^{src} = u\,\mathbf{a}_{src}, \\
        m_i &= \sum_{j \in \mathcal{N}(i) \cup \{i\}} \alpha_{ji}\, \tilde w_{ji}\, u_j, \\
        h'_i &= h_i + \mathrm{Dropout}\big(W_2\, \mathrm{Dropout}(\mathrm{GELU}(W_1 z_i + c_1)) + c_2\big),
        \quad z_i = m_i \;\text{or, with ``separate_ego``,}\; z_i = [u_i \,\|\, m_i].

    The skeleton options (:mod:`graphite.nn.skeleton`) change the last line: ``ffn=False`` drops the MLP
    (:math:`f(h) = m`), ``residual`` replaces the skip :math:`h_i +` by nothing (``'none'``) or by
    :math:`\epsilon h^{(0)}_i +` (``'initial'``, the representation ``x0`` entering the first layer), and
    ``feature_edges=False`` removes the feature edges (:math:`w_F = 0` exactly, not a small weight). With
    ``feature_edges=False, ffn=False, norm=False, residual='initial', gate_bias=False``, :math:`w_0 = 1` fixed and
    :math:`\tau = 1` the layer is PyG's :class:`~torch_geometric.nn.FAConv`, with ``gate_dropout`` as FAConv's
    ``dropout`` (the two draw their masks in different orders, so a training step matches in distribution, not
    bit for bit): :math:`h'_i = \epsilon h^{(0)}_i + \sum_j \tanh(a^\top [h_i \| h_j]) h_j / \sqrt{d_i d_j}`.

    The signed gate :math:`\alpha_{ji} \in (-1, 1)` lets each edge pass low-frequency (:math:`\alpha > 0`) or
    high-frequency (:math:`\alpha < 0`) signal. It is computed from the per-node scores :math:`s^{src}, s^{dst}`
    inside :func:`graphite.ops.gated_spmm`, so no ``[E, H]`` or ``[E, 2H]`` tensor is materialised.
    Without edge types (a graph not produced by :class:`graphite.Graphite`) every edge is a graph edge and the
    layer is a FAGCN-style gated convolution with self-loops, a residual MLP and (optional) LayerNorm.

    Args:
        channels (int): size :math:`H` of input and output node representations.
        feature_weight (float, optional): initial (or fixed) feature-edge weight :math:`w_F > 0`. (default: ``1.0``)
        self_loop_weight (float, optional): initial (or fixed) self-loop weight :math:`w_0 > 0`. (default: ``1.0``)
        learn_weights (bool, optional): if ``True``, :math:`w_F` and :math:`w_0` are learned, parametrised as
            ``softplus(rho)`` to stay positive; otherwise they are fixed buffers. (default: ``True``)
        tau (float, optional): gate temperature :math:`\tau > 0`. (default: ``1.0``)
        dropout (float, optional): dropout inside and after the MLP. (default: ``0.0``)
        ffn_multiplier (int, optional): hidden size of the MLP is ``ffn_multiplier * channels``. (default: ``1``)
        norm (bool, optional): apply LayerNorm to :math:`h` before gating/aggregation. (default: ``True``)
        separate_ego (bool, optional): feed :math:`[u_i \| m_i]` instead of :math:`m_i` to the MLP (ego/neighbour
            separation of the "-sep" models of Platonov et al., ICLR 2023). (default: ``False``)
        feature_edges (bool, optional): aggregate over feature edges; ``False`` gives them weight exactly 0.
            (default: ``True``)
        ffn (bool, optional): the MLP :math:`W_2 \mathrm{GELU}(W_1 \cdot)`; ``False``: the update is :math:`m`.
            (default: ``True``)
        residual (str, optional): ``'sum'`` (:math:`h +`), ``'none'`` or ``'initial'`` (:math:`\epsilon h^{(0)} +`,
            pass ``x0`` to :meth:`forward`). (default: ``'sum'``)
        eps (float, optional): :math:`\epsilon` of ``residual='initial'``. (default: ``1.0``)
        gate_bias (bool, optional): learn the gate bias :math:`b` (``False``: :math:`b` fixed at
            ``gate_bias_init``). (default: ``True``)
        gate_dropout (float, optional): in training, each edge's coefficient
            :math:`\alpha_{ji} w_{ji} / \sqrt{d_i d_j}` (self-loops included) is dropped with this probability and
            the kept ones scaled by :math:`1 / (1 - p)`, as FAConv's attention dropout does; drawn on the ``[E]``
            edge weights, so still no per-edge ``[E, H]`` tensor. (default: ``0.0``)
        gate_bias_init (float, optional): initial (or, with ``gate_bias=False``, fixed) gate bias :math:`b`. ``0``
            starts every gate near :math:`\tanh(0) = 0` (FAGCN); a positive value such as ``2 * tau`` starts the gates
            near ``1``, i.e. the layer starts as a normalised-sum (GCN-like) aggregation. (default: ``0.0``)

    Shapes:
        - **input:** node features ``[N, H]``, a :class:`~graphite.nn.TypedAdjacency` (or ``edge_index [2, E]``
          and optional ``edge_type [E]``)
        - **output:** ``[N, H]``
    """

    def __init__(self, channels: int, feature_weight: float = 1.0, self_loop_weight: float = 1.0,
                 learn_weights: bool = True, tau: float = 1.0, dropout: float = 0.0, ffn_multiplier: int = 1,
                 norm=True, separate_ego: bool = False, feature_edges: bool = True, ffn: bool = True,
                 residual: str = 'sum', eps: float = 1.0, gate_bias: bool = True, gate_bias_init: float = 0.0,
                 gate_dropout: float = 0.0):
        super().__init__()
        if channels <= 0:
            raise ValueError(f'channels must be positive, got {channels}')
        if feature_weight <= 0 or self_loop_weight <= 0:
            raise ValueError(f'edge-type weights must be positive, got feature_weight={feature_weight}, '
                             f'self_loop_weight={self_loop_weight}')
        if tau <= 0:
            raise ValueError(f'tau must be positive, got {tau}')
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f'dropout must be in [0, 1), got {dropout}')
        if not 0.0 <= gate_dropout < 1.0:
            raise ValueError(f'gate_dropout must be in [0, 1), got {gate_dropout}')
        self.channels, self.tau, self.dropout = channels, float(tau), float(dropout)
        self.gate_dropout = float(gate_dropout)
        self.gate_bias_init = float(gate_bias_init)
        self.learn_weights = bool(learn_weights)
        self.init_feature_weight, self.init_self_loop_weight = float(feature_weight), float(self_loop_weight)
        rho = torch.tensor([_inverse_softplus(feature_weight), _inverse_softplus(self_loop_weight)])
        if self.learn_weights:
            self.weight_rho = nn.Parameter(rho)
        else:
            self.register_buffer('weight_rho', rho)
        self.att_src = nn.Parameter(torch.empty(channels))
        self.att_dst = nn.Parameter(torch.empty(channels))
        if gate_bias:
            self.att_bias = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer('att_bias', torch.full((1,), self.gate_bias_init))
        self.norm_kind = norm_kind(norm)
        self.norm = make_norm(self.norm_kind, channels)
        hidden = ffn_multiplier * channels
        self.separate_ego, self.feature_edges, self.ffn = bool(separate_ego), bool(feature_edges), bool(ffn)
        if self.separate_ego and not self.ffn:
            raise ValueError('separate_ego needs the MLP (ffn=True) to map [u || m] back to the channels')
        self.lin1 = nn.Linear(2 * channels if self.separate_ego else channels, hidden) if self.ffn else None
        self.lin2 = nn.Linear(hidden, channels) if self.ffn else None
        self.residual = Residual(residual, channels, channels, eps)
        if self.residual.mode == 'linear':
            raise ValueError("GraphiteConv's residual must be 'sum', 'none' or 'initial'")
        self.reset_parameters()

    def reset_parameters(self):
        """Re-initialise every parameter (edge-type weights back to their initial values)."""
        with torch.no_grad():
            self.weight_rho.copy_(torch.tensor([_inverse_softplus(self.init_feature_weight),
                                                _inverse_softplus(self.init_self_loop_weight)]))
        bound = 1.0 / math.sqrt(self.channels)
        nn.init.uniform_(self.att_src, -bound, bound)
        nn.init.uniform_(self.att_dst, -bound, bound)
        nn.init.constant_(self.att_bias, self.gate_bias_init)
        if self.norm is not None:
            self.norm.reset_parameters()
        if self.ffn:
            self.lin1.reset_parameters()
            self.lin2.reset_parameters()

    def type_weights(self) -> Tensor:
        r"""``[3]`` tensor :math:`(w_E, w_F, w_0) = (1, w_F, w_0)` indexed by edge type (:math:`w_F = 0` with
        ``feature_edges=False``)."""
        w = F.softplus(self.weight_rho)
        if not self.feature_edges:
            w = w * w.new_tensor([0.0, 1.0])
        return torch.cat([w.new_ones(1), w])

    def aggregate(self, u: Tensor, adj: TypedAdjacency) -> Tensor:
        r"""The gated, degree-normalised aggregation :math:`m` of the formula above (before the MLP)."""
        s_dst = u @ self.att_dst + self.att_bias
        s_src = u @ self.att_src
        weight = adj.normalized_weight(self.type_weights().to(u.dtype))
        weight = dropout(weight, self.gate_dropout, self.training)           # [E]: FAConv's attention dropout
        return gated_spmm(adj.csr, u, s_src, s_dst, edge_weight=weight, tau=self.tau)

    def forward(self, x: Tensor, adj: Union[TypedAdjacency, Tensor], edge_type: Optional[Tensor] = None,
                x0: Optional[Tensor] = None) -> Tensor:
        """``x [N, H]`` and the graph of this call (a :class:`TypedAdjacency`, or ``edge_index [2, E]`` with optional
        ``edge_type [E]``) -> ``[N, H]``; ``x0 [N, H]``: the initial representation (``residual='initial'``)."""
        if x.dim() != 2 or x.size(1) != self.channels:
            raise ValueError(f'x must have shape [N, {self.channels}], got {tuple(x.shape)}')
        if not isinstance(adj, TypedAdjacency):
            adj = TypedAdjacency(adj, x.size(0), edge_type)
        elif edge_type is not None:
            raise ValueError('pass edge_type only together with an edge_index, not with a TypedAdjacency')
        if adj.num_nodes != x.size(0):
            raise ValueError(f'adjacency has {adj.num_nodes} nodes but x has {x.size(0)} rows')
        u = self.norm(x) if self.norm is not None else x
        m = self.aggregate(u, adj)                                            # [N, H]
        if self.ffn:
            if self.separate_ego:
                m = torch.cat([u, m], dim=-1)                                 # [N, 2H]
            z = dropout(F.gelu(self.lin1(m)), self.dropout, self.training)  # [N, ffn * H]
            m = dropout(self.lin2(z), self.dropout, self.training)
        return self.residual(m, x, x0)

    def __repr__(self) -> str:
        w = self.type_weights().detach()
        return (f'{self.__class__.__name__}({self.channels}, w_F={w[1]:.3g}, w_0={w[2]:.3g}, '
                f'learn_weights={self.learn_weights}, tau={self.tau}, norm={self.norm_kind!r}, '
                f'separate_ego={self.separate_ego}, feature_edges={self.feature_edges}, ffn={self.ffn}, '
                f'residual={self.residual.mode!r})')
