"""The benchmark table: dataset name -> where its raw files live, how it is loaded, how it is scored.

Every benchmark is described by one :class:`DatasetInfo`. ``raw_dir`` is the folder of the raw files relative to
the mirror root and to the cache root (PyG's own ``raw_dir`` layout), so a mirror laid out like
``/work/shared/data`` can be copied into the cache file by file and PyG then finds everything it needs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from .linkx import SOURCES as _LINKX_SOURCES

__all__ = ['DatasetInfo', 'REGISTRY', 'UnknownDatasetError', 'names', 'info', 'canonical_name']


class UnknownDatasetError(KeyError, ValueError):
    """An unknown dataset name (both a :class:`KeyError` and a :class:`ValueError`)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ''

_GEOM_GCN = 'graphdml-uiuc-jlu/geom-gcn@f1fc0d1 (Pei et al., ICLR 2020)'
_YANDEX = 'yandex-research/heterophilous-graphs@a431395 (Platonov et al., ICLR 2023)'
_PLANETOID = 'kimiyoung/planetoid@af6abf4 (Yang et al., 2016); splits: geom-gcn@f1fc0d1'
_LINKX = 'CUAI/Non-Homophily-Large-Scale@82f8f05 facebook100 (Traud et al., 2012; Lim et al., 2021)'
_YANDEX_URL = 'https://github.com/yandex-research/heterophilous-graphs/raw/main/data'
_LINKX_LARGE = 'CUAI/Non-Homophily-Large-Scale (Lim et al., NeurIPS 2021): dataset.py / data_utils.py'


@dataclass(frozen=True)
class DatasetInfo:
    """How one benchmark is stored, loaded and evaluated.

    Args:
        name (str): canonical name (lowercase, ``-`` separated), as accepted by :func:`graphite.datasets.load`.
        loader (str): ``'pyg'`` (a ``torch_geometric.datasets`` class), ``'filtered'`` (yandex filtered npz) or
            ``'linkx'`` (the large LINKX graphs, read by :mod:`graphite.datasets.linkx`).
        pyg_class (str, optional): PyG class name, e.g. ``'WebKB'``.
        pyg_root (str): the ``root`` given to the PyG class, relative to the cache root.
        pyg_kwargs (tuple): extra keyword arguments of the PyG class, as ``(key, value)`` pairs.
        raw_dir (str): folder of the raw files relative to the mirror / cache root (PyG's ``raw_dir``).
        raw_files (tuple of str): file names expected in ``raw_dir``.
        metric (str): ``'accuracy'`` or ``'roc_auc'`` (binary tasks of the yandex benchmark, and genius).
        num_splits (int): number of split columns of the masks (``[N, num_splits]``).
        split (str): ``'geom-gcn'`` (10 fixed Geom-GCN splits, about 48/32/20), ``'npz'`` (10 splits shipped in
            the yandex npz, 50/25/25), ``'linkx'`` (the 5 published LINKX 50/25/25 splits, ``*-splits.npy``) or
            ``'random'`` (``num_splits`` seeded random 50/25/25 splits over labelled nodes, made by
            :func:`graphite.datasets.splits.random_node_splits`).
        num_classes (int): number of classes (labels ``0..num_classes-1``; ``-1`` = unlabelled for FB100, pokec).
        source (str): origin of the raw files.
        homophily (str): short note on the graph's homophily (published values, with their reference).
        url (str, optional): download URL prefix for non-PyG loaders.
        file_urls (tuple): ``(raw file, URL)`` pairs overriding ``url``; ``URL#member`` = a member of a zip archive.
        aliases (tuple of str): other accepted names (matched after lower-casing and mapping ``_``/space to ``-``).
        edge_homophily (float, optional): published edge homophily (fraction of edges joining same-label nodes),
            quoted in ``homophily``; :obj:`None` when no published value is known.
    """
    name: str
    loader: str
    pyg_class: Optional[str]
    pyg_root: str
    raw_dir: str
    raw_files: Tuple[str, ...]
    metric: str
    num_splits: int
    split: str
    num_classes: int
    source: str
    homophily: str
    pyg_kwargs: Tuple[Tuple[str, object], ...] = ()
    url: Optional[str] = None
    file_urls: Tuple[Tuple[str, str], ...] = ()
    aliases: Tuple[str, ...] = field(default=())
    edge_homophily: Optional[float] = None


