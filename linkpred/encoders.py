r"""Node encoders for link prediction, each with one switch for the design choice of Zhu et al. (NeurIPS 2024):
whether the ego embedding is *mixed* with the neighbours' or kept *separate*.

Every message-passing layer :math:`\ell` maps :math:`h^{(\ell)} \to h^{(\ell+1)}`; with ``separate_ego`` it is

* ``False`` (mixed): the layer's native form, the node itself is one of its neighbours
  (GCN: :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`, :math:`h' = \hat A h W`; GraphSAGE-mixed:
  :math:`h' = W \,\mathrm{mean}_{u \in N(v) \cup \{v\}} h_u`; GAT/GATv2 with self-loops; GIN:
  :math:`h' = \mathrm{MLP}(h_v + \sum_{u \in N(v)} h_u)`; GPRGNN with :math:`\hat A` incl. self-loops);
* ``True`` or ``'sum'``: :math:`h'_v = W_{\text{self}} h_v + \mathrm{AGG}_{u \in N(v)}(h_u)`, the aggregation
  running on the graph *without* self-loops (for GraphSAGE this is its native
  :math:`W_1 h_v + W_2 \,\mathrm{mean}_{u \in N(v)} h_u`);
* ``'concat'``: :math:`h'_v = W [h_v \,\Vert\, \mathrm{AGG}_{u \in N(v)}(h_u)]` (the "-sep" variants of
  Platonov et al., ICLR 2023).

GPRGNN (Chien et al., ICLR 2021) is :math:`Z = \sum_{k=0}^{K} \gamma_k \hat A^k \mathrm{MLP}(X)` with
:math:`\gamma_k` initialised to the personalised-PageRank weights :math:`\alpha(1 - \alpha)^k`
(:math:`\gamma_K = (1-\alpha)^K`, :math:`\alpha = 0.1`, :math:`K = 10`); separated, :math:`\hat A` has no
self-loops so the ego term is only :math:`\gamma_0 H`. The no-GNN encoder (:class:`MLPEncoder`) feeds the
features to the decoder directly (``num_layers=0``) or through an MLP.

Inputs: ``x`` ``[N', F]`` and ``edge_index`` ``[2, E]`` (source -> target). ``num_graph_nodes`` = :math:`N \le N'`
supports GRAPHITE-transformed graphs (graph nodes ``0..N-1`` first, feature nodes after): messages flow through
all nodes, only the first :math:`N` embeddings are returned (only graph nodes are scored).

Building blocks: every layer is a :class:`graphite.nn.EgoSeparation` around a neighbour aggregation; GCN,
GraphSAGE, GIN and GPRGNN aggregate with :func:`graphite.ops.spmm` over a :class:`graphite.ops.CSR` (no per-edge
``[E, H]`` message tensors; any float dtype), see :mod:`linkpred.propagation`; GAT needs per-edge attention and
runs PyG's convolution on ``edge_index``. ``cached`` has PyG's meaning (default ``False``: the structure is
rebuilt at each call; ``True``: kept for the last ``edge_index`` object, for transductive training, never
copied, pickled or saved; see :class:`linkpred.propagation.CachedPropagation`).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, ModuleList, Parameter
from torch_geometric.nn import GATConv, GATv2Conv
from torch_geometric.utils import remove_self_loops

from graphite.nn.ego_separation import EgoSeparation, ego_mode
from graphite.ops import spmm
from linkpred.propagation import CachedPropagation, Propagation, build_propagation

__all__ = ['LinkEncoder', 'GCNEncoder', 'SAGEEncoder', 'GATEncoder', 'GINEncoder', 'GPRGNNEncoder', 'MLPEncoder',
           'ENCODERS', 'build_encoder']

SeparateEgo = Union[bool, str]
_EGO_NAMES = {None: 'False', 'sum': 'sum', 'concat': 'concat'}


class SpmmLinear(torch.nn.Module):
    r""":math:`W \,\mathrm{AGG}(h) + b` with ``AGG`` = ``spmm(prop, h, reduce)`` (the linear map is applied on the
    smaller side: it commutes with a weighted sum or mean)."""

    def __init__(self, c_in: int, c_out: int, reduce: str = 'sum'):
        super().__init__()
        self.lin = Linear(c_in, c_out, bias=False)
        self.bias = Parameter(torch.zeros(c_out))
        self.reduce = reduce

    def forward(self, h: Tensor, prop: Propagation) -> Tensor:
        if self.lin.out_features <= self.lin.in_features:
            return spmm(prop.csr, self.lin(h), prop.weight, self.reduce) + self.bias
        return self.lin(spmm(prop.csr, h, prop.weight, self.reduce)) + self.bias


class SpmmMLP(torch.nn.Module):
    r""":math:`\mathrm{MLP}(\sum_{u} h_u)`: GIN's update, Linear-ReLU-Linear."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.nn = torch.nn.Sequential(Linear(c_in, c_out), torch.nn.ReLU(), Linear(c_out, c_out))

    def forward(self, h: Tensor, prop: Propagation) -> Tensor:
        return self.nn(spmm(prop.csr, h, prop.weight, 'sum'))


