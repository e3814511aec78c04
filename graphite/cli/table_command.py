"""``graphite table``: a markdown leaderboard and a bar chart from result JSON files, beside published numbers."""
from __future__ import annotations

import glob
import math
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

HELP = 'assemble result JSON files into a markdown leaderboard (+ PNG bar chart) next to the published numbers'

REQUIRED_KEYS = ('dataset', 'model', 'transform', 'metric', 'per_split', 'mean', 'std')
LINKPRED_METRICS = ('auc', 'mrr', 'hits@20', 'hits@50', 'hits@100')


def add_arguments(parser):
    parser.add_argument('results', nargs='+', help='result JSON files (globs are expanded)')
    parser.add_argument('--out-md', default=None, help='write the markdown table here (default: print it)')
    parser.add_argument('--out-png', default=None, help='write a bar chart (matplotlib) here')


def _load(path: str) -> Dict[str, Any]:
    from graphite.cli.results_io import read_json
    res = read_json(path)
    missing = [k for k in REQUIRED_KEYS if k not in res]
    if missing:
        raise ValueError(f'{path}: not a graphite result file, missing key(s) {missing}')
    values = res['per_split']
    if not isinstance(values, list) or not values:
        raise ValueError(f'{path}: per_split must be a non-empty list')
    for v in values + [res['mean']]:
        if not isinstance(v, (int, float)) or not (0.0 <= v <= 1.0):
            raise ValueError(f'{path}: metric values must be numbers in [0, 1], got {v!r}')
    res['_path'] = path
    return res


def _pm(mean: Optional[float], std: Optional[float], scale: float = 100.0) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ''
    if std is None:
        return f'{scale * mean:.2f}'
    return f'{scale * mean:.2f} ± {scale * std:.2f}'


def _linkpred_value(metrics: Dict[str, Any], name: str) -> Tuple[Optional[float], Optional[float]]:
    v = metrics.get(name)
    if v is None:
        return None, None
    if isinstance(v, dict):
        return v.get('mean'), v.get('std')
    if isinstance(v, list):
        import numpy as np
        return float(np.mean(v)), float(np.std(v))
    return float(v), None


def is_linkpred(res: Dict[str, Any]) -> bool:
    return isinstance(res.get('metrics'), dict)


#: ``--set`` keys that change the schedule only, or that the label names in its own words: not listed as overrides
SCHEDULE_KEYS = ('patience', 'eval_every', 'undirected', 'normalize_features')


def set_overrides(command: Optional[str]) -> List[str]:
    """The ``key=value`` overrides of a recorded ``graphite run`` command (``--set``), schedule keys left out."""
    from graphite.cli.results_io import recorded_option
    pairs = [p for p in recorded_option(command, '--set') if '=' in p]
    return [p for p in pairs if p.split('=', 1)[0] not in SCHEDULE_KEYS]


def selection_text(selection: Any) -> str:
    """How a run's configuration was chosen, with its search budget (the config's ``selection:`` record)."""
    if not isinstance(selection, dict):
        return str(selection or '')
    parts = []
    if selection.get('study'):
        parts.append(f"study {selection['study']}")
    elif selection.get('overrides') and not selection.get('trials'):
        parts.append('config changed by hand')
    elif str(selection.get('method', '')).startswith('published recipe'):
        parts.append('published recipe')
    if selection.get('trials'):
        noun = 'trial' if selection.get('study') else 'candidate'
        parts.append(f"{selection['trials']} {noun}{'s' if selection['trials'] != 1 else ''}")
    cpu_hours = selection.get('cpu_hours', selection.get('search_cpu_hours'))  # or an older record's key
    if cpu_hours:
        parts.append(f"{cpu_hours:g} CPU-h")
    return ', '.join(parts)


def steps_text(row: Dict[str, Any]) -> str:
    """Our schedule (most training steps), with the published one when a recipe row used a different one."""
    ours, theirs = row.get('steps'), row.get('published_steps')
    text = '' if ours is None else str(ours)
    if theirs is not None and theirs != ours:
        text += f' (published: {theirs})'
    return text


