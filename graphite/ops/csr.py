"""A reusable compressed-sparse-row view of an ``edge_index``."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


class CSR:
    r"""Adjacency in CSR form with rows = target nodes (PyG's ``source_to_target`` flow).

    Built once per graph and reused by every layer and every training step.

    Attributes:
        rowptr (LongTensor): ``[num_dst + 1]`` row pointers.
        col (LongTensor): ``[E]`` source node of each entry, entries sorted by (target, source).
        perm (LongTensor): ``[E]``, ``perm[k]`` is the position in the original ``edge_index`` of entry ``k``,
            so ``edge_weight[perm]`` puts per-edge values into CSR order.
        num_src, num_dst (int): number of source / target nodes.
    """

    def __init__(self, rowptr: Tensor, col: Tensor, perm: Tensor, num_src: int, num_dst: int):
        self.rowptr, self.col, self.perm = rowptr, col, perm
        self.num_src, self.num_dst = int(num_src), int(num_dst)
        self._row: Optional[Tensor] = None
        self._t: Optional['CSR'] = None

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: Optional[int] = None,
                        num_dst: Optional[int] = None) -> 'CSR':
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f'edge_index must have shape [2, E], got {tuple(edge_index.shape)}')
        num_src = int(edge_index.max()) + 1 if num_nodes is None and edge_index.numel() else (num_nodes or 0)
        num_dst = num_src if num_dst is None else num_dst
        src, dst = edge_index[0], edge_index[1]
        if edge_index.numel() and (int(src.min()) < 0 or int(src.max()) >= num_src
                                   or int(dst.min()) < 0 or int(dst.max()) >= num_dst):
            raise ValueError(f'edge_index has entries outside [0, {num_src}) x [0, {num_dst})')
        key = dst * max(num_src, 1) + src
        perm = torch.argsort(key, stable=True)
        counts = torch.bincount(dst, minlength=num_dst)
        rowptr = torch.zeros(num_dst + 1, dtype=torch.long, device=edge_index.device)
        rowptr[1:] = torch.cumsum(counts, 0)
        return cls(rowptr, src[perm], perm, num_src, num_dst)

    @property
    def num_edges(self) -> int:
        return self.col.numel()

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
            t.perm = self.perm[t.perm]
            self._t = t
        return self._t

    def to(self, device) -> 'CSR':
        return CSR(self.rowptr.to(device), self.col.to(device), self.perm.to(device), self.num_src, self.num_dst)

    def __repr__(self) -> str:
        return f'CSR(num_src={self.num_src}, num_dst={self.num_dst}, num_edges={self.num_edges})'
