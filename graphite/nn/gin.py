"""GIN baseline (Xu et al., ICLR 2019) built from PyG's :class:`~torch_geometric.nn.GINConv`."""
from torch import nn
from torch_geometric.nn import GINConv

from graphite.nn.stacked_gnn import StackedGNN

__all__ = ['GIN']


class GIN(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.GINConv`:
    :math:`h'_i = \mathrm{MLP}((1 + \epsilon) h_i + \sum_{j \in \mathcal{N}(i)} h_j)` with a two-layer MLP
    (Linear-ReLU-Linear) and learnable :math:`\epsilon`. Arguments as :class:`~graphite.nn.stacked_gnn.StackedGNN`."""

    def make_conv(self, in_channels, out_channels, last):
        mlp = nn.Sequential(nn.Linear(in_channels, self.hidden_channels), nn.ReLU(),
                            nn.Linear(self.hidden_channels, out_channels))
        return GINConv(mlp, train_eps=True)
