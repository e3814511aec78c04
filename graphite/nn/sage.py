"""GraphSAGE baseline (Hamilton et al., NeurIPS 2017) built from PyG's :class:`~torch_geometric.nn.SAGEConv`."""
from torch_geometric.nn import SAGEConv

from graphite.nn.stacked_gnn import StackedGNN

__all__ = ['GraphSAGE']


class GraphSAGE(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.SAGEConv` with mean aggregation:
    :math:`h'_i = W_1 h_i + W_2 \operatorname{mean}_{j \in \mathcal{N}(i)} h_j` (ego and neighbours kept apart).
    Arguments as :class:`~graphite.nn.stacked_gnn.StackedGNN`."""

    def make_conv(self, in_channels, out_channels, last):
        # with ego separation the wrapper holds the ego term (root weight) itself
        return SAGEConv(in_channels, out_channels, aggr='mean', root_weight=self.ego is None)
