"""Mini-batch node-classification training on sampled subgraphs, with full-graph layer-wise evaluation.

Used by :func:`graphite.cli.runner.run` when the training option ``batch_size`` is set (``graphite run ...
--batch-size 512 --fanout 15,10 [--feature-fanout 5] [--distributed]``). One *epoch* is one pass over the split's
training nodes in a seeded random order, cut into batches of ``batch_size`` seed nodes; each batch is the
``fanout``-hop sampled neighbourhood of its seeds (:mod:`graphite.sampling`: PyG's sampler when ``pyg-lib`` or
``torch-sparse`` is installed, the PyTorch CSR sampler otherwise; ``feature_fanout`` caps the neighbours drawn
around a feature node, which on a GRAPHITE graph is a hub shared by a large share of the graph nodes). The loss is
taken on the seeds, which come first in every batch.

Node features of a batch are rows of the full graph's ``x`` (``x[n_id]``): the feature nodes keep the mean-initialised
features :class:`graphite.Graphite` computed once over the full graph; nothing is recomputed on the sample. Each
batch is a new graph, so models run with ``cached=False``. Evaluation (every ``eval_every`` epochs) computes the
logits of all nodes on the full graph with :func:`graphite.nn.inference.layerwise_inference` (no autograd graph,
memory ``O(N*H + E)``). Early stopping (``patience``) counts epochs. Under ``--distributed`` every rank trains on
its share of each global batch (:mod:`graphite.cli.distributed`); rank 0 evaluates and broadcasts the metrics, so
all ranks stop at the same epoch.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from graphite.cli import distributed as D

__all__ = ['parse_fanout', 'build_loader', 'sample_batch', 'epoch_batches', 'train_split_minibatch',
           'DEFAULT_FANOUT']

#: neighbours per hop when ``batch_size`` is set and ``fanout`` is not
DEFAULT_FANOUT = [15, 10]


def parse_fanout(value: Union[None, int, str, Sequence[int]], name: str = 'fanout') -> Optional[List[int]]:
    """``'15,10'``, ``[15, 10]`` or ``10`` -> ``[15, 10]`` / ``[10]`` (``-1`` = every neighbour); ``None`` stays
    ``None``."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            values = [int(v) for v in value.replace(' ', '').split(',') if v]
        except ValueError:
            raise ValueError(f"{name} must be comma-separated integers such as '15,10', got {value!r}") from None
    elif isinstance(value, int):
        values = [value]
    else:
        values = [int(v) for v in value]
    if not values or any(v == 0 or v < -1 for v in values):
        raise ValueError(f'{name} needs one value >= 1 (or -1 for all neighbours) per hop, got {value!r}')
    return values


def build_loader(prep, fanout: List[int], feature_fanout: Optional[List[int]]):
    """A :class:`~torch_geometric.loader.NeighborLoader` over all nodes of ``prep`` (CPU tensors) with
    :class:`graphite.sampling.NeighborSampler`; built once per (prepared data, fan-outs) and reused by every split."""
    cache = prep.__dict__.setdefault('_loaders', {})
    key = (tuple(fanout), tuple(feature_fanout) if feature_fanout else None)
    if key not in cache:
        from torch_geometric.data import Data

        from graphite.sampling import neighbor_loader
        data = Data(x=prep.x, edge_index=prep.edge_index, y=prep.y, num_nodes=prep.num_nodes)
        if prep.edge_type is not None:
            data.edge_type = prep.edge_type
        node_type = getattr(prep.data, 'node_type', None)
        if node_type is not None:
            data.node_type = node_type
        if feature_fanout is not None and len(feature_fanout) == 1:
            feature_fanout = feature_fanout * len(fanout)
        cache[key] = neighbor_loader(data, fanout, batch_size=1, feature_fanout=feature_fanout)
    return cache[key]


def sample_batch(loader, seeds: Tensor, device: torch.device, generator: Optional[torch.Generator] = None):
    """The sampled subgraph of ``seeds`` (node ids, first ``batch.batch_size`` nodes of the batch), on ``device``;
    ``x`` holds rows of the full graph's features (``batch.x == data.x[batch.n_id]``)."""
    loader.node_sampler.generator = generator
    batch = loader.collate_fn(seeds.cpu())
    if not loader.filter_per_worker:  # else collate_fn has already joined the features
        batch = loader.filter_fn(batch)
    return batch.to(device)


def epoch_batches(train_index: Tensor, batch_size: int, generator: torch.Generator,
                  ctx: D.DistContext = D.SINGLE) -> List[Tensor]:
    """This rank's seed batches of one epoch: a random order of ``train_index`` (the same on every rank), padded to
    a multiple of the world size, cut into global batches of ``batch_size * world_size`` seeds, each sharded."""
    order = train_index[torch.randperm(train_index.numel(), generator=generator)]
    order = D.pad_to_multiple(order, ctx.world_size)
    size = batch_size * ctx.world_size
    return [D.shard(order[i:i + size], ctx) for i in range(0, order.numel(), size)]


