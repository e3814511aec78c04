"""Loader for the yandex *filtered* Chameleon / Squirrel npz files (Platonov et al., ICLR 2023).

Platonov et al. found that the Geom-GCN Chameleon and Squirrel graphs contain many duplicate nodes (same features,
same neighbours) that leak between train and test, and published de-duplicated versions: Chameleon-F (890 nodes)
and Squirrel-F (2,223 nodes) in https://github.com/yandex-research/heterophilous-graphs (``data/*_filtered.npz``).
They use the keys of the yandex benchmark npz files, but PyG's ``HeterophilousGraphDataset`` does not know these
names, so we build the :class:`~torch_geometric.data.Data` here.

Edge storage: ``<name>_filtered.npz`` stores each undirected edge **once** (``edges`` is ``[E, 2]`` with
``E = 8,854`` for Chameleon-F and ``46,998`` for Squirrel-F, no self-loops, no reversed duplicates);
``<name>_filtered_directed.npz`` keeps the original edge directions (13,584 / 65,718 edges, with self-loops).
"""
from __future__ import annotations

import os
from typing import Union

import numpy as np
import torch
from torch_geometric.data import Data

__all__ = ['read_filtered_npz']

_KEYS = ('node_features', 'node_labels', 'edges', 'train_masks', 'val_masks', 'test_masks')


def read_filtered_npz(path: Union[str, os.PathLike], name: str = '') -> Data:
    r"""Read one yandex benchmark npz into a :class:`~torch_geometric.data.Data`.

    Args:
        path (str or PathLike): the ``.npz`` file with keys ``node_features [N, F]``, ``node_labels [N]``,
            ``edges [E, 2]`` and ``train_masks``/``val_masks``/``test_masks`` ``[S, N]``.
        name (str, optional): used in error messages.

    Returns:
        ``Data(x [N, F] float32, y [N] long, edge_index [2, E] long (as stored), train_mask/val_mask/test_mask
        [N, S] bool)``.

    Raises:
        ValueError: a key is missing, shapes disagree, an edge index is out of ``[0, N)``, or features are not finite.
    """
    label = name or os.fspath(path)
    with np.load(path, allow_pickle=False) as z:
        absent = [k for k in _KEYS if k not in z.files]
        if absent:
            raise ValueError(f'{label}: npz lacks key(s) {absent}; expected {list(_KEYS)}, found {z.files}')
        arrays = {k: z[k] for k in _KEYS}
    x = torch.from_numpy(np.ascontiguousarray(arrays['node_features'], dtype=np.float32))
    y = torch.from_numpy(np.ascontiguousarray(arrays['node_labels'])).long()
    edges = torch.from_numpy(np.ascontiguousarray(arrays['edges'])).long()
    if x.dim() != 2:
        raise ValueError(f'{label}: node_features must be [N, F], got {tuple(x.shape)}')
    n = x.size(0)
    if y.shape != (n, ):
        raise ValueError(f'{label}: node_labels must be [{n}], got {tuple(y.shape)}')
    if not torch.isfinite(x).all():
        raise ValueError(f'{label}: node_features contain NaN or infinite values')
    if edges.dim() != 2 or edges.size(1) != 2:
        raise ValueError(f'{label}: edges must be [E, 2], got {tuple(edges.shape)}')
    if edges.numel() and (edges.min() < 0 or edges.max() >= n):
        raise ValueError(f'{label}: edge indices must lie in [0, {n}), got range '
                         f'[{int(edges.min())}, {int(edges.max())}]')
    masks = {}
    for key in ('train_masks', 'val_masks', 'test_masks'):
        m = torch.from_numpy(np.ascontiguousarray(arrays[key]))
        if m.dim() != 2 or m.size(1) != n:
            raise ValueError(f'{label}: {key} must be [num_splits, {n}], got {tuple(m.shape)}')
        masks[key[:-1]] = m.bool().t().contiguous()  # [S, N] -> [N, S]
    return Data(x=x, y=y, edge_index=edges.t().contiguous(), num_nodes=n, **masks)
