"""Link-prediction metrics against brute-force computations."""
import pytest
import torch

from linkpred.evaluation import MetricWarning, auc, hits_at_k, link_metrics, metric_warnings, mrr, sample_mrr_negatives


def _brute_auc(pos, neg):
    tot = 0.0
    for p in pos.tolist():
        for q in neg.tolist():
            tot += 1.0 if p > q else 0.5 if p == q else 0.0
    return tot / (pos.numel() * neg.numel())


@pytest.mark.parametrize('seed', [0, 1])
def test_metrics_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    pos = torch.randint(0, 20, (60,), generator=g).double()  # integer scores: many ties
    neg = torch.randint(0, 18, (150,), generator=g).double()
    assert auc(pos, neg) == pytest.approx(_brute_auc(pos, neg))
    for k in (1, 20, 50, 100):
        kth = sorted(neg.tolist(), reverse=True)[k - 1]
        assert hits_at_k(pos, neg, k) == pytest.approx(sum(p > kth for p in pos.tolist()) / pos.numel())
    with pytest.warns(MetricWarning, match='hits@20 cannot discriminate'):
        assert hits_at_k(pos, neg[:10], 20) == 1.0  # OGB: fewer negatives than K, now with a warning
    negm = torch.randint(0, 20, (60, 30), generator=g).double()
    want = 0.0
    for i in range(60):
        above = sum(float(q) > float(pos[i]) for q in negm[i])
        ties = sum(float(q) == float(pos[i]) for q in negm[i])
        want += 1.0 / (1 + above + 0.5 * ties)
    assert mrr(pos, negm) == pytest.approx(want / 60)
    out = link_metrics(pos, neg, pos, negm)
    assert set(out) == {'auc', 'mrr', 'hits@1', 'hits@3', 'hits@10', 'hits@20', 'hits@50', 'hits@100'}
    assert all(0.0 <= v <= 1.0 for v in out.values())


def test_mrr_negatives_seeded_and_shapes():
    pos = torch.tensor([[0, 1, 2], [3, 4, 5]])
    a, b = sample_mrr_negatives(pos, 10, 7, seed=3), sample_mrr_negatives(pos, 10, 7, seed=3)
    assert a.shape == (3, 7) and torch.equal(a, b) and int(a.max()) < 10


def test_bad_input():
    with pytest.raises(ValueError, match='NaN'):
        auc(torch.tensor([float('nan')]), torch.tensor([0.0]))
    with pytest.raises(ValueError, match='empty'):
        hits_at_k(torch.tensor([1.0]), torch.tensor([]), 5)
    with pytest.raises(ValueError, match='one row per positive'):
        mrr(torch.rand(3), torch.rand(4, 5))
    with pytest.raises(ValueError, match='2-D'):
        mrr(torch.rand(3), torch.rand(3))
    with pytest.raises(TypeError):
        auc([1.0], torch.rand(2))


def test_metric_warnings_name_set_and_metric():
    notes = metric_warnings({'val': 80, 'test': 160})
    assert notes == [n for n in notes if 'hits@100' in n] and len(notes) == 1 and notes[0].startswith('val: hits@100')
    assert len(metric_warnings({'val': 20})) == 3 and metric_warnings({'val': 101}) == []
    with pytest.raises(ValueError, match='num_nodes must be an int'):
        sample_mrr_negatives(torch.tensor([[0], [1]]), 0)
