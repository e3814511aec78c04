r"""Homophily measures for node-labelled graphs.

Conventions shared by every measure (read these once):

* ``edge_index`` is ``[2, E]``; column ``(u, v)`` is an edge from source ``u`` to target ``v``.
* ``undirected=True`` first symmetrises the graph with :func:`torch_geometric.utils.to_undirected` (adds the
  reverse of every edge, removes duplicate edges, keeps self-loops). This is how the "undirected" numbers of
  ``graphite report`` are measured (e.g. Actor edge homophily 0.2181 undirected vs 0.2188 on its stored directed
  edges).
  With ``undirected=False`` the columns are used as given.
* Edge and node homophily follow the edge direction as given (node homophily averages over *targets* and their
  in-neighbours, as :func:`torch_geometric.utils.homophily` does). Adjusted homophily and label informativeness
  are defined for undirected graphs (Platonov et al., 2023): they count both endpoints of every column, i.e. the
  column list is read as an undirected multigraph; on a symmetric ``edge_index`` (both directions of each edge
  stored) this is exactly the paper's definition, and the values do not depend on whether each undirected edge is
  stored once or twice.
* Labels ``y`` are integer classes ``[N]``; nodes with ``y < 0`` are *unlabelled* and ignored: every edge with an
  unlabelled endpoint is dropped before measuring (node homophily also skips unlabelled target nodes). If no edge
  with two labelled endpoints is left, a :class:`ValueError` is raised.
* Every measure costs ``O(E + N)`` (feature homophily ``O(sum over edges of min(nnz(x_u), nnz(x_v)) log nnz(x))``);
  no node-pair list is ever built.

Measures (with :math:`\mathcal{E}` the labelled columns, :math:`C` the number of classes, :math:`D_k` the number
of edge endpoints with class :math:`k`, i.e. the sum of degrees of class-:math:`k` nodes):

* :func:`edge_homophily` (Zhu et al., 2020): :math:`h_{edge} = |\{(u,v) \in \mathcal{E} : y_u = y_v\}| / |\mathcal{E}|`.
* :func:`node_homophily` (Pei et al., 2020):
  :math:`h_{node} = \frac{1}{|\mathcal{V}'|}\sum_{v \in \mathcal{V}'} \frac{|\{u \to v : y_u = y_v\}|}{|\{u \to v\}|}`
  over the labelled nodes :math:`\mathcal{V}'` with at least one labelled in-neighbour.
* :func:`class_insensitive_homophily` (Lim et al., 2021):
  :math:`\frac{1}{C-1}\sum_k \max(0, h_k - |C_k|/|\mathcal{V}|)`, :math:`h_k` = edge homophily of the edges whose
  target has class :math:`k`.
* :func:`adjusted_homophily` (Platonov et al., 2023):
  :math:`h_{adj} = \frac{h_{edge} - \sum_k D_k^2/(2|E|)^2}{1 - \sum_k D_k^2/(2|E|)^2}`.
* :func:`label_informativeness` (Platonov et al., 2023): :math:`LI = I(y_\xi, y_\eta) / H(y_\xi)` for a random
  edge :math:`(\xi, \eta)`; equivalently :math:`LI = 2 - \frac{\sum_{c_1, c_2} p(c_1,c_2)\log p(c_1,c_2)}
  {\sum_c \bar p(c) \log \bar p(c)}` with :math:`p(c_1,c_2)` the fraction of (oriented) edges with labels
  :math:`(c_1,c_2)` and :math:`\bar p(c) = D_c / 2|E|`.
* :func:`feature_homophily` (for graphs with or without labels) lives in :mod:`graphite.homophily.feature_similarity`
  and follows the same conventions.

References:
    Zhu et al., "Beyond Homophily in Graph Neural Networks", NeurIPS 2020.
    Pei et al., "Geom-GCN: Geometric Graph Convolutional Networks", ICLR 2020.
    Lim et al., "Large Scale Learning on Non-Homophilous Graphs", NeurIPS 2021.
    Platonov et al., "Characterizing Graph Datasets for Node Classification: Homophily-Heterophily Dichotomy and
    Beyond", NeurIPS 2023 (adjusted homophily, label informativeness); see also Platonov et al., "A critical look at
    the evaluation of GNNs under heterophily", ICLR 2023.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.utils import to_undirected

from graphite.validation import check_edge_index, check_labels

__all__ = ['edge_homophily', 'node_homophily', 'class_insensitive_homophily', 'adjusted_homophily',
           'label_informativeness', 'label_homophily', 'LABEL_MEASURES']


# ---------------------------------------------------------------------------------------------------- helpers
def _num_nodes(edge_index: Tensor, y: Optional[Tensor], num_nodes: Optional[int]) -> int:
    if num_nodes is not None:
        return int(num_nodes)
    if y is not None:
        return y.size(0)
    return int(edge_index.max()) + 1 if edge_index.numel() else 0


def _labelled_edges(edge_index: Tensor, y: Tensor, undirected: bool) -> Tuple[Tensor, Tensor, Tensor, int]:
    """Checked inputs -> (labels of sources, labels of targets, targets, num_classes) over labelled edges."""
    n = y.size(0) if isinstance(y, Tensor) else None
    y = check_labels(y, n if n is not None else 0)
    check_edge_index(edge_index, y.size(0))
    if undirected:
        edge_index = to_undirected(edge_index, num_nodes=y.size(0))
    src, dst = edge_index[0], edge_index[1]
    keep = (y[src] >= 0) & (y[dst] >= 0)
    src, dst = src[keep], dst[keep]
    if src.numel() == 0:
        raise ValueError('no edge with two labelled endpoints (y >= 0): homophily is undefined')
    num_classes = int(y.max()) + 1
    return y[src], y[dst], dst, num_classes


def _endpoint_class_counts(ys: Tensor, yd: Tensor, num_classes: int) -> Tensor:
    """``D_k``: number of edge endpoints (both ends of every column) of class ``k``, as float64 ``[C]``."""
    return (torch.bincount(ys, minlength=num_classes) + torch.bincount(yd, minlength=num_classes)).double()


# ---------------------------------------------------------------------------------------------------- label measures
def edge_homophily(edge_index: Tensor, y: Tensor, undirected: bool = False) -> float:
    r"""Edge homophily :math:`h_{edge}`: fraction of labelled edges whose endpoints share a label
    (Zhu et al., 2020). Equals :func:`torch_geometric.utils.homophily` with ``method='edge'`` on fully labelled
    graphs.

    Args:
        edge_index (Tensor): ``[2, E]`` long.
        y (Tensor): ``[N]`` integer labels, ``y < 0`` = unlabelled (ignored).
        undirected (bool): symmetrise the graph first (see module docstring). (default: :obj:`False`)
    """
    ys, yd, _, _ = _labelled_edges(edge_index, y, undirected)
    return float((ys == yd).double().mean())


def node_homophily(edge_index: Tensor, y: Tensor, undirected: bool = False) -> float:
    r"""Node homophily (Pei et al., 2020): the mean over labelled target nodes with at least one labelled
    in-neighbour of the fraction of in-neighbours with the same label.

    Unlike :func:`torch_geometric.utils.homophily` (``method='node'``), nodes without (labelled) in-neighbours are
    excluded from the mean instead of counting as 0; both agree on graphs where every node has an in-neighbour.

    Args:
        edge_index (Tensor): ``[2, E]`` long.
        y (Tensor): ``[N]`` integer labels, ``y < 0`` = unlabelled (ignored).
        undirected (bool): symmetrise the graph first. (default: :obj:`False`)
    """
    ys, yd, dst, _ = _labelled_edges(edge_index, y, undirected)
    n = y.size(0)
    same = torch.zeros(n, dtype=torch.float64, device=dst.device).index_add_(0, dst, (ys == yd).double())
    deg = torch.bincount(dst, minlength=n).double()
    has = deg > 0
    return float((same[has] / deg[has]).mean())


def class_insensitive_homophily(edge_index: Tensor, y: Tensor, undirected: bool = False) -> float:
    r"""Class-insensitive edge homophily (Lim et al., 2021):

    .. math::
        \hat h = \frac{1}{C-1} \sum_{k=0}^{C-1} \max\left(0, h_k - \frac{|\mathcal{C}_k|}{|\mathcal{V}|}\right),

    with :math:`h_k` the fraction of edges *into* class-:math:`k` nodes that come from class :math:`k` (0 if there
    are none), :math:`|\mathcal{C}_k|/|\mathcal{V}|` the share of class :math:`k` among labelled nodes and
    :math:`C = \max(y) + 1`. Equals :func:`torch_geometric.utils.homophily` (``method='edge_insensitive'``) on
    fully labelled graphs.

    Args:
        edge_index (Tensor): ``[2, E]`` long.
        y (Tensor): ``[N]`` integer labels, ``y < 0`` = unlabelled (ignored).
        undirected (bool): symmetrise the graph first. (default: :obj:`False`)
    """
    ys, yd, _, c = _labelled_edges(edge_index, y, undirected)
    if c < 2:
        raise ValueError('class-insensitive homophily needs at least 2 classes')
    y = check_labels(y, y.size(0))
    into = torch.bincount(yd, minlength=c).double()
    same = torch.bincount(yd[ys == yd], minlength=c).double()
    h_k = torch.where(into > 0, same / into.clamp(min=1), torch.zeros_like(into))
    lab = y[y >= 0]
    prop = torch.bincount(lab, minlength=c).double() / lab.numel()
    return float((h_k - prop).clamp(min=0).sum() / (c - 1))


def adjusted_homophily(edge_index: Tensor, y: Tensor, undirected: bool = False) -> float:
    r"""Adjusted homophily (Platonov et al., 2023): edge homophily corrected for the expected value under random
    edges with the same degree-weighted class distribution,

    .. math::
        h_{adj} = \frac{h_{edge} - \sum_{k} D_k^2 / (2|E|)^2}{1 - \sum_{k} D_k^2 / (2|E|)^2},

    :math:`D_k` = sum of the degrees of class-:math:`k` nodes (both endpoints of every labelled column counted).
    0 means "as homophilic as chance", negative values are heterophilic, 1 is perfectly homophilic.

    Args:
        edge_index (Tensor): ``[2, E]`` long.
        y (Tensor): ``[N]`` integer labels, ``y < 0`` = unlabelled (ignored).
        undirected (bool): symmetrise the graph first. (default: :obj:`False`)

    Raises:
        ValueError: if all labelled endpoints have one class (the measure is 0/0).
    """
    ys, yd, _, c = _labelled_edges(edge_index, y, undirected)
    d = _endpoint_class_counts(ys, yd, c)
    base = float(((d / d.sum()) ** 2).sum())
    if base >= 1.0:
        raise ValueError('adjusted homophily is undefined when every labelled edge endpoint has the same class')
    h = float((ys == yd).double().mean())
    return (h - base) / (1.0 - base)


def label_informativeness(edge_index: Tensor, y: Tensor, undirected: bool = False) -> float:
    r"""Label informativeness (Platonov et al., 2023): how much the label of one endpoint of a random edge tells
    about the label of the other, normalised by the label entropy,

    .. math::
        LI = \frac{I(y_\xi; y_\eta)}{H(y_\xi)}
           = 2 - \frac{\sum_{c_1, c_2} p(c_1, c_2) \log p(c_1, c_2)}{\sum_c \bar p(c) \log \bar p(c)},

    where :math:`(\xi, \eta)` is a uniformly random labelled edge in random orientation, :math:`p(c_1, c_2)` the
    fraction of oriented edges with labels :math:`(c_1, c_2)` and :math:`\bar p(c) = D_c / 2|E|`.

    Args:
        edge_index (Tensor): ``[2, E]`` long.
        y (Tensor): ``[N]`` integer labels, ``y < 0`` = unlabelled (ignored).
        undirected (bool): symmetrise the graph first. (default: :obj:`False`)

    Raises:
        ValueError: if all labelled endpoints have one class (entropy 0).
    """
    ys, yd, _, c = _labelled_edges(edge_index, y, undirected)
    joint = (torch.bincount(ys * c + yd, minlength=c * c) + torch.bincount(yd * c + ys, minlength=c * c)).double()
    p = joint / joint.sum()
    pm = _endpoint_class_counts(ys, yd, c)
    pm = pm / pm.sum()
    h_joint = -float((p[p > 0] * p[p > 0].log()).sum())
    h_marg = -float((pm[pm > 0] * pm[pm > 0].log()).sum())
    if h_marg <= 0:
        raise ValueError('label informativeness is undefined when every labelled edge endpoint has the same class')
    return 2.0 - h_joint / h_marg


#: name -> function of every label-based measure, in report order
LABEL_MEASURES = {
    'edge': edge_homophily,
    'node': node_homophily,
    'class_insensitive': class_insensitive_homophily,
    'adjusted': adjusted_homophily,
    'label_informativeness': label_informativeness,
}


def label_homophily(edge_index: Tensor, y: Tensor, undirected: bool = False,
                    measures: Optional[List[str]] = None) -> Dict[str, float]:
    """All label-based measures at once (symmetrising once): ``{name: value}`` for ``name`` in
    :data:`LABEL_MEASURES` (or the given subset)."""
    check_edge_index(edge_index, y.size(0) if isinstance(y, Tensor) else None)
    if undirected:
        edge_index = to_undirected(edge_index, num_nodes=y.size(0))
    names = list(LABEL_MEASURES) if measures is None else measures
    unknown = [m for m in names if m not in LABEL_MEASURES]
    if unknown:
        raise KeyError(f'unknown homophily measure(s) {unknown}; known: {list(LABEL_MEASURES)}')
    return {m: LABEL_MEASURES[m](edge_index, y) for m in names}
