"""A dataset made ready for node-classification training: the GRAPHITE transform (if any) applied, tensors and the
masks of every split as index tensors, built once per ``data`` object and moved once per device
(:func:`prepare`, :class:`PreparedData`); used by :mod:`graphite.cli.runner`, :mod:`graphite.cli.minibatch` and
:mod:`graphite.cli.distributed`."""
from __future__ import annotations

import copy
import weakref
from typing import Any, Dict, Optional

import torch

__all__ = ['PreparedData', 'prepare']


class PreparedData:
    """Everything :func:`run` needs about one (dataset, transform): tensors, masks as index tensors, sizes."""

    def __init__(self, data, transform: Optional[str], transform_options: Dict[str, Any]):
        if data.x is None or data.y is None:
            raise ValueError('the dataset has no node features x or labels y')
        if transform == 'graphite':
            if getattr(data, 'edge_type', None) is None:
                from graphite import Graphite
                data = Graphite(**transform_options)(data)
        elif transform not in (None, 'none'):
            raise ValueError(f"unknown transform {transform!r}; expected None or 'graphite'")
        self.data = data
        self.x = data.x.float()
        self.edge_index = data.edge_index
        self.edge_type = getattr(data, 'edge_type', None)
        self.y = data.y.long()
        self.num_nodes = self.x.size(0)
        from graphite.layout import check_transformed, graph_node_mask
        check_transformed(data)  # PyG transforms applied after Graphite(): one clear error each
        graph = graph_node_mask(data)
        self.num_graph_nodes = int(graph.sum())
        labelled = self.y[graph]
        labelled = labelled[labelled >= 0]
        if labelled.numel() == 0:
            raise ValueError('the dataset has no labelled nodes')
        self.num_classes = int(labelled.max()) + 1
        masks = {}
        for name in ('train_mask', 'val_mask', 'test_mask'):
            m = getattr(data, name, None)
            if m is None:
                raise ValueError(f'the dataset has no {name}; node classification needs train/val/test masks')
            masks[name] = m if m.dim() == 2 else m.view(-1, 1)
        self.num_splits = masks['train_mask'].size(1)
        # index tensors per split, restricted to graph nodes with a label
        self.index = {}
        valid = graph & (self.y >= 0)
        for name, m in masks.items():
            self.index[name] = [(m[:, s] & valid).nonzero().view(-1) for s in range(self.num_splits)]
        self.device = torch.device('cpu')
        self._on_device: Dict[torch.device, 'PreparedData'] = {}

    def to(self, device) -> 'PreparedData':
        """This data with its tensors on ``device`` (moved once per device and reused by every split)."""
        device = torch.device(device)
        if device == self.device:
            return self
        moved = self._on_device.get(device)
        if moved is None:
            moved = copy.copy(self)
            moved._on_device = {}
            moved.device = device
            moved.x, moved.y = self.x.to(device), self.y.to(device)
            moved.edge_index = self.edge_index.to(device)
            moved.edge_type = self.edge_type.to(device) if self.edge_type is not None else None
            moved.index = {k: [t.to(device) for t in v] for k, v in self.index.items()}
            self._on_device[device] = moved
        return moved


_PREPARED: Dict[tuple, tuple] = {}


def prepare(data, transform: Optional[str], transform_options: Optional[Dict[str, Any]] = None,
            undirected: bool = False, normalize_features: bool = False) -> PreparedData:
    """The :class:`PreparedData` for ``data`` under ``transform``, built once per ``data`` object.

    ``normalize_features`` and ``undirected`` are applied first, by :func:`graphite.preprocessing.preprocess`;
    ``normalize_features`` needs ``transform=None`` (the GRAPHITE transform needs binary features and has its own
    ``transform_options: {graph_node_features: normalize}``).
    """
    transform_options = transform_options or {}
    key = (id(data), transform, repr(sorted(transform_options.items())), bool(undirected), bool(normalize_features))
    hit = _PREPARED.get(key)
    if hit is not None and hit[0]() is data:
        return hit[1]
    for k in [k for k, (ref, _) in _PREPARED.items() if ref() is None]:
        del _PREPARED[k]
    source = data
    if normalize_features and transform not in (None, 'none'):
        raise ValueError('normalize_features=True needs a run without a transform; with the GRAPHITE transform use '
                         'transform_options graph_node_features=normalize')
    from graphite.preprocessing import preprocess
    data = preprocess(data, normalize_features=normalize_features, undirected=undirected)
    prepared = PreparedData(data, transform, transform_options)
    _PREPARED[key] = (weakref.ref(source), prepared)
    return prepared
