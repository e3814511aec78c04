"""graphite.nn.GCN normalises its graph once and aggregates with graphite.ops.spmm, GraphSAGE and GIN aggregate with
graphite.ops.spmm over the graph's CSR, GAT computes per-edge attention coefficients and aggregates each head with
graphite.ops.spmm; PyG's own convolutions on the ``edge_index`` (per-edge messages) are the oracle."""
from __future__ import annotations

import math
import pickle

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch_geometric.nn import GATConv as PyGGATConv
from torch_geometric.nn import GCNConv as PyGGCNConv
from torch_geometric.nn import GINConv as PyGGINConv
from torch_geometric.nn import SAGEConv as PyGSAGEConv
from torch_geometric.utils import to_torch_csr_tensor

from graphite.nn import GAT, GCN, GIN, GraphSAGE
from graphite.nn.gat import GATConv, attention_graph
from graphite.nn.gcn import GCNConv, NormalizedGraph, normalized_graph
from graphite.nn.gin import GINConv
from graphite.nn.sage import SAGEConv
from graphite.ops import CSR

N, F_IN, H, C = 23, 5, 16, 3


def _graph():
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, N, (2, 70), generator=g)
    # duplicated edges and self-loops (one of them duplicated): GCNConv's add_remaining_self_loops keeps one
    extra = torch.tensor([[3, 5, 5, 0], [3, 5, 5, 1]])
    return torch.cat([ei, ei[:, :9], extra], 1), torch.randn(N, F_IN, generator=g, dtype=torch.float64)


def _pyg_conv(inner):
    """The PyG convolution of the same kind and weights as ``inner`` (one of graphite's subclasses)."""
    if isinstance(inner, GCNConv):
        ref = PyGGCNConv(inner.in_channels, inner.out_channels, add_self_loops=inner.add_self_loops)
    elif isinstance(inner, GATConv):
        ref = PyGGATConv(inner.in_channels, inner.out_channels, heads=inner.heads, concat=inner.concat,
                         dropout=inner.dropout, add_self_loops=inner.add_self_loops)
    elif isinstance(inner, SAGEConv):
        ref = PyGSAGEConv(inner.in_channels, inner.out_channels, aggr=inner.aggr, root_weight=inner.root_weight)
    else:
        ref = PyGGINConv(pickle.loads(pickle.dumps(inner.nn)), train_eps=True)
    ref = ref.to(next(inner.parameters()).dtype)
    ref.load_state_dict(inner.state_dict())
    return ref


def _pyg_stack(model):
    """PyG convolution modules holding the weights of ``model``'s convolutions (the oracle)."""
    return [_pyg_conv(getattr(conv, 'module', conv)) for conv in model.convs]


MODELS = [(GCN, dict(cached=False)), (GCN, dict(cached=True)), (GraphSAGE, {}), (GIN, {}), (GAT, dict(heads=2)),
          (GAT, dict(heads=1))]


@pytest.mark.parametrize('options', [dict(), dict(separate_ego=True),
                                     dict(norm='batch', residual='linear', jk='sum', num_layers=4)])
@pytest.mark.parametrize('cls,extra', MODELS)
def test_model_equals_pyg_convolutions_on_edge_index(options, cls, extra):
    ei, x = _graph()
    torch.manual_seed(0)
    model = cls(F_IN, H, C, dropout=0.0, **extra, **options).double()
    model.train()
    out = model(x, ei)
    out.square().sum().backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    # the same model with its convolutions swapped for PyG's, called on the edge_index
    ref_model = pickle.loads(pickle.dumps(model))
    for i, ref in enumerate(_pyg_stack(model)):
        if hasattr(ref_model.convs[i], 'module'):
            ref_model.convs[i].module = ref
        else:
            ref_model.convs[i] = ref
    ref_model.propagation_graph = lambda edge_index, h: edge_index
    ref_model.zero_grad()
    want = ref_model(x, ei)
    want.square().sum().backward()
    torch.testing.assert_close(out, want)
    for k, p in ref_model.named_parameters():
        torch.testing.assert_close(grads[k], p.grad, msg=k)


@pytest.mark.parametrize('cls', [GCN, GraphSAGE, GIN, GAT])
def test_plain_model_is_the_pyg_formula_in_float32(cls):
    ei, x = _graph()
    x = x.float()
    torch.manual_seed(0)
    model = cls(F_IN, H, C, num_layers=2).eval()
    h = x
    for i, ref in enumerate(_pyg_stack(model)):
        h = ref.float()(h, ei)
        h = F.relu(h) if i == 0 else h
    torch.testing.assert_close(model(x, ei), h, atol=1e-5, rtol=1e-5)


