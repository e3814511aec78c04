r"""Neighbourhood-overlap link-prediction heuristics, evaluated on queried pairs only (no dense :math:`N \times N`).

For an undirected graph with neighbour sets :math:`\Gamma(u)` and degrees :math:`d_w = |\Gamma(w)|`:

* common neighbours (CN): :math:`\mathrm{CN}(u, v) = |\Gamma(u) \cap \Gamma(v)|`;
* Adamic-Adar (AA, Adamic & Adar 2003): :math:`\sum_{w \in \Gamma(u) \cap \Gamma(v)} 1 / \log d_w`;
* resource allocation (RA, Zhou et al. 2009): :math:`\sum_{w \in \Gamma(u) \cap \Gamma(v)} 1 / d_w`.

They are all :math:`\sum_w A_{uw} \, c_w \, A_{wv}` with a per-node weight :math:`c_w` (1, :math:`1/\log d_w`,
:math:`1/d_w`), computed as the row-wise sum of :math:`A[u] \odot (c \odot A[v])` for the queried rows of a
SciPy CSR matrix: cost :math:`O(\sum_{(u,v)} (d_u + d_v))`. Duplicate edges and self-loops of the input are
removed first (as networkx's ``Graph`` would), and ``edge_index`` is symmetrised. A self-pair :math:`(u, u)` scores
0 under every heuristic (a node is no link candidate of itself; the formulas would give :math:`d_u` for CN and an
undefined :math:`1/\log 1` term for AA).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

__all__ = ['Heuristic', 'common_neighbors', 'adamic_adar', 'resource_allocation', 'HEURISTICS']


class Heuristic:
    """Pair scorer built once per graph (the CSR matrix is reused by every call).

    Args:
        edge_index (LongTensor): ``[2, E]`` edges (treated as undirected).
        num_nodes (int): number of nodes :math:`N`.
    """

    def __init__(self, edge_index: Tensor, num_nodes: int):
        if (not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2
                or edge_index.is_floating_point()):
            raise ValueError(f'edge_index must be a [2, E] integer tensor, got '
                             f'{getattr(edge_index, "shape", edge_index)}')
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 1:
            raise ValueError(f'num_nodes must be an int >= 1, got {num_nodes!r}')
        if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
            raise ValueError(f'edge_index has node indices outside [0, {num_nodes})')
        row, col = edge_index.cpu().numpy()
        keep = row != col
        row, col = np.concatenate([row[keep], col[keep]]), np.concatenate([col[keep], row[keep]])
        a = sp.csr_matrix((np.ones(row.size, dtype=np.float64), (row, col)), shape=(num_nodes, num_nodes))
        a.data[:] = 1.0  # duplicates were summed: back to a 0/1 matrix
        self.adj = a
        self.num_nodes = num_nodes
        self.degree = np.asarray(a.sum(1)).ravel()

    def _score(self, pairs: Tensor, weight: np.ndarray, batch_size: int = 65536) -> Tensor:
        if not isinstance(pairs, Tensor) or pairs.dim() != 2 or pairs.size(0) != 2 or pairs.is_floating_point():
            raise ValueError(f'pairs must be a [2, P] integer tensor, got {getattr(pairs, "shape", pairs)}')
        if pairs.numel() and (int(pairs.min()) < 0 or int(pairs.max()) >= self.num_nodes):
            raise ValueError(f'pairs has node indices outside [0, {self.num_nodes})')
        u, v = pairs.cpu().numpy()
        aw = self.adj @ sp.diags(weight) if weight is not None else self.adj
        out = np.empty(u.size)
        for s in range(0, u.size, batch_size):
            out[s:s + batch_size] = np.asarray(
                self.adj[u[s:s + batch_size]].multiply(aw[v[s:s + batch_size]]).sum(1)).ravel()
        out[u == v] = 0.0  # a node is no link candidate of itself (self-loops are removed from the graph too)
        return torch.from_numpy(out)

    def common_neighbors(self, pairs: Tensor) -> Tensor:
        """CN score ``[P]`` (float64) of each pair."""
        return self._score(pairs, None)

    def adamic_adar(self, pairs: Tensor) -> Tensor:
        """AA score ``[P]``: common neighbours weighted by ``1 / log(degree)`` (a common neighbour has degree >= 2)."""
        with np.errstate(divide='ignore'):
            w = np.where(self.degree > 1, 1.0 / np.log(np.maximum(self.degree, 2)), 0.0)
        return self._score(pairs, w)

    def resource_allocation(self, pairs: Tensor) -> Tensor:
        """RA score ``[P]``: common neighbours weighted by ``1 / degree``."""
        w = np.where(self.degree > 0, 1.0 / np.maximum(self.degree, 1), 0.0)
        return self._score(pairs, w)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_nodes={self.num_nodes}, num_edges={self.adj.nnz // 2})'


def common_neighbors(edge_index: Tensor, pairs: Tensor, num_nodes: int) -> Tensor:
    """Common-neighbour counts of ``pairs`` ``[2, P]`` in the graph ``edge_index`` (see :class:`Heuristic`)."""
    return Heuristic(edge_index, num_nodes).common_neighbors(pairs)


def adamic_adar(edge_index: Tensor, pairs: Tensor, num_nodes: int) -> Tensor:
    """Adamic-Adar index of ``pairs`` ``[2, P]`` (see :class:`Heuristic`)."""
    return Heuristic(edge_index, num_nodes).adamic_adar(pairs)


def resource_allocation(edge_index: Tensor, pairs: Tensor, num_nodes: int) -> Tensor:
    """Resource-allocation index of ``pairs`` ``[2, P]`` (see :class:`Heuristic`)."""
    return Heuristic(edge_index, num_nodes).resource_allocation(pairs)


#: name -> method name of :class:`Heuristic`
HEURISTICS = {'cn': 'common_neighbors', 'aa': 'adamic_adar', 'ra': 'resource_allocation'}
