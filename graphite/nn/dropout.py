"""Dropout that is cheap on CPU: uniform-threshold masks, and only the non-zeros of sparse input features."""
from __future__ import annotations

import torch
from torch import Tensor

from graphite.memo import TensorMemo

__all__ = ['dropout']

#: inputs with at most this fraction of non-zeros take the sparse path
SPARSE_DENSITY = 0.1

#: non-zero positions of the last few constant input matrices (bounded, keyed by identity + version, see
#: :mod:`graphite.memo`); shared with :class:`~graphite.nn.input_linear.InputLinear`
FEATURE_MEMO = TensorMemo(capacity=4)


def _nonzero(x: Tensor):
    def build():
        idx = x.nonzero(as_tuple=True)
        return idx, idx[0].numel() / max(x.numel(), 1)
    return FEATURE_MEMO.cached(x, 'dropout:nonzero', build)


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    r"""Inverted dropout :math:`x \odot m / (1 - p)`, :math:`m_{ij} \sim \mathrm{Bernoulli}(1 - p)`.

    Same distribution as :func:`torch.nn.functional.dropout`, but the mask is drawn as ``rand >= p`` (several times
    faster than ``bernoulli_`` on CPU) and, for a constant input that does not require gradients and is mostly zeros
    (bag-of-words node features such as Actor's 0.6% dense matrix), only the non-zero entries draw random numbers
    (their positions are cached per input tensor). Dropping a zero changes nothing, so both paths are exact.

    Args:
        x (Tensor): input.
        p (float): drop probability in ``[0, 1)``.
        training (bool): identity when ``False``.
    """
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f'dropout probability must be in [0, 1), got {p}')
    scale = 1.0 / (1.0 - p)
    if not x.requires_grad and x.dim() == 2 and x.numel() > 100_000:
        idx, density = _nonzero(x)
        if density <= SPARSE_DENSITY:
            vals = x[idx]
            keep = torch.rand(vals.shape, device=x.device) >= p
            out = torch.zeros_like(x)
            out[idx[0][keep], idx[1][keep]] = vals[keep] * scale
            return out
    return x * (torch.rand_like(x) >= p).to(x.dtype) * scale