def _geom_splits(prefix: str) -> Tuple[str, ...]:
    return tuple(f'{prefix}_split_0.6_0.2_{i}.npz' for i in range(10))


_GEOM_FILES = ('out1_node_feature_label.txt', 'out1_graph_edges.txt')
_H_PEI = 'edge homophily {:.2f} (Zhu et al., NeurIPS 2020, Table 1): heterophilic'


def _build() -> Dict[str, DatasetInfo]:
    infos = [
        DatasetInfo('actor', 'pyg', 'Actor', 'Actor', 'Actor/raw', _GEOM_FILES + _geom_splits('film'),
                    'accuracy', 10, 'geom-gcn', 5, _GEOM_GCN, _H_PEI.format(0.22), aliases=('film',),
                    edge_homophily=0.22),
    ]
    for name, h in (('cornell', 0.30), ('texas', 0.11), ('wisconsin', 0.21)):
        infos.append(DatasetInfo(name, 'pyg', 'WebKB', 'WebKB', f'WebKB/{name}/raw', _GEOM_FILES + _geom_splits(name),
                                 'accuracy', 10, 'geom-gcn', 5, _GEOM_GCN, _H_PEI.format(h),
                                 pyg_kwargs=(('name', name.capitalize()),), edge_homophily=h))
    for name, h in (('chameleon', 0.23), ('squirrel', 0.22)):
        infos.append(DatasetInfo(
            name, 'pyg', 'WikipediaNetwork', 'WikipediaNetwork', f'WikipediaNetwork/{name}/geom_gcn/raw',
            _GEOM_FILES + _geom_splits(name), 'accuracy', 10, 'geom-gcn', 5, _GEOM_GCN,
            _H_PEI.format(h) + '; contains duplicate nodes that leak between train and test (Platonov et al., '
            '2023): prefer the -filtered version',
            pyg_kwargs=(('name', name), ('geom_gcn_preprocess', True)), edge_homophily=h))
    for name, h in (('chameleon-filtered', '0.24 / adjusted 0.03'), ('squirrel-filtered', '0.21 / adjusted 0.01')):
        # Platonov et al. (2023), Table 1: edge homophily / adjusted homophily.
        stem = name.replace('-', '_')
        base = name.split('-')[0]
        infos.append(DatasetInfo(
            name, 'filtered', None, 'extra/yandex_filtered', 'extra/yandex_filtered', (f'{stem}.npz',),
            'accuracy', 10, 'npz', 5, _YANDEX,
            f'edge homophily {h} (Platonov et al., 2023, Table 1): heterophilic; duplicates of {base} removed',
            url=_YANDEX_URL, aliases=(f'{base}-f', stem, f'{base}filtered'), edge_homophily=float(h.split()[0])))
    yandex = (('minesweeper', 2, 'roc_auc', '0.68 / adjusted 0.01'),
              ('tolokers', 2, 'roc_auc', '0.59 / adjusted 0.09'),
              ('roman-empire', 18, 'accuracy', '0.05 / adjusted -0.05'),
              ('amazon-ratings', 5, 'accuracy', '0.38 / adjusted 0.14'),
              ('questions', 2, 'roc_auc', '0.84 / adjusted 0.02'))
    for name, c, metric, h in yandex:
        stem = name.replace('-', '_')
        infos.append(DatasetInfo(
            name, 'pyg', 'HeterophilousGraphDataset', 'HeterophilousGraphDataset',
            f'HeterophilousGraphDataset/{stem}/raw', (f'{stem}.npz',), metric, 10, 'npz', c, _YANDEX,
            f'edge homophily {h} (Platonov et al., 2023, Table 1)' + (
                ': label-imbalanced binary task, scored by ROC-AUC' if metric == 'roc_auc' else ': heterophilic'),
            pyg_kwargs=(('name', stem),), aliases=(stem,) if stem != name else (),
            edge_homophily=float(h.split()[0])))
    planetoid = (('cora', 'Cora', 7, 0.81), ('citeseer', 'CiteSeer', 6, 0.74), ('pubmed', 'PubMed', 3, 0.80))
    for name, pyg, c, h in planetoid:
        infos.append(DatasetInfo(
            name, 'pyg', 'Planetoid', 'Planetoid', f'Planetoid/{pyg}/geom-gcn/raw',
            tuple(f'ind.{name}.{s}' for s in ('x', 'tx', 'allx', 'y', 'ty', 'ally', 'graph', 'test.index'))
            + _geom_splits(name), 'accuracy', 10, 'geom-gcn', c, _PLANETOID,
            f'edge homophily {h:.2f} (Zhu et al., NeurIPS 2020, Table 1): homophilic control',
            pyg_kwargs=(('name', pyg), ('split', 'geom-gcn')), edge_homophily=h))
    for name, aliases in (('reed98', ()), ('amherst41', ()), ('johnshopkins55', ('johns-hopkins55',)),
                          ('cornell5', ())):
        infos.append(DatasetInfo(
            name, 'pyg', 'LINKXDataset', 'LINKXDataset', f'LINKXDataset/{name}/raw', ('data.mat',),
            'accuracy', 10, 'random', 2, _LINKX,
            'gender prediction on a Facebook friendship graph (Lim et al., 2021); edge homophily over labelled '
            'pairs about 0.5 (0.52 / 0.53 / 0.55 measured here on reed98 / amherst41 / johnshopkins55): neither '
            'homophilic nor heterophilic',
            pyg_kwargs=(('name', name),), aliases=aliases))
    # Lim et al. (NeurIPS 2021), Table 1: edge homophily / class-insensitive homophily of the large LINKX graphs.
    linkx = (('pokec', 2, 'accuracy', 'linkx', 0.445, 0.000, 'gender (-1 = unknown)', ()),
             ('snap-patents', 5, 'accuracy', 'linkx', 0.073, 0.100, 'grant year, 5 even quantiles', ()),
             ('arxiv-year', 5, 'accuracy', 'linkx', 0.222, 0.272, 'publication year, 5 even quantiles', ()),
             ('genius', 2, 'roc_auc', 'linkx', 0.618, 0.080, 'marked user, label-imbalanced: ROC-AUC', ()),
             ('twitch-gamers', 2, 'accuracy', 'linkx', 0.545, 0.090, 'mature content', ('twitch-gamer', )),
             ('wiki', 5, 'accuracy', 'random', 0.389, 0.107, 'page views, 5 classes; no published splits', ()))
    for name, c, metric, split, h, hat_h, task, aliases in linkx:
        files = _LINKX_SOURCES[name]
        infos.append(DatasetInfo(
            name, 'linkx', None, 'LINKXDataset', f'LINKXDataset/{name}/raw', tuple(f for f, _ in files), metric, 5,
            split, c, _LINKX_LARGE,
            f'{task}; edge homophily {h:.3f}, class-insensitive homophily {hat_h:.3f} (Lim et al., 2021, '
            f'Table 1): non-homophilous',
            file_urls=files, aliases=aliases, edge_homophily=h))
    return {i.name: i for i in infos}


