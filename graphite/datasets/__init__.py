"""Heterophily node-classification benchmarks, loadable offline from a read-only mirror.

>>> from graphite import datasets
>>> data = datasets.load('actor')            # Data(x=[7600, 932], edge_index=[2, 30019], y=[7600], masks [7600, 10])
>>> datasets.names()                          # ['actor', 'cornell', ..., 'cornell5']
>>> datasets.info('minesweeper').metric       # 'roc_auc'
>>> datasets.load('pokec')                    # large LINKX graph: y = -1 where gender is unknown, masks [N, 5]

Environment: ``GRAPHITE_DATA`` (read-only mirror of raw files in PyG layout), ``GRAPHITE_ROOT`` (writable cache,
default ``<repo>/datasets`` in a source checkout, else ``~/.cache/graphite``), ``GRAPHITE_OFFLINE=1`` (never
download). Every raw file is checked against ``MANIFEST.tsv`` (SHA-256; files listed with an ``unknown`` digest are
trusted on first use and pinned). See ``datasets/README.md``.
"""
from .loader import load
from .manifest import ChecksumError, UnverifiedFileWarning, read_manifest
from .mirror import MissingDataError
from .linkx import even_quantile_labels
from .registry import DatasetInfo, UnknownDatasetError, canonical_name, info, names
from .splits import random_node_splits

__all__ = ['load', 'names', 'info', 'canonical_name', 'DatasetInfo', 'MissingDataError', 'ChecksumError',
           'UnknownDatasetError', 'UnverifiedFileWarning', 'read_manifest', 'random_node_splits',
           'even_quantile_labels']
