"""``graphite merge``: one result from result JSONs of the same run on disjoint splits.

``graphite run --splits 0-4`` and ``--splits 5-9`` of one configuration (two processes, jobs or machines) each write
a result; split ``s`` trains with seed ``seed + s`` whichever process runs it, so together they are the run of
``--splits 0-9``. ``graphite merge A.json B.json --out C.json`` checks that the parts are that (same dataset, model,
transform, metric, parameters, config file, selection and base seed; no split twice), orders the splits and
recomputes the summary as :func:`graphite.cli.runner.run` does. The merged file records each part (file, command,
splits, seconds, environment); its ``seconds`` is the sum over the parts (compute time, not wall-clock time) and it is
``complete`` when the parts together ran every split that each of them was asked for (``requested_splits``, or for a
result written before that key the ``--splits`` of its command): a run stopped after split 0 of ``--splits 0-9`` and
a second run of ``--splits 1-9`` merge into a complete result.
"""
from __future__ import annotations

import os
import shlex
import sys
from typing import Any, Dict, List, Optional

HELP = 'merge result JSONs of one configuration run on disjoint splits (parallel jobs) into one result JSON'

#: what the parts must share to be one run
SAME = ('dataset', 'model', 'transform', 'metric', 'config', 'config_file', 'selection')
PER_SPLIT = ('splits', 'per_split', 'per_split_val', 'best_steps', 'steps')


def add_arguments(parser):
    parser.add_argument('parts', nargs='+', help='result JSONs written by `graphite run` on disjoint --splits')
    parser.add_argument('--out', required=True, help='the merged result JSON')


def _read(path: str) -> Dict[str, Any]:
    from graphite.cli.results_io import read_json
    res = read_json(path)
    missing = [k for k in SAME + PER_SPLIT + ('environment', 'seconds') if k not in res]
    if missing:
        raise ValueError(f'{path}: not a `graphite run` result, missing key(s) {missing}')
    if res.get('parts'):
        raise ValueError(f'{path} is already a merged result: merge its parts instead')
    if len({len(res[k]) for k in PER_SPLIT}) != 1:
        raise ValueError(f'{path}: its per-split lists have different lengths')
    return res


def _requested(part: Dict[str, Any]) -> Optional[List[int]]:
    """The splits ``part``'s run was asked for; None when it cannot be told (an incomplete part with no record)."""
    if 'requested_splits' in part:
        return list(part['requested_splits'])
    if part.get('complete', False):
        return list(part['splits'])
    from graphite.cli.results_io import recorded_option
    from graphite.cli.runner import parse_splits
    specs = recorded_option(part.get('command'), '--splits')
    try:
        return parse_splits(specs[-1], 1 << 30) if specs else None
    except ValueError:
        return None


def merge(parts: List[Dict[str, Any]], names: List[str]) -> Dict[str, Any]:
    """The result of the run that ``parts`` (result dicts read from ``names``) are pieces of."""
    if len(parts) < 2:
        raise ValueError('give at least two result files to merge')
    first = parts[0]
    for name, part in zip(names[1:], parts[1:]):
        for key in SAME:
            if part[key] != first[key]:
                raise ValueError(f'{name} differs from {names[0]} in {key!r}: not parts of one run')
        if part['environment'].get('seed') != first['environment'].get('seed'):
            raise ValueError(f"{name} has base seed {part['environment'].get('seed')}, {names[0]} has "
                             f"{first['environment'].get('seed')}: not parts of one run (--seed differs)")
    owner: Dict[int, str] = {}
    rows = []
    for name, part in zip(names, parts):
        for i, split in enumerate(part['splits']):
            if split in owner:
                raise ValueError(f'split {split} is in both {owner[split]} and {name}')
            owner[split] = name
            rows.append(tuple(part[k][i] for k in PER_SPLIT))
    rows.sort(key=lambda r: r[0])
    from graphite.cli.results_io import summarize_splits
    merged = {k: v for k, v in first.items() if k not in PER_SPLIT + ('complete', 'requested_splits')}
    merged.update({k: [r[j] for r in rows] for j, k in enumerate(PER_SPLIT)})
    merged['seconds'] = float(sum(p['seconds'] for p in parts))
    requested = [_requested(p) for p in parts]
    if all(r is not None for r in requested):
        merged['requested_splits'] = sorted(set().union(*requested))
    merged['complete'] = all(r is not None and set(r) <= owner.keys() for r in requested)
    merged['parts'] = [{'file': name, 'command': p.get('command'), 'splits': p['splits'], 'seconds': p['seconds'],
                        'complete': p.get('complete', False), 'environment': p['environment']}
                       for name, p in zip(names, parts)]
    return summarize_splits(merged)


def main(args) -> int:
    from graphite.cli.results_io import write_json_atomic
    for path in args.parts:
        if not os.path.isfile(path):
            raise FileNotFoundError(f'result file {path!r} does not exist')
    if os.path.abspath(args.out) in {os.path.abspath(p) for p in args.parts}:
        raise ValueError(f'--out {args.out} is one of the parts: write the merged result to a new file')
    merged = merge([_read(p) for p in args.parts], list(args.parts))
    merged['command'] = 'graphite merge ' + ' '.join(shlex.quote(a) for a in args.parts + ['--out', args.out])
    write_json_atomic(args.out, merged)
    print(f"merged {len(args.parts)} parts, splits {merged['splits']} -> {args.out}: {merged['metric']} = "
          f"{100 * merged['mean']:.2f} +- {100 * merged['std']:.2f} (val {100 * merged['val_mean']:.2f})"
          + ('' if merged['complete'] else ' (a part is incomplete)'), file=sys.stderr)
    return 0
