r"""Evaluation protocols of link prediction: ``random``, ``heart-existing`` and ``heart`` (Li et al., "Evaluating
Graph Neural Networks for Link Prediction: Current Pitfalls and New Benchmarking", NeurIPS 2023 D&B; code
github.com/Juanhui28/HeaRT).

* ``random`` -- a new :class:`~torch_geometric.transforms.RandomLinkSplit` (85/5/10) per seed, one shared
  non-edge per validation/test positive (AUC, OGB Hits@K), MRR of each positive against ``mrr_negatives`` uniform
  tails, *filtered* (a tail that is a true edge of the head, or the head itself, is not counted). Message passing:
  training edges in training and validation, training + validation edges at test (RandomLinkSplit's convention).
* ``heart-existing`` -- HeaRT's *existing setting* (``benchmarking/exist_setting_small``): one fixed split per
  dataset made once as ``benchmarking/split_CoraCiteseerPubmed.py`` does (unique undirected edges, a seeded random
  permutation, the first 5 % validation, the next 10 % test, the rest training; one uniform non-edge per validation
  and test positive, rejected if it is an edge in either direction), stored in the cache with its SHA-256
  (:func:`fixed_split`), or HeaRT's own split files (:func:`read_heart_split`). Message passing uses the
  training edges only, at validation and at test. Metrics as HeaRT's ``get_metric_score``: AUC (sklearn), OGB
  Hits@K against the shared negatives, MRR of each positive against *all* the split's negatives.
* ``heart`` -- HeaRT's hard negatives (``heart_negatives/create_heart_negatives.py``) on the same fixed split:
  per validation/test positive :math:`(s, t)`, 250 corruptions of the target :math:`(s, n)` and 250 of the source
  :math:`(n, t)` (500 in all), the nodes :math:`n` ranked by three heuristics of the kept endpoint on the training
  graph (:func:`heart_negatives`). Metrics: per-positive rank against its own 500 negatives (HeaRT's
  ``eval_hard_negs``): MRR and Hits@K = mean(rank <= K).

Deviations from HeaRT's code, on purpose (each makes the protocol stricter, none easier):

* HeaRT filters the hard negatives with the training (validation) or training + validation (test) adjacency, and
  its min-aggregation of ranks can still select a filtered node (a filtered node gets rank ``max + 2`` per
  heuristic, smaller than the rank of a node scored by one heuristic only). Here every true edge of the whole graph
  (any split, either direction) and the node itself are excluded, so the hard negatives contain no true edge.
* PPR is computed by power iteration to convergence (``(1 - alpha)^100``) instead of Andersen's push with a
  threshold ``eps``; HeaRT's ``--eps 1e-7`` for Cora/CiteSeer approximates the same vector closely.
* Ties of the combined rank are broken by a seeded random permutation (``torch.topk``'s order in HeaRT).

The heuristic HeaRT's code calls RA is ``A @ (A * (1 / deg)[None, :])`` (``calc_CN_metric``: the reciprocal
degree multiplies the *columns*), i.e. :math:`\mathrm{CN}(u, v) / d_v`; ``cn_metric='heart-ra'`` (default) follows
the code, ``'ra'`` is the resource allocation index, ``'cn'`` common neighbours.
"""
from __future__ import annotations

import hashlib
import io
import os
from typing import Dict, Optional, Tuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

__all__ = ['PROTOCOLS', 'fixed_split', 'read_heart_split', 'heart_negatives', 'cache_dir', 'graph_checksum',
           'tensors_checksum', 'edge_keys']

PROTOCOLS = ('random', 'heart-existing', 'heart')
SPLIT_KEYS = ('train_pos', 'valid_pos', 'valid_neg', 'test_pos', 'test_neg')


def cache_dir() -> str:
    """``$GRAPHITE_CACHE/linkpred`` when set, else ``<output root>/cache/linkpred``."""
    from graphite.cli.paths import output_root
    root = os.environ.get('GRAPHITE_CACHE', '').strip()
    return os.path.join(os.path.expanduser(root) if root else str(output_root() / 'cache'), 'linkpred')


