r"""The aggregation structure of an encoder (CSR + per-entry weights on :mod:`graphite.ops`) and its opt-in cache.

:func:`build_propagation` turns an ``edge_index`` into what :func:`graphite.ops.spmm` aggregates over: self-loops
of the input removed, re-added when the encoder mixes the ego in, and the entries weighted by PyG's symmetric GCN
normalisation :math:`\tilde D^{-1/2} \tilde A \tilde D^{-1/2}` (``norm='sym'``) or left at 1 (``norm=None``).

:class:`CachedPropagation` gives an encoder PyG's ``cached=`` semantics. ``cached=False`` (default): the structure
is rebuilt at every call and nothing is kept in the module, so any graph, changed or not, gives the same result as
a fresh model. ``cached=True`` (transductive training on one fixed graph): the structure of the last graph is kept
and reused while the same ``edge_index`` tensor object, unchanged (its version counter catches in-place edits), is
passed with the same number of nodes. The cache is derived state: it is not a buffer (not in ``state_dict``) and
is dropped by ``copy.deepcopy``, ``pickle`` and ``torch.save``.
"""
from __future__ import annotations

import weakref
from typing import NamedTuple, Optional

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, remove_self_loops

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
        entry = self.__dict__.get('_cached_propagation')
        key = (edge_index._version, tuple(edge_index.shape), edge_index.device, int(num_nodes))
        if entry is not None and entry[0]() is edge_index and entry[1] == key:
            return entry[2]
        prop = self.build_propagation(edge_index, num_nodes)
        self.__dict__['_cached_propagation'] = (weakref.ref(edge_index), key, prop)
        return prop

    def clear_cache(self) -> None:
        """Drop the cached structure (``cached=True``)."""
        self.__dict__.pop('_cached_propagation', None)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop('_cached_propagation', None)
        return state
