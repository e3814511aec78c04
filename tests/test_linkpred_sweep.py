"""experiments/linkpred_sweep.py: generator options (--graph) and the generator-score oracle row (--oracle)."""
import csv
import importlib.util
import os

import pytest

from linkpred.synthetic import make_link_graph

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def sweep():
    spec = importlib.util.spec_from_file_location('linkpred_sweep', os.path.join(ROOT, 'experiments',
                                                                                 'linkpred_sweep.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_oracle_sees_the_band(sweep):
    params = {}
    base = sweep.oracle_metrics(make_link_graph(1000, 1.0, profile='gated', seed=0), 'gated', params)
    sharp = sweep.oracle_metrics(make_link_graph(1000, 1.0, profile='gated', seed=0, strength=64.0,
                                                 oversample=40.0), 'gated', params)
    flat = sweep.oracle_metrics(make_link_graph(1000, 0.0, profile='gated', seed=0), 'gated', params)
    mono = sweep.oracle_metrics(make_link_graph(1000, 1.0, seed=0), 'monotone', params)
    assert abs(flat['auc'] - 0.5) < 0.05 and flat['mrr'] < 0.08      # S = 0: no feature signal, chance is ~0.05
    assert base['auc'] > 0.75 and base['mrr'] > 0.1                   # default gated graph: a weak band
    assert sharp['auc'] > 0.95 and sharp['mrr'] > 0.5                 # sharper, more selective band
    assert mono['auc'] > 0.9


def test_driver_graph_options_and_oracle(sweep, tmp_path):
    out = str(tmp_path / 'sw')
    argv = ['--out', out, '--similarities=1.0', '--num-nodes', '200', '--profile', 'gated', '--encoders', 'none',
            '--decoders', 'dot', '--set', 'epochs=2', '--set', 'eval_every=1', '--graph', 'num_features=8',
            '--graph', 'strength=64', '--oracle']
    assert sweep.main(argv) == 0
    with open(os.path.join(out, 'sweep.csv')) as f:
        rows = list(csv.DictReader(f))
    assert [r['model'] for r in rows] == ['none-dot', 'oracle']
    md = open(os.path.join(out, 'sweep.md')).read()
    assert 'num_features=8, strength=64)' in md and '| oracle |' in md
    assert sweep.main(argv) == 0                                      # resumes from cells.jsonl: nothing re-run
    assert len(open(os.path.join(out, 'cells.jsonl')).read().splitlines()) == 2
