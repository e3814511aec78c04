"""Tests of graphite.cli.runner / graphite.cli.config / `graphite run`: reproducibility, callbacks, partial results
after an interrupt, metrics against sklearn, config validation (every committed YAML file)."""
from __future__ import annotations

import glob
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import graphite.cli.runner as runner
from graphite.cli.config import CONFIG_DIR, ConfigError, load_config, parse_override, read_mapping
from graphite.cli.runner import evaluate_metric, parse_splits, run

FAST = {'hidden_channels': 8, 'epochs': 6, 'patience': 0, 'lr': 0.01}


@pytest.fixture
def toy(make_graph):
    return make_graph(num_nodes=40, num_features=10, num_edges=100, density=0.3, num_splits=3, seed=1)


def test_run_result_keys_and_reproducible(toy):
    kw = dict(splits='0-2', seed=5, progress=False, data=toy)
    a = run('toy', 'graphite', 'graphite', dict(FAST), **kw)
    b = run('toy', 'graphite', 'graphite', dict(FAST), **kw)
    for key in ('dataset', 'model', 'transform', 'config', 'metric', 'per_split', 'per_split_val', 'mean', 'std',
                'val_mean', 'seconds', 'environment'):
        assert key in a
    assert a['per_split'] == b['per_split'] and a['per_split_val'] == b['per_split_val']
    assert len(a['per_split']) == 3 and all(0 <= v <= 1 for v in a['per_split'])
    assert a['mean'] == pytest.approx(np.mean(a['per_split'])) and a['std'] == pytest.approx(np.std(a['per_split']))
    assert a['metric'] == 'accuracy' and a['transform'] == 'graphite' and a['environment']['seed'] == 5
    c = run('toy', 'graphite', 'graphite', dict(FAST), splits='0-2', seed=6, progress=False, data=toy)
    assert c['per_split_val'] != a['per_split_val'] or c['per_split'] != a['per_split']


def test_test_metric_is_taken_at_best_validation_step(toy, monkeypatch):
    seen = []
    real = runner.evaluate_metric

    def spy(metric, logits, y):
        v = real(metric, logits, y)
        seen.append((y.numel(), v))
        return v
    monkeypatch.setattr(runner, 'evaluate_metric', spy)
    r = run('toy', 'mlp', None, dict(FAST, epochs=10), splits=[0], progress=False, data=toy)
    n_val = int(toy.val_mask[:, 0].sum())
    vals = [v for n, v in seen if n == n_val]
    assert r['per_split_val'][0] == max(vals)
    assert r['best_steps'][0] == vals.index(max(vals)) + 1  # first step reaching the maximum


def test_on_eval_steps_increase_across_splits_and_exceptions_propagate(toy):
    steps = []
    run('toy', 'mlp', None, dict(FAST), splits='0,1', progress=False, data=toy,
        on_eval=lambda s, v: steps.append(s))
    assert steps == list(range(1, 7)) + list(range(7, 13))

    class Pruned(Exception):
        pass

    def prune(step, val):
        if step == 3:
            raise Pruned()
    with pytest.raises(Pruned):
        run('toy', 'mlp', None, dict(FAST), splits='0,1', progress=False, data=toy, on_eval=prune)


def test_interrupt_keeps_finished_splits(toy):
    saved = []

    def stop(step, val):
        if step > 2 * FAST['epochs']:  # during the third split
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run('toy', 'mlp', None, dict(FAST), splits='0-2', progress=False, data=toy, on_eval=stop,
            on_split=saved.append)
    assert [s['splits'] for s in saved] == [[0], [0, 1]]
    assert saved[-1]['complete'] is False and len(saved[-1]['per_split']) == 2


def _args(**kw):
    base = dict(dataset='cornell', model='mlp', transform=None, splits='0-2', config=None, overrides=[],
                out=None, seed=0, threads=None, no_progress=True)
    base.update(kw)
    return SimpleNamespace(**base)


