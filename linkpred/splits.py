"""Edge splits for link prediction: the :class:`LinkSplit` container and the splits of each protocol.

* ``random`` (:func:`split_edges`): :class:`torch_geometric.transforms.RandomLinkSplit` on the undirected graph
  (self-loops removed), ``val``/``test`` fractions of the edges (default 85/5/10), one PyG-sampled negative per
  val/test positive, filtered MRR tails; message passing over the training edges for training and validation and
  training + validation edges for testing (RandomLinkSplit's convention); a new split per seed.
* ``heart-existing`` / ``heart`` (:func:`make_split`, :mod:`linkpred.protocols`): one fixed split per dataset
  (cached with its checksum, or HeaRT's split files), message passing over the training edges only; ``heart`` adds
  HeaRT's hard negatives per positive.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field, fields, replace
from typing import Callable, Dict, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import RandomLinkSplit
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from linkpred.evaluation import NUM_MRR_NEGATIVES, filter_mask, sample_mrr_negatives
from linkpred.protocols import PROTOCOLS, cached_heart_negatives, edge_keys, fixed_split, read_heart_split

__all__ = ['LinkSplit', 'prepare_graph', 'split_edges', 'make_split']


@dataclass
class LinkSplit:
    """One random edge split. ``*_graph`` are the message-passing graphs (after the optional transform);
    ``*_pos``/``*_neg`` are ``[2, P]`` pairs of graph nodes; ``*_mrr`` the ``[P, Q]`` MRR negative tails."""
    num_nodes: int
    train_graph: Data
    val_graph: Data
    test_graph: Data
    train_pos: Tensor
    val_pos: Tensor
    val_neg: Tensor
    test_pos: Tensor
    test_neg: Tensor
    val_mrr: Optional[Tensor]
    test_mrr: Optional[Tensor]
    #: ``'random'``, ``'heart-existing'`` or ``'heart'`` (:mod:`linkpred.protocols`)
    protocol: str = 'random'
    #: ``[P, Q]`` bool: which MRR tails count (filtered ranking; ``random``)
    val_mrr_mask: Optional[Tensor] = None
    test_mrr_mask: Optional[Tensor] = None
    #: ``[P, Q, 2]`` per-positive negative pairs (``heart``)
    val_rank: Optional[Tensor] = None
    test_rank: Optional[Tensor] = None
    #: what the result JSON records about the split (graphs used for message passing, negatives, checksums)
    info: Dict[str, object] = field(default_factory=dict)

    def to(self, device) -> 'LinkSplit':
        """This split with every tensor and graph on ``device``; graphs shared between roles stay shared."""
        moved: Dict[int, object] = {}

        def move(v):
            if isinstance(v, (Tensor, Data)):
                if id(v) not in moved:
                    moved[id(v)] = v.to(device)
                return moved[id(v)]
            return v
        return replace(self, **{f.name: move(getattr(self, f.name)) for f in fields(self)})


def prepare_graph(data: Data) -> Data:
    """Checked, undirected, self-loop-free, coalesced copy of ``data`` holding only ``x`` and ``edge_index``."""
    if not isinstance(data, Data):
        raise TypeError(f'expected a torch_geometric Data, got {type(data).__name__}')
    if getattr(data, 'x', None) is None:
        raise ValueError('link prediction needs node features data.x')
    n = data.num_nodes
    if not n:
        raise ValueError('the graph is empty (no nodes)')
    ei = data.edge_index
    if ei is None or ei.dim() != 2 or ei.size(0) != 2 or ei.size(1) == 0:
        raise ValueError('the graph has no edges to predict')
    if int(ei.min()) < 0 or int(ei.max()) >= n:
        raise ValueError(f'edge_index has node indices outside [0, {n})')
    if torch.isnan(data.x.float()).any():
        raise ValueError('data.x contains NaN')
    ei, _ = remove_self_loops(ei)
    ei = coalesce(to_undirected(ei, num_nodes=n), num_nodes=n)
    return Data(x=data.x.float(), edge_index=ei, num_nodes=n)


def split_edges(data: Data, val: float = 0.05, test: float = 0.1, seed: int = 0,
                mrr_negatives: int = NUM_MRR_NEGATIVES,
                transform: Optional[Callable[[Data], Data]] = None) -> LinkSplit:
    """Random 85/5/10-style split of ``data``'s edges (see module docstring), reproducible from ``seed``."""
    if not (0 < val < 1 and 0 < test < 1 and val + test < 1):
        raise ValueError(f'val and test must be in (0, 1) with val + test < 1, got {val}, {test}')
    g = prepare_graph(data)
    # RandomLinkSplit's negative sampling draws from both the torch and the Python RNG: seed both, restore both
    state, py_state = torch.random.get_rng_state(), random.getstate()
    torch.manual_seed(seed)
    random.seed(seed)
    try:
        tr, va, te = RandomLinkSplit(num_val=val, num_test=test, is_undirected=True, split_labels=True,
                                     add_negative_train_samples=False)(g)
    finally:
        torch.random.set_rng_state(state)
        random.setstate(py_state)
    n = g.num_nodes

    def mp(d: Data) -> Data:
        out = Data(x=d.x, edge_index=d.edge_index, num_nodes=n)
        if transform is not None:
            out = transform(out)
            out.num_graph_nodes = n
        return out

    keys = torch.unique(edge_keys(g.edge_index, n))
    vm = sample_mrr_negatives(va.pos_edge_label_index, n, mrr_negatives, seed + 1)
    tm = sample_mrr_negatives(te.pos_edge_label_index, n, mrr_negatives, seed + 2)
    info = {'protocol': 'random', 'split_seed': seed, 'negatives_per_positive': {
                'auc/hits': 'one shared uniform non-edge per positive (RandomLinkSplit)',
                'mrr': f'{mrr_negatives} uniform tails per positive, filtered (true edges and the head not counted)'},
            'message_passing': {'train': 'train edges', 'val': 'train edges', 'test': 'train + val edges'}}
    return LinkSplit(n, mp(tr), mp(va), mp(te), tr.pos_edge_label_index, va.pos_edge_label_index,
                     va.neg_edge_label_index, te.pos_edge_label_index, te.neg_edge_label_index, vm, tm,
                     protocol='random', val_mrr_mask=filter_mask(va.pos_edge_label_index[0], vm, keys, n),
                     test_mrr_mask=filter_mask(te.pos_edge_label_index[0], tm, keys, n), info=info)


