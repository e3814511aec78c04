"""Training step of the stacked baselines: graphite.nn.GCN / GraphSAGE / GIN / GAT (graph normalised or put in CSR
once per call, ``graphite.ops.spmm`` per layer; GAT: per-edge attention coefficients as its weights) against the same
modules on PyG's per-edge path (each PyG convolution on the ``edge_index``: ``[E, H]`` messages, and GCN's
normalisation, in every layer), in one process, timed round-robin. GAT has one head, as tunedGNN's recipes do.

Workload: tunedGNN's Minesweeper recipe shape (12 layers, hidden 64, BatchNorm, linear residual), forward +
backward + Adam step, on Minesweeper itself (``$GRAPHITE_DATA``) when available and on a synthetic graph
(``--nodes``, ``--edges``). Reported: median seconds per step over ``--repeat`` timed steps after warm-up, and the
ratio per-edge / graphite (above 1: graphite is faster).

Usage::

    GRAPHITE_DATA=../shared/data python benchmarks/baselines_spmm.py --threads 1 --repeat 10
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphite.nn import GAT, GCN, GIN, GraphSAGE  # noqa: E402

MODELS = {'gcn': (GCN, {}), 'sage': (GraphSAGE, {}), 'gin': (GIN, {}), 'gat': (GAT, {'heads': 1})}


def graphs(args):
    out = []
    try:
        from graphite.datasets import load
        data = load('minesweeper')
        out.append(('minesweeper', data.x.float(), data.edge_index, int(data.y.max()) + 1))
    except Exception as exc:  # noqa: BLE001 - dataset not here: synthetic graph only
        print(f'minesweeper skipped: {exc}', file=sys.stderr)
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, args.nodes, (2, args.edges), generator=g)
    out.append((f'synthetic-{args.nodes}-{args.edges}', torch.randn(args.nodes, 16, generator=g), ei, 2))
    return out


def step_fn(model, x, edge_index, y, per_edge: bool):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    if per_edge:  # the same modules, each GCNConv normalising the edge_index and messaging per edge
        model.propagation_graph = lambda e, h: e

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x, edge_index), y).backward()
        opt.step()
    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--nodes', type=int, default=50_000)
    p.add_argument('--edges', type=int, default=500_000)
    p.add_argument('--layers', type=int, default=12)
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--repeat', type=int, default=10)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--models', default='gcn,sage,gin,gat', help='comma-separated: gcn, sage, gin, gat')
    p.add_argument('--out', default=None, help='also write the JSON summary here')
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for (name, x, ei, c), model_name in [(g, m) for g in graphs(args) for m in args.models.split(',')]:
        y = torch.randint(0, c, (x.size(0),), generator=torch.Generator().manual_seed(1))
        steps = {}
        for kind in ('graphite', 'per_edge'):
            torch.manual_seed(0)
            cls, extra = MODELS[model_name]
            model = cls(x.size(1), args.hidden, c, num_layers=args.layers, dropout=0.2, norm='batch',
                        residual='linear', **extra)
            steps[kind] = step_fn(model, x, ei, y, kind == 'per_edge')
            for _ in range(2):
                steps[kind]()
        times = {k: [] for k in steps}
        for _ in range(args.repeat):  # round-robin: background load hits both alike
            for k, fn in steps.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({'model': model_name, 'graph': name, 'nodes': x.size(0), 'edges': ei.size(1), 'layers': args.layers,
                     'hidden': args.hidden, 'threads': torch.get_num_threads(),
                     'graphite_s': round(med['graphite'], 4), 'per_edge_s': round(med['per_edge'], 4),
                     'ratio': round(med['per_edge'] / med['graphite'], 2)})
        r = rows[-1]
        print(f"{model_name} on {name}: {r['per_edge_s']:.4f} s per-edge / {r['graphite_s']:.4f} s graphite = "
              f"{r['ratio']:.2f}x", flush=True)
    text = json.dumps(rows, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + '\n')


if __name__ == '__main__':
    main()