def test_run_command_writes_json_and_partial_json_on_ctrl_c(toy, tmp_path, monkeypatch, capsys):
    import graphite.datasets
    from graphite.cli import run_command
    monkeypatch.setattr(graphite.datasets, 'load', lambda name, **kw: toy)
    out = tmp_path / 'r.json'
    sets = ['epochs=5', 'hidden_channels=8']
    assert run_command.main(_args(out=str(out), overrides=sets)) == 0
    res = json.loads(out.read_text())
    assert res['dataset'] == 'cornell' and res['model'] == 'mlp' and len(res['per_split']) == 3
    assert res['config']['epochs'] == 5 and res['complete'] is True
    assert 'test accuracy' in capsys.readouterr().out
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.tmp')]

    real = runner._train_split

    def interrupt(prep, model_cls, model_kwargs, train, split, *args, **kw):
        if split == 2:  # Ctrl-C while the third split trains
            raise KeyboardInterrupt
        return real(prep, model_cls, model_kwargs, train, split, *args, **kw)
    monkeypatch.setattr(runner, '_train_split', interrupt)
    out2 = tmp_path / 'partial.json'
    assert run_command.main(_args(out=str(out2), overrides=sets)) == 130
    part = json.loads(out2.read_text())
    assert part['splits'] == [0, 1] and part['complete'] is False


def test_default_output_names():
    from graphite.cli.run_command import default_out
    assert default_out('actor', 'GCN', 'graphite').endswith('results/actor-gcn-graphite.json')
    assert default_out('actor', 'gcn', None).endswith('results/actor-gcn.json')
    assert default_out('actor', 'graphite', 'graphite').endswith('results/actor-graphite.json')
    assert default_out('actor', 'graphite', None).endswith('results/actor-graphite-original.json')


def test_run_command_clear_errors(tmp_path):
    from graphite.cli import run_command
    assert run_command.main(_args(dataset='no-such-dataset')) == 2
    assert run_command.main(_args(model='no-such-model')) == 2
    assert run_command.main(_args(overrides=['no_such_key=1'])) == 2


