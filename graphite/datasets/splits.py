"""Seeded random node splits for benchmarks that ship none (the FB100 graphs of LINKX).

The LINKX FB100 graphs (Reed98, Amherst41, JohnsHopkins55, Cornell5) have gender labels with ``-1`` for unknown;
PyG adds masks only for Penn94. Following Lim et al. (2021) we draw, for each of ``num_splits`` splits, a uniformly
random permutation of the *labelled* nodes (``y >= 0``) and cut it into 50% train, 25% validation and the rest test.
Unlabelled nodes are never in any mask.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor

__all__ = ['random_node_splits']


def random_node_splits(y: Tensor, num_splits: int = 10, train_ratio: float = 0.5, val_ratio: float = 0.25,
                       seed: int = 0) -> Tuple[Tensor, Tensor, Tensor]:
    r"""Random train/val/test splits over the labelled nodes.

    With :math:`L = \{v : y_v \ge 0\}` and :math:`n = |L|`, split :math:`s` takes a random permutation
    :math:`\pi_s` of :math:`L` and assigns its first :math:`\lfloor r_{train} n \rceil` nodes to train, the next
    :math:`\lfloor r_{val} n \rceil` to validation and the remainder to test (:math:`\lfloor\cdot\rceil` = rounding).
    The permutations come from one ``torch.Generator`` seeded with ``seed`` and drawn in order ``s = 0, 1, ...``,
    so the result depends only on ``(y >= 0, num_splits, ratios, seed)`` and is identical on every platform.

    Args:
        y (Tensor): labels ``[N]`` (integer); negative values mark unlabelled nodes.
        num_splits (int): number of splits (mask columns). (default: :obj:`10`)
        train_ratio (float): fraction of labelled nodes for training. (default: :obj:`0.5`)
        val_ratio (float): fraction for validation; the test set gets the rest. (default: :obj:`0.25`)
        seed (int): generator seed. (default: :obj:`0`)

    Returns:
        ``(train_mask, val_mask, test_mask)``, each bool ``[N, num_splits]``, pairwise disjoint per column and
        covering exactly the labelled nodes.

    Raises:
        TypeError: ``y`` is not an integer tensor.
        ValueError: ``y`` is not 1-D, has no labelled node, or the ratios / ``num_splits`` are out of range.
    """
    if not isinstance(y, Tensor) or y.dtype.is_floating_point or y.dtype == torch.bool or y.is_complex():
        raise TypeError(f'y must be an integer tensor, got {getattr(y, "dtype", type(y))}')
    if y.dim() != 1:
        raise ValueError(f'y must be 1-D [N], got shape {tuple(y.shape)}')
    if not isinstance(num_splits, int) or num_splits < 1:
        raise ValueError(f'num_splits must be a positive int, got {num_splits!r}')
    if not (0 < train_ratio < 1 and 0 <= val_ratio < 1 and train_ratio + val_ratio < 1):
        raise ValueError(f'need 0 < train_ratio, 0 <= val_ratio and train_ratio + val_ratio < 1, got '
                         f'{train_ratio}, {val_ratio}')
    labelled = (y >= 0).nonzero().view(-1)
    n = labelled.numel()
    if n == 0:
        raise ValueError('y has no labelled node (all labels are negative)')
    n_train = int(round(train_ratio * n))
    n_val = int(round(val_ratio * n))
    if n_train == 0 or n_train + n_val >= n:
        raise ValueError(f'{n} labelled nodes are too few for ratios {train_ratio}/{val_ratio}')
    gen = torch.Generator().manual_seed(int(seed))
    shape = (y.numel(), num_splits)
    masks = [torch.zeros(shape, dtype=torch.bool) for _ in range(3)]
    for s in range(num_splits):
        perm = labelled[torch.randperm(n, generator=gen)]
        masks[0][perm[:n_train], s] = True
        masks[1][perm[n_train:n_train + n_val], s] = True
        masks[2][perm[n_train + n_val:], s] = True
    return masks[0], masks[1], masks[2]
