"""Issue 15: the random / heart-existing / heart protocols -- leakage, hard negatives, cached fixed split, ranking
metrics, result JSON fields."""
import json

import numpy as np
import pytest
import torch

from graphite.metrics import mrr, mrr_shared, positive_ranks, ranking_metrics
from linkpred.model import LinkPredictor
from linkpred.protocols import _heart_rank, edge_keys, fixed_split, heart_negatives
from linkpred.synthetic import make_link_graph
from linkpred.splits import make_split, prepare_graph
from linkpred.training import remove_pairs, train_link_predictor

FAST = {'hidden_channels': 16, 'lr': 0.01, 'epochs': 4, 'eval_every': 2, 'patience': 100, 'batch_size': 256}


@pytest.fixture(scope='module')
def graph():
    return make_link_graph(300, 1.0, avg_degree=8, seed=0)


def keys(ei, n):
    return set(edge_keys(ei, n).tolist())


def _split(graph, protocol, tmp_path_factory):
    return make_split(graph, protocol, seed=0, split_seed=3, name='g', cache=str(tmp_path_factory.mktemp('c')),
                      heart_negatives=40)


@pytest.mark.parametrize('protocol', ['random', 'heart-existing', 'heart'])
def test_no_leakage(graph, protocol, tmp_path_factory, monkeypatch):
    sp = _split(graph, protocol, tmp_path_factory)
    n = sp.num_nodes
    val, test = keys(sp.val_pos, n), keys(sp.test_pos, n)
    assert not val & test and not keys(sp.train_pos, n) & (val | test)
    seen = []
    orig = LinkPredictor.encode

    def spy(self, x, edge_index, num_graph_nodes=None):
        seen.append((self.training, edge_index))
        return orig(self, x, edge_index, num_graph_nodes)

    monkeypatch.setattr(LinkPredictor, 'encode', spy)
    out = train_link_predictor(sp, 'gcn', 'dot', FAST, seed=0)
    train_graphs = [ei for training, ei in seen if training]
    assert train_graphs
    for ei in train_graphs:  # no validation or test positive, either direction, in any training graph
        assert not keys(ei, n) & (val | test)
    for ei in (sp.val_graph.edge_index, sp.test_graph.edge_index):  # no test positive at validation or test
        assert not keys(ei, n) & test
    if protocol != 'random':  # HeaRT: training edges only, and each batch's targets removed while training
        assert keys(sp.val_graph.edge_index, n) == keys(sp.train_pos, n) == keys(sp.test_graph.edge_index, n)
        assert out['remove_target_edges'] and all(ei.size(1) < 2 * sp.train_pos.size(1) for ei in train_graphs)
    else:
        assert not out['remove_target_edges']
    for pre in ('val', 'test'):  # negatives are no true edges
        for neg in (getattr(sp, f'{pre}_neg'),):
            if neg is not None:
                assert not keys(neg, n) & keys(prepare_graph(graph).edge_index, n)


def test_hard_negatives_are_heart_shaped_and_hold_no_true_edge(graph, tmp_path_factory):
    sp = _split(graph, 'heart', tmp_path_factory)
    n, full = sp.num_nodes, keys(prepare_graph(graph).edge_index, n := sp.num_nodes)
    for pos, hard in ((sp.val_pos, sp.val_rank), (sp.test_pos, sp.test_rank)):
        assert hard.shape == (pos.size(1), 40, 2)
        assert torch.equal(hard[:, :20, 0], pos[0][:, None].expand(-1, 20))   # (s, n): target corrupted
        assert torch.equal(hard[:, 20:, 1], pos[1][:, None].expand(-1, 20))   # (n, t): source corrupted
        pairs = hard.reshape(-1, 2).t()
        assert not keys(pairs, n) & full and bool((pairs[0] != pairs[1]).all())
    assert sp.info['hard_negatives']['sha256'] and sp.info['message_passing']['test'] == 'train edges'


def test_hard_negatives_prefer_heuristic_neighbours():
    # a path 0-1-2-3-4 plus isolated nodes: for the positive (0, 1) the 2-hop node 2 is the hardest tail of 0
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    x = torch.zeros(8, 2)
    x[[0, 2], 0] = 1.0
    x[[1, 3], 1] = 1.0  # an all-zero similarity row would rank every node 1 (HeaRT's max + 1 for zeros)
    hard = heart_negatives(ei, ei, x, torch.tensor([[0], [1]]), num_samples=4, seed=0)
    assert hard[0, 0].tolist() == [0, 2]
    assert hard[0, 2].tolist() == [3, 1]  # the 2-hop node of 1 (other than 0, a true neighbour) corrupts the source