def tensors_checksum(tensors: Dict[str, Tensor]) -> str:
    """SHA-256 over the named tensors (sorted names, int64 little-endian bytes)."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        t = tensors[k].detach().cpu().to(torch.int64).contiguous()
        h.update(k.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().astype('<i8').tobytes())
    return h.hexdigest()


def graph_checksum(edge_index: Tensor, num_nodes: int) -> str:
    """SHA-256 of a coalesced undirected graph (what a split was made from)."""
    return tensors_checksum({'edge_index': edge_index, 'num_nodes': torch.tensor([num_nodes])})


def edge_keys(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Undirected pair keys ``min * N + max`` of ``[2, E]`` pairs (for membership tests)."""
    lo, hi = torch.minimum(edge_index[0], edge_index[1]), torch.maximum(edge_index[0], edge_index[1])
    return lo.long() * num_nodes + hi.long()


def _save_atomic(path: str, obj: dict) -> None:
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    buf = io.BytesIO()
    torch.save(obj, buf)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


def _load_checked(path: str, graph_sha: str, what: str) -> Optional[Dict[str, Tensor]]:
    """The cached tensors of ``path`` if it exists; ``ValueError`` if it belongs to another graph or is corrupt."""
    if not os.path.exists(path):
        return None
    obj = torch.load(path, weights_only=True)
    if obj.get('graph_sha256') != graph_sha:
        raise ValueError(f'cached {what} {path} was made from another graph (checksum {obj.get("graph_sha256")} != '
                         f'{graph_sha}); delete it to recreate')
    if tensors_checksum(obj['tensors']) != obj.get('sha256'):
        raise ValueError(f'cached {what} {path} is corrupt (SHA-256 mismatch); delete it to recreate')
    return obj


def _uniform_non_edges(count: int, num_nodes: int, forbidden: Tensor, gen: torch.Generator) -> Tensor:
    """``[2, count]`` uniform node pairs that are no edge in either direction and no self-pair (rejection)."""
    forbidden = torch.unique(forbidden)
    out = []
    need = count
    while need > 0:
        cand = torch.randint(num_nodes, (2, 2 * need + 16), generator=gen)
        ok = (cand[0] != cand[1]) & ~torch.isin(edge_keys(cand, num_nodes), forbidden)
        cand = cand[:, ok][:, :need]
        out.append(cand)
        need -= cand.size(1)
    return torch.cat(out, 1)


def fixed_split(edge_index: Tensor, num_nodes: int, seed: int = 0, val: float = 0.05, test: float = 0.1,
                name: Optional[str] = None, cache: Optional[str] = None) -> Dict[str, object]:
    """HeaRT's fixed split (module docstring) of a coalesced undirected ``edge_index``, made once from ``seed``.

    With ``name`` the split is stored as ``<cache>/<name>-split-seed<seed>.pt`` (``cache`` defaults to
    :func:`cache_dir`) with the SHA-256 of its tensors and of the graph, and read back (checked) next time.
    Returns ``{'tensors': {train_pos, valid_pos, valid_neg, test_pos, test_neg} ([2, *], one direction),
    'seed', 'sha256', 'graph_sha256', 'path', 'source'}``.
    """
    gsha = graph_checksum(edge_index, num_nodes)
    path = None
    if name is not None:
        tag = '' if (val, test) == (0.05, 0.1) else f'-v{val}-t{test}'
        path = os.path.join(cache or cache_dir(), f'{name}-split-seed{seed}{tag}.pt')
        obj = _load_checked(path, gsha, 'split')
        if obj is not None:
            return {**obj, 'path': path, 'source': 'cache'}
    und = edge_index[:, edge_index[0] < edge_index[1]]
    gen = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(und.size(1), generator=gen)
    n_test, n_val = int(und.size(1) * test), int(und.size(1) * val)
    if n_val < 1 or n_test < 1 or und.size(1) - n_val - n_test < 1:
        raise ValueError(f'too few edges ({und.size(1)}) for a {val}/{test} split')
    valid_pos, test_pos = und[:, perm[:n_val]], und[:, perm[n_val:n_val + n_test]]
    train_pos = und[:, perm[n_val + n_test:]]
    keys = edge_keys(und, num_nodes)
    tensors = {'train_pos': train_pos, 'valid_pos': valid_pos, 'test_pos': test_pos,
               'valid_neg': _uniform_non_edges(n_val, num_nodes, keys, gen),
               'test_neg': _uniform_non_edges(n_test, num_nodes, keys, gen)}
    obj = {'tensors': tensors, 'seed': int(seed), 'sha256': tensors_checksum(tensors), 'graph_sha256': gsha}
    if path is not None:
        _save_atomic(path, obj)
    return {**obj, 'path': path, 'source': 'created'}


