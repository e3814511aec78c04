"""GCN baseline (Kipf & Welling, ICLR 2017) built from PyG's :class:`~torch_geometric.nn.GCNConv`."""
from typing import NamedTuple, Optional

import torch
from torch import Tensor
from torch_geometric.nn import GCNConv as PyGGCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from graphite.memo import graph_memo
from graphite.nn.stacked_gnn import StackedGNN
from graphite.ops import CSR, spmm

__all__ = ['GCN', 'GCNConv', 'NormalizedGraph', 'normalized_graph']


class NormalizedGraph(NamedTuple):
    r"""A graph with GCN's normalisation applied once: the CSR of the edges (with the self-loops that
    :class:`~torch_geometric.nn.GCNConv` adds) and the weights :math:`\hat d_i^{-1/2} \hat d_j^{-1/2}` in the order
    of ``edge_index``, ready for :func:`graphite.ops.spmm`."""
    csr: CSR
    weight: Tensor


def normalized_graph(edge_index: Tensor, num_nodes: int, self_loops: bool = True,
                     dtype: torch.dtype = torch.float32) -> NormalizedGraph:
    """PyG's own :func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm` of ``edge_index`` (``add_remaining_self_loops``
    when ``self_loops``; duplicated edges count twice, as their messages would) as a :class:`NormalizedGraph`."""
    CSR.check_edge_index(edge_index, num_nodes)  # a clear error before gcn_norm indexes with it
    edge_index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=self_loops, dtype=dtype)
    return NormalizedGraph(CSR.from_edge_index(edge_index, num_nodes), weight)


class GCNConv(PyGGCNConv):
    r"""PyG's :class:`~torch_geometric.nn.GCNConv` (same parameters and arguments, same result on an ``edge_index``
    or a sparse adjacency) that also takes a :class:`NormalizedGraph`: it then aggregates with
    :func:`graphite.ops.spmm` (a CSR sparse matrix product: no per-edge ``[E, H]`` messages, no normalisation per
    layer; torch, torch-scatter or Triton backend as :mod:`graphite.ops` chooses)."""

    # PyG generates ``propagate`` from the class source; a subclass of the same name must state the arguments
    propagate_type = {'x': Tensor, 'edge_weight': Optional[Tensor]}

    def forward(self, x: Tensor, edge_index, edge_weight: Optional[Tensor] = None) -> Tensor:
        if not isinstance(edge_index, NormalizedGraph):
            return super().forward(x, edge_index, edge_weight)
        if edge_weight is not None:
            raise ValueError('a NormalizedGraph carries its own edge weights; pass edge_weight=None')
        out = spmm(edge_index.csr, self.lin(x), edge_index.weight)
        return out if self.bias is None else out + self.bias


class GCN(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.GCNConv`:
    :math:`h' = \hat D^{-1/2} (A + I) \hat D^{-1/2} h W`. Arguments as :class:`~graphite.nn.stacked_gnn.StackedGNN`,
    plus

    Args:
        cached (bool, optional): keep the normalised adjacency between calls on the same, unchanged
            ``edge_index`` (transductive full-batch training, see :mod:`graphite.memo`); the model always
            computes on the graph it is called with. (default: :obj:`False`)
        **options: the recipe options of :class:`~graphite.nn.stacked_gnn.StackedGNN` (``norm``, ``residual``,
            ``pre_linear``, ``jk``, ``input_dropout``, ``separate_ego``, ...).

    The model normalises the graph of its call once (:func:`normalized_graph`, or once per graph with ``cached``)
    and every layer aggregates by a sparse matrix product (:class:`GCNConv`), memory :math:`O(N \cdot H + E)`;
    the result equals PyG's per-edge computation up to floating-point summation order
    (``benchmarks/baselines_spmm.py`` times both). Its convolutions also take an ``edge_index`` as any ``GCNConv`` does.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, cached: bool = False, **options):
        self.cached = bool(cached)
        super().__init__(in_channels, hidden_channels, out_channels, num_layers, dropout, **options)
        self._memo = graph_memo(self.cached)

    def make_conv(self, in_channels, out_channels, last):
        return GCNConv(in_channels, out_channels, cached=self.cached, add_self_loops=self.self_loops)

    def propagation_graph(self, edge_index: Tensor, x: Tensor):
        # a SparseTensor / torch.sparse adjacency passes unchanged: GCNConv normalises it as usual
        return self.memo_graph(edge_index, x, ('gcn_norm', self.self_loops, x.dtype),
                               lambda n: normalized_graph(edge_index, n, self.self_loops, x.dtype))
