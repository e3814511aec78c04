"""GCN baseline (Kipf & Welling, ICLR 2017) built from PyG's :class:`~torch_geometric.nn.GCNConv`."""
from torch_geometric.nn import GCNConv

from graphite.nn.stacked_gnn import StackedGNN

__all__ = ['GCN']


class GCN(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.GCNConv`:
    :math:`h' = \hat D^{-1/2} (A + I) \hat D^{-1/2} h W`. Arguments as :class:`~graphite.nn.stacked_gnn.StackedGNN`.
    The normalisation is cached (transductive full-batch training)."""

    def make_conv(self, in_channels, out_channels, last):
        return GCNConv(in_channels, out_channels, cached=True)
