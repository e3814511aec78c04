"""Tests of graphite.datasets.

Oracles come from outside the loader: the size table of the mirror's README (/work/shared/data/README.md) and
the GRAPHITE paper (arXiv 2509.12530), the raw files themselves (split npz files, the FB100 .mat labels, the
filtered npz edges), published edge homophily values, and hashlib for the manifest. Tests that need raw files are
marked ``data`` and use the ``GRAPHITE_DATA`` mirror; they skip with a reason when it is not set.
"""
import hashlib
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from graphite import datasets as D
from graphite.datasets import manifest as M
from graphite.datasets import mirror as MI

MIRROR = os.environ.get('GRAPHITE_DATA', '')
needs_mirror = pytest.mark.skipif(not MIRROR or not os.path.isdir(MIRROR),
                                  reason='GRAPHITE_DATA is not set to the raw-data mirror (e.g. ../shared/data)')
REPO = Path(__file__).resolve().parents[1]

# (nodes, edges as stored, features, classes) from the mirror README table and the GRAPHITE paper's Table 1
# (Qiu et al., arXiv 2509.12530).
SIZES = {
    'actor': (7600, 30019, 932, 5),
    'cornell': (183, 298, 1703, 5),
    'texas': (183, 325, 1703, 5),
    'wisconsin': (251, 515, 1703, 5),
    'chameleon': (2277, 36101, 2325, 5),
    'squirrel': (5201, 217073, 2089, 5),
    'chameleon-filtered': (890, 8854, 2325, 5),
    'squirrel-filtered': (2223, 46998, 2089, 5),
    'minesweeper': (10000, 78804, 7, 2),
    'tolokers': (11758, 1038000, 10, 2),
    'cora': (2708, 10556, 1433, 7),
    'citeseer': (3327, 9104, 3703, 6),
    'reed98': (962, 37624, 745, 2),
    'amherst41': (2235, 181908, 1193, 2),
    'johnshopkins55': (5180, 373172, 2406, 2),
    'cornell5': (18660, 1581554, 4735, 2),
}
SLOW = {'tolokers', 'cornell5'}  # the two largest graphs (1.0M and 1.6M edges)
# Published edge homophily: Zhu et al. (NeurIPS 2020) Table 1; Platonov et al. (ICLR 2023) Table 1.
PUBLISHED_H = {'actor': 0.22, 'cornell': 0.30, 'texas': 0.11, 'wisconsin': 0.21, 'chameleon': 0.23,
               'squirrel': 0.22, 'chameleon-filtered': 0.24, 'squirrel-filtered': 0.21, 'minesweeper': 0.68,
               'tolokers': 0.59, 'cora': 0.81, 'citeseer': 0.74}


_REAL_MIRROR_BEFORE = {}


@pytest.fixture(scope='module')
def shared_root(tmp_path_factory):
    """One cache for all loads from the real mirror in this module (PyG processes each dataset once). The first use
    records the real mirror's tree (paths, sizes, mtimes) for :func:`test_real_mirror_untouched`."""
    if MIRROR and os.path.isdir(MIRROR):
        _REAL_MIRROR_BEFORE.update(_tree_state(Path(MIRROR), hash_files=False))
    return tmp_path_factory.mktemp('graphite_cache')


def _param(name):
    return pytest.param(name, marks=[pytest.mark.slow] if name in SLOW else [], id=name)


def _tree_state(root: Path, hash_files: bool = True) -> dict:
    state = {}
    for p in sorted(root.rglob('*')):
        st = p.lstat()
        digest = M.sha256sum(p) if hash_files and p.is_file() else None
        state[str(p.relative_to(root))] = (p.is_dir(), st.st_size if p.is_file() else 0, st.st_mtime_ns, digest)
    return state


@pytest.fixture()
def small_mirror(tmp_path):
    """A tmp copy of a few small datasets of the real mirror (cornell, reed98, chameleon-filtered, Cora)."""
    if not MIRROR or not os.path.isdir(MIRROR):
        pytest.skip('GRAPHITE_DATA is not set to the raw-data mirror')
    mirror = tmp_path / 'mirror'
    for rel in ('WebKB/cornell/raw', 'LINKXDataset/reed98/raw', 'Planetoid/Cora/geom-gcn/raw'):
        shutil.copytree(Path(MIRROR) / rel, mirror / rel)
    (mirror / 'extra/yandex_filtered').mkdir(parents=True)
    shutil.copy(Path(MIRROR) / 'extra/yandex_filtered/chameleon_filtered.npz', mirror / 'extra/yandex_filtered')
    return mirror


