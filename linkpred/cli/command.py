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
import time
import warnings
from typing import Any, Callable, Dict, Iterable, Optional

from graphite.cli.config import CONFIG_DIR as GRAPHITE_CONFIG_DIR

HELP = 'link prediction with a chosen encoder x decoder (heterophily-aware, Zhu et al. 2024); result JSON'

#: the bundled link-prediction configs (package data of :mod:`graphite.cli`)
CONFIG_DIR = os.path.join(GRAPHITE_CONFIG_DIR, 'linkpred')
#: keys of ``params`` consumed here, not by :func:`linkpred.training.train_link_predictor`
EXTRA_PARAMS = ('dataset_options', 'transform_options')
_SYNTHETIC_FLAGS = ('similarity', 'num_nodes', 'profile', 'avg_degree', 'num_features', 'num_clusters', 'noise',
                    'strength', 'degree_exponent')


def add_arguments(parser):
    from linkpred.decoders import DECODERS
    from linkpred.encoders import ENCODERS
    from linkpred.synthetic import DEFAULT_SIMILARITY
    parser.add_argument('--dataset', required=True, help='synthetic, or a graphite.datasets name (cora, citeseer, '
                                                         'actor, chameleon-filtered, squirrel-filtered, reed98, ...)')
    parser.add_argument('--encoder', required=True, choices=sorted(ENCODERS), help="node encoder ('none' = no GNN)")
    parser.add_argument('--decoder', required=True, choices=sorted(DECODERS), help='pair decoder')
    parser.add_argument('--separate-ego', nargs='?', const='sum', default=None, choices=['sum', 'concat'],
                        help="keep the ego embedding separate (W_self h_v + AGG; 'concat' = W[h_v || AGG])")
    parser.add_argument('--mixed-ego', action='store_true', help='force mixed ego/neighbour embeddings (e.g. for sage)')
    parser.add_argument('--transform', choices=['graphite', 'none'], default='none',
                        help="graph transform; options via --set 'transform_options={binarize: 0.0}' (continuous "
                             "features: x > 0.0 becomes a feature edge) or {buckets: 4}")
    parser.add_argument('--runs', type=int, default=3, help='random edge splits / seeds (default: 3)')
    parser.add_argument('--seed', type=int, default=0, help='base seed: the synthetic graph, and run r (edge split, '
                                                            'weights, negatives) uses seed + r (default: 0)')
    parser.add_argument('--config', default=None, help='YAML config (default: configs/linkpred/<dataset>.yaml, '
                                                       'else configs/linkpred/default.yaml)')
    parser.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                        help='override a parameter (repeatable), e.g. --set lr=0.01 --set metric=hits@100')
    parser.add_argument('--out', default=None, help='result JSON (default: results/linkpred/<dataset>-<model>'
                                                    '[-graphite].json under the current directory or $GRAPHITE_HOME)')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
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


def load_graph(dataset: str, **dataset_kw):
    """``synthetic`` -> :func:`linkpred.synthetic.make_link_graph` (``dataset_kw``), else
    :func:`graphite.datasets.load` (undirected)."""
    if dataset == 'synthetic':
        from linkpred.synthetic import make_link_graph
        return make_link_graph(**dataset_kw)
    if dataset_kw:
        raise ValueError(f'dataset options {sorted(dataset_kw)} only apply to the synthetic dataset')
    from graphite.datasets import load
    return load(dataset, undirected=True)


