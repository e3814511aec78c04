"""Node-classification training over the benchmark splits.

:func:`run` trains a fresh model on every requested split (Adam, full batch, evaluation every ``eval_every`` steps,
early stopping with ``patience``; with the training option ``batch_size``, on sampled mini-batches instead, see
:mod:`graphite.cli.minibatch`, optionally data-parallel over ``torchrun`` ranks, see
:mod:`graphite.cli.distributed`) and reports the test metric at the step with the best validation metric (the
best-validation checkpoint). The graph, its GRAPHITE transform, masks and the sparse structures the models use are
built once per dataset and reused by every split (and by every call of :func:`run` on the same ``data`` object).
"""
from __future__ import annotations

import copy
import math
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from graphite.cli.config import TRAINING_DEFAULTS, validate_params
from graphite.cli.prepared_data import PreparedData, prepare
from graphite.cli.results_io import environment, summarize_splits
from graphite.cli.training_options import ema_decay, label_smoothing, weight_average

__all__ = ['run', 'metric_for', 'evaluate_metric', 'parse_splits']


def metric_for(dataset: str) -> str:
    """The dataset registry's metric for ``dataset`` (:attr:`graphite.datasets.DatasetInfo.metric`: ``'roc_auc'`` for
    the two-class yandex datasets, ``'accuracy'`` otherwise); ``'accuracy'`` for a graph the registry does not know
    (a user-provided ``Data`` passed to :func:`run`)."""
    from graphite.datasets import UnknownDatasetError, info
    try:
        return info(dataset).metric
    except UnknownDatasetError:
        return 'accuracy'


def evaluate_metric(metric: str, logits: Tensor, y: Tensor) -> float:
    """Accuracy of ``argmax(logits)`` or ROC-AUC of the class-1 probability, computed by :mod:`graphite.metrics` (the
    one metrics module of node classification and link prediction); value in ``[0, 1]``."""
    from graphite import metrics
    if y.numel() == 0:
        raise ValueError('cannot evaluate a metric on an empty node set')
    if metric == 'accuracy':
        return metrics.accuracy(y, logits.detach())
    if metric == 'roc_auc':
        if logits.size(-1) != 2:
            raise ValueError(f'roc_auc needs two-class logits, got {logits.size(-1)} classes')
        return metrics.roc_auc(y, torch.softmax(logits.detach().float(), -1)[:, 1])
    raise ValueError(f"unknown metric {metric!r}; expected 'accuracy' or 'roc_auc'")


def parse_splits(spec, num_splits: int) -> List[int]:
    """``'0-9'``, ``'0,3,5'``, ``'2'``, an int or a list -> sorted list of split ids, checked against ``num_splits``."""
    if spec is None:
        ids = list(range(num_splits))
    elif isinstance(spec, int):
        ids = [spec]
    elif isinstance(spec, str):
        ids = []
        for part in spec.split(','):
            part = part.strip()
            if not part:
                continue
            try:
                if '-' in part:
                    a, b = part.split('-', 1)
                    ids.extend(range(int(a), int(b) + 1))
                else:
                    ids.append(int(part))
            except ValueError:
                raise ValueError(f"bad split specification {spec!r}; use e.g. '0-9' or '0,2,5'") from None
    else:
        ids = [int(s) for s in spec]
    if not ids:
        raise ValueError(f'no splits selected by {spec!r}')
    bad = [i for i in ids if not 0 <= i < num_splits]
    if bad:
        raise ValueError(f'split(s) {bad} out of range: this dataset has {num_splits} split(s) (0..{num_splits - 1})')
    return sorted(dict.fromkeys(ids))


def after_eval(bar, on_eval, step: int, loss: float, val: float, best_val: float, stop: bool) -> bool:
    """Shared by the training loops after each evaluation: progress bar, ``on_eval(step, val)``; returns ``stop``."""
    if bar is not None:
        bar.set_postfix(loss=f'{loss:.3f}', val=f'{val:.4f}', best=f'{best_val:.4f}', refresh=False)
        bar.update(1)
    if on_eval is not None:
        on_eval(step, val)
    return stop


