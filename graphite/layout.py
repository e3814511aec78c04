r"""The layout of a GRAPHITE-transformed graph: node and edge type ids, counts derived from them, and the checks
that catch a transformed graph corrupted by what was done to it afterwards.

Every per-node or per-edge fact of :class:`graphite.Graphite`'s output is a node or edge attribute that PyG slices
(``data.subgraph``, :class:`~torch_geometric.data.Batch`, the loaders): ``node_type`` and ``feature_column`` per
node, ``edge_type`` per edge. Counts are derived from them (:func:`num_graph_nodes`), never stored, so they stay
right on every slice and batch.

Composition order: graph-level transforms (``T.ToUndirected()``, ``T.AddSelfLoops()``, ...) and splits
(``T.RandomNodeSplit()``) go *before* ``Graphite()``. Applied afterwards they corrupt the typed graph silently
(feature edges summed into type 2, ``edge_type`` shorter than ``edge_index``, feature nodes in ``train_mask``);
:func:`check_transformed` turns each of these into one clear error. :class:`graphite.nn.GraphiteNet` checks the
typed graph on every call, the training runner checks the whole data once.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

__all__ = ['GRAPH_NODE', 'FEATURE_NODE', 'GRAPH_EDGE', 'FEATURE_EDGE', 'SELF_LOOP', 'EDGE_TYPES',
           'num_graph_nodes', 'num_feature_nodes', 'graph_node_mask', 'feature_node_mask', 'check_typed_graph',
           'check_masks', 'check_transformed', 'is_transformed', 'COMPOSE_HINT']

#: ``node_type`` ids
GRAPH_NODE, FEATURE_NODE = 0, 1
#: ``edge_type`` ids stored by the transform (graph edge, feature edge); models add self-loops of type ``SELF_LOOP``
GRAPH_EDGE, FEATURE_EDGE, SELF_LOOP = 0, 1, 2
#: the edge types a transformed graph may hold
EDGE_TYPES = (GRAPH_EDGE, FEATURE_EDGE)

#: appended to the errors of the checks below
COMPOSE_HINT = ('apply graph-level transforms (T.ToUndirected(), T.AddSelfLoops(), ...) and splits '
                '(T.RandomNodeSplit()) before Graphite(), e.g. T.Compose([T.ToUndirected(), Graphite()])')

_MASKS = ('train_mask', 'val_mask', 'test_mask')


def is_transformed(data) -> bool:
    """Whether ``data`` is the (homogeneous) output of :class:`graphite.Graphite` (has ``node_type``)."""
    return 'node_type' in data and isinstance(data.node_type, Tensor)


def graph_node_mask(data) -> Tensor:
    """``[num_nodes]`` bool: the graph nodes (``node_type == GRAPH_NODE``), wherever a slice or batch put them;
    all ``True`` on an untransformed graph."""
    if not is_transformed(data):
        return torch.ones(data.num_nodes, dtype=torch.bool)
    return data.node_type == GRAPH_NODE


def feature_node_mask(data) -> Tensor:
    """``[num_nodes]`` bool: the feature nodes (``node_type == FEATURE_NODE``); all ``False`` on an untransformed
    graph."""
    return ~graph_node_mask(data)


def num_graph_nodes(data) -> int:
    """Number of graph nodes, derived from ``node_type`` (so also right on a ``subgraph``, a
    :class:`~torch_geometric.data.Batch` or a loader's batch); ``data.num_nodes`` on an untransformed graph."""
    return int(graph_node_mask(data).sum())


def num_feature_nodes(data) -> int:
    """Number of feature nodes (0 on an untransformed graph)."""
    return int(feature_node_mask(data).sum())


def check_typed_graph(edge_index: Tensor, edge_type: Optional[Tensor], num_nodes: Optional[int] = None) -> None:
    """Raise :class:`ValueError` unless ``edge_type`` has one entry per column of ``edge_index`` and holds only the
    known types :data:`EDGE_TYPES` (``None`` passes: every edge is a graph edge).

    Catches ``T.AddSelfLoops()`` (edges added, ``edge_type`` not extended) and ``T.ToUndirected()`` (the two
    stored directions of each feature edge summed into type 2) applied after ``Graphite()``.
    """
    if edge_type is None:
        return
    num_edges = edge_index.size(1) if edge_index.dim() == 2 else edge_index.numel()
    if edge_type.dim() != 1 or edge_type.numel() != num_edges:
        raise ValueError(f'edge_type has shape {list(edge_type.shape)} but edge_index has {num_edges} edges: the '
                         f'edges were changed after Graphite() (e.g. by T.AddSelfLoops()); ' + COMPOSE_HINT)
    if edge_type.is_floating_point() or edge_type.dtype == torch.bool:
        raise ValueError(f'edge_type must hold integer type ids {EDGE_TYPES}, got dtype {edge_type.dtype}')
    if num_edges:
        lo, hi = torch.aminmax(edge_type)
        if int(lo) < min(EDGE_TYPES) or int(hi) > max(EDGE_TYPES):
            bad = sorted(set(edge_type.unique().tolist()) - set(EDGE_TYPES))
            raise ValueError(f'edge_type holds unknown type(s) {bad} (known: {GRAPH_EDGE} graph edge, '
                             f'{FEATURE_EDGE} feature edge): duplicate edges were merged after Graphite() (e.g. '
                             f'T.ToUndirected() adds up the two stored directions of each feature edge); '
                             + COMPOSE_HINT)
    if num_nodes is not None and edge_index.numel() and int(edge_index.max()) >= num_nodes:
        raise ValueError(f'edge_index refers to node {int(edge_index.max())} of a graph with {num_nodes} nodes')


def check_masks(data, masks=_MASKS) -> None:
    """Raise :class:`ValueError` if a mask of ``data`` (``[N]`` or ``[N, S]`` bool) selects a feature node: feature
    nodes carry no label (``y = -1``); a split made after ``Graphite()`` (``T.RandomNodeSplit()``) puts them in."""
    feature = feature_node_mask(data)
    for name in masks:
        m = data[name] if name in data else None
        if m is None:
            continue
        if m.size(0) != feature.numel():
            raise ValueError(f'{name} has {m.size(0)} rows but the graph has {feature.numel()} nodes; '
                             + COMPOSE_HINT)
        sel = m.view(m.size(0), -1).bool().any(dim=1) & feature
        if bool(sel.any()):
            raise ValueError(f'{name} selects {int(sel.sum())} feature node(s) (node_type == {FEATURE_NODE}, no '
                             f'label): the split was made after Graphite() (e.g. by T.RandomNodeSplit()); '
                             + COMPOSE_HINT)


def check_transformed(data) -> None:
    """All checks of a GRAPHITE-transformed graph, one clear :class:`ValueError` each: ``node_type`` has one entry
    per node with known types, ``feature_column`` (if present) is ``-1`` exactly on graph nodes, ``edge_type``
    matches ``edge_index`` with known types (:func:`check_typed_graph`), no mask selects a feature node
    (:func:`check_masks`). An untransformed graph (no ``node_type``) passes unchanged."""
    if not is_transformed(data):
        if 'edge_type' in data and data.edge_type is not None:
            check_typed_graph(data.edge_index, data.edge_type, data.num_nodes)
        return
    node_type, n = data.node_type, data.num_nodes
    if node_type.dim() != 1 or node_type.numel() != n:
        raise ValueError(f'node_type has shape {list(node_type.shape)} but the graph has {n} nodes: nodes were '
                         f'added after Graphite() (e.g. by T.VirtualNode()); ' + COMPOSE_HINT)
    if node_type.numel() and (int(node_type.min()) < GRAPH_NODE or int(node_type.max()) > FEATURE_NODE):
        raise ValueError(f'node_type must hold {GRAPH_NODE} (graph node) or {FEATURE_NODE} (feature node)')
    if 'feature_column' in data:
        fc = data.feature_column
        if fc.size(0) != n or not torch.equal(fc < 0, node_type == GRAPH_NODE):
            raise ValueError('feature_column must be -1 exactly on the graph nodes (node_type == 0)')
    check_typed_graph(data.edge_index, data.edge_type if 'edge_type' in data else None, n)
    check_masks(data)
