"""Saved models: write a trained node classifier to a folder, load it back, predict on a graph.

A saved model is a folder with two files:

* ``model.pt``: the ``state_dict`` (loaded with ``torch.load(weights_only=True)``);
* ``config.json``: how to rebuild the model (:func:`graphite.nn.get_model` name, ``in_channels``,
  ``hidden_channels``, ``out_channels``, keyword arguments), the dataset it was trained on and its feature width, the
  transform (``None`` or ``'graphite'`` with its :class:`graphite.Graphite` options), the versions of graphite, torch
  and PyG that wrote it, ``extra`` metadata, and the SHA-256 of ``model.pt``.

Each file is written under a temporary name and renamed (weights first, config last), and the config pins the
weights' SHA-256, so a reader never sees a half-written model: a crash between the two renames is reported as a
checksum mismatch instead of loading weights that do not belong to the config.

>>> save_model(model, 'runs/actor-gcn', model_name='gcn', hidden_channels=64, in_channels=932, num_classes=5,
...            dataset='actor')
>>> probs = predict('runs/actor-gcn', graphite.datasets.load('actor'))      # [N, 5], rows sum to 1

**Run folders.** ``graphite run --save-model DIR`` (:func:`run_model_saver`) saves the best-validation model of
every split it trains as ``DIR/split-<k>/`` (always this layout, also for a single split, so runs over different
splits never overwrite one another's models and each model names its split). :func:`load_model`, :func:`predict` and
``graphite predict --model`` accept such a run folder: with ``split=k`` they use ``DIR/split-<k>``, without it the
only split saved there (several saved splits without ``split`` is an error that lists them).
"""
from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import platform
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

import torch
from torch import Tensor, nn

from graphite.fileio import atomic_write

__all__ = ['save_model', 'load_model', 'predict', 'write_predictions', 'resolve_model_dir', 'run_model_saver',
           'FeatureWidthError', 'SavedModelError', 'FORMAT_VERSION']

FORMAT_VERSION = 1
_FORMAT = 'graphite-saved-model'
PathLike = Union[str, os.PathLike]


class SavedModelError(ValueError):
    """A saved-model folder that cannot be read (missing or malformed files, weights that do not match the config)."""


class FeatureWidthError(ValueError):
    """The graph's feature width differs from the one the saved model was trained on."""


def _versions() -> Dict[str, str]:
    import torch_geometric

    import graphite
    return {'graphite': graphite.__version__, 'torch': torch.__version__,
            'torch_geometric': torch_geometric.__version__,
            'python': platform.python_version()}


def save_model(model: nn.Module, directory: PathLike, *, model_name: str, hidden_channels: int, in_channels: int,
               num_classes: int, model_kwargs: Optional[Dict[str, Any]] = None, dataset: Optional[str] = None,
               transform: Optional[str] = None, transform_options: Optional[Dict[str, Any]] = None,
               preprocess: Optional[Dict[str, bool]] = None, extra: Optional[Dict[str, Any]] = None) -> Path:
    """Write ``model`` to ``directory`` (created if needed; an earlier saved model there is replaced).

    Args:
        model (nn.Module): the trained model, built as ``get_model(model_name)(in_channels, hidden_channels,
            num_classes, **model_kwargs)``.
        directory (str or PathLike): target folder.
        model_name (str): its name in :data:`graphite.nn.MODELS`.
        hidden_channels (int), in_channels (int), num_classes (int): the constructor's sizes; ``in_channels`` is the
            feature width of the graph it was trained on (unchanged by the GRAPHITE transform).
        model_kwargs (dict, optional): the other constructor arguments (JSON-serialisable).
        dataset (str, optional): name of the training dataset (recorded, and quoted in error messages).
        transform (str, optional): ``None`` or ``'graphite'``: the transform :func:`predict` applies to a raw graph.
        transform_options (dict, optional): the :class:`graphite.Graphite` options of that transform.
        preprocess (dict, optional): the options of :func:`graphite.preprocessing.preprocess` the model was trained
            with (``normalize_features``, ``undirected``); :func:`predict` applies them to a raw graph first.
        extra (dict, optional): any JSON-serialisable metadata (metrics, split, seed, training options...).

    Returns:
        The folder's :class:`~pathlib.Path`.

    Raises:
        ValueError: unknown transform, or options / metadata that are not JSON-serialisable.
        KeyError: unknown ``model_name``.
    """
    from graphite.nn import get_model
    get_model(model_name)  # KeyError for unknown names
    if transform not in (None, 'graphite'):
        raise ValueError(f"transform must be None or 'graphite', got {transform!r}")
    from graphite.preprocessing import PREPROCESS_KEYS
    unknown = sorted(set(preprocess or {}) - set(PREPROCESS_KEYS))
    if unknown:
        raise ValueError(f'unknown preprocess option(s) {unknown}; expected some of {list(PREPROCESS_KEYS)}')
    config = {
        'format': _FORMAT, 'format_version': FORMAT_VERSION,
        'model': {'name': model_name.lower(), 'in_channels': int(in_channels), 'hidden_channels': int(hidden_channels),
                  'out_channels': int(num_classes), 'kwargs': dict(model_kwargs or {})},
        'dataset': {'name': dataset, 'num_features': int(in_channels), 'num_classes': int(num_classes)},
        'transform': {'name': transform, 'options': dict(transform_options or {}) if transform else {}},
        'preprocess': {k: bool(v) for k, v in (preprocess or {}).items() if v},
        'versions': _versions(),
        'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'extra': dict(extra or {}),
    }
    try:
        json.dumps(config)
    except TypeError as e:
        raise ValueError(f'model_kwargs, transform_options and extra must be JSON-serialisable: {e}') from None
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_write(out / 'model.pt', lambda f: torch.save(state, f))
    with open(out / 'model.pt', 'rb') as f:
        config['model_sha256'] = hashlib.sha256(f.read()).hexdigest()
    atomic_write(out / 'config.json', lambda f: f.write(json.dumps(config, indent=2, sort_keys=True).encode()))
    return out


