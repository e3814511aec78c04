"""Time and peak extra memory of ``graphite.Graphite()`` on large synthetic graphs with sparse binary features.

Graph (seeded): ``N`` nodes, ``N * degree / 2`` random undirected edges stored in both directions (mean degree
``--degree``, default 10), ``--features`` binary feature columns (default 300) with density ``--density`` (default
0.02, i.e. about 6 features per node), labels and ``[N, 1]`` train/val/test masks as a benchmark dataset has them.
Features are passed either as a dense float32 ``[N, F]`` matrix (``dense``) or as a ``torch.sparse`` COO matrix
(``sparse``).

Every (N, layout) is measured in a fresh subprocess (``--repeat`` times; the fastest run is reported): the graph is
built, the process's peak RSS is reset (``/proc/self/clear_refs``), ``Graphite()(data)`` runs once, and the
reported ``peak_extra_mb`` is the peak RSS during the transform minus the RSS before it (the input graph itself is
not counted). One JSON line per measurement, then a summary list, are printed on stdout.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/transform_scale.py                    # N = 100k, 300k, 1M; dense + sparse
    python benchmarks/transform_scale.py --nodes 1000000 --layouts sparse --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _rss_mb(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'{field} not in /proc/self/status')


def make_graph(num_nodes: int, degree: float, num_features: int, density: float, layout: str, seed: int = 0):
    import torch
    from torch_geometric.data import Data
    g = torch.Generator().manual_seed(seed)
    m = int(num_nodes * degree / 2)
    src = torch.randint(0, num_nodes, (m,), generator=g)
    dst = torch.randint(0, num_nodes, (m,), generator=g)
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    nnz = int(num_nodes * num_features * density)
    row = torch.randint(0, num_nodes, (nnz,), generator=g)
    col = torch.randint(0, num_features, (nnz,), generator=g)
    x = torch.sparse_coo_tensor(torch.stack([row, col]), torch.ones(nnz), (num_nodes, num_features)).coalesce()
    x = torch.sparse_coo_tensor(x.indices(), torch.ones(x._nnz()), x.shape).coalesce()  # duplicates summed -> 1
    if layout == 'dense':
        x = x.to_dense()
    y = torch.randint(0, 5, (num_nodes,), generator=g)
    r = torch.rand(num_nodes, 1, generator=g)
    return Data(x=x, edge_index=edge_index, y=y, train_mask=r < 0.5, val_mask=(r >= 0.5) & (r < 0.75),
                test_mask=r >= 0.75, num_nodes=num_nodes)


def measure(args) -> dict:
    """One measurement in this process (the child)."""
    import torch

    from graphite import Graphite
    data = make_graph(args.nodes[0], args.degree, args.features, args.density, args.layouts[0])
    nnz = int(data.x._nnz()) if data.x.layout == torch.sparse_coo else int(torch.count_nonzero(data.x))
    transform = Graphite()
    with open('/proc/self/clear_refs', 'w') as f:  # reset the peak RSS (VmHWM) to the current RSS
        f.write('5')
    before = _rss_mb('VmRSS')
    t0 = time.perf_counter()
    out = transform(data)
    seconds = time.perf_counter() - t0
    peak = _rss_mb('VmHWM')
    return {'nodes': args.nodes[0], 'layout': args.layouts[0], 'features': args.features, 'nnz': nnz,
            'edges_in': int(data.edge_index.size(1)), 'edges_out': int(out.edge_index.size(1)),
            'nodes_out': int(out.num_nodes), 'seconds': round(seconds, 3), 'rss_before_mb': round(before, 1),
            'peak_extra_mb': round(peak - before, 1), 'threads': torch.get_num_threads(),
            'torch': torch.__version__}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--nodes', type=int, nargs='+', default=[100_000, 300_000, 1_000_000])
    p.add_argument('--layouts', nargs='+', choices=['dense', 'sparse'], default=['dense', 'sparse'])
    p.add_argument('--degree', type=float, default=10.0)
    p.add_argument('--features', type=int, default=300)
    p.add_argument('--density', type=float, default=0.02)
    p.add_argument('--repeat', type=int, default=1, help='fresh processes per measurement; the fastest is kept')
    p.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args)))
        return 0
    summary = []
    for n in args.nodes:
        for layout in args.layouts:
            runs = []
            for _ in range(args.repeat):
                cmd = [sys.executable, os.path.abspath(__file__), '--child', '--nodes', str(n), '--layouts', layout,
                       '--degree', str(args.degree), '--features', str(args.features), '--density',
                       str(args.density)]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    print(done.stderr, file=sys.stderr)
                    raise SystemExit(f'measurement failed: N={n} {layout}')
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(json.dumps(runs[-1]), flush=True)
            best = min(runs, key=lambda r: r['seconds'])
            summary.append({**best, 'peak_extra_mb': max(r['peak_extra_mb'] for r in runs),
                            'seconds_all': [r['seconds'] for r in runs]})
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
