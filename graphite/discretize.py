"""Discretisation of continuous node features into the binary "has feature" relation that GRAPHITE needs.

GRAPHITE (Qiu et al., 2025) is defined for discrete features: one feature node per feature value, one feature
edge per node having it. Continuous features must be discretised first; two schemes are provided, both
``O(nnz)`` and device-agnostic. Both work on the list of *entries* ``(row, col, value)`` of the feature matrix:

* dense input: every entry of the ``[N, F]`` matrix (zeros included, since a zero is a measured value);
* sparse input: the stored entries only (implicit zeros are "feature absent" and never become feature edges).

Functions return the kept entries as ``(row, vcol)`` where ``vcol`` is a *virtual column*: the original column for
:func:`binarize_entries`, ``col * k + bucket`` for :func:`bucketize_entries`.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from graphite.feature_nodes import nonzero_entries
from graphite.validation import feature_entries, is_sparse

__all__ = ['binarize_entries', 'bucketize_entries', 'discrete_entries']


def binarize_entries(row: Tensor, col: Tensor, val: Tensor, threshold: float) -> Tuple[Tensor, Tensor]:
    r"""Keep the entries with :math:`x_{vk} > \text{threshold}`.

    Args:
        row, col, val (Tensor): entries of the feature matrix, each ``[nnz]``.
        threshold (float): strict lower bound of a "present" feature.

    Returns:
        ``(row, col)`` of the kept entries.
    """
    keep = val > threshold
    return row[keep], col[keep]


def bucketize_entries(row: Tensor, col: Tensor, val: Tensor, num_cols: int, k: int
                      ) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Quantile buckets per column: entry ``(v, c)`` goes to bucket :math:`b = |\{j : x_{vc} \ge t_{c,j}\}|`.

    For column ``c`` with ``m_c`` entries sorted as :math:`s_0 \le \dots \le s_{m_c-1}`, the thresholds are
    :math:`t_{c,j} = s_{\lfloor j m_c / k \rfloor}` for :math:`j = 1, \dots, k-1` (empirical quantiles), so each
    bucket holds about ``m_c / k`` entries; equal values always share a bucket (a column with few distinct values
    has fewer non-empty buckets).

    Args:
        row, col, val (Tensor): entries of the feature matrix, each ``[nnz]``.
        num_cols (int): number of columns ``F`` of the matrix.
        k (int): number of buckets per column (``k >= 2``).

    Returns:
        ``(row, vcol, thresholds)``: ``vcol = col * k + bucket`` ``[nnz]`` and ``thresholds`` ``[F, k-1]``
        (``+inf`` for columns without entries).
    """
    device = val.device
    # Sort entries by (col, val): stable sort by value, then stable sort by column.
    order = torch.argsort(val, stable=True)
    order = order[torch.argsort(col[order], stable=True)]
    sval = val[order]
    counts = torch.bincount(col, minlength=num_cols)                       # [F]
    start = torch.cumsum(counts, 0) - counts                               # [F]
    j = torch.arange(1, k, device=device)                                  # [k-1]
    pos = start.unsqueeze(1) + (j.unsqueeze(0) * counts.unsqueeze(1)) // k  # [F, k-1]
    empty = counts == 0
    pos = pos.clamp(max=max(sval.numel() - 1, 0))
    if sval.numel() > 0:
        thresholds = sval[pos].to(torch.float64 if val.dtype == torch.float64 else torch.float32)
    else:
        thresholds = torch.empty(num_cols, k - 1, device=device)
    thresholds = thresholds.masked_fill(empty.unsqueeze(1), float('inf'))
    bucket = (val.unsqueeze(1) >= thresholds[col].to(val.dtype)).sum(1)    # [nnz], chunk-free: k is small
    return row, col * k + bucket, thresholds


def discrete_entries(x: Tensor, binarize: Optional[float] = None, buckets: Optional[int] = None
                     ) -> Tuple[Tensor, Tensor, int, Optional[Tensor]]:
    r"""The "node has feature" entries of a feature matrix, as :class:`graphite.transform.Graphite` uses them.

    With ``binarize``: the entries :math:`x_{vk} > \text{binarize}` (:func:`binarize_entries`); with ``buckets``:
    every entry, in its quantile bucket (:func:`bucketize_entries`); with neither, ``x`` must be binary (0/1) and its
    nonzero entries are the feature entries.

    Args:
        x (Tensor): floating-point features ``[N, F]``, dense or sparse (COO/CSR).
        binarize (float, optional): threshold of a present feature. (default: :obj:`None`)
        buckets (int, optional): quantile buckets per column. (default: :obj:`None`)

    Returns:
        ``(row, vcol, num_vcols, thresholds)``: the entries' rows and virtual columns (``[M]`` each), the number of
        virtual columns (``F``, or ``F * buckets``), and the ``[F, buckets - 1]`` thresholds (``None`` unless
        ``buckets``).

    Raises:
        ValueError: non-binary entries without ``binarize``/``buckets`` (the message names the first one and both
            options), or a negative ``binarize`` on sparse input (every implicit zero would become an entry).
    """
    n, f = x.size(0), x.size(1)
    if binarize is not None:
        if is_sparse(x):
            if binarize < 0:
                raise ValueError(f'binarize={binarize} < 0 would turn every implicit zero of the sparse feature '
                                 f'matrix into a feature edge; use a threshold >= 0 or pass dense features')
            row, col, val = feature_entries(x)
            row, col = binarize_entries(row, col, val, binarize)
        else:  # dense: every entry is a measured value (zeros included); list only the kept ones
            row, col = nonzero_entries(x > binarize)
        return row, col, f, None
    if buckets is not None:
        if is_sparse(x):
            row, col, val = feature_entries(x)
        else:  # dense: every entry is a measured value (zeros included)
            row = torch.arange(n, device=x.device).repeat_interleave(f)
            col = torch.arange(f, device=x.device).repeat(n)
            val = x.reshape(-1)
        row, vcol, thr = bucketize_entries(row, col, val, f, buckets)
        return row, vcol, f * buckets, thr
    if is_sparse(x):
        row, col, val = feature_entries(x)
    else:
        row, col = nonzero_entries(x)
        val = x[row, col]
    if val.numel() > 0:
        bad = val != 1
        if bool(bad.any()):
            i = int(bad.nonzero()[0, 0])
            raise ValueError(
                f'GRAPHITE needs binary (0/1) features, but x[{int(row[i])}, {int(col[i])}] = {float(val[i]):g} '
                f'({int(bad.sum())} non-binary entries). Discretise continuous features with '
                f'Graphite(binarize=<threshold>) (x > threshold) or Graphite(buckets=<k>) (k quantile buckets '
                f'per column)')
    return row, col, f, None