def read_heart_split(directory: str, num_nodes: int) -> Dict[str, object]:
    """HeaRT's published split files (``dataset/<name>/{train,valid,test}_pos.txt``, ``{valid,test}_neg.txt``,
    tab-separated node pairs, as ``read_data`` reads them) and, if present, its hard negatives
    ``heart_{valid,test}_samples.npy`` (``[P, 500, 2]``). Self-loops of the positives are dropped as HeaRT does."""
    tensors = {}
    for key in SPLIT_KEYS:
        path = os.path.join(directory, f'{key}.txt')
        if not os.path.exists(path):
            raise FileNotFoundError(f'HeaRT split file {path} is missing')
        pairs = np.loadtxt(path, dtype=np.int64, delimiter='\t', ndmin=2)
        if key.endswith('_pos'):
            pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        t = torch.from_numpy(pairs).t().contiguous()
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_nodes):
            raise ValueError(f'{path} has node ids outside [0, {num_nodes})')
        tensors[key] = t
    out = {'tensors': tensors, 'seed': None, 'sha256': tensors_checksum(tensors), 'path': directory,
           'source': 'heart-files'}
    hard = {}
    for split in ('valid', 'test'):
        path = os.path.join(directory, f'heart_{split}_samples.npy')
        if os.path.exists(path):
            hard[split] = torch.from_numpy(np.load(path)).long()
    if hard:
        out['hard'] = hard
    return out


# ---------------------------------------------------------------------------------------------------- hard negatives

def _heart_rank(scores: np.ndarray) -> np.ndarray:
    """HeaRT's ``rank_score_matrix`` row-wise on ``[B, N]``: positive scores ranked from the largest (1) with
    ``scipy.stats.rankdata(method='min')`` reversed, zeros get ``max + 1``, negatives (filtered) ``max + 2``."""
    from scipy.stats import rankdata
    pos = scores > 0
    r = rankdata(np.where(pos, scores, -np.inf), method='min', axis=1).astype(np.float64)
    top = np.where(pos, r, -np.inf).max(1, keepdims=True)
    out = top - r + 1
    max_rank = np.where(pos, out, 0).max(1, keepdims=True)
    return np.where(pos, out, np.where(scores == 0, max_rank + 1, max_rank + 2))


def _ppr_rows(adj: sp.csr_matrix, nodes: np.ndarray, alpha: float, iters: int = 100) -> np.ndarray:
    """Personalized PageRank ``[B, N]`` from each of ``nodes`` (teleport ``alpha``) by power iteration."""
    deg = np.asarray(adj.sum(1)).ravel()
    p_t = (sp.diags(np.where(deg > 0, 1.0 / np.maximum(deg, 1), 0.0)) @ adj).T.tocsr()  # (D^-1 A)^T
    e = np.zeros((adj.shape[0], nodes.size))
    e[nodes, np.arange(nodes.size)] = 1.0
    pi = e.copy()
    for _ in range(iters):
        pi = alpha * e + (1 - alpha) * (p_t @ pi)
    return pi.T


