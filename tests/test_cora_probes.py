"""experiments/cora_probes.py: its base variant is `graphite run`'s best-validation checkpoint (the oracle), and
every probe row is a per-split validation/test record."""
import importlib.util
import json
import os

import numpy as np
import pytest
import torch
import yaml

from graphite.cli.runner import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS = {'hidden_channels': 8, 'epochs': 6, 'patience': 0, 'lr': 0.01, 'num_layers': 2, 'feature_edges': False}


@pytest.fixture(scope='module')
def probes():
    spec = importlib.util.spec_from_file_location('cora_probes', os.path.join(ROOT, 'experiments', 'cora_probes.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _toy_setup(make_graph, tmp_path, monkeypatch, num_splits, seed):
    """A toy graph served as 'cora', a config of PARAMS for it, and the probes' output path."""
    import graphite.datasets
    toy = make_graph(num_nodes=40, num_features=10, num_edges=100, density=0.3, num_splits=num_splits, seed=seed)
    monkeypatch.setattr(graphite.datasets, 'load', lambda name, **kw: toy)
    cfg = tmp_path / 'c.yaml'
    cfg.write_text(yaml.safe_dump({'dataset': 'cora', 'model': 'graphite', 'transform': None, 'params': PARAMS}))
    return toy, cfg, tmp_path / 'p.json'


def test_probe_rows_match_graphite_run(probes, make_graph, tmp_path, monkeypatch):
    toy, cfg, out = _toy_setup(make_graph, tmp_path, monkeypatch, num_splits=3, seed=1)
    assert probes.main(['--config', str(cfg), '--seed', '5', '--splits', '0-2', '--rates', '0', '0.5',
                        '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    ref = run('cora', 'graphite', None, dict(PARAMS), splits='0-2', seed=5, progress=False, data=toy)
    rows = {name: {r['variant']: r for r in rs} for name, rs in res['probes'].items()}
    for base in (rows['correct-smooth']['base model'], rows['label-input']['label input, mask rate 0.0'],
                 rows['select-by-loss']['best validation accuracy']):
        assert base['val'] == pytest.approx(ref['per_split_val']) and base['test'] == pytest.approx(ref['per_split'])
    assert len(rows['correct-smooth']) == 1 + 13 * 4  # the base model and the C&S grid
    for rs in rows.values():
        for r in rs.values():
            assert len(r['val']) == len(r['test']) == 3 and all(0 <= v <= 1 for v in r['val'] + r['test'])
    means = [np.mean(r['val']) for r in res['probes']['correct-smooth']]
    assert means == sorted(means, reverse=True)  # rows are ranked by validation, the only thing a probe decides on


def test_seed_ensemble_and_decay_groups_match_graphite_run(probes, make_graph, tmp_path, monkeypatch):
    toy, cfg, out = _toy_setup(make_graph, tmp_path, monkeypatch, num_splits=2, seed=2)
    assert probes.main(['--config', str(cfg), '--seed', '3', '--splits', '0-1', '--probes',
                        'seed-ensemble,weight-decay-groups', '--members', '2', '--decays', '0.0005:0.0005', '0.5:0',
                        '--out', str(out)]) == 0
    rows = {name: {r['variant']: r for r in rs} for name, rs in json.loads(out.read_text())['probes'].items()}
    ens, wd = rows['seed-ensemble'], rows['weight-decay-groups']
    # member m of split s is graphite run's split s with base seed 3 + 10007 m
    soft = {}  # (member, split) -> softmax of graphite run's best-validation model

    def keep(m):
        def on_model(model, info):
            with torch.no_grad():
                soft[m, info['split']] = torch.softmax(model(toy.x.float(), toy.edge_index), -1)
        return on_model
    refs = [run('cora', 'graphite', None, dict(PARAMS), splits='0-1', seed=3 + 10007 * m, progress=False, data=toy,
                on_model=keep(m)) for m in range(2)]
    pair = [((soft[0, s] + soft[1, s]).argmax(-1)[toy.val_mask[:, s]] == toy.y[toy.val_mask[:, s]]).float().mean()
            for s in range(2)]
    assert ens['ensemble of 2 seed(s)']['val'] == pytest.approx([float(v) for v in pair])
    assert ens['ensemble of 1 seed(s)']['val'] == pytest.approx(refs[0]['per_split_val'])
    assert ens['ensemble of 1 seed(s)']['test'] == pytest.approx(refs[0]['per_split'])
    assert ens['single models (mean over members)']['val'] == pytest.approx(
        np.mean([r['per_split_val'] for r in refs], 0))
    assert set(ens) == {'single models (mean over members)', 'ensemble of 1 seed(s)', 'ensemble of 2 seed(s)'}
    # the config's one decay written as two equal groups is the same optimiser: graphite run's numbers (the oracle,
    # refs[0]: base seed 3)
    base = refs[0]
    for name in ('one decay 0.0005', 'decay 0.0005 on lin_in, 0.0005 on the rest'):
        assert wd[name]['val'] == pytest.approx(base['per_split_val'])
        assert wd[name]['test'] == pytest.approx(base['per_split'])
    assert 'decay 0.5 on lin_in, 0 on the rest' in wd


def test_probes_train_on_the_graph_graphite_run_builds(probes, make_graph, tmp_path, monkeypatch):
    """A config with the GRAPHITE transform and feature edges on: the probes' base row is graphite run's result on the
    transformed graph (the oracle), not a run on the original graph."""
    toy, cfg, out = _toy_setup(make_graph, tmp_path, monkeypatch, num_splits=2, seed=4)
    params = {**PARAMS, 'feature_edges': True, 'transform_options': {'feature_init': 'zeros'}}
    cfg.write_text(yaml.safe_dump({'dataset': 'cora', 'model': 'graphite', 'transform': 'graphite',
                                   'params': params}))
    assert probes.main(['--config', str(cfg), '--seed', '2', '--splits', '0-1', '--probes', 'select-by-loss',
                        '--out', str(out)]) == 0
    row = {r['variant']: r for r in json.loads(out.read_text())['probes']['select-by-loss']}['best validation accuracy']
    ref = run('cora', 'graphite', 'graphite', dict(params), splits='0-1', seed=2, progress=False, data=toy)
    plain = run('cora', 'graphite', None, dict(PARAMS), splits='0-1', seed=2, progress=False, data=toy)
    assert row['val'] == pytest.approx(ref['per_split_val']) and row['test'] == pytest.approx(ref['per_split'])
    assert ref['per_split_val'] != plain['per_split_val']  # the transform made a difference the oracle can see


def test_held_out_ensemble_scores_on_the_half_no_choice_saw(probes, make_graph, tmp_path, monkeypatch):
    toy, cfg, out = _toy_setup(make_graph, tmp_path, monkeypatch, num_splits=2, seed=5)
    va = toy.val_mask[:, 1].nonzero().view(-1)
    a, b = probes._val_halves(va, 1)
    assert sorted(torch.cat([a, b]).tolist()) == va.tolist() and abs(a.numel() - b.numel()) <= 1
    assert torch.equal(probes._val_halves(va, 1)[0], a)  # fixed per split

    def rows(probe, argv_out):
        assert probes.main(['--config', str(cfg), '--seed', '3', '--splits', '0-1', '--probes', probe, '--members',
                            '2', '--out', str(argv_out)]) == 0
        return {r['variant']: r for r in json.loads(argv_out.read_text())['probes'][probe]}
    held = rows('held-out-ensemble', tmp_path / 'h.json')
    where = ', scored on validation half B'
    assert set(held) == {f'single models (mean over members){where}', f'ensemble of 1 seed(s){where}',
                         f'ensemble of 2 seed(s){where}'}
    # with both halves the whole validation set, the held-out rows are seed-ensemble's (checked against graphite run)
    monkeypatch.setattr(probes, '_val_halves', lambda va, s: (va, va))
    full = rows('held-out-ensemble', tmp_path / 'f.json')
    plain = rows('seed-ensemble', tmp_path / 's.json')
    for k in ('single models (mean over members)', 'ensemble of 1 seed(s)', 'ensemble of 2 seed(s)'):
        assert full[k + where]['val'] == pytest.approx(plain[k]['val'])
        assert full[k + where]['test'] == pytest.approx(plain[k]['test'])


def test_held_out_ema_is_graphite_runs_moving_average_scored_on_half_b(probes, make_graph, tmp_path, monkeypatch):
    """With both halves the whole validation set, each ``held-out-ema`` row is ``graphite run --set ema_decay=d``
    (the oracle, itself checked against a hand-kept average in test_runner); with real halves the rows differ."""
    toy, cfg, out = _toy_setup(make_graph, tmp_path, monkeypatch, num_splits=2, seed=6)

    def rows(argv_out):
        assert probes.main(['--config', str(cfg), '--seed', '4', '--splits', '0-1', '--probes', 'held-out-ema',
                            '--ema-decays', '0', '0.8', '--out', str(argv_out)]) == 0
        return {r['variant']: r for r in json.loads(argv_out.read_text())['probes']['held-out-ema']}
    held = rows(tmp_path / 'h.json')
    monkeypatch.setattr(probes, '_val_halves', lambda va, s: (va, va))
    full = rows(tmp_path / 'f.json')
    for d in (0.0, 0.8):
        name = f'ema_decay {d:g}, scored on validation half B'
        ref = run('cora', 'graphite', None, {**PARAMS, 'ema_decay': d}, splits='0-1', seed=4, progress=False, data=toy)
        assert full[name]['val'] == pytest.approx(ref['per_split_val']) and full[name]['test'] == pytest.approx(
            ref['per_split'])
        assert held[name]['val'] != full[name]['val']


def test_probes_train_with_the_configs_label_smoothing_and_weight_average(probes, make_graph, tmp_path, monkeypatch):
    """A config with ``label_smoothing`` and ``ema_decay``: the probes' base row is graphite run's result with both
    (the oracle), which differs from the run without them."""
    toy, cfg, out = _toy_setup(make_graph, tmp_path, monkeypatch, num_splits=2, seed=7)
    params = {**PARAMS, 'epochs': 20, 'lr': 0.05, 'label_smoothing': 0.9, 'ema_decay': 0.5}
    cfg.write_text(yaml.safe_dump({'dataset': 'cora', 'model': 'graphite', 'transform': None, 'params': params}))
    assert probes.main(['--config', str(cfg), '--seed', '1', '--splits', '0-1', '--probes', 'select-by-loss',
                        '--out', str(out)]) == 0
    row = {r['variant']: r for r in json.loads(out.read_text())['probes']['select-by-loss']}['best validation accuracy']
    ref = run('cora', 'graphite', None, dict(params), splits='0-1', seed=1, progress=False, data=toy)
    assert row['val'] == pytest.approx(ref['per_split_val']) and row['test'] == pytest.approx(ref['per_split'])
    for key in ('label_smoothing', 'ema_decay'):  # each option changes the oracle's numbers, so the row saw both
        other = run('cora', 'graphite', None, {**params, key: 0.0}, splits='0-1', seed=1, progress=False, data=toy)
        assert (other['per_split_val'], other['per_split']) != (ref['per_split_val'], ref['per_split'])
    with pytest.raises(ValueError, match='label_smoothing must be'):
        cfg.write_text(yaml.safe_dump({'dataset': 'cora', 'model': 'graphite', 'transform': None,
                                       'params': {**params, 'label_smoothing': 1.0}}))
        probes.main(['--config', str(cfg), '--splits', '0', '--probes', 'select-by-loss'])
