r"""Evaluation metrics shared by node classification and link prediction, with OGB-``Evaluator``-style input checks.

* :func:`accuracy` -- fraction of correct labels (``y_pred`` labels ``[N]`` or scores ``[N, C]``, arg-maxed);
* :func:`roc_auc` -- binary ROC-AUC of labels ``y_true`` ``{0, 1}`` and scores ``y_pred`` (sklearn);
* :func:`auc` -- ROC-AUC of positive scores ``[P]`` against negative scores ``[Q]`` (link prediction);
* :func:`hits_at_k` -- OGB ``ogbl-collab``/``ogbl-ddi`` Hits@K: the fraction of positives scored *strictly* above
  the :math:`K`-th highest of the shared negatives; ``1.0`` when there are fewer than :math:`K` negatives (OGB's
  rule). When :math:`K \ge Q` (the number of negatives a positive is ranked against) the metric can no longer tell
  models apart: a :class:`MetricWarning` says so (:func:`nondiscriminating` gives the message without computing);
* :func:`mrr` -- mean reciprocal rank of each positive among its own negatives ``[P, Q]``, OGB ``ogbl-citation2``
  rank with ties split evenly, :math:`r = 1 + \#\{s_q > s_+\} + \tfrac12 \#\{s_q = s_+\}`; an optional boolean
  ``mask`` ``[P, Q]`` keeps only the negatives that count (*filtered* ranking: a negative that is a true edge is
  dropped, as in knowledge-graph and HeaRT evaluation);
* :func:`positive_ranks` -- that rank of every positive (HeaRT's ``eval_mrr``/``eval_hard_negs``: the mean of the
  optimistic and pessimistic rank), and :func:`ranking_metrics` -- MRR and per-positive Hits@K
  (:math:`\mathrm{mean}(r \le K)`, HeaRT's hard-negative Hits@K) from the same ranks;
* :func:`mrr_shared` -- MRR of each positive ranked against *all* the shared negatives ``[Q]`` (HeaRT's existing
  setting: ``neg.repeat(P, 1)`` without building the ``[P, Q]`` matrix).

Every function checks what it gets as OGB's :class:`~ogb.linkproppred.Evaluator` does and more: tensors or NumPy
arrays of the documented shapes, non-empty, finite scores, an ``int`` :math:`K \ge 1` (``2.7``, ``'2'`` and
``True`` are refused). Scores may require grad and be of any real dtype. :class:`Evaluator` wraps one metric
behind OGB's ``eval(input_dict)`` interface, with :math:`K` an argument (nothing shared is mutated).
"""
from __future__ import annotations

import numbers
import re
import warnings
from typing import Dict, Optional, Union

import numpy as np
import torch
from torch import Tensor

__all__ = ['accuracy', 'roc_auc', 'auc', 'hits_at_k', 'mrr', 'mrr_shared', 'positive_ranks', 'ranking_metrics',
           'nondiscriminating', 'parse_metric', 'Evaluator', 'MetricWarning']

ArrayLike = Union[Tensor, np.ndarray]


class MetricWarning(UserWarning):
    """A metric was computed but cannot discriminate between models (e.g. Hits@K with K >= negatives)."""


def _as_array(name: str, t: ArrayLike, ndim: int, dtype=np.float64) -> np.ndarray:
    if isinstance(t, Tensor):
        t = t.detach().cpu()
        t = (t.float() if t.dtype in (torch.float16, torch.bfloat16) else t).numpy()  # numpy has no bfloat16
    elif not isinstance(t, np.ndarray):
        raise TypeError(f'{name} must be a torch.Tensor or numpy.ndarray, got {type(t).__name__}')
    if t.dtype == bool or not np.issubdtype(t.dtype, np.number) or np.issubdtype(t.dtype, np.complexfloating):
        raise TypeError(f'{name} must hold real numbers, got dtype {t.dtype}')
    if t.ndim != ndim:
        raise ValueError(f'{name} must be {ndim}-D, got shape {tuple(t.shape)}')
    if t.size == 0:
        raise ValueError(f'{name} is empty')
    t = t.astype(dtype, copy=False)
    if dtype == np.float64 and not np.isfinite(t).all():
        raise ValueError(f'{name} contains NaN or infinite values')
    return t


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or int(k) < 1:
        raise ValueError(f'K must be an int >= 1, got {k!r}')
    return int(k)


