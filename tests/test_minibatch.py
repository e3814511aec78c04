"""Mini-batch training (graphite.cli.minibatch) and full-graph layer-wise evaluation (graphite.nn.inference)."""
from __future__ import annotations

import pytest
import torch

from graphite import Graphite
from graphite.cli.config import load_config
from graphite.cli.minibatch import _minibatch_kwargs, build_loader, parse_fanout, sample_batch
from graphite.cli.prepared_data import prepare
from graphite.cli.runner import run
from graphite.layout import FEATURE_NODE
from graphite.nn import MODELS, get_model
from graphite.nn.inference import layerwise_inference

MB = {'hidden_channels': 8, 'epochs': 3, 'patience': 0, 'batch_size': 16, 'fanout': '5,3', 'feature_fanout': 2}


@pytest.fixture
def toy(make_graph):
    return make_graph(num_nodes=80, num_features=12, num_edges=300, density=0.3, num_splits=2, seed=4)


@pytest.mark.parametrize('model', ['graphite', 'sage', 'fagcn', 'gcnii'])
def test_minibatch_run_trains_and_is_reproducible(toy, model):
    a = run('toy', model, 'graphite', dict(MB), splits='0-1', seed=3, progress=False, data=toy)
    b = run('toy', model, 'graphite', dict(MB), splits='0-1', seed=3, progress=False, data=toy)
    assert a['per_split'] == b['per_split'] and a['per_split_val'] == b['per_split_val']
    assert a['steps'] == [3, 3] and all(0 <= v <= 1 for v in a['per_split'])
    assert a['environment']['world_size'] == 1


def test_every_model_trains_on_minibatches_of_the_original_graph(toy):
    for name in MODELS:
        r = run('toy', name, None, dict(MB, epochs=1, feature_fanout=None), splits=[0], progress=False, data=toy)
        assert 0 <= r['per_split'][0] <= 1, name


def test_feature_nodes_keep_full_graph_features_in_a_batch(toy):
    """x of a batch is x[n_id] of the full transformed graph: feature nodes keep the mean over *all* their graph
    nodes (Graphite's initialisation), not a mean over the sampled ones."""
    data = Graphite()(toy)
    prep = prepare(data, 'graphite')
    loader = build_loader(prep, [5, 3], [2])
    seeds = prep.index['train_mask'][0][:10]
    batch = sample_batch(loader, seeds, torch.device('cpu'), torch.Generator().manual_seed(0))
    assert torch.equal(batch.n_id[:batch.batch_size], seeds)
    feature = batch.node_type == FEATURE_NODE
    assert feature.any()
    assert torch.equal(batch.x, data.x[batch.n_id].float())
    # and that is not the mean over the sampled neighbourhood of a feature node
    sampled_mean_differs = False
    for local in feature.nonzero().view(-1).tolist():
        nbrs = batch.edge_index[0][batch.edge_index[1] == local]
        if nbrs.numel() and not torch.allclose(batch.x[nbrs].mean(0), batch.x[local]):
            sampled_mean_differs = True
    assert sampled_mean_differs


def test_feature_fanout_caps_hub_neighbourhoods(toy):
    prep = prepare(Graphite()(toy), 'graphite')
    loader = build_loader(prep, [-1, -1], [1])
    batch = sample_batch(loader, prep.index['train_mask'][0], torch.device('cpu'), torch.Generator().manual_seed(0))
    feature = (batch.node_type == FEATURE_NODE).nonzero().view(-1)
    in_deg = torch.bincount(batch.edge_index[1], minlength=batch.num_nodes)
    assert int(in_deg[feature].max()) <= 1


def test_minibatch_models_are_not_cached():
    for name in ('graphite', 'gcn', 'fagcn', 'gprgnn', 'gcnii'):
        assert _minibatch_kwargs(get_model(name), {'cached': True})['cached'] is False
    assert 'cached' not in _minibatch_kwargs(get_model('mlp'), {})


@pytest.mark.parametrize('model', ['graphite', 'gcn', 'fagcn', 'h2gcn'])
def test_layerwise_inference_equals_eval_forward_without_autograd(toy, model):
    data = Graphite()(toy)
    m = get_model(model)(12, 8, 3)
    m.train()
    seen = []
    for module in m.modules():
        if module is not m and not list(module.children()):
            module.register_forward_hook(lambda mod, inp, out: seen.append(out))
    out = layerwise_inference(m, data.x, data.edge_index, data.edge_type)
    assert m.training  # mode restored
    assert out.grad_fn is None and not out.requires_grad
    assert seen and all(not t.requires_grad for t in seen if isinstance(t, torch.Tensor))  # no graph kept
    m.eval()
    with torch.no_grad():
        ref = m(data.x, data.edge_index, data.edge_type)
    assert torch.allclose(out, ref, atol=1e-6)


def test_fanout_parsing_and_config_options():
    assert parse_fanout('15,10') == [15, 10] and parse_fanout(5) == [5] and parse_fanout([-1, 3]) == [-1, 3]
    assert parse_fanout(None) is None
    for bad in ('a,b', '0', [-2]):
        with pytest.raises(ValueError):
            parse_fanout(bad)
    cfg = load_config('toy', 'graphite', overrides=['batch_size=64', 'fanout=15,10', 'feature_fanout=5'],
                      transform='graphite')
    assert cfg['params']['batch_size'] == 64 and cfg['params']['feature_fanout'] == 5


