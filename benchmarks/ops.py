"""Benchmark of graphite.ops against the naive message-passing implementation, native torch ops and torch-scatter.

Graphs:

* ``actor``: the GRAPHITE-transformed Actor graph the model trains on -- ``graphite.Graphite()`` applied to Actor
  (7,600 graph nodes + 932 feature nodes), made undirected and given one self-loop per node (8,532 nodes,
  143,897 directed edges). Needs the raw files (``GRAPHITE_DATA``, default ``/work/shared/data``); they are read
  through ``graphite.datasets.load`` into a private cache (``--cache``), never written next to the mirror.
* ``synthetic``: 100,000 nodes and 1,000,000 uniformly random directed edges (seeded).

Measurements (median wall-clock milliseconds over ``--repeat`` runs after warm-up, all in one process, so the
ratios compare like with like):

1. gated aggregation ``out[i] = sum_j tanh((s_dst[i] + s_src[j]) / tau) w_ji x[j]``, forward + backward
   (gradients to ``x``, ``s_src``, ``s_dst``, ``w``), for H in ``--hidden``: ``graphite.ops.gated_spmm``
   (automatic backend, CSR built once) against the naive PyG ``MessagePassing`` formulation that gathers
   ``x[src]`` into an ``[E, H]`` tensor, scales it and scatters it back with ``torch_geometric.utils.scatter``;
   and against the ``torch_scatter`` backend when it is installed.
2. ``scatter`` (unsorted index), ``segment`` (sorted rows) and ``spmm`` (weighted) for sum / mean / max at
   H = ``--op-hidden``: ``graphite.ops`` (automatic backend) against the fastest native torch op for the same
   reduction (every candidate is timed and the best is reported) and against torch-scatter.

Ratios are ``baseline / graphite.ops`` (above 1: graphite.ops is faster).

Usage::

    python benchmarks/ops.py                      # both graphs, 2 threads
    python benchmarks/ops.py --graphs actor --hidden 128 --repeat 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphite import ops  # noqa: E402
from graphite.ops import CSR  # noqa: E402
from graphite.ops import backend as B  # noqa: E402

warnings.filterwarnings('ignore', message='.*[Ss]parse.*')

try:
    import torch_scatter
except Exception:  # noqa: BLE001 - optional
    torch_scatter = None


def compare(candidates: Dict[str, Callable[[], object]], repeat: int, warmup: int = 2) -> Dict[str, float]:
    """Median milliseconds of each candidate, timed round-robin (one run of each per round) so that load from
    other processes and frequency drift hit all candidates alike."""
    for _ in range(warmup):
        for fn in candidates.values():
            fn()
    times: Dict[str, List[float]] = {k: [] for k in candidates}
    for _ in range(repeat):
        for k, fn in candidates.items():
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) * 1e3 for k, v in times.items()} | {
        ('min', k): min(v) * 1e3 for k, v in times.items()}


# ------------------------------------------------------------------------------------------------------ graphs

def actor_graph(cache: str) -> Tuple[torch.Tensor, int]:
    from torch_geometric.utils import add_self_loops, to_undirected

    from graphite import Graphite, datasets
    data = Graphite()(datasets.load('actor', root=cache))
    n = data.num_nodes
    edge_index = add_self_loops(to_undirected(data.edge_index, num_nodes=n), num_nodes=n)[0]
    return edge_index, n


def synthetic_graph(num_nodes: int = 100_000, num_edges: int = 1_000_000, seed: int = 0) -> Tuple[torch.Tensor, int]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_nodes, (2, num_edges), generator=g), num_nodes


# --------------------------------------------------------------------------------------------------- workloads

def naive_gated(edge_index, x, s_src, s_dst, w, tau, num_nodes):
    """What a PyG MessagePassing layer does: per-edge messages [E, H], then scatter."""
    from torch_geometric.utils import scatter
    src, dst = edge_index[0], edge_index[1]
    gate = torch.tanh((s_dst[dst] + s_src[src]) / tau) * w     # [E]
    msg = x.index_select(0, src) * gate.unsqueeze(-1)            # [E, H]
    return scatter(msg, dst, 0, num_nodes, reduce='sum')


def fwd_bwd(f: Callable[[], torch.Tensor], inputs: List[torch.Tensor], grad: torch.Tensor) -> Callable[[], None]:
    def run():
        for t in inputs:
            t.grad = None
        f().backward(grad)
    return run


def gated_rows(name, edge_index, n, hidden: List[int], repeat: int, max_edge_bytes: float) -> List[Dict]:
    rows = []
    csr = CSR.from_edge_index(edge_index, n)
    e = edge_index.size(1)
    g = torch.Generator().manual_seed(1)
    for h in hidden:
        x = torch.randn(n, h, generator=g).requires_grad_()
        s_src = (0.5 * torch.randn(n, generator=g)).requires_grad_()
        s_dst = (0.5 * torch.randn(n, generator=g)).requires_grad_()
        w = torch.rand(e, generator=g).requires_grad_()
        grad = torch.randn(n, h, generator=g)
        inputs = [x, s_src, s_dst, w]
        cands = {'ours': fwd_bwd(lambda: ops.gated_spmm(csr, x, s_src, s_dst, w, tau=0.5), inputs, grad)}
        if e * h * 4 <= max_edge_bytes:
            cands['naive'] = fwd_bwd(lambda: naive_gated(edge_index, x, s_src, s_dst, w, 0.5, n), inputs, grad)
            if B.is_available('torch_scatter'):
                cands['ts'] = fwd_bwd(lambda: ops.gated_spmm(csr, x, s_src, s_dst, w, tau=0.5,
                                                             backend='torch_scatter'), inputs, grad)
        t = compare(cands, repeat)
        ours, naive, ts = t['ours'], t.get('naive'), t.get('ts')
        mins = (t[('min', 'ours')], t.get(('min', 'naive')))
        rows.append(dict(graph=name, op='gated_spmm fwd+bwd', h=h, ours=ours, base=naive,
                         base_name='naive gather/scale/scatter [E,H]', ts=ts, mins=mins))
        print(f'  {name} gated H={h}: ours {ours:.1f} ms, naive {_fmt(naive)}, torch_scatter {_fmt(ts)}',
              file=sys.stderr, flush=True)
    return rows


def op_rows(name, edge_index, n, h: int, repeat: int) -> List[Dict]:
    rows = []
    e = edge_index.size(1)
    g = torch.Generator().manual_seed(2)
    dst = edge_index[1]
    src_msgs = torch.randn(e, h, generator=g)                 # [E, H] input of scatter / segment
    csr = CSR.from_edge_index(edge_index, n)
    sorted_msgs = src_msgs[csr.perm].contiguous()
    row, ptr = csr.row, csr.rowptr
    x = torch.randn(n, h, generator=g)
    w = torch.rand(e, generator=g)
    w_csr = w[csr.perm]
    aten = {'sum': 'sum', 'mean': 'mean', 'max': 'amax'}

    def zeros():
        return src_msgs.new_zeros(n, h)

    for reduce in ('sum', 'mean', 'max'):
        # scatter, unsorted index
        idx = dst.view(-1, 1).expand(-1, h)
        native = {'scatter_reduce_': lambda: zeros().scatter_reduce_(0, idx, src_msgs, aten[reduce],
                                                                     include_self=False)}
        if reduce == 'sum':
            native['index_add_'] = lambda: zeros().index_add_(0, dst, src_msgs)
            native['scatter_add_'] = lambda: zeros().scatter_add_(0, idx, src_msgs)
        ours, best_name, best, ts, mins = _measure(
            lambda: ops.scatter(src_msgs, dst, 0, n, reduce), native,
            (lambda: torch_scatter.scatter(src_msgs, dst, 0, dim_size=n, reduce=reduce)) if torch_scatter else None,
            repeat)
        rows.append(dict(graph=name, op=f'scatter {reduce}', h=h, ours=ours, base=best, base_name=best_name, ts=ts,
                         mins=mins))

        # segment, sorted rows
        sidx = row.view(-1, 1).expand(-1, h)
        ident = torch.arange(e)
        seg_csr = torch.sparse_csr_tensor(ptr, ident, torch.ones(e), (n, e), check_invariants=False)
        native = {
            'scatter_reduce_ (sorted)': lambda: zeros().scatter_reduce_(0, sidx, sorted_msgs, aten[reduce],
                                                                        include_self=False),
            'segment_reduce': lambda: torch.segment_reduce(sorted_msgs, {'sum': 'sum', 'mean': 'mean',
                                                                         'max': 'max'}[reduce], offsets=ptr,
                                                           unsafe=True, initial=0.0),
            'sparse.mm(CSR)': lambda: torch.sparse.mm(seg_csr, sorted_msgs, aten[reduce]),
        }
        ours, best_name, best, ts, mins = _measure(
            lambda: ops.segment(sorted_msgs, ptr, reduce), native,
            (lambda: torch_scatter.segment_csr(sorted_msgs, ptr, reduce=reduce)) if torch_scatter else None, repeat)
        rows.append(dict(graph=name, op=f'segment {reduce}', h=h, ours=ours, base=best, base_name=best_name, ts=ts,
                         mins=mins))

        # spmm, weighted, forward
        adj = torch.sparse_csr_tensor(ptr, csr.col, w_csr, (n, n), check_invariants=False)
        native = {'sparse.mm(CSR)': lambda: torch.sparse.mm(adj, x, aten[reduce])}
        if reduce == 'sum':
            native['sparse.mm(CSR) default'] = lambda: torch.sparse.mm(adj, x)
        ours, best_name, best, ts, mins = _measure(
            lambda: ops.spmm(csr, x, w, reduce), native,
            (lambda: torch_scatter.segment_csr(x.index_select(0, csr.col) * w_csr[:, None], ptr, reduce=reduce))
            if torch_scatter else None, repeat)
        rows.append(dict(graph=name, op=f'spmm {reduce}', h=h, ours=ours, base=best, base_name=best_name, ts=ts,
                         mins=mins))
        print(f'  {name} {reduce} ops done', file=sys.stderr, flush=True)
    return rows


def _measure(ours: Callable, native: Dict[str, Callable], ts: Optional[Callable], repeat: int):
    """(ours ms, name of the fastest native candidate, its ms, torch_scatter ms or None, (ours best-of-runs ms,
    best native best-of-runs ms)); medians unless stated, timed round-robin."""
    cands = dict(native)
    cands['__ours'] = ours
    if ts is not None:
        cands['__ts'] = ts
    t = compare(cands, repeat)
    best_name = min(native, key=t.get)
    mins = (t[('min', '__ours')], min(t[('min', k)] for k in native))
    return t['__ours'], best_name, t[best_name], t.get('__ts'), mins


def _fmt(v: Optional[float]) -> str:
    return '-' if v is None else f'{v:.1f}'


def _ratio(base: Optional[float], ours: float) -> str:
    return '-' if base is None else f'{base / ours:.2f}x'


def table(rows: List[Dict]) -> str:
    lines = ['| graph | op | H | graphite.ops ms | baseline | baseline ms | baseline / ops | (best-of runs) | '
             'torch_scatter ms | torch_scatter / ops |', '|---|---|---:|---:|---|---:|---:|---:|---:|---:|']
    for r in rows:
        ours_min, base_min = r['mins']
        lines.append(f"| {r['graph']} | {r['op']} | {r['h']} | {r['ours']:.1f} | {r['base_name']} | "
                     f"{_fmt(r['base'])} | {_ratio(r['base'], r['ours'])} | {_ratio(base_min, ours_min)} | "
                     f"{_fmt(r['ts'])} | {_ratio(r['ts'], r['ours'])} |")
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--graphs', nargs='+', default=['actor', 'synthetic'], choices=['actor', 'synthetic'])
    parser.add_argument('--hidden', nargs='+', type=int, default=[64, 128, 512])
    parser.add_argument('--op-hidden', type=int, default=64, help='feature width for scatter/segment/spmm rows')
    parser.add_argument('--repeat', type=int, default=7)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--max-edge-gb', type=float, default=1.0,
                        help='skip baselines whose [E, H] float32 tensor exceeds this many GB (memory)')
    parser.add_argument('--cache', default=os.environ.get('GRAPHITE_ROOT', '/tmp/graphite_bench_cache'),
                        help='dataset cache directory (never the read-only mirror)')
    parser.add_argument('--no-ops', action='store_true', help='only the gated aggregation rows')
    parser.add_argument('--no-gated', action='store_true', help='only the scatter/segment/spmm rows')
    args = parser.parse_args(argv)
    os.environ.setdefault('GRAPHITE_DATA', '/work/shared/data')
    torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, backends available: '
          f'{", ".join(B.available_backends(torch.device("cpu")))}', file=sys.stderr)
    rows: List[Dict] = []
    for name in args.graphs:
        try:
            edge_index, n = actor_graph(args.cache) if name == 'actor' else synthetic_graph()
        except Exception as exc:  # noqa: BLE001 - missing raw files should not hide the other graph's numbers
            print(f'{name}: skipped, could not build the graph ({type(exc).__name__}: {exc}); set GRAPHITE_DATA '
                  'to the raw-data mirror', file=sys.stderr)
            continue
        print(f'{name}: {n} nodes, {edge_index.size(1)} edges', file=sys.stderr, flush=True)
        if not args.no_gated:
            rows += gated_rows(name, edge_index, n, args.hidden, args.repeat, args.max_edge_gb * 1e9)
        if not args.no_ops:
            rows += op_rows(name, edge_index, n, args.op_hidden, args.repeat)
    print(table(rows))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
