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


def run_linkpred(dataset: str, encoder: Optional[str], decoder: Optional[str], params: Optional[dict] = None,
                 runs: int = 3, seed: int = 0, on_eval: Optional[Callable[[int, float], None]] = None,
                 progress: bool = True, transform: Optional[str] = None, data=None, protocol: Optional[str] = None,
                 split_seed: int = 0, split_dir: Optional[str] = None, heuristic: Optional[str] = None,
                 resume: Optional[dict] = None, on_seed: Optional[Callable[[dict], None]] = None,
                 device=None, **dataset_kw) -> dict:
    """Train ``runs`` models (run ``r`` seeded with ``seed + r``) under ``protocol`` and summarise.

    ``protocol`` (:mod:`linkpred.protocols`; default ``'random'`` for the synthetic dataset, else
    ``'heart-existing'``): ``random`` draws a new edge split per run, the heart protocols use one fixed split
    (``split_seed``, or HeaRT's files in ``split_dir``) for every run. ``heuristic`` (``cn``/``aa``/``ra``) scores
    pairs on the message-passing graph instead of training (deterministic: every seed gives the same numbers).
    ``resume``: a partial result of the same command (its ``per_run``/``per_run_val``/``best_epochs`` are kept and
    only the missing seeds run); ``on_seed(partial_result)`` is called after every seed (for atomic checkpoints).

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
        see :func:`linkpred.evaluation.metric_warnings`); and ``protocol``, ``seeds``, ``per_run_val``,
        ``split`` (seed, source, SHA-256, sizes), ``message_passing`` (edges of the graph used in training, at
        validation and at test), ``negatives_per_positive``, ``target_edges_removed_in_training``, ``batch_size``,
        ``selection``, ``complete`` and, when validation and test share one graph, ``metrics_per_metric_selection``
        (each metric at its own best validation epoch, as HeaRT's ``Logger`` reports).
    """
    from tqdm import tqdm

    from linkpred.evaluation import MetricWarning, metric_warnings
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
    if protocol is None:
        protocol = 'random' if dataset == 'synthetic' else 'heart-existing'
    if heuristic is not None:
        name = heuristic
    elif encoder is None or decoder is None:
        raise ValueError('give --encoder and --decoder, or --heuristic')
    else:
        name = model_name(encoder, decoder, sep)
    epochs = int(full['epochs'])
    bar = tqdm(total=runs * epochs, desc=f'{dataset}/{name}', disable=not progress, leave=False)
    resume = resume or {}
    per_run, per_val = list(resume.get('per_run', [])), list(resume.get('per_run_val', []))
    best_epochs, per_metric_sel = list(resume.get('best_epochs', [])), list(resume.get('test_per_metric_selection', []))
    notes, info, removed, batch = list(resume.get('warnings', [])), None, None, None
    fixed = None
    base = {'dataset': dataset, 'model': name, 'transform': transform, 'protocol': protocol,
            'device': str(device or 'cpu'),
            'config': {**full, 'dataset_options': ds_opts, 'transform_options': t_opts}, 'metric': metric,
            'encoder': encoder, 'decoder': decoder, 'heuristic': heuristic, 'separate_ego': sep,
            'dataset_options': ds_opts, 'seeds': list(range(seed, seed + runs))}
    try:
        for r in range(len(per_run), runs):
            if protocol == 'random' or fixed is None:
                fixed = _split(data, full, seed + r, tf, protocol, split_seed, dataset, split_dir)
            split = fixed
            info = split.info
            sizes = {'val': (split.val_neg if split.val_neg is not None else split.val_rank).size(1),
                     'test': (split.test_neg if split.test_neg is not None else split.test_rank).size(1)}
            notes += [n for n in metric_warnings(sizes) if n not in notes]
            if heuristic is not None:
                out = _heuristic_run(split, heuristic)
            else:
                cb = None if on_eval is None else (lambda step, v, off=r * epochs: on_eval(off + step, v))
                with warnings.catch_warnings():  # reported once in the result's 'warnings', not at each evaluation
                    warnings.simplefilter('ignore', MetricWarning)
                    out = train_link_predictor(split, encoder, decoder, params, seed=seed + r, on_eval=cb,
                                               progress=bar, device=device)
                removed, batch = out['remove_target_edges'], out['batch_size']
            bar.update(r * epochs + epochs - bar.n)
            per_run.append(out['test'])
            per_val.append(out['val'])
            best_epochs.append(out['best_epoch'])
            per_metric_sel.append(out.get('test_per_metric_selection'))
            if on_seed is not None and r + 1 < runs:
                on_seed(_summary(base, per_run, per_val, best_epochs, per_metric_sel, notes, info, removed, batch,
                                 t0, seed, complete=False))
    finally:
        bar.close()
    return _summary(base, per_run, per_val, best_epochs, per_metric_sel, notes, info, removed, batch, t0, seed,
                    complete=True)


