"""Pure-PyTorch neighbour sampling inside PyG's LinkNeighborLoader."""
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from linkpred.sampling import TorchNeighborSampler, link_neighbor_loader


def _data(n=60, m=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = to_undirected(torch.randint(0, n, (2, m), generator=g), num_nodes=n)
    return Data(x=torch.arange(n, dtype=torch.float).view(-1, 1), edge_index=ei, num_nodes=n)


def test_sampler_output_is_a_valid_subgraph():
    d = _data()
    edges = set(map(tuple, d.edge_index.t().tolist()))
    in_deg = torch.bincount(d.edge_index[1], minlength=60)
    torch.manual_seed(0)
    s = TorchNeighborSampler(d, [4, 3])
    seed = torch.tensor([0, 5, 9, 17])
    out = s._sample(seed)
    assert torch.equal(out.node[:4], seed) and out.node.unique().numel() == out.node.numel()
    src, dst = out.node[out.row], out.node[out.col]
    assert all((int(u), int(v)) in edges for u, v in zip(src, dst))
    # sampled edge ids point at the same edges of the original edge_index
    orig = d.edge_index[:, s.perm[out.edge]] if s.perm is not None else d.edge_index[:, out.edge]
    assert torch.equal(orig, torch.stack([src, dst]))
    hop1 = out.num_sampled_edges[0]
    cnt = torch.bincount(out.col[:hop1], minlength=4)[:4]
    assert torch.equal(cnt, in_deg[seed].clamp_max(4))           # min(deg, k) per seed, first hop
    pairs = torch.stack([out.row, out.col])
    assert torch.unique(pairs, dim=1).size(1) == pairs.size(1)  # without replacement: no repeated edge
    full = TorchNeighborSampler(d, [-1])._sample(seed)
    assert torch.equal(torch.bincount(full.col, minlength=4)[:4], in_deg[seed])


def test_link_neighbor_loader_batches():
    d = _data(seed=1)
    edges = set(map(tuple, d.edge_index.t().tolist()))
    torch.manual_seed(0)
    loader = link_neighbor_loader(d, [5, 5], d.edge_index[:, :40], batch_size=16)
    batches = list(loader)
    assert sum(int(b.edge_label.sum()) for b in batches) == 40
    for b in batches:
        assert torch.equal(b.x.view(-1).long(), b.n_id)
        pos = b.n_id[b.edge_label_index[:, b.edge_label == 1]]
        assert all((int(u), int(v)) in edges for u, v in pos.t())
        assert b.edge_label.numel() == 2 * int(b.edge_label.sum())  # one negative per positive
