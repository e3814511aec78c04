"""Tests of the large LINKX loaders (graphite.datasets.linkx) with a faked download.

Nothing can be fetched here, so ``torch_geometric.data.download_url`` is replaced by a function that serves tiny
synthetic files written in the real formats (MATLAB v5 .mat, pickled ``*-splits.npy``, OGB csv.gz inside a zip,
twitch CSVs with the SNAP header, torch .pt). The oracle for every loaded graph is a brute-force reading of those
tiny files with the standard library (csv, gzip, per-node loops), not the loader's code.
"""
import csv
import gzip
import io
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse
import torch

from graphite import datasets as D
from graphite.datasets import linkx as L

LINKX = ['pokec', 'snap-patents', 'arxiv-year', 'genius', 'twitch-gamers', 'wiki']
N = 40  # nodes of every tiny graph


def _splits(labelled, seed, as_tensor):
    """5 LINKX-style 50/25/25 splits over the labelled nodes (dicts of index arrays or tensors)."""
    rng = np.random.default_rng(seed)
    out = np.empty(5, dtype=object)
    for s in range(5):
        perm = rng.permutation(labelled)
        a, b = len(perm) // 2, len(perm) // 2 + len(perm) // 4
        parts = {'train': perm[:a], 'valid': perm[a:b], 'test': perm[b:]}
        out[s] = {k: torch.as_tensor(v) if as_tensor else v for k, v in parts.items()}
    return out


def _npy(obj) -> bytes:
    buf = io.BytesIO()
    np.save(buf, obj, allow_pickle=True)
    return buf.getvalue()


def _mat(**arrays) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, arrays)
    return buf.getvalue()


def _csv_gz(rows) -> bytes:
    return gzip.compress(''.join(','.join(str(v) for v in r) + '\n' for r in rows).encode())


def _pt(t) -> bytes:
    buf = io.BytesIO()
    torch.save(t, buf)
    return buf.getvalue()


def make_files(rng):
    """{dataset: {raw file name: bytes}} for all six datasets."""
    edges = rng.integers(0, N, (2, 150))
    files = {}
    label = rng.integers(0, 2, N)
    label[rng.random(N) < 0.2] = -1  # pokec: gender unknown
    files['pokec'] = {'pokec.mat': _mat(edge_index=edges, node_feat=rng.integers(0, 5, (N, 7)).astype(float),
                                        label=label[None, :], num_nodes=N),
                      'pokec-splits.npy': _npy(_splits(np.flatnonzero(label >= 0), 1, as_tensor=True))}
    years = rng.integers(1976, 1990, N)  # few distinct values: quantile ties
    feat = scipy.sparse.random(N, 9, density=0.3, random_state=2, format='csr')
    files['snap-patents'] = {'snap_patents.mat': _mat(edge_index=edges, node_feat=feat, years=years[None, :],
                                                      num_nodes=N),
                             'snap-patents-splits.npy': _npy(_splits(np.arange(N), 2, as_tensor=False))}
    files['arxiv-year'] = {'arxiv-year-splits.npy': _npy(_splits(np.arange(N), 3, as_tensor=True))}
    files['arxiv.zip'] = {'arxiv/raw/edge.csv.gz': _csv_gz(edges.T), 'arxiv/raw/node_year.csv.gz': _csv_gz(
        years[:, None] + 20), 'arxiv/raw/node-feat.csv.gz': _csv_gz(np.round(rng.normal(size=(N, 4)), 6)),
        'arxiv/raw/node-label.csv.gz': _csv_gz(np.zeros((N, 1), int))}
    files['genius'] = {'genius.mat': _mat(edge_index=edges, node_feat=rng.normal(size=(N, 12)),
                                          label=rng.integers(0, 2, (1, N))),
                       'genius-splits.npy': _npy(_splits(np.arange(N), 4, as_tensor=True))}
    langs = rng.choice(['EN', 'DE', 'FR', 'OTHER'], N)
    head = 'views,mature,life_time,created_at,updated_at,numeric_id,dead_account,language,affiliate\n'
    rows = [f'{rng.integers(0, 10**6)},{rng.integers(0, 2)},{rng.integers(1, 3000)},2016-0{1 + i % 9}-1{i % 10},'
            f'2018-10-{10 + i % 20},{i},{rng.integers(0, 2)},{langs[i]},{rng.integers(0, 2)}\n' for i in range(N)]
    files['twitch-gamers'] = {
        'twitch-gamer_feat.csv': (head + ''.join(rows)).encode(),
        'twitch-gamer_edges.csv': ('numeric_id_1,numeric_id_2\n' + ''.join(f'{a},{b}\n' for a, b in edges.T)).encode(),
        'twitch-gamer-splits.npy': _npy(_splits(np.arange(N), 5, as_tensor=True))}
    files['wiki'] = {'wiki_features2M.pt': _pt(torch.randn(N, 6)), 'wiki_edges2M.pt': _pt(torch.from_numpy(edges.T)),
                     'wiki_views2M.pt': _pt(torch.randint(0, 5, (N, )))}
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, 'w') as z:
        for member, blob in files.pop('arxiv.zip').items():
            z.writestr(member, blob)
    return files, zbuf.getvalue()


