r"""Pair decoders: embeddings :math:`h_u, h_v \in \mathbb{R}^d` -> one logit per pair.

* ``dot``: :math:`s(u, v) = h_u^\top h_v` (fixed, no parameters);
* ``distmult``: :math:`s(u, v) = w^\top (h_u \odot h_v)` (``Linear(d, 1, bias=False)``; DistMult with a diagonal
  relation, Yang et al., ICLR 2015) -- a learnable, possibly negative, weighting of the dimensions, which is what
  a heterophilic task needs (Zhu et al., NeurIPS 2024, Sec. 4);
* ``mlp``: MLP on the Hadamard product, :math:`d \to d \to d \to 1` with ReLU (and dropout) between layers;
* ``concat``: MLP on the concatenation, :math:`2d \to d \to d \to 1`, made symmetric by averaging
  :math:`f([h_u \Vert h_v])` and :math:`f([h_v \Vert h_u])`.

``forward(h, pairs)`` takes ``h`` ``[N, d]`` and ``pairs`` ``[2, P]`` and returns logits ``[P]``
(apply a sigmoid for probabilities).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear

__all__ = ['PairDecoder', 'DotDecoder', 'DistMultDecoder', 'HadamardMLPDecoder', 'ConcatMLPDecoder', 'DECODERS',
           'build_decoder']


class PairDecoder(torch.nn.Module):
    """Base class (checks shapes; subclasses implement :meth:`score`)."""

    def __init__(self, channels: int):
        super().__init__()
        if channels < 1:
            raise ValueError(f'channels must be >= 1, got {channels}')
        self.channels = channels

    def forward(self, h: Tensor, pairs: Tensor) -> Tensor:
        if not isinstance(h, Tensor) or h.dim() != 2 or h.size(1) != self.channels:
            raise ValueError(f'h must be [N, {self.channels}], got {getattr(h, "shape", type(h))}')
        if not isinstance(pairs, Tensor) or pairs.dim() != 2 or pairs.size(0) != 2:
            raise ValueError(f'pairs must be [2, P], got {getattr(pairs, "shape", type(pairs))}')
        if pairs.numel() and (int(pairs.min()) < 0 or int(pairs.max()) >= h.size(0)):
            raise ValueError(f'pairs has node indices outside [0, {h.size(0)})')
        return self.score(h[pairs[0]], h[pairs[1]])

    def score(self, hu: Tensor, hv: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.channels})'


class DotDecoder(PairDecoder):
    def score(self, hu, hv):
        return (hu * hv).sum(-1)


class DistMultDecoder(PairDecoder):
    def __init__(self, channels: int):
        super().__init__(channels)
        self.lin = Linear(channels, 1, bias=False)

    def score(self, hu, hv):
        return self.lin(hu * hv).squeeze(-1)


class _MLP(torch.nn.Module):
    def __init__(self, c_in: int, c_hidden: int, dropout: float):
        super().__init__()
        self.lins = torch.nn.ModuleList([Linear(c_in, c_hidden), Linear(c_hidden, c_hidden), Linear(c_hidden, 1)])
        self.dropout = dropout

    def forward(self, z):
        for lin in self.lins[:-1]:
            z = F.dropout(F.relu(lin(z)), p=self.dropout, training=self.training)
        return self.lins[-1](z).squeeze(-1)


class HadamardMLPDecoder(PairDecoder):
    def __init__(self, channels: int, dropout: float = 0.0):
        super().__init__(channels)
        self.mlp = _MLP(channels, channels, dropout)

    def score(self, hu, hv):
        return self.mlp(hu * hv)


class ConcatMLPDecoder(PairDecoder):
    def __init__(self, channels: int, dropout: float = 0.0):
        super().__init__(channels)
        self.mlp = _MLP(2 * channels, channels, dropout)

    def score(self, hu, hv):
        return 0.5 * (self.mlp(torch.cat([hu, hv], -1)) + self.mlp(torch.cat([hv, hu], -1)))


DECODERS = {'dot': DotDecoder, 'distmult': DistMultDecoder, 'mlp': HadamardMLPDecoder, 'concat': ConcatMLPDecoder}


def build_decoder(name: str, channels: int, dropout: float = 0.0) -> PairDecoder:
    """Decoder by name (``DECODERS`` keys); ``dropout`` applies to the MLP decoders."""
    if name not in DECODERS:
        raise KeyError(f'unknown decoder {name!r}; choose from {sorted(DECODERS)}')
    cls = DECODERS[name]
    return cls(channels, dropout=dropout) if name in ('mlp', 'concat') else cls(channels)
