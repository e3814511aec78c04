"""GAT baseline (Velickovic et al., ICLR 2018) built from PyG's :class:`~torch_geometric.nn.GATConv`."""
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv as PyGGATConv
from torch_geometric.typing import OptPairTensor, OptTensor
from torch_geometric.utils import add_self_loops, remove_self_loops, softmax

from graphite.nn.stacked_gnn import StackedGNN
from graphite.ops import CSR, spmm

__all__ = ['GAT', 'GATConv', 'AttentionGraph', 'attention_graph']


class AttentionGraph(NamedTuple):
    r"""The graph a :class:`GATConv` attends over, built once per call: the CSR of the edges (with the self-loops
    that :class:`~torch_geometric.nn.GATConv` adds) and each edge's source ``src [E]`` and target ``dst [E]``, in the
    order of the ``edge_index`` the CSR was built from (the order :func:`graphite.ops.spmm` takes edge weights in)."""
    csr: CSR
    src: Tensor
    dst: Tensor


def attention_graph(edge_index: Tensor, num_nodes: int, self_loops: bool = True) -> AttentionGraph:
    """:class:`AttentionGraph` of ``edge_index``; with ``self_loops``, PyG's ``remove_self_loops`` then
    ``add_self_loops``, as :class:`~torch_geometric.nn.GATConv` does on every call (duplicated edges stay)."""
    CSR.check_edge_index(edge_index, num_nodes)
    if self_loops:
        edge_index, _ = add_self_loops(remove_self_loops(edge_index)[0], num_nodes=num_nodes)
    return AttentionGraph(CSR.from_edge_index(edge_index, num_nodes), edge_index[0], edge_index[1])


class GATConv(PyGGATConv):
    r"""PyG's :class:`~torch_geometric.nn.GATConv` (same parameters, same result on an ``edge_index`` or a sparse
    adjacency) that also takes an :class:`AttentionGraph`. It then computes the attention coefficients per edge
    and head (``[E, heads]``, as PyG does) and aggregates each head with :func:`graphite.ops.spmm`, the
    coefficients as edge weights, so no per-edge ``[E, heads * C]`` message is built. Over an
    :class:`AttentionGraph`: one ``x``, no ``edge_attr``, no ``return_attention_weights`` (otherwise a one-line
    error; PyG's path on an ``edge_index``)."""

    # PyG generates ``propagate`` / ``edge_updater`` from the class source; a subclass of the same name states them
    propagate_type = {'x': OptPairTensor, 'alpha': Tensor}
    edge_updater_type = {'alpha': OptPairTensor, 'edge_attr': OptTensor}

    def forward(self, x, edge_index, edge_attr=None, size=None, return_attention_weights=None):
        if not isinstance(edge_index, AttentionGraph):
            return super().forward(x, edge_index, edge_attr, size, return_attention_weights)
        if not isinstance(x, Tensor) or self.lin is None or edge_attr is not None or \
                return_attention_weights is not None:
            raise ValueError('GATConv attends over an AttentionGraph only with one x, shared source/target weights, '
                             'no edge_attr and no return_attention_weights')
        graph, heads, channels = edge_index, self.heads, self.out_channels
        res = self.res(x) if self.res is not None else None
        h = self.lin(x).view(-1, heads, channels)
        score_src = (h * self.att_src).sum(-1)                                    # [N, heads]
        score_dst = (h * self.att_dst).sum(-1)
        alpha = F.leaky_relu(score_src[graph.src] + score_dst[graph.dst], self.negative_slope)  # [E, heads]
        alpha = softmax(alpha, graph.dst, num_nodes=x.size(0))
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        out = torch.stack([spmm(graph.csr, h[:, k], alpha[:, k]) for k in range(heads)], dim=1)  # [N, heads, C]
        out = out.reshape(-1, heads * channels) if self.concat else out.mean(dim=1)
        if res is not None:
            out = out + res
        return out if self.bias is None else out + self.bias


class GAT(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.GATConv`:
    :math:`h'_i = \Vert_{k} \sum_j \alpha^k_{ij} W^k h_j` with
    :math:`\alpha_{ij} = \operatorname{softmax}_j(\mathrm{LeakyReLU}(a^\top [W h_i \Vert W h_j]))`.

    The model builds the graph of its call with self-loops once (:func:`attention_graph`) and every layer aggregates
    with :func:`graphite.ops.spmm` (:class:`GATConv`): per-edge tensors are ``[E, heads]``, memory
    :math:`O(N \cdot H + E \cdot \mathrm{heads})`; the result equals PyG's per-edge computation up to floating-point
    summation order. Its convolutions also take an ``edge_index`` as any ``GATConv`` does.

    Args:
        in_channels, hidden_channels, out_channels, num_layers, dropout: as
            :class:`~graphite.nn.stacked_gnn.StackedGNN`; ``hidden_channels`` is the total size over heads.
        heads (int, optional): attention heads of the hidden layers (the output layer has one). (default: ``8``)
        attention_dropout (float, optional): dropout on the attention coefficients. (default: ``0.0``)
        **options: the recipe options of :class:`~graphite.nn.stacked_gnn.StackedGNN`.
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, heads: int = 8, attention_dropout: float = 0.0, **options):
        if hidden_channels % heads:
            raise ValueError(f'hidden_channels ({hidden_channels}) must be divisible by heads ({heads})')
        self.heads, self.attention_dropout = heads, attention_dropout
        super().__init__(in_channels, hidden_channels, out_channels, num_layers, dropout, **options)

    def make_conv(self, in_channels, out_channels, last):
        if last:
            return GATConv(in_channels, out_channels, heads=1, dropout=self.attention_dropout,
                           add_self_loops=self.self_loops)
        return GATConv(in_channels, out_channels // self.heads, heads=self.heads, dropout=self.attention_dropout,
                       add_self_loops=self.self_loops)

    def propagation_graph(self, edge_index: Tensor, x: Tensor):
        return self.memo_graph(edge_index, x, ('attention', self.self_loops),
                               lambda n: attention_graph(edge_index, n, self.self_loops))
