"""graphite on a CUDA device: every graphite.ops backend that runs there and every model, against the CPU.

Skipped without a CUDA device (CI has none); ``benchmarks/gpu_session.sh`` runs it on a GPU machine. Oracles: the
loop references of test_ops.py in float64 on the CPU for the kernels, and the same model with the same weights on the
CPU for the models.
"""
from __future__ import annotations

import copy
import os

import pytest
import torch

from graphite import ops
from graphite.nn import MODELS
from graphite.ops import CSR
from graphite.ops import backend as B
from test_ops import REDUCES, make_graph, ref_gated, ref_spmm

#: the device under test: CUDA; ``GRAPHITE_TEST_DEVICE=cpu`` rehearses this module on the CPU (it then compares the
#: CPU with itself, which checks the test code, not a device)
CUDA = torch.device(os.environ.get('GRAPHITE_TEST_DEVICE', 'cuda'))
pytestmark = pytest.mark.skipif(CUDA.type == 'cuda' and not torch.cuda.is_available(), reason='no CUDA device')


def _backends():
    if CUDA.type == 'cuda' and not torch.cuda.is_available():
        return ['torch']
    return list(B.available_backends(CUDA))


def _grads(out, inputs, seed=3):
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return torch.autograd.grad(out, inputs, g.to(out.device, out.dtype))


def test_auto_backend_on_cuda_is_triton_when_installed():
    if CUDA.type != 'cuda':
        pytest.skip('automatic choice on CUDA only')
    expected = 'triton' if 'triton' in _backends() else 'torch'
    assert B.resolve('gated_spmm', 'sum', CUDA) == expected


@pytest.mark.parametrize('backend', _backends())
@pytest.mark.parametrize('reduce', REDUCES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_spmm_on_cuda_matches_cpu_reference(backend, reduce, dtype):
    ei = make_graph(seed=40)
    g = torch.Generator().manual_seed(41)
    x = torch.randn(12, 7, generator=g, dtype=torch.float64)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.1
    xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()
    ref = ref_spmm(ei, xr, wr, reduce)
    xc = x.to(CUDA, dtype).requires_grad_()
    wc = w.to(CUDA, dtype).requires_grad_()
    out = ops.spmm(CSR.from_edge_index(ei.to(CUDA), 12), xc, wc, reduce=reduce, backend=backend)
    assert out.device.type == CUDA.type and out.dtype == dtype
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-9, rtol=1e-9)
    torch.testing.assert_close(out.double().cpu(), ref.detach(), **tol)
    for a, b in zip(_grads(out, (xc, wc)), _grads(ref, (xr, wr))):
        torch.testing.assert_close(a.double().cpu(), b, **tol)


@pytest.mark.parametrize('backend', _backends())
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_gated_spmm_on_cuda_matches_float64_cpu(backend, dtype):
    ei = make_graph(num_nodes=40, num_edges=400, seed=42)
    g = torch.Generator().manual_seed(43)
    x = torch.randn(40, 33, generator=g, dtype=torch.float64)
    s_src, s_dst = torch.randn(40, generator=g, dtype=torch.float64), torch.randn(40, generator=g, dtype=torch.float64)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64)
    rounded = [t.to(dtype).double() for t in (x, s_src, s_dst, w)]  # the same inputs the device sees
    refs = [t.clone().requires_grad_() for t in rounded]
    ref = ref_gated(ei, *refs, 0.8)
    ins = [t.to(CUDA, dtype).requires_grad_() for t in rounded]
    out = ops.gated_spmm(CSR.from_edge_index(ei.to(CUDA), 40), *ins[:3], edge_weight=ins[3], tau=0.8, backend=backend)
    assert out.dtype == dtype
    tol = dict(atol=1e-4, rtol=1e-4) if dtype == torch.float32 else dict(atol=0.05, rtol=2 ** -6)
    torch.testing.assert_close(out.double().cpu(), ref.detach(), **tol)
    gtol = tol if dtype == torch.float32 else dict(atol=0.1, rtol=2 ** -5)
    for a, b in zip(_grads(out, ins), _grads(ref, refs)):
        torch.testing.assert_close(a.double().cpu(), b, **gtol)


@pytest.mark.parametrize('backend', _backends())
@pytest.mark.parametrize('reduce', REDUCES)
def test_scatter_on_cuda_matches_cpu(backend, reduce):
    g = torch.Generator().manual_seed(44)
    index = torch.randint(0, 9, (200,), generator=g)
    src = torch.randn(200, 5, generator=g, dtype=torch.float64)
    want = ops.scatter(src, index, dim_size=11, reduce=reduce, backend='torch')
    got = ops.scatter(src.to(CUDA), index.to(CUDA), dim_size=11, reduce=reduce, backend=backend)
    torch.testing.assert_close(got.cpu(), want)


@pytest.mark.parametrize('name', sorted(MODELS))
def test_every_model_on_cuda_matches_cpu(name, make_graph):
    from graphite import Graphite
    data = Graphite()(make_graph(num_nodes=60, num_features=10, num_edges=240, seed=45))
    torch.manual_seed(0)
    model = MODELS[name](data.num_features, 16, 3).double().eval()
    gpu = copy.deepcopy(model).to(CUDA)
    x = data.x.double()
    want = model(x, data.edge_index, data.edge_type)
    got = gpu(x.to(CUDA), data.edge_index.to(CUDA), data.edge_type.to(CUDA))
    assert got.device.type == CUDA.type
    torch.testing.assert_close(got.cpu(), want, atol=1e-8, rtol=1e-7)
    # the gradients of a loss (eval mode: no dropout) are the CPU's
    want_grads = torch.autograd.grad(want.square().mean(), list(model.parameters()), allow_unused=True)
    got_grads = torch.autograd.grad(got.square().mean(), list(gpu.parameters()), allow_unused=True)
    for a, b in zip(got_grads, want_grads):
        if b is None:
            assert a is None
        else:
            torch.testing.assert_close(a.cpu(), b, atol=1e-8, rtol=1e-6)


def test_runner_trains_on_cuda(make_graph):
    from graphite.cli.runner import run
    data = make_graph(num_nodes=80, num_features=12, num_edges=300, seed=46)
    params = dict(hidden_channels=16, num_layers=2, epochs=15, eval_every=5, patience=0, lr=0.01)
    gpu = run('toy', 'graphite', 'graphite', params, splits='0', data=data, progress=False, device=str(CUDA))
    assert gpu['environment']['device'].startswith(CUDA.type)
    assert gpu['environment']['device_name'] or CUDA.type == 'cpu'
    cpu = run('toy', 'graphite', 'graphite', params, splits='0', data=data, progress=False, device='cpu')
    # same initial weights; dropout masks differ between devices, so only the metric's range is compared
    assert 0.0 <= gpu['per_split'][0] <= 1.0 and len(gpu['per_split']) == len(cpu['per_split']) == 1
