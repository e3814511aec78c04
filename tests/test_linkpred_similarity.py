"""Feature-similarity analysis: cosine against sklearn, threshold test against brute force and known profiles."""
import numpy as np
import pytest
import torch
from sklearn.metrics.pairwise import cosine_similarity

from linkpred.similarity import edge_similarity_profile, pair_cosine, plot_similarity, threshold_test


def _brute(e, n):
    """Best balanced accuracy of single thresholds (both directions) and of bands (inside / outside)."""
    vals = sorted(set(e) | set(n))
    cuts = [vals[0] - 1] + [(a + b) / 2 for a, b in zip(vals, vals[1:])] + [vals[-1] + 1]

    def bacc(pred_e, pred_n):
        return 0.5 * (np.mean(pred_e) + np.mean(~pred_n))
    single = max(max(bacc(e > m, n > m), bacc(e <= m, n <= m)) for m in cuts)
    band = max(max(bacc((e >= a) & (e <= b), (n >= a) & (n <= b)),
                   bacc(~((e >= a) & (e <= b)), ~((n >= a) & (n <= b))))
               for i, a in enumerate(vals) for b in vals[i:])
    return single, band


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_threshold_test_brute_force(seed):
    rng = np.random.default_rng(seed)
    e = np.round(rng.normal(rng.uniform(-0.5, 0.5), rng.uniform(0.1, 0.5), 40), 2)
    n = np.round(rng.normal(0, 0.4, 55), 2)  # rounded: ties across the two sets
    t = threshold_test(torch.tensor(e), torch.tensor(n))
    single, band = _brute(e, n)
    assert t.accuracy == pytest.approx(single)
    assert t.band_accuracy == pytest.approx(band)
    # the reported threshold / band reproduce the reported accuracies
    pe, pn = (e > t.threshold, n > t.threshold) if t.direction == 'above' else (e <= t.threshold, n <= t.threshold)
    assert 0.5 * (pe.mean() + (~pn).mean()) == pytest.approx(t.accuracy)
    a, b = t.band
    ie, inn = (e >= a) & (e <= b), (n >= a) & (n <= b)
    if not t.band_inside:
        ie, inn = ~ie, ~inn
    assert 0.5 * (ie.mean() + (~inn).mean()) == pytest.approx(t.band_accuracy)
    assert t.gap == pytest.approx(e.mean() - n.mean())


def test_labels_of_known_profiles():
    g = torch.Generator().manual_seed(0)
    non = torch.randn(4000, generator=g) * 0.3
    assert threshold_test(0.6 + 0.2 * torch.randn(2000, generator=g), non).label == 'homophilic'
    assert threshold_test(-0.6 + 0.2 * torch.randn(2000, generator=g), non).label == 'heterophilic'
    bimodal = torch.cat([-0.7 + 0.1 * torch.randn(2000, generator=g), 0.7 + 0.1 * torch.randn(2000, generator=g)])
    t = threshold_test(0.05 * torch.randn(2000, generator=g), bimodal)
    assert t.label == 'gated' and t.band_inside and t.band_accuracy > 0.95
    assert threshold_test(torch.randn(2000, generator=g), torch.randn(2000, generator=g)).label == 'indistinct'


def test_pair_cosine_matches_sklearn_and_profile(tmp_path):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(30, 7, generator=g)
    x[3] = 0.0  # zero row -> cosine 0
    pairs = torch.randint(0, 30, (2, 100), generator=g)
    full = cosine_similarity(x.numpy())
    assert torch.allclose(pair_cosine(x, pairs), torch.from_numpy(full[pairs[0], pairs[1]]).float(), atol=1e-5)
    ei = torch.randint(0, 30, (2, 60), generator=g)
    prof = edge_similarity_profile(x, ei, seed=0)
    assert prof.edge.numel() == 60 and prof.non_edge.numel() == 60
    assert torch.equal(prof.non_edge, edge_similarity_profile(x, ei, seed=0).non_edge)  # seeded
    path = tmp_path / 'sim.png'
    plot_similarity(prof, str(path))
    assert path.stat().st_size > 1000


def test_bad_input():
    with pytest.raises(ValueError, match='NaN'):
        threshold_test(torch.tensor([float('nan')]), torch.tensor([0.0]))
    with pytest.raises(ValueError, match='at least one'):
        threshold_test(torch.tensor([]), torch.tensor([0.0]))
    with pytest.raises(ValueError, match='outside'):
        pair_cosine(torch.randn(3, 2), torch.tensor([[0], [3]]))
    with pytest.raises(ValueError, match='empty'):
        edge_similarity_profile(torch.randn(3, 2), torch.zeros(2, 0, dtype=torch.long))


def test_wrong_arguments_get_one_clear_error():
    from linkpred.synthetic import make_link_graph
    d = make_link_graph(100, 1.0, avg_degree=6, seed=0)
    with pytest.raises(ValueError, match=r'edge_sim must be a 1-D floating-point vector.*edge_similarity_profile'):
        threshold_test(d.x, d.edge_index)                              # features and edges, not similarities
    with pytest.raises(ValueError, match='non_edge_sim must be a 1-D floating-point'):
        threshold_test(torch.rand(5), d.edge_index[0])                 # integer node ids
    with pytest.raises(ValueError, match='NaN or infinite'):
        threshold_test(torch.tensor([float('inf')]), torch.rand(5))
    with pytest.raises(TypeError, match='1-D tensor'):
        threshold_test([0.1, 0.2], torch.rand(5))
    with pytest.raises(ValueError, match='min_accuracy'):
        threshold_test(torch.rand(5), torch.rand(5), min_accuracy='0.7')
    with pytest.raises(ValueError, match='integer node indices'):
        pair_cosine(d.x, d.edge_index.float())
    with pytest.raises(ValueError, match='x must be a 2-D'):
        edge_similarity_profile(d.x[:, 0], d.edge_index)
    with pytest.raises(ValueError, match='num_samples'):
        edge_similarity_profile(d.x, d.edge_index, num_samples=0)
    prof = edge_similarity_profile(d.x, d.edge_index)
    assert threshold_test(prof.edge, prof.non_edge).label == 'homophilic'