def _summary(base, per_run, per_val, best_epochs, per_metric_sel, notes, info, removed, batch, t0, seed,
             complete: bool) -> dict:
    """The result dict of :func:`run_linkpred` from the per-seed metrics so far."""
    import numpy as np
    import torch

    from graphite.cli.results_io import environment
    metric = base['metric']
    keys = list(per_run[0])
    tests = np.array([m[metric] for m in per_run])
    out = {**base, 'complete': complete, 'seeds_done': len(per_run),
           'per_split': tests.tolist(), 'per_split_val': [m[metric] for m in per_val],
           'mean': float(tests.mean()), 'std': float(tests.std()),
           'val_mean': float(np.mean([m[metric] for m in per_val])),
           'seconds': time.time() - t0,
           'environment': {**environment(seed, torch.get_num_threads()), 'device': base['device']},
           'metrics': {k: float(np.mean([m[k] for m in per_run])) for k in keys},
           'metrics_std': {k: float(np.std([m[k] for m in per_run])) for k in keys},
           'val_metrics': {k: float(np.mean([m[k] for m in per_val])) for k in keys},
           'per_run': per_run, 'per_run_val': per_val, 'best_epochs': best_epochs,
           'selection': f'test at the epoch of best validation {metric}', 'warnings': notes}
    if info is not None:
        out['split'] = {k: v for k, v in info.items() if k not in ('message_passing', 'negatives_per_positive')}
        out['message_passing'] = info['message_passing']
        out['negatives_per_positive'] = info['negatives_per_positive']
    out['target_edges_removed_in_training'] = removed
    out['batch_size'] = batch
    if any(x is not None for x in per_metric_sel):  # HeaRT's Logger: each metric at its own best validation epoch
        sel = [x for x in per_metric_sel if x is not None]
        out['test_per_metric_selection'] = per_metric_sel
        out['metrics_per_metric_selection'] = {k: float(np.mean([x[k] for x in sel])) for k in sel[0]}
        out['metrics_per_metric_selection_std'] = {k: float(np.std([x[k] for x in sel])) for k in sel[0]}
    return out


def _heuristic_run(split, name: str) -> dict:
    """Validation and test metrics of heuristic ``name`` on the split's message-passing graphs."""
    import torch

    from linkpred.evaluation import split_metrics
    from linkpred.heuristics import HEURISTICS, Heuristic
    from linkpred.training import _graph_edges
    n = split.num_nodes
    res = {}
    for pre in ('val', 'test'):
        graph = getattr(split, f'{pre}_graph')
        h = Heuristic(_graph_edges(graph, n), n)
        fn = getattr(h, HEURISTICS[name])
        pos, neg = getattr(split, f'{pre}_pos'), getattr(split, f'{pre}_neg')
        tails, rank = getattr(split, f'{pre}_mrr'), getattr(split, f'{pre}_rank')
        s_rank = None
        if tails is not None:
            q = tails.size(1)
            s_rank = fn(torch.stack([pos[0].repeat_interleave(q), tails.reshape(-1)])).view(-1, q)
        elif rank is not None:
            s_rank = fn(rank.reshape(-1, 2).t()).view(-1, rank.size(1))
        res[pre] = split_metrics(fn(pos), None if neg is None else fn(neg), s_rank,
                                 getattr(split, f'{pre}_mrr_mask'))
    return {'val': res['val'], 'test': res['test'], 'best_epoch': 0}


def _split(data, full: dict, seed: int, transform, protocol: str = 'random', split_seed: int = 0,
           name: Optional[str] = None, split_dir: Optional[str] = None):
    """:func:`linkpred.training.make_split` with the command-line spelling of GRAPHITE's discretisation options
    added to its error about non-binary features."""
    from linkpred.training import make_split
    cache_name = None if name in (None, 'synthetic') else name
    try:
        return make_split(data, protocol, seed=seed, split_seed=split_seed, name=cache_name, transform=transform,
                          val=float(full['val']), test=float(full['test']),
                          mrr_negatives=int(full['mrr_negatives']), split_dir=split_dir)
    except ValueError as e:
        if transform is None or 'binarize' not in str(e):
            raise
        raise ValueError(f"{e}; on the command line: --set 'transform_options={{binarize: 0.0}}' or "
                         f"--set 'transform_options={{buckets: 4}}'") from None


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
