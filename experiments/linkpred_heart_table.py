"""Markdown tables of the issue-15 results (experiments/results/linkpred/heart/*.json): test metrics x100,
mean +- std over the seeds, selected on validation MRR.

    python experiments/linkpred_heart_table.py [--dir experiments/results/linkpred/heart]
"""
import argparse
import glob
import json
import os

COLS = {'heart-existing': ('auc', 'mrr', 'hits@1', 'hits@10', 'hits@20', 'hits@50', 'hits@100'),
        'heart': ('mrr', 'hits@1', 'hits@3', 'hits@10', 'hits@20', 'hits@50', 'hits@100')}
ORDER = ('cn', 'aa', 'ra', 'gcn-dot', 'gcn-mlp', 'sage-dot', 'sage-mlp')


def _order(r: dict) -> tuple:
    """Rows by dataset, heuristics then models (ORDER), transform, training epochs."""
    return (r['dataset'], ORDER.index(r['model']) if r['model'] in ORDER else 99, r['model'],
            str(r.get('transform')), (r.get('config') or {}).get('epochs') or 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--dir', default=os.path.join(os.path.dirname(__file__), 'results', 'linkpred', 'heart'))
    args = ap.parse_args()
    rows = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(args.dir, '*.json')))]
    for proto, cols in COLS.items():
        sel = [r for r in rows if r['protocol'] == proto]
        if not sel:
            continue
        print(f'\n### {proto}\n')
        print('| dataset | model | epochs x hidden | seeds | ' + ' | '.join(cols) + ' | s |')
        print('|---|---|---|---:|' + '---:|' * (len(cols) + 1))
        for r in sorted(sel, key=_order):
            m, s = r['metrics'], r['metrics_std']
            n = r['seeds_done'] if r['heuristic'] is None else 'det.'
            cells = [f'{100 * m[c]:.2f} ± {100 * s[c]:.2f}' if r['heuristic'] is None else f'{100 * m[c]:.2f}'
                     for c in cols]
            part = ('' if r.get('transform') in (None, 'none') else f" + {r['transform']}") + (
                '' if r.get('complete', True) else ' (partial)')
            cfg = r.get('config') or {}
            size = '-' if r['heuristic'] is not None else f"{cfg.get('epochs')} x {cfg.get('hidden_channels')}"
            print(f"| {r['dataset']} | {r['model']}{part} | {size} | {n} | " + ' | '.join(cells)
                  + f" | {r['seconds']:.0f} |")


if __name__ == '__main__':
    main()
