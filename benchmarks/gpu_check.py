"""GPU check of graphite: kernels' numerics and speed on a CUDA device, and GRAPHITE training on it.

One script, one JSON summary (stdout and ``--out``). On a machine without a CUDA device it prints a clear message
and exits 0 (``--device cpu`` rehearses every step on the CPU with small graphs, which is how it is tested).

1. **Numerics**: ``graphite.ops.gated_spmm`` forward and backward (gradients to ``x``, ``s_src``, ``s_dst``,
   ``w``) with every backend that runs on the device (Triton, torch), in float32 and bfloat16, on the
   GRAPHITE-transformed Actor graph and on a synthetic graph (``--nodes``, mean degree ``--degree``), each against
   float64 on the CPU computed from the same (rounded) inputs. Reported: ``max |got - want| / max |want|`` per
   tensor.
2. **Speed**: gated aggregation forward + backward at ``--hidden`` on both graphs: graphite.ops (Triton and torch
   backends) against the PyG-style gather/scale/scatter path (``[E, H]`` messages) and ``torch.sparse`` CSR with
   its own autograd. Median of ``--repeat`` timed runs after warm-up, synchronised. Achieved bandwidth =
   minimal bytes (every index, weight, score and ``[N, H]`` operand touched once per pass; formula in
   :func:`minimal_bytes`) / time, as a fraction of a device-to-device copy measured in the same run.
3. **Training**: GRAPHITE on Actor split 0 with the repository's CPU config on the device (``--train``).

Usage::

    python benchmarks/gpu_check.py --out gpu_check.json                 # on a GPU machine
    python benchmarks/gpu_check.py --device cpu --nodes 20000 --no-actor  # rehearsal on a CPU
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graphite import ops  # noqa: E402
from graphite.ops import CSR  # noqa: E402
from graphite.ops import backend as B  # noqa: E402
# benchmarks/ops.py: the same graphs and the PyG-style gather/scatter path
from ops import actor_graph, naive_gated, synthetic_graph  # noqa: E402

warnings.filterwarnings('ignore', message='.*[Ss]parse.*')


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], object], device: torch.device, repeat: int, warmup: int = 3) -> float:
    """Median seconds of ``fn`` (synchronised before and after each run)."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeat):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def copy_bandwidth(device: torch.device, nbytes: int, repeat: int) -> float:
    """Bytes per second of a device-to-device copy (bytes read + bytes written)."""
    a = torch.empty(nbytes // 4, dtype=torch.float32, device=device).uniform_()
    b = torch.empty_like(a)
    t = timed(lambda: b.copy_(a), device, repeat)
    return 2 * a.numel() * 4 / t


def minimal_bytes(n: int, e: int, h: int, elem: int) -> int:
    """Minimal memory traffic of gated SpMM forward + backward: each operand touched once per pass.

    Forward: rowptr, col (int64), w, both scores, ``x`` read, ``out`` written. Backward: ``grad_x`` (the forward's
    traffic on the transpose plus its entry permutation), the per-edge gradient pass (row, col, w, scores, ``grad``
    and ``x`` read, ``dz`` and ``dw`` written) and two score row-sums (``dz`` read, ``[N]`` written, one permutation).
    """
    idx = 8
    fwd = (n + 1) * idx + e * idx + e * elem + 2 * n * elem + 2 * n * h * elem
    grad_x = fwd + e * idx
    edge = 2 * e * idx + e * elem + 2 * n * elem + 2 * n * h * elem + 2 * e * elem
    rowsums = 2 * (e * elem + n * elem) + e * idx
    return fwd + grad_x + edge + rowsums


# ------------------------------------------------------------------------------------------------------ graphs

def inputs(n: int, e: int, h: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, h, generator=g, dtype=torch.float64), 0.5 * torch.randn(n, generator=g, dtype=torch.float64),
            0.5 * torch.randn(n, generator=g, dtype=torch.float64), torch.rand(e, generator=g, dtype=torch.float64),
            torch.randn(n, h, generator=g, dtype=torch.float64))


# ---------------------------------------------------------------------------------------------------- numerics

def _fwd_bwd(csr, tensors, grad, backend):
    leaves = [t.detach().requires_grad_() for t in tensors]
    out = ops.gated_spmm(csr, leaves[0], leaves[1], leaves[2], edge_weight=leaves[3], tau=0.8, backend=backend)
    grads = torch.autograd.grad(out, leaves, grad)
    return [out.detach()] + list(grads)


