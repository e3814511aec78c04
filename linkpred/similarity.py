r"""Feature-similarity analysis of a link-prediction task (Zhu et al., NeurIPS 2024, arXiv 2409.17475, Sec. 3).

Every node pair :math:`(u, v)` gets the cosine similarity of its raw features

.. math::
    k(u, v) = \frac{x_u^\top x_v}{\lVert x_u \rVert \, \lVert x_v \rVert}

(``0`` when either vector is all zeros). Comparing the distribution of :math:`k` on edges with its distribution on
uniformly sampled non-edges tells how a link predictor should use the features:

* **homophilic**: edges sit mostly *above* one threshold :math:`M` and non-edges mostly below it;
* **heterophilic**: edges sit mostly *below* :math:`M` and non-edges above it;
* **gated**: no single threshold separates them, but a two-sided rule does (edges inside a band
  :math:`[a, b]` of similarity and non-edges on both sides of it, or the reverse).

:func:`threshold_test` makes the labels exact. With :math:`n_+` edge scores and :math:`n_-` non-edge scores it
computes the *balanced* accuracy (mean of the recall on edges and the recall on non-edges, so the class sizes do
not matter) of three families of rules, each maximised exactly over all cut points (sort + prefix sums / Kadane,
:math:`O(n \log n)`):

1. ``above``: predict "edge" iff :math:`k > M`;
2. ``below``: predict "edge" iff :math:`k \le M`;
3. ``band``: predict "edge" iff :math:`a \le k \le b`, or the complement ``outside`` (edge iff outside
   :math:`[a, b]`).

Let :math:`A_1` be the best accuracy of rules 1-2 (with its direction and :math:`M`) and :math:`A_2` the best
accuracy of rule 3. The label is

* ``'gated'`` if :math:`A_2 \ge` ``min_accuracy`` and :math:`A_2 - A_1 \ge` ``band_gain`` (a band is needed);
* else ``'homophilic'`` / ``'heterophilic'`` if :math:`A_1 \ge` ``min_accuracy`` with direction ``above`` /
  ``below``;
* else ``'indistinct'``: no rule on :math:`k` separates edges from non-edges well (features carry little
  pairwise signal).

Defaults: ``min_accuracy = 0.65``, ``band_gain = 0.1``.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

__all__ = ['pair_cosine', 'edge_similarity_profile', 'ThresholdTest', 'threshold_test', 'plot_similarity',
           'SimilarityProfile']


def _check_pairs(edge_index: Tensor, num_nodes: int, name: str = 'edge_index') -> None:
    if not isinstance(edge_index, Tensor):
        raise TypeError(f'{name} must be a torch.Tensor, got {type(edge_index).__name__}')
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f'{name} must have shape [2, E], got {tuple(edge_index.shape)}')
    if edge_index.is_floating_point() or edge_index.dtype == torch.bool:
        raise ValueError(f'{name} must hold integer node indices, got dtype {edge_index.dtype}')
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(f'{name} has node indices outside [0, {num_nodes})')


def pair_cosine(x: Tensor, pairs: Tensor, batch_size: int = 1 << 18) -> Tensor:
    r"""Cosine similarity :math:`k(u, v)` of the feature rows of each pair.

    Args:
        x (Tensor): node features ``[N, F]`` (any real dtype; cast to float32).
        pairs (LongTensor): ``[2, P]`` node pairs.
        batch_size (int): pairs processed at once (bounds memory at ``batch_size * F`` floats).

    Returns:
        Tensor ``[P]`` in ``[-1, 1]``; pairs with an all-zero feature row get ``0``.
    """
    if not isinstance(x, Tensor) or x.dim() != 2:
        raise ValueError(f'x must be a 2-D tensor [N, F], got {getattr(x, "shape", type(x))}')
    _check_pairs(pairs, x.size(0), 'pairs')
    x = x.float()
    if torch.isnan(x).any():
        raise ValueError('x contains NaN')
    norm = x.norm(dim=1).clamp_min(1e-12)
    xn = x / norm.unsqueeze(1)
    out = torch.empty(pairs.size(1))
    for s in range(0, pairs.size(1), batch_size):
        u, v = pairs[0, s:s + batch_size], pairs[1, s:s + batch_size]
        out[s:s + batch_size] = (xn[u] * xn[v]).sum(1)
    return out.clamp_(-1.0, 1.0)


@dataclass
class SimilarityProfile:
    """Cosine similarities of edges and of sampled non-edges (see :func:`edge_similarity_profile`)."""
    edge: Tensor
    non_edge: Tensor

    @property
    def gap(self) -> float:
        """Mean edge cosine minus mean non-edge cosine (> 0 homophilic, < 0 heterophilic)."""
        return float(self.edge.mean() - self.non_edge.mean())


def edge_similarity_profile(x: Tensor, edge_index: Tensor, num_samples: Optional[int] = None,
                            seed: int = 0) -> SimilarityProfile:
    r"""Cosine similarities of (at most ``num_samples``) edges and of as many uniformly sampled non-edges.

    Non-edges are uniform pairs :math:`u \ne v` drawn with :func:`torch_geometric.utils.negative_sampling`
    (which rejects existing edges), so they estimate the non-edge distribution without an :math:`N \times N` matrix.

    Args:
        x (Tensor): node features ``[N, F]``.
        edge_index (LongTensor): ``[2, E]`` edges (each undirected edge may appear once or twice).
        num_samples (int, optional): cap on the number of edges used (random subset) and of non-edges drawn;
            default all edges.
        seed (int): seed of the edge subset and the non-edge sampler.
    """
    from torch_geometric.utils import negative_sampling

    if not isinstance(x, Tensor) or x.dim() != 2:
        raise ValueError(f'x must be a 2-D tensor [N, F], got {getattr(x, "shape", type(x))}')
    _check_pairs(edge_index, x.size(0))
    if edge_index.size(1) == 0:
        raise ValueError('edge_index is empty: no edges to profile')
    if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                    or num_samples < 1):
        raise ValueError(f'num_samples must be an int >= 1 or None, got {num_samples!r}')
    gen = torch.Generator().manual_seed(seed)
    ei = edge_index
    if num_samples is not None and ei.size(1) > num_samples:
        ei = ei[:, torch.randperm(ei.size(1), generator=gen)[:num_samples]]
    # PyG's sampler draws from both the torch and the Python RNG: seed both, restore both
    state, py_state = torch.random.get_rng_state(), random.getstate()
    torch.manual_seed(seed)
    random.seed(seed)
    try:
        neg = negative_sampling(edge_index, num_nodes=x.size(0), num_neg_samples=ei.size(1), method='sparse')
    finally:
        torch.random.set_rng_state(state)
        random.setstate(py_state)
    return SimilarityProfile(pair_cosine(x, ei), pair_cosine(x, neg))


@dataclass
class ThresholdTest:
    """Result of :func:`threshold_test` (accuracies are balanced accuracies in ``[0.5, 1]``)."""
    label: str              #: 'homophilic' | 'heterophilic' | 'gated' | 'indistinct'
    threshold: float        #: best single threshold M
    direction: str          #: 'above' (edges have k > M) or 'below' (edges have k <= M)
    accuracy: float         #: balanced accuracy of the best single threshold (A_1)
    band: Tuple[float, float]  #: best band [a, b]
    band_inside: bool       #: True: edges inside the band; False: edges outside it
    band_accuracy: float    #: balanced accuracy of the best band rule (A_2)
    gap: float              #: mean edge similarity minus mean non-edge similarity

    def as_dict(self) -> dict:
        return asdict(self)


def _max_subarray(w: np.ndarray) -> Tuple[float, int, int]:
    """Max sum of a contiguous non-empty slice ``w[i..j]`` and its inclusive bounds (prefix sums, O(n)).

    With prefix sums ``P[0] = 0, P[k] = w_0 + ... + w_{k-1}`` the best slice ending at ``j`` has sum
    ``P[j+1] - min_{i <= j} P[i]``.
    """
    p = np.concatenate([[0.0], np.cumsum(w)])
    mins = np.minimum.accumulate(p)
    is_new = np.concatenate([[True], p[1:] < mins[:-1]])          # where the running minimum moves
    argmins = np.maximum.accumulate(np.where(is_new, np.arange(p.size), 0))
    gains = p[1:] - mins[:-1]
    j = int(np.argmax(gains))
    return float(gains[j]), int(argmins[j]), j


def _similarities(name: str, t) -> np.ndarray:
    """A 1-D, non-empty, finite float vector of similarities (what :func:`pair_cosine` returns)."""
    if isinstance(t, Tensor):
        t = t.detach().cpu().numpy()
    if not isinstance(t, np.ndarray):
        raise TypeError(f'{name} must be a 1-D tensor of similarities, got {type(t).__name__}')
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.floating):
        raise ValueError(f'{name} must be a 1-D floating-point vector of similarities (e.g. edge_similarity_profile'
                         f'(x, edge_index).edge), got shape {tuple(t.shape)} and dtype {t.dtype}')
    if t.size == 0:
        raise ValueError(f'{name} is empty: threshold_test needs at least one edge and one non-edge similarity')
    if not np.isfinite(t).all():
        raise ValueError(f'{name} contains NaN or infinite values')
    return t.astype(np.float64)


def threshold_test(edge_sim: Tensor, non_edge_sim: Tensor, min_accuracy: float = 0.65,
                   band_gain: float = 0.1) -> ThresholdTest:
    r"""Label a task homophilic / heterophilic / gated / indistinct from its similarity distributions.

    The exact rules and label definitions are in the module docstring. Thresholds are placed half-way between
    consecutive distinct similarity values.

    Args:
        edge_sim (Tensor): ``[n_+]`` similarities of edges (1-D floats, e.g. :func:`pair_cosine`).
        non_edge_sim (Tensor): ``[n_-]`` similarities of non-edges (1-D floats).
        min_accuracy (float): balanced accuracy a rule must reach to count as separating (in ``(0.5, 1]``).
        band_gain (float): how much better than the best single threshold a band must be to call the task gated.
    """
    e, n = _similarities('edge_sim', edge_sim), _similarities('non_edge_sim', non_edge_sim)
    if isinstance(min_accuracy, bool) or not isinstance(min_accuracy, (int, float)) or not 0.5 < min_accuracy <= 1:
        raise ValueError(f'min_accuracy must be a number in (0.5, 1], got {min_accuracy!r}')
    if isinstance(band_gain, bool) or not isinstance(band_gain, (int, float)) or not 0 <= band_gain <= 0.5:
        raise ValueError(f'band_gain must be a number in [0, 0.5], got {band_gain!r}')
    vals, inv = np.unique(np.concatenate([e, n]), return_inverse=True)
    # weight of each distinct value: +1/n_+ per edge, -1/n_- per non-edge
    w = (np.bincount(inv[:e.size], minlength=vals.size) / e.size
         - np.bincount(inv[e.size:], minlength=vals.size) / n.size)
    # Single threshold after distinct value i (i = -1: below everything). "above": edge iff k > M.
    # balanced acc(above, cut after i) = 0.5 * (1 + sum_{j > i} w_j)
    suffix = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])  # suffix[i] = sum_{j >= i} w_j
    acc_above = 0.5 * (1.0 + suffix)                              # cut before value i
    acc_below = 0.5 * (1.0 - suffix)
    ia, ib = int(np.argmax(acc_above)), int(np.argmax(acc_below))

    def cut(i: int) -> float:  # threshold between value i-1 and value i
        if i <= 0:
            return float(vals[0]) - 1e-9
        if i >= vals.size:
            return float(vals[-1])
        return float(0.5 * (vals[i - 1] + vals[i]))

    if acc_above[ia] >= acc_below[ib]:
        direction, acc1, thr = 'above', float(acc_above[ia]), cut(ia)
    else:
        direction, acc1, thr = 'below', float(acc_below[ib]), cut(ib)
    s_in, i0, i1 = _max_subarray(w)
    s_out, o0, o1 = _max_subarray(-w)
    if s_in >= s_out:
        inside, acc2, band = True, 0.5 * (1.0 + s_in), (float(vals[i0]), float(vals[i1]))
    else:
        inside, acc2, band = False, 0.5 * (1.0 + s_out), (float(vals[o0]), float(vals[o1]))
    gap = float(e.mean() - n.mean())
    if acc2 >= min_accuracy and acc2 - acc1 >= band_gain:
        label = 'gated'
    elif acc1 >= min_accuracy:
        label = 'homophilic' if direction == 'above' else 'heterophilic'
    else:
        label = 'indistinct'
    return ThresholdTest(label, thr, direction, acc1, band, inside, float(acc2), gap)


def plot_similarity(profile: SimilarityProfile, path: Optional[str] = None, title: str = '', bins: int = 50,
                    test: Optional[ThresholdTest] = None):
    """Histogram (density) of edge vs non-edge cosine similarities; marks the best threshold and band.

    Args:
        profile (SimilarityProfile): from :func:`edge_similarity_profile`.
        path (str, optional): save the figure there (PNG/PDF by extension) and close it.
        title (str): figure title.
        bins (int): histogram bins over ``[-1, 1]``.
        test (ThresholdTest, optional): result of :func:`threshold_test` to annotate (computed if omitted).

    Returns:
        the matplotlib ``Figure`` (closed when ``path`` is given).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    test = test or threshold_test(profile.edge, profile.non_edge)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    edges = np.linspace(-1, 1, bins + 1)
    ax.hist(profile.non_edge.numpy(), bins=edges, density=True, alpha=0.5,
            label=f'non-edges (n={profile.non_edge.numel()})')
    ax.hist(profile.edge.numpy(), bins=edges, density=True, alpha=0.5, label=f'edges (n={profile.edge.numel()})')
    ax.axvline(test.threshold, color='k', ls='--', lw=1,
               label=f'M={test.threshold:.2f} ({test.direction}, acc {test.accuracy:.2f})')
    if test.label == 'gated':
        ax.axvspan(*test.band, color='gray', alpha=0.15, label=f'band (acc {test.band_accuracy:.2f})')
    ax.set_xlabel('cosine similarity of raw features')
    ax.set_ylabel('density')
    ax.set_title(title or f'{test.label} (gap {test.gap:+.3f})')
    ax.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
