"""``graphite linkpred``: heterophily-aware link prediction (encoder x decoder) on a dataset, result JSON.

Examples::

    graphite linkpred --dataset cora --encoder gcn --decoder dot --runs 3 --set metric=hits@100
    graphite linkpred --dataset synthetic --similarity -0.8 --num-nodes 2000 --encoder gcn --decoder mlp --separate-ego
    graphite linkpred --dataset actor --encoder sage --decoder mlp --transform graphite

Configs (bundled with graphite): ``configs/linkpred/<dataset>.yaml`` if it exists, else
``configs/linkpred/default.yaml`` (``params`` = :data:`linkpred.training.DEFAULT_PARAMS` keys, plus
``dataset_options`` for the synthetic generator and ``transform_options`` for :class:`graphite.Graphite`;
``search`` = Optuna space for ``graphite tune --task linkpred``).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Dict, Iterable, Optional

from graphite.cli.config import CONFIG_DIR as GRAPHITE_CONFIG_DIR
# the runs themselves: linkpred.cli.runner (re-exported here, where they were first defined)
from linkpred.cli.runner import load_graph, run_linkpred

__all__ = ['HELP', 'add_arguments', 'main', 'find_config', 'load_linkpred_config', 'model_label', 'load_graph',
           'run_linkpred']

HELP = 'link prediction with a chosen encoder x decoder (heterophily-aware, Zhu et al. 2024); result JSON'

#: the bundled link-prediction configs (package data of :mod:`graphite.cli`)
CONFIG_DIR = os.path.join(GRAPHITE_CONFIG_DIR, 'linkpred')
#: keys of ``params`` consumed here, not by :func:`linkpred.training.train_link_predictor`
EXTRA_PARAMS = ('dataset_options', 'transform_options')
_SYNTHETIC_FLAGS = ('similarity', 'num_nodes', 'profile', 'avg_degree', 'num_features', 'num_clusters', 'noise',
                    'strength', 'degree_exponent')


def add_arguments(parser):
    from graphite.device import DEVICE_HELP
    from linkpred.decoders import DECODERS
    from linkpred.encoders import ENCODERS
    from linkpred.synthetic import DEFAULT_SIMILARITY
    parser.add_argument('--dataset', required=True, help='synthetic, or a graphite.datasets name (cora, citeseer, '
                                                         'actor, chameleon-filtered, squirrel-filtered, reed98, ...)')
    parser.add_argument('--encoder', choices=sorted(ENCODERS), help="node encoder ('none' = no GNN)")
    parser.add_argument('--decoder', choices=sorted(DECODERS), help='pair decoder')
    parser.add_argument('--heuristic', choices=['cn', 'aa', 'ra'], default=None,
                        help='score pairs with a heuristic on the message-passing graph instead of a model')
    parser.add_argument('--protocol', choices=['random', 'heart-existing', 'heart'], default=None,
                        help='evaluation protocol (linkpred.protocols; default: heart-existing for real datasets, '
                             'random for synthetic)')
    parser.add_argument('--seeds', type=int, default=None, help='training seeds (default: 10)')
    parser.add_argument('--split-seed', type=int, default=0,
                        help='seed of the fixed split and hard negatives of the heart protocols (default: 0)')
    parser.add_argument('--split-dir', default=None,
                        help="HeaRT's split files for this dataset (train_pos.txt, ..., heart_*_samples.npy)")
    parser.add_argument('--keep-target-edges', action='store_true',
                        help="heart protocols: do not remove each batch's target edges from the training graph")
    parser.add_argument('--separate-ego', nargs='?', const='sum', default=None, choices=['sum', 'concat'],
                        help="keep the ego embedding separate (W_self h_v + AGG; 'concat' = W[h_v || AGG])")
    parser.add_argument('--mixed-ego', action='store_true', help='force mixed ego/neighbour embeddings (e.g. for sage)')
    parser.add_argument('--transform', choices=['graphite', 'none'], default='none',
                        help="graph transform; options via --set 'transform_options={binarize: 0.0}' (continuous "
                             "features: x > 0.0 becomes a feature edge) or {buckets: 4}")
    parser.add_argument('--runs', type=int, default=None, help='alias of --seeds')
    parser.add_argument('--seed', type=int, default=0, help='base seed: the synthetic graph, and run r (edge split, '
                                                            'weights, negatives) uses seed + r (default: 0)')
    parser.add_argument('--config', default=None, help='YAML config (default: configs/linkpred/<dataset>.yaml, '
                                                       'else configs/linkpred/default.yaml)')
    parser.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                        help='override a parameter (repeatable), e.g. --set lr=0.01 --set metric=hits@100')
    parser.add_argument('--out', default=None, help='result JSON (default: results/linkpred/<dataset>-<model>'
                                                    '[-graphite].json under the current directory or $GRAPHITE_HOME)')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--device', default='auto', help=DEVICE_HELP)
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    g = parser.add_argument_group('synthetic dataset (linkpred.synthetic.make_link_graph)')
    g.add_argument('--similarity', type=float, default=None,
                   help=f'knob S in [-1, 1] (heterophilic .. homophilic; default: {DEFAULT_SIMILARITY}, as '
                        'make_link_graph)')
    g.add_argument('--num-nodes', type=int, default=None)
    g.add_argument('--profile', choices=['monotone', 'gated'], default=None)
    g.add_argument('--avg-degree', type=float, default=None)
    g.add_argument('--num-features', type=int, default=None)
    g.add_argument('--num-clusters', type=int, default=None)
    g.add_argument('--noise', type=float, default=None)
    g.add_argument('--strength', type=float, default=None)
    g.add_argument('--degree-exponent', type=float, default=None)


def model_label(encoder: str, decoder: str, separate_ego) -> str:
    """:func:`linkpred.model.model_name` of the command-line model (the output file's name)."""
    from linkpred.model import model_name
    sep = {'sum': True}.get(separate_ego, separate_ego)
    return model_name(encoder, decoder, sep)


def find_config(dataset: str) -> str:
    for name in (dataset.lower(), 'default'):
        path = os.path.join(CONFIG_DIR, f'{name}.yaml')
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f'no link-prediction config in {CONFIG_DIR}')