def numerics(edge_index, n, h, device, backends) -> List[Dict]:
    e = edge_index.size(1)
    x, s_src, s_dst, w, grad = inputs(n, e, h)
    rows = []
    csr_cpu = CSR.from_edge_index(edge_index, n)
    csr_dev = CSR.from_edge_index(edge_index.to(device), n)
    names = ['out', 'grad_x', 'grad_s_src', 'grad_s_dst', 'grad_w']
    for dtype in (torch.float32, torch.bfloat16):
        rounded = [t.to(dtype).double() for t in (x, s_src, s_dst, w, grad)]
        want = _fwd_bwd(csr_cpu, rounded[:4], rounded[4], 'torch')
        for backend in backends:
            got = _fwd_bwd(csr_dev, [t.to(device, dtype) for t in rounded[:4]], rounded[4].to(device, dtype), backend)
            err = {k: float((g.double().cpu() - w_).abs().max() / w_.abs().max().clamp_min(1e-30))
                   for k, g, w_ in zip(names, got, want)}
            limit = 1e-4 if dtype == torch.float32 else 2e-2
            rows.append({'backend': backend, 'dtype': str(dtype).replace('torch.', ''), 'hidden': h,
                         'rel_err': err, 'limit': limit, 'ok': all(v <= limit for v in err.values())})
            print(f'  numerics {backend:6s} {rows[-1]["dtype"]:8s}: max rel err {max(err.values()):.2e} '
                  f'({"ok" if rows[-1]["ok"] else "FAIL"})', file=sys.stderr)
    return rows


# ------------------------------------------------------------------------------------------------------- speed

def torch_sparse_gated(csr: CSR, x, s_src, s_dst, w, tau):
    """``torch.sparse`` CSR with PyTorch's own autograd: gate as an ``[E]`` vector, then ``sparse.mm``."""
    gate = torch.tanh((s_dst.index_select(0, csr.row) + s_src.index_select(0, csr.col)) / tau) * w[csr.perm]
    return torch.sparse.mm(csr.sparse(gate), x)


def speed(name, edge_index, n, hidden, device, backends, repeat, copy_bw, max_edge_bytes) -> List[Dict]:
    rows = []
    e = edge_index.size(1)
    ei = edge_index.to(device)
    csr = CSR.from_edge_index(ei, n)
    csr.transpose()
    for h in hidden:
        x, s_src, s_dst, w, grad = (t.to(device, torch.float32) for t in inputs(n, e, h))
        leaves = [t.requires_grad_() for t in (x, s_src, s_dst, w)]

        def fb(f):
            def run():
                for t in leaves:
                    t.grad = None
                f().backward(grad)
            return run
        cands: Dict[str, Callable] = {
            f'graphite[{b}]': fb(lambda b=b: ops.gated_spmm(csr, *leaves[:3], edge_weight=leaves[3], tau=0.8,
                                                            backend=b)) for b in backends}
        if e * h * 4 <= max_edge_bytes:
            cands['pyg gather/scatter'] = fb(lambda: naive_gated(ei, *leaves, 0.8, n))
        cands['torch.sparse csr'] = fb(lambda: torch_sparse_gated(csr, *leaves, 0.8))
        row = {'graph': name, 'nodes': n, 'edges': e, 'hidden': h, 'ms': {}, 'errors': {}}
        for k, fn in cands.items():
            try:
                row['ms'][k] = 1e3 * timed(fn, device, repeat)
            except Exception as exc:  # noqa: BLE001 - a path that cannot run here is reported, not fatal
                row['errors'][k] = f'{type(exc).__name__}: {str(exc).splitlines()[0][:200]}'
        nbytes = minimal_bytes(n, e, h, 4)
        row['minimal_bytes'] = nbytes
        row['bandwidth_fraction'] = {k: nbytes / (ms / 1e3) / copy_bw for k, ms in row['ms'].items()}
        ours = [v for k, v in row['ms'].items() if k.startswith('graphite')]
        best_torch = [v for k, v in row['ms'].items() if not k.startswith('graphite[triton')]
        if 'graphite[triton]' in row['ms'] and best_torch:
            row['triton_speedup_vs_best_torch_path'] = min(best_torch) / row['ms']['graphite[triton]']
        if ours and 'pyg gather/scatter' in row['ms']:
            row['speedup_vs_pyg'] = row['ms']['pyg gather/scatter'] / min(ours)
        print(f'  speed {name} H={h}: ' + ', '.join(f'{k} {v:.2f} ms' for k, v in row['ms'].items())
              + (f"; errors: {row['errors']}" if row['errors'] else ''), file=sys.stderr)
        rows.append(row)
        if device.type == 'cuda':
            torch.cuda.empty_cache()
    return rows


