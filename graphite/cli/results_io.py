"""Result files: atomic JSON writes and checked reads, the summary over splits, and a record of the software
environment."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from typing import Any, Dict, List, Optional

from graphite.fileio import atomic_write

__all__ = ['write_json_atomic', 'read_json', 'environment', 'summarize_splits', 'recorded_option']


def write_json_atomic(path: str, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temporary file in the same folder, then ``os.replace``)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    text = json.dumps(obj, indent=2, sort_keys=False) + '\n'
    atomic_write(path, lambda f: f.write(text.encode()))


def summarize_splits(result: Dict[str, Any]) -> Dict[str, Any]:
    """Set ``mean`` and ``std`` of the test metric over ``per_split`` (population std over splits, as in the
    heterophily literature) and ``val_mean`` of ``per_split_val``; returns ``result``."""
    import numpy as np
    tests = np.asarray(result['per_split'], dtype=float)
    result['mean'] = float(tests.mean())
    result['std'] = float(tests.std())
    result['val_mean'] = float(np.mean(result['per_split_val']))
    return result


def read_json(path: str) -> Dict[str, Any]:
    """The JSON object in the result file at ``path``; a file that is not valid JSON or holds no object is a
    :class:`ValueError` naming it."""
    try:
        with open(path) as f:
            res = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from None
    if not isinstance(res, dict):
        raise ValueError(f'{path}: a result file must hold a JSON object')
    return res


def _git_commit() -> Optional[str]:
    """The commit of the source checkout graphite runs from; :obj:`None` for an installed package."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.isfile(os.path.join(root, 'pyproject.toml')):
        return None  # site-packages: a git repository around it (a project's .venv) is not graphite's
    try:
        out = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except Exception:  # noqa: BLE001 - git missing / not a checkout
        return None


def environment(seed: int, threads: int) -> Dict[str, Any]:
    """Versions of Python / torch / PyG / numpy / sklearn, platform, git commit, seed and thread count."""
    import numpy
    import sklearn
    import torch
    import torch_geometric
    return {
        'python': sys.version.split()[0],
        'torch': torch.__version__,
        'torch_geometric': torch_geometric.__version__,
        'numpy': numpy.__version__,
        'sklearn': sklearn.__version__,
        'platform': platform.platform(),
        'processor': platform.machine(),
        'git_commit': _git_commit(),
        'seed': int(seed),
        'threads': int(threads),
    }


def recorded_option(command: Optional[str], flag: str) -> List[str]:
    """The values given to ``flag`` (``--flag value`` or ``--flag=value``) in a result's recorded ``command``, in
    order; none when the command is missing or does not parse as a shell line."""
    import shlex
    try:
        words = shlex.split(command or '')
    except ValueError:
        return []
    return [w.split('=', 1)[1] if w.startswith(flag + '=') else words[i + 1]
            for i, w in enumerate(words) if w.startswith(flag + '=') or (w == flag and i + 1 < len(words))]