def _train_split(prep: PreparedData, model_cls, model_kwargs: Dict[str, Any], train: Dict[str, Any], split: int,
                 seed: int, metric: str, on_eval, step_offset: int, progress: bool, desc: str, keep_best: bool = False):
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
    from graphite.nn import transductive_kwargs  # one fixed graph: cached normalisation is safe
    model = model_cls(prep.x.size(1), int(train['hidden_channels']), prep.num_classes,
                      **transductive_kwargs(model_cls, model_kwargs)).to(prep.device)
    opt = torch.optim.Adam(model.parameters(), lr=float(train['lr']), weight_decay=float(train['weight_decay']))
    tr, va, te = (prep.index[n][split] for n in ('train_mask', 'val_mask', 'test_mask'))
    if tr.numel() == 0 or va.numel() == 0 or te.numel() == 0:
        raise ValueError(f'split {split} has an empty train/val/test set')
    y_tr, y_va, y_te = prep.y[tr], prep.y[va], prep.y[te]
    x, ei, et = prep.x, prep.edge_index, prep.edge_type
    epochs, patience, every = int(train['epochs']), int(train['patience']), max(1, int(train['eval_every']))
    smoothing = label_smoothing(train)
    average = weight_average(model, ema_decay(train))  # evaluated and checkpointed in place of the raw weights
    evaluated = model if average is None else average.module
    best_val, best_test, best_step, evals = -math.inf, float('nan'), -1, 0
    best_state = None  # keep_best: a copy of the weights at the best validation step
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc=desc, leave=False, dynamic_ncols=True)
    try:
        for step in range(1, epochs + 1):
            model.train()
            opt.zero_grad(set_to_none=True)
            out = model(x, ei, et)
            loss = F.cross_entropy(out[tr], y_tr, label_smoothing=smoothing)
            if not torch.isfinite(loss):
                raise FloatingPointError(f'training loss became {loss.item()} at step {step} of split {split}; '
                                         'lower the learning rate')
            loss.backward()
            opt.step()
            if average is not None:
                average.update_parameters(model)
            if step % every and step != epochs:
                if bar is not None:
                    bar.update(1)
                continue
            evaluated.eval()
            with torch.no_grad():
                out = evaluated(x, ei, et)
            val = evaluate_metric(metric, out[va], y_va)
            if val > best_val:
                best_val, best_step = val, step
                best_test = evaluate_metric(metric, out[te], y_te)
                if keep_best:
                    best_state = {k: v.detach().clone() for k, v in evaluated.state_dict().items()}
            evals += 1
            if after_eval(bar, on_eval, step_offset + step, loss.item(), val, best_val,
                          bool(patience and step - best_step >= patience)):
                break
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return best_val, best_test, best_step, step, (model.eval() if keep_best else None)