# ----------------------------------------------------------------------------------------------- names / registry

def test_names_and_info():
    expected = ['actor', 'cornell', 'texas', 'wisconsin', 'chameleon', 'squirrel', 'chameleon-filtered',
                'squirrel-filtered', 'minesweeper', 'tolokers', 'roman-empire', 'amazon-ratings', 'questions', 'cora',
                'citeseer', 'pubmed', 'reed98', 'amherst41', 'johnshopkins55', 'cornell5']
    linkx = ['pokec', 'snap-patents', 'arxiv-year', 'genius', 'twitch-gamers', 'wiki']
    assert D.names() == expected + linkx
    roc = {n for n in D.names() if D.info(n).metric == 'roc_auc'}
    assert roc == {'minesweeper', 'tolokers', 'questions', 'genius'}
    assert all(D.info(n).metric == 'accuracy' for n in set(D.names()) - roc)
    assert all(D.info(n).num_splits == 10 for n in expected)
    assert all(D.info(n).num_splits == 5 for n in linkx)  # LINKX: 5 splits of 50/25/25
    random_split = {'reed98', 'amherst41', 'johnshopkins55', 'cornell5', 'wiki'}
    assert {n for n in D.names() if D.info(n).split == 'random'} == random_split
    assert all(D.info(n).source and D.info(n).homophily for n in D.names())


@pytest.mark.parametrize('alias,name', [
    ('Actor', 'actor'), ('film', 'actor'), ('squirrel_filtered', 'squirrel-filtered'),
    ('Squirrel-F', 'squirrel-filtered'), ('roman_empire', 'roman-empire'), ('Amazon Ratings', 'amazon-ratings'),
    (' CiteSeer ', 'citeseer'), ('JohnsHopkins55', 'johnshopkins55'), ('chameleon_filtered', 'chameleon-filtered')])
def test_aliases(alias, name):
    assert D.canonical_name(alias) == name
    assert D.info(alias).name == name


def test_unknown_name_lists_known_ones():
    for exc in (KeyError, ValueError):
        with pytest.raises(exc) as e:
            D.load('penn94')
        msg = str(e.value)
        assert "'penn94'" in msg and all(n in msg for n in D.names())
    with pytest.raises(TypeError, match='must be a str'):
        D.load(3)


def test_options_that_do_not_apply(tmp_path):
    with pytest.raises(ValueError, match='directed=True only applies'):
        D.load('actor', root=tmp_path, directed=True, download=False)
    with pytest.raises(ValueError, match='ships fixed splits'):
        D.load('cora', root=tmp_path, split_seed=1, download=False)
    with pytest.raises(TypeError, match='split_seed must be an int'):
        D.load('reed98', root=tmp_path, split_seed=1.5, download=False)


# ----------------------------------------------------------------------------------------------- splits

def test_random_node_splits_properties():
    g = torch.Generator().manual_seed(5)
    y = torch.randint(-1, 3, (1001, ), generator=g)
    labelled = (y >= 0)
    n = int(labelled.sum())
    tr, va, te = D.random_node_splits(y, num_splits=10, seed=3)
    assert tr.shape == va.shape == te.shape == (1001, 10) and tr.dtype == torch.bool
    for s in range(10):
        assert not (tr[:, s] & va[:, s]).any() and not (tr[:, s] & te[:, s]).any() and not (va[:, s] & te[:, s]).any()
        assert torch.equal(tr[:, s] | va[:, s] | te[:, s], labelled)  # exactly the labelled nodes
        assert int(tr[:, s].sum()) == round(0.5 * n) and int(va[:, s].sum()) == round(0.25 * n)
    assert len({tuple(tr[:, s].nonzero().view(-1).tolist()) for s in range(10)}) == 10  # splits differ
    again = D.random_node_splits(y, num_splits=10, seed=3)
    assert all(torch.equal(a, b) for a, b in zip((tr, va, te), again))
    other = D.random_node_splits(y, num_splits=10, seed=4)
    assert not torch.equal(tr, other[0])