def test_conv_takes_edge_index_sparse_adjacency_and_normalized_graph_alike():
    ei, x = _graph()
    conv = GCNConv(F_IN, H).double()
    ref = PyGGCNConv(F_IN, H).double()
    ref.load_state_dict(conv.state_dict())
    want = ref(x, ei)
    torch.testing.assert_close(conv(x, ei), want)
    simple = torch.unique(ei[:, ei[0] != ei[1]], dim=1)  # a torch.sparse adjacency holds no duplicates
    adj_t = to_torch_csr_tensor(simple.flip(0), torch.ones(simple.size(1), dtype=x.dtype), size=(N, N))
    torch.testing.assert_close(conv(x, adj_t), ref(x, simple))
    torch.testing.assert_close(conv(x, normalized_graph(ei, N, dtype=x.dtype)), want)
    with pytest.raises(ValueError, match='carries its own edge weights'):
        conv(x, normalized_graph(ei, N, dtype=x.dtype), torch.ones(ei.size(1), dtype=x.dtype))


def test_normalized_graph_checks_the_edge_index():
    with pytest.raises(ValueError, match='outside'):
        normalized_graph(torch.tensor([[0, 7], [1, 2]]), 5)
    g = normalized_graph(torch.tensor([[0, 1], [1, 2]]), 3)
    assert isinstance(g, NormalizedGraph) and g.csr.num_edges == 5 and g.weight.dtype == torch.float32


class _Shapes(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.shapes = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self.shapes.add(tuple(t.shape))
        return out


@pytest.mark.parametrize('cls,extra', [(GCN, {}), (GraphSAGE, {}), (GIN, {}), (GAT, dict(heads=2))])
def test_no_per_edge_hidden_tensor_forward_or_backward(cls, extra):
    """Memory O(N H + E): no ``[E, H]`` tensor (E with or without the added self-loops) in a training step, only
    per-edge scalars (GAT: one per edge and head), where PyG's own per-edge path has one (so the check can see it)."""
    ei, x = _graph()
    x = x.float()
    sizes = {ei.size(1), normalized_graph(ei, N).weight.numel(), attention_graph(ei, N).src.numel()}
    allowed = extra.get('heads', 1)
    model = cls(F_IN, H, C, num_layers=3, **extra)
    with _Shapes() as seen:
        model(x, ei).sum().backward()
    assert not [s for s in seen.shapes if s and s[0] in sizes and math.prod(s[1:]) > allowed], sorted(seen.shapes)
    ref = model.__class__(F_IN, H, C, num_layers=3, **extra)
    ref.propagation_graph = lambda edge_index, h: edge_index
    with _Shapes() as seen_ref:
        ref(x, ei).sum().backward()
    assert [s for s in seen_ref.shapes if s and s[0] in sizes and math.prod(s[1:]) == H]


def test_sage_and_gin_convs_take_a_csr_and_refuse_what_it_cannot_do():
    ei, x = _graph()
    csr = CSR.from_edge_index(ei, N)
    for conv in (SAGEConv(F_IN, H).double(), GINConv(torch.nn.Linear(F_IN, H), train_eps=True).double()):
        ref = _pyg_conv(conv)
        torch.testing.assert_close(conv(x, csr), ref(x, ei))
        torch.testing.assert_close(conv(x, ei), ref(x, ei))
    with pytest.raises(ValueError, match='project=False'):
        SAGEConv(F_IN, H, project=True).double()(x, csr)
    with pytest.raises(ValueError, match='one x'):
        GINConv(torch.nn.Linear(F_IN, H).double())((x, x), csr)


def test_cached_model_computes_on_the_graph_it_is_called_with():
    ei, x = _graph()
    torch.manual_seed(0)
    model = GCN(F_IN, H, C, cached=True).double().eval()
    fresh = GCN(F_IN, H, C).double().eval()
    fresh.load_state_dict(model.state_dict())
    other = ei[:, 10:]
    model(x, ei)
    torch.testing.assert_close(model(x, other), fresh(x, other))
    other.add_(0)  # the same tensor modified in place is a new graph too
    other[0, 0] = (other[0, 0] + 1) % N
    torch.testing.assert_close(model(x, other), fresh(x, other))


def test_gat_conv_takes_an_attention_graph_and_refuses_what_it_cannot_do():
    ei, x = _graph()
    graph = attention_graph(ei, N)
    for options in (dict(heads=3), dict(heads=2, concat=False), dict(heads=1, add_self_loops=False, residual=True)):
        conv = GATConv(F_IN, 4, **options).double()
        ref = PyGGATConv(F_IN, 4, **options).double()
        ref.load_state_dict(conv.state_dict())
        on = graph if conv.add_self_loops else attention_graph(ei, N, self_loops=False)
        torch.testing.assert_close(conv(x, on), ref(x, ei))
        torch.testing.assert_close(conv(x, ei), ref(x, ei))
    # the graph's self-loops: every old one removed, one per node added (PyG's remove_self_loops + add_self_loops)
    assert graph.src.numel() == ei.size(1) - int((ei[0] == ei[1]).sum()) + N
    with pytest.raises(ValueError, match='no edge_attr'):
        GATConv(F_IN, 4).double()(x, graph, edge_attr=torch.ones(graph.src.numel(), 1, dtype=x.dtype))
    with pytest.raises(ValueError, match='outside'):
        attention_graph(torch.tensor([[0, 7], [1, 2]]), 5)
