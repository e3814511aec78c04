r"""Training and evaluation of link predictors (protocol of Zhu et al., NeurIPS 2024 / Li et al., NeurIPS 2023).

* **Protocols** (:func:`linkpred.splits.make_split`, :mod:`linkpred.protocols`): ``random`` is a new random split
  per seed; ``heart-existing``/``heart`` use one fixed split for all seeds, the training edges for message passing at
  validation and test, and (``remove_target_edges``, default on for them) take each batch's target edges out of
  the training graph (batches of 1024 unless ``batch_size`` is set), as HeaRT does.
* **Split**: :mod:`linkpred.splits` (``random``: a new RandomLinkSplit per seed, 85/5/10 by default).
* **Loss**: binary cross-entropy on logits with one uniform negative per positive, resampled every epoch by
  :func:`torch_geometric.utils.negative_sampling` (which rejects training edges).
* **Optimiser**: Adam (default lr ``5e-4``), hidden size 256, 2 layers.
* **Selection**: evaluate every ``eval_every`` epochs; the reported test metrics are those at the epoch with the
  best validation ``metric`` (``mrr`` by default); stop after ``patience`` epochs without improvement. A ``metric``
  that cannot discriminate on the split (``hits@K`` with ``K`` >= the validation negatives, where it is 1.0 at
  every epoch) is refused with the metric to use instead.
* **Metrics**: :func:`linkpred.evaluation.split_metrics` (``random``: AUC, OGB Hits@K against the shared val/test
  negatives, filtered MRR against ``mrr_negatives`` uniform tails per positive, default 100; ``heart-existing``:
  MRR against all the shared negatives; ``heart``: MRR and Hits@K per positive against its hard negatives). When
  validation and test share one message-passing graph, the test metrics at each metric's own best validation
  epoch (HeaRT's ``Logger``) are returned too, as ``test_per_metric_selection``.
* **Modes**: ``'full'`` -- the encoder runs on the whole message-passing graph at each step and the supervision
  edges are cut into batches of ``batch_size`` (``0`` = all at once); ``'minibatch'`` -- PyG's
  :class:`~torch_geometric.loader.LinkNeighborLoader` with :class:`linkpred.sampling.TorchNeighborSampler`
  (fan-out ``num_neighbors``), the encoder sees only the sampled subgraph of each batch. Evaluation is full-graph in
  both modes.
* **Transform**: an optional callable (e.g. ``graphite.Graphite()``) applied to each message-passing graph after
  the split; it may append nodes after the ``N`` graph nodes (GRAPHITE's feature nodes), only graph nodes are scored.
"""
from __future__ import annotations

import copy
import math
import random
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import negative_sampling

from linkpred.evaluation import METRICS, NUM_MRR_NEGATIVES, nondiscriminating, scored_split_metrics
from linkpred.model import LinkPredictor, build_link_predictor
from linkpred.protocols import edge_keys
# the splits live in linkpred.splits; re-exported here, where they were first defined
from linkpred.splits import LinkSplit, make_split, prepare_graph, split_edges

__all__ = ['DEFAULT_PARAMS', 'LinkSplit', 'split_edges', 'make_split', 'evaluate', 'train_link_predictor',
           'prepare_graph', 'check_params']

#: defaults of every training / model hyperparameter (``params`` of the runner and of the YAML configs)
DEFAULT_PARAMS: Dict[str, object] = {
    'hidden_channels': 256, 'num_layers': 2, 'dropout': 0.0, 'decoder_dropout': 0.0, 'separate_ego': None,
    'heads': 4, 'K': 10, 'alpha': 0.1,
    'lr': 5e-4, 'weight_decay': 0.0, 'epochs': 300, 'eval_every': 5, 'patience': 50, 'batch_size': 0,
    'mode': 'full', 'num_neighbors': [15, 10], 'mrr_negatives': NUM_MRR_NEGATIVES, 'metric': 'mrr',
    'val': 0.05, 'test': 0.1, 'remove_target_edges': None, 'grad_clip': 0.0,
}
_ENCODER_EXTRA = {'gat': ('heads',), 'gatv2': ('heads',), 'gprgnn': ('K', 'alpha')}
_POSITIVE_INTS = ('hidden_channels', 'num_layers', 'epochs', 'eval_every', 'patience', 'mrr_negatives')


