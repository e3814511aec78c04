"""CN / Adamic-Adar / resource allocation against networkx's implementations."""
import networkx as nx
import pytest
import torch

from linkpred.heuristics import Heuristic, adamic_adar, common_neighbors, resource_allocation


def _graph(seed, n=40, m=150):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)  # duplicates and self-loops on purpose
    pairs = torch.randint(0, n, (2, 300), generator=g)
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from((int(u), int(v)) for u, v in ei.t() if u != v)
    return ei, pairs, G, n


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_against_networkx(seed):
    ei, pairs, G, n = _graph(seed)
    h = Heuristic(ei, n)
    plist = [(int(u), int(v)) for u, v in pairs.t()]
    off = pairs[0] != pairs[1]  # networkx's indices are defined for u != v
    cn = torch.tensor([len(list(nx.common_neighbors(G, u, v))) for u, v in plist if u != v], dtype=torch.float64)
    got_cn = h.common_neighbors(pairs)
    assert torch.allclose(got_cn[off], cn)
    for fn, ref in ((h.adamic_adar, nx.adamic_adar_index), (h.resource_allocation, nx.resource_allocation_index)):
        want = torch.tensor([s for _, _, s in ref(G, [p for p in plist if p[0] != p[1]])], dtype=torch.float64)
        assert torch.allclose(fn(pairs)[off], want)
    # functional API gives the same numbers
    assert torch.equal(common_neighbors(ei, pairs, n), got_cn)
    assert torch.allclose(adamic_adar(ei, pairs, n), h.adamic_adar(pairs))
    assert torch.allclose(resource_allocation(ei, pairs, n), h.resource_allocation(pairs))


def test_bad_input():
    ei = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match='outside'):
        Heuristic(ei, 2)
    h = Heuristic(ei, 3)
    with pytest.raises(ValueError, match='outside'):
        h.common_neighbors(torch.tensor([[0], [5]]))
    with pytest.raises(ValueError, match=r'\[2, P\]'):
        h.common_neighbors(torch.tensor([0, 1]))


def test_self_pairs_score_zero_under_every_heuristic():
    # path 1 - 0 - 2: node 0's neighbours have degree 1 (AA's 1/log 1 is undefined); CN and RA used to give 2
    h = Heuristic(torch.tensor([[0, 0], [1, 2]]), 3)
    pairs = torch.tensor([[0, 1, 1], [0, 1, 2]])
    for fn in (h.common_neighbors, h.adamic_adar, h.resource_allocation):
        out = fn(pairs)
        assert out[0] == 0 and out[1] == 0 and out[2] > 0, fn.__name__


def test_bad_types():
    with pytest.raises(ValueError, match='num_nodes must be an int'):
        Heuristic(torch.tensor([[0], [1]]), 2.5)
    with pytest.raises(ValueError, match='integer'):
        Heuristic(torch.tensor([[0.0], [1.0]]), 2)
    with pytest.raises(ValueError, match='integer'):
        Heuristic(torch.tensor([[0], [1]]), 2).adamic_adar(torch.tensor([[0.0], [1.0]]))
