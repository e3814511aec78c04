"""`graphite run --save-model` and `graphite predict`: the saved best-validation model of each split predicts exactly
what the runner's model did, run folders, and the one-line refusals (other feature width, ambiguous split)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import graphite.cli.runner as runner
from graphite.cli import main as cli
from graphite.cli.config import TRAINING_DEFAULTS
from graphite.cli.prepared_data import prepare
from graphite.nn import get_model
from graphite.saved_model import SavedModelError, predict, resolve_model_dir

FAST = ['--set', 'epochs=12', '--set', 'hidden_channels=8', '--set', 'patience=0', '--no-progress', '--device', 'cpu']


@pytest.fixture
def spy_models(monkeypatch):
    """Split -> class probabilities of the graph nodes under the model `_train_split` returns (the runner's model)."""
    seen = {}
    real = runner._train_split

    def spy(prep, model_cls, model_kwargs, train, split, *args, **kw):
        out = real(prep, model_cls, model_kwargs, train, split, *args, **kw)
        if out[4] is not None:
            with torch.no_grad():
                logits = out[4](prep.x, prep.edge_index, prep.edge_type)[:prep.num_graph_nodes]
            seen[split] = (logits.softmax(-1).cpu(), out)
        return out
    monkeypatch.setattr(runner, '_train_split', spy)
    return seen


def _fake_load(monkeypatch, graphs):
    import graphite.datasets
    monkeypatch.setattr(graphite.datasets, 'load', lambda name, **kw: graphs[name])


def _csv(path):
    return np.loadtxt(path, delimiter=',', skiprows=1)


PREPROCESSED = ['--set', 'normalize_features=true', '--set', 'undirected=true']


@pytest.mark.parametrize('model,transform,sets', [('graphite', 'graphite', []), ('gcn', 'none', []),
                                                  ('gcn', 'none', PREPROCESSED)])
def test_cli_round_trip_gives_the_runners_predictions(model, transform, sets, make_graph, spy_models, tmp_path,
                                                      monkeypatch, capsys):
    """The saved model predicts on the raw graph what the runner's model did, repeating the recorded preprocessing
    (row-normalised features, the graph made undirected) before any transform."""
    toy = make_graph(num_nodes=40, num_features=10, num_edges=100, density=0.3, num_splits=2, seed=1)
    _fake_load(monkeypatch, {'cornell': toy})
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('GRAPHITE_HOME', raising=False)
    assert cli.main(['run', '--dataset', 'cornell', '--model', model, '--transform', transform, '--splits', '0-1',
                     '--out', 'r.json', '--save-model', 'models', *FAST, *sets]) == 0
    result = json.loads((tmp_path / 'r.json').read_text())
    assert sorted(p.name for p in (tmp_path / 'models').iterdir()) == ['split-0', 'split-1']
    for k, split in enumerate((0, 1)):
        expected, (val, test, best_step, _, _) = spy_models[split]
        folder = tmp_path / 'models' / f'split-{split}'
        config = json.loads((folder / 'config.json').read_text())
        assert config['dataset'] == {'name': 'cornell', 'num_features': 10, 'num_classes': 3}
        assert config['transform']['name'] == (None if transform == 'none' else 'graphite')
        assert config['preprocess'] == ({'normalize_features': True, 'undirected': True} if sets else {})
        extra = config['extra']
        assert extra['split'] == split and extra['best_step'] == best_step == result['best_steps'][k]
        assert extra['val'] == val == result['per_split_val'][k] and extra['test'] == result['per_split'][k]
        assert extra['config']['epochs'] == 12 and extra['result_file'].endswith('r.json')
        # Python API: identical probabilities; they reproduce the best-validation test accuracy
        probs = predict(tmp_path / 'models', toy, split=split)
        assert torch.equal(probs, expected)
        te = toy.test_mask[:, split] & (toy.y >= 0)
        assert float((probs[te].argmax(-1) == toy.y[te]).float().mean()) == pytest.approx(test)
        # command line: CSV of the same numbers
        assert cli.main(['predict', '--model', 'models', '--split', str(split), '--device', 'cpu']) == 0
        table = _csv(tmp_path / 'predictions' / f'cornell-{model}-split{split}-probs.csv')
        assert table.shape == (40, 4) and np.array_equal(table[:, 0], np.arange(40))
        assert np.allclose(table[:, 1:], expected.numpy(), rtol=1e-6, atol=1e-8)
    assert cli.main(['predict', '--model', 'models/split-1', '--embeddings', '--out', 'emb.csv',
                     '--device', 'cpu']) == 0
    assert _csv(tmp_path / 'emb.csv').shape[0] == 40
    assert 'graphite predict: cornell with models/split-1 -> emb.csv (40 nodes x 8 embeddings)' in \
        capsys.readouterr().err


def test_on_model_gets_the_best_model_and_nothing_is_copied_without_it(make_graph):
    toy = make_graph(num_nodes=30, num_features=6, num_splits=1, seed=2)
    seen = []
    r = runner.run('toy', 'mlp', None, {'epochs': 3, 'hidden_channels': 4}, progress=False, data=toy,
                   on_model=lambda model, info: seen.append((model, info)))
    assert len(seen) == 1 and not seen[0][0].training and seen[0][1]['test'] == r['per_split'][0]
    prep = prepare(toy, None)
    out = runner._train_split(prep, get_model('mlp'), {}, {**TRAINING_DEFAULTS, 'epochs': 2, 'hidden_channels': 4},
                              0, 0, 'accuracy', None, 0, False, desc='')
    assert out[4] is None


def test_other_feature_width_and_split_choice_are_one_line_errors(make_graph, tmp_path, monkeypatch, capsys):
    toy = make_graph(num_nodes=30, num_features=10, num_splits=2, seed=3)
    wide = make_graph(num_nodes=30, num_features=11, seed=4)
    wide.name = 'actor'
    _fake_load(monkeypatch, {'cornell': toy, 'actor': wide})
    monkeypatch.chdir(tmp_path)
    assert cli.main(['run', '--dataset', 'cornell', '--model', 'mlp', '--out', 'r.json', '--save-model', 'm',
                     *FAST]) == 0
    capsys.readouterr()
    assert cli.main(['predict', '--model', 'm', '--split', '0', '--dataset', 'actor', '--device', 'cpu']) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith('graphite: error: ')
    assert "trained on 'cornell' with 10 input features, but 'actor' has 11" in err
    assert not (tmp_path / 'predictions').exists()
    assert cli.main(['predict', '--model', 'm', '--device', 'cpu']) == 1  # two splits saved, none chosen
    assert 'holds the models of splits 0, 1: choose one' in capsys.readouterr().err
    assert cli.main(['predict', '--model', 'm', '--split', '7', '--device', 'cpu']) == 1
    assert 'no saved model for split 7 (saved splits: 0, 1)' in capsys.readouterr().err
    assert cli.main(['predict', '--model', 'nowhere', '--device', 'cpu']) == 1
    assert 'the folder does not exist' in capsys.readouterr().err
    with pytest.raises(SavedModelError, match='holds the model of split 1, not of split 0'):
        resolve_model_dir(tmp_path / 'm' / 'split-1', split=0)
    assert resolve_model_dir(tmp_path / 'm' / 'split-1', split=1) == tmp_path / 'm' / 'split-1'


@pytest.mark.data
def test_texas_round_trip_and_refusal_of_actor(benchmark, spy_models, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('GRAPHITE_HOME', str(tmp_path / 'home'))
    texas = benchmark('texas')
    _fake_load(monkeypatch, {'texas': texas, 'actor': benchmark('actor')})
    assert cli.main(['run', '--dataset', 'texas', '--model', 'graphite', '--transform', 'graphite', '--splits', '3',
                     '--save-model', 'texas-model', *FAST]) == 0
    assert (tmp_path / 'home' / 'results' / 'texas-graphite.json').is_file()
    assert cli.main(['predict', '--model', 'texas-model', '--device', 'cpu']) == 0  # the only split, its dataset
    table = _csv(tmp_path / 'home' / 'predictions' / 'texas-graphite-split3-probs.csv')
    assert table.shape == (texas.num_nodes, 6)
    assert np.allclose(table[:, 1:], spy_models[3][0].numpy(), rtol=1e-6, atol=1e-8)
    assert torch.equal(predict('texas-model', texas), spy_models[3][0])
    capsys.readouterr()
    assert cli.main(['predict', '--model', 'texas-model', '--dataset', 'actor', '--device', 'cpu']) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith('graphite: error: ') and len(err.splitlines()) == 1
    assert "trained on 'texas' with 1703 input features, but 'actor' has 932" in err