class EdgeIndexConv(torch.nn.Module):
    """A PyG convolution called on the ``edge_index`` of a :class:`~linkpred.propagation.Propagation`."""

    def __init__(self, conv: torch.nn.Module):
        super().__init__()
        self.conv = conv

    def forward(self, h: Tensor, prop: Propagation) -> Tensor:
        return self.conv(h, prop.edge_index)


class LinkEncoder(CachedPropagation):
    r"""Base class: ``num_layers`` layers ``EgoSeparation(make_conv(...), mode=separate_ego)`` with ReLU + dropout
    between them (not after the last).

    Args:
        in_channels (int): input feature size :math:`F`.
        hidden_channels (int): hidden and output size :math:`d`.
        num_layers (int): number of layers (>= 1).
        dropout (float): dropout on the input of each layer after the first.
        separate_ego (bool or str): ``False`` (mixed), ``True``/``'sum'`` or ``'concat'`` (see module docstring).
        cached (bool): keep the aggregation structure of the last graph (see module docstring).
    """
    #: edge weights of the aggregation: None (all ones) or 'sym' (GCN normalisation)
    norm: Optional[str] = None

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 2, dropout: float = 0.0,
                 separate_ego: SeparateEgo = False, cached: bool = False):
        super().__init__()
        for name, v, low in (('in_channels', in_channels, 1), ('hidden_channels', hidden_channels, 1),
                             ('num_layers', num_layers, 1)):
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f'{type(self).__name__}: {name} must be an int >= {low}, got {v!r}')
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f'dropout must be in [0, 1), got {dropout}')
        if not isinstance(cached, bool):
            raise TypeError(f'cached must be a bool, got {cached!r}')
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, hidden_channels
        self.num_layers, self.dropout, self.cached = num_layers, dropout, cached
        self.ego = ego_mode(separate_ego)
        self.convs = ModuleList([self.make_layer(in_channels if i == 0 else hidden_channels, hidden_channels)
                                 for i in range(num_layers)])

    # subclasses ---------------------------------------------------------------------------------------------
    def make_conv(self, c_in: int, c_out: int) -> torch.nn.Module:
        """The neighbour aggregation ``(h, prop) -> [N, c_out]`` of one layer."""
        raise NotImplementedError

    def make_layer(self, c_in: int, c_out: int) -> torch.nn.Module:
        return EgoSeparation(self.make_conv(c_in, c_out), c_in, c_out, self.ego)

    def build_propagation(self, edge_index: Tensor, num_nodes: int) -> Propagation:
        """Self-loops only in the mixed mode (the ego is then one of the neighbours)."""
        return build_propagation(edge_index, num_nodes, self.ego is None, self.norm)

    # ---------------------------------------------------------------------------------------------------------
    def forward(self, x: Tensor, edge_index: Tensor, num_graph_nodes: Optional[int] = None) -> Tensor:
        """Embeddings ``[num_graph_nodes or N', d]`` of the (graph) nodes."""
        _check_inputs(x, edge_index, self.in_channels)
        prop = self.propagation(edge_index, x.size(0))
        h = x
        for layer, conv in enumerate(self.convs):
            if layer > 0:
                h = F.dropout(F.relu(h), p=self.dropout, training=self.training)
            h = conv(h, prop)
        return h if num_graph_nodes is None else h[:num_graph_nodes]

    def extra_repr_args(self) -> str:
        return ''

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, num_layers={self.num_layers}'
                f'{self.extra_repr_args()}, separate_ego={_EGO_NAMES[self.ego]}, cached={self.cached})')


