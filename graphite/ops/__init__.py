r"""Sparse message-passing primitives (scatter, segment, SpMM, gated SpMM) with interchangeable backends.

CONTRACT (stable API used by graphite.nn and linkpred):

Conventions: ``edge_index`` is ``[2, E]`` with ``edge_index[0]`` = source ``j`` and ``edge_index[1]`` =
target ``i`` (PyG's ``source_to_target`` flow); aggregation writes to targets. ``edge_weight`` is ``[E]`` in the
order of ``edge_index``.

* ``CSR.from_edge_index(edge_index, num_nodes)``: reusable CSR structure (rows = targets).
* ``scatter(src, index, dim=0, dim_size=None, reduce='sum', backend=None)``: sum/mean/max/min, empty -> 0.
* ``segment(src, ptr, reduce='sum', backend=None)``: same over CSR-sorted input.
* ``spmm(adj, x, edge_weight=None, reduce='sum', backend=None)``: ``out[i] = reduce_j w_ji x[j]``;
  ``adj`` is an ``edge_index`` or a ``CSR``; differentiable in ``x`` and ``edge_weight``.
* ``gated_spmm(adj, x, s_src, s_dst, edge_weight=None, tau=1.0, backend=None)``:
  ``out[i] = sum_j tanh((s_dst[i] + s_src[j]) / tau) * w_ji * x[j]``, differentiable in every tensor input.

None of the default (``torch``) code paths materialises a per-edge ``[E, H]`` tensor: aggregation is a CSR SpMM
and the gradient of per-edge weights/gates is an SDDMM (``grad_w[e] = <grad_out[i_e], x[j_e]>``). Backends
(``torch``, ``torch_scatter``, ``triton``) are chosen per call, see :mod:`graphite.ops.backend`: ``backend=``
argument > ``GRAPHITE_OPS_BACKEND`` environment variable > automatic choice.

Pass a :class:`CSR` (built once per graph) rather than an ``edge_index`` on hot paths: the CSR caches its
transpose, expanded rows, degrees and the CSR-ordered copy of a constant ``edge_weight``. An ``edge_index`` is
converted once and remembered (with the facts checked about ``scatter`` indices and ``segment`` pointers) per
tensor identity and version, see :mod:`graphite.memo`.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
from torch import Tensor

from graphite.ops import backend as _backend
from graphite.ops.backend import BACKENDS, BackendUnavailableError, available_backends
from graphite.ops.csr import CSR
from graphite.memo import TensorMemo

__all__ = ['CSR', 'scatter', 'segment', 'spmm', 'gated_spmm', 'BACKENDS', 'BackendUnavailableError',
           'available_backends']

Adjacency = Union[Tensor, CSR]
REDUCES = ('sum', 'mean', 'max', 'min')

_memo = TensorMemo(capacity=8)


def _as_csr(adj: Adjacency, num_nodes: int) -> CSR:
    """``adj`` itself if it is a :class:`CSR`, else the CSR of the ``edge_index`` (memoised per tensor)."""
    if isinstance(adj, CSR):
        if adj.num_src != num_nodes:
            raise ValueError(f'CSR has num_src={adj.num_src} source nodes but x has {num_nodes} rows')
        return adj
    if not isinstance(adj, Tensor):
        raise TypeError(f'adj must be an edge_index tensor [2, E] or a graphite.ops.CSR, got {type(adj).__name__}')
    facts = _memo.get(adj)
    csr = facts.get(('csr', num_nodes))
    if csr is None:
        csr = CSR.from_edge_index(adj, num_nodes)
        facts[('csr', num_nodes)] = csr
    return csr


def _index_facts(index: Tensor) -> Tuple[int, int, bool]:
    """(min, max, sorted) of a 1-D index, memoised per tensor."""
    facts = _memo.get(index)
    found = facts.get('range')
    if found is None:
        if index.numel():
            lo, hi = torch.aminmax(index)
            is_sorted = index.numel() < 2 or bool((index[1:] >= index[:-1]).all())
            found = (int(lo), int(hi), is_sorted)
        else:
            found = (0, -1, True)
        facts['range'] = found
    return found


def _sorted_ptr(index: Tensor, dim_size: int) -> Tensor:
    """Row pointers ``[dim_size + 1]`` of a sorted index, memoised per tensor."""
    facts = _memo.get(index)
    ptr = facts.get(('ptr', dim_size))
    if ptr is None:
        ptr = torch.zeros(dim_size + 1, dtype=torch.long, device=index.device)
        torch.cumsum(torch.bincount(index, minlength=dim_size), 0, out=ptr[1:])
        facts[('ptr', dim_size)] = ptr
    return ptr


def _check_reduce(reduce: str, allowed=REDUCES) -> str:
    if reduce not in allowed:
        raise ValueError(f'unknown reduce {reduce!r}; choose one of {", ".join(allowed)}')
    return reduce


def _check_float(name: str, t: Tensor) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(t).__name__}')
    if not t.is_floating_point():
        raise TypeError(f'{name} must be a floating-point tensor, got {t.dtype}')


def _check_index(name: str, index: Tensor) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(index).__name__}')
    if index.dtype != torch.long:
        raise TypeError(f'{name} must be an int64 (long) tensor, got {index.dtype}')


def _edge_values(csr: CSR, edge_weight: Optional[Tensor], x: Tensor) -> Optional[Tensor]:
    """``edge_weight`` (edge order) checked, cast to ``x.dtype`` and put in CSR order."""
    if edge_weight is None:
        return None
    _check_float('edge_weight', edge_weight)
    if edge_weight.dim() != 1 or edge_weight.numel() != csr.num_edges:
        raise ValueError(f'edge_weight must have shape [E] = [{csr.num_edges}], got {tuple(edge_weight.shape)}')
    if edge_weight.device != x.device:
        raise ValueError(f'edge_weight is on {edge_weight.device} but x is on {x.device}')
    if edge_weight.dtype != x.dtype:
        edge_weight = edge_weight.to(x.dtype)
    return csr.permute_weight(edge_weight)


def _as_2d(x: Tensor) -> Tuple[Tensor, Tuple[int, ...]]:
    """``x`` as a contiguous ``[rows, F]`` matrix and the trailing shape to restore."""
    trailing = tuple(x.shape[1:])
    if x.dim() == 2 and x.is_contiguous():
        return x, trailing
    width = 1
    for d in trailing:
        width *= d
    return x.reshape(x.size(0), width).contiguous(), trailing


def scatter(src: Tensor, index: Tensor, dim: int = 0, dim_size: Optional[int] = None, reduce: str = 'sum',
            backend: Optional[str] = None) -> Tensor:
    r"""Reduce slices of ``src`` along ``dim`` into ``dim_size`` groups given by ``index``.

    .. math::
        \mathrm{out}[\dots, i, \dots] = \mathop{\mathrm{reduce}}_{e \,:\, \mathrm{index}[e] = i}
        \mathrm{src}[\dots, e, \dots]

    Groups without any element give 0 for every reduction. Differentiable in ``src`` (for max/min, ties share
    the gradient or send it to one winner depending on the backend; both are valid subgradients).

    Args:
        src (Tensor): floating-point input of any shape.
        index (LongTensor): ``[src.size(dim)]`` group of each slice, in ``[0, dim_size)``.
        dim (int): dimension of ``src`` to reduce (default 0).
        dim_size (int, optional): number of groups (default ``index.max() + 1``, 0 if ``index`` is empty).
        reduce (str): ``'sum'``, ``'mean'``, ``'max'`` or ``'min'``.
        backend (str, optional): ``'torch'``, ``'torch_scatter'``, ``'triton'`` or ``'auto'``
            (see :mod:`graphite.ops.backend`).

    Returns:
        Tensor: ``src``'s shape with ``shape[dim] = dim_size``.
    """
    _check_float('src', src)
    _check_index('index', index)
    _check_reduce(reduce)
    if src.dim() == 0:
        raise ValueError('src must have at least one dimension')
    dim = dim % src.dim() if -src.dim() <= dim < src.dim() else None
    if dim is None:
        raise ValueError(f'dim out of range for src with {src.dim()} dimensions')
    if index.dim() != 1 or index.numel() != src.size(dim):
        raise ValueError(f'index must have shape [src.size(dim)] = [{src.size(dim)}], got {tuple(index.shape)}')
    if index.device != src.device:
        raise ValueError(f'index is on {index.device} but src is on {src.device}')
    lo, hi, is_sorted = _index_facts(index)
    if dim_size is None:
        dim_size = hi + 1
    dim_size = int(dim_size)
    if lo < 0 or hi >= dim_size:
        raise ValueError(f'index values must lie in [0, dim_size={dim_size}), got [{lo}, {hi}]')
    moved = src.movedim(dim, 0)
    flat, trailing = _as_2d(moved)
    name = _backend.resolve('scatter', reduce, src.device, backend)
    ptr = _sorted_ptr(index, dim_size) if is_sorted and index.numel() else None
    out = _backend.get(name).scatter(flat, index, dim_size, reduce, ptr)
    return out.reshape((dim_size,) + trailing).movedim(0, dim)


def segment(src: Tensor, ptr: Tensor, reduce: str = 'sum', backend: Optional[str] = None) -> Tensor:
    r"""Reduce consecutive row ranges of ``src``: ``out[i] = reduce(src[ptr[i]:ptr[i+1]])`` (empty ranges give 0).

    Args:
        src (Tensor): ``[E, *]`` floating-point input sorted by group.
        ptr (LongTensor): ``[N + 1]`` non-decreasing row pointers with ``ptr[0] = 0`` and ``ptr[-1] = E``.
        reduce (str): ``'sum'``, ``'mean'``, ``'max'`` or ``'min'``.
        backend (str, optional): see :func:`scatter`.

    Returns:
        Tensor: ``[N, *]``.
    """
    _check_float('src', src)
    _check_index('ptr', ptr)
    _check_reduce(reduce)
    if src.dim() == 0:
        raise ValueError('src must have at least one dimension')
    if ptr.dim() != 1 or ptr.numel() < 1:
        raise ValueError(f'ptr must have shape [N + 1] with N >= 0, got {tuple(ptr.shape)}')
    if ptr.device != src.device:
        raise ValueError(f'ptr is on {ptr.device} but src is on {src.device}')
    facts = _memo.get(ptr)
    if 'ptr_ok' not in facts:
        if int(ptr[0]) != 0 or int(ptr[-1]) != src.size(0):
            raise ValueError(f'ptr must start at 0 and end at src.size(0) = {src.size(0)}, got '
                             f'{int(ptr[0])} ... {int(ptr[-1])}')
        if ptr.numel() > 1 and bool((ptr[1:] < ptr[:-1]).any()):
            raise ValueError('ptr must be non-decreasing')
        facts['ptr_ok'] = int(ptr[-1])
    elif facts['ptr_ok'] != src.size(0):
        raise ValueError(f'ptr must start at 0 and end at src.size(0) = {src.size(0)}, got 0 ... {facts["ptr_ok"]}')
    flat, trailing = _as_2d(src)
    name = _backend.resolve('segment', reduce, src.device, backend)
    out = _backend.get(name).segment(flat, ptr, reduce)
    return out if len(trailing) == 1 else out.reshape((ptr.numel() - 1,) + trailing)


def spmm(adj: Adjacency, x: Tensor, edge_weight: Optional[Tensor] = None, reduce: str = 'sum',
         backend: Optional[str] = None) -> Tensor:
    r"""Sparse-dense aggregation over a graph.

    .. math::
        \mathrm{out}[i] = \mathop{\mathrm{reduce}}_{(j \to i) \in E} w_{ji}\, x[j]

    with ``reduce`` in sum, mean (the sum divided by the number of incoming edges, duplicates counted) and
    max/min (element-wise over the weighted messages). Rows without incoming edges give 0. Differentiable in
    ``x`` and ``edge_weight``; the weight gradient is an SDDMM, ``grad_w[e] = <grad_out[i_e], x[j_e]>`` (for
    mean scaled by ``1/deg(i_e)``, for max/min restricted to the winning feature positions).

    Args:
        adj (LongTensor or CSR): ``edge_index`` ``[2, E]`` (row 0 sources ``j``, row 1 targets ``i``) or a
            :class:`CSR` built once with :meth:`CSR.from_edge_index` (preferred: cached transpose and weights).
        x (Tensor): ``[N, *]`` node features (``N`` = number of source nodes).
        edge_weight (Tensor, optional): ``[E]`` weights in ``edge_index`` order (default: all ones).
        reduce (str): ``'sum'``, ``'mean'``, ``'max'`` or ``'min'``.
        backend (str, optional): see :func:`scatter`.

    Returns:
        Tensor: ``[num_dst, *]``.
    """
    _check_float('x', x)
    _check_reduce(reduce)
    if x.dim() == 0:
        raise ValueError('x must have at least one dimension [N, *]')
    csr = _as_csr(adj, x.size(0))
    if csr.device != x.device:
        raise ValueError(f'adjacency is on {csr.device} but x is on {x.device}')
    values = _edge_values(csr, edge_weight, x)
    flat, trailing = _as_2d(x)
    name = _backend.resolve('spmm', reduce, x.device, backend)
    out = _backend.get(name).spmm(csr, flat, values, reduce)
    return out if len(trailing) == 1 else out.reshape((csr.num_dst,) + trailing)


def _check_score(name: str, s: Tensor, n: int, x: Tensor) -> Tensor:
    _check_float(name, s)
    if s.dim() == 2 and s.size(1) == 1:
        s = s.view(-1)
    if s.dim() != 1 or s.numel() != n:
        raise ValueError(f'{name} must have shape [{n}] (one score per node), got {tuple(s.shape)}')
    if s.device != x.device:
        raise ValueError(f'{name} is on {s.device} but x is on {x.device}')
    return s if s.dtype == x.dtype else s.to(x.dtype)


def gated_spmm(adj: Adjacency, x: Tensor, s_src: Tensor, s_dst: Tensor, edge_weight: Optional[Tensor] = None,
               tau: float = 1.0, backend: Optional[str] = None) -> Tensor:
    r"""Signed, gated aggregation (GRAPHITE / FAGCN style) without per-edge ``[E, H]`` tensors.

    .. math::
        \mathrm{out}[i] = \sum_{(j \to i) \in E} \tanh\!\Big(\frac{s_{dst}[i] + s_{src}[j]}{\tau}\Big)\,
        w_{ji}\, x[j]

    The gate is computed inside the op from per-node scores (e.g. ``s_dst = h @ a_dst + b``,
    ``s_src = h @ a_src``, which equals ``a^T [h_i || h_j] + b`` without an ``[E, 2H]`` concatenation).
    Differentiable in ``x``, ``s_src``, ``s_dst`` and ``edge_weight`` (and ``tau`` if it is a tensor); score and
    weight gradients come from the SDDMM ``<grad_out[i], x[j]>`` per edge.

    Args:
        adj (LongTensor or CSR): see :func:`spmm`.
        x (Tensor): ``[N, *]`` node features.
        s_src (Tensor): ``[N]`` score of each node as a source.
        s_dst (Tensor): ``[num_dst]`` score of each node as a target.
        edge_weight (Tensor, optional): ``[E]`` weights (e.g. symmetric degree normalisation) in edge order.
        tau (float or Tensor): temperature ``> 0`` (default 1).
        backend (str, optional): see :func:`scatter`.

    Returns:
        Tensor: ``[num_dst, *]``.
    """
    _check_float('x', x)
    if x.dim() == 0:
        raise ValueError('x must have at least one dimension [N, *]')
    csr = _as_csr(adj, x.size(0))
    if csr.device != x.device:
        raise ValueError(f'adjacency is on {csr.device} but x is on {x.device}')
    s_src = _check_score('s_src', s_src, csr.num_src, x)
    s_dst = _check_score('s_dst', s_dst, csr.num_dst, x)
    if isinstance(tau, Tensor):
        if tau.numel() != 1:
            raise ValueError(f'tau must be a scalar, got shape {tuple(tau.shape)}')
        if not bool(tau.detach().reshape(()) > 0):
            raise ValueError(f'tau must be positive, got {float(tau)}')
        tau = tau.reshape(()).to(x.dtype)
    else:
        tau = float(tau)
        if not tau > 0:
            raise ValueError(f'tau must be positive, got {tau}')
    values = _edge_values(csr, edge_weight, x)
    flat, trailing = _as_2d(x)
    name = _backend.resolve('gated_spmm', 'sum', x.device, backend)
    out = _backend.get(name).gated_spmm(csr, flat, s_src, s_dst, values, tau)
    return out if len(trailing) == 1 else out.reshape((csr.num_dst,) + trailing)
