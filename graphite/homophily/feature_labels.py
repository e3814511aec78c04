"""Labels for the feature nodes of a GRAPHITE-transformed graph (majority vote of their graph nodes), so that the
label-based homophily measures can be taken on the transformed graph."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from graphite.layout import FEATURE_EDGE, graph_node_mask, is_transformed
from graphite.validation import check_labels

__all__ = ['feature_node_labels']


def feature_node_labels(transformed, y: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
    r"""Labels for every node of a GRAPHITE-transformed graph: graph nodes keep ``y``; a feature node gets the
    majority label among the graph nodes that have its feature (and are selected by ``mask``, e.g. the training
    nodes of one split, so that no validation/test label leaks); ties go to the smallest label; a feature node
    without any selected labelled node gets ``-1`` (unlabelled, ignored by the measures). Graph and feature nodes
    are told apart by ``node_type`` and feature edges by ``edge_type``, so a ``subgraph`` or a batch works too.
    Cost ``O(nnz(X) + (N + F_used) C)``.

    Args:
        transformed (Data): output of :class:`graphite.Graphite` (``node_type``, ``edge_type``).
        y (Tensor, optional): ``[N]`` labels of the graph nodes, in node order. (default: ``transformed.y`` of
            the graph nodes)
        mask (Tensor, optional): ``[N]`` bool, the graph nodes whose labels may vote. (default: all labelled nodes)

    Returns:
        ``[num_nodes]`` long labels, in the node order of ``transformed``.
    """
    for key in ('edge_type', 'edge_index'):
        if key not in transformed:
            raise ValueError(f'expected a GRAPHITE-transformed graph (missing {key!r}); apply graphite.Graphite()')
    if not is_transformed(transformed):
        raise ValueError("expected a GRAPHITE-transformed graph (missing 'node_type'); apply graphite.Graphite()")
    graph = graph_node_mask(transformed)
    n, total = int(graph.sum()), int(transformed.num_nodes)
    y = check_labels(transformed.y[graph] if y is None else y, n)
    labels = torch.full((total,), -1, dtype=torch.long, device=y.device)
    labels[graph] = y
    voter = labels >= 0
    if mask is not None:
        if mask.dtype != torch.bool or mask.dim() != 1 or mask.numel() != n:
            raise ValueError(f'mask must be a bool [{n}] tensor, got {mask.dtype} {list(mask.shape)}')
        selected = torch.zeros(total, dtype=torch.bool, device=y.device)
        selected[graph] = mask
        voter &= selected
    src, dst = transformed.edge_index
    vote = (transformed.edge_type == FEATURE_EDGE) & graph[src] & ~graph[dst] & voter[src]  # node -> feature
    node, feat = src[vote], dst[vote]
    c = max(int(y.max()) + 1, 1)
    counts = torch.bincount(feat * c + labels[node], minlength=total * c).view(total, c)
    majority = counts.argmax(dim=1)                                 # first maximum = smallest label on ties
    majority[counts.sum(1) == 0] = -1
    return torch.where(graph, labels, majority)
