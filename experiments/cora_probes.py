"""Validation-only probes of ideas beyond the searched spaces, on a committed config (sessions 13, 16, 17, 19, Cora).

Usage::

    GRAPHITE_DATA=../shared/data python experiments/cora_probes.py \
        --config experiments/configs/cora/graphite-study-s10-best.yaml --seed 34 --out cora-probes.json

Each probe trains the config's model (Adam, full batch, the config's schedule) on every split of the graph that
``graphite run`` builds (the config's transform, transform options and preprocessing) and prints the mean validation
accuracy of each variant; a variant would only be kept if it raised validation, so test accuracy is
recorded in the JSON for the record but is not what the probe decides on.

* ``correct-smooth``: PyG's :class:`~torch_geometric.nn.models.CorrectAndSmooth` (Huang et al., ICLR 2021) applied to
  the softmax of the best-validation checkpoint, with the *training* labels only, over a small grid of its options.
* ``label-input``: training labels as extra input features (the "label trick", Wang et al. 2021): at every step a
  fraction ``rate`` of the training nodes hide their label and are the loss targets; at evaluation every training
  label is visible.
* ``select-by-loss``: the checkpoint with the lowest validation loss instead of the highest validation accuracy.
* ``seed-ensemble``: ``--members`` models per split, member ``m`` seeded ``seed + s + 10007 m`` (member 0 is the base
  run), their softmax outputs at each one's best-validation checkpoint averaged; one row per ensemble size.
* ``held-out-ensemble``: ``seed-ensemble`` without its bias toward single models (a single model's validation is
  the maximum over its own checkpoints, an ensemble's is not): each split's validation nodes are halved once (A, B);
  every member chooses its checkpoint on A, and every row is scored on B, which no choice saw.
* ``held-out-ema``: the moving average of the weights (``ema_decay``, ``--ema-decays``) against the raw weights,
  each checkpoint chosen on validation half A and scored on half B, as ``held-out-ensemble`` does.
* ``weight-decay-groups``: Adam weight decay ``a`` on the input layer (``lin_in``) and ``b`` on every other parameter
  (``--decays a:b ...``), as GCN's own code decays only its first layer; the base row is the config's one decay.

A split stops when neither checkpoint improved for ``patience`` steps, so a split may train a little longer than
under ``graphite run`` (the base variant's numbers can differ slightly from the config's committed result).
"""
from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np
import torch
import torch.nn.functional as F


def _setup(args):
    """The config's training options, model options and its prepared graph (:func:`graphite.cli.prepared_data.prepare`:
    the config's transform, transform options and preprocessing, as ``graphite run`` builds it)."""
    from graphite.cli.config import TRAINING_DEFAULTS, load_config
    from graphite.cli.prepared_data import prepare
    from graphite.datasets import load
    cfg = load_config(args.dataset, args.model, path=args.config)
    train = {**TRAINING_DEFAULTS, **{k: v for k, v in cfg['params'].items() if k in TRAINING_DEFAULTS}}
    kwargs = {k: v for k, v in cfg['params'].items() if k not in TRAINING_DEFAULTS}
    prep = prepare(load(args.dataset), cfg['transform'], train.get('transform_options'),
                   undirected=bool(train.get('undirected')), normalize_features=bool(train.get('normalize_features')))
    return cfg, train, kwargs, prep


def _masks(data, s):
    return [data.index[n][s] for n in ('train_mask', 'val_mask', 'test_mask')]


def _acc(out, y, idx) -> float:
    return (out[idx].argmax(-1) == y[idx]).float().mean().item()


