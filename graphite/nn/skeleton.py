r"""The options of the "strong classic baseline" recipe, shared by :class:`~graphite.nn.stacked_gnn.StackedGNN`
(GCN, GraphSAGE, GAT, GIN) and :class:`~graphite.nn.GraphiteNet`.

Luo et al. ("Classic GNNs are Strong Baselines", NeurIPS 2024, ``LUOyk1999/tunedGNN``, ``medium_graph/model.py``)
and Platonov et al. (ICLR 2023, ``yandex-research/heterophilous-graphs``, ``ResidualModuleWrapper``) show that
residual connections, normalisation, depth, input/output linear layers, dropout placement and ego/neighbour
separation decide most of the accuracy on the heterophily benchmarks. The options, with the same names in every
model:

* ``norm``: ``'none'``, ``'batch'`` (:class:`~torch.nn.BatchNorm1d`) or ``'layer'`` (:class:`~torch.nn.LayerNorm`)
  -- :func:`norm_kind` also accepts ``False``/``True`` (``True`` = ``'layer'``) and builds it with :func:`make_norm`;
* ``residual``: ``'none'``; ``'sum'`` (identity skip :math:`h + f(h)`, a linear projection when the sizes differ);
  ``'linear'`` (:math:`f(h) + W h`, tunedGNN's ``--res``); ``'initial'`` (:math:`f(h) + \epsilon h^{(0)}`, the
  initial residual of FAGCN/GCNII) -- :func:`residual_mode`, applied by :class:`Residual`;
* ``jk``: ``False``/``'none'``, ``'sum'`` (``True``; tunedGNN's ``--jk``: the sum of the block outputs) or
  ``'cat'`` -- :func:`jk_mode`;
* ``pre_linear`` (an input linear layer to the hidden size) and an output linear layer;
* per-place dropout: ``input_dropout`` (raw features), ``dropout`` (hidden representations);
* ``separate_ego``: ego/neighbour separation (:class:`~graphite.nn.EgoSeparation`).

The default of every option is the model's historical behaviour, so existing configs and results keep their meaning
(``tests/test_nn.py`` checks the defaults against the formulas of the plain models).
"""
from __future__ import annotations

from typing import Optional, Union

from torch import Tensor, nn

__all__ = ['NORMS', 'RESIDUALS', 'JK_MODES', 'norm_kind', 'make_norm', 'residual_mode', 'jk_mode', 'Residual']

NORMS = ('none', 'batch', 'layer')
RESIDUALS = ('none', 'sum', 'linear', 'initial')
JK_MODES = ('none', 'sum', 'cat')


def _option(name: str, value, choices, true_value: str) -> str:
    """``False``/``None`` -> ``'none'``, ``True`` -> ``true_value``, a member of ``choices`` -> itself."""
    if value is None or value is False:
        return 'none'
    if value is True:
        return true_value
    if value in choices:
        return value
    raise ValueError(f"{name} must be one of {choices} (or a bool), got {value!r}")


def norm_kind(norm: Union[bool, str, None]) -> str:
    """``False``/``None``/``'none'`` -> ``'none'``, ``True``/``'layer'`` -> ``'layer'``, ``'batch'`` -> ``'batch'``."""
    return _option('norm', norm, NORMS, 'layer')


def make_norm(norm: Union[bool, str, None], channels: int) -> Optional[nn.Module]:
    """The normalisation layer of kind ``norm`` (:func:`norm_kind`) on ``channels``, or :obj:`None` for ``'none'``."""
    kind = norm_kind(norm)
    if kind == 'batch':
        return nn.BatchNorm1d(channels)
    if kind == 'layer':
        return nn.LayerNorm(channels)
    return None


def residual_mode(residual: Union[bool, str, None]) -> str:
    """``False``/``None`` -> ``'none'``, ``True`` -> ``'sum'``, else one of :data:`RESIDUALS`."""
    return _option('residual', residual, RESIDUALS, 'sum')


def jk_mode(jk: Union[bool, str, None]) -> str:
    """``False``/``None`` -> ``'none'``, ``True`` -> ``'sum'``, else one of :data:`JK_MODES`."""
    return _option('jk', jk, JK_MODES, 'sum')


class Residual(nn.Module):
    r"""The skip connection of one block: ``Residual(mode, in, out)(out, h, h0)`` returns

    * ``'none'``: ``out``;
    * ``'sum'``: ``out + h`` (``out + W h`` when ``in != out``);
    * ``'linear'``: ``out + W h + b`` (tunedGNN's ``local_conv(x) + lins[i](x)``);
    * ``'initial'``: ``out + eps * h0`` (``h0`` the representation entering the first block).

    Args:
        mode (str or bool): see :func:`residual_mode`.
        in_channels (int): size of ``h``.
        out_channels (int): size of ``out``.
        eps (float, optional): weight of ``h0`` for ``'initial'``. (default: ``1.0``)
    """

    def __init__(self, mode, in_channels: int, out_channels: int, eps: float = 1.0):
        super().__init__()
        self.mode, self.eps = residual_mode(mode), float(eps)
        self.lin = None
        if self.mode == 'linear' or (self.mode == 'sum' and in_channels != out_channels):
            self.lin = nn.Linear(in_channels, out_channels, bias=self.mode == 'linear')

    def reset_parameters(self):
        if self.lin is not None:
            self.lin.reset_parameters()

    def forward(self, out: Tensor, h: Tensor, h0: Optional[Tensor] = None) -> Tensor:
        if self.mode == 'none':
            return out
        if self.mode == 'initial':
            if h0 is None or h0.shape != out.shape:
                raise ValueError("residual='initial' needs the initial representation h0 of the output's shape "
                                 '(use pre_linear=True when the input size differs from the hidden size)')
            return out + self.eps * h0
        return out + (self.lin(h) if self.lin is not None else h)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}" + (f', eps={self.eps}' if self.mode == 'initial' else '')