def test_random_node_splits_bad_input():
    with pytest.raises(TypeError, match='integer tensor'):
        D.random_node_splits(torch.zeros(5))
    with pytest.raises(ValueError, match='1-D'):
        D.random_node_splits(torch.zeros(5, 2, dtype=torch.long))
    with pytest.raises(ValueError, match='no labelled node'):
        D.random_node_splits(torch.full((5, ), -1))
    with pytest.raises(ValueError, match='train_ratio'):
        D.random_node_splits(torch.zeros(5, dtype=torch.long), train_ratio=0.8, val_ratio=0.3)


# ----------------------------------------------------------------------------------------------- manifest

def test_manifest_is_found_through_the_package_and_is_well_formed():
    pkg = REPO / 'graphite' / 'datasets' / 'MANIFEST.tsv'
    assert pkg.is_symlink() and pkg.resolve() == (REPO / 'datasets' / 'MANIFEST.tsv').resolve()
    entries = D.read_manifest()
    assert M.MANIFEST_PATH.resolve() == (REPO / 'datasets' / 'MANIFEST.tsv').resolve()
    # not-available files with known SHA-256 (mirror README) are listed at their PyG raw paths
    q = entries['HeterophilousGraphDataset/questions/raw/questions.npz']
    assert (q.bytes, q.sha256) == (47369919, '757ebd772bab1475c4dd951ca9e364400c6db161656cff9d21780ee874cf3074')
    assert 'HeterophilousGraphDataset/roman_empire/raw/roman_empire.npz' in entries
    assert 'HeterophilousGraphDataset/amazon_ratings/raw/amazon_ratings.npz' in entries
    # every raw file any registry entry expects in its default form has an entry, except the unknown pubmed allx
    expected = {f'{D.info(n).raw_dir}/{f}' for n in D.names() for f in D.info(n).raw_files}
    assert expected - set(entries) == {'Planetoid/PubMed/geom-gcn/raw/ind.pubmed.allx'}


def test_manifest_rejects_malformed_rows(tmp_path):
    bad = tmp_path / 'm.tsv'
    bad.write_text('path\tbytes\tsha256\tsource\na/b\t12\tnothex\tsrc\n')
    with pytest.raises(ValueError, match='SHA-256'):
        M.read_manifest(bad)
    bad.write_text('path\tsize\n')
    with pytest.raises(ValueError, match='header'):
        M.read_manifest(bad)
    with pytest.raises(FileNotFoundError, match='manifest not found'):
        M.read_manifest(tmp_path / 'absent.tsv')


@needs_mirror
@pytest.mark.data
def test_manifest_covers_every_mirror_file_with_correct_hashes():
    entries = D.read_manifest()
    root = Path(MIRROR)
    files = {str(p.relative_to(root)) for p in root.rglob('*') if p.is_file()} - {'README.md', 'MANIFEST.tsv'}
    assert files and files <= set(entries), sorted(files - set(entries))[:5]
    for rel in sorted(files):
        data = (root / rel).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entries[rel].bytes, entries[rel].sha256), rel


def test_verify_file_and_stamp(tmp_path):
    f = tmp_path / 'a.bin'
    f.write_bytes(b'hello')
    digest = hashlib.sha256(b'hello').hexdigest()
    man = {'x/a.bin': M.ManifestEntry('x/a.bin', 5, digest, 'test')}
    assert M.verify_file(f, 'x/a.bin', man) == digest
    assert (tmp_path / M.STAMP_NAME).is_file()
    f.write_bytes(b'hellO')  # same size, new mtime -> re-hashed and rejected
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))
    with pytest.raises(D.ChecksumError) as e:
        M.verify_file(f, 'x/a.bin', man)
    assert str(f) in str(e.value) and digest in str(e.value)
    assert hashlib.sha256(b'hellO').hexdigest() in str(e.value)
    with pytest.warns(D.UnverifiedFileWarning, match='no entry'):
        assert M.verify_file(f, 'x/unknown.bin', man) is None


