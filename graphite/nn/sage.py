"""GraphSAGE baseline (Hamilton et al., NeurIPS 2017) built from PyG's :class:`~torch_geometric.nn.SAGEConv`."""
from typing import Optional, Tuple

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import SAGEConv as PyGSAGEConv

from graphite.nn.stacked_gnn import StackedGNN
from graphite.ops import CSR, spmm

__all__ = ['GraphSAGE', 'SAGEConv']


class SAGEConv(PyGSAGEConv):
    r"""PyG's :class:`~torch_geometric.nn.SAGEConv` (same parameters, same result on an ``edge_index`` or a sparse
    adjacency) that also takes a :class:`graphite.ops.CSR`: it then aggregates with :func:`graphite.ops.spmm`
    (no per-edge ``[E, H]`` messages), with aggregation ``sum`` / ``mean`` / ``max`` / ``min``, a single ``x`` and
    ``project=False`` (other settings: a one-line error; PyG's path on an ``edge_index``)."""

    # PyG generates ``propagate`` from the class source; a subclass of the same name must state the arguments
    propagate_type = {'x': Tuple[Tensor, Optional[Tensor]]}

    def forward(self, x, edge_index, size=None) -> Tensor:
        if not isinstance(edge_index, CSR):
            return super().forward(x, edge_index, size)
        aggr = {'add': 'sum'}.get(self.aggr, self.aggr)
        if not isinstance(x, Tensor) or self.project or aggr not in ('sum', 'mean', 'max', 'min'):
            raise ValueError('SAGEConv aggregates over a graphite.ops.CSR only with one x, project=False and a '
                             f'sum/mean/max/min aggregation (got aggr={self.aggr!r}, project={self.project})')
        out = self.lin_l(spmm(edge_index, x, reduce=aggr))
        if self.root_weight:
            out = out + self.lin_r(x)
        return F.normalize(out, p=2., dim=-1) if self.normalize else out


class GraphSAGE(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.SAGEConv` with mean aggregation:
    :math:`h'_i = W_1 h_i + W_2 \operatorname{mean}_{j \in \mathcal{N}(i)} h_j` (ego and neighbours kept apart).
    Arguments as :class:`~graphite.nn.stacked_gnn.StackedGNN`. Every layer aggregates with
    :func:`graphite.ops.spmm` over the CSR of the call's graph (:class:`SAGEConv`); equal to PyG's per-edge path up
    to floating-point summation order."""

    def make_conv(self, in_channels, out_channels, last):
        # with ego separation the wrapper holds the ego term (root weight) itself
        return SAGEConv(in_channels, out_channels, aggr='mean', root_weight=self.ego is None)

    def propagation_graph(self, edge_index: Tensor, x: Tensor):
        return self.csr_graph(edge_index, x)