def nondiscriminating(metric: str, num_negatives: int) -> Optional[str]:
    """Why ``metric`` cannot rank models when each positive is ranked against ``num_negatives`` negatives (``None``
    if it can). Hits@K with ``K >= num_negatives`` is 1.0 (or nearly) for any reasonable model."""
    name, k = parse_metric(metric)
    if name == 'hits' and k >= num_negatives:
        return (f'{metric} cannot discriminate: each positive is ranked against only {num_negatives} negatives '
                f'(K >= negatives, OGB reports 1.0 when there are fewer than K); use mrr, auc or hits@K with '
                f'K < {num_negatives}')
    return None


def parse_metric(metric: str):
    """``'hits@50'`` -> ``('hits', 50)``; ``'mrr'``/``'auc'``/``'roc_auc'``/``'accuracy'`` -> ``(name, None)``."""
    if not isinstance(metric, str):
        raise TypeError(f'metric must be a str, got {type(metric).__name__}')
    m = re.fullmatch(r'hits@(\d+)', metric)
    if m:
        return 'hits', _check_k(int(m.group(1)))
    if metric in ('mrr', 'auc', 'roc_auc', 'accuracy'):
        return metric, None
    raise ValueError(f"unknown metric {metric!r}; use accuracy, roc_auc, auc, mrr or hits@K (e.g. 'hits@50')")


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of nodes with ``y_pred == y_true``; ``y_pred`` is ``[N]`` labels or ``[N, C]`` scores (arg-max)."""
    y = _as_array('y_true', y_true, 1, np.int64)
    if isinstance(y_pred, (Tensor, np.ndarray)) and y_pred.ndim == 2:
        p = _as_array('y_pred', y_pred, 2).argmax(1)
    else:
        p = _as_array('y_pred', y_pred, 1, np.int64)
    if p.shape[0] != y.shape[0]:
        raise ValueError(f'y_pred has {p.shape[0]} rows but y_true has {y.shape[0]}')
    return float((p == y).mean())


def roc_auc(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Binary ROC-AUC of labels ``y_true`` ``[N]`` in ``{0, 1}`` and scores ``y_pred`` ``[N]`` (sklearn)."""
    from sklearn.metrics import roc_auc_score

    y = _as_array('y_true', y_true, 1)
    s = _as_array('y_pred', y_pred, 1)
    if s.shape != y.shape:
        raise ValueError(f'y_pred has shape {s.shape} but y_true has {y.shape}')
    if not np.isin(y, (0, 1)).all() or np.unique(y).size != 2:
        raise ValueError('y_true must hold both labels 0 and 1 and nothing else')
    return float(roc_auc_score(y, s))


def auc(pos: ArrayLike, neg: ArrayLike) -> float:
    """ROC-AUC of positive scores ``[P]`` against negative scores ``[Q]`` (ties count one half)."""
    p, n = _as_array('pos', pos, 1), _as_array('neg', neg, 1)
    return roc_auc(np.concatenate([np.ones(p.size), np.zeros(n.size)]), np.concatenate([p, n]))


def hits_at_k(pos: ArrayLike, neg: ArrayLike, k: int) -> float:
    """OGB Hits@K of positive scores ``[P]`` against the shared negative scores ``[Q]`` (see module docstring);
    warns with :class:`MetricWarning` when ``k >= Q``."""
    k = _check_k(k)
    p, n = _as_array('pos', pos, 1), _as_array('neg', neg, 1)
    why = nondiscriminating(f'hits@{k}', n.size)
    if why is not None:
        warnings.warn(why, MetricWarning, stacklevel=2)
    if n.size < k:
        return 1.0
    kth = np.partition(n, n.size - k)[n.size - k]
    return float((p > kth).mean())


