"""Float64 models are float64 throughout (found on a GPU: GPRGNN and H2GCN differed from the CPU by 1e-7 in float64
because their normalised adjacency was always built in float32). Oracles: dense float64 matrices."""
from __future__ import annotations

import torch

from graphite.nn import GPRGNN
from graphite.nn.normalized_adjacency import sym_normalized


def _dense_sym(edge_index, n, self_loops):
    a = torch.zeros(n, n, dtype=torch.float64)
    keep = edge_index[0] != edge_index[1]
    a[edge_index[0, keep], edge_index[1, keep]] = 1.0
    a = ((a + a.t()) > 0).double()
    if self_loops:
        a += torch.eye(n, dtype=torch.float64)
    d = a.sum(1)
    dinv = torch.where(d > 0, d.clamp_min(1).rsqrt(), torch.zeros_like(d))
    return dinv[:, None] * a * dinv[None, :]


def test_sym_normalized_is_exact_in_float64(make_graph):
    data = make_graph(num_nodes=25, num_edges=90, seed=7)
    for loops in (True, False):
        csr, w = sym_normalized(data.edge_index, 25, self_loops=loops, dtype=torch.float64)
        assert w.dtype == torch.float64
        dense = torch.zeros(25, 25, dtype=torch.float64)
        src, dst = csr.col, csr.row  # CSR rows are targets
        dense[dst, src] = csr.permute_weight(w)  # edge order -> CSR order
        torch.testing.assert_close(dense, _dense_sym(data.edge_index, 25, loops), atol=1e-15, rtol=1e-14)
        assert sym_normalized(data.edge_index, 25, self_loops=loops)[1].dtype == torch.float32


def test_gprgnn_float64_matches_dense_oracle(make_graph):
    data = make_graph(num_nodes=30, num_features=6, num_edges=100, seed=8)
    torch.manual_seed(0)
    model = GPRGNN(6, 8, 3, num_layers=4).double().eval()
    x = data.x.double()
    a = _dense_sym(data.edge_index, 30, True)
    z = model.lin2(torch.relu(model.lin1(x)))
    want, p = model.gamma[0] * z, z
    for k in range(1, 5):
        p = a @ p
        want = want + model.gamma[k] * p
    torch.testing.assert_close(model(x, data.edge_index), want, atol=1e-12, rtol=1e-12)
