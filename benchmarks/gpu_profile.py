"""Where the time of one GRAPHITE training step goes, per graphite.ops backend (torch.profiler).

Builds the model of a config (default: the paper-size Actor setting, 8 layers x 512) on the transformed Actor graph
exactly as ``graphite run`` does (same prepared data, ``cached=True`` normalisation), runs ``--warmup`` steps, then
profiles ``--steps`` training steps (forward, loss, backward, Adam) for each backend and reports the median step time
and the operators with the most self device time (CPU time on a CPU). One JSON document on stdout and in ``--out``.

Usage::

    python benchmarks/gpu_profile.py --out profile.json                       # CUDA, both backends
    python benchmarks/gpu_profile.py --device cpu --hidden 32 --layers 2 --steps 3    # rehearsal
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def profile_backend(prep, params: Dict, backend: str, device, steps: int, warmup: int, top: int) -> Dict:
    from graphite.cli.config import TRAINING_DEFAULTS
    from graphite.nn import get_model, transductive_kwargs
    os.environ['GRAPHITE_OPS_BACKEND'] = backend
    torch.manual_seed(0)
    kwargs = {k: v for k, v in params.items() if k not in TRAINING_DEFAULTS}  # as the runner splits them
    cls = get_model('graphite')
    model = cls(prep.x.size(1), int(params['hidden_channels']), prep.num_classes,
                **transductive_kwargs(cls, kwargs)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=float(params.get('lr', 1e-3)))
    tr = prep.index['train_mask'][0]
    y = prep.y[tr]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(prep.x, prep.edge_index, prep.edge_type)[tr], y)
        loss.backward()
        opt.step()
        return loss

    def synced():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    model.train()
    for _ in range(warmup):
        step()
    synced()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        synced()
        times.append(time.perf_counter() - t0)
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(min(steps, 5)):
            step()
        synced()
    key = 'self_device_time_total' if device.type == 'cuda' else 'self_cpu_time_total'
    events = sorted(prof.key_averages(), key=lambda e: getattr(e, key, 0.0), reverse=True)[:top]
    n = min(steps, 5)
    ops = [{'name': e.key[:80], 'calls_per_step': e.count / n, 'self_ms_per_step': getattr(e, key, 0.0) / 1e3 / n,
            'cpu_ms_per_step': e.cpu_time_total / 1e3 / n} for e in events]
    return {'backend': backend, 'step_ms_median': 1e3 * statistics.median(times),
            'step_ms_min': 1e3 * min(times), 'top_ops': ops}


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda')
    p.add_argument('--config', default='experiments/configs/actor/graphite-paper.yaml')
    p.add_argument('--hidden', type=int, default=None, help='override hidden_channels')
    p.add_argument('--layers', type=int, default=None, help='override num_layers')
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--top', type=int, default=15)
    p.add_argument('--backends', default='triton,torch')
    p.add_argument('--out', default=None)
    args = p.parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        print(json.dumps({'skipped': 'no CUDA device (use --device cpu to rehearse)'}))
        return 0
    from graphite.cli.config import load_config
    from graphite.cli.prepared_data import prepare
    from graphite.datasets import load
    from graphite.ops import backend as B
    device = torch.device(args.device)
    cfg = load_config('actor', 'graphite', path=args.config)
    params = dict(cfg['params'])
    if args.hidden:
        params['hidden_channels'] = args.hidden
    if args.layers:
        params['num_layers'] = args.layers
    prep = prepare(load('actor'), 'graphite', params.get('transform_options') or {}).to(device)
    out = {'device': str(device), 'gpu': torch.cuda.get_device_name(device) if device.type == 'cuda' else None,
           'torch': torch.__version__, 'config': args.config, 'params': params, 'nodes': prep.num_nodes,
           'edges': int(prep.edge_index.size(1)), 'results': []}
    for backend in args.backends.split(','):
        if not B.is_available(backend, device):
            out['results'].append({'backend': backend, 'skipped': 'unavailable on this device'})
            continue
        res = profile_backend(prep, params, backend, device, args.steps, args.warmup, args.top)
        print(f"{backend}: {res['step_ms_median']:.1f} ms/step; top: "
              + ', '.join(f"{o['name']} {o['self_ms_per_step']:.2f}" for o in res['top_ops'][:6]), file=sys.stderr)
        out['results'].append(res)
    os.environ.pop('GRAPHITE_OPS_BACKEND', None)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out + '.tmp', 'w') as f:
            f.write(text + '\n')
        os.replace(args.out + '.tmp', args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