def test_heart_rank_matches_heart_rank_score_matrix():
    from scipy.stats import rankdata

    def heart(row):  # HeaRT's rank_score_matrix, verbatim logic
        row = row.copy()
        g = (row > 0).sum()
        if g:
            r = rankdata(row[row > 0], method='min')
            r = r.max() - r + 1
            m = r.max()
        else:
            r, m = [], 0
        row[row > 0] = r
        row[row == 0] = m + 1
        row[row < 0] = m + 2
        return row

    rows = np.array([[0.5, 0.0, 0.5, -1.0, 0.2, 0.9], [0.0, 0.0, -1.0, 0.0, 0.0, 0.0], [3, 1, 1, 2, 0, -1.0]])
    assert np.array_equal(_heart_rank(rows), np.stack([heart(r) for r in rows]))


def test_fixed_split_is_cached_with_checksum(graph, tmp_path):
    g = prepare_graph(graph)
    a = fixed_split(g.edge_index, g.num_nodes, 5, name='g', cache=str(tmp_path))
    b = fixed_split(g.edge_index, g.num_nodes, 5, name='g', cache=str(tmp_path))
    assert a['source'] == 'created' and b['source'] == 'cache' and a['sha256'] == b['sha256']
    m = a['tensors']['train_pos'].size(1) + a['tensors']['valid_pos'].size(1) + a['tensors']['test_pos'].size(1)
    assert m == g.edge_index.size(1) // 2 and a['tensors']['valid_pos'].size(1) == int(0.05 * m)
    obj = torch.load(a['path'], weights_only=True)
    obj['tensors']['test_pos'][0, 0] += 1
    torch.save(obj, a['path'])
    with pytest.raises(ValueError, match='corrupt'):
        fixed_split(g.edge_index, g.num_nodes, 5, name='g', cache=str(tmp_path))
    with pytest.raises(ValueError, match='another graph'):
        fixed_split(g.edge_index[:, 2:], g.num_nodes, 5, name='g', cache=str(tmp_path))


def test_remove_pairs_both_directions():
    ei = torch.tensor([[0, 1, 1, 2, 5], [1, 0, 2, 1, 0]])
    out = remove_pairs(ei, torch.tensor([[1], [0]]), 3)
    assert out.tolist() == [[1, 2, 5], [2, 1, 0]]  # node 5 >= num_nodes (a feature node) is kept


def test_ranking_metrics_as_heart_computes_them():
    pos = torch.tensor([0.9, 0.5, 0.1])
    neg = torch.tensor([[0.1, 0.2, 0.95], [0.5, 0.6, 0.7], [0.0, 0.0, 0.0]])
    # HeaRT eval_hard_negs: rank = 0.5 * (#>= + #>) + 1
    assert positive_ranks(pos, neg).tolist() == [2.0, 3.5, 1.0]
    r = ranking_metrics(pos, neg, ks=(1, 3))
    assert r['mrr'] == pytest.approx((1 / 2 + 1 / 3.5 + 1) / 3) and r['hits@1'] == pytest.approx(1 / 3)
    assert r['hits@3'] == pytest.approx(2 / 3)
    mask = torch.tensor([[True, True, False], [True, True, True], [True, True, True]])  # filtered: 0.95 is true
    assert positive_ranks(pos, neg, mask).tolist() == [1.0, 3.5, 1.0]
    # each positive against all shared negatives == mrr with the negatives repeated (HeaRT's existing setting)
    shared = torch.tensor([0.3, 0.5, 0.95, 0.0])
    assert mrr_shared(pos, shared) == pytest.approx(mrr(pos, shared.repeat(3, 1)))
    with pytest.raises(ValueError, match='mask'):
        positive_ranks(pos, neg, mask[:, :2])


@pytest.mark.parametrize('protocol', ['heart-existing', 'heart'])
def test_cli_records_protocol_and_resumes(protocol, tmp_path, monkeypatch):
    from linkpred.cli.command import run_linkpred
    monkeypatch.setenv('GRAPHITE_CACHE', str(tmp_path))
    g = make_link_graph(200, 1.0, avg_degree=8, seed=0)
    partial = []
    res = run_linkpred('synthetic', 'gcn', 'mlp', dict(FAST), runs=2, data=g, progress=False, protocol=protocol,
                       on_seed=partial.append)
    assert res['protocol'] == protocol and res['seeds'] == [0, 1] and len(res['per_run']) == 2
    assert res['message_passing'] == {'train': 'train edges', 'val': 'train edges', 'test': 'train edges'}
    assert res['target_edges_removed_in_training'] is True and res['negatives_per_positive']
    assert res['complete'] and len(partial) == 1 and not partial[0]['complete']
    json.dumps(res)
    again = run_linkpred('synthetic', 'gcn', 'mlp', dict(FAST), runs=2, data=g, progress=False, protocol=protocol,
                         resume=partial[0])
    assert again['per_run'][0] == partial[0]['per_run'][0] and len(again['per_run']) == 2
    heur = run_linkpred('synthetic', None, None, {}, runs=1, data=g, progress=False, protocol=protocol,
                        heuristic='ra')
    assert heur['model'] == 'ra' and 0 <= heur['metrics']['mrr'] <= 1
