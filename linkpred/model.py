"""An encoder + decoder link predictor and the naming of its variants (``<encoder>-<decoder>[-sep|-mix]``)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from linkpred.decoders import PairDecoder, build_decoder
from linkpred.encoders import LinkEncoder, build_encoder

__all__ = ['LinkPredictor', 'build_link_predictor', 'model_name', 'parse_model_name']


class LinkPredictor(torch.nn.Module):
    """``decoder(encoder(x, edge_index)[: num_graph_nodes], pairs)`` -> logits ``[P]``.

    Args:
        encoder (LinkEncoder): node encoder (any module ``(x, edge_index, num_graph_nodes) -> [N, d]``).
        decoder (PairDecoder): pair decoder on ``d``-dimensional embeddings.
    """

    def __init__(self, encoder: LinkEncoder, decoder: PairDecoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def encode(self, x: Tensor, edge_index: Tensor, num_graph_nodes: Optional[int] = None) -> Tensor:
        return self.encoder(x, edge_index, num_graph_nodes)

    def decode(self, h: Tensor, pairs: Tensor, batch_size: int = 1 << 16) -> Tensor:
        """Logits of ``pairs`` ``[2, P]`` (in chunks of ``batch_size`` pairs to bound memory)."""
        if pairs.size(1) <= batch_size:
            return self.decoder(h, pairs)
        return torch.cat([self.decoder(h, pairs[:, s:s + batch_size]) for s in range(0, pairs.size(1), batch_size)])

    def forward(self, x: Tensor, edge_index: Tensor, pairs: Tensor, num_graph_nodes: Optional[int] = None) -> Tensor:
        return self.decode(self.encode(x, edge_index, num_graph_nodes), pairs)


def build_link_predictor(encoder: str, decoder: str, in_channels: int, hidden_channels: int = 256,
                         num_layers: int = 2, dropout: float = 0.0, decoder_dropout: float = 0.0,
                         separate_ego=None, **encoder_kwargs) -> LinkPredictor:
    """Encoder and decoder by name (see :data:`linkpred.encoders.ENCODERS`, :data:`linkpred.decoders.DECODERS`)."""
    enc = build_encoder(encoder, in_channels, hidden_channels, num_layers, dropout, separate_ego, **encoder_kwargs)
    return LinkPredictor(enc, build_decoder(decoder, enc.out_channels, decoder_dropout))


def model_name(encoder: str, decoder: str, separate_ego=None) -> str:
    """``<encoder>-<decoder>`` plus ``-sep`` when the ego embedding is explicitly separated, ``-mix`` when it is
    explicitly mixed for an encoder that separates it natively (``sage``); ``None`` = the encoder's native choice."""
    if separate_ego is None or encoder == 'none':
        return f'{encoder}-{decoder}'
    if separate_ego is False:
        return f'{encoder}-{decoder}-mix' if encoder == 'sage' else f'{encoder}-{decoder}'
    suffix = '-sep' if separate_ego in (True, 'sum') else f'-sep{separate_ego}'
    if encoder == 'sage' and separate_ego in (True, 'sum'):  # sage separates natively: no suffix
        return f'{encoder}-{decoder}'
    return f'{encoder}-{decoder}{suffix}'


def parse_model_name(name: str):
    """Inverse of :func:`model_name`: ``'gcn-mlp-sep'`` -> ``('gcn', 'mlp', True)``."""
    parts = name.split('-')
    if len(parts) not in (2, 3):
        raise ValueError(f"model name must be '<encoder>-<decoder>[-sep|-mix|-sepconcat]', got {name!r}")
    sep = {None: None, 'sep': True, 'mix': False, 'sepconcat': 'concat'}.get(parts[2] if len(parts) == 3 else None, '?')
    if sep == '?':
        raise ValueError(f'unknown model suffix {parts[2]!r} in {name!r} (use sep, mix or sepconcat)')
    return parts[0], parts[1], sep