def test_unknown_checksum_is_pinned_on_first_use(tmp_path):
    f = tmp_path / 'a.bin'
    f.write_bytes(b'hello')
    digest = hashlib.sha256(b'hello').hexdigest()
    man = {'x/a.bin': M.ManifestEntry('x/a.bin', None, M.UNKNOWN, 'test')}
    with pytest.warns(D.UnverifiedFileWarning, match=f'pinning sha256 {digest}'):
        assert M.verify_file(f, 'x/a.bin', man) == digest
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same content: re-hashed, accepted silently
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert M.verify_file(f, 'x/a.bin', man) == digest
    f.write_bytes(b'hellO')
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    with pytest.raises(D.ChecksumError, match=f'expected sha256 {digest}.*first use'):
        M.verify_file(f, 'x/a.bin', man)
    sized = {'x/a.bin': M.ManifestEntry('x/a.bin', 4, M.UNKNOWN, 'test')}  # known size, unknown digest
    with pytest.raises(D.ChecksumError, match='5 bytes'):
        M.verify_file(tmp_path / 'a.bin', 'x/a.bin', sized)
    rows = tmp_path / 'm.tsv'
    rows.write_text('path\tbytes\tsha256\tsource\na/b\tunknown\tunknown\tsrc\n')
    assert not M.read_manifest(rows)['a/b'].known


# ----------------------------------------------------------------------------------------------- cache / mirror config

def test_cache_root_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv('GRAPHITE_ROOT', raising=False)
    assert MI.cache_root(tmp_path) == tmp_path
    assert MI.cache_root() == REPO / 'datasets'  # source checkout
    monkeypatch.setenv('GRAPHITE_ROOT', str(tmp_path / 'c'))
    assert MI.cache_root() == tmp_path / 'c'
    assert MI.cache_root(tmp_path / 'd') == tmp_path / 'd'


def test_offline_switch(monkeypatch):
    monkeypatch.setenv('GRAPHITE_OFFLINE', '1')
    assert MI.downloads_enabled() is False and MI.downloads_enabled(True) is True
    monkeypatch.setenv('GRAPHITE_OFFLINE', '0')
    assert MI.downloads_enabled() is True
    monkeypatch.setenv('GRAPHITE_OFFLINE', 'maybe')
    with pytest.raises(ValueError, match='GRAPHITE_OFFLINE'):
        MI.downloads_enabled()


def test_missing_files_offline_message(tmp_path, monkeypatch):
    empty = tmp_path / 'mirror'
    empty.mkdir()
    monkeypatch.setenv('GRAPHITE_OFFLINE', '1')
    t0 = time.perf_counter()
    with pytest.raises(D.MissingDataError) as e:
        D.load('pubmed', root=tmp_path / 'cache', mirror=empty)
    assert time.perf_counter() - t0 < 5
    msg = str(e.value)
    assert 'ind.pubmed.allx' in msg and 'pubmed_split_0.6_0.2_9.npz' in msg and 'downloads are disabled' in msg
    assert str(tmp_path / 'cache' / 'Planetoid/PubMed/geom-gcn/raw') in msg
    assert str(empty / 'Planetoid/PubMed/geom-gcn/raw') in msg
    assert list(empty.iterdir()) == []  # nothing written into the mirror


def test_unreachable_network_fails_fast(tmp_path, monkeypatch):
    monkeypatch.delenv('GRAPHITE_OFFLINE', raising=False)
    monkeypatch.setattr('graphite.datasets.loader.network_reachable', lambda url, timeout=3.0: False)
    with pytest.raises(D.MissingDataError, match=r'questions\.npz.*unreachable'):
        D.load('questions', root=tmp_path, mirror=False, download=True)


def test_unreachable_host_probe_is_bounded():
    t0 = time.perf_counter()
    assert MI.network_reachable('https://nonexistent.invalid/x', timeout=1.0) is False
    assert time.perf_counter() - t0 < 3


def test_cache_inside_mirror_is_refused(tmp_path):
    (tmp_path / 'm').mkdir()
    with pytest.raises(ValueError, match='inside the read-only mirror'):
        D.load('cornell', root=tmp_path / 'm', mirror=tmp_path / 'm', download=False)
    with pytest.raises(ValueError, match='inside the read-only mirror'):
        D.load('cornell', root=tmp_path / 'm' / 'cache', mirror=tmp_path / 'm', download=False)


