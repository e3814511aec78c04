"""Memoisation of facts derived from index tensors (value range, sortedness, row pointers, CSR conversions).

Training loops pass the same ``index`` / ``ptr`` / ``edge_index`` tensor at every step. Validating it (min/max,
monotonicity) and deriving structures from it (row pointers, CSR) costs several full passes and, with
multi-threaded kernels on a loaded machine, several thread synchronisations per call. :class:`TensorMemo` keeps
what was derived for the last few tensors seen, keyed by identity (a weak reference), storage pointer, shape and
version counter, so an in-place change of the tensor invalidates its entry.
"""
from __future__ import annotations

import weakref
from typing import Any, Dict, List, Tuple

from torch import Tensor


class TensorMemo:
    """Per-tensor dictionaries of derived facts for the ``capacity`` most recently used tensors.

    Args:
        capacity (int): number of tensors remembered (least recently used first out).
    """

    def __init__(self, capacity: int = 8):
        self.capacity = capacity
        self._entries: List[Tuple[weakref.ref, tuple, Dict[Any, Any]]] = []

    def get(self, t: Tensor) -> Dict[Any, Any]:
        """The (possibly empty) dictionary of facts stored for ``t``; fill it in place. Inference-mode tensors
        have no version counter and get a fresh dictionary every time."""
        if t.is_inference():
            return {}
        key = (t._version, t.data_ptr(), tuple(t.shape), t.dtype, t.device)
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