#: canonical name -> :class:`DatasetInfo`, in the order of the project's benchmark table.
REGISTRY: Dict[str, DatasetInfo] = _build()


def _normalise(name: str) -> str:
    return re.sub(r'[\s_]+', '-', name.strip().lower())


_ALIASES: Dict[str, str] = {}
for _info in REGISTRY.values():
    for _a in (_info.name,) + _info.aliases:
        _ALIASES[_normalise(_a)] = _info.name


def names() -> list:
    """Canonical names of all benchmarks, in the order of the project's table."""
    return list(REGISTRY)


def canonical_name(name: str) -> str:
    """Map a user-supplied name (``'Actor'``, ``'film'``, ``'squirrel_filtered'``, ``'Roman_Empire'``...) to its
    canonical form.

    Raises:
        TypeError: ``name`` is not a string.
        UnknownDatasetError: unknown name (a :class:`KeyError` and :class:`ValueError`); the message lists the
            known ones.
    """
    if not isinstance(name, str):
        raise TypeError(f'dataset name must be a str, got {type(name).__name__}')
    key = _ALIASES.get(_normalise(name))
    if key is None:
        raise UnknownDatasetError(f'unknown dataset {name!r}; known datasets: {", ".join(names())} '
                       f'(case, "_" and "-" are interchangeable)')
    return key


def info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of a benchmark (any accepted spelling of its name)."""
    return REGISTRY[canonical_name(name)]