def test_metrics_against_sklearn():
    torch.manual_seed(0)
    logits = torch.randn(50, 2)
    y = torch.randint(0, 2, (50,))
    prob = torch.softmax(logits, -1)[:, 1].numpy()
    assert evaluate_metric('roc_auc', logits, y) == pytest.approx(roc_auc_score(y.numpy(), prob))
    acc = (logits.argmax(1) == y).float().mean().item()
    assert evaluate_metric('accuracy', logits, y) == pytest.approx(acc)
    with pytest.raises(ValueError):
        evaluate_metric('roc_auc', torch.randn(5, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError):
        evaluate_metric('f1', logits, y)
    assert runner.metric_for('minesweeper') == 'roc_auc' and runner.metric_for('actor') == 'accuracy'


def test_parse_splits():
    assert parse_splits('0-9', 10) == list(range(10))
    assert parse_splits('3,1,1', 10) == [1, 3]
    assert parse_splits(None, 4) == [0, 1, 2, 3]
    for bad in ('0-10', 'a', '', [11]):
        with pytest.raises(ValueError):
            parse_splits(bad, 10)


def test_load_config_overrides_and_errors(tmp_path):
    cfg = load_config('actor', 'graphite', overrides=['lr=0.002', 'learn_weights=false', 'num_layers=3'])
    assert cfg['params']['lr'] == 0.002 and cfg['params']['learn_weights'] is False
    assert cfg['params']['num_layers'] == 3 and cfg['transform'] == 'graphite'
    assert parse_override('a=[1, 2]') == ('a', [1, 2])
    with pytest.raises(ConfigError, match='unknown override key'):
        load_config('actor', 'mlp', overrides=['tau=1'])
    with pytest.raises(ConfigError, match='key=value'):
        load_config('actor', 'mlp', overrides=['lr'])
    bad = tmp_path / 'bad.yaml'
    bad.write_text('model: mlp\nparams: {lr: 0.1, heads: 3}\n')
    with pytest.raises(ConfigError, match='heads'):
        load_config('actor', 'mlp', path=str(bad))
    bad.write_text('model: mlp\nsurch: {}\n')
    with pytest.raises(ConfigError, match='surch'):
        load_config('actor', 'mlp', path=str(bad))
    with pytest.raises(KeyError):
        load_config('actor', 'nope')


def test_a_config_extends_another(tmp_path):
    """``extends:`` inherits dataset, model, transform, search and params (key by key) from another file, relative to
    the extending file or a bundled ``configs/...`` one; description and selection stay with their file."""
    (tmp_path / 'base').mkdir()
    (tmp_path / 'base' / 'a.yaml').write_text(
        'dataset: actor\nmodel: graphite\ntransform: graphite\ndescription: the base\n'
        'params: {lr: 0.01, tau: 2.0, num_layers: 4}\nsearch: {lr: {type: float, low: 0.001, high: 0.1}}\n'
        'selection: {method: a study, trials: 9}\n')
    (tmp_path / 'b.yaml').write_text('extends: base/a.yaml\nparams: {lr: 0.002}\n')
    (tmp_path / 'c.yaml').write_text('extends: b.yaml\ndescription: two levels\nparams: {tau: 1.0}\n')
    raw = read_mapping(str(tmp_path / 'c.yaml'))
    assert raw['params'] == {'lr': 0.002, 'tau': 1.0, 'num_layers': 4} and raw['description'] == 'two levels'
    assert 'selection' not in raw and 'extends' not in raw and raw['model'] == 'graphite'
    cfg = load_config('actor', 'graphite', path=str(tmp_path / 'c.yaml'))
    assert cfg['params']['num_layers'] == 4 and cfg['params']['lr'] == 0.002 and cfg['transform'] == 'graphite'
    assert cfg['search'] == {'lr': {'type': 'float', 'low': 0.001, 'high': 0.1}} and cfg['selection'] is None
    # a bundled config, named as results record it
    (tmp_path / 'd.yaml').write_text('extends: configs/minesweeper/graphite-deep16.yaml\nparams: {lr: 0.005}\n')
    base = os.path.join(CONFIG_DIR, 'minesweeper', 'graphite-deep16.yaml')
    bundled = load_config('minesweeper', 'graphite', path=base)
    mine = load_config('minesweeper', 'graphite', path=str(tmp_path / 'd.yaml'))
    assert mine['params'] == {**bundled['params'], 'lr': 0.005} and mine['search'] == bundled['search']
    for text, message in [('extends: nowhere.yaml\n', 'does not exist'), ('extends: 3\n', 'path of another config'),
                          ('extends: e.yaml\n', 'comes back to itself')]:
        (tmp_path / 'e.yaml').write_text(text)
        with pytest.raises(ConfigError, match=message):
            read_mapping(str(tmp_path / 'e.yaml'))


REPO_CONFIGS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'experiments', 'configs')
NODE_CONFIGS = sorted(p for folder in (CONFIG_DIR, REPO_CONFIGS)  # bundled ones and the repository's extra ones
                      for p in glob.glob(os.path.join(folder, '**', '*.yaml'), recursive=True)
                      if os.sep + 'linkpred' + os.sep not in p)  # configs/linkpred/ belongs to `graphite linkpred`


@pytest.mark.parametrize('path', NODE_CONFIGS)
def test_every_committed_config_is_valid(path):
    raw = read_mapping(path)  # `extends:` resolved
    dataset = os.path.basename(os.path.dirname(path))
    cfg = load_config(dataset, raw['model'], path=path)
    assert cfg['search'], f'{path} has no search space'
    if dataset != 'default':
        from graphite.datasets import canonical_name
        assert canonical_name(dataset) == dataset


