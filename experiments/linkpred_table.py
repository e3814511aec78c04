"""Encoder x decoder table on a real dataset (plus the CN / AA / RA heuristics on the same splits).

Usage (resumable: every model's result JSON is kept in ``<out>/<dataset>/`` and reused)::

    OMP_NUM_THREADS=1 python experiments/linkpred_table.py --dataset cora --threads 1 \
        --out experiments/results/linkpred

Each model is ``graphite linkpred --dataset D --encoder E --decoder X [--separate-ego] --runs R`` with the config
``graphite/cli/configs/linkpred/<dataset>.yaml``. Writes ``<out>/<dataset>/<model>.json`` and
``<out>/<dataset>.md`` (all metrics x100, mean +- std over runs, best per column in bold).
"""
from __future__ import annotations

import argparse
import os
import sys

DEFAULT_MODELS = ('gcn-dot', 'gcn-distmult', 'gcn-mlp', 'gcn-dot-sep', 'gcn-mlp-sep', 'sage-dot', 'sage-mlp',
                  'none-mlp')


def heuristic_rows(data, runs: int, seed: int, val: float, test: float):
    """Test metrics of CN / AA / RA on the splits the models use (message passing graph = train + val edges)."""
    import numpy as np

    from linkpred.evaluation import METRICS, link_metrics
    from linkpred.heuristics import Heuristic
    from linkpred.splits import split_edges
    out = {}
    per = {k: [] for k in ('cn', 'aa', 'ra')}
    for r in range(runs):
        sp = split_edges(data, val, test, seed=seed + r)
        h = Heuristic(sp.test_graph.edge_index, sp.num_nodes)
        q = sp.test_mrr.size(1)
        mrr_pairs = __import__('torch').stack([sp.test_pos[0].repeat_interleave(q), sp.test_mrr.reshape(-1)])
        for name, fn in (('cn', h.common_neighbors), ('aa', h.adamic_adar), ('ra', h.resource_allocation)):
            pos, neg = fn(sp.test_pos), fn(sp.test_neg)
            per[name].append(link_metrics(pos, neg, pos, fn(mrr_pairs).view(-1, q)))
    for name, ms in per.items():
        out[name] = ({k: float(np.mean([m[k] for m in ms])) for k in METRICS},
                     {k: float(np.std([m[k] for m in ms])) for k in METRICS})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dataset', required=True)
    ap.add_argument('--models', default=','.join(DEFAULT_MODELS), help='comma list of <encoder>-<decoder>[-sep]')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--out', default='experiments/results/linkpred')
    ap.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE')
    args = ap.parse_args(argv)

    import torch
    from tqdm import tqdm

    from linkpred.cli.command import load_graph, load_linkpred_config, run_linkpred
    from graphite.cli.results_io import read_json, write_json_atomic
    from linkpred.evaluation import METRICS
    from linkpred.model import parse_model_name

    torch.set_num_threads(args.threads)
    cfg = load_linkpred_config(args.dataset, None, args.overrides)
    data = load_graph(args.dataset)
    folder = os.path.join(args.out, args.dataset)
    os.makedirs(folder, exist_ok=True)
    results = {}
    for model in tqdm(args.models.split(','), desc=args.dataset):
        path = os.path.join(folder, f'{model}.json')
        if os.path.exists(path):
            results[model] = read_json(path)
            continue
        enc, dec, sep = parse_model_name(model)
        params = dict(cfg['params'], separate_ego=sep)
        res = run_linkpred(args.dataset, enc, dec, params, args.runs, seed=args.seed, progress=True, data=data)
        res['config_file'] = cfg['path']
        res['command'] = (f'graphite linkpred --dataset {args.dataset} --encoder {enc} --decoder {dec}'
                          f"{' --separate-ego' if sep else ''}{' --mixed-ego' if sep is False else ''} "
                          f'--runs {args.runs} --seed {args.seed} --threads {args.threads}'
                          + ''.join(f' --set {o}' for o in args.overrides))
        write_json_atomic(path, res)
        results[model] = res
    heur = heuristic_rows(data, args.runs, args.seed, float(cfg['params'].get('val', 0.05)),
                          float(cfg['params'].get('test', 0.1)))
    rows = [(m, r['metrics'], r['metrics_std'], r['seconds']) for m, r in results.items()]
    rows += [(f'heuristic {k.upper()}', m, s, None) for k, (m, s) in heur.items()]
    best = {k: max(r[1][k] for r in rows) for k in METRICS}
    p = cfg['params']
    lines = [f'# Link prediction on {args.dataset}', '',
             f'Random 85/5/10 edge split, {args.runs} runs (seeds {args.seed}..{args.seed + args.runs - 1}), test '
             f"metrics x100 (mean +- std) at the epoch with the best validation {p.get('metric', 'mrr')}. "
             f"Config `{cfg['path']}`: hidden {p.get('hidden_channels')}, "
             f"{p.get('num_layers')} layers, lr {p.get('lr')}, dropout {p.get('dropout')}, "
             f"epochs <= {p.get('epochs')} (patience {p.get('patience')}). Hits@K against the split's "
             'negatives (as many as test positives), MRR against 100 uniform negatives per positive.', '',
             '| model | ' + ' | '.join(METRICS) + ' | seconds |', '|---|' + '---:|' * (len(METRICS) + 1)]
    for name, m, s, sec in rows:
        cells = []
        for k in METRICS:
            v = f'{100 * m[k]:.2f} +- {100 * s[k]:.2f}'
            cells.append(f'**{v}**' if m[k] == best[k] else v)
        lines.append(f'| {name} | ' + ' | '.join(cells) + f" | {'' if sec is None else f'{sec:.0f}'} |")
    tmp = os.path.join(args.out, f'.{args.dataset}.md.tmp')
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(tmp, os.path.join(args.out, f'{args.dataset}.md'))
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