@pytest.fixture(scope='module')
def linkx_files():
    return make_files(np.random.default_rng(0))


@pytest.fixture()
def fake_download(linkx_files, monkeypatch):
    """Serve the tiny files at their real URLs; returns the list of URLs fetched."""
    import torch_geometric.data
    files, arxiv_zip = linkx_files
    served = {'http://snap.stanford.edu/ogb/data/nodeproppred/arxiv.zip': arxiv_zip}
    for name in LINKX:
        for f, url in D.info(name).file_urls:
            if '#' not in url:
                served[url] = files[name][f]
    fetched = []

    def download_url(url, folder, log=True, filename=None):
        fetched.append(url)
        path = Path(folder) / (filename or url.rpartition('/')[2].split('?')[0])
        path.write_bytes(served[url])
        return str(path)
    monkeypatch.setattr(torch_geometric.data, 'download_url', download_url)
    monkeypatch.setattr('graphite.datasets.loader.network_reachable', lambda url, timeout=3.0: True)
    return fetched


# ----------------------------------------------------------------------------------------------- brute-force oracle

def _quantile(sorted_vals, p):
    """numpy's default ('linear') quantile, by hand."""
    pos = (len(sorted_vals) - 1) * p
    lo = int(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def _quantile_class(values, k=5):
    s = sorted(values)
    thresholds = [_quantile(s, (j + 1) / k) for j in range(k - 1)]
    return [sum(v >= t for t in thresholds) for v in values]


def _csv_rows(blob, gz=False):
    text = gzip.decompress(blob).decode() if gz else blob.decode()
    return list(csv.reader(io.StringIO(text)))


def expected(name, files, arxiv_zip):
    """(x, edge_index, y, split dicts or None) of a tiny dataset, read by brute force."""
    f = files[name]
    if name in ('pokec', 'genius', 'snap-patents'):
        m = scipy.io.loadmat(io.BytesIO(f[f'{name.replace("-", "_")}.mat']))
        x = m['node_feat'].toarray() if scipy.sparse.issparse(m['node_feat']) else m['node_feat']
        y = _quantile_class(m['years'][0].tolist()) if name == 'snap-patents' else m['label'].reshape(-1).tolist()
        return x, m['edge_index'].tolist(), y, f[f'{name}-splits.npy']
    if name == 'arxiv-year':
        z = zipfile.ZipFile(io.BytesIO(arxiv_zip))
        rows = {k: _csv_rows(z.read(f'arxiv/raw/{k}'), gz=True) for k in ('edge.csv.gz', 'node-feat.csv.gz',
                                                                          'node_year.csv.gz')}
        edges = [[int(r[0]) for r in rows['edge.csv.gz']], [int(r[1]) for r in rows['edge.csv.gz']]]
        x = [[float(v) for v in r] for r in rows['node-feat.csv.gz']]
        return x, edges, _quantile_class([int(r[0]) for r in rows['node_year.csv.gz']]), f['arxiv-year-splits.npy']
    if name == 'twitch-gamers':
        head, *rows = _csv_rows(f['twitch-gamer_feat.csv'])
        col = {c: [r[head.index(c)] for r in rows] for c in head}
        langs = list(dict.fromkeys(col['language']))  # first-appearance order
        cols = [[float(v) for v in col['views']], [float(v) for v in col['life_time']]]
        cols += [[float(v.replace('-', '')) for v in col[c]] for c in ('created_at', 'updated_at')]
        cols += [[float(v) for v in col['dead_account']], [float(langs.index(v)) for v in col['language']],
                 [float(v) for v in col['affiliate']]]
        std = []
        for c in cols:
            mu = sum(c) / len(c)
            sd = (sum((v - mu) ** 2 for v in c) / (len(c) - 1)) ** 0.5
            std.append([(v - mu) / sd for v in c])
        _, *erows = _csv_rows(f['twitch-gamer_edges.csv'])
        edges = [[int(r[0]) for r in erows], [int(r[1]) for r in erows]]
        return np.array(std).T, edges, [int(v) for v in col['mature']], f['twitch-gamer-splits.npy']
    x = torch.load(io.BytesIO(f['wiki_features2M.pt']))
    e = torch.load(io.BytesIO(f['wiki_edges2M.pt']))
    return x, [[int(a) for a, _ in e], [int(b) for _, b in e]], torch.load(io.BytesIO(f['wiki_views2M.pt'])).tolist(), \
        None


# ----------------------------------------------------------------------------------------------- tests

@pytest.mark.parametrize('name', LINKX)
def test_faked_download_loads_what_the_files_say(name, linkx_files, fake_download, tmp_path):
    with pytest.warns(D.UnverifiedFileWarning, match='trusting .* on first use'):
        data = D.load(name, root=tmp_path, mirror=False, download=True)
    meta = D.info(name)
    x, edges, y, split_blob = expected(name, *linkx_files)
    assert data.name == name and data.num_nodes == N
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.long and data.edge_index.dtype == torch.long
    assert torch.allclose(data.x, torch.as_tensor(np.asarray(x), dtype=torch.float32), atol=1e-5)
    assert data.edge_index.tolist() == edges  # as stored
    assert data.y.tolist() == list(y)
    assert int(data.y.max()) < meta.num_classes
    for key in ('train_mask', 'val_mask', 'test_mask'):
        assert data[key].shape == (N, 5) and data[key].dtype == torch.bool
    if split_blob is not None:  # the published splits, column s = split s
        splits = np.load(io.BytesIO(split_blob), allow_pickle=True)
        for s in range(5):
            for key, part in (('train_mask', 'train'), ('val_mask', 'valid'), ('test_mask', 'test')):
                assert sorted(data[key][:, s].nonzero().view(-1).tolist()) == sorted(int(i) for i in splits[s][part])
    else:  # wiki: seeded random 50/25/25 splits over the labelled nodes
        assert meta.split == 'random'
        assert (data.train_mask.sum(0) == round(N / 2)).all()
    covered = data.train_mask | data.val_mask | data.test_mask
    assert not (covered & (data.y < 0)[:, None]).any()  # unlabelled nodes are in no mask
    urls = dict(meta.file_urls)
    if name == 'arxiv-year':
        assert fake_download.count('http://snap.stanford.edu/ogb/data/nodeproppred/arxiv.zip') == 1  # once for 3 files
    else:
        assert sorted(fake_download) == sorted(urls.values())


def test_pokec_unknown_gender_is_minus_one_and_cache_is_reused(linkx_files, fake_download, tmp_path, monkeypatch):
    with pytest.warns(D.UnverifiedFileWarning):
        first = D.load('pokec', root=tmp_path, mirror=False, download=True)
    label = scipy.io.loadmat(io.BytesIO(linkx_files[0]['pokec']['pokec.mat']))['label'].reshape(-1)
    assert (label == -1).any() and torch.equal(first.y == -1, torch.from_numpy(label == -1))
    import torch_geometric.data
    monkeypatch.setattr(torch_geometric.data, 'download_url', lambda *a, **k: pytest.fail('downloaded again'))
    with warnings.catch_warnings():
        warnings.simplefilter('error', D.UnverifiedFileWarning)  # pinned digests: no second warning
        again = D.load('pokec', root=tmp_path, download=False, undirected=True)
    assert torch.equal(first.train_mask, again.train_mask)
    assert again.edge_index.size(1) > 0 and D.info('Pokec').name == 'pokec'


def test_changed_file_with_unknown_checksum_is_caught(fake_download, tmp_path):
    with pytest.warns(D.UnverifiedFileWarning):
        D.load('genius', root=tmp_path, mirror=False, download=True)
    cached = tmp_path / 'LINKXDataset/genius/raw/genius.mat'
    pinned = D.manifest.sha256sum(cached)
    with open(cached, 'ab') as f:
        f.write(b'\0')
    os.utime(cached, ns=(1, 1))
    with pytest.raises(D.ChecksumError, match='first use') as e:
        D.load('genius', root=tmp_path, mirror=False, download=False)
    assert pinned in str(e.value) and 'genius.mat' in str(e.value)


@pytest.mark.parametrize('name', LINKX)
def test_missing_files_offline_name_files_directories_and_urls(name, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHITE_OFFLINE', '1')
    mirror = tmp_path / 'mirror'
    mirror.mkdir()
    with pytest.raises(D.MissingDataError) as e:
        D.load(name, root=tmp_path / 'cache', mirror=mirror)
    msg, meta = str(e.value), D.info(name)
    assert all(f in msg for f in meta.raw_files) and 'downloads are disabled' in msg
    assert str(tmp_path / 'cache' / meta.raw_dir) in msg and str(mirror / meta.raw_dir) in msg
    assert all(url.partition('#')[0] in msg for _, url in meta.file_urls)
    assert list(mirror.iterdir()) == []


def test_unreachable_host_names_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv('GRAPHITE_OFFLINE', raising=False)
    monkeypatch.setattr('graphite.datasets.loader.network_reachable', lambda url, timeout=3.0: False)
    with pytest.raises(D.MissingDataError, match=r'twitch-gamer_feat\.csv.*unreachable'):
        D.load('twitch-gamers', root=tmp_path, mirror=False, download=True)


def test_mirror_copy_without_download(linkx_files, tmp_path, monkeypatch):
    mirror = tmp_path / 'mirror' / 'LINKXDataset/wiki/raw'
    mirror.mkdir(parents=True)
    for f, blob in linkx_files[0]['wiki'].items():
        (mirror / f).write_bytes(blob)
    monkeypatch.setenv('GRAPHITE_OFFLINE', '1')
    with pytest.warns(D.UnverifiedFileWarning):
        a = D.load('wiki', root=tmp_path / 'cache', mirror=tmp_path / 'mirror')
    b = D.load('wiki', root=tmp_path / 'cache', mirror=tmp_path / 'mirror', split_seed=1)
    assert a.num_nodes == b.num_nodes == N and not torch.equal(a.train_mask, b.train_mask)
    with pytest.raises(ValueError, match='ships fixed splits'):
        D.load('genius', root=tmp_path / 'cache', split_seed=1)


def test_even_quantile_labels_match_brute_force():
    rng = np.random.default_rng(7)
    for values in (rng.integers(1970, 2000, 101), rng.normal(size=64), np.array([3, 3, 3, 3, 1, 2])):
        assert L.even_quantile_labels(values, 5).tolist() == _quantile_class(values.tolist())
    with_nan = np.array([1.0, np.nan, 2.0, 3.0, 4.0, 5.0])
    got = L.even_quantile_labels(with_nan, 5)
    assert got[1] == -1 and got[[0, 2, 3, 4, 5]].tolist() == _quantile_class([1.0, 2.0, 3.0, 4.0, 5.0])


def test_split_file_allow_list(tmp_path):
    good = tmp_path / 'good.npy'
    good.write_bytes(_npy(_splits(np.arange(10), 0, as_tensor=True)))
    assert len(L.read_split_file(good)) == 5
    evil = np.empty(1, dtype=object)
    evil[0] = {'train': os.getcwd, 'valid': [], 'test': []}  # pickles a reference to a callable
    bad = tmp_path / 'bad.npy'
    bad.write_bytes(_npy(evil))
    with pytest.raises(ValueError, match='not allowed'):
        L.read_split_file(bad)
    plain = tmp_path / 'plain.npy'
    np.save(plain, np.arange(3))
    with pytest.raises(ValueError, match='object array'):
        L.read_split_file(plain)
    with pytest.raises(ValueError, match=r'indices must lie in \[0, 4\)'):
        L.split_masks([{'train': torch.tensor([4]), 'valid': torch.tensor([0]), 'test': torch.tensor([1])}], 4, 'x')


def test_manifest_lists_linkx_files_with_unknown_checksums():
    entries = D.read_manifest()
    for name in LINKX:
        meta = D.info(name)
        for f in meta.raw_files:
            entry = entries[f'{meta.raw_dir}/{f}']
            assert not entry.known and entry.bytes is None and 'UNKNOWN' in entry.source


@pytest.mark.parametrize('alias,name', [('twitch_gamer', 'twitch-gamers'), ('Snap_Patents', 'snap-patents'),
                                        ('arXiv-year', 'arxiv-year'), ('GENIUS', 'genius')])
def test_aliases(alias, name):
    assert D.canonical_name(alias) == name
