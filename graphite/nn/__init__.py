"""Neural network models: the GRAPHITE model and heterophily baselines.

Every model is built as ``Model(in_channels, hidden_channels, out_channels, **options)`` and called as
``model(x, edge_index, edge_type=None) -> logits [N, C]``, so each runs unchanged on an original graph and on a
GRAPHITE-transformed graph (:class:`graphite.Graphite`). ``MODELS`` maps the names used by configs and the command
line to the classes.

The strong-baseline recipe (residual connections, normalisation, depth, input/output linear layers, per-place dropout,
jumping knowledge, ego/neighbour separation; Luo et al., NeurIPS 2024) is a set of options with the same names in
:class:`~graphite.nn.stacked_gnn.StackedGNN` (GCN, GraphSAGE, GAT, GIN) and :class:`GraphiteNet`, documented in
:mod:`graphite.nn.skeleton`; their defaults are the plain models. :data:`FAGCN_SETTINGS` are the options under which
:class:`GraphiteNet` computes :class:`FAGCN`.
"""
from graphite.nn.ego_separation import EgoSeparation
from graphite.nn.fagcn import FAGCN
from graphite.nn.gat import GAT
from graphite.nn.gcn import GCN
from graphite.nn.gcnii import GCNII
from graphite.nn.gin import GIN
from graphite.nn.gprgnn import GPRGNN
from graphite.nn.graphite_conv import GraphiteConv
from graphite.nn.graphite_net import FAGCN_SETTINGS, GraphiteNet
from graphite.nn.h2gcn import H2GCN
from graphite.nn.jknet import JKNet
from graphite.nn.mlp import MLP
from graphite.nn.sage import GraphSAGE
from graphite.nn.typed_adjacency import TypedAdjacency

#: model name (as used in configs and ``graphite run --model``) -> class
MODELS = {
    'graphite': GraphiteNet,
    'mlp': MLP,
    'gcn': GCN,
    'sage': GraphSAGE,
    'gat': GAT,
    'gin': GIN,
    'fagcn': FAGCN,
    'h2gcn': H2GCN,
    'gprgnn': GPRGNN,
    'gcnii': GCNII,
    'jknet': JKNet,
}


def transductive_kwargs(model_cls, kwargs: dict) -> dict:
    """``kwargs`` plus ``cached=True`` when ``model_cls`` takes a ``cached`` option: what a full-batch runner that
    calls every model on one fixed graph passes (the normalised adjacency is then built once per model)."""
    import inspect
    params = inspect.signature(model_cls.__init__).parameters
    return {**kwargs, 'cached': True} if 'cached' in params and 'cached' not in kwargs else dict(kwargs)


def get_model(name: str):
    """The model class registered under ``name`` (case-insensitive); ``KeyError`` listing the known names."""
    key = name.lower()
    if key not in MODELS:
        raise KeyError(f'unknown model {name!r}; known models: {", ".join(sorted(MODELS))}')
    return MODELS[key]


__all__ = ['MODELS', 'get_model', 'EgoSeparation', 'transductive_kwargs', 'GraphiteConv', 'GraphiteNet',
           'FAGCN_SETTINGS', 'TypedAdjacency', 'MLP', 'GCN', 'GraphSAGE', 'GAT', 'GIN', 'FAGCN', 'H2GCN', 'GPRGNN',
           'GCNII', 'JKNet']