def run(dataset: str, model: str, transform: Optional[str], params: Dict[str, Any], splits=None, seed: int = 0,
        on_eval: Optional[Callable[[int, float], None]] = None, progress: bool = True, data=None,
        on_split: Optional[Callable[[Dict[str, Any]], None]] = None, device='cpu',
        on_model: Optional[Callable[[Any, Dict[str, Any]], None]] = None,
        distributed: bool = False) -> Dict[str, Any]:
    """Train ``model`` on ``dataset`` (optionally GRAPHITE-transformed) on each split; report the best-validation
    test metric per split.

    Args:
        dataset (str): dataset name (loaded with :func:`graphite.datasets.load` unless ``data`` is given).
        model (str): a key of :data:`graphite.nn.MODELS`.
        transform (str, optional): ``None`` or ``'graphite'``.
        params (dict): model options + training options (:data:`graphite.cli.config.TRAINING_DEFAULTS` fill the
            gaps); ``transform_options`` is passed to :class:`graphite.Graphite`.
        splits: split ids (list, int, or a string such as ``'0-9'``); default all splits of the dataset.
        seed (int): base seed; split ``s`` trains with seed ``seed + s`` (same seed -> identical numbers on CPU with
            a fixed thread count).
        on_eval (callable, optional): ``on_eval(step, val)`` after every evaluation, ``step`` increasing across
            splits (split ``k`` of the run uses steps ``k * epochs + 1 ..``). Exceptions (e.g. ``optuna.TrialPruned``,
            ``KeyboardInterrupt``) propagate.
        progress (bool): show a tqdm bar per split.
        data (Data, optional): the dataset already loaded (the original graph, or one already transformed by
            :class:`graphite.Graphite`, recognised by its ``edge_type``); reused across calls without re-transforming.
        on_split (callable, optional): called with the partial result dict after every finished split (used to save
            partial results, so an interrupted run keeps its finished splits).
        device (str or torch.device): ``'cpu'`` (default), ``'cuda'``, ``'cuda:N'`` or ``'auto'`` (see
            :func:`graphite.device.resolve_device`). Models are initialised on the CPU generator state of the seed
            and then moved, so the initial weights are the same on every device.
        on_model (callable, optional): ``on_model(model, info)`` after every finished split (before ``on_split``),
            with the model restored to its weights at the best validation step (``eval()`` mode) and ``info`` the
            keyword arguments of :func:`graphite.saved_model.save_model` for it plus ``split``, ``seed``,
            ``metric``, ``val``, ``test``, ``best_step``, ``steps`` (used by ``graphite run --save-model``). Without
            it no weights are copied.
        distributed (bool): data-parallel mini-batch training over the ranks started by ``torchrun`` (needs
            ``batch_size``; see :mod:`graphite.cli.distributed`); every rank returns the same result, progress bars
            and ``on_split`` run on rank 0 only.

    Returns:
        dict with ``dataset, model, transform, config, metric, per_split, per_split_val, mean, std, val_mean,
        seconds, environment`` plus ``splits``, ``best_steps``, ``steps`` and ``complete``.
    """
    from graphite.nn import get_model
    from graphite.preprocessing import PREPROCESS_KEYS
    model_cls = get_model(model)
    params = dict(params or {})
    validate_params(model, params)
    train = dict(TRAINING_DEFAULTS)
    train.update({k: v for k, v in params.items() if k in TRAINING_DEFAULTS})
    model_kwargs = {k: v for k, v in params.items() if k not in TRAINING_DEFAULTS}
    if transform == 'none':
        transform = None
    t0 = time.time()
    from graphite.device import device_name, resolve_device
    device = resolve_device(device)
    minibatch = train.get('batch_size') is not None
    if minibatch and on_model is not None:
        raise ValueError('saving models (--save-model) is not supported with mini-batch training (--batch-size) yet')
    if distributed and not minibatch:
        raise ValueError('distributed training needs mini-batches: set batch_size (--batch-size)')
    from graphite.cli import distributed as D
    if distributed:
        device = D.rank_device(device)
    ctx = D.init(device) if distributed else D.SINGLE
    if data is None:
        from graphite.datasets import load
        with D.main_first(ctx):  # rank 0 downloads/processes the dataset, the others then read its files
            data = load(dataset)
    preprocessing = {k: bool(train.get(k)) for k in PREPROCESS_KEYS}  # applied here, recorded with saved models
    cpu_prep = prepare(data, transform, train.get('transform_options') or {}, **preprocessing)
    prep = cpu_prep.to(device)
    split_ids = parse_splits(splits, prep.num_splits)
    metric = metric_for(dataset)
    if metric == 'roc_auc' and prep.num_classes != 2:
        raise ValueError(f'{dataset}: roc_auc needs two classes, found {prep.num_classes}')
    result: Dict[str, Any] = {
        'dataset': dataset, 'model': model.lower(), 'transform': transform,
        'config': {k: v for k, v in params.items()}, 'metric': metric,
        'splits': [], 'per_split': [], 'per_split_val': [], 'best_steps': [], 'steps': [],
        'mean': float('nan'), 'std': float('nan'), 'val_mean': float('nan'), 'seconds': 0.0,
        'environment': {**environment(seed, torch.get_num_threads()), 'device': str(device),
                        'device_name': device_name(device), 'world_size': ctx.world_size},
        'requested_splits': list(split_ids), 'complete': False,
    }
    epochs = int(train['epochs'])
    for k, split in enumerate(split_ids):
        desc = f'{dataset}/{model}{"+graphite" if transform else ""} split {split}'
        if minibatch:
            from graphite.cli.minibatch import train_split_minibatch
            val, test, best_step, steps = train_split_minibatch(
                cpu_prep, model_cls, model_kwargs, train, split, seed + split, metric, on_eval, k * epochs,
                progress, desc, device=device, ctx=ctx)
        else:
            val, test, best_step, steps, best_model = _train_split(
                prep, model_cls, model_kwargs, train, split, seed + split, metric, on_eval, k * epochs, progress,
                desc=desc, keep_best=on_model is not None)
        if on_model is not None:
            on_model(best_model, {
                'model_name': model.lower(), 'hidden_channels': int(train['hidden_channels']),
                'in_channels': prep.x.size(1), 'num_classes': prep.num_classes, 'model_kwargs': model_kwargs,
                'dataset': dataset, 'transform': transform, 'transform_options': train.get('transform_options') or {},
                'preprocess': preprocessing,
                'config': dict(params), 'split': split, 'seed': seed + split, 'metric': metric, 'val': val,
                'test': test, 'best_step': best_step, 'steps': steps})
        result['splits'].append(split)
        result['per_split'].append(test)
        result['per_split_val'].append(val)
        result['best_steps'].append(best_step)
        result['steps'].append(steps)
        summarize_splits(result)
        result['seconds'] = time.time() - t0
        result['complete'] = k == len(split_ids) - 1
        if on_split is not None and ctx.is_main:
            on_split(copy.deepcopy(result))
    D.shutdown(ctx)  # on an error the process ends, and the process group with it
    return result
