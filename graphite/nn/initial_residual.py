"""The frame shared by the models whose layers mix in the initial representation :math:`h^{(0)}` (FAGCN, GCNII):
input linear layer, a stack of PyG convolutions called as ``conv(h, x0, edge_index)``, output linear layer."""
from __future__ import annotations

from typing import Callable, Iterable

from torch import nn

from graphite.memo import graph_memo
from graphite.nn.input_linear import InputLinear

__all__ = ['InitialResidualStack']


class InitialResidualStack(nn.Module):
    """``lin_in`` (:class:`~graphite.nn.input_linear.InputLinear`), ``convs`` and ``lin_out``; subclasses write
    ``forward`` (where the activation and dropout go differs between the papers).

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size (input and output of every convolution).
        out_channels (int): number of classes.
        make_convs (callable): returns the convolutions, in order; called between creating ``lin_in`` and
            ``lin_out`` so that a seeded model draws its initial weights in that order.
        dropout (float): dropout probability (its places are the subclass's).
        cached (bool): opt-in graph cache (:func:`graphite.memo.graph_memo`).
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 make_convs: Callable[[], Iterable[nn.Module]], dropout: float, cached: bool):
        super().__init__()
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.dropout = float(dropout)
        self.lin_in = InputLinear(in_channels, hidden_channels)
        self.convs = nn.ModuleList(make_convs())
        self.lin_out = nn.Linear(hidden_channels, out_channels)
        self._memo = graph_memo(cached)

    def reset_parameters(self):
        self.lin_in.reset_parameters()
        for conv in self.convs:
            conv.reset_parameters()
        self.lin_out.reset_parameters()

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'num_layers={len(self.convs)})')
