r"""The aggregation structure of an encoder (CSR + per-entry weights on :mod:`graphite.ops`) and its opt-in cache.

:func:`build_propagation` turns an ``edge_index`` into what :func:`graphite.ops.spmm` aggregates over: self-loops
of the input removed, re-added when the encoder mixes the ego in, and the entries weighted by PyG's symmetric GCN
normalisation :math:`\tilde D^{-1/2} \tilde A \tilde D^{-1/2}` (``norm='sym'``) or left at 1 (``norm=None``).

:class:`CachedPropagation` gives an encoder PyG's ``cached=`` semantics. ``cached=False`` (default): the structure
is rebuilt at every call and nothing is kept in the module, so any graph, changed or not, gives the same result as
a fresh model. ``cached=True`` (transductive training on one fixed graph): the structures of the last two graphs are
kept in graphite's one memo (:mod:`graphite.memo`) and reused while the same ``edge_index`` tensor object, unchanged
(its version counter catches in-place edits), is passed with the same number of nodes. The cache is derived state:
it is not a buffer (not in ``state_dict``), and ``copy.deepcopy``, ``pickle`` and ``torch.save`` give an empty one.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, remove_self_loops

from graphite.memo import graph_memo, memoize
from graphite.ops import CSR

__all__ = ['Propagation', 'build_propagation', 'CachedPropagation']


class Propagation(NamedTuple):
    """``spmm(csr, h, weight, reduce)`` aggregates over it; ``edge_index`` is the graph it was built from."""
    csr: CSR
    weight: Optional[Tensor]
    edge_index: Tensor


def build_propagation(edge_index: Tensor, num_nodes: int, self_loops: bool, norm: Optional[str] = None
                      ) -> Propagation:
    """Aggregation structure of ``edge_index`` (see module docstring); ``norm`` is ``None`` or ``'sym'``."""
    ei, _ = remove_self_loops(edge_index)
    if self_loops:
        ei, _ = add_self_loops(ei, num_nodes=num_nodes)
    weight = None
    if norm == 'sym':
        ei, weight = gcn_norm(ei, None, num_nodes, add_self_loops=False)
    elif norm is not None:
        raise ValueError(f"norm must be None or 'sym', got {norm!r}")
    return Propagation(CSR.from_edge_index(ei, num_nodes), weight, ei)


class CachedPropagation(torch.nn.Module):
    """Mixin of the encoders: :meth:`propagation` with the ``cached`` switch (see module docstring). Subclasses
    implement :meth:`build_propagation` and set ``self.cached``."""
    cached: bool = False

    def build_propagation(self, edge_index: Tensor, num_nodes: int):
        raise NotImplementedError

    def propagation(self, edge_index: Tensor, num_nodes: int):
        if not self.cached or edge_index.is_inference():
            return self.build_propagation(edge_index, num_nodes)
        memo = self.__dict__.get('_memo')
        if memo is None:  # graphite's one memo: bounded, weak- and version-keyed, empty in copies and pickles
            memo = self.__dict__['_memo'] = graph_memo(True)
        return memoize(memo, edge_index, ('propagation', int(num_nodes)),
                       lambda: self.build_propagation(edge_index, num_nodes))

    def clear_cache(self) -> None:
        """Drop the cached structures (``cached=True``)."""
        memo = self.__dict__.get('_memo')
        if memo is not None:
            memo.clear()