def test_mirror_must_exist(tmp_path):
    with pytest.raises(NotADirectoryError, match='mirror'):
        D.load('cornell', root=tmp_path, mirror=tmp_path / 'nope')


def test_filtered_reader_validates(tmp_path):
    from graphite.datasets.filtered import read_filtered_npz
    m = np.zeros((10, 4), dtype=bool)
    good = dict(node_features=np.ones((4, 3), np.float32), node_labels=np.array([0, 1, 0, 1]),
                edges=np.array([[0, 1], [2, 3]]), train_masks=m, val_masks=m, test_masks=m)
    np.savez(tmp_path / 'g.npz', **good)
    d = read_filtered_npz(tmp_path / 'g.npz')
    assert d.edge_index.tolist() == [[0, 2], [1, 3]] and d.train_mask.shape == (4, 10)
    np.savez(tmp_path / 'b.npz', **{**good, 'edges': np.array([[0, 4]])})
    with pytest.raises(ValueError, match=r'edge indices must lie in \[0, 4\)'):
        read_filtered_npz(tmp_path / 'b.npz')
    np.savez(tmp_path / 'k.npz', **{k: v for k, v in good.items() if k != 'val_masks'})
    with pytest.raises(ValueError, match='val_masks'):
        read_filtered_npz(tmp_path / 'k.npz')


# ----------------------------------------------------------------------------------------------- loading real data

def _edge_homophily(edge_index, y):
    keep = (y[edge_index[0]] >= 0) & (y[edge_index[1]] >= 0)
    e = edge_index[:, keep]
    return (y[e[0]] == y[e[1]]).double().mean().item()


@needs_mirror
@pytest.mark.data
@pytest.mark.parametrize('name', [_param(n) for n in SIZES])
def test_sizes_masks_and_homophily(name, shared_root):
    data = D.load(name, root=shared_root, mirror=MIRROR, download=False)
    n, e, f, c = SIZES[name]
    assert (data.num_nodes, data.edge_index.size(1), data.x.size(1)) == (n, e, f)
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.long and data.edge_index.dtype == torch.long
    assert data.name == name and data.x.size(0) == n and data.y.shape == (n, )
    assert int(data.y.max()) + 1 == c and int(data.y.min()) >= -1
    assert int(data.edge_index.min()) >= 0 and int(data.edge_index.max()) < n
    for key in ('train_mask', 'val_mask', 'test_mask'):
        assert data[key].dtype == torch.bool and data[key].shape == (n, 10), key
    tr, va, te = data.train_mask, data.val_mask, data.test_mask
    assert not (tr & va).any() and not (tr & te).any() and not (va & te).any()
    assert (tr.sum(0) > 0).all() and (te.sum(0) > 0).all()
    if name in PUBLISHED_H:
        assert abs(_edge_homophily(data.edge_index, data.y) - PUBLISHED_H[name]) < 0.015


@needs_mirror
@pytest.mark.data
def test_geom_gcn_masks_equal_the_split_files(shared_root):
    data = D.load('actor', root=shared_root, mirror=MIRROR, download=False)
    for i in (0, 9):
        z = np.load(Path(MIRROR) / f'Actor/raw/film_split_0.6_0.2_{i}.npz')
        for key in ('train_mask', 'val_mask', 'test_mask'):
            assert torch.equal(data[key][:, i], torch.from_numpy(z[key]).bool())


@needs_mirror
@pytest.mark.data
@pytest.mark.parametrize('name,stored,directed', [('chameleon-filtered', 8854, 13584),
                                                  ('squirrel-filtered', 46998, 65718)])