def positive_ranks(pos: ArrayLike, neg: ArrayLike, mask: Optional[ArrayLike] = None) -> np.ndarray:
    """Rank ``[P]`` of ``pos[i]`` among its own negatives ``neg[i]`` ``[P, Q]``: ``1 + #{neg > pos} + #{neg == pos}/2``
    (HeaRT's/OGB's mean of optimistic and pessimistic rank); with ``mask`` ``[P, Q]`` (bool) only the negatives
    where it is ``True`` count (filtered ranking)."""
    p, n = _as_array('pos', pos, 1), _as_array('neg', neg, 2)
    if n.shape[0] != p.shape[0]:
        raise ValueError(f'neg must have one row per positive: {n.shape[0]} rows for {p.shape[0]} positives')
    p = p[:, None]
    gt, eq = n > p, n == p
    if mask is not None:
        m = mask.detach().cpu().numpy() if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != bool or m.shape != n.shape:
            raise ValueError(f'mask must be a bool array of shape {n.shape}, got {m.dtype} {m.shape}')
        gt, eq = gt & m, eq & m
    return 1.0 + gt.sum(1) + 0.5 * eq.sum(1)


def mrr(pos: ArrayLike, neg: ArrayLike, mask: Optional[ArrayLike] = None) -> float:
    """Mean reciprocal rank of ``pos[i]`` ``[P]`` among its own negatives ``neg[i]`` ``[P, Q]`` (ties split evenly;
    ``mask``: filtered, see :func:`positive_ranks`)."""
    return float((1.0 / positive_ranks(pos, neg, mask)).mean())


def ranking_metrics(pos: ArrayLike, neg: ArrayLike, ks=(1, 3, 10, 20, 50, 100),
                    mask: Optional[ArrayLike] = None) -> Dict[str, float]:
    """``{'mrr', 'hits@K'...}`` from the per-positive ranks (:func:`positive_ranks`): Hits@K is the fraction of
    positives with rank ``<= K`` (HeaRT's ``eval_hard_negs``), not OGB's shared-negative Hits@K."""
    r = positive_ranks(pos, neg, mask)
    out = {'mrr': float((1.0 / r).mean())}
    for k in ks:
        out[f'hits@{_check_k(k)}'] = float((r <= k).mean())
    return out


def mrr_shared(pos: ArrayLike, neg: ArrayLike) -> float:
    """MRR of every positive ``[P]`` ranked against all the shared negatives ``[Q]`` (same rank as :func:`mrr`;
    ``O((P + Q) log Q)``)."""
    p, n = _as_array('pos', pos, 1), np.sort(_as_array('neg', neg, 1))
    below = np.searchsorted(n, p, side='left')      # negatives < pos
    upto = np.searchsorted(n, p, side='right')      # negatives <= pos
    rank = 1.0 + (n.size - upto) + 0.5 * (upto - below)
    return float((1.0 / rank).mean())


class Evaluator:
    """One metric behind OGB's interface: ``Evaluator('hits@50').eval({'y_pred_pos': ..., 'y_pred_neg': ...})``
    -> ``{'hits@50': value}``.

    Inputs: ``accuracy``/``roc_auc``: ``y_true``, ``y_pred``; ``auc``/``hits@K``: ``y_pred_pos`` ``[P]``,
    ``y_pred_neg`` ``[Q]``; ``mrr``: ``y_pred_pos`` ``[P]``, ``y_pred_neg`` ``[P, Q]``.
    """
    _INPUTS = {'accuracy': ('y_true', 'y_pred'), 'roc_auc': ('y_true', 'y_pred'), 'auc': ('y_pred_pos', 'y_pred_neg'),
               'hits': ('y_pred_pos', 'y_pred_neg'), 'mrr': ('y_pred_pos', 'y_pred_neg')}

    def __init__(self, metric: str):
        self.name, self.K = parse_metric(metric)
        self.metric = metric

    @property
    def expected_input_format(self) -> str:
        return f'{self.metric}: input_dict with keys {self._INPUTS[self.name]}'

    def eval(self, input_dict: dict) -> Dict[str, float]:
        if not isinstance(input_dict, dict):
            raise TypeError(f'input_dict must be a dict, got {type(input_dict).__name__}')
        keys = self._INPUTS[self.name]
        missing = [key for key in keys if key not in input_dict]
        if missing:
            raise KeyError(f'missing {missing}; expected {self.expected_input_format}')
        a, b = (input_dict[key] for key in keys)
        fn = {'accuracy': accuracy, 'roc_auc': roc_auc, 'auc': auc, 'mrr': mrr}.get(self.name)
        value = hits_at_k(a, b, self.K) if self.name == 'hits' else fn(a, b)
        return {self.metric: value}

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.metric!r})'
