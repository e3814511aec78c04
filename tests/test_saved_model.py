"""Tests of graphite.saved_model: save / load round trip, prediction, and the refusals."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graphite import Graphite
from graphite.nn import get_model
from graphite.saved_model import (FeatureWidthError, SavedModelError, load_model, predict, save_model,
                                  write_predictions)


def _train(model, x, edge_index, edge_type, y, mask, steps=5):
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x, edge_index, edge_type)[mask], y[mask]).backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize('name,kwargs', [('gcn', {'num_layers': 2, 'dropout': 0.3}), ('mlp', {'num_layers': 3}),
                                         ('h2gcn', {})])
def test_round_trip_identical_logits(name, kwargs, make_graph, tmp_path):
    data = make_graph(num_nodes=30, num_features=8, num_classes=3, seed=1)
    torch.manual_seed(0)
    model = get_model(name)(8, 16, 3, **kwargs)
    _train(model, data.x, data.edge_index, None, data.y, data.train_mask[:, 0])
    with torch.no_grad():
        expected = model(data.x, data.edge_index)
    save_model(model, tmp_path / 'm', model_name=name, hidden_channels=16, in_channels=8, num_classes=3,
               model_kwargs=kwargs, dataset='toy', extra={'val_accuracy': 0.5})
    loaded, config = load_model(tmp_path / 'm')
    with torch.no_grad():
        assert torch.equal(loaded(data.x, data.edge_index), expected)
    assert not loaded.training
    assert config['dataset'] == {'name': 'toy', 'num_features': 8, 'num_classes': 3}
    assert config['extra'] == {'val_accuracy': 0.5} and config['model']['kwargs'] == kwargs
    assert set(config['versions']) >= {'graphite', 'torch', 'torch_geometric'}
    probs = predict(tmp_path / 'm', data)
    assert torch.equal(probs, expected.softmax(-1))
    assert not list(tmp_path.glob('m/*.part'))  # no temporary files left


def test_graphite_transform_is_applied_and_feature_nodes_dropped(make_graph, tmp_path):
    data = make_graph(num_nodes=25, num_features=10, num_classes=2, seed=2)
    options = {'feature_init': 'mean', 'min_count': 1}
    t = Graphite(**options)(data)
    torch.manual_seed(0)
    model = _train(get_model('graphite')(10, 8, 2), t.x, t.edge_index, t.edge_type, t.y, t.train_mask[:, 0])
    with torch.no_grad():
        expected = model(t.x, t.edge_index, t.edge_type)[:25].softmax(-1)
    save_model(model, tmp_path / 'g', model_name='graphite', hidden_channels=8, in_channels=10, num_classes=2,
               transform='graphite', transform_options=options)
    assert torch.equal(predict(tmp_path / 'g', data), expected)  # raw graph: transformed by predict
    assert torch.equal(predict(tmp_path / 'g', t), expected)  # already transformed: used as is
    emb = predict(tmp_path / 'g', data, embeddings=True)
    assert emb.shape[0] == 25 and emb.dim() == 2


def test_embeddings_are_the_input_of_the_output_layer(make_graph, tmp_path):
    data = make_graph(num_nodes=20, num_features=6, seed=3)
    model = get_model('mlp')(6, 12, 3, num_layers=2).eval()
    save_model(model, tmp_path / 'm', model_name='mlp', hidden_channels=12, in_channels=6, num_classes=3)
    emb = predict(tmp_path / 'm', data, embeddings=True)
    with torch.no_grad():
        hidden = F.relu(model.lins[0](data.x))
    assert torch.allclose(emb, hidden) and emb.shape == (20, 12)
    path = write_predictions(emb, tmp_path / 'out' / 'emb.csv', embeddings=True)
    table = np.loadtxt(path, delimiter=',', skiprows=1)
    assert open(path).readline().strip() == 'node,' + ','.join(f'e{i}' for i in range(12))
    assert table.shape == (20, 13) and np.allclose(table[:, 1:], emb.numpy(), rtol=1e-6, atol=1e-7)


def test_other_feature_width_is_refused(make_graph, tmp_path):
    model = get_model('gcn')(8, 4, 3)
    save_model(model, tmp_path / 'm', model_name='gcn', hidden_channels=4, in_channels=8, num_classes=3,
               dataset='actor')
    other = make_graph(num_features=9)
    other.name = 'cornell'
    with pytest.raises(FeatureWidthError, match=r"trained on 'actor' with 8 input features, but 'cornell' has 9"):
        predict(tmp_path / 'm', other)


def test_bad_folders_and_arguments(make_graph, tmp_path):
    model = get_model('mlp')(4, 4, 2)
    with pytest.raises(SavedModelError, match='config.json is missing'):
        load_model(tmp_path)
    save_model(model, tmp_path / 'm', model_name='mlp', hidden_channels=4, in_channels=4, num_classes=2)
    (tmp_path / 'm' / 'model.pt').write_bytes(b'garbage')
    with pytest.raises(SavedModelError, match='SHA-256 differs'):
        load_model(tmp_path / 'm')
    cfg = json.loads((tmp_path / 'm' / 'config.json').read_text())
    (tmp_path / 'm' / 'config.json').write_text(json.dumps({**cfg, 'format_version': 99}))
    with pytest.raises(SavedModelError, match='format version 99'):
        load_model(tmp_path / 'm')
    with pytest.raises(ValueError, match='JSON-serialisable'):
        save_model(model, tmp_path / 'x', model_name='mlp', hidden_channels=4, in_channels=4, num_classes=2,
                   extra={'t': torch.ones(1)})
    with pytest.raises(ValueError, match="transform must be None or 'graphite'"):
        save_model(model, tmp_path / 'x', model_name='mlp', hidden_channels=4, in_channels=4, num_classes=2,
                   transform='svd')
    with pytest.raises(KeyError, match='unknown model'):
        save_model(model, tmp_path / 'x', model_name='nope', hidden_channels=4, in_channels=4, num_classes=2)