def _train(args, train, kwargs, data, s, extra_in=0, inputs=None, seed=None, decays=None, select=None):
    """One split of the prepared graph ``data``; ``inputs(step)`` gives ``(x, loss_index)`` per training step and
    ``inputs(None)`` the evaluation input; ``seed`` replaces ``args.seed + s``; ``decays = (a, b)`` decays ``lin_in``
    by ``a`` and the rest by ``b``; ``select`` (validation node indices) chooses the best-accuracy checkpoint on those
    nodes instead of the whole validation set, and its first entry is the accuracy on them. The config's
    ``label_smoothing`` and ``ema_decay`` act as in ``graphite run``.
    Returns the best-accuracy and best-loss checkpoints as ``(val, test, step, softmax)``."""
    from graphite.cli.training_options import ema_decay, label_smoothing, weight_average
    from graphite.nn import get_model, transductive_kwargs
    seed = args.seed + s if seed is None else seed
    torch.manual_seed(seed)
    np.random.seed(seed)
    tr, va, te = _masks(data, s)
    y, ei, et, C = data.y, data.edge_index, data.edge_type, data.num_classes
    select = va if select is None else select
    cls = get_model(args.model)
    model = cls(data.x.size(1) + extra_in, int(train['hidden_channels']), C, **transductive_kwargs(cls, kwargs))
    params = model.parameters()
    if decays is not None:
        named = list(model.named_parameters())
        first = [p for n, p in named if n.startswith('lin_in.')]
        if not first:
            raise ValueError(f'{args.model} has no input layer lin_in to decay apart')
        params = [{'params': first, 'weight_decay': decays[0]},
                  {'params': [p for n, p in named if not n.startswith('lin_in.')], 'weight_decay': decays[1]}]
    opt = torch.optim.Adam(params, lr=float(train['lr']), weight_decay=float(train['weight_decay']))
    average, smoothing = weight_average(model, ema_decay(train)), label_smoothing(train)
    evaluated = model if average is None else average.module
    inputs = inputs or (lambda step: (data.x, tr))
    x_eval = inputs(None)[0]
    by_acc, by_loss, best_loss = (-1.0, 0.0, 0, None), (0.0, 0.0, 0, None), float('inf')
    for step in range(1, int(train['epochs']) + 1):
        model.train()
        opt.zero_grad()
        x, target = inputs(step)
        F.cross_entropy(model(x, ei, et)[target], y[target], label_smoothing=smoothing).backward()
        opt.step()
        if average is not None:
            average.update_parameters(model)
        evaluated.eval()
        with torch.no_grad():
            out = evaluated(x_eval, ei, et)
        val, loss = _acc(out, y, select), F.cross_entropy(out[va], y[va]).item()
        if val > by_acc[0]:
            by_acc = (val, _acc(out, y, te), step, torch.softmax(out, -1))
        if loss < best_loss:
            best_loss, by_loss = loss, (val, _acc(out, y, te), step, None)
        patience = int(train['patience'])
        if patience and step - max(by_acc[2], by_loss[2]) >= patience:  # 0 = never stop, as in graphite run
            break
    return by_acc, by_loss


def correct_smooth(args, train, kwargs, data, splits):
    from torch_geometric.nn.models import CorrectAndSmooth
    from torch_geometric.utils import to_undirected
    soft = {s: _train(args, train, kwargs, data, s)[0] for s in splits}
    ei, y = to_undirected(data.edge_index, num_nodes=data.num_nodes), data.y
    rows = [{'variant': 'base model', 'val': [soft[s][0] for s in splits], 'test': [soft[s][1] for s in splits]}]
    grid = [(0, 0.0, 'auto')] + list(itertools.product([50], [0.5, 0.8, 1.0], ['auto', 1.0, 5.0, 20.0]))
    for (l1, a1, scale), a2 in itertools.product(grid, [0.5, 0.7, 0.8, 0.9]):
        val, test = [], []
        for s in splits:
            tr, va, te = _masks(data, s)
            cs = CorrectAndSmooth(max(l1, 1), a1, 50, a2, autoscale=scale == 'auto',
                                  scale=1.0 if scale == 'auto' else scale)
            p = soft[s][3]
            p = cs.smooth(cs.correct(p, y[tr], tr, ei) if l1 else p, y[tr], tr, ei)
            val.append(_acc(p, y, va))
            test.append(_acc(p, y, te))
        rows.append({'variant': f'C&S correct {l1} x alpha {a1} (scale {scale}), smooth 50 x alpha {a2}',
                     'val': val, 'test': test})
    return rows


def label_input(args, train, kwargs, data, splits):
    C, n = data.num_classes, data.num_nodes
    rows = []
    for rate in args.rates:
        val, test = [], []
        for s in splits:
            tr = _masks(data, s)[0]

            def inputs(step, tr=tr, rate=rate):
                if rate == 0:
                    return data.x, tr
                if step is None:
                    visible, target = tr, tr
                else:
                    perm = tr[torch.randperm(tr.numel())]
                    k = int(rate * tr.numel())
                    target, visible = perm[:k], perm[k:]
                labels = torch.zeros(n, C)
                labels[visible] = F.one_hot(data.y[visible], C).float()
                return torch.cat([data.x, labels], 1), target
            best = _train(args, train, kwargs, data, s, C if rate else 0, inputs)[0]
            val.append(best[0])
            test.append(best[1])
        rows.append({'variant': f'label input, mask rate {rate}', 'val': val, 'test': test})
    return rows


def select_by_loss(args, train, kwargs, data, splits):
    runs = [_train(args, train, kwargs, data, s) for s in splits]
    return [{'variant': 'best validation accuracy', 'val': [a[0] for a, _ in runs], 'test': [a[1] for a, _ in runs]},
            {'variant': 'lowest validation loss', 'val': [b[0] for _, b in runs], 'test': [b[1] for _, b in runs]}]


