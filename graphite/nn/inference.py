r"""Full-graph evaluation, layer by layer, with no autograd graph: memory :math:`O(N \cdot H + E)`.

Mini-batch training computes each model on sampled subgraphs; evaluation needs every node's logits on the full
graph. Keeping the activations of all layers for backward costs :math:`O(L \cdot N \cdot H)`; without autograd a
layer's input can be freed as soon as its output exists. :func:`layerwise_inference` runs the model in eval mode
under :func:`torch.no_grad` (not ``inference_mode``: a cached adjacency built here
must stay usable by later training steps), where every model of :mod:`graphite.nn` computes one layer over the whole
graph
at a time and releases the previous layer's representation (``h = conv(h, ...)``), which is the memory behaviour of
PyG's ``inference`` pattern with full neighbourhoods (exact, no sampling). A model that defines
``inference(x, edge_index, edge_type)`` (its own layer-wise evaluation, e.g. node-chunked) is called through it.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ['layerwise_inference']


def layerwise_inference(model: nn.Module, x: Tensor, edge_index: Tensor, edge_type: Optional[Tensor] = None) -> Tensor:
    """Logits ``[N, C]`` of ``model`` (unwrapped from DDP if needed) on the full graph, in eval mode, without
    autograd; the model's train/eval mode is restored afterwards. The result equals ``model.eval()(x, ...)``."""
    model = getattr(model, 'module', model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            run = getattr(model, 'inference', None)
            return run(x, edge_index, edge_type) if callable(run) else model(x, edge_index, edge_type)
    finally:
        model.train(was_training)
