"""A reusable compressed-sparse-row view of an ``edge_index``."""
from __future__ import annotations

import warnings
from typing import Optional, Tuple

import torch
from torch import Tensor


class CSR:
    r"""Adjacency in CSR form with rows = target nodes (PyG's ``source_to_target`` flow).

    Entry ``k`` of the CSR is the edge ``col[k] -> row[k]``; entries are sorted by (target, source), duplicates and
    self-loops are kept (each is one entry). Built once per graph and reused by every layer and every training
    step: everything derived from the structure alone (expanded rows, the transpose and its entry permutation,
    in-degrees, the ``torch.sparse_csr_tensor`` views) is computed on first use and cached on the object.

    Args:
        rowptr (LongTensor): ``[num_dst + 1]`` row pointers (``rowptr[0] == 0``, non-decreasing,
            ``rowptr[-1] == E``).
        col (LongTensor): ``[E]`` source node of each entry.
        perm (LongTensor): ``[E]``, ``perm[k]`` is the position in the original ``edge_index`` of entry ``k``,
            so ``edge_weight[perm]`` puts per-edge values into CSR order.
        num_src, num_dst (int): number of source / target nodes.

    Build it with :meth:`from_edge_index`; the constructor trusts its arguments (only shapes are checked).
    """

    def __init__(self, rowptr: Tensor, col: Tensor, perm: Tensor, num_src: int, num_dst: int):
        num_src, num_dst = int(num_src), int(num_dst)
        if rowptr.dim() != 1 or rowptr.numel() != num_dst + 1:
            raise ValueError(f'rowptr must have shape [num_dst + 1] = [{num_dst + 1}], got {tuple(rowptr.shape)}')
        if col.dim() != 1 or perm.shape != col.shape:
            raise ValueError(f'col and perm must be 1-D of equal length, got {tuple(col.shape)} and '
                             f'{tuple(perm.shape)}')
        self.rowptr, self.col, self.perm = rowptr, col, perm
        self.num_src, self.num_dst = num_src, num_dst
        self._row: Optional[Tensor] = None
        self._t: Optional['CSR'] = None
        self._t_entry: Optional[Tensor] = None
        self._inv_perm: Optional[Tensor] = None
        self._inv_deg: Optional[Tensor] = None
        self._weight_cache: Optional[Tuple[tuple, Tensor, Tensor]] = None

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: Optional[int] = None,
                        num_dst: Optional[int] = None) -> 'CSR':
        """Sort ``edge_index`` (``[2, E]``, row 0 = sources, row 1 = targets) into CSR by (target, source).

        Args:
            edge_index (LongTensor): ``[2, E]`` edges ``edge_index[0] -> edge_index[1]``.
            num_nodes (int, optional): number of source nodes (default: ``max(edge_index) + 1``).
            num_dst (int, optional): number of target nodes (default: ``num_nodes``).
        """
        edge_index, num_src, num_dst = cls.check_edge_index(edge_index, num_nodes, num_dst)
        src, dst = edge_index[0], edge_index[1]
        key = dst * max(num_src, 1) + src
        perm = torch.argsort(key, stable=True)
        counts = torch.bincount(dst, minlength=num_dst)
        rowptr = torch.zeros(num_dst + 1, dtype=torch.long, device=edge_index.device)
        rowptr[1:] = torch.cumsum(counts, 0)
        return cls(rowptr, src[perm], perm, num_src, num_dst)

    @staticmethod
    def check_edge_index(edge_index: Tensor, num_nodes: Optional[int] = None,
                         num_dst: Optional[int] = None) -> Tuple[Tensor, int, int]:
        """The checks of :meth:`from_edge_index` (type, shape, integer dtype, every entry inside the node counts),
        each failure a one-line error, without building anything: ``(edge_index as int64, num_src, num_dst)``."""
        if not isinstance(edge_index, Tensor):
            raise TypeError(f'edge_index must be a torch.Tensor, got {type(edge_index).__name__}')
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f'edge_index must have shape [2, E], got {tuple(edge_index.shape)}')
        if edge_index.dtype not in (torch.long, torch.int32):
            raise TypeError(f'edge_index must be an integer (int64) tensor, got {edge_index.dtype}')
        edge_index = edge_index.long()
        if num_nodes is None:
            num_src = int(edge_index.max()) + 1 if edge_index.numel() else 0
        else:
            num_src = int(num_nodes)
        num_dst = num_src if num_dst is None else int(num_dst)
        if num_src < 0 or num_dst < 0:
            raise ValueError(f'node counts must be non-negative, got num_nodes={num_src}, num_dst={num_dst}')
        src, dst = edge_index[0], edge_index[1]
        if edge_index.numel() and (int(src.min()) < 0 or int(src.max()) >= num_src
                                   or int(dst.min()) < 0 or int(dst.max()) >= num_dst):
            raise ValueError(f'edge_index has entries outside [0, {num_src}) x [0, {num_dst}) '
                             f'(sources in [{int(src.min())}, {int(src.max())}], targets in '
                             f'[{int(dst.min())}, {int(dst.max())}])')
        return edge_index, num_src, num_dst

    @property
    def num_edges(self) -> int:
        return self.col.numel()

    @property
    def device(self) -> torch.device:
        return self.col.device

    @property
    def row(self) -> Tensor:
        """``[E]`` target node of each entry (the expanded ``rowptr``)."""
        if self._row is None:
            counts = self.rowptr[1:] - self.rowptr[:-1]
            self._row = torch.repeat_interleave(torch.arange(self.num_dst, device=self.col.device), counts)
        return self._row

    def transpose(self) -> 'CSR':
        """The CSR of the reversed graph (rows = sources); its ``perm`` still indexes the original edges."""
        if self._t is None:
            t = CSR.from_edge_index(torch.stack([self.row, self.col]), self.num_dst, self.num_src)
            self._t_entry = t.perm  # transposed entry -> entry of this CSR
            t.perm = self.perm[t.perm]
            t._t, t._t_entry = self, torch.argsort(self._t_entry)
            self._t = t
        return self._t

    @property
    def transpose_entry(self) -> Tensor:
        """``[E]``: entry ``k`` of :meth:`transpose` is entry ``transpose_entry[k]`` of this CSR, so
        ``values[transpose_entry]`` carries per-entry values (CSR order) over to the transpose."""
        self.transpose()
        return self._t_entry

    @property
    def inv_perm(self) -> Tensor:
        """``[E]`` inverse of :attr:`perm`: CSR-ordered values ``v`` go back to edge order as ``v[inv_perm]``."""
        if self._inv_perm is None:
            self._inv_perm = torch.empty_like(self.perm)
            self._inv_perm[self.perm] = torch.arange(self.num_edges, device=self.perm.device)
        return self._inv_perm

    @property
    def deg(self) -> Tensor:
        """``[num_dst]`` number of entries (incoming edges, duplicates counted) per target node."""
        return self.rowptr[1:] - self.rowptr[:-1]

    def mean_scale(self, dtype: torch.dtype) -> Tensor:
        """``[E]`` per entry ``1 / deg(row)``: ``mean`` aggregation is ``sum`` with these entry values."""
        if self._inv_deg is None or self._inv_deg.dtype != dtype:
            self._inv_deg = (1.0 / self.deg.clamp(min=1).to(dtype))[self.row]
        return self._inv_deg

    def permute_weight(self, edge_weight: Tensor) -> Tensor:
        """``edge_weight[perm]``: per-edge values (edge order) in CSR order.

        Constant weights (no autograd) are cached by tensor identity and version, so passing the same weight
        tensor at every step costs nothing after the first call.
        """
        if edge_weight.requires_grad or edge_weight.is_inference():
            return edge_weight.index_select(0, self.perm)
        key = (id(edge_weight), edge_weight._version, edge_weight.data_ptr(), edge_weight.dtype)
        cached = self._weight_cache
        if cached is not None and cached[0] == key:
            return cached[2]
        out = edge_weight[self.perm]
        # the cache holds the source tensor too, so its id cannot be reused by another tensor meanwhile
        self._weight_cache = (key, edge_weight, out)
        return out

    def sparse(self, values: Tensor) -> Tensor:
        """``torch.sparse_csr_tensor`` ``[num_dst, num_src]`` of this structure with ``values`` (CSR order)."""
        return torch.sparse_csr_tensor(self.rowptr, self.col, values, (self.num_dst, self.num_src),
                                       check_invariants=False)

    def to(self, device) -> 'CSR':
        return CSR(self.rowptr.to(device), self.col.to(device), self.perm.to(device), self.num_src, self.num_dst)

    def __repr__(self) -> str:
        return f'CSR(num_src={self.num_src}, num_dst={self.num_dst}, num_edges={self.num_edges})'


def _silence_beta_warning() -> None:
    """PyTorch warns once per process that sparse CSR support is in beta, and that invariant checks are off when a
    CSR tensor is built without saying (as PyG's ``to_torch_csr_tensor`` does, e.g. in ``GCNConv``'s normalisation
    of a sparse adjacency); trigger both once here, silenced, so the hot path needs no ``warnings.catch_warnings``
    (which costs more than the tensor construction)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        args = (torch.zeros(2, dtype=torch.long), torch.zeros(1, dtype=torch.long), torch.ones(1), (1, 1))
        torch.sparse_csr_tensor(*args, check_invariants=False)
        torch.sparse_csr_tensor(*args)


_silence_beta_warning()
