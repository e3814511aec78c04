"""Scale benchmark: GRAPHITE transform, full-batch and mini-batch training, PyG FAConv, gated SpMM bandwidth.

For every ``--nodes N`` it builds a seeded synthetic heterophilic graph (``--degree`` random out-edges per node,
a fraction ``--homophily`` of them to a node of the same class; ``--features`` binary columns, ``--nnz`` active per
node, each drawn from the node's class block of columns with probability ``--signal``), applies
``graphite.Graphite()`` and runs each setting in its own subprocess, so the reported peak RSS
(``VmHWM``) belongs to that setting alone (it includes the transformed graph, loaded from a temporary file):

* ``transform``: build + ``Graphite()``; seconds of the transform;
* ``full``: GraphiteNet (2 layers, H = ``--hidden``, cached adjacency) full-batch, seconds per epoch (one
  forward + backward + Adam step over the whole graph; median of ``--epochs`` after one warm-up);
* ``faconv``: the same with PyG's FAConv (``graphite.nn.FAGCN``, cached), or ``skipped: memory`` when its
  ``[E, H]`` message tensors would exceed ``--mem-limit-gb``;
* ``minibatch``: GraphiteNet on sampled subgraphs (``--batch-size`` seeds, ``--fanout``, ``--feature-fanout``),
  one epoch over the training nodes (``--train-fraction`` of the graph nodes), then one full-graph layer-wise
  evaluation;
* ``spmm``: ``graphite.ops.gated_spmm`` forward at H = ``--hidden`` on the transformed graph (with self-loops)
  and its bandwidth on the minimal traffic (CSR read once, ``x`` read once, output written once, scores and edge
  weights read once), also as a fraction of the memcpy bandwidth measured in the same run (first JSON line).

"Processed edges per second" is ``edges x layers / seconds per epoch`` (sampled edges for mini-batches).
One JSON line per setting on stdout.

Usage::

    python benchmarks/scale.py --nodes 10000 100000
    python benchmarks/scale.py --nodes 1000000 --settings transform minibatch spmm
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = ('transform', 'full', 'faconv', 'minibatch', 'spmm')


def peak_rss_gb() -> float:
    """Peak resident memory of this process in GB: ``VmHWM`` (reset by ``exec``, unlike ``ru_maxrss``, which a
    child started by ``subprocess`` inherits from the parent's peak)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 2 ** 20  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20  # kB on Linux (macOS: bytes)


def memcpy_gbps(megabytes: int = 512, repeat: int = 7) -> float:
    """Best-of-``repeat`` bandwidth of one large ``copy_`` (bytes read + bytes written per second, GB/s)."""
    src = torch.ones(megabytes * 2 ** 18)
    dst = torch.empty_like(src)
    best = float('inf')
    for _ in range(repeat):
        t = time.perf_counter()
        dst.copy_(src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.numel() * 4 / best / 1e9


def synthetic(n: int, degree: int, features: int, nnz: int, classes: int, homophily: float, signal: float,
              train_fraction: float, seed: int = 0):
    """Seeded heterophilic graph with sparse class-dependent binary features and one train/val/test split."""
    from torch_geometric.data import Data
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    order = torch.argsort(y)
    counts = torch.bincount(y, minlength=classes)
    starts = torch.cumsum(counts, 0) - counts
    src = torch.arange(n).repeat_interleave(degree)
    dst = torch.randint(0, n, (n * degree,), generator=g)
    same = torch.rand(n * degree, generator=g) < homophily
    cls = y[src[same]]
    dst[same] = order[starts[cls] + (torch.rand(cls.numel(), generator=g) * counts[cls]).long()]
    block = max(1, features // classes)
    rows = torch.arange(n).repeat_interleave(nnz)
    own = torch.rand(n * nnz, generator=g) < signal
    cols = torch.randint(0, features, (n * nnz,), generator=g)
    cols[own] = (y[rows[own]] * block + torch.randint(0, block, (int(own.sum()),), generator=g)) % features
    x = torch.zeros(n, features)
    x[rows, cols] = 1.0
    r = torch.rand(n, generator=g)
    return Data(x=x, edge_index=torch.stack([src, dst]), y=y, train_mask=r < train_fraction,
                val_mask=(r >= train_fraction) & (r < train_fraction + 0.1), test_mask=r >= train_fraction + 0.1)


def _median_epoch(step, epochs: int) -> float:
    step()  # warm-up (builds the cached adjacency)
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _full_batch(model, prep, epochs: int) -> float:
    import torch.nn.functional as F
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    tr = prep.index['train_mask'][0]

    def step():
        model.train()
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(prep.x, prep.edge_index, prep.edge_type)[tr], prep.y[tr]).backward()
        opt.step()
    return _median_epoch(step, epochs)


def run_setting(args, setting: str, path: str) -> dict:
    """One setting in this process (the graph is read from ``path``)."""
    from graphite.cli.prepared_data import prepare
    from graphite.nn import FAGCN, GraphiteNet
    torch.manual_seed(0)
    data = torch.load(path, weights_only=False)
    prep = prepare(data, 'graphite')
    n_total, e_total = prep.num_nodes, prep.edge_index.size(1)
    row = {'nodes': args.n, 'setting': setting, 'total_nodes': n_total, 'edges': e_total}
    layers, classes, h = 2, int(prep.num_classes), args.hidden
    if setting == 'full':
        model = GraphiteNet(prep.x.size(1), h, classes, num_layers=layers, cached=True)
        sec = _full_batch(model, prep, args.epochs)
        row.update(seconds_per_epoch=sec, edges_per_second=(e_total + n_total) * layers / sec)
    elif setting == 'faconv':
        # [E, H] float32 tensors kept for backward: ~3 per layer (measured: 4.2 GB peak at 100k nodes, 2.6M edges)
        need = 3 * (e_total + n_total) * h * 4 * layers / 1e9
        if need > args.mem_limit_gb:
            return {**row, 'status': f'skipped: memory (~{need:.0f} GB of [E, H] messages > {args.mem_limit_gb} GB)'}
        model = FAGCN(prep.x.size(1), h, classes, num_layers=layers, cached=True)
        sec = _full_batch(model, prep, args.epochs)
        row.update(seconds_per_epoch=sec, edges_per_second=(e_total + n_total) * layers / sec)
    elif setting == 'minibatch':
        import torch.nn.functional as F

        from graphite.cli.minibatch import build_loader, epoch_batches, parse_fanout, sample_batch
        from graphite.nn.inference import layerwise_inference
        model = GraphiteNet(prep.x.size(1), h, classes, num_layers=layers)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        t = time.perf_counter()
        loader = build_loader(prep, parse_fanout(args.fanout), parse_fanout(args.feature_fanout))
        setup = time.perf_counter() - t
        sampled_edges, sample_s, batches = 0, 0.0, 0
        model.train()
        t = time.perf_counter()
        for seeds in epoch_batches(prep.index['train_mask'][0], args.batch_size, torch.Generator().manual_seed(0)):
            t1 = time.perf_counter()
            batch = sample_batch(loader, seeds, torch.device('cpu'))
            sample_s += time.perf_counter() - t1
            opt.zero_grad(set_to_none=True)
            out = model(batch.x, batch.edge_index, batch.edge_type)[:batch.batch_size]
            F.cross_entropy(out, batch.y[:batch.batch_size]).backward()
            opt.step()
            sampled_edges += batch.edge_index.size(1) + batch.num_nodes
            batches += 1
        sec = time.perf_counter() - t
        t = time.perf_counter()
        layerwise_inference(model, prep.x, prep.edge_index, prep.edge_type)
        row.update(seconds_per_epoch=sec, edges_per_second=sampled_edges * layers / sec, batches=batches,
                   sampling_seconds=sample_s, loader_setup_seconds=setup, eval_seconds=time.perf_counter() - t,
                   train_nodes=int(prep.index['train_mask'][0].numel()))
    elif setting == 'spmm':
        from graphite.nn.typed_adjacency import TypedAdjacency
        from graphite.ops import gated_spmm
        adj = TypedAdjacency(prep.edge_index, n_total, prep.edge_type)
        w = adj.normalized_weight(torch.tensor([1.0, 1.0, 1.0]))
        x = torch.randn(n_total, h)
        s_src, s_dst = torch.randn(n_total) * 0.1, torch.randn(n_total) * 0.1
        with torch.no_grad():
            sec = _median_epoch(lambda: gated_spmm(adj.csr, x, s_src, s_dst, edge_weight=w), args.epochs)
        e = adj.csr.col.numel()
        traffic = e * (8 + 4) + (n_total + 1) * 8 + 2 * n_total * h * 4 + 2 * n_total * 4  # col, w, ptr, x, out, s
        row.update(seconds=sec, edges_per_second=e / sec, minimal_traffic_gb=traffic / 1e9,
                   achieved_gbps=traffic / sec / 1e9)
    else:
        raise ValueError(f'unknown setting {setting!r}')
    return row


def build(args, path: str) -> dict:
    from graphite import Graphite
    t = time.perf_counter()
    data = synthetic(args.n, args.degree, args.features, args.nnz, args.classes, args.homophily, args.signal,
                     args.train_fraction)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    out = Graphite()(data)
    transform_s = time.perf_counter() - t
    torch.save(out, path)
    return {'nodes': args.n, 'setting': 'transform', 'total_nodes': int(out.num_nodes),
            'edges': int(out.edge_index.size(1)), 'build_seconds': build_s, 'transform_seconds': transform_s}


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--nodes', type=int, nargs='+', default=[10_000, 100_000])
    p.add_argument('--settings', nargs='+', default=list(SETTINGS), choices=SETTINGS)
    p.add_argument('--degree', type=int, default=10)
    p.add_argument('--features', type=int, default=128)
    p.add_argument('--nnz', type=int, default=8, help='active features per node')
    p.add_argument('--classes', type=int, default=5)
    p.add_argument('--homophily', type=float, default=0.2)
    p.add_argument('--signal', type=float, default=0.6, help='probability that a feature is from the class block')
    p.add_argument('--train-fraction', type=float, default=0.1)
    p.add_argument('--hidden', type=int, default=64)
    p.add_argument('--epochs', type=int, default=3, help='timed full-batch epochs / SpMM runs after a warm-up')
    p.add_argument('--batch-size', type=int, default=1024)
    p.add_argument('--fanout', default='15,10')
    p.add_argument('--feature-fanout', default='10')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--mem-limit-gb', type=float, default=8.0)
    p.add_argument('--timeout', type=float, default=3600, help='seconds per setting')
    p.add_argument('--child', nargs=3, metavar=('SETTING', 'N', 'PATH'), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    torch.set_num_threads(args.threads)
    if args.child:
        setting, args.n, path = args.child[0], int(args.child[1]), args.child[2]
        row = build(args, path) if setting == 'transform' else run_setting(args, setting, path)
        print(json.dumps({**row, 'peak_rss_gb': round(peak_rss_gb(), 3), 'threads': args.threads}), flush=True)
        return 0
    bw = memcpy_gbps()
    print(json.dumps({'setting': 'memcpy', 'gbps': round(bw, 2), 'threads': args.threads,
                      'torch': torch.__version__}), flush=True)
    own = [a for a in (argv if argv is not None else sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.nodes:
            path = os.path.join(tmp, f'graph-{n}.pt')
            for setting in ['transform'] + [s for s in args.settings if s != 'transform']:
                cmd = [sys.executable, __file__, *own, '--child', setting, str(n), path]
                try:
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
                    line = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 else None
                    row = json.loads(line) if line else {
                        'nodes': n, 'setting': setting, 'status': f'failed (exit {proc.returncode}): '
                        f'{(proc.stderr.strip().splitlines() or [""])[-1][:200]}'}
                except subprocess.TimeoutExpired:
                    row = {'nodes': n, 'setting': setting, 'status': f'skipped: time (> {args.timeout:.0f} s)'}
                if setting == 'spmm' and 'achieved_gbps' in row:
                    row['fraction_of_memcpy'] = round(row['achieved_gbps'] / bw, 3)
                print(json.dumps(row), flush=True)
                if setting == 'transform' and 'status' in row:
                    break  # no graph to train on
    return 0


if __name__ == '__main__':
    sys.exit(main())
