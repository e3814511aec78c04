"""Training options that change how a model is fitted, checked once before training.

* ``label_smoothing`` (``e``): cross-entropy against ``(1 - e) * one_hot + e / C`` (torch's
  ``cross_entropy(..., label_smoothing=e)``).
* ``ema_decay`` (``d``): an exponential moving average of the weights, ``w_avg <- d * w_avg + (1 - d) * w`` after
  every optimiser step (torch's :class:`~torch.optim.swa_utils.AveragedModel` with
  :func:`~torch.optim.swa_utils.get_ema_multi_avg_fn`, buffers such as BatchNorm statistics averaged alike). The
  averaged copy is what is evaluated, checkpointed at the best validation step and returned; the optimiser still
  trains the raw weights. ``0`` (the default) switches it off.

Both take a value in ``[0, 1)``; anything else is refused in one line naming the option.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import torch

__all__ = ['label_smoothing', 'ema_decay', 'weight_average']


def _fraction(train: Dict[str, Any], name: str) -> float:
    value = train.get(name) or 0.0
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{name} must be a number in [0, 1), got {value!r}') from None
    if not 0.0 <= value < 1.0:
        raise ValueError(f'{name} must be in [0, 1), got {value}')
    return value


def label_smoothing(train: Dict[str, Any]) -> float:
    """The training option ``label_smoothing`` as a float in ``[0, 1)``; a one-line error otherwise."""
    return _fraction(train, 'label_smoothing')


def ema_decay(train: Dict[str, Any]) -> float:
    """The training option ``ema_decay`` as a float in ``[0, 1)`` (0 = no weight averaging); a one-line error
    otherwise."""
    return _fraction(train, 'ema_decay')


def weight_average(model: torch.nn.Module, decay: float) -> Optional[torch.optim.swa_utils.AveragedModel]:
    """An EMA copy of ``model`` updated by ``.update_parameters(model)`` after each step (its first update copies the
    weights), or ``None`` when ``decay`` is 0. ``model`` may be wrapped in DDP: its inner module is averaged (every
    rank holds the same weights, so every rank's average is the same)."""
    if not decay:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from graphite.cli.distributed import unwrap
    return AveragedModel(unwrap(model), multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
