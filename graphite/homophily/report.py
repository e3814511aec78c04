"""The GRAPHITE before/after homophily report: label measures on the original graph and on the transformed graph
with labelled feature nodes, feature homophily on both."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, Optional

from torch_geometric.utils import to_undirected

from graphite.homophily.feature_labels import feature_node_labels
from graphite.homophily.feature_similarity import feature_homophily
from graphite.homophily.measures import LABEL_MEASURES
from graphite.layout import FEATURE_EDGE, num_feature_nodes
from graphite.validation import check_labels

__all__ = ['HomophilyReport', 'homophily_report']


@dataclass
class HomophilyReport:
    """Homophily of a graph before and after GRAPHITE. ``rows[measure] = {column: value}`` with columns
    ``original``, ``all_labels`` and ``train_labels`` (see :func:`homophily_report`)."""
    dataset: str
    sizes: Dict[str, Dict[str, int]]
    rows: Dict[str, Dict[str, Optional[float]]]
    description: Dict[str, str] = field(default_factory=dict)

    @staticmethod
    def relative_change(before: Optional[float], after: Optional[float]) -> Optional[float]:
        """``(after - before) / |before|`` (``None`` if undefined)."""
        if before is None or after is None or before == 0 or math.isnan(before) or math.isnan(after):
            return None
        return (after - before) / abs(before)

    def to_dict(self) -> dict:
        rows = {}
        for m, r in self.rows.items():
            rows[m] = dict(r)
            for col in ('all_labels', 'train_labels'):
                rows[m][f'{col}_change'] = self.relative_change(r.get('original'), r.get(col))
        return {'dataset': self.dataset, 'sizes': self.sizes, 'homophily': rows, 'description': self.description}

    def to_markdown(self) -> str:
        def fmt(v, pct=False):
            if v is None:
                return 'n/a'
            return f'{100 * v:+.0f}%' if pct else f'{v:.4f}'
        s = self.sizes
        lines = [f'## {self.dataset}: graph before and after GRAPHITE', '',
                 '| | original | transformed |', '|---|---:|---:|',
                 f"| nodes | {s['original']['nodes']:,} | {s['transformed']['nodes']:,} |",
                 f"| edges (edge_index columns) | {s['original']['edges']:,} | {s['transformed']['edges']:,} |",
                 f"| feature nodes | 0 | {s['transformed']['feature_nodes']:,} |",
                 f"| feature edges (undirected pairs) | 0 | {s['transformed']['feature_edges']:,} |", '',
                 f'## {self.dataset}: homophily (undirected), before and after', '',
                 '| measure | original | transformed, all labels | change | transformed, train labels (split '
                 f"{self.description.get('split', 0)}) | change |",
                 '|---|---:|---:|---:|---:|---:|']
        for m, r in self.rows.items():
            lines.append(f"| {m} | {fmt(r.get('original'))} | {fmt(r.get('all_labels'))} | "
                         f"{fmt(self.relative_change(r.get('original'), r.get('all_labels')), True)} | "
                         f"{fmt(r.get('train_labels'))} | "
                         f"{fmt(self.relative_change(r.get('original'), r.get('train_labels')), True)} |")
        lines += [''] + [f'- {k}: {v}' for k, v in self.description.items() if k != 'split']
        return '\n'.join(lines)


def _safe(fn, *args, **kw) -> Optional[float]:
    try:
        return fn(*args, **kw)
    except ValueError:
        return None


def homophily_report(data, transformed=None, transform=None, split: int = 0, undirected: bool = True,
                     name: Optional[str] = None) -> HomophilyReport:
    r"""How much GRAPHITE raises homophily. The transformed graph's feature nodes carry no label, so the label
    measures are taken on the transformed graph after labelling them (:func:`feature_node_labels`):

    * ``original``: the input graph (graph edges only), all labels;
    * ``all_labels``: the transformed graph (graph + feature edges, every graph and feature node), each feature node
      labelled with the majority label of *all* its graph nodes (an upper bound: uses test labels);
    * ``train_labels``: same, but feature nodes labelled with the majority of the *training* labels of split
      ``split`` only (no leakage); feature nodes without training nodes are unlabelled and their edges ignored.
      Graph nodes keep their true labels in both cases (they are what is being measured).

    Feature homophily (:func:`feature_homophily`, plain and adjusted) needs no labels: the ``original`` value is on
    the input graph, the transformed value (same in both columns) on the transformed graph with its feature-node
    ``x`` rows. All graphs are symmetrised first when ``undirected`` (the convention of the measured values in
    ``graphite report``; see the papers of the measures in :mod:`graphite.homophily.measures`).

    Args:
        data (Data): the original graph (``x``, ``edge_index``, ``y``; ``train_mask`` for ``train_labels``).
        transformed (Data, optional): ``Graphite(...)(data)``; computed with ``transform`` (default
            ``Graphite()``) when omitted.
        transform (Graphite, optional): the transform to apply when ``transformed`` is omitted.
        split (int): column of a ``[N, S]`` ``train_mask`` used for ``train_labels``. (default: ``0``)
        undirected (bool): symmetrise both graphs first. (default: :obj:`True`)
        name (str, optional): dataset name for the report. (default: ``data.name`` or ``'graph'``)
    """
    if transformed is None:
        if transform is None:
            from graphite.transform import Graphite
            transform = Graphite()
        transformed = transform(data)
    if transformed.__class__.__name__ == 'HeteroData':
        raise TypeError('homophily_report needs the homogeneous output of Graphite (to_hetero=False)')
    n = data.num_nodes
    y = check_labels(data.y, n)
    yt_all = feature_node_labels(transformed, y)
    train = getattr(data, 'train_mask', None)
    yt_train = None
    if train is not None:
        if train.dim() == 2:
            if not 0 <= split < train.size(1):
                raise ValueError(f'split {split} out of range: train_mask has {train.size(1)} splits')
            train = train[:, split]
        yt_train = feature_node_labels(transformed, y, train.bool())

    ei0, ei1 = data.edge_index, transformed.edge_index
    if undirected:
        ei0, ei1 = to_undirected(ei0, num_nodes=n), to_undirected(ei1, num_nodes=transformed.num_nodes)
    rows: Dict[str, Dict[str, Optional[float]]] = {}
    for m, fn in LABEL_MEASURES.items():
        rows[m] = {'original': _safe(fn, ei0, y), 'all_labels': _safe(fn, ei1, yt_all),
                   'train_labels': _safe(fn, ei1, yt_train) if yt_train is not None else None}
    xt = transformed.x
    for m, adj in (('feature', False), ('feature_adjusted', True)):
        after = _safe(feature_homophily, xt, ei1, adjusted=adj)
        rows[m] = {'original': _safe(feature_homophily, data.x, ei0, adjusted=adj), 'all_labels': after,
                   'train_labels': after}
    n_feat = num_feature_nodes(transformed)
    sizes = {'original': {'nodes': n, 'edges': int(data.edge_index.size(1))},
             'transformed': {'nodes': int(transformed.num_nodes), 'edges': int(transformed.edge_index.size(1)),
                             'feature_nodes': n_feat,
                             'feature_edges': int((transformed.edge_type == FEATURE_EDGE).sum()) // 2}}
    desc = {
        'split': split,
        'labels': 'original = input graph; transformed = graph + feature nodes/edges, each feature node labelled by '
                  'the majority label of its graph nodes (all labels, or training labels of the split only; ties -> '
                  'smallest label; feature nodes without voters unlabelled and ignored)',
        'graph': 'undirected (to_undirected: both directions, duplicates removed)' if undirected else 'as stored',
        'feature': 'mean cosine similarity of linked pairs (self-loops dropped); feature_adjusted = (h - b) / '
                   '(1 - b), b = exact mean cosine over all pairs of distinct nodes',
    }
    return HomophilyReport(name or getattr(data, 'name', None) or 'graph', sizes, rows, desc)
