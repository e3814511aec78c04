"""Training loop, runner and CLI of link prediction on small synthetic graphs."""
import json

import pytest
import torch

from linkpred.synthetic import make_link_graph
from linkpred.training import split_edges, train_link_predictor

FAST = {'hidden_channels': 32, 'lr': 0.01, 'epochs': 30, 'eval_every': 10, 'patience': 30}
RUNNER_KEYS = {'dataset', 'model', 'transform', 'config', 'metric', 'per_split', 'per_split_val', 'mean', 'std',
               'val_mean', 'seconds', 'environment'}


@pytest.fixture(scope='module')
def homophilic():
    return make_link_graph(400, 1.0, avg_degree=8, seed=0)


def test_split_is_85_5_10_disjoint_and_seeded(homophilic):
    sp = split_edges(homophilic, seed=0)
    m = homophilic.edge_index.size(1) // 2
    assert sp.val_pos.size(1) == int(0.05 * m) and sp.test_pos.size(1) == int(0.1 * m)
    assert sp.train_pos.size(1) == m - sp.val_pos.size(1) - sp.test_pos.size(1)
    key = lambda e: set(map(tuple, torch.sort(e, 0).values.t().tolist()))  # noqa: E731
    assert not key(sp.train_pos) & key(sp.test_pos) and not key(sp.val_pos) & key(sp.test_pos)
    assert sp.val_neg.size(1) == sp.val_pos.size(1) and sp.test_mrr.shape == (sp.test_pos.size(1), 100)
    assert not key(sp.test_neg) & key(homophilic.edge_index)          # negatives are non-edges
    assert not key(sp.test_pos) & key(sp.train_graph.edge_index)      # no test edge in message passing
    again = split_edges(homophilic, seed=0)
    assert torch.equal(again.test_pos, sp.test_pos) and torch.equal(again.test_neg, sp.test_neg)


def test_learns_and_is_reproducible(homophilic):
    sp = split_edges(homophilic, seed=0)
    steps = []
    a = train_link_predictor(sp, 'gcn', 'dot', FAST, seed=0, on_eval=lambda s, v: steps.append((s, v)))
    b = train_link_predictor(sp, 'gcn', 'dot', FAST, seed=0)
    assert a['test'] == b['test']
    assert a['test']['auc'] > 0.8
    assert [s for s, _ in steps] == [10, 20, 30]
    assert a['val']['mrr'] == max(v for _, v in steps)                  # test taken at the best validation epoch


def test_minibatch_mode_learns(homophilic):
    sp = split_edges(homophilic, seed=1)
    out = train_link_predictor(sp, 'sage', 'mlp', dict(FAST, mode='minibatch', batch_size=256, num_neighbors=[5, 5]),
                               seed=0)
    assert out['test']['auc'] > 0.75


def test_on_eval_exception_propagates(homophilic):
    sp = split_edges(homophilic, seed=0)

    class Pruned(Exception):
        pass

    def stop(step, value):
        raise Pruned

    with pytest.raises(Pruned):
        train_link_predictor(sp, 'none', 'mlp', FAST, seed=0, on_eval=stop)
    with pytest.raises(KeyError, match='unknown link-prediction parameter'):
        train_link_predictor(sp, 'gcn', 'dot', {'learning_rate': 0.1})


def test_run_linkpred_result(homophilic):
    from linkpred.cli.command import run_linkpred
    steps = []
    res = run_linkpred('synthetic', 'gcn', 'mlp', dict(FAST, separate_ego=True), runs=2, seed=0, progress=False,
                       data=homophilic, on_eval=lambda s, v: steps.append(s))
    assert RUNNER_KEYS <= set(res) and res['model'] == 'gcn-mlp-sep' and res['metric'] == 'mrr'
    assert len(res['per_split']) == 2 and res['mean'] == pytest.approx(sum(res['per_split']) / 2)
    assert set(res['metrics']) == {'auc', 'mrr', 'hits@1', 'hits@3', 'hits@10', 'hits@20', 'hits@50', 'hits@100'}
    assert all(0 <= v <= 1 for v in res['metrics'].values())
    assert res['protocol'] == 'random' and res['message_passing']['test'] == 'train + val edges'
    assert steps == sorted(steps) and len(set(steps)) == len(steps) == 6  # increasing across runs


def test_graphite_transform_path():
    from linkpred.cli.command import run_linkpred
    g = torch.Generator().manual_seed(0)
    base = make_link_graph(200, 0.8, avg_degree=6, seed=0)
    base.x = (torch.rand(200, 10, generator=g) < 0.3).float()  # GRAPHITE needs discrete features
    res = run_linkpred('synthetic', 'sage', 'dot', dict(FAST, epochs=10), runs=1, progress=False, data=base,
                       transform='graphite')
    assert res['transform'] == 'graphite' and 0 <= res['metrics']['auc'] <= 1