def load_linkpred_config(dataset: str, path: Optional[str] = None, overrides: Iterable[str] = ()) -> Dict[str, Any]:
    """The YAML config (``dataset, model, transform, params, search``) with ``key=value`` overrides applied to
    ``params``; unknown keys -> ``KeyError``. ``path`` is added as ``config['path']``."""
    import yaml

    from graphite.cli.config import config_label, parse_override
    from linkpred.training import DEFAULT_PARAMS
    path = path or find_config(dataset)
    if not os.path.exists(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    with open(path) as f:
        cfg = yaml.safe_load(f) or {}
    unknown_top = set(cfg) - {'dataset', 'model', 'transform', 'params', 'search', 'description'}
    if unknown_top:
        raise KeyError(f'{path}: unknown top-level key(s) {sorted(unknown_top)}')
    params = dict(cfg.get('params') or {})
    for item in overrides:
        k, v = parse_override(item)
        params[k] = v
    known = set(DEFAULT_PARAMS) | set(EXTRA_PARAMS)
    for where, keys in (('params', params), ('search', cfg.get('search') or {})):
        bad = sorted(set(keys) - known)
        if bad:
            raise KeyError(f'{path}: unknown {where} key(s) {bad}; known: {sorted(known)}')
    return {**cfg, 'params': params, 'path': config_label(path)}


def main(args) -> int:
    import torch

    from graphite.cli.paths import results_dir
    from graphite.device import resolve_device
    from graphite.cli.results_io import write_json_atomic

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f'--threads must be >= 1, got {args.threads}')
        torch.set_num_threads(args.threads)
    cfg = load_linkpred_config(args.dataset, args.config, args.overrides)
    params = dict(cfg['params'])
    if args.separate_ego and args.mixed_ego:
        raise ValueError('--separate-ego and --mixed-ego exclude each other')
    if args.separate_ego:
        params['separate_ego'] = True if args.separate_ego == 'sum' else 'concat'
    elif args.mixed_ego:
        params['separate_ego'] = False
    ds_kw = {k: getattr(args, k) for k in _SYNTHETIC_FLAGS if getattr(args, k) is not None}
    if ds_kw and args.dataset != 'synthetic':
        raise ValueError(f'--{"/--".join(k.replace("_", "-") for k in ds_kw)} only apply to --dataset synthetic')
    if args.dataset == 'synthetic':  # the generator's seed defaults to --seed (run_linkpred)
        params['dataset_options'] = {**(params.get('dataset_options') or {}), **ds_kw}
    if args.keep_target_edges:
        params['remove_target_edges'] = False
    if args.heuristic is None and (args.encoder is None or args.decoder is None):
        raise ValueError('give --encoder and --decoder, or --heuristic')
    if args.seeds is not None and args.runs is not None and args.seeds != args.runs:
        raise ValueError('--runs is an alias of --seeds; give one')
    seeds = args.seeds if args.seeds is not None else (args.runs if args.runs is not None else 10)
    protocol = args.protocol or ('random' if args.dataset == 'synthetic' else 'heart-existing')
    transform = None if args.transform == 'none' else args.transform
    command = 'graphite linkpred ' + ' '.join(sys.argv[2:] if sys.argv[1:2] == ['linkpred'] else sys.argv[1:])
    suffix = '-graphite' if transform else ''
    label = args.heuristic or model_label(args.encoder, args.decoder, params.get('separate_ego'))
    out = args.out or str(results_dir() / 'linkpred' / f"{args.dataset}-{protocol}-{label}{suffix}.json")
    resume = None
    if os.path.exists(out):  # resume a partial result of the same command; a complete one is rerun
        from graphite.cli.results_io import read_json
        old = read_json(out)
        if not old.get('complete', True) and old.get('command') == command:
            resume = old
    result = run_linkpred(args.dataset, args.encoder, args.decoder, params, seeds, seed=args.seed,
                          progress=not args.no_progress, transform=transform, protocol=protocol,
                          split_seed=args.split_seed, split_dir=args.split_dir, heuristic=args.heuristic,
                          resume=resume, device=resolve_device(args.device),
                          on_seed=lambda partial: write_json_atomic(out, {**partial, 'config_file': cfg['path'],
                                                                          'command': command}))
    result['config_file'] = cfg['path']
    result['command'] = command
    write_json_atomic(out, result)
    m, s = result['metrics'], result['metrics_std']
    print(f"{result['dataset']} / {result['model']}{' + GRAPHITE' if transform else ''} ({protocol}) over {seeds} "
          f"seed(s), {result['seconds']:.0f} s -> {out}")
    for k in m:
        print(f'  {k:>9}: {100 * m[k]:6.2f} +- {100 * s[k]:5.2f}')
    for note in result['warnings']:
        print(f'warning: {note}', file=sys.stderr)
    return 0