def _val_halves(va, s):
    """Split ``s``'s validation nodes in two fixed halves (a permutation seeded with ``s``): A and B."""
    perm = va[torch.randperm(va.numel(), generator=torch.Generator().manual_seed(s))]
    return perm[:va.numel() // 2], perm[va.numel() // 2:]


def seed_ensemble(args, train, kwargs, data, splits, held_out=False):
    """Single models against ensembles of the first k members. ``held_out``: every member chooses its checkpoint on
    validation half A and every row is scored on half B, which no choice saw (``val`` is the accuracy on B)."""
    val_rows = {s: _masks(data, s)[1] for s in splits}
    halves = {s: _val_halves(val_rows[s], s) for s in splits} if held_out else {}
    soft = {s: [_train(args, train, kwargs, data, s, seed=args.seed + s + 10007 * m,
                       select=halves[s][0] if held_out else None)[0] for m in range(args.members)] for s in splits}
    score = {s: halves[s][1] if held_out else val_rows[s] for s in splits}
    where = ', scored on validation half B' if held_out else ''
    rows = [{'variant': f'single models (mean over members){where}',
             'val': [np.mean([_acc(r[3], data.y, score[s]) for r in soft[s]]) for s in splits],
             'test': [np.mean([r[1] for r in soft[s]]) for s in splits]}]
    sizes = range(1, args.members + 1)
    val, test = {k: [] for k in sizes}, {k: [] for k in sizes}
    for s in splits:
        te = _masks(data, s)[2]
        p = 0
        for k, member in zip(sizes, soft[s]):  # p: the summed softmax of the first k members
            p = p + member[3]
            val[k].append(_acc(p, data.y, score[s]))
            test[k].append(_acc(p, data.y, te))
    return rows + [{'variant': f'ensemble of {k} seed(s){where}', 'val': val[k], 'test': test[k]} for k in sizes]


def held_out_ensemble(args, train, kwargs, data, splits):
    return seed_ensemble(args, train, kwargs, data, splits, held_out=True)


def held_out_ema(args, train, kwargs, data, splits):
    """The weights' moving average (``ema_decay``, ``--ema-decays``; 0 = the raw weights) with the checkpoint chosen
    on validation half A and scored on half B, which no choice saw: a smoother trajectory has a lower maximum over
    its checkpoints, so the whole-validation maximum would favour the raw weights."""
    halves = {s: _val_halves(_masks(data, s)[1], s) for s in splits}
    rows = []
    for d in args.ema_decays:
        runs = [_train(args, {**train, 'ema_decay': d}, kwargs, data, s, select=halves[s][0])[0] for s in splits]
        rows.append({'variant': f'ema_decay {d:g}, scored on validation half B',
                     'val': [_acc(r[3], data.y, halves[s][1]) for r, s in zip(runs, splits)],
                     'test': [r[1] for r in runs]})
    return rows


def weight_decay_groups(args, train, kwargs, data, splits):
    rows = []
    for spec in [None] + args.decays:
        decays = None if spec is None else tuple(float(v) for v in spec.split(':'))
        runs = [_train(args, train, kwargs, data, s, decays=decays)[0] for s in splits]
        name = f"one decay {train['weight_decay']:g}" if decays is None else \
            f'decay {decays[0]:g} on lin_in, {decays[1]:g} on the rest'
        rows.append({'variant': name, 'val': [r[0] for r in runs], 'test': [r[1] for r in runs]})
    return rows


PROBES = {'correct-smooth': correct_smooth, 'label-input': label_input, 'select-by-loss': select_by_loss,
          'seed-ensemble': seed_ensemble, 'held-out-ensemble': held_out_ensemble,
          'weight-decay-groups': weight_decay_groups, 'held-out-ema': held_out_ema}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', required=True)
    ap.add_argument('--dataset', default='cora')
    ap.add_argument('--model', default='graphite')
    ap.add_argument('--seed', type=int, default=0, help='split s trains with seed + s, as graphite run does')
    ap.add_argument('--splits', default='0-9')
    ap.add_argument('--probes', default='correct-smooth,label-input,select-by-loss')
    ap.add_argument('--rates', type=float, nargs='+', default=[0.0, 0.5, 0.9])
    ap.add_argument('--members', type=int, default=5, help='seed-ensemble: models per split')
    ap.add_argument('--decays', nargs='+', default=['0.0061:0', '0.02:0.0005', '0.003:0'],
                    help='weight-decay-groups: lin_in:rest decay pairs')
    ap.add_argument('--ema-decays', type=float, nargs='+', default=[0.0, 0.9, 0.99],
                    help='held-out-ema: moving-average decays (0 = the raw weights)')
    ap.add_argument('--out', help='write every variant with its per-split validation and test accuracy here')
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from graphite.cli.runner import parse_splits
    from graphite.cli.results_io import write_json_atomic
    cfg, train, kwargs, data = _setup(args)
    splits = parse_splits(args.splits, data.num_splits)
    result = {'config': args.config, 'seed': args.seed, 'splits': splits, 'probes': {}}
    for name in args.probes.split(','):
        if name not in PROBES:
            ap.error(f'unknown probe {name!r}; choose from {", ".join(PROBES)}')
        rows = PROBES[name](args, train, kwargs, data, splits)
        rows.sort(key=lambda r: -np.mean(r['val']))
        result['probes'][name] = rows
        print(f'## {name}: variants by mean validation accuracy x100 (test recorded, not used)')
        for r in rows:
            print(f"val {100 * np.mean(r['val']):6.2f}  test {100 * np.mean(r['test']):6.2f}  {r['variant']}")
        sys.stdout.flush()
    if args.out:
        write_json_atomic(args.out, result)
    return 0


if __name__ == '__main__':
    sys.exit(main())