def test_run_command_takes_dataset_and_model_from_config(toy, tmp_path, monkeypatch):
    """`graphite run --config best.yaml` (as written by `graphite tune --export`) needs no --dataset/--model."""
    import yaml

    import graphite.datasets
    from graphite.cli import run_command
    seen = []
    monkeypatch.setattr(graphite.datasets, 'load', lambda name, **kw: seen.append(name) or toy)
    cfg = tmp_path / 'best.yaml'
    cfg.write_text(yaml.safe_dump({'dataset': 'cornell', 'model': 'mlp', 'transform': None,
                                   'params': {'epochs': 3, 'hidden_channels': 8}}))
    out = tmp_path / 'r.json'
    assert run_command.main(_args(dataset=None, model=None, config=str(cfg), out=str(out), splits='0')) == 0
    res = json.loads(out.read_text())
    assert seen == ['cornell'] and res['model'] == 'mlp' and res['config']['epochs'] == 3
    # a config that names neither, and no flags: a clear error instead of a guess
    bare = tmp_path / 'bare.yaml'
    bare.write_text(yaml.safe_dump({'params': {'epochs': 3}}))
    assert run_command.main(_args(dataset=None, model=None, config=str(bare))) == 2
    assert run_command.main(_args(dataset=None, model=None)) == 2


def test_run_command_names_result_files_like_the_loader(toy, tmp_path, monkeypatch):
    """`graphite run --dataset Cornell` writes cornell-mlp.json (the loader's canonical name), not Cornell-mlp.json."""
    import graphite.datasets
    from graphite.cli import run_command
    monkeypatch.setattr(graphite.datasets, 'load', lambda name, **kw: toy)
    monkeypatch.setenv('GRAPHITE_HOME', str(tmp_path))
    sets = ['epochs=2', 'hidden_channels=8']
    for name in ('Cornell', 'CORNELL', 'cornell'):
        assert run_command.main(_args(dataset=name, overrides=sets, splits='0')) == 0
    assert os.listdir(tmp_path / 'results') == ['cornell-mlp.json']
    assert json.loads((tmp_path / 'results' / 'cornell-mlp.json').read_text())['dataset'] == 'cornell'


def test_normalize_features_equals_pyg_normalize_features(toy):
    """``normalize_features: true`` gives the numbers of the same run on the graph PyG's ``NormalizeFeatures`` returns
    (rows summing to 1), leaves the caller's graph unchanged, and is refused with the GRAPHITE transform, which needs
    binary features and has its own ``graph_node_features=normalize``."""
    import torch_geometric.transforms as T
    params = dict(hidden_channels=8, epochs=6, eval_every=2, patience=0)
    x = toy.x.clone()
    a = run('toy', 'gcn', None, {**params, 'normalize_features': True}, splits='0', data=toy, progress=False)
    assert torch.equal(toy.x, x)
    b = run('toy', 'gcn', None, params, splits='0', data=T.NormalizeFeatures()(toy.clone()), progress=False)
    c = run('toy', 'gcn', None, params, splits='0', data=toy, progress=False)
    assert a['per_split_val'] == b['per_split_val'] and a['per_split'] == b['per_split']
    assert c['per_split_val'] != a['per_split_val'] or c['per_split'] != a['per_split']
    with pytest.raises(ValueError, match='graph_node_features=normalize'):
        run('toy', 'graphite', 'graphite', {**params, 'normalize_features': True}, splits='0', data=toy,
            progress=False)


def test_undirected_option_equals_a_graph_made_undirected_by_pyg(toy):
    """``undirected: true`` (tunedGNN's preprocessing of the filtered graphs) gives the numbers of the same run on the
    graph that PyG's ``to_undirected`` returns; the option's default leaves the graph as stored."""
    from torch_geometric.utils import to_undirected
    params = dict(hidden_channels=8, epochs=6, eval_every=2, patience=0)
    a = run('toy', 'gcn', None, {**params, 'undirected': True}, splits='0', data=toy, progress=False)
    sym = toy.clone()
    sym.edge_index = to_undirected(toy.edge_index, num_nodes=toy.num_nodes)
    b = run('toy', 'gcn', None, params, splits='0', data=sym, progress=False)
    c = run('toy', 'gcn', None, params, splits='0', data=toy, progress=False)
    assert a['per_split'] == b['per_split'] and a['per_split_val'] == b['per_split_val']
    assert not torch.equal(sym.edge_index, toy.edge_index) and c['config'].get('undirected') is None
    with pytest.raises(ValueError, match='original graph'):
        from graphite import Graphite
        run('toy', 'graphite', 'graphite', {**params, 'undirected': True}, splits='0', data=Graphite()(toy),
            progress=False)


