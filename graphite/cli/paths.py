"""Where the command line writes: the *output root* and the folders under it.

The output root is ``$GRAPHITE_HOME`` when that variable is set, else the current directory; ``graphite run``
writes ``<root>/results/``, ``graphite linkpred`` ``<root>/results/linkpred/`` and ``graphite tune``
``<root>/studies/`` (``$GRAPHITE_STUDIES`` overrides the studies folder alone). ``--out`` / ``--storage`` override
single outputs. Nothing is ever written next to the installed package: the bundled configs
(:data:`graphite.cli.config.CONFIG_DIR`) are read-only package data.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ['output_root', 'results_dir', 'studies_dir']


def output_root() -> Path:
    """``$GRAPHITE_HOME`` (``~`` expanded) when set and non-empty, else the current directory (absolute)."""
    env = os.environ.get('GRAPHITE_HOME', '').strip()
    return Path(env).expanduser().absolute() if env else Path.cwd()


def results_dir() -> Path:
    """Default folder of result JSON files: ``<output root>/results``."""
    return output_root() / 'results'


def studies_dir() -> Path:
    """Default folder of embedded Optuna studies: ``$GRAPHITE_STUDIES``, else ``<output root>/studies``."""
    env = os.environ.get('GRAPHITE_STUDIES', '').strip()
    return Path(env).expanduser() if env else output_root() / 'studies'