def check_params(params: Optional[dict]) -> dict:
    """:data:`DEFAULT_PARAMS` updated with ``params``, checked: unknown keys -> ``KeyError``, bad values ->
    ``ValueError`` naming the parameter."""
    p = dict(DEFAULT_PARAMS)
    for k, v in (params or {}).items():
        if k not in p:
            raise KeyError(f'unknown link-prediction parameter {k!r}; known: {sorted(p)}')
        p[k] = v
    for k in _POSITIVE_INTS:
        if isinstance(p[k], bool) or not isinstance(p[k], int) or p[k] < (0 if k == 'num_layers' else 1):
            raise ValueError(f'{k} must be an int >= {0 if k == "num_layers" else 1}, got {p[k]!r}')
    if isinstance(p['batch_size'], bool) or not isinstance(p['batch_size'], int) or p['batch_size'] < 0:
        raise ValueError(f"batch_size must be an int >= 0 (0 = all at once), got {p['batch_size']!r}")
    if p['mode'] not in ('full', 'minibatch'):
        raise ValueError(f"mode must be 'full' or 'minibatch', got {p['mode']!r}")
    if p['remove_target_edges'] not in (None, True, False):
        raise ValueError(f"remove_target_edges must be true, false or null (protocol default), got "
                         f"{p['remove_target_edges']!r}")
    if p['metric'] not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {p['metric']!r}")
    for k in ('lr', 'weight_decay', 'dropout', 'decoder_dropout', 'grad_clip'):
        try:  # YAML reads 5e-4 (no dot) as a string
            v = float(p[k]) if not isinstance(p[k], bool) else math.nan
        except (TypeError, ValueError):
            v = math.nan
        if not math.isfinite(v) or v < 0:
            raise ValueError(f'{k} must be a finite number >= 0, got {p[k]!r}')
        p[k] = v
    return p


@torch.no_grad()
def evaluate(model: LinkPredictor, graph: Data, pos: Tensor, neg: Optional[Tensor], mrr_tails: Optional[Tensor],
             num_nodes: int, mrr_mask: Optional[Tensor] = None, rank_pairs: Optional[Tensor] = None,
             h: Optional[Tensor] = None) -> Dict[str, float]:
    """All metrics of ``model`` on one evaluation set (full-graph encoding of ``graph``, or the given ``h``; see
    :func:`linkpred.evaluation.split_metrics` for which negatives give which metric)."""
    model.eval()
    if h is None:
        h = model.encode(graph.x, graph.edge_index, num_nodes)
    return scored_split_metrics(lambda pairs: model.decode(h, pairs), pos, neg, mrr_tails, mrr_mask, rank_pairs)


def _evaluate_split(model: LinkPredictor, split: LinkSplit, which: str, h: Optional[Tensor] = None):
    pre = 'val' if which == 'val' else 'test'
    return evaluate(model, getattr(split, f'{pre}_graph'), getattr(split, f'{pre}_pos'), getattr(split, f'{pre}_neg'),
                    getattr(split, f'{pre}_mrr'), split.num_nodes, getattr(split, f'{pre}_mrr_mask'),
                    getattr(split, f'{pre}_rank'), h)


def remove_pairs(edge_index: Tensor, pairs: Tensor, num_nodes: int) -> Tensor:
    """``edge_index`` without the (undirected) ``pairs``, either direction (HeaRT: a batch's target edges are taken
    out of the graph the encoder aggregates over). Nodes ``>= num_nodes`` (feature nodes) are kept."""
    keys = torch.unique(edge_keys(pairs, num_nodes))
    graph_pair = (edge_index[0] < num_nodes) & (edge_index[1] < num_nodes)
    hit = torch.zeros(edge_index.size(1), dtype=torch.bool, device=edge_index.device)
    hit[graph_pair] = torch.isin(edge_keys(edge_index[:, graph_pair], num_nodes), keys)
    return edge_index[:, ~hit]


def _bce(pos_logit: Tensor, neg_logit: Tensor) -> Tensor:
    logits = torch.cat([pos_logit, neg_logit])
    labels = torch.cat([torch.ones_like(pos_logit), torch.zeros_like(neg_logit)])
    return F.binary_cross_entropy_with_logits(logits, labels)