def test_filtered_edges_as_stored_and_options(name, stored, directed, shared_root):
    stem = name.replace('-', '_')
    z = np.load(Path(MIRROR) / f'extra/yandex_filtered/{stem}.npz')
    data = D.load(name, root=shared_root, mirror=MIRROR, download=False)
    assert torch.equal(data.edge_index, torch.from_numpy(z['edges']).t())  # as stored, one column per pair
    assert torch.equal(data.test_mask, torch.from_numpy(z['test_masks']).t())
    pairs = set(map(tuple, z['edges'].tolist()))
    assert len(pairs) == stored and not any((b, a) in pairs for a, b in pairs)  # stored once, no self-loops
    und = D.load(name, root=shared_root, mirror=MIRROR, download=False, undirected=True)
    assert set(map(tuple, und.edge_index.t().tolist())) == pairs | {(b, a) for a, b in pairs}
    assert und.edge_index.size(1) == 2 * stored
    dire = D.load(name, root=shared_root, mirror=MIRROR, download=False, directed=True)
    assert dire.edge_index.size(1) == directed == len(np.load(
        Path(MIRROR) / f'extra/yandex_filtered/{stem}_directed.npz')['edges'])


@needs_mirror
@pytest.mark.data
def test_fb100_splits_seeded_and_only_labelled(shared_root):
    from scipy.io import loadmat
    gender = loadmat(Path(MIRROR) / 'LINKXDataset/reed98/raw/data.mat')['local_info'][:, 1]
    labelled = torch.from_numpy(gender != 0)  # 0 = missing gender in FB100
    a = D.load('reed98', root=shared_root, mirror=MIRROR, download=False)
    b = D.load('reed98', root=shared_root, mirror=MIRROR, download=False)
    c = D.load('reed98', root=shared_root, mirror=MIRROR, download=False, split_seed=1)
    assert torch.equal(a.y >= 0, labelled)
    n = int(labelled.sum())
    for key in ('train_mask', 'val_mask', 'test_mask'):
        assert torch.equal(a[key], b[key])
        assert not torch.equal(a[key], c[key])
        assert not (a[key] & ~labelled[:, None]).any()  # unlabelled nodes never in a mask
    assert torch.equal(a.train_mask | a.val_mask | a.test_mask, labelled[:, None].expand(-1, 10))
    assert a.train_mask.sum(0).tolist() == [round(n / 2)] * 10


@pytest.mark.data
def test_mirror_untouched_copy_and_stamp_cache(small_mirror, tmp_path, monkeypatch):
    before = _tree_state(small_mirror)
    root = tmp_path / 'cache'
    monkeypatch.delenv('GRAPHITE_DATA', raising=False)
    monkeypatch.setenv('GRAPHITE_ROOT', str(root))
    for name in ('cornell', 'reed98', 'chameleon-filtered', 'cora'):
        D.load(name, mirror=small_mirror, download=False)
    assert _tree_state(small_mirror) == before  # nothing added, changed or touched below the mirror
    assert (root / 'WebKB/cornell/processed').is_dir() and (root / 'WebKB/cornell/raw/out1_graph_edges.txt').is_file()
    assert not (root / 'WebKB/cornell/raw/out1_graph_edges.txt').samefile(small_mirror / 'WebKB/cornell/raw/'
                                                                          'out1_graph_edges.txt')
    # repeated loads trust the size+mtime stamp and do not hash again
    monkeypatch.setattr(M, 'sha256sum', lambda *a, **k: pytest.fail('re-hashed an unchanged file'))
    data = D.load('cornell', mirror=small_mirror, download=False)
    assert data.num_nodes == 183
    monkeypatch.setenv('GRAPHITE_DATA', str(small_mirror))  # the env var works like mirror=
    assert D.load('chameleon-filtered', download=False).num_nodes == 890


@pytest.mark.data
def test_corrupted_mirror_file_is_rejected(small_mirror, tmp_path):
    rel = 'WebKB/cornell/raw/out1_graph_edges.txt'
    target = small_mirror / rel
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0x01
    target.write_bytes(bytes(raw))
    expected = D.read_manifest()[rel].sha256
    with pytest.raises(D.ChecksumError) as e:
        D.load('cornell', root=tmp_path / 'cache', mirror=small_mirror, download=False)
    msg = str(e.value)
    assert 'out1_graph_edges.txt' in msg and expected in msg and hashlib.sha256(raw).hexdigest() in msg
    assert not (tmp_path / 'cache' / rel).exists()  # the bad copy is not kept


