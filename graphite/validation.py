"""Reusable input checks for graphs: shapes, index ranges, finiteness, labels.

Every check raises a :class:`TypeError` (wrong type/dtype) or :class:`ValueError` (wrong shape or value) whose
message names the argument and what was expected, in the spirit of OGB's ``Evaluator``. They are cheap
(``O(size of the input)``, one device-to-host synchronisation at most) so transforms, homophily measures, link
prediction and the ops can all call them on entry.

>>> from graphite.validation import check_edge_index
>>> check_edge_index(edge_index, num_nodes=data.num_nodes)   # raises on out-of-range or malformed input
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

__all__ = ['check_tensor', 'check_edge_index', 'check_num_nodes', 'check_node_tensor', 'check_finite',
           'check_features', 'check_labels', 'feature_entries', 'is_sparse']

_SPARSE_LAYOUTS = (torch.sparse_coo, torch.sparse_csr)


def is_sparse(x: Tensor) -> bool:
    """Whether ``x`` is a ``torch.sparse`` COO or CSR tensor."""
    return x.layout in _SPARSE_LAYOUTS


def check_tensor(value, name: str) -> Tensor:
    """Raise :class:`TypeError` unless ``value`` is a :class:`torch.Tensor`."""
    if not isinstance(value, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(value).__name__}')
    return value


def check_num_nodes(num_nodes, name: str = 'num_nodes', allow_empty: bool = False) -> int:
    """Return ``num_nodes`` as an ``int``; raise if it is not a non-negative integer (or zero when not allowed)."""
    if isinstance(num_nodes, Tensor) and num_nodes.numel() == 1:
        num_nodes = int(num_nodes)
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int):
        raise TypeError(f'{name} must be an int, got {type(num_nodes).__name__}')
    if num_nodes < 0 or (num_nodes == 0 and not allow_empty):
        raise ValueError(f'{name} must be {"non-negative" if allow_empty else "positive"}: the graph has '
                         f'{num_nodes} nodes')
    return num_nodes


def check_edge_index(edge_index, num_nodes: Optional[int] = None, name: str = 'edge_index') -> Tensor:
    """Check that ``edge_index`` is a long ``[2, E]`` tensor with entries in ``[0, num_nodes)``.

    Args:
        edge_index (Tensor): the graph connectivity, ``[2, E]``.
        num_nodes (int, optional): number of nodes; when given, indices must be ``< num_nodes``.
        name (str): the argument's name in error messages. (default: ``'edge_index'``)

    Returns:
        the same tensor (no copy).
    """
    check_tensor(edge_index, name)
    if is_sparse(edge_index):
        raise TypeError(f'{name} must be a dense [2, E] index tensor, got a sparse tensor ({edge_index.layout})')
    if edge_index.dtype != torch.long:
        raise TypeError(f'{name} must have dtype torch.long, got {edge_index.dtype}')
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f'{name} must have shape [2, E], got {list(edge_index.shape)}')
    if edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0:
            raise ValueError(f'{name} contains a negative node index ({lo})')
        if num_nodes is not None and hi >= num_nodes:
            raise ValueError(f'{name} contains node index {hi}, out of range for a graph with {num_nodes} nodes '
                             f'(valid: 0..{num_nodes - 1})')
    return edge_index


def check_node_tensor(t, num_nodes: int, name: str, dims: Optional[Tuple[int, ...]] = None) -> Tensor:
    """Check that ``t`` is a tensor with ``num_nodes`` rows (and, optionally, one of the given numbers of dims)."""
    check_tensor(t, name)
    if dims is not None and t.dim() not in dims:
        want = ' or '.join(f'{d}-D' for d in dims)
        raise ValueError(f'{name} must be {want} with {num_nodes} rows, got shape {list(t.shape)}')
    if t.dim() == 0 or t.size(0) != num_nodes:
        raise ValueError(f'{name} must have {num_nodes} rows (one per node), got shape {list(t.shape)}')
    return t


def check_finite(t: Tensor, name: str) -> Tensor:
    """Raise :class:`ValueError` if the floating-point tensor ``t`` (dense or sparse) holds NaN or +-inf."""
    if t.layout == torch.sparse_coo:
        vals = t._values()  # also valid for an uncoalesced tensor
    elif t.layout == torch.sparse_csr:
        vals = t.values()
    else:
        vals = t
    if vals.is_floating_point() and vals.numel() > 0:
        lo, hi = torch.aminmax(vals)  # one pass, no [N, F] mask: NaN propagates, +-inf reach the min / max
        if bool(torch.isfinite(lo) & torch.isfinite(hi)):
            return t
    if vals.is_floating_point() or vals.is_complex():
        bad = ~torch.isfinite(vals)
        if bool(bad.any()):
            n_nan = int(torch.isnan(vals).sum())
            raise ValueError(f'{name} contains {n_nan} NaN and {int(bad.sum()) - n_nan} infinite values; clean or '
                             f'impute them first')
    return t


def check_features(x, num_nodes: Optional[int] = None, name: str = 'x') -> Tensor:
    """Check a node-feature matrix: a 2-D dense or sparse (COO/CSR) real or boolean tensor ``[N, F]`` with ``F > 0``,
    ``N == num_nodes`` when given, and no NaN/inf."""
    if x is None:
        raise ValueError(f'the graph has no node features ({name} is None)')
    check_tensor(x, name)
    if x.dim() != 2:
        raise ValueError(f'{name} must be a 2-D [num_nodes, num_features] matrix, got shape {list(x.shape)}')
    if num_nodes is not None and x.size(0) != num_nodes:
        raise ValueError(f'{name} has {x.size(0)} rows but the graph has {num_nodes} nodes')
    if x.size(1) == 0:
        raise ValueError(f'{name} has no feature columns (shape {list(x.shape)})')
    if x.is_complex():
        raise TypeError(f'{name} must be a real numeric (or boolean) tensor, got {x.dtype}')
    return check_finite(x, name)


def check_labels(y, num_nodes: int, name: str = 'y') -> Tensor:
    """Check class labels: an integer tensor ``[N]`` (or ``[N, 1]``, squeezed); negative entries mean "unlabelled".

    Returns:
        the labels as a 1-D long tensor.
    """
    if y is None:
        raise ValueError(f'the graph has no labels ({name} is None)')
    check_tensor(y, name)
    if y.dim() == 2 and y.size(1) == 1:
        y = y.view(-1)
    if y.dim() != 1:
        raise ValueError(f'{name} must be a 1-D class vector [num_nodes], got shape {list(y.shape)}')
    if y.size(0) != num_nodes:
        raise ValueError(f'{name} has {y.size(0)} entries but the graph has {num_nodes} nodes')
    if y.is_floating_point() or y.dtype == torch.bool or y.is_complex():
        raise TypeError(f'{name} must hold integer class labels, got {y.dtype}')
    return y.long()


def feature_entries(x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """The stored entries of a feature matrix as ``(row, col, value)``, each ``[nnz]``, sorted by ``(row, col)``.

    Dense input: the nonzero entries. Sparse COO: the coalesced entries (explicit zeros are dropped). Sparse CSR:
    its entries (explicit zeros dropped). Cost ``O(N F)`` for dense and ``O(nnz)`` for sparse input.
    """
    if x.layout == torch.sparse_coo:
        x = x.coalesce()
        row, col = x.indices()
        val = x.values()
    elif x.layout == torch.sparse_csr:
        crow, col, val = x.crow_indices(), x.col_indices(), x.values()
        row = torch.repeat_interleave(torch.arange(x.size(0), device=x.device), crow[1:] - crow[:-1])
    else:
        row, col = x.nonzero(as_tuple=True)
        val = x[row, col]
    if val.dim() != 1:
        raise ValueError(f'sparse features must be 2-D with scalar values, got values of shape {list(val.shape)}')
    keep = val != 0
    if not bool(keep.all()):
        row, col, val = row[keep], col[keep], val[keep]
    return row.long(), col.long(), val
