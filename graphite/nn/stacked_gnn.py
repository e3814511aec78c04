"""Shared skeleton of the stacked baselines (GCN, GraphSAGE, GAT, GIN): L PyG convolutions with ReLU + dropout, plus
the options of the strong-baseline recipe (:mod:`graphite.nn.skeleton`)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from torch_geometric.utils import is_torch_sparse_tensor

from graphite.memo import memoize, reset_pyg_caches
from graphite.nn.dropout import dropout
from graphite.nn.ego_separation import EgoSeparation, ego_mode
from graphite.nn.input_linear import InputLinear
from graphite.nn.skeleton import Residual, jk_mode, make_norm, norm_kind, residual_mode
from graphite.ops import CSR

__all__ = ['StackedGNN']


class StackedGNN(nn.Module):
    r"""A stack of convolutions; subclasses implement :meth:`make_conv`. ``edge_type`` is accepted and ignored, so the
    model also runs on a GRAPHITE-transformed graph (where feature edges are treated like graph edges).

    With the default options it is the plain model
    :math:`h^{(l)} = \mathrm{ReLU}(\mathrm{Conv}_l(\mathrm{Dropout}(h^{(l-1)}), A))`, the last convolution mapping to
    the classes without ReLU, :math:`h^{(0)} = x`. The recipe options (the classic-GNN recipe of Luo et al., NeurIPS
    2024, ``tunedGNN``'s ``MPNNs``; see :mod:`graphite.nn.skeleton`) turn it into

    .. math::
        h^{(0)} &= \mathrm{Dropout}(W_{in}\, \mathrm{Dropout}_{in}(x)) \;\text{(``pre_linear``, else the dropped-out
        } x\text{)}, \\
        h^{(l)} &= \mathrm{Dropout}(\mathrm{ReLU}(\mathrm{Norm}(\mathrm{Conv}_l(h^{(l-1)}) + \mathrm{Res}(h^{(l-1)},
        h^{(0)})))), \\
        \hat y &= W_{out}\, \mathrm{JK}(h^{(1)}, \dots, h^{(L)}) \;\text{(output linear layer; JK = last, sum or cat).}

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden size.
        out_channels (int): number of classes.
        num_layers (int, optional): number of convolutions (>= 1; tunedGNN goes to 15). (default: ``2``)
        dropout (float, optional): dropout on hidden representations. (default: ``0.5``)
        input_dropout (float, optional): dropout on the input features; :obj:`None`: ``dropout`` (the plain models
            drop out before every convolution, the first included). (default: :obj:`None`)
        pre_linear (bool, optional): an input linear layer to ``hidden_channels`` before the first convolution
            (tunedGNN's ``--pre_linear``; no activation, then dropout). (default: ``False``)
        norm (str or bool, optional): ``'none'``, ``'batch'`` or ``'layer'`` after every hidden convolution (after the
            residual sum, as tunedGNN's ``--bn`` / ``--ln``). (default: ``'none'``)
        residual (str or bool, optional): ``'none'``, ``'sum'``, ``'linear'`` (tunedGNN's ``--res``:
            :math:`\mathrm{Conv}(h) + W h`) or ``'initial'`` (:math:`+ \epsilon h^{(0)}`). (default: ``'none'``)
        eps (float, optional): weight :math:`\epsilon` of ``residual='initial'``. (default: ``1.0``)
        jk (str or bool, optional): ``'none'``, ``'sum'`` (tunedGNN's ``--jk``) or ``'cat'``. (default: ``'none'``)
        post_linear (bool, optional): every convolution keeps ``hidden_channels`` and an output linear layer maps to
            the classes; :obj:`None`: on exactly when ``norm``, ``residual`` or ``jk`` is on. (default: :obj:`None`)
        separate_ego (bool or str, optional): ``False``, ``'sum'``/``True`` or ``'concat'``: ego/neighbour separation
            around every convolution (:class:`~graphite.nn.EgoSeparation`; the convolution then aggregates without
            self-loops where it has that switch). (default: ``False``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, input_dropout: Optional[float] = None, pre_linear: bool = False,
                 norm='none', residual='none', eps: float = 1.0, jk='none', post_linear: Optional[bool] = None,
                 separate_ego=False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, hidden_channels, out_channels
        self.dropout = float(dropout)
        self.input_dropout = self.dropout if input_dropout is None else float(input_dropout)
        self.norm_kind, self.residual, self.jk = norm_kind(norm), residual_mode(residual), jk_mode(jk)
        if post_linear is None:
            post_linear = self.norm_kind != 'none' or self.residual != 'none' or self.jk != 'none'
        if self.jk != 'none' and not post_linear:
            raise ValueError('jk needs the output linear layer (post_linear=True)')
        self.ego = ego_mode(separate_ego)
        #: whether the convolutions add self-loops (not when the ego is kept apart)
        self.self_loops = self.ego is None
        self.lin_in = InputLinear(in_channels, hidden_channels) if pre_linear else None
        first = hidden_channels if pre_linear else in_channels
        dims = [first] + [hidden_channels] * (num_layers - 1) + [hidden_channels if post_linear else out_channels]
        pairs = list(zip(dims[:-1], dims[1:]))
        self.convs = nn.ModuleList()
        for i, (a, b) in enumerate(pairs):
            conv = self.make_conv(a, b, last=(i == num_layers - 1 and not post_linear))
            self.convs.append(conv if self.ego is None else EgoSeparation(conv, a, b, self.ego))
        self.residuals = nn.ModuleList([Residual(self.residual, a, b, eps) for a, b in pairs])
        hidden_blocks = num_layers if post_linear else num_layers - 1
        self.norms = nn.ModuleList([make_norm(self.norm_kind, hidden_channels) or nn.Identity()
                                    for _ in range(hidden_blocks)])
        self.lin_out = None
        if post_linear:
            self.lin_out = nn.Linear(hidden_channels * (num_layers if self.jk == 'cat' else 1), out_channels)

    _memo = None  # set by subclasses with a cached=True option

    def make_conv(self, in_channels: int, out_channels: int, last: bool) -> nn.Module:
        """The convolution ``in_channels -> out_channels``; ``last``: it outputs the logits. Aggregate over a graph
        with self-loops only when :attr:`self_loops`."""
        raise NotImplementedError

    def propagation_graph(self, edge_index: Tensor, x: Tensor):
        """What every convolution of this call aggregates over: ``edge_index`` itself here; a subclass may return
        an equivalent structure its convolutions process faster (GCN, GraphSAGE, GIN, GAT: a sparse matrix, see
        :meth:`csr_graph`)."""
        return edge_index

    def memo_graph(self, edge_index: Tensor, x: Tensor, name, build):
        """``build(num_nodes)``: a structure derived from ``edge_index`` for this call's ``x.size(0)`` nodes, built
        once per call, or once per graph with a model's ``cached`` memo (under ``name``); a sparse adjacency given
        by the caller is passed on as it is."""
        if not isinstance(edge_index, Tensor) or is_torch_sparse_tensor(edge_index):
            return edge_index
        n = x.size(0)
        return memoize(self._memo, edge_index, (name, n), lambda: build(n))

    def csr_graph(self, edge_index: Tensor, x: Tensor):
        """The :class:`graphite.ops.CSR` of ``edge_index`` (:meth:`memo_graph`), for convolutions that aggregate
        with :func:`graphite.ops.spmm`."""
        return self.memo_graph(edge_index, x, 'csr', lambda n: CSR.from_edge_index(edge_index, n))

    def reset_parameters(self):
        for module in [self.lin_in, self.lin_out, *self.convs, *self.residuals, *self.norms]:
            if module is not None and hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
        """Logits ``[N, out_channels]`` for node features ``x [N, in_channels]`` and ``edge_index [2, E]`` (the
        graph of this call); ``edge_type [E]`` is accepted and ignored."""
        reset_pyg_caches(self, self._memo, edge_index)
        if self.lin_in is not None:
            h = dropout(self.lin_in(x, self.input_dropout), self.dropout, self.training)
        else:
            h = dropout(x, self.input_dropout, self.training)
        graph = self.propagation_graph(edge_index, h)
        h0, outs = h, []
        for i, (conv, res) in enumerate(zip(self.convs, self.residuals)):
            out = res(conv(h, graph), h, h0)
            if i < len(self.norms):  # a hidden block (all of them with the output linear layer)
                out = dropout(F.relu(self.norms[i](out)), self.dropout, self.training)
            h = out
            outs.append(h)
        if self.lin_out is None:
            return h
        if self.jk == 'sum':
            h = torch.stack(outs).sum(0)
        elif self.jk == 'cat':
            h = torch.cat(outs, dim=-1)
        return self.lin_out(h)

    def __repr__(self) -> str:
        options = (('norm', self.norm_kind), ('residual', self.residual), ('jk', self.jk), ('separate_ego', self.ego))
        extra = ''.join(f', {k}={v!r}' for k, v in options if v not in ('none', None))
        return (f'{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, {self.out_channels}, '
                f'num_layers={len(self.convs)}{extra})')
