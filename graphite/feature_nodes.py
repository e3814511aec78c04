"""The feature rows of a GRAPHITE-transformed graph: which feature entries a dense matrix holds, which columns become
feature nodes (:func:`select_columns`), the feature-node means (exact co-occurrence counts for binary features, a
sparse product otherwise), row normalisation and row concatenation that keep a sparse matrix sparse.
:class:`graphite.transform.Graphite` builds the graph from these."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import Tensor

from graphite.validation import is_sparse

__all__ = ['nonzero_entries', 'renumber', 'select_columns', 'cooccurrence', 'feature_means', 'row_normalize',
           'cat_rows']

#: the co-occurrence path of the feature means keeps an int64 ``[F_used + 1, F]`` count table (128 MB at this size);
#: wider feature matrices use the sparse product instead
MAX_COOCCURRENCE_CELLS = 1 << 24
#: pairs (int64 keys) materialised at once by :func:`cooccurrence` (32 MB)
PAIR_CHUNK = 1 << 22


def nonzero_entries(x: Tensor) -> Tuple[Tensor, Tensor]:
    """``(row, col)`` of the nonzero entries of a dense 2-D tensor in row-major order, like ``x.nonzero()``.

    ``nonzero`` costs about the same per element whatever its size, so a contiguous matrix whose rows split into
    8-byte words is scanned as ``int64`` words (2 float32 or 8 bool entries each, 2-8x fewer elements); the entries of
    the words with a nonzero bit pattern are then checked one by one (which also drops ``-0.0``)."""
    ratio = 8 // x.element_size() if x.element_size() in (1, 2, 4) else 1
    if ratio > 1 and x.is_contiguous() and x.size(1) % ratio == 0 and x.storage_offset() % ratio == 0:
        r, w = x.view(torch.int64).nonzero(as_tuple=True)
        col = (w.unsqueeze(1) * ratio + torch.arange(ratio, device=x.device)).view(-1)
        row = r.repeat_interleave(ratio)
        keep = x[row, col] != 0
        return row[keep], col[keep]
    return x.nonzero(as_tuple=True)


def renumber(used: Tensor, num: int) -> Tensor:
    """``[num]`` long: the position of each value in the sorted ``used``, ``-1`` for the others."""
    new_id = torch.full((num,), -1, dtype=torch.long, device=used.device)
    new_id[used] = torch.arange(used.numel(), device=used.device)
    return new_id


def select_columns(row: Tensor, vcol: Tensor, num_vcols: int, min_count: int = 1, max_count: Optional[int] = None
                   ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """The feature nodes: the (virtual) columns that ``min_count..max_count`` entries have, renumbered in order.

    Returns ``(row, fid, used_cols, counts)``: the kept entries' rows and feature-node ids ``0..F_used-1``, the
    sorted kept columns ``[F_used]`` and their entry counts; raises :class:`ValueError` when no column is left
    (naming the all-zero case, or the counts that the bounds cut)."""
    counts = torch.bincount(vcol, minlength=num_vcols)
    used = counts >= max(min_count, 1)
    if max_count is not None:
        used &= counts <= max_count
    used_cols = used.nonzero().view(-1)                                      # sorted
    if used_cols.numel() == 0:
        occurring = int((counts > 0).sum())
        if occurring == 0:
            raise ValueError('the feature matrix has no nonzero entry (all-zero features): GRAPHITE would add no '
                             'feature node')
        raise ValueError(f'no feature column is left after min_count={min_count}, max_count={max_count} '
                         f'({occurring} columns occur, with {int(counts[counts > 0].min())} to '
                         f'{int(counts.max())} nodes each)')
    fid = renumber(used_cols, num_vcols)[vcol]
    keep = fid >= 0
    if not bool(keep.all()):
        row, fid = row[keep], fid[keep]
    return row, fid, used_cols, counts[used_cols]


def cooccurrence(row: Tensor, col: Tensor, n: int, f: int, col_to_fid: Tensor, num_f: int) -> Tensor:
    """``[num_f, f]`` long: ``C[k, j]`` = number of rows holding both the column of feature node ``k`` and column
    ``j``, from the entries ``(row, col)`` of a binary matrix sorted by row (``col_to_fid``: column -> feature node
    or ``-1``).

    Rows are grouped by their number of entries ``d``; each group's entries form a ``[rows, d]`` block whose
    ``[rows, d, d]`` pairs are counted with one ``index_add_`` (in chunks of :data:`PAIR_CHUNK` pairs). The Python
    loop runs over the distinct row lengths and chunks, never over rows or entries; the time is
    ``O(sum_v nnz_v^2)`` (at most the ``O(nnz F)`` of the sparse-dense product it replaces)."""
    device = row.device
    deg = torch.bincount(row, minlength=n)
    start = torch.cumsum(deg, 0) - deg
    fcol = col_to_fid[col]
    fcol = torch.where(fcol < 0, num_f, fcol) * f  # columns of no feature node count into a dropped extra row
    counts = torch.zeros((num_f + 1) * f, dtype=torch.long, device=device)
    order = torch.argsort(deg)
    lengths, sizes = torch.unique_consecutive(deg[order], return_counts=True)
    one = torch.ones(1, dtype=torch.long, device=device)
    offset = 0
    for d, size in zip(lengths.tolist(), sizes.tolist()):
        rows, offset = order[offset:offset + size], offset + size
        if d == 0:
            continue
        step = max(1, PAIR_CHUNK // (d * d))
        ar = torch.arange(d, device=device)
        for lo in range(0, size, step):
            pos = start[rows[lo:lo + step]].unsqueeze(1) + ar                       # [b, d] entry positions
            keys = (fcol[pos].unsqueeze(2) + col[pos].unsqueeze(1)).view(-1)        # [b * d * d]
            counts.index_add_(0, keys, one.expand(keys.numel()))
    return counts.view(num_f + 1, f)[:num_f]


def feature_means(x: Tensor, row: Tensor, fid: Tensor, num_f: int, counts: Tensor, used_cols: Tensor,
                  binary: Optional[Tuple[Tensor, Tensor]] = None) -> Tensor:
    """``[F_used, F]``: mean of ``x`` over the nodes of each feature node, sparse when ``x`` is; never densifies
    a sparse ``x``.

    Binary ``x`` (``binary`` = its nonzero entries ``(row, col)``, all ones, sorted by row): exact co-occurrence
    counts divided by the column counts (:func:`cooccurrence`, ``O(sum_v nnz_v^2)``). Otherwise one sparse-dense
    (or sparse-sparse) product ``B @ x`` with the ``[F_used, N]`` incidence matrix ``B`` (``O(nnz F)`` for a dense
    ``x``)."""
    f = x.size(1)
    if binary is not None and (num_f + 1) * f <= MAX_COOCCURRENCE_CELLS:
        cooc = cooccurrence(binary[0], binary[1], x.size(0), f, renumber(used_cols, f), num_f)
        means = cooc.to(x.dtype) / counts.to(x.dtype).unsqueeze(1)
        return means.to_sparse_coo() if is_sparse(x) else means
    xs = x.to_sparse_coo() if x.layout == torch.sparse_csr else x
    # (fid, row) order without a coalesce: the entries are sorted by row, a stable sort by fid keeps that order
    # within each feature node; (row, fid) pairs are unique.
    order = torch.argsort(fid, stable=True)
    fid_s = fid[order]
    inc = torch.sparse_coo_tensor(torch.stack([fid_s, row[order]]), (1.0 / counts.to(x.dtype))[fid_s],
                                  (num_f, x.size(0)), device=x.device, check_invariants=False,
                                  is_coalesced=True)
    return torch.sparse.mm(inc, xs)


def row_normalize(x: Tensor) -> Tensor:
    if x.layout == torch.sparse_csr:
        x = x.to_sparse_coo()
    if x.layout == torch.sparse_coo:
        x = x.coalesce()
        r = x.indices()[0]
        s = torch.zeros(x.size(0), dtype=x.dtype, device=x.device).index_add_(0, r, x.values())
        s = torch.where(s == 0, torch.ones_like(s), s)
        return torch.sparse_coo_tensor(x.indices(), x.values() / s[r], x.shape, check_invariants=False).coalesce()
    s = x.sum(dim=-1, keepdim=True)
    return x / torch.where(s == 0, torch.ones_like(s), s)


def cat_rows(a: Tensor, b: Tensor, layout) -> Tensor:
    if is_sparse(a) or is_sparse(b):
        a = (a.to_sparse_coo() if a.layout != torch.sparse_coo else a).coalesce()  # no-op when coalesced
        b = (b.to_sparse_coo() if b.layout != torch.sparse_coo else b).coalesce()
        # b's rows follow a's: the concatenated entries are still sorted and unique (no coalesce needed)
        index = torch.cat([a.indices(), b.indices() + torch.tensor([[a.size(0)], [0]], device=b.device)], 1)
        out = torch.sparse_coo_tensor(index, torch.cat([a.values(), b.values().to(a.dtype)]),
                                      (a.size(0) + b.size(0), a.size(1)), check_invariants=False,
                                      is_coalesced=True)
        return out.to_sparse_csr() if layout == torch.sparse_csr else out
    return torch.cat([a, b], dim=0)