def test_label_smoothing_trains_on_the_soft_targets_written_by_hand(toy):
    """``label_smoothing: e`` trains against ``(1 - e) * one_hot + e / C``: a hand-written loop with that soft-target
    cross-entropy (not torch's ``label_smoothing``) reproduces the run's validation and test exactly; the default (0)
    is the plain cross-entropy, and values outside [0, 1) are refused before training."""
    from graphite.cli.prepared_data import prepare
    from graphite.nn import get_model
    e, seed, steps = 0.3, 7, 8
    params = dict(hidden_channels=8, epochs=steps, patience=0, lr=0.05, weight_decay=0.0, label_smoothing=e)
    r = run('toy', 'mlp', None, params, splits='0', seed=seed, data=toy, progress=False)
    prep = prepare(toy, None, {})
    tr, va, te = (prep.index[n][0] for n in ('train_mask', 'val_mask', 'test_mask'))
    torch.manual_seed(seed)
    model = get_model('mlp')(prep.x.size(1), 8, prep.num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.0)
    target = (1 - e) * torch.nn.functional.one_hot(prep.y[tr], prep.num_classes).float() + e / prep.num_classes
    best = (-1.0, None)
    for _ in range(steps):
        model.train()
        opt.zero_grad()
        loss = -(target * torch.log_softmax(model(prep.x, prep.edge_index)[tr], -1)).sum(-1).mean()
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(prep.x, prep.edge_index).argmax(-1)
        val = (pred[va] == prep.y[va]).float().mean().item()
        if val > best[0]:
            best = (val, (pred[te] == prep.y[te]).float().mean().item())
    assert r['per_split_val'][0] == pytest.approx(best[0]) and r['per_split'][0] == pytest.approx(best[1])
    plain = run('toy', 'mlp', None, {**params, 'label_smoothing': 0.0}, splits='0', seed=seed, data=toy,
                progress=False)
    default = run('toy', 'mlp', None, {k: v for k, v in params.items() if k != 'label_smoothing'}, splits='0',
                  seed=seed, data=toy, progress=False)
    assert plain['per_split_val'] == default['per_split_val'] and plain['per_split'] == default['per_split']
    for bad in (1.0, -0.1, 'much'):
        with pytest.raises(ValueError, match='label_smoothing must be'):
            run('toy', 'mlp', None, {**params, 'label_smoothing': bad}, splits='0', data=toy, progress=False)


