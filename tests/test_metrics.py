"""graphite.metrics against outside oracles: sklearn and fresh OGB Evaluators (never the code under test)."""
import warnings

import numpy as np
import pytest
import torch
from ogb.linkproppred import Evaluator as OGBLinkEvaluator
from sklearn.metrics import accuracy_score, roc_auc_score

from graphite.metrics import (Evaluator, MetricWarning, accuracy, auc, hits_at_k, mrr, nondiscriminating,
                              parse_metric, roc_auc)


def _scores(seed, p=60, q=150):
    g = torch.Generator().manual_seed(seed)
    pos = torch.randint(0, 20, (p,), generator=g).double()   # integer scores: many ties
    neg = torch.randint(0, 18, (q,), generator=g).double()
    return pos, neg


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_hits_and_mrr_match_ogb(seed):
    pos, neg = _scores(seed)
    for k in (1, 20, 50, 100):
        ogb = OGBLinkEvaluator(name='ogbl-collab')
        ogb.K = k
        want = ogb.eval({'y_pred_pos': pos, 'y_pred_neg': neg})[f'hits@{k}']
        assert hits_at_k(pos, neg, k) == pytest.approx(want)
    negm = torch.randint(0, 20, (60, 30), generator=torch.Generator().manual_seed(seed)).double()
    want = OGBLinkEvaluator(name='ogbl-citation2').eval({'y_pred_pos': pos, 'y_pred_neg': negm})['mrr_list'].mean()
    assert mrr(pos, negm) == pytest.approx(float(want))


def test_auc_roc_auc_accuracy_match_sklearn():
    pos, neg = _scores(3)
    y = np.r_[np.ones(60), np.zeros(150)]
    assert auc(pos, neg) == pytest.approx(roc_auc_score(y, np.r_[pos.numpy(), neg.numpy()]))
    assert roc_auc(torch.from_numpy(y), torch.cat([pos, neg])) == pytest.approx(auc(pos, neg))
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(40, 5, generator=g), torch.randint(0, 5, (40,), generator=g)
    want = accuracy_score(labels.numpy(), logits.argmax(1).numpy())
    assert accuracy(labels, logits) == pytest.approx(want) == accuracy(labels.numpy(), logits.argmax(1).numpy())


def test_scores_that_require_grad_and_any_float_dtype():
    pos = torch.rand(5, requires_grad=True)
    neg = torch.rand(7, requires_grad=True)
    negm = torch.rand(5, 3, requires_grad=True)
    assert 0 <= auc(pos, neg) <= 1 and 0 <= hits_at_k(pos, neg, 2) <= 1 and 0 < mrr(pos, negm) <= 1
    assert auc(pos.half(), neg.half()) == pytest.approx(auc(pos, neg), abs=0.05)


def test_warns_when_k_reaches_the_negatives():
    pos, neg = _scores(4, q=10)
    with pytest.warns(MetricWarning, match='hits@20 cannot discriminate.*only 10 negatives.*use mrr'):
        assert hits_at_k(pos, neg, 20) == 1.0              # OGB's rule, now with a word
    with pytest.warns(MetricWarning, match='hits@10'):
        hits_at_k(pos, neg, 10)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        hits_at_k(pos, neg, 9)
    assert nondiscriminating('hits@9', 10) is None and nondiscriminating('mrr', 1) is None
    assert 'K < 10' in nondiscriminating('hits@100', 10)


@pytest.mark.parametrize('k', [2.7, '2', True, 0, -1, None])
def test_k_must_be_an_int_at_least_one(k):
    pos, neg = _scores(5)
    with pytest.raises(ValueError, match='K must be an int >= 1'):
        hits_at_k(pos, neg, k)


def test_bad_scores_one_clear_error_each():
    ok = torch.rand(4)
    cases = [
        (lambda: auc(torch.tensor([float('nan')]), ok), ValueError, 'NaN or infinite'),
        (lambda: auc(ok, torch.tensor([float('inf')])), ValueError, 'NaN or infinite'),
        (lambda: hits_at_k(ok, torch.tensor([]), 5), ValueError, 'neg is empty'),
        (lambda: hits_at_k(ok, torch.rand(3, 2), 5), ValueError, 'neg must be 1-D'),
        (lambda: mrr(torch.rand(3), torch.rand(4, 5)), ValueError, 'one row per positive'),
        (lambda: mrr(torch.rand(3), torch.rand(3)), ValueError, 'neg must be 2-D'),
        (lambda: auc([1.0], ok), TypeError, 'torch.Tensor or numpy.ndarray'),
        (lambda: auc(torch.tensor([True]), ok), TypeError, 'real numbers'),
        (lambda: accuracy(torch.tensor([0, 1]), torch.tensor([0, 1, 1])), ValueError, '3 rows but y_true has 2'),
        (lambda: roc_auc(torch.ones(3), torch.rand(3)), ValueError, 'both labels'),
        (lambda: roc_auc(torch.tensor([0., 1.]), torch.rand(3)), ValueError, 'shape'),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            fn()


def test_evaluator_interface():
    pos, neg = _scores(6)
    assert Evaluator('hits@50').eval({'y_pred_pos': pos, 'y_pred_neg': neg}) == {'hits@50': hits_at_k(pos, neg, 50)}
    assert Evaluator('auc').eval({'y_pred_pos': pos, 'y_pred_neg': neg}) == {'auc': auc(pos, neg)}
    labels = torch.tensor([0, 1, 1])
    assert Evaluator('accuracy').eval({'y_true': labels, 'y_pred': torch.tensor([0, 1, 0])}) == {
        'accuracy': pytest.approx(2 / 3)}
    a, b = Evaluator('hits@10'), Evaluator('hits@20')           # K is per instance: nothing shared is mutated
    assert a.K == 10 and b.K == 20 and a.eval({'y_pred_pos': pos, 'y_pred_neg': neg}) == {
        'hits@10': hits_at_k(pos, neg, 10)}
    with pytest.raises(KeyError, match='y_pred_neg'):
        Evaluator('mrr').eval({'y_pred_pos': pos})
    with pytest.raises(ValueError, match='unknown metric'):
        Evaluator('hits@k')
    with pytest.raises(ValueError, match='K must be'):
        parse_metric('hits@0')
