r"""Link-prediction metrics: ROC-AUC, Hits@K (OGB protocol) and MRR against sampled negatives.

The metric functions are :mod:`graphite.metrics`' (shared with node classification, OGB-style input checks,
re-exported here); this module adds the link-prediction protocol: MRR negatives and all metrics of one split.

* **AUC**: :func:`sklearn.metrics.roc_auc_score` of positive vs negative pair scores.
* **Hits@K** (OGB ``ogbl-collab``/``ogbl-ddi`` protocol): the fraction of positive pairs scored *strictly* above
  the :math:`K`-th highest negative score (all positives share one negative set; 1.0 when there are fewer than
  :math:`K` negatives, as in OGB). With :math:`K \ge` the number of negatives it cannot discriminate:
  :class:`~graphite.metrics.MetricWarning`, and :func:`metric_warnings` lists such metrics for a result.
* **MRR**: every positive :math:`(u, v)` is ranked against its own :math:`Q` negatives :math:`(u, v'_1..v'_Q)`
  (:func:`sample_mrr_negatives`: tails :math:`v'` uniform over all nodes; :func:`filter_mask` marks the tails that
  are true edges of :math:`u` or :math:`u` itself, which the *filtered* MRR does not count; default
  :math:`Q = 100`, ``NUM_MRR_NEGATIVES``), or against all the split's shared negatives (HeaRT's existing setting),
  or against its own hard negatives (HeaRT), see :func:`split_metrics` and :mod:`linkpred.protocols`. The rank is
  the OGB ``ogbl-citation2`` one with ties split evenly,
  :math:`r = 1 + \#\{q: s_q > s_+\} + \tfrac12 \#\{q: s_q = s_+\}`, and :math:`\mathrm{MRR} = \mathrm{mean}(1/r)`.

All values are in :math:`[0, 1]`.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, Optional

import torch
from torch import Tensor

from graphite.metrics import MetricWarning, auc, hits_at_k, mrr, mrr_shared, nondiscriminating, ranking_metrics

__all__ = ['auc', 'hits_at_k', 'mrr', 'sample_mrr_negatives', 'filter_mask', 'link_metrics', 'split_metrics',
           'scored_split_metrics',
           'metric_warnings', 'NUM_MRR_NEGATIVES', 'HITS_KS', 'METRICS', 'MetricWarning', 'nondiscriminating']

NUM_MRR_NEGATIVES = 100
HITS_KS = (1, 3, 10, 20, 50, 100)
METRICS = ('auc', 'mrr') + tuple(f'hits@{k}' for k in HITS_KS)


def sample_mrr_negatives(pos_edge_index: Tensor, num_nodes: int, num_negatives: int = NUM_MRR_NEGATIVES,
                         seed: int = 0) -> Tensor:
    """Tails of the MRR negatives: ``[P, num_negatives]`` nodes drawn uniformly (seeded; see module docstring).

    The negative pairs of positive ``i`` are ``(pos_edge_index[0, i], out[i, q])``.
    """
    if not isinstance(pos_edge_index, Tensor) or pos_edge_index.dim() != 2 or pos_edge_index.size(0) != 2:
        raise ValueError(f'pos_edge_index must be a [2, P] tensor, got {getattr(pos_edge_index, "shape", None)}')
    for name, v in (('num_nodes', num_nodes), ('num_negatives', num_negatives)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f'{name} must be an int >= 1, got {v!r}')
    g = torch.Generator().manual_seed(int(seed))
    return torch.randint(num_nodes, (pos_edge_index.size(1), num_negatives), generator=g)


def filter_mask(heads: Tensor, tails: Tensor, true_keys: Tensor, num_nodes: int) -> Tensor:
    """``[P, Q]`` bool: ``True`` where ``(heads[i], tails[i, q])`` is no true edge (``true_keys``: sorted undirected
    keys, :func:`linkpred.protocols.edge_keys`) and no self-pair -- the negatives a filtered MRR counts."""
    h = heads[:, None].expand_as(tails)
    keys = torch.minimum(h, tails) * num_nodes + torch.maximum(h, tails)
    return ~torch.isin(keys, true_keys) & (h != tails)


def split_metrics(pos: Tensor, neg: Optional[Tensor] = None, rank_neg: Optional[Tensor] = None,
                  rank_mask: Optional[Tensor] = None, hits_ks: Iterable[int] = HITS_KS) -> Dict[str, float]:
    """The metrics of one evaluation set under any protocol (:mod:`linkpred.protocols`).

    * ``neg`` ``[Q]`` (shared negatives): ``auc`` and OGB ``hits@K``; the ``mrr`` ranks each positive against all
      ``Q`` of them unless ``rank_neg`` is given (HeaRT's existing setting);
    * ``rank_neg`` ``[P, Q']`` (per-positive negatives) with ``neg``: ``mrr`` against them (filtered by ``rank_mask``;
      ``random``); without ``neg``: ``mrr`` and per-positive ``hits@K`` = mean(rank <= K) (HeaRT's hard negatives).
    """
    if neg is None:
        if rank_neg is None:
            raise ValueError('split_metrics needs neg, rank_neg or both')
        return ranking_metrics(pos, rank_neg, hits_ks, rank_mask)
    out = {'auc': auc(pos, neg)}
    out['mrr'] = mrr_shared(pos, neg) if rank_neg is None else mrr(pos, rank_neg, rank_mask)
    for k in hits_ks:
        out[f'hits@{k}'] = hits_at_k(pos, neg, k)
    return out


def scored_split_metrics(score: Callable[[Tensor], Tensor], pos: Tensor, neg: Optional[Tensor] = None,
                         mrr_tails: Optional[Tensor] = None, mrr_mask: Optional[Tensor] = None,
                         rank_pairs: Optional[Tensor] = None) -> Dict[str, float]:
    """:func:`split_metrics` of a pair scorer ``score([2, P] node pairs) -> [P]`` (a model's decoder or a heuristic)
    on one evaluation set: ``pos``/``neg`` ``[2, P]`` pairs, per-positive negatives either as ``mrr_tails``
    ``[P, Q]`` (tails of each positive's head, filtered by ``mrr_mask``) or as ``rank_pairs`` ``[P, Q, 2]``."""
    s_rank = None
    if mrr_tails is not None:
        q = mrr_tails.size(1)
        s_rank = score(torch.stack([pos[0].repeat_interleave(q), mrr_tails.reshape(-1)])).view(-1, q)
    elif rank_pairs is not None:
        s_rank = score(rank_pairs.reshape(-1, 2).t()).view(-1, rank_pairs.size(1))
    return split_metrics(score(pos), None if neg is None else score(neg), s_rank, mrr_mask)


def link_metrics(pos: Tensor, neg: Tensor, pos_mrr: Optional[Tensor] = None, neg_mrr: Optional[Tensor] = None,
                 hits_ks: Iterable[int] = HITS_KS) -> Dict[str, float]:
    """All metrics at once: ``auc`` and ``hits@K`` from (``pos`` ``[P]``, ``neg`` ``[Q]``), ``mrr`` from
    (``pos_mrr`` ``[P']``, ``neg_mrr`` ``[P', Q']``) when given."""
    out = {'auc': auc(pos, neg)}
    if neg_mrr is not None:
        out['mrr'] = mrr(pos if pos_mrr is None else pos_mrr, neg_mrr)
    for k in hits_ks:
        out[f'hits@{k}'] = hits_at_k(pos, neg, k)
    return out


def metric_warnings(num_negatives: Dict[str, int], metrics: Iterable[str] = METRICS) -> list:
    """One message per (set, metric) that cannot discriminate, e.g. ``{'val': 80, 'test': 160}`` -> the Hits@K with
    ``K >=`` that many shared negatives (see :func:`graphite.metrics.nondiscriminating`)."""
    out = []
    for where, q in num_negatives.items():
        for m in metrics:
            why = nondiscriminating(m, int(q))
            if why is not None:
                out.append(f'{where}: {why}')
    return out