def _check_inputs(x: Tensor, edge_index: Tensor, in_channels: int) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
        raise ValueError(f'x must be a floating-point [N, F] tensor, got {getattr(x, "shape", type(x))}')
    if x.size(1) != in_channels:
        raise ValueError(f'x has {x.size(1)} features, the encoder expects {in_channels}')
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f'edge_index must be a [2, E] tensor, got {getattr(edge_index, "shape", edge_index)}')
    if edge_index.dtype != torch.long:
        raise ValueError(f'edge_index must be an int64 (long) tensor, got {edge_index.dtype}')
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= x.size(0)):
        raise ValueError(f'edge_index has node indices outside [0, {x.size(0)})')


class GCNEncoder(LinkEncoder):
    """GCN (Kipf & Welling, ICLR 2017); mixed = symmetric normalisation with self-loops (see module docstring)."""
    norm = 'sym'

    def make_conv(self, c_in, c_out):
        return SpmmLinear(c_in, c_out, 'sum')


class SAGEEncoder(LinkEncoder):
    r"""GraphSAGE-mean (Hamilton et al., NeurIPS 2017). Separated (``True``/``'sum'``, the default) is the native
    :math:`W_1 h_v + W_2 \mathrm{mean}_{N(v)} h_u`; mixed is :math:`W \mathrm{mean}_{N(v) \cup \{v\}} h_u`."""

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=True, cached=False):
        super().__init__(in_channels, hidden_channels, num_layers, dropout, separate_ego, cached)

    def make_conv(self, c_in, c_out):
        return SpmmLinear(c_in, c_out, 'mean')


