"""Readers for the large LINKX benchmarks (Lim et al., "Large Scale Learning on Non-Homophilous Graphs", NeurIPS 2021).

Six graphs, read from the files the LINKX code (``CUAI/Non-Homophily-Large-Scale``, ``dataset.py``) downloads, with
the same labels and features as that code builds:

============== ========================================================== ==========================================
name           raw files                                                  labels
============== ========================================================== ==========================================
pokec          ``pokec.mat`` (+ ``pokec-splits.npy``)                     gender, ``-1`` where unknown
snap-patents   ``snap_patents.mat`` (+ ``snap-patents-splits.npy``)       grant year in 5 even quantiles
arxiv-year     OGB ``edge.csv.gz``, ``node-feat.csv.gz``,                 publication year in 5 even quantiles
               ``node_year.csv.gz`` (+ ``arxiv-year-splits.npy``)
genius         ``genius.mat`` (+ ``genius-splits.npy``)                   "marked" user (binary, scored by ROC-AUC)
twitch-gamers  ``twitch-gamer_feat.csv``, ``twitch-gamer_edges.csv``      ``mature`` (binary); features: the other
               (+ ``twitch-gamer-splits.npy``)                            columns, standardised (in float64)
wiki           ``wiki_features2M.pt``, ``wiki_edges2M.pt``,               page views in 5 classes (stored)
               ``wiki_views2M.pt`` (no published splits)
============== ========================================================== ==========================================

Edges are returned as stored (pokec, snap-patents, arxiv-year and wiki are directed). The published splits are
pickled ``.npy`` object arrays of ``{'train', 'valid', 'test'}`` index dicts; they are unpickled with an allow-list
(numpy arrays, torch tensors loaded with ``weights_only=True``, nothing else), so a tampered file cannot run code.
"""
from __future__ import annotations

import io
import os
import pickle
from collections import OrderedDict
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable, Dict, List, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = ['SOURCES', 'LINKX_NAMES', 'even_quantile_labels', 'read_split_file', 'split_masks', 'read_linkx']

_GITHUB = 'https://github.com/CUAI/Non-Homophily-Large-Scale/raw/master/data'
_GDRIVE = 'https://drive.usercontent.google.com/download?confirm=t&id='  # the form PyG's LINKXDataset uses
_OGB_ARXIV = 'http://snap.stanford.edu/ogb/data/nodeproppred/arxiv.zip'  # '#member' = file inside the zip

#: dataset -> ((raw file, download URL), ...); the Google-Drive ids are those of LINKX ``data_utils.py``.
SOURCES: Dict[str, Tuple[Tuple[str, str], ...]] = {
    'pokec': (('pokec.mat', _GDRIVE + '1dNs5E7BrWJbgcHeQ_zuy5Ozp2tRCWG0y'),
              ('pokec-splits.npy', _GDRIVE + '1ZhpAiyTNc0cE_hhgyiqxnkKREHK7MK-_')),
    'snap-patents': (('snap_patents.mat', _GDRIVE + '1ldh23TSY1PwXia6dU0MYcpyEgX-w3Hia'),
                     ('snap-patents-splits.npy', _GDRIVE + '12xbBRqd8mtG_XkNLH8dRRNZJvVM4Pw-N')),
    'arxiv-year': tuple((f, f'{_OGB_ARXIV}#arxiv/raw/{f}') for f in ('edge.csv.gz', 'node-feat.csv.gz',
                                                                     'node_year.csv.gz'))
    + (('arxiv-year-splits.npy', f'{_GITHUB}/splits/arxiv-year-splits.npy'),),
    'genius': (('genius.mat', f'{_GITHUB}/genius.mat'), ('genius-splits.npy', f'{_GITHUB}/splits/genius-splits.npy')),
    'twitch-gamers': (('twitch-gamer_feat.csv', _GDRIVE + '1fA9VIIEI8N0L27MSQfcBzJgRQLvSbrvR'),
                      ('twitch-gamer_edges.csv', _GDRIVE + '1XLETC6dG3lVl7kDmytEJ52hvDMVdxnZ0'),
                      ('twitch-gamer-splits.npy', f'{_GITHUB}/splits/twitch-gamer-splits.npy')),
    'wiki': (('wiki_features2M.pt', _GDRIVE + '1ySNspxbK-snNoAZM7oxiWGvOnTRdSyEK'),
             ('wiki_edges2M.pt', _GDRIVE + '14X7FlkjrlUgmnsYtPwdh-gGuFla4yb5u'),
             ('wiki_views2M.pt', _GDRIVE + '1p5DlVHrnFgYm3VsNIzahSsvCD424AyvP')),
}
LINKX_NAMES = tuple(SOURCES)


