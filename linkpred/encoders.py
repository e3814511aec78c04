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
all nodes, only the first :math:`N` embeddings are returned (only graph nodes are scored). GCN, GraphSAGE, GIN and
GPRGNN run on a ``torch.sparse_csr`` adjacency built once per ``edge_index`` object and cached (no per-edge
``[E, H]`` message tensors); GAT needs per-edge attention and runs on ``edge_index``.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, ModuleList, Parameter
from torch_geometric.nn import GATConv, GATv2Conv, GCNConv, GINConv, SAGEConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, remove_self_loops, to_torch_csr_tensor

__all__ = ['LinkEncoder', 'GCNEncoder', 'SAGEEncoder', 'GATEncoder', 'GINEncoder', 'GPRGNNEncoder', 'MLPEncoder',
           'ENCODERS', 'build_encoder']

SeparateEgo = Union[bool, str]


def _ego_mode(separate_ego: SeparateEgo) -> Optional[str]:
    if separate_ego is False or separate_ego is None:
        return None
    if separate_ego is True or separate_ego == 'sum':
        return 'sum'
    if separate_ego == 'concat':
        return 'concat'
    raise ValueError(f"separate_ego must be False, True, 'sum' or 'concat', got {separate_ego!r}")


class LinkEncoder(torch.nn.Module):
    r"""Base class: ``num_layers`` message-passing layers with ReLU + dropout between them (not after the last).

    Args:
        in_channels (int): input feature size :math:`F`.
        hidden_channels (int): hidden and output size :math:`d`.
        num_layers (int): number of layers (>= 1).
        dropout (float): dropout on the input of each layer after the first.
        separate_ego (bool or str): ``False`` (mixed), ``True``/``'sum'`` or ``'concat'`` (see module docstring).
    """
    #: whether the layers consume a sparse adjacency (else ``edge_index``)
    sparse_adjacency = True

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 2, dropout: float = 0.0,
                 separate_ego: SeparateEgo = False):
        super().__init__()
        if in_channels < 1 or hidden_channels < 1:
            raise ValueError(f'in_channels and hidden_channels must be >= 1, got {in_channels}, {hidden_channels}')
        if num_layers < 1:
            raise ValueError(f'{type(self).__name__} needs num_layers >= 1, got {num_layers}')
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f'dropout must be in [0, 1), got {dropout}')
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, hidden_channels
        self.num_layers, self.dropout = num_layers, dropout
        self.ego = _ego_mode(separate_ego)
        self.convs = ModuleList()
        self.self_lins = ModuleList()
        for layer in range(num_layers):
            c_in = in_channels if layer == 0 else hidden_channels
            c_conv_out = hidden_channels
            self.convs.append(self.make_conv(c_in, c_conv_out))
            if self.ego == 'sum':
                self.self_lins.append(Linear(c_in, hidden_channels, bias=False))
            elif self.ego == 'concat':
                self.self_lins.append(Linear(c_in + c_conv_out, hidden_channels))
        self._cache_key: Optional[Tuple[Tensor, int]] = None
        self._cache_adj = None

    # subclasses ---------------------------------------------------------------------------------------------
    def make_conv(self, c_in: int, c_out: int) -> torch.nn.Module:
        raise NotImplementedError

    @property
    def add_loops(self) -> bool:
        """Whether the aggregation graph carries self-loops (mixed encoders that do not add them themselves)."""
        return False

    def conv_forward(self, layer: int, h: Tensor, adj) -> Tensor:
        return self.convs[layer](h, adj)

    # ---------------------------------------------------------------------------------------------------------
    def adjacency(self, edge_index: Tensor, num_nodes: int):
        """Aggregation structure for ``edge_index``: self-loops removed (and re-added when :attr:`add_loops`),
        as a ``torch.sparse_csr`` ``adj_t`` (rows = targets) or an ``edge_index``; cached per tensor object."""
        if self._cache_key is not None and self._cache_key[0] is edge_index and self._cache_key[1] == num_nodes:
            return self._cache_adj
        ei, _ = remove_self_loops(edge_index)
        if self.add_loops:
            ei, _ = add_self_loops(ei, num_nodes=num_nodes)
        adj = self.build_adjacency(ei, num_nodes)
        self._cache_key, self._cache_adj = (edge_index, num_nodes), adj
        return adj

    def build_adjacency(self, edge_index: Tensor, num_nodes: int):
        if not self.sparse_adjacency:
            return edge_index
        return to_torch_csr_tensor(edge_index.flip(0), size=(num_nodes, num_nodes))

    def forward(self, x: Tensor, edge_index: Tensor, num_graph_nodes: Optional[int] = None) -> Tensor:
        """Embeddings ``[num_graph_nodes or N', d]`` of the (graph) nodes."""
        _check_inputs(x, edge_index, self.in_channels)
        adj = self.adjacency(edge_index, x.size(0))
        h = x
        for layer in range(self.num_layers):
            if layer > 0:
                h = F.dropout(F.relu(h), p=self.dropout, training=self.training)
            agg = self.conv_forward(layer, h, adj)
            if self.ego == 'sum':
                agg = agg + self.self_lins[layer](h)
            elif self.ego == 'concat':
                agg = self.self_lins[layer](torch.cat([h, agg], dim=-1))
            h = agg
        return h if num_graph_nodes is None else h[:num_graph_nodes]

    def __repr__(self) -> str:
        sep = {None: '', 'sum': ', separate_ego=sum', 'concat': ', separate_ego=concat'}[self.ego]
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, '
                f'num_layers={self.num_layers}{sep})')