def _read_config(directory: Path) -> Dict[str, Any]:
    path = directory / 'config.json'
    if not path.is_file():
        raise SavedModelError(f'{directory} is not a saved graphite model: {path.name} is missing')
    try:
        config = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as e:
        raise SavedModelError(f'{path}: not valid JSON ({e})') from None
    if not isinstance(config, dict) or config.get('format') != _FORMAT:
        raise SavedModelError(f'{path}: not a graphite saved-model config (format {_FORMAT!r} expected)')
    if config.get('format_version') != FORMAT_VERSION:
        raise SavedModelError(f'{path}: format version {config.get("format_version")!r}; this graphite reads '
                              f'version {FORMAT_VERSION}')
    return config


def _split_folders(directory: Path) -> Dict[int, Path]:
    found = {}
    if directory.is_dir():
        for p in directory.glob('split-*'):
            if p.name[6:].isdigit() and (p / 'config.json').is_file():
                found[int(p.name[6:])] = p
    return dict(sorted(found.items()))


def resolve_model_dir(directory: PathLike, split: Optional[int] = None) -> Path:
    """The saved-model folder meant by ``directory``: the folder itself when it holds ``config.json``, else the
    ``split-<k>`` folder of a run folder (``split=k``, or the only split saved there).

    Raises:
        SavedModelError: no such folder, no saved model for ``split``, or several splits and no ``split``.
    """
    directory = Path(directory)
    if not directory.exists():
        raise SavedModelError(f'no saved model at {directory}: the folder does not exist')
    if (directory / 'config.json').is_file():
        saved = _read_config(directory).get('extra', {}).get('split')
        if split is not None and saved is not None and saved != split:
            raise SavedModelError(f'{directory} holds the model of split {saved}, not of split {split}')
        return directory
    folders = _split_folders(directory)
    if split is not None:
        if split not in folders:
            raise SavedModelError(f'{directory} has no saved model for split {split} (saved splits: '
                                  f'{", ".join(map(str, folders)) or "none"})')
        return folders[split]
    if len(folders) > 1:
        raise SavedModelError(f'{directory} holds the models of splits {", ".join(map(str, folders))}: choose one '
                              f'(split=<k>, or --split <k> on the command line)')
    return next(iter(folders.values()), directory)  # none: _read_config names the missing config.json


def run_model_saver(directory: PathLike, extra: Optional[Dict[str, Any]] = None):
    """The ``on_model(model, info)`` callback of :func:`graphite.cli.runner.run` that saves each split's
    best-validation model to ``directory/split-<k>/`` (``info``: :func:`save_model`'s keyword arguments plus the
    split's metadata and metrics, recorded with ``extra`` in the config's ``extra``)."""
    keys = ('model_name', 'hidden_channels', 'in_channels', 'num_classes', 'model_kwargs', 'dataset', 'transform',
            'transform_options', 'preprocess')

    def save(model: nn.Module, info: Dict[str, Any]) -> Path:
        meta = {**{k: v for k, v in info.items() if k not in keys}, **(extra or {})}
        return save_model(model, Path(directory) / f'split-{info["split"]}', **{k: info[k] for k in keys},
                          extra=meta)
    return save


def load_model(directory: PathLike, map_location: Union[str, torch.device] = 'cpu', split: Optional[int] = None
               ) -> Tuple[nn.Module, Dict]:
    """Rebuild a saved model (in ``eval()`` mode) and return it with its config. ``directory`` may be a run folder
    (see :func:`resolve_model_dir`; ``split`` chooses the split).

    Raises:
        SavedModelError: missing or malformed files, or ``model.pt`` whose SHA-256 differs from the config's (a
            partial write or a file from another model).
    """
    from graphite.nn import get_model
    directory = resolve_model_dir(directory, split)
    config = _read_config(directory)
    weights = directory / 'model.pt'
    if not weights.is_file():
        raise SavedModelError(f'{directory}: model.pt is missing')
    blob = weights.read_bytes()
    if hashlib.sha256(blob).hexdigest() != config.get('model_sha256'):
        raise SavedModelError(f'{weights}: SHA-256 differs from the one recorded in config.json (a partial write, or '
                              f'weights of another model); save the model again')
    m = config['model']
    model = get_model(m['name'])(m['in_channels'], m['hidden_channels'], m['out_channels'], **m['kwargs'])
    model.load_state_dict(torch.load(io.BytesIO(blob), map_location=map_location, weights_only=True))
    return model.to(map_location).eval(), config