def even_quantile_labels(values: np.ndarray, num_classes: int) -> np.ndarray:
    r"""Bin ``values`` into ``num_classes`` classes of (about) equal size, as LINKX labels arxiv-year and snap-patents.

    With thresholds :math:`t_k` = the :math:`k / C` quantile of the non-NaN values (numpy's linear interpolation),
    node :math:`v` gets class :math:`k` when :math:`t_k \le x_v < t_{k+1}` (:math:`t_0 = -\infty`, the last class
    is open above); NaN values get ``-1``.

    Returns:
        ``int64`` array of the same length as ``values``.
    """
    values = np.asarray(values).reshape(-1)
    label = np.full(values.shape[0], -1, dtype=np.int64)
    lower = -np.inf
    for k in range(num_classes - 1):
        upper = np.nanquantile(values, (k + 1) / num_classes)
        label[(values >= lower) & (values < upper)] = k
        lower = upper
    label[values >= lower] = num_classes - 1
    return label


def _torch_load_bytes(data: bytes):
    return torch.load(io.BytesIO(data), weights_only=True)


@lru_cache(maxsize=1)
def _allowed_globals() -> Dict[Tuple[str, str], object]:
    try:
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core import multiarray
    allowed = {('numpy', 'ndarray'): np.ndarray, ('numpy', 'dtype'): np.dtype,
               ('torch._utils', '_rebuild_tensor_v2'): torch._utils._rebuild_tensor_v2,
               ('torch.storage', '_load_from_bytes'): _torch_load_bytes, ('collections', 'OrderedDict'): OrderedDict}
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(module, '_reconstruct')] = multiarray._reconstruct
        allowed[(module, 'scalar')] = multiarray.scalar
    return allowed


class _SplitUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        obj = _allowed_globals().get((module, name))
        if obj is None:
            raise pickle.UnpicklingError(f'{module}.{name} is not allowed in a LINKX split file')
        return obj


def read_split_file(path: Union[str, os.PathLike]) -> List[Dict[str, Tensor]]:
    """Read a LINKX ``*-splits.npy`` file: a pickled object array of ``{'train', 'valid', 'test'}`` dicts of node
    indices (numpy arrays or torch tensors).

    Raises:
        ValueError: not an object array of such dicts, or a global outside the allow-list in the pickle.
    """
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        _, _, dtype = read_header(f)
        if not dtype.hasobject:
            raise ValueError(f'{path}: expected a pickled object array of split dicts, got dtype {dtype}')
        try:
            splits = _SplitUnpickler(f).load()
        except pickle.UnpicklingError as e:
            raise ValueError(f'{path}: {e}') from e
    out = []
    for i, split in enumerate(list(np.asarray(splits, dtype=object).reshape(-1))):
        if not isinstance(split, dict) or not {'train', 'valid', 'test'} <= set(split):
            raise ValueError(f'{path}: split {i} is not a dict with keys train/valid/test')
        out.append({k: torch.as_tensor(np.asarray(split[k])).long().view(-1) for k in ('train', 'valid', 'test')})
    return out


def split_masks(splits: List[Dict[str, Tensor]], num_nodes: int, name: str = '') -> Tuple[Tensor, Tensor, Tensor]:
    """``(train_mask, val_mask, test_mask)``, bool ``[num_nodes, len(splits)]``, column ``s`` = split ``s``.

    Raises:
        ValueError: an index outside ``[0, num_nodes)``.
    """
    masks = [torch.zeros(num_nodes, len(splits), dtype=torch.bool) for _ in range(3)]
    for s, split in enumerate(splits):
        for mask, key in zip(masks, ('train', 'valid', 'test')):
            idx = split[key]
            if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= num_nodes):
                raise ValueError(f'{name}: split {s} {key} indices must lie in [0, {num_nodes})')
            mask[idx, s] = True
    return masks[0], masks[1], masks[2]


def _mat(path: Path) -> dict:
    from scipy.io import loadmat
    return loadmat(str(path))


def _tensor(array, dtype: torch.dtype) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(dtype)


def _labelled_mat(filename: str, raw: Path) -> Tuple[Tensor, Tensor, Tensor]:
    """pokec.mat / genius.mat: dense ``node_feat [N, F]``, ``edge_index [2, E]``, ``label`` (N values)."""
    m = _mat(raw / filename)
    return _tensor(m['node_feat'], torch.float32), _tensor(m['edge_index'], torch.long), \
        _tensor(m['label'].reshape(-1), torch.long)


