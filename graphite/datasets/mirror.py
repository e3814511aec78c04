"""Where raw files come from (a read-only mirror) and where they go (our cache).

Resolution order:

* **mirror** (read-only, optional): the ``mirror=`` argument, else the ``GRAPHITE_DATA`` environment variable. It is
  laid out like PyG's raw folders (``Actor/raw/...``, ``WebKB/cornell/raw/...``,
  ``WikipediaNetwork/chameleon/geom_gcn/raw/...``, ``Planetoid/Cora/geom-gcn/raw/...``,
  ``extra/yandex_filtered/...``); files of incomplete datasets may sit under ``_incomplete/<same layout>``.
* **cache** (writable): the ``root=`` argument, else ``GRAPHITE_ROOT``, else ``<repo>/datasets`` when graphite runs
  from a source checkout, else ``~/.cache/graphite``.
* **downloads**: allowed unless ``download=False`` or ``GRAPHITE_OFFLINE`` is ``1``/``true``/``yes``.

Raw files are *copied* (never linked: a hard link would let a write in the cache change the mirror) from the mirror
into ``<cache>/<raw_dir>/`` and checked against the manifest before PyG sees them, so PyG's ``processed/`` folder is
created in the cache and nothing is ever written below the mirror root.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from pathlib import Path
from typing import Collection, Dict, List, Optional, Tuple, Union
from urllib.parse import urlparse

from .manifest import verify_file

__all__ = ['MissingDataError', 'cache_root', 'mirror_root', 'downloads_enabled', 'stage_raw_files',
           'network_reachable', 'missing_message']

_TRUE = {'1', 'true', 'yes', 'on'}
_FALSE = {'', '0', 'false', 'no', 'off'}


class MissingDataError(FileNotFoundError):
    """Raw files are neither in the cache nor in the mirror, and could not be downloaded."""


def _repo_root() -> Optional[Path]:
    repo = Path(__file__).resolve().parents[2]
    if (repo / 'pyproject.toml').is_file() and (repo / 'graphite' / '__init__.py').is_file():
        return repo
    return None


def cache_root(root: Union[str, os.PathLike, None] = None) -> Path:
    """The writable cache root: ``root``, else ``$GRAPHITE_ROOT``, else ``<repo>/datasets`` in a source checkout,
    else ``~/.cache/graphite``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get('GRAPHITE_ROOT', '').strip()
    if env:
        return Path(env).expanduser()
    repo = _repo_root()
    if repo is not None:
        return repo / 'datasets'
    return Path('~/.cache/graphite').expanduser()


def mirror_root(mirror: Union[str, os.PathLike, bool, None] = None) -> Optional[Path]:
    """The read-only mirror: ``mirror``, else ``$GRAPHITE_DATA``, else :obj:`None` (no mirror).
    ``mirror=False`` means no mirror even when ``GRAPHITE_DATA`` is set.

    Raises:
        NotADirectoryError: the mirror is set but is not an existing directory.
    """
    if mirror is False:
        return None
    if mirror is True or (mirror is not None and not isinstance(mirror, (str, os.PathLike))):
        raise TypeError(f'mirror must be a path, None or False, got {mirror!r}')
    if mirror is None:
        mirror = os.environ.get('GRAPHITE_DATA', '').strip() or None
        origin = 'GRAPHITE_DATA'
    else:
        origin = 'mirror='
    if mirror is None:
        return None
    path = Path(mirror).expanduser()
    if not path.is_dir():
        raise NotADirectoryError(f'dataset mirror {str(path)!r} (from {origin}) is not a directory')
    return path


def downloads_enabled(download: Optional[bool] = None) -> bool:
    """``download`` if given, else :obj:`False` when ``GRAPHITE_OFFLINE`` is truthy.

    Raises:
        ValueError: ``GRAPHITE_OFFLINE`` has a value that is neither truthy nor falsy.
    """
    if download is not None:
        if not isinstance(download, bool):
            raise TypeError(f'download must be a bool or None, got {type(download).__name__}')
        return download
    value = os.environ.get('GRAPHITE_OFFLINE', '').strip().lower()
    if value in _TRUE:
        return False
    if value in _FALSE:
        return True
    raise ValueError(f'GRAPHITE_OFFLINE={value!r}: use 1/true/yes or 0/false/no')


