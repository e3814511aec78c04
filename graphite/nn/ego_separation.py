r"""Ego/neighbour separation as one wrapper around any neighbour-aggregation module.

Platonov et al. (ICLR 2023, ``yandex-research/heterophilous-graphs``, ``model.py``: ``ResidualModuleWrapper`` and
the ``*SepModule`` classes) and Zhu et al. (NeurIPS 2024) show that keeping a node's own ("ego") embedding apart
from its neighbours' aggregate matters under heterophily. :class:`EgoSeparation` turns a module
:math:`\mathrm{AGG}(h)` -- any layer ``module(h, *args) -> [N, C]`` that aggregates over the neighbours -- into

* ``mode=None`` (mixed): :math:`h'_v = \mathrm{AGG}(h)_v`; the caller runs AGG on a graph *with* self-loops, so the
  ego is one neighbour among others;
* ``mode='sum'``: :math:`h'_v = \mathrm{AGG}(h)_v + W_{\text{self}} h_v` (``Linear`` without bias; GraphSAGE's
  native form :math:`W_2 \,\mathrm{mean}_{N(v)} h_u + W_1 h_v`);
* ``mode='concat'``: :math:`h'_v = W [h_v \,\Vert\, \mathrm{AGG}(h)_v] + b` (the "-sep" modules of Platonov et al.).

In the separated modes AGG should run on the graph *without* self-loops (:meth:`EgoSeparation.self_loops` says
which graph a mode needs). :func:`ego_mode` normalises the user-facing switch (``False``/``True``/``'sum'``/
``'concat'``).
"""
from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor, nn

__all__ = ['EgoSeparation', 'ego_mode', 'EGO_MODES']

EGO_MODES = (None, 'sum', 'concat')


def ego_mode(separate_ego: Union[bool, str, None]) -> Optional[str]:
    """``False``/``None`` -> ``None`` (mixed), ``True``/``'sum'`` -> ``'sum'``, ``'concat'`` -> ``'concat'``."""
    if separate_ego is False or separate_ego is None:
        return None
    if separate_ego is True or separate_ego == 'sum':
        return 'sum'
    if separate_ego == 'concat':
        return 'concat'
    raise ValueError(f"separate_ego must be False, True, 'sum' or 'concat', got {separate_ego!r}")


class EgoSeparation(nn.Module):
    r"""``module`` (the neighbour aggregation) plus an ego term combined by ``mode`` (see module docstring).

    Args:
        module (nn.Module): ``module(h, *args, **kwargs) -> [N, agg_channels]``.
        in_channels (int): size of ``h``.
        out_channels (int): output size (= ``agg_channels`` unless ``mode='concat'``).
        mode (str or bool, optional): ``None``/``False``, ``'sum'``/``True`` or ``'concat'``.
        agg_channels (int, optional): output size of ``module`` (default ``out_channels``).
    """

    def __init__(self, module: nn.Module, in_channels: int, out_channels: int, mode=None,
                 agg_channels: Optional[int] = None):
        super().__init__()
        self.mode = ego_mode(mode)
        agg_channels = out_channels if agg_channels is None else agg_channels
        if min(in_channels, out_channels, agg_channels) < 1:
            raise ValueError(f'channel sizes must be >= 1, got {in_channels}, {out_channels}, {agg_channels}')
        if self.mode != 'concat' and agg_channels != out_channels:
            raise ValueError(f'mode={self.mode!r} adds the aggregate to the output: agg_channels ({agg_channels}) '
                             f'must equal out_channels ({out_channels})')
        self.module = module
        self.in_channels, self.out_channels, self.agg_channels = in_channels, out_channels, agg_channels
        if self.mode == 'sum':
            self.ego = nn.Linear(in_channels, out_channels, bias=False)
        elif self.mode == 'concat':
            self.ego = nn.Linear(in_channels + agg_channels, out_channels)
        else:
            self.ego = None

    @property
    def self_loops(self) -> bool:
        """Whether ``module`` should aggregate over a graph with self-loops (only in the mixed mode)."""
        return self.mode is None

    def reset_parameters(self):
        if hasattr(self.module, 'reset_parameters'):
            self.module.reset_parameters()
        if self.ego is not None:
            self.ego.reset_parameters()

    def forward(self, h: Tensor, *args, **kwargs) -> Tensor:
        agg = self.module(h, *args, **kwargs)
        if self.mode == 'sum':
            return agg + self.ego(h)
        if self.mode == 'concat':
            return self.ego(torch.cat([h, agg], dim=-1))
        return agg

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.module}, mode={self.mode})'