def heart_negatives(train_edge_index: Tensor, all_edge_index: Tensor, x: Tensor, pos: Tensor,
                    num_samples: int = 500, seed: int = 0, alpha: float = 0.15, cn_metric: str = 'heart-ra',
                    agg: str = 'min', batch_size: int = 256) -> Tensor:
    """HeaRT hard negatives ``[P, num_samples, 2]`` of positives ``pos`` ``[2, P]`` (see module docstring).

    For each kept endpoint ``u`` the candidates ``n`` are ranked by three heuristics on the training graph
    ``train_edge_index`` (undirected, both directions): ``cn_metric`` (``'heart-ra'``, ``'ra'`` or ``'cn'``),
    PPR from ``u`` (teleport ``alpha``) and the cosine similarity of features; the per-heuristic ranks
    (:func:`_heart_rank`) are combined with ``agg`` (``'min'``, HeaRT's default, or ``'mean'``) and the
    ``num_samples // 2`` best are taken; when fewer than that have a non-zero score, the rest are drawn uniformly
    (with replacement, as HeaRT) from the zero-score nodes. Every true edge of ``all_edge_index`` and ``u`` itself
    are excluded. Row ``i`` holds ``(s_i, n)`` for the first half and ``(n, t_i)`` for the second.
    """
    if cn_metric not in ('heart-ra', 'ra', 'cn') or agg not in ('min', 'mean'):
        raise ValueError(f"cn_metric must be 'heart-ra', 'ra' or 'cn' and agg 'min' or 'mean', got {cn_metric!r}, "
                         f'{agg!r}')
    if num_samples < 2 or num_samples % 2:
        raise ValueError(f'num_samples must be an even int >= 2, got {num_samples}')
    n = x.size(0)
    k = num_samples // 2

    def csr(ei):
        r, c = ei.cpu().numpy()
        a = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
        a = ((a + a.T) > 0).astype(np.float64)
        a.setdiag(0)
        a.eliminate_zeros()
        return a.tocsr()

    a_train, a_all = csr(train_edge_index), csr(all_edge_index)
    deg = np.asarray(a_train.sum(1)).ravel()
    inv = np.where(deg > 0, 1.0 / np.maximum(deg, 1), 0.0)
    second = {'heart-ra': a_train @ sp.diags(inv), 'ra': sp.diags(inv) @ a_train, 'cn': a_train}[cn_metric].tocsr()
    xf = x.detach().cpu().double().numpy()
    norm = np.linalg.norm(xf, axis=1, keepdims=True)
    xn = xf / np.where(norm > 0, norm, 1.0)
    rng = np.random.default_rng(int(seed))
    nodes = np.unique(pos.cpu().numpy())
    top = {}
    for s in range(0, nodes.size, batch_size):
        b = nodes[s:s + batch_size]
        masked = a_all[b].toarray() > 0
        masked[np.arange(b.size), b] = True
        scores = [(a_train[b] @ second).toarray(), _ppr_rows(a_train, b, alpha), xn[b] @ xn.T]
        zero = np.all([sc == 0 for sc in scores], axis=0) & ~masked
        ranks = []
        for sc in scores:
            sc = sc.copy()
            sc[masked] = -1.0
            ranks.append(_heart_rank(sc))
        comb = np.min(ranks, 0) if agg == 'min' else np.mean(ranks, 0)
        comb[masked | zero] = np.inf
        for i, u in enumerate(b):
            cand = np.flatnonzero(np.isfinite(comb[i]))
            order = cand[np.lexsort((rng.random(cand.size), comb[i, cand]))]
            if order.size >= k:
                top[int(u)] = order[:k]
            else:
                zeros = np.flatnonzero(zero[i])
                pool = zeros if zeros.size else order
                if not pool.size:
                    raise ValueError(f'node {u} has no candidate negative (it is adjacent to every node)')
                top[int(u)] = np.concatenate([order, rng.choice(pool, k - order.size)])
    src, dst = pos.cpu().numpy()
    out = np.empty((src.size, 2 * k, 2), dtype=np.int64)
    for i, (u, v) in enumerate(zip(src, dst)):
        out[i, :k, 0], out[i, :k, 1] = u, top[int(u)]
        out[i, k:, 0], out[i, k:, 1] = top[int(v)], v
    return torch.from_numpy(out)


def cached_heart_negatives(split: Dict[str, object], all_edge_index: Tensor, x: Tensor, name: Optional[str],
                           num_samples: int = 500, seed: int = 0, cache: Optional[str] = None,
                           **kw) -> Tuple[Dict[str, Tensor], Dict[str, object]]:
    """:func:`heart_negatives` of the split's validation and test positives, cached as
    ``<cache>/<name>-heart-<split sha[:12]>-q<num_samples>-seed<seed>.pt`` with their SHA-256 (``name=None``: not
    cached). HeaRT's own ``heart_*_samples.npy`` are used when the split came from its files."""
    t = split['tensors']
    if 'hard' in split:
        hard = {'valid': split['hard']['valid'], 'test': split['hard']['test']}
        return hard, {'source': 'heart-files', 'sha256': tensors_checksum(hard), 'path': split['path']}
    opts = '-'.join(f'{k}{v}' for k, v in sorted(kw.items()))
    path = None if name is None else os.path.join(
        cache or cache_dir(), f"{name}-heart-{split['sha256'][:12]}-q{num_samples}-seed{seed}{opts and '-' + opts}.pt")
    if path is not None:
        obj = _load_checked(path, split['sha256'], 'hard negatives')
        if obj is not None:
            return obj['tensors'], {'source': 'cache', 'sha256': obj['sha256'], 'path': path}
    train = t['train_pos']
    hard = {s: heart_negatives(train, all_edge_index, x, t[f'{s}_pos'], num_samples, seed + i, **kw)
            for i, s in enumerate(('valid', 'test'))}
    sha = tensors_checksum(hard)
    if path is not None:
        _save_atomic(path, {'tensors': hard, 'sha256': sha, 'graph_sha256': split['sha256']})
    return hard, {'source': 'created', 'sha256': sha, 'path': path}