def node_rows(results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    from graphite.cli.published import TUNED_CLASSIC_EPOCHS, published
    rows = []
    for r in results:
        # a run of a bundled variant config "<model>-<variant>.yaml" is its own row "<model>-<variant>"; "-tuned" is
        # the strong-baseline recipe, compared with its own published numbers; a study's exported winner is
        # "<model> (study)"; --set overrides of the recorded command are part of the label
        selection = r.get('selection') if isinstance(r.get('selection'), dict) else {}
        stem = os.path.splitext(os.path.basename(str(r.get('config_file') or '')))[0]
        if selection.get('study'):
            label = f"{r['model']} (study)"
        else:
            label = stem if stem.startswith(f"{r['model']}-") and stem != f"{r['model']}-graphite" else r['model']
        tuned = label == f"{r['model']}-tuned" or label.startswith(f"{r['model']}-tuned-")  # also its variants
        pub = published(r['dataset'], r['model'], r['transform'], tuned=tuned)
        # a merged result (`graphite merge`) records its parts' `graphite run` commands
        overrides = set_overrides((r.get('parts') or [{}])[0].get('command') or r.get('command'))
        if overrides:
            label += f" ({', '.join(overrides)})"
        config = r.get('config') or {}
        if config.get('undirected'):  # run on the graph made undirected (--set undirected=true)
            label += ' (undirected)'
        if config.get('normalize_features'):  # row-normalised features (--set normalize_features=true)
            label += ' (normalised features)'
        rows.append({
            'dataset': r['dataset'], 'model': label,
            'steps': config.get('epochs'),
            'published_steps': TUNED_CLASSIC_EPOCHS.get(r['dataset']) if tuned and pub is not None else None,
            'transform': r['transform'] or '-',
            'metric': r['metric'], 'ours': (r['mean'], r['std']), 'n': len(r['per_split']),
            'val': r.get('val_mean'), 'selection': selection_text(r.get('selection')),
            'published': pub, 'delta': None if pub is None else 100 * r['mean'] - pub[0],
            'seconds': r.get('seconds'), 'complete': r.get('complete', True), 'path': r['_path'],
        })
    rows.sort(key=lambda x: (x['dataset'], -x['ours'][0]))
    return rows


def markdown(results: List[Dict[str, Any]]) -> str:
    node = [r for r in results if not is_linkpred(r)]
    link = [r for r in results if is_linkpred(r)]
    out: List[str] = []
    if node:
        out += ['## Node classification', '',
                'Test metric (x100) at the best validation step, mean ± std over splits; *published* = '
                'GRAPHITE paper (Qiu et al., arXiv 2509.12530); for `<model>-tuned` rows (the strong-baseline recipe) '
                'Luo et al., NeurIPS 2024 (tunedGNN, medium_graph/README.md). Transform `graphite` = model trained on '
                'the GRAPHITE-transformed graph. *val* = mean validation metric (what selection uses); *selection* = '
                'how the configuration was chosen and its search budget (the config\'s `selection:` record; blank: '
                'a default config); *steps* = the most full-graph training steps of our run, and for a `-tuned` row '
                'whose schedule differs from the published one, the published number\'s (tunedGNN\'s run_gnn.sh '
                '`--epochs`).', '',
                '| dataset | model | transform | metric | ours | val | published | Δ | splits | steps | selection '
                '| time (s) |',
                '|---|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|']
        for r in node_rows(node):
            pub = '' if r['published'] is None else (
                f"{r['published'][0]:.2f}" + (f" ± {r['published'][1]:.2f}" if r['published'][1] is not None else ''))
            delta = '' if r['delta'] is None else f"{r['delta']:+.2f}"
            n = f"{r['n']}" + ('' if r['complete'] else ' (partial)')
            secs = '' if r['seconds'] is None else f"{r['seconds']:.0f}"
            val = '' if r['val'] is None else f"{100 * r['val']:.2f}"
            out.append(f"| {r['dataset']} | {r['model']} | {r['transform']} | {r['metric']} | "
                       f"{_pm(*r['ours'])} | {val} | {pub} | {delta} | {n} | {steps_text(r)} | {r['selection']} "
                       f"| {secs} |")
        out.append('')
    if link:
        from graphite.cli.published import LINK_PREDICTION
        out += ['## Link prediction', '', 'Test metrics (x100), mean ± std over runs; *published* = anchors for the '
                'same protocol, each with its source in graphite.cli.published.LINK_PREDICTION_SOURCES, where '
                'available.', '',
                '| dataset | model | main metric | ' + ' | '.join(LINKPRED_METRICS) + ' | published |',
                '|---|---|---|' + '---:|' * (len(LINKPRED_METRICS) + 1)]
        for r in sorted(link, key=lambda x: (x['dataset'], -x['mean'])):
            cells = [_pm(*_linkpred_value(r['metrics'], m)) for m in LINKPRED_METRICS]
            pub = LINK_PREDICTION.get(str(r.get('protocol')), {}).get(r['dataset'], {}).get(
                str(r['model']).split('-')[0], {})
            pub_s = ', '.join(f'{k} {_pm(mean, std, scale=1.0)}' for k, (mean, std) in pub.items())
            out.append(f"| {r['dataset']} | {r['model']} | {r['metric']} | " + ' | '.join(cells) + f' | {pub_s} |')
        out.append('')
    return '\n'.join(out)


def bar_chart(results: List[Dict[str, Any]], path: str) -> None:
    """One panel per dataset: our mean ± std (solid) beside the published value (hatched) for every run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    node = node_rows([r for r in results if not is_linkpred(r)])
    link = [r for r in results if is_linkpred(r)]
    panels: Dict[str, List[Any]] = {}
    for r in node:
        panels.setdefault(r['dataset'], []).append(r)
    for r in link:
        panels.setdefault(f"{r['dataset']} (link pred.)", []).append(r)
    if not panels:
        raise ValueError('no results to plot')
    n = len(panels)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.8 * rows), squeeze=False)
    for ax, (name, items) in zip(axes.flat, panels.items()):
        labels, ours, err, pubs = [], [], [], []
        for r in items:
            if 'ours' in r:
                plain = r['transform'] == '-' or r['model'] == 'graphite'  # GRAPHITE always uses its transform
                labels.append(r['model'] + ('' if plain else '+G'))
                ours.append(100 * r['ours'][0])
                err.append(100 * r['ours'][1])
                pubs.append(r['published'][0] if r['published'] else float('nan'))
            else:
                labels.append(str(r['model']))
                ours.append(100 * r['mean'])
                err.append(100 * r['std'])
                pubs.append(float('nan'))
        xs = list(range(len(labels)))
        ax.bar([x - 0.2 for x in xs], ours, 0.4, yerr=err, capsize=2, label='ours', color='tab:blue')
        ax.bar([x + 0.2 for x in xs], pubs, 0.4, label='published', color='tab:gray', hatch='//', alpha=0.7)
        ax.set_xlim(-0.7, max(len(xs) - 1, 3) + 0.7)  # keep bars narrow in panels with few runs
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, rotation=45, ha='right', fontsize=8)
        metric = items[0].get('metric', '')
        ax.set_title(f'{name} ({metric})', fontsize=10)
        finite = [v for v in ours + pubs if not math.isnan(v)]
        if finite:
            ax.set_ylim(max(0.0, min(finite) - 10), min(100.0, max(finite) + 5))
        ax.grid(axis='y', alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis('off')
    axes.flat[0].legend(fontsize=8)
    fig.suptitle('graphite: ours vs. published (x100; "+G" = on the GRAPHITE-transformed graph)')
    fig.tight_layout()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, '.' + os.path.basename(path) + '.tmp.png')
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def collect(patterns: List[str]) -> List[Dict[str, Any]]:
    paths: List[str] = []
    for p in patterns:
        hits = sorted(glob.glob(p)) if any(c in p for c in '*?[') else [p]
        if not hits:
            raise FileNotFoundError(f'no result files match {p!r}')
        paths.extend(hits)
    for p in paths:
        if not os.path.isfile(p):
            raise FileNotFoundError(f'result file {p!r} does not exist')
    return [_load(p) for p in dict.fromkeys(paths)]


def main(args) -> int:
    results = collect(args.results)
    text = markdown(results)
    if args.out_md:
        folder = os.path.dirname(os.path.abspath(args.out_md))
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, '.' + os.path.basename(args.out_md) + '.tmp')
        with open(tmp, 'w') as f:
            f.write('# graphite leaderboard\n\n' + text)
        os.replace(tmp, args.out_md)
        print(f'wrote {args.out_md}', file=sys.stderr)
    else:
        print(text)
    if args.out_png:
        bar_chart(results, args.out_png)
        print(f'wrote {args.out_png}', file=sys.stderr)
    return 0