def _minibatch_kwargs(model_cls, model_kwargs: Dict[str, Any]) -> Dict[str, Any]:
    import inspect
    kwargs = dict(model_kwargs)
    if 'cached' in inspect.signature(model_cls.__init__).parameters:
        kwargs['cached'] = False  # every batch is a new graph
    return kwargs


def train_split_minibatch(prep, model_cls, model_kwargs: Dict[str, Any], train: Dict[str, Any], split: int,
                          seed: int, metric: str, on_eval, step_offset: int, progress: bool, desc: str,
                          device: torch.device, ctx: D.DistContext = D.SINGLE,
                          on_step: Optional[Callable[[int, float], None]] = None):
    """Train one split on mini-batches; returns ``(best_val, best_test, best_epoch, epochs_run)`` like the
    full-batch loop. ``prep`` is the CPU :class:`~graphite.cli.prepared_data.PreparedData` (sampling runs on the CPU);
    ``on_step(step, loss)`` sees the loss of every optimiser step (averaged over ranks)."""
    from graphite.cli.runner import after_eval, evaluate_metric
    from graphite.cli.training_options import ema_decay, label_smoothing, weight_average
    from graphite.nn.inference import layerwise_inference
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
    model = model_cls(prep.x.size(1), int(train['hidden_channels']), prep.num_classes,
                      **_minibatch_kwargs(model_cls, model_kwargs)).to(device)
    model = D.wrap(model, ctx, device)
    opt = torch.optim.Adam(model.parameters(), lr=float(train['lr']), weight_decay=float(train['weight_decay']))
    tr, va, te = (prep.index[n][split] for n in ('train_mask', 'val_mask', 'test_mask'))
    if tr.numel() == 0 or va.numel() == 0 or te.numel() == 0:
        raise ValueError(f'split {split} has an empty train/val/test set')
    full = prep.to(device)
    va, te = full.index['val_mask'][split], full.index['test_mask'][split]
    y_va, y_te = full.y[va], full.y[te]
    fanout = parse_fanout(train.get('fanout')) or list(DEFAULT_FANOUT)
    loader = build_loader(prep, fanout, parse_fanout(train.get('feature_fanout'), 'feature_fanout'))
    batch_size = int(train['batch_size'])
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    order_gen = torch.Generator().manual_seed(seed)                        # same seed order on every rank
    sample_gen = torch.Generator().manual_seed(seed * 1009 + ctx.rank + 1)  # each rank samples its own batches
    epochs, patience, every = int(train['epochs']), int(train['patience']), max(1, int(train['eval_every']))
    smoothing = label_smoothing(train)
    average = weight_average(model, ema_decay(train))  # evaluated in place of the raw weights
    evaluated = model if average is None else average.module
    best_val, best_test, best_epoch, step = -math.inf, float('nan'), -1, 0
    bar = None
    if progress and ctx.is_main:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs, desc=desc, leave=False, dynamic_ncols=True)
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            for seeds in epoch_batches(tr, batch_size, order_gen, ctx):
                batch = sample_batch(loader, seeds, device, sample_gen)
                opt.zero_grad(set_to_none=True)
                out = model(batch.x, batch.edge_index, getattr(batch, 'edge_type', None))[:batch.batch_size]
                loss = F.cross_entropy(out, batch.y[:batch.batch_size], label_smoothing=smoothing)
                with D.collective(ctx, f'the gradient all-reduce of step {step + 1}'):
                    loss.backward()
                step += 1
                mean_loss = float(D.all_mean(loss.detach(), ctx, f'the loss all-reduce of step {step}'))
                if not math.isfinite(mean_loss):
                    raise FloatingPointError(f'training loss became {mean_loss} at step {step} (epoch {epoch}) of '
                                             f'split {split}; lower the learning rate')
                opt.step()
                if average is not None:
                    average.update_parameters(D.unwrap(model))
                if on_step is not None:
                    on_step(step, mean_loss)
            if epoch % every and epoch != epochs:
                if bar is not None:
                    bar.update(1)
                continue
            scores = torch.zeros(2, dtype=torch.float64, device=device)
            if ctx.is_main:
                logits = layerwise_inference(evaluated, full.x, full.edge_index, full.edge_type)
                scores[0] = evaluate_metric(metric, logits[va], y_va)
                scores[1] = evaluate_metric(metric, logits[te], y_te)
                del logits
            val, test = (float(v) for v in D.broadcast(scores, ctx, f'the evaluation broadcast of epoch {epoch}'))
            if val > best_val:
                best_val, best_test, best_epoch = val, test, epoch
            if after_eval(bar, on_eval, step_offset + epoch, mean_loss, val, best_val,
                          bool(patience and epoch - best_epoch >= patience)):
                break
    finally:
        if bar is not None:
            bar.close()
    return best_val, best_test, best_epoch, epoch
