"""GIN baseline (Xu et al., ICLR 2019) built from PyG's :class:`~torch_geometric.nn.GINConv`."""
from typing import Optional, Tuple

from torch import Tensor, nn
from torch_geometric.nn import GINConv as PyGGINConv

from graphite.nn.stacked_gnn import StackedGNN
from graphite.ops import CSR, spmm

__all__ = ['GIN', 'GINConv']


class GINConv(PyGGINConv):
    r"""PyG's :class:`~torch_geometric.nn.GINConv` (same parameters, same result on an ``edge_index`` or a sparse
    adjacency) that also takes a :class:`graphite.ops.CSR`: the neighbour sum is then :func:`graphite.ops.spmm` (no
    per-edge ``[E, H]`` messages). A single ``x`` only."""

    # PyG generates ``propagate`` from the class source; a subclass of the same name must state the arguments
    propagate_type = {'x': Tuple[Tensor, Optional[Tensor]]}

    def forward(self, x, edge_index, size=None) -> Tensor:
        if not isinstance(edge_index, CSR):
            return super().forward(x, edge_index, size)
        if not isinstance(x, Tensor) or self.aggr not in ('add', 'sum'):
            raise ValueError(f'GINConv aggregates over a graphite.ops.CSR only with one x and sum aggregation '
                             f'(got aggr={self.aggr!r})')
        return self.nn(spmm(edge_index, x) + (1 + self.eps) * x)


class GIN(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.GINConv`:
    :math:`h'_i = \mathrm{MLP}((1 + \epsilon) h_i + \sum_{j \in \mathcal{N}(i)} h_j)` with a two-layer MLP
    (Linear-ReLU-Linear) and learnable :math:`\epsilon`. Arguments as :class:`~graphite.nn.stacked_gnn.StackedGNN`.
    Every layer sums the neighbours with :func:`graphite.ops.spmm` over the CSR of the call's graph
    (:class:`GINConv`); equal to PyG's per-edge path up to floating-point summation order."""

    def make_conv(self, in_channels, out_channels, last):
        mlp = nn.Sequential(nn.Linear(in_channels, self.hidden_channels), nn.ReLU(),
                            nn.Linear(self.hidden_channels, out_channels))
        return GINConv(mlp, train_eps=True)

    def propagation_graph(self, edge_index: Tensor, x: Tensor):
        return self.csr_graph(edge_index, x)
