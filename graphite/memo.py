r"""The one memo of graphite: structures derived from a tensor (CSR, normalised adjacency, non-zero positions),
remembered for the last few tensors seen, keyed safely.

A PyG model computes on the graph it is called with; caching what it derives from that graph is an *opt-in*
(``cached=True``, as in PyG's :class:`~torch_geometric.nn.conv.GCNConv`), meant for transductive full-batch training
where every call sees the same ``edge_index``. graphite's models take ``cached=False`` by default and, when
``cached=True``, hold a :class:`TensorMemo` as a plain (non-persistent) attribute:

* **bounded**: at most ``capacity`` tensors are remembered (least recently used out);
* **keyed safely**: by a weak reference to the tensor (identity, never a recycled ``id()``) *and* its version
  counter, storage pointer, shape, dtype and device, so a different graph, or the same tensor modified in place,
  is a miss and the structure is rebuilt; entries die with their tensor;
* **copy- and pickle-safe**: ``copy.deepcopy``, :mod:`pickle` and :func:`torch.save` of a module holding a memo
  give an empty memo (weak references are not copied), like PyG's ``_cached_edge_index`` is recomputed.

.. code-block:: python

    from graphite.memo import TensorMemo, memoize

    class MyEncoder(torch.nn.Module):
        def __init__(self, ..., cached: bool = False):
            ...
            self._memo = TensorMemo(capacity=2) if cached else None

        def forward(self, x, edge_index):
            adj = memoize(self._memo, edge_index, 'adj', lambda: build_adjacency(edge_index, x.size(0)))
            ...

``memoize(None, ...)`` simply builds, so the same code serves ``cached=False``. A structure that depends on
several tensors (``edge_index`` and ``edge_type``) is keyed by the first and validated against the others
(``memoize(memo, (edge_index, edge_type), ...)``).
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from torch import Tensor, nn

__all__ = ['TensorMemo', 'memoize', 'graph_memo', 'reset_pyg_caches']

Tensors = Union[Tensor, Sequence[Optional[Tensor]]]


def _signature(t: Tensor) -> tuple:
    return (t._version, t.data_ptr(), tuple(t.shape), t.dtype, t.device)


class TensorMemo:
    """Per-tensor dictionaries of derived facts for the ``capacity`` most recently used tensors.

    Args:
        capacity (int): number of tensors remembered (least recently used first out). (default: ``8``)
    """

    def __init__(self, capacity: int = 8):
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f'capacity must be a positive int, got {capacity!r}')
        self.capacity = capacity
        self._entries: List[Tuple[weakref.ref, tuple, Dict[Any, Any]]] = []

    def get(self, t: Tensor) -> Dict[Any, Any]:
        """The (possibly empty) dictionary of facts stored for ``t``; fill it in place. Inference-mode tensors
        have no version counter and get a fresh dictionary every time."""
        if t.is_inference():
            return {}
        key = _signature(t)
        self._entries = [e for e in self._entries if e[0]() is not None]  # drop facts of freed tensors
        for pos, (ref, k, data) in enumerate(self._entries):
            if ref() is t:
                if k == key:
                    if pos:
                        self._entries.insert(0, self._entries.pop(pos))
                    return data
                self._entries.pop(pos)
                break
        data: Dict[Any, Any] = {}
        self._entries.insert(0, (weakref.ref(t), key, data))
        del self._entries[self.capacity:]
        return data

    def cached(self, tensors: Tensors, name: Any, build: Callable[[], Any]) -> Any:
        """``build()`` remembered under ``name`` for ``tensors`` (one tensor, or a sequence whose first element is
        the key and whose other elements, possibly ``None``, must be the same unchanged objects for a hit)."""
        if isinstance(tensors, Tensor):
            key_tensor, deps = tensors, ()
        else:
            key_tensor, deps = tensors[0], tuple(tensors[1:])
        if any(d is not None and d.is_inference() for d in deps):
            return build()
        facts = self.get(key_tensor)
        found = facts.get(name)
        if found is not None:
            refs, sigs, value = found
            if all((r is None and d is None) or (r is not None and d is not None and r() is d)
                   for r, d in zip(refs, deps)) and sigs == tuple(None if d is None else _signature(d) for d in deps):
                return value
        value = build()
        facts[name] = (tuple(None if d is None else weakref.ref(d) for d in deps),
                       tuple(None if d is None else _signature(d) for d in deps), value)
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._entries = []

    def __len__(self) -> int:
        return sum(1 for e in self._entries if e[0]() is not None)

    # Copies and pickles are empty: weak references cannot be copied, and a copy may be used on other tensors.
    def __getstate__(self) -> dict:
        return {'capacity': self.capacity}

    def __setstate__(self, state: dict) -> None:
        self.capacity = state['capacity']
        self._entries = []

    def __deepcopy__(self, memo) -> 'TensorMemo':
        return TensorMemo(self.capacity)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(capacity={self.capacity}, tensors={len(self)})'


def memoize(memo: Optional[TensorMemo], tensors: Tensors, name: Any, build: Callable[[], Any]) -> Any:
    """``memo.cached(tensors, name, build)``, or just ``build()`` when ``memo`` is ``None`` (``cached=False``)."""
    return build() if memo is None else memo.cached(tensors, name, build)


def reset_pyg_caches(module: nn.Module, memo: Optional[TensorMemo], edge_index: Tensor) -> None:
    """For a model built from PyG convolutions with ``cached=True`` (which keep the first graph's normalisation
    forever): clear their ``_cached_edge_index`` / ``_cached_adj_t`` whenever ``edge_index`` is not the graph of the
    previous call (another tensor, or the same one modified in place), so ``cached=True`` is never stale."""
    if memo is None:
        return
    token = memo.cached(edge_index, 'pyg_cache_token', object)
    if module.__dict__.get('_pyg_cache_token') is token:
        return
    for sub in module.modules():
        for attr in ('_cached_edge_index', '_cached_adj_t'):
            if getattr(sub, attr, None) is not None:
                setattr(sub, attr, None)
    module.__dict__['_pyg_cache_token'] = token


def graph_memo(cached: bool) -> Optional[TensorMemo]:
    """The memo a model holds for ``cached=True`` (the last two graphs, e.g. a training and an evaluation graph),
    ``None`` for ``cached=False``."""
    return TensorMemo(capacity=2) if cached else None
