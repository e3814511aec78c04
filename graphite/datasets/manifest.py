"""SHA-256 manifest of the raw benchmark files and the checks that use it.

``MANIFEST.tsv`` (tab separated, one header line ``path bytes sha256 source``) lists every raw file by its path
relative to the mirror root, which is also its path relative to the cache root (both use PyG's layout, e.g.
``Actor/raw/out1_graph_edges.txt``). The file lives in the repository's ``datasets/`` folder; the package holds a
symlink to it (``graphite/datasets/MANIFEST.tsv``) that setuptools resolves into a real file when it builds a wheel,
so the same lookup works from a source checkout and from an installed package.

A verified file gets a stamp ``(size, mtime_ns, sha256)`` in ``.graphite-verified.json`` next to it, so repeated
loads hash a file only when its size or modification time changed.

**Unknown checksums.** A row may say ``unknown`` in the ``sha256`` column (and in ``bytes`` when the size is unknown
too): the file is listed (so the loader knows it belongs to a dataset) but its digest could not be obtained. Such a
file is *trusted on first use*: its SHA-256 is computed, pinned in the stamp file and reported once in an
:class:`UnverifiedFileWarning` (copy it into the manifest to make the check real); if the file later changes, the
new digest is compared with the pinned one and a mismatch raises :class:`ChecksumError`.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Union

from graphite.fileio import atomic_write

__all__ = ['ManifestEntry', 'ChecksumError', 'UnverifiedFileWarning', 'MANIFEST_PATH', 'UNKNOWN', 'read_manifest',
           'sha256sum', 'verify_file']

#: The manifest shipped with the package (a symlink to ``<repo>/datasets/MANIFEST.tsv`` in a source checkout).
MANIFEST_PATH = Path(__file__).resolve().parent / 'MANIFEST.tsv'

_HEADER = ['path', 'bytes', 'sha256', 'source']
_SHA256 = re.compile(r'^[0-9a-f]{64}$')
STAMP_NAME = '.graphite-verified.json'
#: The ``sha256`` / ``bytes`` value of a manifest row whose digest / size is not known.
UNKNOWN = 'unknown'


@dataclass(frozen=True)
class ManifestEntry:
    """One manifest row.

    Args:
        path (str): path relative to the mirror (and cache) root, with ``/`` separators.
        bytes (int, optional): expected file size in bytes; :obj:`None` when unknown.
        sha256 (str): expected SHA-256 hex digest (64 lowercase hex characters), or ``'unknown'``.
        source (str): where the file comes from (repository @ commit, or a note).
    """
    path: str
    bytes: Optional[int]
    sha256: str
    source: str

    @property
    def known(self) -> bool:
        """Whether the manifest knows this file's SHA-256 (else it is trusted on first use)."""
        return self.sha256 != UNKNOWN


class ChecksumError(ValueError):
    """A raw file's size or SHA-256 differs from the manifest."""


class UnverifiedFileWarning(UserWarning):
    """A raw file has no manifest entry or an ``unknown`` digest, so it could not be checked."""


def read_manifest(path: Union[str, os.PathLike, None] = None) -> Dict[str, ManifestEntry]:
    """Parse a manifest file into ``{relative path: ManifestEntry}``.

    Args:
        path (str or PathLike, optional): manifest to read. (default: :obj:`MANIFEST_PATH`, the packaged one)

    Raises:
        FileNotFoundError: the manifest does not exist (e.g. a broken symlink in a partial checkout).
        ValueError: a malformed header or row (wrong column count, non-integer size, bad digest, duplicate path).
    """
    return _read_manifest_cached(str(Path(path).resolve() if path is not None else MANIFEST_PATH))


@lru_cache(maxsize=8)
def _read_manifest_cached(path: str) -> Dict[str, ManifestEntry]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'dataset manifest not found at {path!r}: graphite/datasets/MANIFEST.tsv must be a '
                                f'file or a symlink to <repo>/datasets/MANIFEST.tsv')
    entries: Dict[str, ManifestEntry] = {}
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    if not lines or lines[0].split('\t') != _HEADER:
        raise ValueError(f'{path}: first line must be the header {chr(9).join(_HEADER)!r}')
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cols = line.split('\t')
        if len(cols) != 4:
            raise ValueError(f'{path}:{lineno}: expected 4 tab-separated columns, got {len(cols)}')
        rel, size, digest, source = cols
        if not size.isdigit() and size != UNKNOWN:
            raise ValueError(f'{path}:{lineno}: size {size!r} is neither a non-negative integer nor {UNKNOWN!r}')
        if not _SHA256.match(digest) and digest != UNKNOWN:
            raise ValueError(f'{path}:{lineno}: {digest!r} is neither a lowercase SHA-256 hex digest nor {UNKNOWN!r}')
        if rel in entries:
            raise ValueError(f'{path}:{lineno}: duplicate path {rel!r}')
        entries[rel] = ManifestEntry(rel, int(size) if size.isdigit() else None, digest, source)
    return entries


