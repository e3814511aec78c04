"""``graphite predict``: class probabilities or node embeddings of a model saved by ``graphite run --save-model``.

::

    graphite run --dataset texas --model gcn --splits 0 --save-model models/texas-gcn
    graphite predict --model models/texas-gcn --dataset texas                  # predictions/texas-gcn-probs.csv
    graphite predict --model models/texas-gcn --split 0 --embeddings --out emb.csv

The CSV has a ``node`` column (graph-node index, feature nodes of the GRAPHITE transform excluded) and one column per
class (``p0, p1, ...``, softmax probabilities) or per embedding dimension (``e0, e1, ...``, the input of the model's
output layer). The graph is transformed as at training time (the GRAPHITE options saved with the model); a graph with
another feature width than the training graph is refused with one line. The same is available in Python as
:func:`graphite.saved_model.predict`.
"""
from __future__ import annotations

import sys

from graphite.cli.paths import output_root

HELP = 'write class probabilities (or node embeddings) of a model saved by `graphite run --save-model` as CSV'


def add_arguments(parser):
    parser.add_argument('--model', required=True, metavar='DIR',
                        help='saved-model folder, or the run folder of `graphite run --save-model DIR` (then '
                             '--split picks a split when it holds several)')
    parser.add_argument('--dataset', default=None,
                        help='dataset to predict on (default: the one the model was trained on)')
    parser.add_argument('--split', type=int, default=None, help='split whose model to use, in a run folder')
    parser.add_argument('--out', default=None,
                        help='CSV file (default: predictions/<dataset>-<model>[-split<k>]-probs.csv, or '
                             '-embeddings.csv, under the current directory or $GRAPHITE_HOME)')
    parser.add_argument('--embeddings', action='store_true',
                        help='write node embeddings (the input of the output layer) instead of class probabilities')
    from graphite.device import DEVICE_HELP
    parser.add_argument('--device', default='auto', help=DEVICE_HELP.replace('train on', 'predict on'))


def default_out(dataset: str, model: str, split, embeddings: bool) -> str:
    """``<output root>/predictions/<dataset>-<model>[-split<k>]-(probs|embeddings).csv``."""
    part = '' if split is None else f'-split{split}'
    return str(output_root() / 'predictions' / f'{dataset}-{model}{part}-{"embeddings" if embeddings else "probs"}.csv')


def main(args) -> int:
    from graphite.datasets import canonical_name, load
    from graphite.device import resolve_device
    from graphite.saved_model import load_model, predict, resolve_model_dir, write_predictions

    device = resolve_device(args.device)
    model_dir = resolve_model_dir(args.model, args.split)
    loaded = load_model(model_dir, map_location=device)
    config = loaded[1]
    dataset = args.dataset or config['dataset']['name']
    if not dataset:
        raise ValueError(f'{model_dir} does not record its training dataset: pass --dataset')
    dataset = canonical_name(dataset)
    values = predict(model_dir, load(dataset), embeddings=args.embeddings, loaded=loaded)
    split = config.get('extra', {}).get('split')
    out = args.out or default_out(dataset, config['model']['name'], split, args.embeddings)
    write_predictions(values, out, embeddings=args.embeddings)
    what = 'embeddings' if args.embeddings else 'class probabilities'
    print(f'graphite predict: {dataset} with {model_dir} -> {out} ({values.size(0)} nodes x {values.size(1)} '
          f'{what})', file=sys.stderr)
    return 0