def _snap_patents(raw: Path) -> Tuple[Tensor, Tensor, Tensor]:
    from scipy.sparse import csr_matrix
    m = _mat(raw / 'snap_patents.mat')
    x = csr_matrix(m['node_feat'], dtype=np.float32).toarray()
    return torch.from_numpy(x), _tensor(m['edge_index'], torch.long), \
        torch.from_numpy(even_quantile_labels(m['years'].reshape(-1), 5))


def _arxiv_year(raw: Path) -> Tuple[Tensor, Tensor, Tensor]:
    import pandas as pd
    x = pd.read_csv(raw / 'node-feat.csv.gz', header=None, dtype=np.float32).to_numpy()
    edges = pd.read_csv(raw / 'edge.csv.gz', header=None, dtype=np.int64).to_numpy()
    year = pd.read_csv(raw / 'node_year.csv.gz', header=None, dtype=np.int64).to_numpy().reshape(-1)
    return torch.from_numpy(x), torch.from_numpy(edges.T.copy()), torch.from_numpy(even_quantile_labels(year, 5))


def _twitch_gamers(raw: Path) -> Tuple[Tensor, Tensor, Tensor]:
    import pandas as pd
    nodes = pd.read_csv(raw / 'twitch-gamer_feat.csv').drop(columns='numeric_id')
    edges = pd.read_csv(raw / 'twitch-gamer_edges.csv').to_numpy(np.int64)
    for col in ('created_at', 'updated_at'):  # 'YYYY-MM-DD' -> the integer YYYYMMDD
        nodes[col] = nodes[col].astype(str).str.replace('-', '', regex=False).astype(np.int64)
    nodes['language'] = pd.factorize(nodes['language'])[0]  # codes in order of first appearance
    y = nodes['mature'].to_numpy(np.int64, copy=True)
    # Standardised like LINKX (mean 0, unbiased std 1 per column), but in float64: YYYYMMDD values exceed float32's
    # 24-bit mantissa, so standardising in float32 (as LINKX does) would round the dates before centring them.
    x = torch.from_numpy(nodes.drop(columns='mature').to_numpy(np.float64, copy=True))
    x = ((x - x.mean(dim=0, keepdim=True)) / x.std(dim=0, keepdim=True)).float()
    return x, torch.from_numpy(edges.T.copy()), torch.from_numpy(y)


def _wiki(raw: Path) -> Tuple[Tensor, Tensor, Tensor]:
    def load(name: str) -> Tensor:
        return torch.load(raw / name, weights_only=True)
    return load('wiki_features2M.pt').float(), load('wiki_edges2M.pt').long().t().contiguous(), \
        load('wiki_views2M.pt').long().view(-1)


_READERS: Dict[str, Callable[[Path], Tuple[Tensor, Tensor, Tensor]]] = {
    'pokec': partial(_labelled_mat, 'pokec.mat'), 'snap-patents': _snap_patents, 'arxiv-year': _arxiv_year,
    'genius': partial(_labelled_mat, 'genius.mat'),
    'twitch-gamers': _twitch_gamers, 'wiki': _wiki}


def read_linkx(name: str, raw_dir: Union[str, os.PathLike]) -> Data:
    """Build one LINKX graph from the raw files in ``raw_dir`` (see :data:`SOURCES`).

    Returns:
        ``Data(x [N, F] float32, edge_index [2, E] long (as stored), y [N] long (``-1`` = unlabelled),
        num_nodes)``, plus ``train_mask``/``val_mask``/``test_mask`` bool ``[N, S]`` when the dataset has a
        published ``*-splits.npy`` (all but wiki).

    Raises:
        ValueError: inconsistent files (feature / label lengths differ, edge or split indices out of range).
    """
    raw = Path(raw_dir)
    x, edge_index, y = _READERS[name](raw)
    n = x.size(0)
    if x.dim() != 2 or y.shape != (n, ):
        raise ValueError(f'{name}: features {tuple(x.shape)} and labels {tuple(y.shape)} disagree on the node count')
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f'{name}: edge_index must be [2, E], got {tuple(edge_index.shape)}')
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise ValueError(f'{name}: edge indices must lie in [0, {n}), got range '
                         f'[{int(edge_index.min())}, {int(edge_index.max())}]')
    data = Data(x=x, edge_index=edge_index, y=y, num_nodes=n)
    split_files = [f for f, _ in SOURCES[name] if f.endswith('-splits.npy')]
    if split_files:
        data.train_mask, data.val_mask, data.test_mask = split_masks(read_split_file(raw / split_files[0]), n, name)
    return data