def sha256sum(path: Union[str, os.PathLike], chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in ``chunk_size`` blocks."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk_size), b''):
            h.update(block)
    return h.hexdigest()


def _read_stamps(directory: Path) -> dict:
    try:
        with open(directory / STAMP_NAME, encoding='utf-8') as f:
            stamps = json.load(f)
        return stamps if isinstance(stamps, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_stamps(directory: Path, stamps: dict) -> None:
    atomic_write(directory / STAMP_NAME, lambda f: f.write(json.dumps(stamps, indent=1, sort_keys=True).encode()))


def verify_file(path: Union[str, os.PathLike], rel_path: str,
                manifest: Optional[Dict[str, ManifestEntry]] = None) -> Optional[str]:
    r"""Check a cached raw file against its manifest entry.

    The check is skipped when the stamp file next to ``path`` records the same size and ``mtime_ns`` with the
    expected digest (the file was hashed before and has not changed since).

    Args:
        path (str or PathLike): the file on disk (inside the cache, never the mirror: the stamp is written next to it).
        rel_path (str): its manifest key, e.g. ``'Actor/raw/out1_graph_edges.txt'``.
        manifest (dict, optional): parsed manifest. (default: the packaged one)

    Returns:
        The verified SHA-256, or :obj:`None` when the manifest has no entry for ``rel_path`` (an
        :class:`UnverifiedFileWarning` is emitted then). For an entry with an ``unknown`` digest, the file's digest
        pinned on first use (an :class:`UnverifiedFileWarning` names it when it is first pinned).

    Raises:
        ChecksumError: size or SHA-256 differs (from the manifest, or from the digest pinned on first use); the
            message names the file, the expected and the actual digest.
    """
    manifest = read_manifest() if manifest is None else manifest
    path = Path(path)
    entry = manifest.get(rel_path)
    if entry is None:
        warnings.warn(f'{rel_path}: no entry in the dataset manifest ({MANIFEST_PATH}), so {path} was not '
                      f'checksum-verified', UnverifiedFileWarning, stacklevel=2)
        return None
    st = path.stat()
    stamps = _read_stamps(path.parent)
    stamp = stamps.get(path.name)
    pinned = stamp[2] if not entry.known and isinstance(stamp, list) and len(stamp) == 3 else None
    expected = entry.sha256 if entry.known else pinned
    if expected is not None and stamp == [st.st_size, st.st_mtime_ns, expected]:
        return expected
    actual = sha256sum(path)
    size_ok = entry.bytes is None or st.st_size == entry.bytes
    if not size_ok or (expected is not None and actual != expected):
        origin = 'manifest' if entry.known else f'first use (pinned in {path.parent / STAMP_NAME})'
        raise ChecksumError(
            f'checksum mismatch for {path} (manifest entry {rel_path!r}, source {entry.source}): expected sha256 '
            f'{expected or UNKNOWN} ({entry.bytes if entry.bytes is not None else UNKNOWN} bytes) from the {origin}, '
            f'got sha256 {actual} ({st.st_size} bytes). The file is corrupt or a different version: delete it (and '
            f'its line in {STAMP_NAME}) and load again, or replace it with the file from the source.')
    if expected is None:
        warnings.warn(f'{rel_path}: the dataset manifest ({MANIFEST_PATH}) has no known SHA-256 for this file; '
                      f'trusting {path} on first use and pinning sha256 {actual} ({st.st_size} bytes) in '
                      f'{path.parent / STAMP_NAME}. Add the digest to MANIFEST.tsv once the file is confirmed.',
                      UnverifiedFileWarning, stacklevel=2)
    stamps[path.name] = [st.st_size, st.st_mtime_ns, actual]
    _write_stamps(path.parent, stamps)
    return actual
