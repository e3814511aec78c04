r"""Sweep the synthetic generator's similarity knob S: test MRR of every encoder x decoder combination.

Usage (resumable: finished cells are cached in ``<out>/cells.jsonl`` and skipped on restart)::

    OMP_NUM_THREADS=1 python experiments/linkpred_sweep.py --threads 1 \
        --out experiments/results/linkpred/sweep

Writes ``sweep.csv`` (one row per S x model), ``sweep.md`` (MRR x100 table, models x S, plus the measured
similarity profile of each graph), ``sweep.png`` (MRR vs S, one panel per decoder) and
``similarity_S<S>.png`` (edge vs non-edge cosine histograms) into ``--out``.

``--graph KEY=VALUE`` passes further keywords to :func:`linkpred.synthetic.make_link_graph` (e.g. ``strength``,
``oversample``, ``num_features``). ``--oracle`` adds the row ``oracle`` (no training): the test metrics of the
generator's own edge score computed from the features, on the split of run 0 -- cosine :math:`k(u, v)` for the
monotone profile, :math:`-|k(u, v) - \tilde k|` for the gated one (:math:`\tilde k` = median cosine of the training
edges). It shows how much of the signal the generator put into the features is visible to the evaluation at all.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time

DEFAULT_S = (-1.0, -0.66, -0.33, 0.0, 0.33, 0.66, 1.0)
ENCODERS = (('gcn', None), ('gcn', True), ('sage', None), ('gatv2', None), ('gin', None), ('gprgnn', None),
            ('none', None))
DECODERS = ('dot', 'distmult', 'mlp', 'concat')


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='experiments/results/linkpred/sweep')
    ap.add_argument('--similarities', default=','.join(str(s) for s in DEFAULT_S))
    ap.add_argument('--num-nodes', type=int, default=1000)
    ap.add_argument('--avg-degree', type=float, default=10.0)
    ap.add_argument('--graph-seed', type=int, default=0)
    ap.add_argument('--profile', choices=['monotone', 'gated'], default='monotone')
    ap.add_argument('--runs', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE')
    ap.add_argument('--encoders', default=None, help='comma list of encoder[:sep|:mix] (default: all)')
    ap.add_argument('--decoders', default=','.join(DECODERS))
    ap.add_argument('--graph', dest='graph_options', action='append', default=[], metavar='KEY=VALUE',
                    help='further make_link_graph keyword, e.g. strength=64 (repeatable)')
    ap.add_argument('--oracle', action='store_true', help="add the generator-score row 'oracle' (no training)")
    args = ap.parse_args(argv)

    import torch
    from tqdm import tqdm

    from graphite.cli.config import parse_override
    from linkpred.cli.command import run_linkpred
    from linkpred.model import model_name
    from linkpred.similarity import edge_similarity_profile, plot_similarity, threshold_test
    from linkpred.synthetic import make_link_graph

    torch.set_num_threads(args.threads)
    params = {'hidden_channels': 64, 'num_layers': 2, 'lr': 0.005, 'epochs': 60, 'eval_every': 10, 'patience': 30,
              'metric': 'mrr'}
    params.update(dict(parse_override(o) for o in args.overrides))
    graph_kw = dict(parse_override(o) for o in args.graph_options)
    args.graph_kw = graph_kw
    sims = [float(s) for s in args.similarities.split(',')]
    encoders = ENCODERS
    if args.encoders:
        encoders = []
        for item in args.encoders.split(','):
            name, _, flag = item.partition(':')
            encoders.append((name, {'': None, 'sep': True, 'mix': False}[flag]))
    decoders = args.decoders.split(',')
    os.makedirs(args.out, exist_ok=True)
    cells_path = os.path.join(args.out, 'cells.jsonl')
    done = {}
    if os.path.exists(cells_path):
        with open(cells_path) as f:
            for line in f:
                c = json.loads(line)
                done[(c['similarity'], c['model'])] = c
    profiles = {}
    jobs = [(s, e, sep, d) for s in sims for (e, sep) in encoders for d in decoders]
    bar = tqdm(jobs, desc='sweep')
    t0 = time.time()
    for s, enc, sep, dec in bar:
        if s not in profiles:
            data = make_link_graph(args.num_nodes, s, profile=args.profile, avg_degree=args.avg_degree,
                                   seed=args.graph_seed, **graph_kw)
            prof = edge_similarity_profile(data.x, data.edge_index, seed=0)
            test = threshold_test(prof.edge, prof.non_edge)
            plot_similarity(prof, os.path.join(args.out, f'similarity_S{s:+.2f}.png'),
                            title=f'synthetic S={s:+.2f}: {test.label} (gap {test.gap:+.3f})', test=test)
            profiles[s] = (data, test)
            if args.oracle and (s, 'oracle') not in done:
                cell = {'similarity': s, 'model': 'oracle', 'encoder': 'oracle', 'decoder': 'oracle',
                        'separate_ego': None, 'label': test.label, 'gap': test.gap,
                        'threshold_accuracy': test.accuracy, **oracle_metrics(data, args.profile, params, args.seed),
                        'mrr_std': 0.0, 'seconds': 0.0, 'best_epochs': []}
                with open(cells_path, 'a') as f:
                    f.write(json.dumps(cell) + '\n')
                done[(s, 'oracle')] = cell
        data, test = profiles[s]
        name = model_name(enc, dec, sep)
        bar.set_postfix_str(f'S={s:+.2f} {name}')
        if (s, name) in done:
            continue
        p = dict(params, separate_ego=sep)
        res = run_linkpred('synthetic', enc, dec, p, args.runs, seed=args.seed, progress=False, data=data)
        cell = {'similarity': s, 'model': name, 'encoder': enc, 'decoder': dec, 'separate_ego': sep,
                'label': test.label, 'gap': test.gap, 'threshold_accuracy': test.accuracy,
                **{k: v for k, v in res['metrics'].items()}, 'mrr_std': res['metrics_std']['mrr'],
                'seconds': res['seconds'], 'best_epochs': res['best_epochs']}
        with open(cells_path, 'a') as f:
            f.write(json.dumps(cell) + '\n')
        done[(s, name)] = cell
    write_outputs(args, sims, encoders, decoders, done, profiles, params, time.time() - t0)
    return 0


def oracle_metrics(data, profile: str, params: dict, seed: int = 0) -> dict:
    """Test metrics of the generator's edge score from the features (see the module docstring) on the random split
    that run 0 of ``run_linkpred(..., params, seed=seed)`` uses (same fractions, negatives and filtering)."""
    import torch

    from linkpred.evaluation import split_metrics
    from linkpred.similarity import pair_cosine
    from linkpred.splits import split_edges
    from linkpred.training import DEFAULT_PARAMS

    full = dict(DEFAULT_PARAMS, **params)
    split = split_edges(data, float(full['val']), float(full['test']), seed=seed,
                        mrr_negatives=int(full['mrr_negatives']))
    centre = float(pair_cosine(data.x, split.train_pos).median())

    def score(pairs):
        k = pair_cosine(data.x, pairs)
        return k if profile == 'monotone' else -(k - centre).abs()

    heads = split.test_pos[0][:, None].expand_as(split.test_mrr)
    rank = score(torch.stack([heads.reshape(-1), split.test_mrr.reshape(-1)])).view_as(split.test_mrr)
    return split_metrics(score(split.test_pos), score(split.test_neg), rank, split.test_mrr_mask)


def write_outputs(args, sims, encoders, decoders, done, profiles, params, seconds):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from linkpred.model import model_name
    models = [model_name(e, d, sep) for (e, sep) in encoders for d in decoders]
    if getattr(args, 'oracle', False):
        models.append('oracle')
    rows = [done[(s, m)] for s in sims for m in models if (s, m) in done]
    keys = ['similarity', 'model', 'encoder', 'decoder', 'separate_ego', 'label', 'gap', 'threshold_accuracy',
            'auc', 'mrr', 'mrr_std', 'hits@20', 'hits@50', 'hits@100', 'seconds']
    tmp = os.path.join(args.out, '.sweep.csv.tmp')
    with open(tmp, 'w', newline='') as f:
        w = csv.DictWriter(f, keys, extrasaction='ignore')
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, os.path.join(args.out, 'sweep.csv'))
    lines = ['# Synthetic sweep: test MRR (x100) vs similarity knob S', '',
             f'Graphs: `linkpred.synthetic.make_link_graph(num_nodes={args.num_nodes}, similarity=S, '
             f"avg_degree={args.avg_degree}, seed={args.graph_seed}, profile='{args.profile}'"
             + ''.join(f', {k}={v!r}' for k, v in getattr(args, 'graph_kw', {}).items()) + ')`. Training params: '
             f'`{json.dumps(params)}`, {args.runs} run(s), seed {args.seed}. MRR against 100 uniform negatives per '
             f'test positive. Total {seconds / 60:.1f} min.', '',
             '| S | ' + ' | '.join(f'{s:+.2f}' for s in sims) + ' |',
             '|---|' + '---:|' * len(sims),
             '| threshold label | ' + ' | '.join(profiles[s][1].label if s in profiles else '' for s in sims) + ' |',
             '| edge - non-edge cosine | ' + ' | '.join(f'{profiles[s][1].gap:+.3f}' if s in profiles else ''
                                                        for s in sims) + ' |',
             '| best threshold acc. | ' + ' | '.join(f'{profiles[s][1].accuracy:.2f}' if s in profiles else ''
                                                     for s in sims) + ' |']
    for m in models:
        vals = []
        col_best = {s: max((done[(s, mm)]['mrr'] for mm in models if (s, mm) in done and mm != 'oracle'),
                           default=None) for s in sims}
        for s in sims:
            c = done.get((s, m))
            if c is None:
                vals.append('')
            else:
                v = f"{100 * c['mrr']:.1f}"
                vals.append(f'**{v}**' if c['mrr'] == col_best[s] else v)
        lines.append(f'| {m} | ' + ' | '.join(vals) + ' |')
    tmp = os.path.join(args.out, '.sweep.md.tmp')
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(tmp, os.path.join(args.out, 'sweep.md'))
    fig, axes = plt.subplots(1, len(decoders), figsize=(4.2 * len(decoders), 3.6), sharey=True)
    axes = [axes] if len(decoders) == 1 else axes
    for ax, d in zip(axes, decoders):
        for (e, sep) in encoders:
            m = model_name(e, d, sep)
            xs = [s for s in sims if (s, m) in done]
            ax.plot(xs, [100 * done[(s, m)]['mrr'] for s in xs], marker='o', ms=3,
                    label=m.replace(f'-{d}', ''), ls='--' if e == 'none' else '-')
        ax.set_title(f'decoder: {d}')
        ax.set_xlabel('similarity knob S (heterophilic -> homophilic)')
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('test MRR x100')
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, 'sweep.png'), dpi=110)
    plt.close(fig)


if __name__ == '__main__':
    sys.exit(main())