# ----------------------------------------------------------------------------------------------------- training

def train_actor(device) -> Dict:
    from graphite.cli.config import load_config
    from graphite.cli.runner import run
    cfg = load_config('actor', 'graphite')
    t0 = time.time()
    result = run('actor', 'graphite', cfg['transform'], cfg['params'], splits='0', progress=False, device=device)
    return {'config': cfg['params'], 'split': 0, 'test_accuracy': result['per_split'][0],
            'val_accuracy': result['per_split_val'][0], 'seconds': time.time() - t0,
            'steps': result['steps'][0], 'device': result['environment']['device']}


def environment(device) -> Dict:
    env = {'torch': torch.__version__, 'cuda': torch.version.cuda, 'device': str(device),
           'backends_on_device': list(B.available_backends(device)), 'command': ' '.join(sys.argv)}
    try:
        import triton
        env['triton'] = triton.__version__
    except Exception:  # noqa: BLE001
        env['triton'] = None
    if device.type == 'cuda':
        p = torch.cuda.get_device_properties(device)
        env.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2 ** 30, 1), sm_count=p.multi_processor_count)
    env['date'] = time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())
    return env


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda', help='cuda (default) or cpu (rehearsal)')
    p.add_argument('--nodes', type=int, default=1_000_000, help='synthetic graph size (default 1M)')
    p.add_argument('--degree', type=int, default=10, help='synthetic mean degree (default 10)')
    p.add_argument('--hidden', default='64,128', help='hidden sizes timed (default 64,128)')
    p.add_argument('--repeat', type=int, default=20)
    p.add_argument('--copy-mib', type=int, default=1024, help='size of the copy used for the bandwidth reference')
    p.add_argument('--max-edge-gb', type=float, default=16.0, help='skip the [E, H] path above this size')
    p.add_argument('--no-actor', action='store_true', help='skip the Actor graph (needs GRAPHITE_DATA)')
    p.add_argument('--train', action='store_true', help='also train GRAPHITE on Actor split 0 on the device')
    p.add_argument('--out', default=None, help='write the JSON summary here too')
    args = p.parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        print(json.dumps({'skipped': 'no CUDA device: nothing to check (use --device cpu to rehearse)'}))
        return 0
    device = torch.device(args.device)
    t0 = time.time()
    backends = [b for b in ('triton', 'torch') if b in B.available_backends(device)]
    summary: Dict = {'environment': environment(device), 'numerics': {}, 'speed': [], 'errors': {}}
    print(f"gpu_check on {summary['environment'].get('gpu', device)}; backends {backends}", file=sys.stderr)
    copy_bw = copy_bandwidth(device, args.copy_mib * 2 ** 20, args.repeat)
    summary['copy_bandwidth_gb_s'] = copy_bw / 1e9
    graphs = []
    if not args.no_actor:
        graphs.append(('actor', lambda: actor_graph(None)))
    graphs.append((f'synthetic-{args.nodes}', lambda: synthetic_graph(args.nodes, args.nodes * args.degree)))
    hidden = [int(h) for h in args.hidden.split(',')]

    def save():  # after every part, so a run stopped by a time limit keeps what it measured
        if args.out:
            tmp = args.out + '.tmp'
            with open(tmp, 'w') as f:
                f.write(json.dumps(summary, indent=1, default=str) + '\n')
            os.replace(tmp, args.out)
    for name, build in graphs:
        try:
            edge_index, n = build()
            summary['numerics'][name] = numerics(edge_index, n, 64, device, backends)
            summary['speed'] += speed(name, edge_index, n, hidden, device, backends, args.repeat, copy_bw,
                                      args.max_edge_gb * 1e9)
        except Exception as exc:  # noqa: BLE001 - report and go on with the next part
            summary['errors'][name] = f'{type(exc).__name__}: {exc}'
            print(f'  {name} failed: {exc!r}', file=sys.stderr)
        save()
    if args.train:
        try:
            summary['train_actor_split0'] = train_actor(device)
        except Exception as exc:  # noqa: BLE001
            summary['errors']['train_actor_split0'] = f'{type(exc).__name__}: {exc}'
    summary['numerics_ok'] = all(r['ok'] for rows in summary['numerics'].values() for r in rows)
    summary['seconds'] = time.time() - t0
    save()
    print(json.dumps(summary, indent=1, default=str))
    return 0 if summary['numerics_ok'] and not summary['errors'] else 1


if __name__ == '__main__':
    sys.exit(main())
