"""``load(name)``: one benchmark graph as a :class:`~torch_geometric.data.Data`, offline when the files are local.

Steps: resolve the name (:mod:`.registry`), copy the raw files from the read-only mirror into the cache and check
their SHA-256 (:mod:`.mirror`, :mod:`.manifest`), download what is still missing unless downloads are disabled,
build the graph with the PyG dataset class (or :mod:`.filtered` for the yandex filtered npz, :mod:`.linkx` for the
large LINKX graphs), then normalise the result: ``x`` float, ``y`` long, ``train_mask``/``val_mask``/``test_mask``
bool ``[N, S]`` (``S`` = 10, or 5 for LINKX), ``data.name``.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, List, Optional, Union
from urllib.parse import urlparse

import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from .fetch import download_files, file_url
from .filtered import read_filtered_npz
from .linkx import read_linkx
from .mirror import (MissingDataError, cache_root, downloads_enabled, missing_message, mirror_root, network_reachable,
                     stage_raw_files)
from .registry import DatasetInfo, info as get_info
from .splits import random_node_splits

__all__ = ['load']

try:  # POSIX advisory lock: several processes may load the same dataset into one shared cache at once.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(directory / '.graphite.lock', 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _probe_urls(meta: DatasetInfo, missing: List[str]) -> List[str]:
    """One URL per host the missing files download from (used to probe the network before downloading)."""
    if meta.loader != 'pyg':
        return list({urlparse(u).hostname: u for u in (file_url(meta, f) for f in missing)}.values())
    import torch_geometric.datasets as D
    cls = getattr(D, meta.pyg_class)
    for attr in ('processed_url', 'github_url', 'url'):
        if isinstance(getattr(cls, attr, None), str):
            return [getattr(cls, attr)]
    raise AssertionError(f'no download URL known for {meta.name}')  # pragma: no cover


def _raw_files(meta: DatasetInfo, directed: bool) -> tuple:
    if directed:
        return tuple(f.replace('.npz', '_directed.npz') for f in meta.raw_files)
    return meta.raw_files


def _build_pyg(meta: DatasetInfo, cache: Path, force_reload: bool):
    import torch_geometric.datasets as D
    cls = getattr(D, meta.pyg_class)
    return cls(root=str(cache / meta.pyg_root), force_reload=force_reload, **dict(meta.pyg_kwargs))


class _StopAfterDownload(Exception):
    """Raised by the download-only subclass instead of processing."""


def _pyg_download(meta: DatasetInfo, cache: Path) -> None:
    """Run the PyG class's own download (all its raw files) but not its processing, so raw files can be verified
    before anything is built from them."""
    import torch_geometric.datasets as D
    cls = getattr(D, meta.pyg_class)

    def process(self):
        raise _StopAfterDownload

    download_only = type(cls.__name__, (cls, ), {'process': process})
    try:
        download_only(root=str(cache / meta.pyg_root), force_reload=True, **dict(meta.pyg_kwargs))
    except _StopAfterDownload:
        pass
    processed = _processed_dir(meta, cache)
    if processed.is_dir() and not any(processed.iterdir()):
        processed.rmdir()


def _processed_dir(meta: DatasetInfo, cache: Path) -> Path:
    return (cache / meta.raw_dir).parent / 'processed'


def _normalise(data: Data, meta: DatasetInfo, split_seed: int, undirected: bool) -> Data:
    n = data.num_nodes
    out = Data(x=data.x.to(torch.float32), y=data.y.long(), edge_index=data.edge_index.long(), num_nodes=n)
    if meta.split == 'random':
        out.train_mask, out.val_mask, out.test_mask = random_node_splits(out.y, meta.num_splits, 0.5, 0.25,
                                                                         seed=split_seed)
    else:
        for key in ('train_mask', 'val_mask', 'test_mask'):
            mask = getattr(data, key, None)
            if mask is None:
                raise ValueError(f'{meta.name}: the loaded graph has no {key}')
            if mask.dim() != 2 or tuple(mask.shape) != (n, meta.num_splits):
                raise ValueError(f'{meta.name}: {key} has shape {tuple(mask.shape)}, expected [{n}, '
                                 f'{meta.num_splits}] (one column per split); 1-D masks are not accepted')
            out[key] = mask.bool()
    if undirected:
        out.edge_index = to_undirected(out.edge_index, num_nodes=n)
    out.name = meta.name
    return out


def load(name: str, root: Union[str, os.PathLike, None] = None, *,
         mirror: Union[str, os.PathLike, bool, None] = None,
         download: Optional[bool] = None, undirected: bool = False, directed: bool = False,
         split_seed: Optional[int] = None, force_reload: bool = False) -> Data:
    r"""Load a node-classification benchmark.

    Edges are returned **as stored** by the source (the sizes of the project's tables): Actor, WebKB and the
    Geom-GCN Chameleon/Squirrel keep the files' directed edges, Chameleon-F / Squirrel-F store each undirected edge
    once (8,854 / 46,998 columns), the yandex and Planetoid graphs are symmetric, the LINKX pokec, snap-patents,
    arxiv-year and wiki graphs are directed. Pass ``undirected=True`` to
    symmetrise any of them with :func:`torch_geometric.utils.to_undirected` (which also removes duplicates).

    Args:
        name (str): benchmark name, see :func:`graphite.datasets.names` (case-insensitive; ``_``, ``-`` and spaces
            are interchangeable; aliases such as ``'film'`` or ``'squirrel-f'``).
        root (str or PathLike, optional): writable cache root. (default: ``$GRAPHITE_ROOT``, else ``<repo>/datasets``
            in a source checkout, else ``~/.cache/graphite``)
        mirror (str or PathLike or bool, optional): read-only mirror of raw files in PyG layout; :obj:`False` = no
            mirror. (default: ``$GRAPHITE_DATA``, else none)
        download (bool, optional): allow downloading files that are neither cached nor mirrored. (default:
            :obj:`True` unless ``GRAPHITE_OFFLINE=1``)
        undirected (bool): symmetrise ``edge_index``. (default: :obj:`False`)
        directed (bool): Chameleon-F / Squirrel-F only: load the ``*_filtered_directed.npz`` variant with the original
            edge directions. (default: :obj:`False`)
        split_seed (int, optional): FB100 (reed98, amherst41, johnshopkins55, cornell5) and wiki only: seed of the
            random 50/25/25 splits over labelled nodes (10 for FB100, 5 for wiki), see
            :func:`graphite.datasets.splits.random_node_splits`. (default: :obj:`0`)
        force_reload (bool): rebuild PyG's ``processed/`` files. (default: :obj:`False`)

    Returns:
        :class:`~torch_geometric.data.Data` with ``x`` float32 ``[N, F]``, ``y`` long ``[N]``, ``edge_index`` long
        ``[2, E]``, ``train_mask``/``val_mask``/``test_mask`` bool ``[N, S]`` (column ``i`` = split ``i``; ``S`` =
        ``info(name).num_splits``: 10, or 5 for the large LINKX graphs) and ``name`` (canonical name). ``y`` is
        ``-1`` for unlabelled nodes (FB100, pokec), which are in no mask.

    Raises:
        UnknownDatasetError: unknown name (a :class:`KeyError` and :class:`ValueError` listing the known names).
        ValueError: an option that does not apply to this dataset.
        MissingDataError: raw files missing and downloads disabled or the network unreachable; names the files, the
            folders to put them in and (datasets without a PyG class) their download URLs.
        ChecksumError: a raw file differs from ``datasets/MANIFEST.tsv`` (names file, expected and actual SHA-256).
    """
    meta = get_info(name)
    for key, value in (('undirected', undirected), ('directed', directed), ('force_reload', force_reload)):
        if not isinstance(value, bool):
            raise TypeError(f'{key} must be a bool, got {type(value).__name__}')
    if directed and meta.loader != 'filtered':
        raise ValueError(f'directed=True only applies to chameleon-filtered and squirrel-filtered, not {meta.name}')
    if split_seed is not None and meta.split != 'random':
        raise ValueError(f'{meta.name} ships fixed splits ({meta.split}); split_seed only applies to the datasets '
                         f'with random splits (FB100, wiki)')
    if split_seed is not None and (isinstance(split_seed, bool) or not isinstance(split_seed, int)):
        raise TypeError(f'split_seed must be an int, got {type(split_seed).__name__}')
    cache = cache_root(root)
    mirror_dir = mirror_root(mirror)
    files = _raw_files(meta, directed)

    def missing_error(names: List[str], reason: str) -> MissingDataError:
        sources = {f: file_url(meta, f) for f in names} if meta.loader != 'pyg' else None
        return MissingDataError(missing_message(meta.name, meta.raw_dir, names, cache, mirror_dir, reason, sources))

    with _locked(cache / meta.raw_dir):
        missing, copied = stage_raw_files(meta.raw_dir, files, cache, mirror_dir)
        downloaded = False
        if missing:
            if not downloads_enabled(download):
                raise missing_error(missing, 'downloads are disabled (download=False or GRAPHITE_OFFLINE=1)')
            for url in _probe_urls(meta, missing):
                if not network_reachable(url):
                    raise missing_error(missing, f'the download host of {url} is unreachable (offline?)')
            downloaded = True
            try:
                if meta.loader != 'pyg':
                    download_files({f: file_url(meta, f) for f in missing}, cache / meta.raw_dir)
                else:
                    _pyg_download(meta, cache)  # PyG re-downloads all raw files of the dataset
            except Exception as e:
                raise missing_error(missing, f'the download failed ({type(e).__name__}: {e})') from e
            still, _ = stage_raw_files(meta.raw_dir, files, cache, None, fresh=files)  # bad downloads are deleted
            if still:
                raise missing_error(still, 'the download did not produce them')

        if meta.loader == 'filtered':
            data = read_filtered_npz(cache / meta.raw_dir / files[0], name=meta.name)
        elif meta.loader == 'linkx':
            data = read_linkx(meta.name, cache / meta.raw_dir)
        else:
            # Freshly copied or downloaded raw files invalidate an existing processed/ folder.
            data = _build_pyg(meta, cache, force_reload=force_reload or bool(copied) or downloaded)[0]
    return _normalise(data, meta, 0 if split_seed is None else split_seed, undirected)