@pytest.mark.data
def test_corrupted_cache_file_is_rejected(small_mirror, tmp_path):
    root = tmp_path / 'cache'
    D.load('chameleon-filtered', root=root, mirror=small_mirror, download=False)
    cached = root / 'extra/yandex_filtered/chameleon_filtered.npz'
    with open(cached, 'ab') as f:
        f.write(b'\0')
    with pytest.raises(D.ChecksumError, match='chameleon_filtered.npz'):
        D.load('chameleon-filtered', root=root, mirror=small_mirror, download=False)


@needs_mirror
@pytest.mark.data
def test_pubmed_partial_mirror_names_only_the_missing_file(tmp_path):
    with pytest.raises(D.MissingDataError) as e:
        D.load('pubmed', root=tmp_path, mirror=MIRROR, download=False)
    msg = str(e.value)
    assert '1 raw file(s) missing (ind.pubmed.allx)' in msg
    # the 17 known files were staged from _incomplete/ and verified: adding allx to the cache completes it
    assert len(list((tmp_path / 'Planetoid/PubMed/geom-gcn/raw').glob('*pubmed*'))) == 17


def _fake_download(source_dir: Path, corrupt: str = ''):
    """A stand-in for PyG's ``download_url`` that 'downloads' from a local folder (this machine has no internet)."""
    def download_url(url, folder, log=True, filename=None):
        name = filename or url.rpartition('/')[2]
        data = bytearray((source_dir / name).read_bytes())
        if name == corrupt:
            data[0] ^= 0xFF
        os.makedirs(folder, exist_ok=True)
        (Path(folder) / name).write_bytes(bytes(data))
        return str(Path(folder) / name)
    return download_url


@needs_mirror
@pytest.mark.data
def test_downloaded_files_are_verified(tmp_path, monkeypatch):
    import torch_geometric.data
    import torch_geometric.datasets.webkb
    monkeypatch.setattr('graphite.datasets.loader.network_reachable', lambda url, timeout=3.0: True)
    src = Path(MIRROR) / 'WebKB/cornell/raw'
    monkeypatch.setattr(torch_geometric.datasets.webkb, 'download_url', _fake_download(src))
    data = D.load('cornell', root=tmp_path / 'ok', mirror=False, download=True)
    assert (data.num_nodes, data.edge_index.size(1)) == (183, 298)
    stamps = (tmp_path / 'ok/WebKB/cornell/raw' / M.STAMP_NAME).read_text()
    assert 'out1_graph_edges.txt' in stamps and 'cornell_split_0.6_0.2_9.npz' in stamps  # every file checked

    bad_split = 'cornell_split_0.6_0.2_3.npz'
    monkeypatch.setattr(torch_geometric.datasets.webkb, 'download_url', _fake_download(src, bad_split))
    with pytest.raises(D.ChecksumError, match='cornell_split_0.6_0.2_3.npz'):
        D.load('cornell', root=tmp_path / 'bad', mirror=False, download=True)
    assert not (tmp_path / 'bad/WebKB/cornell/raw' / bad_split).exists()  # the bad download is not kept
    assert not (tmp_path / 'bad/WebKB/cornell/processed').exists()  # nothing was built from the bad file

    # the filtered loader downloads with torch_geometric.data.download_url
    monkeypatch.setattr(torch_geometric.data, 'download_url', _fake_download(Path(MIRROR) / 'extra/yandex_filtered'))
    assert D.load('squirrel-filtered', root=tmp_path / 'f', mirror=False, download=True).num_nodes == 2223

    def failing(*args, **kwargs):
        raise OSError('HTTP Error 404: Not Found')
    monkeypatch.setattr(torch_geometric.datasets.webkb, 'download_url', failing)
    with pytest.raises(D.MissingDataError, match=r'download failed \(OSError: HTTP Error 404'):
        D.load('texas', root=tmp_path / 'fail', mirror=False, download=True)


@needs_mirror
@pytest.mark.data
def test_real_mirror_untouched(shared_root):
    """Runs last: every load above from GRAPHITE_DATA left the mirror as it was (no processed/, no stamps, no lock)."""
    D.load('cornell', root=shared_root, mirror=MIRROR, download=False)
    assert _REAL_MIRROR_BEFORE and _tree_state(Path(MIRROR), hash_files=False) == _REAL_MIRROR_BEFORE