def train_link_predictor(split: LinkSplit, encoder: str, decoder: str, params: Optional[dict] = None, seed: int = 0,
                         on_eval: Optional[Callable[[int, float], None]] = None, progress=None,
                         device=None) -> dict:
    """Train one model on ``split`` and return ``{'val': metrics, 'test': metrics, 'best_epoch', 'epochs'}``.

    Args:
        split (LinkSplit): from :func:`split_edges`.
        encoder, decoder (str): names (:data:`linkpred.encoders.ENCODERS`, :data:`linkpred.decoders.DECODERS`).
        params (dict, optional): overrides of :data:`DEFAULT_PARAMS` (see :func:`check_params`).
        seed (int): seeds parameters, negatives and sampling (``torch.manual_seed``).
        on_eval (callable, optional): ``on_eval(epoch, val_metric)`` after each evaluation (may raise, e.g.
            ``optuna.TrialPruned``; the exception propagates).
        progress (tqdm, optional): a progress bar advanced once per epoch.
        device (str or torch.device, optional): train and evaluate there (:func:`graphite.device.resolve_device`;
            default: where the split's tensors are). Parameters are initialised on the CPU, then moved.
    """
    p = check_params(params)
    if device is not None:
        from graphite.device import resolve_device
        device = resolve_device(device)
        split = split.to(device)
    metric = p['metric']
    remove = p['remove_target_edges']
    if remove is None:  # HeaRT removes each batch's target edges; the random protocol keeps today's behaviour
        remove = split.protocol != 'random'
    if remove and p['mode'] != 'full':
        raise ValueError("remove_target_edges needs mode='full'")
    bs_default = 1024 if remove else 0  # HeaRT's batch size; removing all targets at once would leave no graph
    why = nondiscriminating(metric, (split.val_neg if split.val_neg is not None else split.val_rank).size(1))
    if why is not None:
        raise ValueError(f'model selection on {why}')
    torch.manual_seed(seed)
    random.seed(seed)  # torch_geometric.utils.negative_sampling also draws from Python's RNG
    x = split.train_graph.x
    extra = {k: p[k] for k in _ENCODER_EXTRA.get(encoder, ())}
    if encoder != 'none':  # full-batch training is transductive: keep the structure of the training graph
        extra['cached'] = p['mode'] == 'full' and not remove
    model = build_link_predictor(encoder, decoder, x.size(1), int(p['hidden_channels']), int(p['num_layers']),
                                 float(p['dropout']), float(p['decoder_dropout']), p['separate_ego'], **extra)
    model = model.to(split.train_pos.device)
    opt = torch.optim.Adam(model.parameters(), lr=float(p['lr']), weight_decay=float(p['weight_decay']))
    n = split.num_nodes
    tg = split.train_graph
    train_pos = split.train_pos
    loader = None
    if p['mode'] == 'minibatch':
        if tg.num_nodes != n:
            raise ValueError("mode='minibatch' does not support transforms that add nodes; use mode='full'")
        from linkpred.sampling import link_neighbor_loader
        loader = link_neighbor_loader(tg, list(p['num_neighbors']), train_pos,
                                      batch_size=int(p['batch_size']) or 1024, shuffle=True)
    known = _graph_edges(tg, n)
    shared_graph = split.val_graph is split.test_graph
    heart_best: Dict[str, list] = {}  # metric -> [best val, test then] (HeaRT's Logger: each metric on its own)
    best, best_state, best_val = -math.inf, None, None
    best_epoch, since, epoch = 0, 0, 0
    for epoch in range(1, int(p['epochs']) + 1):
        model.train()
        if loader is None:
            neg = negative_sampling(known, num_nodes=n, num_neg_samples=train_pos.size(1))
            bs = int(p['batch_size']) or bs_default or train_pos.size(1)
            perm = torch.randperm(train_pos.size(1)).to(train_pos.device)
            for s in range(0, perm.numel(), bs):
                idx = perm[s:s + bs]
                opt.zero_grad()
                ei = remove_pairs(tg.edge_index, train_pos[:, idx], n) if remove else tg.edge_index
                h = model.encode(tg.x, ei, n)
                loss = _bce(model.decode(h, train_pos[:, idx]), model.decode(h, neg[:, idx[idx < neg.size(1)]]))
                loss.backward()
                if float(p['grad_clip']) > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), float(p['grad_clip']))
                opt.step()
        else:
            for batch in loader:
                batch = batch.to(train_pos.device)
                opt.zero_grad()
                logits = model(batch.x, batch.edge_index, batch.edge_label_index)
                loss = F.binary_cross_entropy_with_logits(logits, batch.edge_label)
                loss.backward()
                opt.step()
        if progress is not None:
            progress.update(1)
        if epoch % int(p['eval_every']) == 0 or epoch == int(p['epochs']):
            h = None
            if shared_graph:  # one encoding serves validation and test (HeaRT evaluates both every time)
                model.eval()
                with torch.no_grad():
                    h = model.encode(split.val_graph.x, split.val_graph.edge_index, n)
            val = _evaluate_split(model, split, 'val', h)
            if shared_graph:
                test_now = _evaluate_split(model, split, 'test', h)
                for k, v in val.items():
                    if k not in heart_best or v > heart_best[k][0]:
                        heart_best[k] = [v, test_now[k], epoch]
            if on_eval is not None:
                on_eval(epoch, val[metric])
            if val[metric] > best:
                best, best_epoch, since = val[metric], epoch, 0
                best_val = val
                best_state = copy.deepcopy(model.state_dict())
            else:
                since += int(p['eval_every'])
                if since >= int(p['patience']):
                    break
    model.load_state_dict(best_state)
    test = _evaluate_split(model, split, 'test')
    return {'val': best_val, 'test': test, 'best_epoch': best_epoch, 'epochs': epoch, 'model': model,
            'remove_target_edges': bool(remove), 'batch_size': int(p['batch_size']) or bs_default,
            'test_per_metric_selection': {k: v[1] for k, v in heart_best.items()} or None}


def _graph_edges(graph: Data, n: int) -> Tensor:
    """Edges among the ``n`` graph nodes of a (possibly transformed) message-passing graph."""
    ei = graph.edge_index
    if graph.num_nodes == n:
        return ei
    keep = (ei[0] < n) & (ei[1] < n)
    return ei[:, keep]