def test_ema_decay_evaluates_the_moving_average_written_by_hand(toy):
    """``ema_decay: d`` evaluates, checkpoints and returns ``w_avg <- d * w_avg + (1 - d) * w`` (first step: a copy),
    BatchNorm statistics averaged alike: a hand-written loop that keeps the average itself (not torch's
    ``AveragedModel``) reproduces the run's validation and test, and the returned model is the average at the best
    validation step. The default (0) evaluates the raw weights, and values outside [0, 1) are refused."""
    import copy
    from graphite.cli.prepared_data import prepare
    from graphite.nn import get_model
    d, seed, steps = 0.8, 3, 12
    params = dict(hidden_channels=8, epochs=steps, patience=0, lr=0.05, weight_decay=0.0, norm='batch', ema_decay=d)
    kept = {}
    r = run('toy', 'gcn', None, params, splits='0', seed=seed, data=toy, progress=False,
            on_model=lambda model, info: kept.update(model=model))
    prep = prepare(toy, None, {})
    tr, va, te = (prep.index[n][0] for n in ('train_mask', 'val_mask', 'test_mask'))
    torch.manual_seed(seed)
    model = get_model('gcn')(prep.x.size(1), 8, prep.num_classes, norm='batch')
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.0)
    shadow, avg, best = copy.deepcopy(model), None, (-1.0, None, None)
    for _ in range(steps):
        model.train()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(prep.x, prep.edge_index)[tr], prep.y[tr]).backward()
        opt.step()
        now = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}
        avg = now if avg is None else {k: avg[k] * d + now[k] * (1 - d) for k in avg}
        shadow.load_state_dict(avg, strict=False)
        shadow.eval()
        with torch.no_grad():
            out = shadow(prep.x, prep.edge_index)
        val = (out[va].argmax(-1) == prep.y[va]).float().mean().item()
        if val > best[0]:
            best = (val, (out[te].argmax(-1) == prep.y[te]).float().mean().item(), out)
    assert r['per_split_val'][0] == pytest.approx(best[0]) and r['per_split'][0] == pytest.approx(best[1])
    with torch.no_grad():
        assert torch.allclose(kept['model'](prep.x, prep.edge_index), best[2], atol=1e-5)
    raw = run('toy', 'gcn', None, {**params, 'ema_decay': 0.0}, splits='0', seed=seed, data=toy, progress=False)
    default = run('toy', 'gcn', None, {k: v for k, v in params.items() if k != 'ema_decay'}, splits='0', seed=seed,
                  data=toy, progress=False)
    assert raw['per_split_val'] == default['per_split_val'] and raw['per_split'] == default['per_split']
    for bad in (1.0, -0.5, 'slow'):
        with pytest.raises(ValueError, match='ema_decay must be'):
            run('toy', 'gcn', None, {**params, 'ema_decay': bad}, splits='0', data=toy, progress=False)


def test_sigterm_stops_graphite_run_like_ctrl_c_and_keeps_finished_splits(toy, tmp_path, monkeypatch, capsys):
    """A scheduler's SIGTERM (a real signal sent to this process while split 2 trains) ends ``graphite run`` with 143
    and the partial result of the finished splits; the default SIGTERM disposition is back afterwards."""
    import signal
    import graphite.datasets
    from graphite.cli.main import main
    monkeypatch.setattr(graphite.datasets, 'load', lambda name, **kw: toy)
    real = runner._train_split

    def terminate(prep, model_cls, model_kwargs, train, split, *args, **kw):
        if split == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(prep, model_cls, model_kwargs, train, split, *args, **kw)
    monkeypatch.setattr(runner, '_train_split', terminate)
    out = tmp_path / 'partial.json'
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    code = main(['run', '--dataset', 'cornell', '--model', 'mlp', '--splits', '0-2', '--set', 'epochs=5',
                 '--set', 'hidden_channels=8', '--out', str(out), '--no-progress'])
    assert code == 143
    assert 'terminated: finished splits (if any) are saved in' in capsys.readouterr().err
    part = json.loads(out.read_text())
    assert part['splits'] == [0, 1] and part['complete'] is False and part['requested_splits'] == [0, 1, 2]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_sigterm_handler_is_scoped_and_keeps_a_handler_of_the_application():
    import signal
    from graphite.cli.termination import Terminated, sigterm_interrupts
    with pytest.raises(Terminated):
        with sigterm_interrupts() as installed:
            assert installed
            os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda *a: seen.append(a[0]))
    try:
        with sigterm_interrupts() as installed:
            assert not installed
            os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_stop_once_ignores_a_second_signal_while_stopping():
    """A tune worker's handler: the first SIGTERM (or SIGINT) stops the block, a second one during the cleanup is
    ignored, and both handlers come back afterwards."""
    import signal
    from graphite.cli.termination import Terminated, sigterm_interrupts
    cleaned = []
    with pytest.raises(Terminated):
        with sigterm_interrupts(stop_once=True) as installed:
            assert installed
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            finally:
                os.kill(os.getpid(), signal.SIGINT)  # e.g. the main process's SIGINT arriving during the cleanup
                os.kill(os.getpid(), signal.SIGTERM)
                cleaned.append(True)
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt) as info:
        with sigterm_interrupts(stop_once=True):
            os.kill(os.getpid(), signal.SIGINT)
    assert not isinstance(info.value, Terminated)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
