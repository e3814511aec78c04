"""Correctness of the Triton backend of graphite.ops, run on CPU tensors under the Triton interpreter.

The interpreter must be switched on with ``TRITON_INTERPRET=1`` *before* ``triton`` is imported: the ``@triton.jit``
decorator (of our kernels and of triton's own ``tl.zeros``, ``tl.sum``, ...) reads it. In a normal pytest run,
``tests/conftest.py`` imports torch_geometric, which imports triton, so it is too late to set it here. Therefore:

* when the interpreter is active (``TRITON_INTERPRET=1 pytest tests/test_ops_triton.py``), the case tests run in
  this process;
* otherwise they skip, and :func:`test_triton_cases_in_interpreter_subprocess` runs this module again in a
  subprocess with ``TRITON_INTERPRET=1`` in its environment and fails with the subprocess output if any case fails.

The interpreter runs every kernel program in Python, so graphs are tiny and ``gradcheck`` uses ``fast_mode``;
the module takes well under a minute. Oracles are the loop references of test_ops.py.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from graphite import ops
from graphite.ops import CSR
from graphite.ops import backend as B
from test_ops import REDUCES, assert_grads_match, leaf, make_graph, ref_gated, ref_scatter, ref_spmm, tol

HAS_TRITON = importlib.util.find_spec('triton') is not None
INTERPRETED = HAS_TRITON and B.is_available('triton', torch.device('cpu'))
pytestmark = [pytest.mark.triton, pytest.mark.skipif(not HAS_TRITON, reason='triton is not installed')]
cases = pytest.mark.skipif(not INTERPRETED, reason='the Triton interpreter is not active in this process '
                           '(TRITON_INTERPRET=1 unset when triton was imported); these cases run in the subprocess '
                           'of test_triton_cases_in_interpreter_subprocess')


@pytest.mark.skipif(INTERPRETED, reason='the interpreter is active: the cases run in this process')
@pytest.mark.timeout(600)
def test_triton_cases_in_interpreter_subprocess():
    here = Path(__file__).resolve()
    env = dict(os.environ, TRITON_INTERPRET='1', OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
    env['PYTHONPATH'] = os.pathsep.join([str(here.parents[1]), env.get('PYTHONPATH', '')])
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-m', 'triton',
                           '-rs', str(here)], cwd=here.parents[1], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    passed = re.search(r'(\d+) passed', proc.stdout)
    skipped = re.search(r'(\d+) skipped', proc.stdout)
    # every case must have run (only this driver test skips itself inside the subprocess)
    assert passed and int(passed.group(1)) >= 18 and (not skipped or skipped.group(1) == '1'), proc.stdout[-3000:]


def hub_graph():
    """Small graph plus a hub (node 2) with 70 incoming edges: more than two BLOCK_E = 32 tiles per row."""
    g = torch.Generator().manual_seed(21)
    hub = torch.stack([torch.randint(0, 12, (70,), generator=g), torch.full((70,), 2)])
    return torch.cat([make_graph(seed=20), hub], 1)


@cases
@pytest.mark.parametrize('reduce', REDUCES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_triton_spmm_matches_reference(reduce, dtype):
    ei = hub_graph()
    g = torch.Generator().manual_seed(22)
    x = torch.randn(12, 5, generator=g, dtype=dtype)
    w = torch.rand(ei.size(1), generator=g, dtype=dtype) + 0.1
    xs, ws, xr, wr = leaf(x), leaf(w), leaf(x), leaf(w)
    out = ops.spmm(CSR.from_edge_index(ei, 12), xs, ws, reduce=reduce, backend='triton')
    ref = ref_spmm(ei, xr, wr, reduce)
    torch.testing.assert_close(out, ref, **tol(dtype))
    assert_grads_match(out, ref, (xs, ws), (xr, wr), dtype)


@cases
def test_triton_spmm_wide_features_and_unweighted():
    """F = 150 spans two feature blocks of 128."""
    ei = make_graph(seed=23)
    x = torch.randn(12, 150, dtype=torch.float64)
    for reduce in ('sum', 'max'):
        torch.testing.assert_close(ops.spmm(ei, x, reduce=reduce, backend='triton'), ref_spmm(ei, x, None, reduce))


@cases
@pytest.mark.parametrize('reduce', ['sum', 'max'])
def test_triton_spmm_gradcheck(reduce):
    ei = make_graph(num_nodes=8, num_edges=12, seed=24)
    g = torch.Generator().manual_seed(25)
    x = torch.randn(8, 2, generator=g, dtype=torch.float64, requires_grad=True)
    w = (torch.rand(ei.size(1), generator=g, dtype=torch.float64) + 0.1).requires_grad_()
    csr = CSR.from_edge_index(ei, 8)
    assert torch.autograd.gradcheck(lambda a, b: ops.spmm(csr, a, b, reduce=reduce, backend='triton'), (x, w),
                                    fast_mode=True)


@cases
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_triton_gated_spmm_matches_reference(dtype):
    ei = hub_graph()
    g = torch.Generator().manual_seed(26)
    x = torch.randn(12, 6, generator=g, dtype=dtype)
    s_src, s_dst = torch.randn(12, generator=g, dtype=dtype) * 3, torch.randn(12, generator=g, dtype=dtype)
    w = torch.rand(ei.size(1), generator=g, dtype=dtype)
    ins, refs = [leaf(t) for t in (x, s_src, s_dst, w)], [leaf(t) for t in (x, s_src, s_dst, w)]
    out = ops.gated_spmm(CSR.from_edge_index(ei, 12), *ins[:3], edge_weight=ins[3], tau=0.6, backend='triton')
    ref = ref_gated(ei, *refs, 0.6)
    torch.testing.assert_close(out, ref, **tol(dtype))
    assert_grads_match(out, ref, ins, refs, dtype)
    # unweighted, through an edge_index
    torch.testing.assert_close(ops.gated_spmm(ei, x, s_src, s_dst, backend='triton'),
                               ref_gated(ei, x, s_src, s_dst, None, 1.0), **tol(dtype))


@cases
def test_triton_gated_spmm_gradcheck():
    """x, s_src, s_dst, edge_weight and a tensor tau."""
    ei = make_graph(num_nodes=8, num_edges=12, seed=27)
    g = torch.Generator().manual_seed(28)
    args = (torch.randn(8, 2, generator=g, dtype=torch.float64), torch.randn(8, generator=g, dtype=torch.float64),
            torch.randn(8, generator=g, dtype=torch.float64),
            torch.rand(ei.size(1), generator=g, dtype=torch.float64), torch.tensor(0.8, dtype=torch.float64))
    args = tuple(a.requires_grad_() for a in args)
    csr = CSR.from_edge_index(ei, 8)
    assert torch.autograd.gradcheck(
        lambda a, b, c, d, t: ops.gated_spmm(csr, a, b, c, edge_weight=d, tau=t, backend='triton'), args,
        fast_mode=True)


@cases
@pytest.mark.parametrize('reduce', REDUCES)
def test_triton_scatter_and_segment(reduce):
    g = torch.Generator().manual_seed(29)
    index = torch.randint(0, 7, (45,), generator=g)
    index[index == 3] = 2
    src = torch.randn(45, 4, generator=g, dtype=torch.float64)
    a, r = leaf(src), leaf(src)
    out = ops.scatter(a, index, dim_size=9, reduce=reduce, backend='triton')
    ref = ref_scatter(r, index, 9, reduce)
    torch.testing.assert_close(out, ref)
    assert_grads_match(out, ref, (a,), (r,), torch.float64)
    sorted_index, perm = index.sort(stable=True)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.bincount(index, minlength=9).cumsum(0)])
    torch.testing.assert_close(ops.segment(src[perm], ptr, reduce=reduce, backend='triton'), ref)


@cases
@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_triton_half_precision_accumulates_in_float32(dtype):
    """A row of 300 ones sums to 300 with a float32 accumulator; a bfloat16 accumulator would stop at 256 (its
    8-bit significand: 256 + 1 rounds back to 256). Oracle: the float64 result, rounded once to ``dtype``."""
    n = 300
    ei = torch.stack([torch.arange(n), torch.zeros(n, dtype=torch.long)])
    x = torch.ones(n, 1, dtype=dtype)
    out = ops.spmm(CSR.from_edge_index(ei, n), x, reduce='sum', backend='triton')
    assert out.dtype == dtype
    assert float(out[0, 0]) == 300.0
    # gated SpMM and its backward on a random graph with a hub row, against float64 torch, rounded to dtype
    ei = hub_graph()
    g = torch.Generator().manual_seed(31)
    x64 = torch.randn(12, 20, generator=g, dtype=torch.float64)
    s_src, s_dst = torch.randn(12, generator=g, dtype=torch.float64), torch.randn(12, generator=g, dtype=torch.float64)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64)
    half = [t.to(dtype) for t in (x64, s_src, s_dst, w)]
    ins = [leaf(t) for t in half]
    refs = [leaf(t.double()) for t in half]  # the same (rounded) inputs, exact arithmetic
    out = ops.gated_spmm(CSR.from_edge_index(ei, 12), *ins[:3], edge_weight=ins[3], tau=0.7, backend='triton')
    ref = ops.gated_spmm(ei, *refs[:3], edge_weight=refs[3], tau=0.7, backend='torch')
    assert out.dtype == dtype
    # one rounding of the result (plus the rounding of the gate's inputs): a few units of the last place
    torch.testing.assert_close(out.double(), ref, atol=0.05, rtol=2 ** -6)
    gout = torch.randn(out.shape, generator=g, dtype=torch.float64)
    got = torch.autograd.grad(out, ins, gout.to(dtype))
    want = torch.autograd.grad(ref, refs, gout.to(dtype).double())
    for a, b in zip(got, want):
        assert a.dtype == dtype
        torch.testing.assert_close(a.double(), b, atol=0.1, rtol=2 ** -5)
