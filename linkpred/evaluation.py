r"""Link-prediction metrics: ROC-AUC, Hits@K (OGB protocol) and MRR against sampled negatives.

* **AUC**: :func:`sklearn.metrics.roc_auc_score` of positive vs negative pair scores.
* **Hits@K** (OGB ``ogbl-collab``/``ogbl-ddi`` protocol, computed by :class:`ogb.linkproppred.Evaluator` with its
  ``K`` set): the fraction of positive pairs scored *strictly* above the :math:`K`-th highest negative score (all
  positives share one negative set; 1.0 when there are fewer than :math:`K` negatives, as in OGB).
* **MRR**: every positive :math:`(u, v)` is ranked against its own :math:`Q` negatives :math:`(u, v'_1..v'_Q)`
  (:func:`sample_mrr_negatives`: tails :math:`v'` uniform over all nodes, unfiltered, so a negative is a true edge
  with probability about :math:`d_u / N`; default :math:`Q = 100`, ``NUM_MRR_NEGATIVES``). The rank is the OGB
  ``ogbl-citation2`` one with ties split evenly,
  :math:`r = 1 + \#\{q: s_q > s_+\} + \tfrac12 \#\{q: s_q = s_+\}`, and :math:`\mathrm{MRR} = \mathrm{mean}(1/r)`.

All values are in :math:`[0, 1]`.
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional

import torch
from torch import Tensor

__all__ = ['auc', 'hits_at_k', 'mrr', 'sample_mrr_negatives', 'link_metrics', 'NUM_MRR_NEGATIVES', 'HITS_KS',
           'METRICS']

NUM_MRR_NEGATIVES = 100
HITS_KS = (20, 50, 100)
METRICS = ('auc', 'mrr') + tuple(f'hits@{k}' for k in HITS_KS)


def _check_scores(pos: Tensor, neg: Tensor, neg_dim: int) -> None:
    for name, t, dim in (('pos', pos, 1), ('neg', neg, neg_dim)):
        if not isinstance(t, Tensor):
            raise TypeError(f'{name} scores must be a torch.Tensor, got {type(t).__name__}')
        if t.dim() != dim:
            raise ValueError(f'{name} scores must be {dim}-D, got shape {tuple(t.shape)}')
        if t.numel() == 0:
            raise ValueError(f'{name} scores are empty')
        if torch.isnan(t).any():
            raise ValueError(f'{name} scores contain NaN')


def auc(pos: Tensor, neg: Tensor) -> float:
    """ROC-AUC of positive scores ``[P]`` against negative scores ``[Q]`` (sklearn)."""
    from sklearn.metrics import roc_auc_score

    _check_scores(pos, neg, 1)
    y = torch.cat([torch.ones(pos.numel()), torch.zeros(neg.numel())]).numpy()
    return float(roc_auc_score(y, torch.cat([pos, neg]).double().cpu().numpy()))


_EVALUATOR = None


def hits_at_k(pos: Tensor, neg: Tensor, k: int) -> float:
    """Hits@K of positive scores ``[P]`` against the shared negative scores ``[Q]`` (OGB ``Evaluator``)."""
    global _EVALUATOR
    _check_scores(pos, neg, 1)
    if int(k) < 1:
        raise ValueError(f'k must be >= 1, got {k}')
    if _EVALUATOR is None:
        from ogb.linkproppred import Evaluator
        _EVALUATOR = Evaluator(name='ogbl-collab')
    _EVALUATOR.K = int(k)
    out = _EVALUATOR.eval({'y_pred_pos': pos.double().cpu(), 'y_pred_neg': neg.double().cpu()})
    return float(out[f'hits@{int(k)}'])


def mrr(pos: Tensor, neg: Tensor) -> float:
    """Mean reciprocal rank of ``pos[i]`` ``[P]`` among its own negatives ``neg[i]`` ``[P, Q]`` (ties split evenly)."""
    _check_scores(pos, neg, 2)
    if neg.size(0) != pos.size(0):
        raise ValueError(f'neg must have one row per positive: {neg.size(0)} rows for {pos.size(0)} positives')
    p = pos.view(-1, 1)
    rank = 1.0 + (neg > p).sum(1).double() + 0.5 * (neg == p).sum(1).double()
    return float((1.0 / rank).mean())


def sample_mrr_negatives(pos_edge_index: Tensor, num_nodes: int, num_negatives: int = NUM_MRR_NEGATIVES,
                         seed: int = 0) -> Tensor:
    """Tails of the MRR negatives: ``[P, num_negatives]`` nodes drawn uniformly (seeded; see module docstring).

    The negative pairs of positive ``i`` are ``(pos_edge_index[0, i], out[i, q])``.
    """
    if pos_edge_index.dim() != 2 or pos_edge_index.size(0) != 2:
        raise ValueError(f'pos_edge_index must be [2, P], got {tuple(pos_edge_index.shape)}')
    if num_negatives < 1:
        raise ValueError(f'num_negatives must be >= 1, got {num_negatives}')
    g = torch.Generator().manual_seed(int(seed))
    return torch.randint(num_nodes, (pos_edge_index.size(1), num_negatives), generator=g)


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
