"""benchmarks/scale.py end to end on a tiny graph (one JSON line per setting)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_scale_benchmark_prints_one_line_per_setting():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'benchmarks', 'scale.py'), '--nodes', '2000',
                           '--epochs', '1', '--threads', '1', '--batch-size', '256'], capture_output=True, text=True,
                          timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows[0]['setting'] == 'memcpy' and rows[0]['gbps'] > 0
    by = {r['setting']: r for r in rows[1:]}
    assert set(by) == {'transform', 'full', 'faconv', 'minibatch', 'spmm'}
    assert by['transform']['transform_seconds'] > 0 and by['transform']['total_nodes'] > 2000
    for s in ('full', 'faconv', 'minibatch'):
        assert by[s]['seconds_per_epoch'] > 0 and by[s]['edges_per_second'] > 0 and by[s]['peak_rss_gb'] > 0
    assert 0 < by['spmm']['fraction_of_memcpy'] < 5
