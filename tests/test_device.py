"""Device selection (graphite.device), the runner's ``device=`` and the GPU check script without a GPU."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from graphite import ops
from graphite.device import resolve_device

ROOT = Path(__file__).resolve().parents[1]


def test_resolve_device_names():
    assert resolve_device('cpu') == torch.device('cpu')
    assert resolve_device(' CPU ') == torch.device('cpu')
    assert resolve_device(torch.device('cpu')) == torch.device('cpu')
    want = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    assert resolve_device('auto') == want and resolve_device(None) == want


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has CUDA')
def test_cuda_without_cuda_is_one_clear_error():
    with pytest.raises(ValueError, match='CUDA is not available'):
        resolve_device('cuda')
    with pytest.raises(ValueError, match='CUDA is not available'):
        resolve_device('cuda:1')


@pytest.mark.parametrize('bad', ['gpu', 'tpu:0', 'meta'])
def test_unknown_device_is_one_clear_error(bad):
    with pytest.raises(ValueError, match='device'):
        resolve_device(bad)


def test_runner_records_the_device(make_graph):
    from graphite.cli.runner import run
    data = make_graph(num_nodes=40, num_features=8, num_edges=120, seed=3)
    params = dict(hidden_channels=8, num_layers=1, epochs=4, eval_every=2, patience=0)
    a = run('toy', 'graphite', 'graphite', params, splits='0', data=data, progress=False, device='cpu')
    b = run('toy', 'graphite', 'graphite', params, splits='0', data=data, progress=False, device='auto')
    assert a['environment']['device'] == 'cpu'
    if not torch.cuda.is_available():  # auto = cpu here: same seed, same numbers
        assert a['per_split'] == b['per_split'] and a['per_split_val'] == b['per_split_val']


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_torch_backend_half_precision(dtype):
    """PyTorch's sparse kernels lack half-precision variants: the torch backend computes in float32 and rounds
    once. Oracle: float64 on the same rounded inputs."""
    g = torch.Generator().manual_seed(5)
    ei = torch.randint(0, 30, (2, 200), generator=g)
    x, s1, s2 = torch.randn(30, 8, generator=g), torch.randn(30, generator=g), torch.randn(30, generator=g)
    w = torch.rand(200, generator=g)
    half = [t.to(dtype).requires_grad_() for t in (x, s1, s2, w)]
    full = [t.detach().double().requires_grad_() for t in half]
    out = ops.gated_spmm(ei, *half[:3], edge_weight=half[3], backend='torch')
    ref = ops.gated_spmm(ei, *full[:3], edge_weight=full[3], backend='torch')
    assert out.dtype == dtype
    torch.testing.assert_close(out.double(), ref, atol=0.02, rtol=2 ** -6)
    out.sum().backward(), ref.sum().backward()
    for a, b in zip(half, full):
        assert a.grad.dtype == dtype
        torch.testing.assert_close(a.grad.double(), b.grad, atol=0.05, rtol=2 ** -5)
    y = ops.spmm(ei, half[0].detach(), reduce='mean', backend='torch')
    torch.testing.assert_close(y.double(), ops.spmm(ei, full[0].detach(), reduce='mean', backend='torch'),
                               atol=0.02, rtol=2 ** -6)


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has CUDA')
def test_gpu_check_exits_cleanly_without_cuda():
    proc = subprocess.run([sys.executable, str(ROOT / 'benchmarks' / 'gpu_check.py')], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'no CUDA device' in json.loads(proc.stdout)['skipped']


def test_link_prediction_on_an_explicit_device_matches_the_default(tmp_path):
    """``device='cpu'`` moves the split (graphs shared between roles stay shared) and gives the default's numbers."""
    from linkpred.synthetic import make_link_graph
    from linkpred.training import split_edges, train_link_predictor
    split = split_edges(make_link_graph(120, -0.5, avg_degree=6, seed=1), seed=0)
    moved = split.to('cpu')
    assert (moved.val_graph is moved.test_graph) == (split.val_graph is split.test_graph)
    params = dict(epochs=3, eval_every=1, hidden_channels=16, metric='mrr')
    a = train_link_predictor(split, 'gcn', 'dot', params, seed=0)
    b = train_link_predictor(split, 'gcn', 'dot', params, seed=0, device='cpu')
    assert a['test'] == b['test'] and a['val'] == b['val']
    with pytest.raises(ValueError, match='device'):
        train_link_predictor(split, 'gcn', 'dot', params, seed=0, device='tpu')


def test_linkpred_cli_records_the_device(tmp_path):
    from graphite.cli.main import main
    out = tmp_path / 'r.json'
    assert main(['linkpred', '--dataset', 'synthetic', '--num-nodes', '100', '--encoder', 'gcn', '--decoder', 'dot',
                 '--seeds', '1', '--no-progress', '--device', 'cpu', '--set', 'epochs=2', '--set', 'eval_every=1',
                 '--set', 'metric=mrr', '--out', str(out)]) == 0
    assert json.loads(out.read_text())['environment']['device'] == 'cpu'
