"""Backend selection for :mod:`graphite.ops`.

Three backends implement the same five operations (``scatter``, ``segment``, ``spmm``, ``gated_spmm`` and the
SDDMM inside their backward passes):

* ``torch`` (always available, the default on CPU): native kernels -- ``scatter_reduce_``, CSR
  ``torch.sparse.mm`` with a reduction, ``torch.sparse.sampled_addmm`` for the SDDMM -- behind custom
  ``autograd.Function`` s, so no ``[E, H]`` tensor is ever materialised.
* ``torch_scatter`` (optional extra ``graphite-gnn[scatter]``): ``torch_scatter.scatter`` / ``segment_csr`` /
  ``gather_csr``. Its CPU kernels are single-threaded and its ``spmm`` gathers ``[E, H]`` messages, so it is only
  picked automatically where it was measured faster (see :data:`AUTO_CPU`).
* ``triton`` (optional extra ``graphite-gnn[triton]``): hand-written CSR kernels (SpMM with edge weights and
  sum/mean/max/min, SDDMM, fused gated SpMM forward and backward). Picked automatically for CUDA tensors. On CPU
  tensors it runs only under the Triton interpreter (``TRITON_INTERPRET=1`` set *before* ``triton`` is imported),
  which is how its correctness is tested without a GPU.

Choice, highest priority first: the ``backend=`` argument of the op, the ``GRAPHITE_OPS_BACKEND`` environment
variable, automatic selection. ``'auto'`` (or ``None``) means automatic. Asking explicitly for a backend that is not
installed (or cannot run on the given device) raises :class:`BackendUnavailableError` naming the reason.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType
from typing import Dict, Optional, Tuple

import torch

__all__ = ['BACKENDS', 'BackendUnavailableError', 'available_backends', 'is_available', 'resolve', 'get',
           'ENV_VAR', 'AUTO_CPU']

BACKENDS = ('torch', 'torch_scatter', 'triton')
ENV_VAR = 'GRAPHITE_OPS_BACKEND'
OPS = ('scatter', 'segment', 'spmm', 'gated_spmm')
REDUCES = ('sum', 'mean', 'max', 'min')

#: automatic choice on CPU tensors per ``(op, reduce)``; anything not listed is ``torch``. Filled from
#: ``benchmarks/ops.py`` on a 2-core CPU: torch's multi-threaded native kernels beat torch-scatter's single-threaded
#: ones for every op and reduction measured (torch-scatter's ``scatter_max`` is ~25x slower), so the table is empty.
AUTO_CPU: Dict[Tuple[str, str], str] = {}


class BackendUnavailableError(RuntimeError):
    """An explicitly requested backend is not installed or cannot run on the tensors' device."""


_modules: Dict[str, ModuleType] = {}
_import_errors: Dict[str, str] = {}


def _import_dependency(name: str) -> Optional[str]:
    """``None`` if the third-party package behind backend ``name`` imports, else the reason it does not."""
    if name == 'torch':
        return None
    if name in _import_errors:
        return _import_errors[name]
    package = {'torch_scatter': 'torch_scatter', 'triton': 'triton'}[name]
    reason = None
    if importlib.util.find_spec(package) is None:
        reason = f'package {package!r} is not installed (pip install graphite-gnn[{name.split("_")[-1]}])'
    elif name == 'torch_scatter':
        try:  # a broken build fails at import time with OSError (undefined symbols), not only ImportError
            importlib.import_module(package)
        except Exception as exc:  # noqa: BLE001 - report whatever broke the import
            reason = f'package {package!r} is installed but does not import: {exc}'
    _import_errors[name] = reason  # type: ignore[assignment]
    return reason


def _triton_interpreted() -> bool:
    """Whether triton's own ``@jit`` library functions were created in interpreter mode."""
    import triton.language as tl
    from triton.runtime.interpreter import InterpretedFunction
    return isinstance(tl.zeros, InterpretedFunction)


def _unavailable_reason(name: str, device: Optional[torch.device]) -> Optional[str]:
    reason = _import_dependency(name)
    if reason is None and name == 'triton' and device is not None and device.type != 'cuda':
        if os.environ.get('TRITON_INTERPRET', '0') not in ('1', 'true', 'True'):
            reason = (f'Triton kernels need CUDA tensors (got {device.type}); to run them on CPU tensors set '
                      'TRITON_INTERPRET=1 before triton is imported')
        elif not _triton_interpreted():
            reason = ('TRITON_INTERPRET=1 was set after triton was imported (torch_geometric imports it), so its '
                      'language functions are compiled, not interpreted; set it in the environment before '
                      'starting Python')
    return reason


def is_available(name: str, device: Optional[torch.device] = None) -> bool:
    """Whether backend ``name`` can run (on ``device`` if given)."""
    _check_name(name)
    return _unavailable_reason(name, device) is None


def available_backends(device: Optional[torch.device] = None) -> Tuple[str, ...]:
    """The backends that can run (on ``device`` if given)."""
    return tuple(b for b in BACKENDS if _unavailable_reason(b, device) is None)


def _check_name(name: str) -> None:
    if name not in BACKENDS:
        raise ValueError(f'unknown graphite.ops backend {name!r}; choose one of {", ".join(BACKENDS)} or "auto"')


def resolve(op: str, reduce: str, device: torch.device, backend: Optional[str] = None) -> str:
    """The backend that runs ``op`` with ``reduce`` on ``device``.

    Args:
        op (str): one of ``scatter``, ``segment``, ``spmm``, ``gated_spmm``.
        reduce (str): ``sum``, ``mean``, ``max`` or ``min`` (``sum`` for ``gated_spmm``).
        device (torch.device): device of the input tensors.
        backend (str, optional): explicit choice; ``None`` falls back to ``$GRAPHITE_OPS_BACKEND``, then to the
            automatic choice; ``'auto'`` forces the automatic choice.
    """
    if backend is None:
        backend = os.environ.get(ENV_VAR)
        if not backend:  # hot path: automatic choice
            return _auto(op, reduce, device)
        source = f'environment variable {ENV_VAR}'
    else:
        source = 'backend= argument'
    if not isinstance(backend, str):
        raise TypeError(f'backend must be a string or None, got {type(backend).__name__}')
    backend = backend.strip().lower().replace('-', '_')
    if backend != 'auto':
        if backend not in BACKENDS:
            raise ValueError(f'unknown graphite.ops backend {backend!r} (from the {source}); choose one of '
                             f'{", ".join(BACKENDS)} or "auto"')
        reason = _unavailable_reason(backend, device)
        if reason is not None:
            raise BackendUnavailableError(f'graphite.ops backend {backend!r} requested by the {source} is '
                                          f'unavailable: {reason}')
        return backend
    return _auto(op, reduce, device)


def _auto(op: str, reduce: str, device: torch.device) -> str:
    if device.type == 'cpu':
        choice = AUTO_CPU.get((op, reduce), 'torch')
        if choice != 'torch' and _unavailable_reason(choice, device) is not None:
            choice = 'torch'
        return choice
    if device.type == 'cuda' and _unavailable_reason('triton', device) is None:
        return 'triton'
    return 'torch'


def get(name: str) -> ModuleType:
    """The implementation module of backend ``name`` (imported on first use)."""
    module = _modules.get(name)
    if module is None:
        module = importlib.import_module(f'graphite.ops.{name}_backend')
        _modules[name] = module
    return module