def _check_separate(cache: Path, mirror: Optional[Path]) -> None:
    if mirror is None:
        return
    c, m = cache.resolve(), mirror.resolve()
    if c == m or m in c.parents:
        raise ValueError(f'cache root {str(cache)!r} lies inside the read-only mirror {str(mirror)!r}: pass another '
                         f'root= or set GRAPHITE_ROOT (PyG writes processed/ folders into the cache)')


def _copy(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` atomically (temp file in the destination folder, then ``os.replace``)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f'.{dst.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part'
    try:
        shutil.copyfile(src, tmp)  # contents only: new file with umask permissions, not the mirror's mode bits
        os.replace(tmp, dst)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise


def stage_raw_files(raw_dir: str, files: Tuple[str, ...], cache: Path, mirror: Optional[Path],
                    fresh: Collection[str] = ()) -> Tuple[List[str], List[str]]:
    """Make the raw files of one dataset available in ``<cache>/<raw_dir>/``.

    For each file: keep the cached copy if present, else copy it from ``<mirror>/<raw_dir>/`` (or
    ``<mirror>/_incomplete/<raw_dir>/``). Every file present afterwards is verified against the manifest.

    Args:
        raw_dir (str): folder relative to the mirror / cache root, e.g. ``'WebKB/cornell/raw'``.
        files (tuple of str): file names in that folder.
        cache (Path): cache root (created if needed).
        mirror (Path, optional): mirror root, read only.
        fresh (collection of str): names of files just downloaded into the cache; like files copied by this call,
            they are deleted when they fail the check (a file that was already cached is kept for inspection).

    Returns:
        ``(missing, copied)``: names still absent, and names copied from the mirror by this call.

    Raises:
        ChecksumError: a cached, copied or downloaded file does not match the manifest.
        ValueError: the cache lies inside the mirror.
    """
    _check_separate(cache, mirror)
    target = cache / raw_dir
    missing, copied = [], []
    for name in files:
        dst = target / name
        rel = f'{raw_dir}/{name}'
        if not dst.is_file() and mirror is not None:
            for src in (mirror / raw_dir / name, mirror / '_incomplete' / raw_dir / name):
                if src.is_file():
                    _copy(src, dst)
                    copied.append(name)
                    break
        if not dst.is_file():
            missing.append(name)
            continue
        try:
            verify_file(dst, rel)
        except Exception:
            if name in copied or name in fresh:
                dst.unlink()
            raise
    return missing, copied


def network_reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to ``url``'s host can be opened within ``timeout`` seconds (DNS included).

    Used to fail fast with :class:`MissingDataError` instead of waiting for a download to time out.
    """
    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port or (443 if parsed.scheme == 'https' else 80)
    if not host:
        return False
    # getaddrinfo has no timeout of its own: resolve in a daemon thread and stop waiting after `timeout`.
    result: list = []
    thread = threading.Thread(target=lambda: result.append(_try_connect(host, port, timeout)), daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _try_connect(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _describe(url: str) -> str:
    base, _, member = url.partition('#')
    return f'{member} in the archive {base}' if member else url


def missing_message(dataset: str, raw_dir: str, missing: List[str], cache: Path, mirror: Optional[Path],
                    reason: str, sources: Optional[Dict[str, str]] = None) -> str:
    """A message saying which files are missing, where to put them and (``sources``: name -> URL) where to get them."""
    where = [f'{cache / raw_dir}/ (cache)']
    if mirror is not None:
        where.append(f'{mirror / raw_dir}/ (mirror)')
    else:
        where.append('<mirror>/' + raw_dir + '/ with GRAPHITE_DATA=<mirror>')
    origin = ' Download sources: ' + '; '.join(f'{f} <- {_describe(u)}' for f, u in sources.items()) + '.' \
        if sources else ''
    return (f'dataset {dataset!r}: {len(missing)} raw file(s) missing ({", ".join(missing)}) and {reason}. '
            f'Put the file(s) into {" or ".join(where)}; their expected SHA-256 is listed in datasets/MANIFEST.tsv '
            f'(path {raw_dir}/<file>) where known.{origin} See datasets/README.md.')
