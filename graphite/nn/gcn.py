"""GCN baseline (Kipf & Welling, ICLR 2017) built from PyG's :class:`~torch_geometric.nn.GCNConv`."""
from torch_geometric.nn import GCNConv

from graphite.memo import graph_memo
from graphite.nn.stacked_gnn import StackedGNN

__all__ = ['GCN']


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
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, cached: bool = False, **options):
        self.cached = bool(cached)
        super().__init__(in_channels, hidden_channels, out_channels, num_layers, dropout, **options)
        self._memo = graph_memo(self.cached)

    def make_conv(self, in_channels, out_channels, last):
        return GCNConv(in_channels, out_channels, cached=self.cached, add_self_loops=self.self_loops)