def _check_inputs(x: Tensor, edge_index: Tensor, in_channels: int) -> None:
    if not isinstance(x, Tensor) or x.dim() != 2:
        raise ValueError(f'x must be a [N, F] tensor, got {getattr(x, "shape", type(x))}')
    if x.size(1) != in_channels:
        raise ValueError(f'x has {x.size(1)} features, the encoder expects {in_channels}')
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f'edge_index must be a [2, E] tensor, got {getattr(edge_index, "shape", edge_index)}')
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= x.size(0)):
        raise ValueError(f'edge_index has node indices outside [0, {x.size(0)})')


class GCNEncoder(LinkEncoder):
    """GCN (Kipf & Welling, ICLR 2017); mixed = symmetric normalisation with self-loops (see module docstring)."""

    def make_conv(self, c_in, c_out):
        # The adjacency is normalised once per graph in build_adjacency (cached), so the conv does not renormalise.
        return GCNConv(c_in, c_out, add_self_loops=False, normalize=False, bias=True)

    @property
    def add_loops(self) -> bool:
        return self.ego is None

    def build_adjacency(self, edge_index, num_nodes):
        ei, w = gcn_norm(edge_index, None, num_nodes, add_self_loops=False)
        return to_torch_csr_tensor(ei.flip(0), w, size=(num_nodes, num_nodes))


class SAGEEncoder(LinkEncoder):
    """GraphSAGE-mean (Hamilton et al., NeurIPS 2017). Separated (``True``/``'sum'``) is the native
    :math:`W_1 h_v + W_2 \\mathrm{mean}_{N(v)} h_u`; mixed is :math:`W \\mathrm{mean}_{N(v) \\cup \\{v\\}} h_u`."""

    def make_conv(self, c_in, c_out):
        return SAGEConv(c_in, c_out, aggr='mean', root_weight=self._native_root, bias=True)

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=True):
        mode = _ego_mode(separate_ego)
        self._native_root = mode == 'sum'
        super().__init__(in_channels, hidden_channels, num_layers, dropout, separate_ego)
        if mode == 'sum':  # SAGEConv's own lin_r is the self weight
            self.ego = 'native'
            self.self_lins = ModuleList()

    @property
    def add_loops(self) -> bool:
        return self.ego is None

    def __repr__(self) -> str:
        if self.ego == 'native':
            return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, '
                    f'num_layers={self.num_layers}, separate_ego=sum)')
        return super().__repr__()