def run_linkpred(dataset: str, encoder: str, decoder: str, params: Optional[dict] = None, runs: int = 3,
                 seed: int = 0, on_eval: Optional[Callable[[int, float], None]] = None, progress: bool = True,
                 transform: Optional[str] = None, data=None, **dataset_kw) -> dict:
    """Train ``runs`` models (run ``r``: edge split and weights seeded with ``seed + r``) and summarise.

    Args:
        dataset (str): ``'synthetic'`` or a :func:`graphite.datasets.load` name.
        encoder, decoder (str): names of :data:`linkpred.encoders.ENCODERS` / :data:`linkpred.decoders.DECODERS`.
        params (dict): :data:`linkpred.training.DEFAULT_PARAMS` overrides, plus ``dataset_options`` (synthetic
            generator arguments, merged under ``dataset_kw``) and ``transform_options`` (for GRAPHITE).
        runs (int): number of runs.
        seed (int): base seed.
        on_eval (callable): ``on_eval(step, val_metric)`` after each evaluation; ``step`` increases across runs
            (run ``r`` uses steps ``r * epochs + epoch``); exceptions such as ``optuna.TrialPruned`` propagate.
        progress (bool): tqdm bar over all epochs of all runs.
        transform (str, optional): ``None``/``'none'`` or ``'graphite'``.
        data (Data, optional): an already loaded graph (skips loading).
        **dataset_kw: synthetic generator arguments (``similarity``, ``num_nodes``, ...; the generator's
            ``seed`` defaults to ``seed`` and is recorded in ``dataset_options``).

    Returns:
        dict with ``dataset, model, transform, config, metric, per_split, per_split_val, mean, std, val_mean,
        seconds, environment`` (as ``graphite run``; ``per_split`` = test ``metric`` per run) plus ``metrics`` /
        ``metrics_std`` (mean / std over runs of ``auc, mrr, hits@20, hits@50, hits@100`` on the test set),
        ``val_metrics``, ``per_run`` (all test metrics per run), ``best_epochs``, ``encoder``, ``decoder``,
        ``separate_ego``, ``dataset_options`` and ``warnings`` (metrics that cannot discriminate on these splits,
        see :func:`linkpred.evaluation.metric_warnings`).
    """
    import numpy as np
    import torch
    from tqdm import tqdm

    from graphite.cli.results_io import environment
    from linkpred.evaluation import METRICS, MetricWarning, metric_warnings
    from linkpred.model import model_name
    from linkpred.training import check_params, train_link_predictor

    if runs < 1:
        raise ValueError(f'runs must be >= 1, got {runs}')
    params = dict(params or {})
    ds_opts = dict(params.pop('dataset_options', None) or {})
    ds_opts.update(dataset_kw)
    t_opts = dict(params.pop('transform_options', None) or {})
    full = check_params(params)
    metric = full['metric']
    if dataset == 'synthetic' and data is None:
        ds_opts.setdefault('seed', seed)
    if transform == 'none':
        transform = None
    if transform not in (None, 'graphite'):
        raise ValueError(f"transform must be None or 'graphite', got {transform!r}")
    t0 = time.time()
    if data is None:
        data = load_graph(dataset, **ds_opts)
    if isinstance(getattr(data, 'generator', None), dict):  # record what the generator used, defaults included
        ds_opts = dict(data.generator)
    tf = None
    if transform == 'graphite':
        from graphite import Graphite
        tf = Graphite(**t_opts)
    sep = full['separate_ego']
    name = model_name(encoder, decoder, sep)
    epochs = int(full['epochs'])
    bar = tqdm(total=runs * epochs, desc=f'{dataset}/{name}', disable=not progress, leave=False)
    per_run, per_val, best_epochs, notes = [], [], [], []
    try:
        for r in range(runs):
            split = _split(data, full, seed + r, tf)
            notes += [n for n in metric_warnings({'val': split.val_neg.size(1), 'test': split.test_neg.size(1)})
                      if n not in notes]
            cb = None if on_eval is None else (lambda step, v, off=r * epochs: on_eval(off + step, v))
            with warnings.catch_warnings():  # reported once in the result's 'warnings', not at every evaluation
                warnings.simplefilter('ignore', MetricWarning)
                out = train_link_predictor(split, encoder, decoder, params, seed=seed + r, on_eval=cb, progress=bar)
            bar.update(r * epochs + epochs - bar.n)
            per_run.append(out['test'])
            per_val.append(out['val'])
            best_epochs.append(out['best_epoch'])
    finally:
        bar.close()
    tests = np.array([m[metric] for m in per_run])
    return {
        'dataset': dataset, 'model': name, 'transform': transform,
        'config': {**full, 'dataset_options': ds_opts, 'transform_options': t_opts}, 'metric': metric,
        'per_split': tests.tolist(), 'per_split_val': [m[metric] for m in per_val],
        'mean': float(tests.mean()), 'std': float(tests.std()),
        'val_mean': float(np.mean([m[metric] for m in per_val])),
        'seconds': time.time() - t0, 'environment': environment(seed, torch.get_num_threads()),
        'metrics': {k: float(np.mean([m[k] for m in per_run])) for k in METRICS},
        'metrics_std': {k: float(np.std([m[k] for m in per_run])) for k in METRICS},
        'val_metrics': {k: float(np.mean([m[k] for m in per_val])) for k in METRICS},
        'per_run': per_run, 'best_epochs': best_epochs,
        'encoder': encoder, 'decoder': decoder, 'separate_ego': sep, 'dataset_options': ds_opts, 'warnings': notes,
    }


def _split(data, full: dict, seed: int, transform):
    """:func:`linkpred.training.split_edges` with the command-line spelling of GRAPHITE's discretisation options
    added to its error about non-binary features."""
    from linkpred.training import split_edges
    try:
        return split_edges(data, float(full['val']), float(full['test']), seed=seed,
                           mrr_negatives=int(full['mrr_negatives']), transform=transform)
    except ValueError as e:
        if transform is None or 'binarize' not in str(e):
            raise
        raise ValueError(f"{e}; on the command line: --set 'transform_options={{binarize: 0.0}}' or "
                         f"--set 'transform_options={{buckets: 4}}'") from None


def main(args) -> int:
    import torch

    from graphite.cli.paths import results_dir
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
    transform = None if args.transform == 'none' else args.transform
    result = run_linkpred(args.dataset, args.encoder, args.decoder, params, args.runs, seed=args.seed,
                          progress=not args.no_progress, transform=transform)
    result['config_file'] = cfg['path']
    result['command'] = 'graphite linkpred ' + ' '.join(sys.argv[2:] if sys.argv[1:2] == ['linkpred'] else sys.argv[1:])
    suffix = '-graphite' if transform else ''
    out = args.out or str(results_dir() / 'linkpred' / f"{args.dataset}-{result['model']}{suffix}.json")
    write_json_atomic(out, result)
    m, s = result['metrics'], result['metrics_std']
    print(f"{result['dataset']} / {result['model']}{' + GRAPHITE' if transform else ''} over {args.runs} run(s), "
          f"{result['seconds']:.0f} s -> {out}")
    for k in m:
        print(f'  {k:>9}: {100 * m[k]:6.2f} +- {100 * s[k]:5.2f}')
    for note in result['warnings']:
        print(f'warning: {note}', file=sys.stderr)
    return 0
