"""Download raw files of the datasets that have no PyG class (yandex filtered npz, LINKX), one URL per file.

A URL of the form ``ARCHIVE_URL#MEMBER`` names a file inside a zip archive (e.g. OGB's ``arxiv.zip``): the archive
is downloaded once per call into a temporary folder next to the target, the members are extracted, and the archive
is deleted. Every file is written under a temporary name and renamed, so an interrupted download never leaves a
partial file under its final name. Downloads go through :func:`torch_geometric.data.download_url` (looked up at call
time, so tests can replace it).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, Tuple

from .registry import DatasetInfo

__all__ = ['file_url', 'download_files']


def file_url(meta: DatasetInfo, name: str) -> str:
    """The URL of raw file ``name`` of a dataset: its entry in ``meta.file_urls``, else ``<meta.url>/<name>``."""
    url = dict(meta.file_urls).get(name)
    if url is not None:
        return url
    if meta.url is None:
        raise ValueError(f'{meta.name}: no download URL known for {name}')
    return f'{meta.url}/{name}'


def download_files(urls: Dict[str, str], folder: Path) -> None:
    """Download ``{file name: URL}`` into ``folder`` (``URL#member`` = member of the zip archive at ``URL``).

    Raises:
        KeyError: an archive lacks a member.
        Exception: whatever the download raises (network and HTTP errors).
    """
    from torch_geometric import data as pyg_data
    folder.mkdir(parents=True, exist_ok=True)
    archives: Dict[str, List[Tuple[str, str]]] = {}
    for name, url in urls.items():
        base, _, member = url.partition('#')
        if member:
            archives.setdefault(base, []).append((member, name))
            continue
        with tempfile.TemporaryDirectory(prefix='.download-', dir=folder) as tmp:
            path = pyg_data.download_url(base, tmp, log=False, filename=name)
            os.replace(path, folder / name)
    for base, members in archives.items():
        with tempfile.TemporaryDirectory(prefix='.download-', dir=folder) as tmp:
            path = pyg_data.download_url(base, tmp, log=False)
            with zipfile.ZipFile(path) as archive:
                for member, name in members:
                    part = Path(tmp) / f'{name}.part'
                    with archive.open(member) as src, open(part, 'wb') as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    os.replace(part, folder / name)
