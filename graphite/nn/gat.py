"""GAT baseline (Velickovic et al., ICLR 2018) built from PyG's :class:`~torch_geometric.nn.GATConv`."""
from torch_geometric.nn import GATConv

from graphite.nn.stacked_gnn import StackedGNN

__all__ = ['GAT']


class GAT(StackedGNN):
    r"""Stacked :class:`~torch_geometric.nn.GATConv`:
    :math:`h'_i = \Vert_{k} \sum_j \alpha^k_{ij} W^k h_j` with
    :math:`\alpha_{ij} = \operatorname{softmax}_j(\mathrm{LeakyReLU}(a^\top [W h_i \Vert W h_j]))`.

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