class GATEncoder(LinkEncoder):
    """GAT (Velickovic et al., ICLR 2018) or GATv2 (Brody et al., ICLR 2022, ``v2=True``), ``heads`` concatenated
    heads of size ``hidden_channels // heads``; mixed = attention over :math:`N(v) \\cup \\{v\\}`."""
    sparse_adjacency = False

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=False, heads: int = 4,
                 v2: bool = True):
        if hidden_channels % heads:
            raise ValueError(f'hidden_channels ({hidden_channels}) must be divisible by heads ({heads})')
        self.heads, self.v2 = heads, v2
        super().__init__(in_channels, hidden_channels, num_layers, dropout, separate_ego)

    def make_conv(self, c_in, c_out):
        cls = GATv2Conv if self.v2 else GATConv
        return cls(c_in, c_out // self.heads, heads=self.heads, add_self_loops=self.ego is None)

    def adjacency(self, edge_index, num_nodes):
        return remove_self_loops(edge_index)[0] if self.ego is not None else edge_index


class GINEncoder(LinkEncoder):
    """GIN (Xu et al., ICLR 2019) with a 2-layer MLP per layer; mixed = :math:`\\mathrm{MLP}(h_v + \\sum h_u)`,
    separated = :math:`W_{\\text{self}} h_v + \\mathrm{MLP}(\\sum h_u)`."""

    def make_conv(self, c_in, c_out):
        mlp = torch.nn.Sequential(Linear(c_in, c_out), torch.nn.ReLU(), Linear(c_out, c_out))
        # eps = -1 removes the ego term from GIN's (1 + eps) h_v when it is kept separate
        return GINConv(mlp, eps=0.0 if self.ego is None else -1.0, train_eps=False)


class GPRGNNEncoder(LinkEncoder):
    """GPRGNN (Chien et al., ICLR 2021): ``num_layers``-layer MLP then ``K`` steps of generalised PageRank."""

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=False, K: int = 10,
                 alpha: float = 0.1):
        if separate_ego == 'concat':
            raise ValueError("GPRGNN keeps the ego term as gamma_0 * H; use separate_ego=True, not 'concat'")
        if K < 1 or not 0 < alpha <= 1:
            raise ValueError(f'GPRGNN needs K >= 1 and alpha in (0, 1], got K={K}, alpha={alpha}')
        self.K, self.alpha = K, alpha
        super().__init__(in_channels, hidden_channels, num_layers, dropout, False)
        self.ego = _ego_mode(separate_ego)
        self.self_lins = ModuleList()
        gamma = alpha * (1 - alpha) ** torch.arange(K + 1, dtype=torch.float)
        gamma[-1] = (1 - alpha) ** K
        self.gamma = Parameter(gamma)

    def make_conv(self, c_in, c_out):
        return Linear(c_in, c_out)

    # Same symmetric-normalised adjacency as GCN (self-loops only in the mixed mode).
    add_loops = GCNEncoder.add_loops
    build_adjacency = GCNEncoder.build_adjacency

    def forward(self, x, edge_index, num_graph_nodes=None):
        _check_inputs(x, edge_index, self.in_channels)
        adj = self.adjacency(edge_index, x.size(0))
        h = x
        for layer, lin in enumerate(self.convs):
            if layer > 0:
                h = F.relu(h)
            h = lin(F.dropout(h, p=self.dropout, training=self.training))
        out = self.gamma[0] * h
        for k in range(1, self.K + 1):
            h = torch.sparse.mm(adj, h)
            out = out + self.gamma[k] * h
        return out if num_graph_nodes is None else out[:num_graph_nodes]

    def __repr__(self):
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, num_layers={self.num_layers}, '
                f'K={self.K}, alpha={self.alpha}, separate_ego={self.ego is not None})')


class MLPEncoder(LinkEncoder):
    """No GNN: features go to the decoder directly (``num_layers=0``) or through an MLP; the graph is ignored."""

    def __init__(self, in_channels, hidden_channels, num_layers=2, dropout=0.0, separate_ego=False):
        if _ego_mode(separate_ego) is not None:
            raise ValueError('the no-GNN encoder aggregates no neighbours: separate_ego does not apply')
        torch.nn.Module.__init__(self)
        if num_layers < 0:
            raise ValueError(f'num_layers must be >= 0, got {num_layers}')
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.out_channels = hidden_channels if num_layers else in_channels
        self.num_layers, self.dropout, self.ego = num_layers, dropout, None
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
    ``sage``, mixed for the others); extra ``kwargs`` go to the class (e.g. ``heads``, ``K``, ``alpha``)."""
    if name not in ENCODERS:
        raise KeyError(f'unknown encoder {name!r}; choose from {sorted(ENCODERS)}')
    cls, extra = ENCODERS[name]
    kw = dict(extra, **kwargs)
    if separate_ego is not None:
        kw['separate_ego'] = separate_ego
    return cls(in_channels, hidden_channels, num_layers=num_layers, dropout=dropout, **kw)
