"""Device selection shared by the Python API and the command line: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
from __future__ import annotations

from typing import Optional, Union

import torch

__all__ = ['resolve_device', 'DEVICE_HELP']

DEVICE_HELP = ("device to train on: auto (CUDA when available, else CPU), cpu, cuda or cuda:N (default: auto); "
               "on CUDA the graphite.ops Triton backend is used when triton is installed, else the torch one")


def resolve_device(spec: Union[str, torch.device, None] = 'auto') -> torch.device:
    """The :class:`torch.device` for ``spec``.

    ``'auto'`` (or ``None``) is ``cuda`` when a CUDA device is available and ``cpu`` otherwise. Asking for a CUDA
    device that does not exist raises a :class:`ValueError` naming what is available, rather than failing later
    inside a kernel.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == 'auto'):
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        device = torch.device(spec.strip().lower() if isinstance(spec, str) else spec)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {spec!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'") from None
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError(f"device {spec!r} was requested but CUDA is not available here (torch "
                             f"{torch.__version__}, built {'with' if torch.version.cuda else 'without'} CUDA); "
                             "use --device cpu or auto")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(f'device {spec!r} does not exist: {count} CUDA device(s) (cuda:0..cuda:{count - 1})')
    elif device.type != 'cpu':
        raise ValueError(f"unsupported device {spec!r}; expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    return device


def device_name(device: torch.device) -> Optional[str]:
    """Human-readable name of ``device`` (the GPU's product name on CUDA, ``None`` on CPU)."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return None