class GATEncoder(LinkEncoder):
    r"""GAT (Velickovic et al., ICLR 2018) or GATv2 (Brody et al., ICLR 2022, ``v2=True``), ``heads`` concatenated
    heads of size ``hidden_channels // heads``; mixed = attention over :math:`N(v) \cup \{v\}`."""

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=False, heads: int = 4,
                 v2: bool = True, cached=False):
        if isinstance(heads, bool) or not isinstance(heads, int) or heads < 1 or hidden_channels % heads:
            raise ValueError(f'heads must be an int >= 1 dividing hidden_channels ({hidden_channels}), got {heads!r}')
        self.heads, self.v2 = heads, v2
        super().__init__(in_channels, hidden_channels, num_layers, dropout, separate_ego, cached)

    def make_conv(self, c_in, c_out):
        cls = GATv2Conv if self.v2 else GATConv
        return EdgeIndexConv(cls(c_in, c_out // self.heads, heads=self.heads, add_self_loops=self.ego is None))

    def build_propagation(self, edge_index, num_nodes):  # GATConv adds the self-loops itself when mixed
        return Propagation(None, None, remove_self_loops(edge_index)[0])

    def extra_repr_args(self):
        return f', heads={self.heads}, v2={self.v2}'


class GINEncoder(LinkEncoder):
    r"""GIN (Xu et al., ICLR 2019, :math:`\epsilon = 0`) with a 2-layer MLP per layer; mixed =
    :math:`\mathrm{MLP}(h_v + \sum h_u)`, separated = :math:`W_{\text{self}} h_v + \mathrm{MLP}(\sum h_u)`."""

    def make_conv(self, c_in, c_out):
        return SpmmMLP(c_in, c_out)


class GPRGNNEncoder(LinkEncoder):
    """GPRGNN (Chien et al., ICLR 2021): ``num_layers``-layer MLP then ``K`` steps of generalised PageRank."""
    norm = 'sym'

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=False, K: int = 10,
                 alpha: float = 0.1, cached=False):
        if separate_ego == 'concat':
            raise ValueError("GPRGNN keeps the ego term as gamma_0 * H; use separate_ego=True, not 'concat'")
        if isinstance(K, bool) or not isinstance(K, int) or K < 1 or not 0 < alpha <= 1:
            raise ValueError(f'GPRGNN needs an int K >= 1 and alpha in (0, 1], got K={K!r}, alpha={alpha}')
        self.K, self.alpha = K, alpha
        super().__init__(in_channels, hidden_channels, num_layers, dropout, separate_ego, cached)
        gamma = alpha * (1 - alpha) ** torch.arange(K + 1, dtype=torch.float)
        gamma[-1] = (1 - alpha) ** K
        self.gamma = Parameter(gamma)

    def make_layer(self, c_in, c_out):
        return Linear(c_in, c_out)

    def forward(self, x, edge_index, num_graph_nodes=None):
        _check_inputs(x, edge_index, self.in_channels)
        prop = self.propagation(edge_index, x.size(0))
        h = x
        for layer, lin in enumerate(self.convs):
            if layer > 0:
                h = F.relu(h)
            h = lin(F.dropout(h, p=self.dropout, training=self.training))
        out = self.gamma[0] * h
        for k in range(1, self.K + 1):
            h = spmm(prop.csr, h, prop.weight)
            out = out + self.gamma[k] * h
        return out if num_graph_nodes is None else out[:num_graph_nodes]

    def extra_repr_args(self):
        return f', K={self.K}, alpha={self.alpha}'


class MLPEncoder(torch.nn.Module):
    """No GNN: features go to the decoder directly (``num_layers=0``) or through an MLP; the graph is ignored."""

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=False, cached=False):
        super().__init__()
        if ego_mode(separate_ego) is not None:
            raise ValueError('the no-GNN encoder aggregates no neighbours: separate_ego does not apply')
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f'num_layers must be an int >= 0, got {num_layers!r}')
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.out_channels = hidden_channels if num_layers else in_channels
        self.num_layers, self.dropout, self.ego, self.cached = num_layers, dropout, None, cached
        self.convs = ModuleList([Linear(in_channels if i == 0 else hidden_channels, hidden_channels)
                                 for i in range(num_layers)])

    def forward(self, x, edge_index=None, num_graph_nodes=None):
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f'x must be [N, {self.in_channels}], got {getattr(x, "shape", type(x))}')
        h = x
        for i, lin in enumerate(self.convs):
            if i > 0:
                h = F.dropout(F.relu(h), p=self.dropout, training=self.training)
            h = lin(h)
        return h if num_graph_nodes is None else h[:num_graph_nodes]

    def __repr__(self):
        return f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, num_layers={self.num_layers})'


#: encoder name -> (class, extra keyword arguments)
ENCODERS = {
    'gcn': (GCNEncoder, {}),
    'sage': (SAGEEncoder, {}),
    'gat': (GATEncoder, {'v2': False}),
    'gatv2': (GATEncoder, {'v2': True}),
    'gin': (GINEncoder, {}),
    'gprgnn': (GPRGNNEncoder, {}),
    'none': (MLPEncoder, {}),
}


def build_encoder(name: str, in_channels: int, hidden_channels: int = 256, num_layers: int = 2,
                  dropout: float = 0.0, separate_ego: Optional[SeparateEgo] = None, **kwargs) -> LinkEncoder:
    """Encoder by name (``ENCODERS`` keys). ``separate_ego=None`` = the encoder's native choice (separate for
    ``sage``, mixed for the others); extra ``kwargs`` go to the class (e.g. ``heads``, ``K``, ``alpha``,
    ``cached``)."""
    if name not in ENCODERS:
        raise KeyError(f'unknown encoder {name!r}; choose from {sorted(ENCODERS)}')
    cls, extra = ENCODERS[name]
    kw = dict(extra, **kwargs)
    if separate_ego is not None:
        kw['separate_ego'] = separate_ego
    return cls(in_channels, hidden_channels, num_layers=num_layers, dropout=dropout, **kw)