def make_split(data: Data, protocol: str = 'heart-existing', seed: int = 0, split_seed: int = 0,
               name: Optional[str] = None, transform: Optional[Callable[[Data], Data]] = None,
               val: float = 0.05, test: float = 0.1, mrr_negatives: int = NUM_MRR_NEGATIVES,
               heart_negatives: int = 500, split_dir: Optional[str] = None, cache: Optional[str] = None) -> LinkSplit:
    """The split of ``protocol`` (:mod:`linkpred.protocols`).

    ``random``: :func:`split_edges` with ``seed`` (a new split per seed). ``heart-existing``/``heart``: one fixed
    split from ``split_seed`` (cached under ``name``, or HeaRT's files in ``split_dir``), independent of ``seed``;
    message passing on the training edges only; ``heart`` adds ``heart_negatives`` hard negatives per positive
    (seeded by ``split_seed``, cached).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
    if protocol == 'random':
        if split_dir is not None:
            raise ValueError("split_dir (HeaRT's split files) needs protocol heart-existing or heart")
        return split_edges(data, val, test, seed=seed, mrr_negatives=mrr_negatives, transform=transform)
    g = prepare_graph(data)
    n = g.num_nodes
    if split_dir is not None:
        spl = read_heart_split(split_dir, n)
    else:
        spl = fixed_split(g.edge_index, n, split_seed, val, test, name=name, cache=cache)
    t = spl['tensors']
    train_ei = to_undirected(t['train_pos'], num_nodes=n)
    graph = Data(x=g.x, edge_index=train_ei, num_nodes=n)
    if transform is not None:
        graph = transform(graph)
        graph.num_graph_nodes = n
    info = {'protocol': protocol, 'split_seed': spl['seed'], 'split_source': spl['source'],
            'split_sha256': spl['sha256'], 'split_path': spl['path'],
            'split_sizes': {k: int(v.size(1)) for k, v in t.items()},
            'message_passing': {'train': 'train edges', 'val': 'train edges', 'test': 'train edges'}}
    val_rank = test_rank = None
    if protocol == 'heart':
        hard, meta = cached_heart_negatives(spl, g.edge_index, g.x, name, heart_negatives, split_seed, cache=cache)
        val_rank, test_rank = hard['valid'], hard['test']
        info['negatives_per_positive'] = {'mrr/hits': f'{val_rank.size(1)} HeaRT hard negatives per positive '
                                                      '(no true edge)'}
        info['hard_negatives'] = {'source': meta['source'], 'sha256': meta['sha256'], 'path': meta['path'],
                                  'seed': split_seed, 'num_samples': int(val_rank.size(1))}
    else:
        info['negatives_per_positive'] = {
            'auc/hits': 'shared: one uniform non-edge per positive',
            'mrr': f"each positive against all {t['valid_neg'].size(1)} (val) / {t['test_neg'].size(1)} (test) "
                   'shared negatives'}
    return LinkSplit(n, graph, graph, graph, t['train_pos'], t['valid_pos'],
                     None if protocol == 'heart' else t['valid_neg'], t['test_pos'],
                     None if protocol == 'heart' else t['test_neg'], None, None, protocol=protocol,
                     val_rank=val_rank, test_rank=test_rank, info=info)
