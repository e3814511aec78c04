"""Graph preprocessing applied before any transform, recorded with a run and a saved model so that prediction repeats
it: making the graph undirected and row-normalising node features (:func:`preprocess`)."""
from __future__ import annotations

import copy

__all__ = ['PREPROCESS_KEYS', 'preprocess']

#: the preprocessing options, in the order they are applied
PREPROCESS_KEYS = ('normalize_features', 'undirected')


def preprocess(data, normalize_features: bool = False, undirected: bool = False):
    """``data`` with the chosen preprocessing applied (a shallow copy; ``data`` itself is unchanged).

    Args:
        data (Data): the original graph (not one already transformed by :class:`graphite.Graphite`).
        normalize_features (bool): row-normalise ``x`` with :class:`torch_geometric.transforms.NormalizeFeatures`
            (each row sums to 1, all-zero rows stay zero), the usual preprocessing of the Planetoid bag-of-words
            graphs (GCN, FAGCN). The GRAPHITE transform needs binary features: with it use its own
            ``graph_node_features='normalize'`` instead.
        undirected (bool): every edge in both directions, duplicates merged
            (:func:`torch_geometric.utils.to_undirected`), as tunedGNN does for the filtered Chameleon/Squirrel
            graphs, which store each edge once.

    Raises:
        ValueError: an option is set and ``data`` already carries the transform's ``edge_type``.
    """
    if not (normalize_features or undirected):
        return data
    if getattr(data, 'edge_type', None) is not None:
        chosen = [k for k, v in (('normalize_features', normalize_features), ('undirected', undirected)) if v]
        raise ValueError(f'{"/".join(chosen)}=True needs the original graph, not one already transformed by '
                         f'Graphite()')
    data = copy.copy(data)
    if normalize_features:
        from torch_geometric.transforms import NormalizeFeatures
        data = NormalizeFeatures()(data)
    if undirected:
        from torch_geometric.utils import to_undirected
        data.edge_index = to_undirected(data.edge_index, num_nodes=data.num_nodes)
    return data