def _penultimate(model: nn.Module, num_classes: int, run) -> Tensor:
    """The input of the last module call that maps ``[N, d]`` to ``[N, num_classes]`` (the output layer)."""
    calls = []

    def hook(module, args, output):
        if args and isinstance(args[0], Tensor) and isinstance(output, Tensor):
            calls.append((args[0], output))
    handles = [m.register_forward_hook(hook) for m in model.modules() if next(m.children(), None) is None]
    try:
        logits = run()
    finally:
        for h in handles:
            h.remove()
    n = logits.size(0)
    for inp, out in reversed(calls):
        if out is inp:  # a pass-through (an identity or a residual switched off), not a layer
            continue
        if inp.dim() == 2 and inp.size(0) == n and out.shape == (n, num_classes):
            return inp
    raise ValueError(f'could not find the output layer of {type(model).__name__} to read node embeddings from')


def predict(model_dir: PathLike, data, *, embeddings: bool = False, loaded: Optional[Tuple[nn.Module, Dict]] = None,
            split: Optional[int] = None) -> Tensor:
    """Class probabilities (or node embeddings) of a saved model on a graph.

    ``data`` is a :class:`~torch_geometric.data.Data` or a dataset name for :func:`graphite.datasets.load`. A raw
    graph is preprocessed and transformed as at training time (the saved preprocessing and GRAPHITE options); a graph
    that already carries ``edge_type`` is used as is.

    Args:
        model_dir (str or PathLike): the saved-model folder.
        data (Data or str): the graph.
        embeddings (bool): return node embeddings (the input of the model's output layer) instead of class
            probabilities. (default: :obj:`False`)
        loaded (tuple, optional): ``load_model(model_dir)`` already done, to predict on several graphs.
        split (int, optional): the split's model when ``model_dir`` is a run folder (:func:`resolve_model_dir`).

    Returns:
        ``[N, C]`` softmax probabilities, or ``[N, d]`` embeddings, for the ``N`` graph nodes (the feature nodes the
        transform adds are dropped).

    Raises:
        FeatureWidthError: ``data.x`` has another width than the graph the model was trained on.
        SavedModelError: see :func:`load_model`.
    """
    model, config = loaded if loaded is not None else load_model(model_dir, split=split)
    if isinstance(data, str):
        from graphite.datasets import load
        data = load(data)
    width, trained = int(data.x.size(1)), config['dataset']
    if width != trained['num_features']:
        name = getattr(data, 'name', None) or 'the given graph'
        raise FeatureWidthError(
            f'the model in {model_dir} was trained on {trained["name"] or "a graph"!r} with {trained["num_features"]} '
            f'input features, but {name!r} has {width}: a saved model only applies to graphs with the same feature '
            f'columns')
    transform = config['transform']
    if getattr(data, 'edge_type', None) is None:  # a raw graph: preprocess and transform it as at training time
        from graphite.preprocessing import preprocess
        data = preprocess(data, **config.get('preprocess', {}))  # absent in files written before it was recorded
        if transform['name'] == 'graphite':
            from graphite import Graphite
            data = Graphite(**transform['options'])(data)
    from graphite.layout import graph_node_mask
    graph = graph_node_mask(data)  # the feature nodes of the transform are dropped from the output
    device = next(model.parameters()).device
    x, edge_index = data.x.float().to(device), data.edge_index.to(device)
    edge_type = getattr(data, 'edge_type', None)
    edge_type = edge_type.to(device) if edge_type is not None else None
    model.eval()
    with torch.no_grad():
        def run() -> Tensor:
            return model(x, edge_index, edge_type)
        out = _penultimate(model, config['model']['out_channels'], run) if embeddings else run().softmax(dim=-1)
    return out[graph.to(out.device)].cpu()


def write_predictions(values: Tensor, path: PathLike, *, embeddings: bool = False) -> Path:
    """Write ``[N, K]`` probabilities (columns ``p0..``) or embeddings (``e0..``) as CSV with a ``node`` column."""
    import numpy as np
    path = Path(path)
    prefix = 'e' if embeddings else 'p'
    header = ','.join(['node'] + [f'{prefix}{i}' for i in range(values.size(1))])
    table = np.concatenate([np.arange(values.size(0))[:, None], values.double().numpy()], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = ['%d'] + ['%.8g'] * values.size(1)
    atomic_write(path, lambda f: np.savetxt(f, table, delimiter=',', header=header, comments='', fmt=fmt))
    return path