def test_distributed_needs_a_batch_size(toy):
    with pytest.raises(ValueError, match='batch_size'):
        run('toy', 'mlp', None, {'epochs': 1}, splits=[0], progress=False, data=toy, distributed=True)


@pytest.mark.data
def test_cli_run_with_batch_size_on_cornell(data_root, tmp_path, monkeypatch):
    import json

    from graphite.cli.main import main
    monkeypatch.setenv('GRAPHITE_ROOT', str(tmp_path / 'datasets'))
    out = tmp_path / 'r.json'
    assert main(['run', '--dataset', 'cornell', '--model', 'graphite', '--transform', 'graphite', '--splits', '0',
                 '--batch-size', '32', '--fanout', '10,5', '--feature-fanout', '3', '--set', 'epochs=3',
                 '--threads', '1', '--device', 'cpu', '--out', str(out), '--no-progress']) == 0
    result = json.loads(out.read_text())
    assert result['config']['batch_size'] == 32 and result['config']['fanout'] == '10,5'
    assert result['steps'] == [3] and 0 <= result['mean'] <= 1


@pytest.mark.slow
@pytest.mark.data
def test_torchrun_two_ranks_write_one_result(data_root, tmp_path):
    import json
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, 'GRAPHITE_ROOT': str(tmp_path / 'datasets'), 'OMP_NUM_THREADS': '1',
           'PYTHONPATH': os.pathsep.join([root, os.environ.get('PYTHONPATH', '')])}
    out = tmp_path / 'r.json'
    proc = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', '2',
                           '-m', 'graphite', 'run', '--dataset', 'cornell', '--model', 'sage', '--splits', '0',
                           '--batch-size', '16', '--set', 'epochs=2', '--device', 'cpu', '--distributed',
                           '--no-progress', '--out', str(out)], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count('test accuracy') == 1  # rank 0 reports
    assert json.loads(out.read_text())['environment']['world_size'] == 2


def test_hub_neighbours_are_drawn_directly_uniform_and_distinct():
    """A node with 4000 in-neighbours and fan-out 10 (a feature-node hub) takes the O(k) path: exactly 10 distinct
    neighbours per draw, each neighbour with probability 10/4000 (binomial mean and spread over 1500 draws)."""
    from graphite.sampling import sample_neighbors
    deg = 4000
    row = torch.arange(1, deg + 6)                                  # node 0: 4000 in-neighbours, node 1: 5
    colptr = torch.tensor([0, deg, deg + 5] + [deg + 5] * (deg + 5))
    g = torch.Generator().manual_seed(0)
    counts = torch.zeros(deg)
    draws = 1500
    for _ in range(draws):
        pos, seg = sample_neighbors(colptr, row, torch.tensor([0, 1]), 10, generator=g)
        hub = pos[seg == 0]
        assert hub.numel() == 10 and hub.unique().numel() == 10 and int((seg == 1).sum()) == 5
        counts[hub] += 1
    p = 10 / deg
    freq = counts / draws
    assert abs(float(freq.mean()) - p) < 1e-6                        # 10 per draw, all inside the hub's range
    expected_std = (p * (1 - p) / draws) ** 0.5
    assert 0.85 * expected_std < float(freq.std()) < 1.15 * expected_std


def test_minibatch_ema_decay_evaluates_the_moving_average_of_every_step(toy, monkeypatch):
    """With ``ema_decay: d`` the mini-batch loop evaluates ``w_avg <- d * w_avg + (1 - d) * w``, updated after every
    optimiser step (not every epoch): the average is kept here by hand from the optimiser's own parameters (a global
    optimiser step hook) and compared with the weights of every model the loop evaluates."""
    import graphite.nn.inference as inference
    from torch.optim.optimizer import register_optimizer_step_post_hook
    d, avg, checked = 0.7, [], []

    def after_step(opt, args, kwargs):
        now = [p.detach().clone() for group in opt.param_groups for p in group['params']]
        avg[:] = now if not avg else [a * d + w * (1 - d) for a, w in zip(avg, now)]

    real = inference.layerwise_inference

    def spy(model, *args):
        got = list(model.parameters())
        assert len(got) == len(avg) and all(torch.allclose(g, a, atol=1e-6) for g, a in zip(got, avg))
        checked.append(1)
        return real(model, *args)

    monkeypatch.setattr(inference, 'layerwise_inference', spy)
    handle = register_optimizer_step_post_hook(after_step)
    try:
        r = run('toy', 'sage', None, dict(MB, ema_decay=d, feature_fanout=None), splits='0', seed=2, progress=False,
                data=toy)
    finally:
        handle.remove()
    assert len(checked) == 3 and r['steps'] == [3]
    with pytest.raises(ValueError, match='ema_decay must be'):
        run('toy', 'sage', None, dict(MB, ema_decay=2, feature_fanout=None), splits='0', progress=False, data=toy)
