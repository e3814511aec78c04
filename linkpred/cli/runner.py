"""The runs behind ``graphite linkpred`` and ``graphite tune --task linkpred``: load a graph, split it under a
protocol, train a model (or score a heuristic) for each seed, and summarise the seeds as one result dict.

:func:`run_linkpred` is the entry point; :mod:`linkpred.cli.command` adds the command line, the configs and the
result file around it.
"""
from __future__ import annotations

import time
import warnings
from typing import Callable, Optional

__all__ = ['load_graph', 'run_linkpred']


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
    from linkpred.evaluation import scored_split_metrics
    from linkpred.heuristics import HEURISTICS, Heuristic
    from linkpred.training import _graph_edges
    n = split.num_nodes
    res = {}
    for pre in ('val', 'test'):
        h = Heuristic(_graph_edges(getattr(split, f'{pre}_graph'), n), n)
        res[pre] = scored_split_metrics(getattr(h, HEURISTICS[name]), getattr(split, f'{pre}_pos'),
                                        getattr(split, f'{pre}_neg'), getattr(split, f'{pre}_mrr'),
                                        getattr(split, f'{pre}_mrr_mask'), getattr(split, f'{pre}_rank'))
    return {'val': res['val'], 'test': res['test'], 'best_epoch': 0}


def _split(data, full: dict, seed: int, transform, protocol: str = 'random', split_seed: int = 0,
           name: Optional[str] = None, split_dir: Optional[str] = None):
    """:func:`linkpred.splits.make_split` with the command-line spelling of GRAPHITE's discretisation options
    added to its error about non-binary features."""
    from linkpred.splits import make_split
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
