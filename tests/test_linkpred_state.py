"""Encoders and decoders as a training loop uses them: copies, pickles, torch.save, caches, changing graphs.

Oracle for every graph: a fresh model with the same weights (``load_state_dict``) that never saw another graph.
"""
import copy
import io
import pickle
import warnings

import pytest
import torch

from graphite.nn import EgoSeparation
from linkpred.decoders import DECODERS, build_decoder
from linkpred.encoders import ENCODERS, build_encoder
from linkpred.model import LinkPredictor

EGO = {'gcn': [False, True, 'concat'], 'sage': [False, True, 'concat'], 'gat': [False, True, 'concat'],
       'gatv2': [False, True], 'gin': [False, True, 'concat'], 'gprgnn': [False, True], 'none': [False]}
CASES = [(name, ego) for name in sorted(ENCODERS) for ego in EGO[name]]


def _graph(n, m, seed, f=6):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    return torch.randn(n, f, generator=g), torch.cat([ei, ei.flip(0)], 1)


def _encoder(name, ego, cached=False, seed=0):
    torch.manual_seed(seed)
    kw = {'heads': 2} if 'gat' in name else {}
    return build_encoder(name, 6, 8, num_layers=2, separate_ego=ego, cached=cached, **kw)


def _fresh_like(enc, name, ego):
    fresh = _encoder(name, ego, seed=123)
    fresh.load_state_dict(enc.state_dict())
    return fresh.eval()


def _train_step(model, x, ei):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    pairs = torch.randint(0, x.size(0), (2, 20))
    loss = model(x, ei, pairs).square().mean()
    loss.backward()
    opt.step()


@pytest.mark.parametrize('cached', [False, True])
@pytest.mark.parametrize('name,ego', CASES)
def test_copy_pickle_save_mid_training(name, ego, cached):
    x, ei = _graph(15, 30, 0)
    enc = _encoder(name, ego, cached)
    for dec in sorted(DECODERS):
        model = LinkPredictor(enc, build_decoder(dec, enc.out_channels))
        _train_step(model, x, ei)                                         # caches filled, grads present
        model.eval()
        want = model.encode(x, ei)
        buf = io.BytesIO()
        torch.save(model, buf)
        buf.seek(0)
        for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model)),
                      torch.load(buf, weights_only=False)):
            assert len(other.encoder.__dict__.get('_memo') or ()) == 0  # derived state is never copied
            assert torch.allclose(other.encode(x, ei), want, atol=1e-6)
        model.train()
    assert not any('propagation' in k or 'cache' in k for k in enc.state_dict())


@pytest.mark.parametrize('cached', [False, True])
@pytest.mark.parametrize('name,ego', CASES)
def test_two_graphs_in_a_row_and_in_place_change_match_fresh_models(name, ego, cached):
    enc = _encoder(name, ego, cached).eval()
    x1, e1 = _graph(15, 30, 1)
    x2, e2 = _graph(11, 25, 2)
    with torch.no_grad():
        enc(x1, e1)
        assert torch.allclose(enc(x2, e2), _fresh_like(enc, name, ego)(x2, e2), atol=1e-6)
        assert torch.allclose(enc(x1, e1), _fresh_like(enc, name, ego)(x1, e1), atol=1e-6)
        e1[1] = e1[1].roll(5)                                            # same tensor object, edited in place
        assert torch.allclose(enc(x1, e1), _fresh_like(enc, name, ego)(x1, e1.clone()), atol=1e-6)


@pytest.mark.parametrize('name,ego', CASES)
def test_float64_and_no_warnings(name, ego):
    x, ei = _graph(15, 30, 3)
    enc = _encoder(name, ego).double()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = enc(x.double(), ei)
    assert out.dtype == torch.float64
    assert torch.allclose(out.float(), _encoder(name, ego)(x, ei), atol=1e-4)


def test_cache_is_reused_only_for_the_same_unchanged_graph():
    x, ei = _graph(15, 30, 4)
    enc = _encoder('gcn', False, cached=True)
    enc(x, ei)
    first = enc.propagation(ei, 15)
    assert enc.propagation(ei, 15) is first                              # transductive reuse
    ei.add_(0)                                                           # in-place edit bumps the version
    assert enc.propagation(ei, 15) is not first
    enc.clear_cache()
    assert len(enc.__dict__['_memo']) == 0
    plain = _encoder('gcn', False)
    plain(x, ei)
    assert '_memo' not in plain.__dict__                                 # cached=False keeps nothing


def test_ego_separation_formulas():
    torch.manual_seed(0)
    h = torch.randn(5, 3)
    agg = torch.nn.Linear(3, 4)
    assert torch.equal(EgoSeparation(agg, 3, 4)(h), agg(h))
    s = EgoSeparation(agg, 3, 4, 'sum')
    assert s.ego.bias is None and torch.allclose(s(h), agg(h) + h @ s.ego.weight.t())
    c = EgoSeparation(agg, 3, 2, 'concat', agg_channels=4)
    assert torch.allclose(c(h), torch.cat([h, agg(h)], 1) @ c.ego.weight.t() + c.ego.bias)
    assert EgoSeparation(agg, 3, 4).self_loops and not s.self_loops
    with pytest.raises(ValueError, match='agg_channels'):
        EgoSeparation(agg, 3, 2, 'sum', agg_channels=4)
    with pytest.raises(ValueError, match='separate_ego'):
        EgoSeparation(agg, 3, 4, 'both')