def test_cli_writes_json(tmp_path):
    from graphite.cli.config import CONFIG_DIR
    from graphite.cli.main import main
    out = tmp_path / 'r.json'
    code = main(['linkpred', '--dataset', 'synthetic', '--num-nodes', '300', '--similarity', '-0.8', '--encoder',
                 'none', '--decoder', 'distmult', '--runs', '1', '--no-progress', '--out', str(out),
                 '--config', f'{CONFIG_DIR}/linkpred/synthetic.yaml', '--set', 'epochs=10'])
    assert code == 0
    res = json.loads(out.read_text())
    assert RUNNER_KEYS <= set(res) and res['model'] == 'none-distmult'
    assert res['dataset_options']['similarity'] == -0.8 and res['dataset_options']['num_nodes'] == 300
    assert not list(tmp_path.glob('.*tmp'))  # atomic write left no temporary file
    with pytest.raises(KeyError, match='unknown params'):
        main(['linkpred', '--dataset', 'synthetic', '--encoder', 'gcn', '--decoder', 'dot', '--set', 'lrr=1',
              '--debug'])


def test_params_are_checked(homophilic):
    from linkpred.training import check_params
    sp = split_edges(homophilic, seed=0)
    for bad, msg in (({'epochs': 0}, 'epochs must be an int >= 1'), ({'eval_every': 2.5}, 'eval_every'),
                     ({'lr': 'fast'}, 'lr must be a finite number'), ({'metric': 'hits@7'}, 'metric must be one of'),
                     ({'batch_size': -1}, 'batch_size')):
        with pytest.raises(ValueError, match=msg):
            train_link_predictor(sp, 'gcn', 'dot', bad)
    assert check_params({'lr': '5e-4'})['lr'] == 5e-4                 # YAML reads 5e-4 as a string


def test_selection_refuses_a_metric_that_cannot_discriminate():
    data = make_link_graph(120, 1.0, avg_degree=6, seed=0)
    sp = split_edges(data, seed=0)
    assert sp.val_neg.size(1) < 100
    with pytest.raises(ValueError, match=r'hits@100 cannot discriminate.*use mrr, auc or hits@K with K <'):
        train_link_predictor(sp, 'none', 'dot', dict(FAST, metric='hits@100'))


def test_seed_draws_the_synthetic_graph_and_is_recorded():
    from linkpred.cli.command import run_linkpred
    from linkpred.synthetic import DEFAULT_SIMILARITY
    kw = dict(params=dict(FAST, epochs=1, eval_every=1), runs=1, progress=False, num_nodes=100, avg_degree=6)
    a = run_linkpred('synthetic', 'none', 'dot', seed=7, **kw)
    b = run_linkpred('synthetic', 'none', 'dot', seed=7, **kw)
    c = run_linkpred('synthetic', 'none', 'dot', seed=8, **kw)
    assert a['dataset_options']['seed'] == 7 and c['dataset_options']['seed'] == 8
    assert a['dataset_options']['similarity'] == DEFAULT_SIMILARITY == make_link_graph.__defaults__[1]
    assert a['per_run'] == b['per_run'] and a['per_run'] != c['per_run']
    assert any('hits@100' in w for w in a['warnings'])                # 100 nodes: too few negatives for K = 100


def test_cli_seed_warnings_help_and_errors(tmp_path, capsys):
    from graphite.cli.main import main
    out = tmp_path / 'r.json'
    argv = ['linkpred', '--dataset', 'synthetic', '--num-nodes', '150', '--encoder', 'gcn', '--decoder', 'dot',
            '--runs', '1', '--no-progress', '--seed', '7', '--set', 'epochs=2', '--set', 'eval_every=1']
    assert main(argv + ['--out', str(out)]) == 0
    res = json.loads(out.read_text())
    assert res['dataset_options']['seed'] == 7 and res['dataset_options']['similarity'] == 1.0
    assert res['warnings'] and 'warning: test: hits@100 cannot discriminate' in capsys.readouterr().err
    with pytest.raises(ValueError, match='epochs must be an int >= 1'):
        main(argv[:-4] + ['--set', 'epochs=0', '--debug'])
    with pytest.raises(SystemExit):
        main(['linkpred', '--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert 'default: 1.0, as make_link_graph' in text and "transform_options={binarize: 0.0}" in text


def test_graphite_on_continuous_features_names_the_cli_option():
    from linkpred.cli.command import run_linkpred
    data = make_link_graph(80, 1.0, avg_degree=4, seed=0)               # Gaussian features
    with pytest.raises(ValueError, match=r"--set 'transform_options=\{binarize: 0.0\}'"):
        run_linkpred('synthetic', 'none', 'dot', dict(FAST, epochs=1), runs=1, progress=False, data=data,
                     transform='graphite')


@pytest.mark.parametrize('encoder', ['gcn', 'sage', 'gin', 'gprgnn'])
def test_training_prints_no_user_warnings(homophilic, encoder):
    import warnings

    from graphite.metrics import MetricWarning
    sp = split_edges(homophilic, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)                   # the sparse_csr beta warnings are gone
        warnings.simplefilter('ignore', MetricWarning)
        out = train_link_predictor(sp, encoder, 'dot', dict(FAST, epochs=2, eval_every=1), seed=0)
    assert 0 <= out['test']['auc'] <= 1
