"""``graphite run``: train a model on a dataset's splits and write a result JSON."""
from __future__ import annotations

import os
import sys

from graphite.cli.paths import results_dir

HELP = 'train a model (optionally on the GRAPHITE-transformed graph) on benchmark splits and save results as JSON'


def run_selection(config_selection, overrides, flags=None):
    """The ``selection`` record of a run: the config's own, unless ``--set`` (or ``--batch-size`` / ``--fanout`` /
    ``--feature-fanout``, which set the config keys of the same names) changed the config, in which case the record
    says so (the config's record describes the config without the overrides, and how the overrides were chosen is
    not known to the command line). ``overrides``: the ``KEY=VALUE`` changes; ``flags``: the command-line options
    that made them (default: ``--set KEY=VALUE`` each)."""
    if not overrides:
        return config_selection
    flags = flags or [f'--set {o}' for o in overrides]
    return {'method': 'the config changed by hand with ' + ' '.join(flags)
                      + '; how the overrides were chosen is not recorded',
            'overrides': list(overrides), 'config_selection': config_selection, 'study': None, 'trials': None,
            'cpu_hours': None}


def add_arguments(parser):
    parser.add_argument('--dataset', default=None,
                        help="dataset name (see `graphite report` / graphite.datasets); default: the --config's "
                             "`dataset`")
    parser.add_argument('--model', default=None, help="model name: graphite, mlp, gcn, sage, gat, gin, fagcn, "
                                                      "h2gcn, gprgnn, gcnii, jknet; default: the --config's `model`")
    parser.add_argument('--transform', choices=['graphite', 'none'], default=None,
                        help="apply the GRAPHITE transform ('none' forces the original graph; default: the "
                             "config's transform)")
    parser.add_argument('--splits', default=None, help="splits to run, e.g. '0-9' or '0,3' (default: all)")
    parser.add_argument('--config', default=None,
                        help='YAML config (default: the bundled configs/<dataset>/<model>.yaml, '
                             'then configs/default/<model>.yaml)')
    parser.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                        help='override a parameter of the config (repeatable), e.g. --set lr=0.001')
    parser.add_argument('--out', default=None, help='result JSON (default: results/<dataset>-<model>[-graphite].json '
                                                    'under the current directory or $GRAPHITE_HOME)')
    parser.add_argument('--seed', type=int, default=0, help='base seed; split s uses seed+s (default: 0)')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch default)')
    parser.add_argument('--no-progress', action='store_true', help='no progress bars')
    parser.add_argument('--save-model', default=None, metavar='DIR',
                        help='save the best-validation model of each split as DIR/split-<k>/ (weights, config, '
                             'dataset and transform metadata, metrics) for `graphite predict --model DIR`')
    from graphite.device import DEVICE_HELP
    parser.add_argument('--device', default='auto', help=DEVICE_HELP)
    parser.add_argument('--batch-size', type=int, default=None,
                        help='train on sampled mini-batches of this many seed nodes (per rank with --distributed) '
                             'instead of the full graph; evaluation stays full-graph (layer-wise)')
    parser.add_argument('--fanout', default=None,
                        help="neighbours sampled per hop of a mini-batch, e.g. '15,10' (-1 = all; default 15,10)")
    parser.add_argument('--feature-fanout', default=None,
                        help="at most this many neighbours around a feature node per hop, e.g. '5' or '5,3'")
    parser.add_argument('--distributed', action='store_true',
                        help='data-parallel training over the processes of torchrun (gloo on CPU, nccl on CUDA); '
                             'needs --batch-size; rank 0 writes the result')


def default_out(dataset: str, model: str, transform) -> str:
    """``<dataset>-<model>[-graphite].json`` in :func:`graphite.cli.paths.results_dir`; the GRAPHITE model is
    normally trained on its transform, so it gets no suffix then (and ``-original`` on the untransformed graph)."""
    model = model.lower()
    if model == 'graphite':
        suffix = '' if transform == 'graphite' else '-original'
    else:
        suffix = '-graphite' if transform == 'graphite' else ''
    return str(results_dir() / f'{dataset}-{model}{suffix}.json')


def format_table(result) -> str:
    """A plain-text table of the per-split values (x100) and the summary line."""
    lines = [f"{'split':>5}  {'val':>7}  {'test':>7}  {'best step':>9}"]
    for s, v, t, b in zip(result['splits'], result['per_split_val'], result['per_split'], result['best_steps']):
        lines.append(f'{s:>5}  {100 * v:7.2f}  {100 * t:7.2f}  {b:>9}')
    lines.append(f"{result['dataset']} / {result['model']}{' + GRAPHITE' if result['transform'] else ''}: "
                 f"test {result['metric']} = {100 * result['mean']:.2f} +- {100 * result['std']:.2f} "
                 f"(val {100 * result['val_mean']:.2f}) over {len(result['per_split'])} split(s), "
                 f"{result['seconds']:.0f} s")
    return '\n'.join(lines)


def _model_saver(directory, extra):
    if not directory:
        return None
    from graphite.saved_model import run_model_saver
    return run_model_saver(directory, extra)


def main(args) -> int:
    import torch

    from graphite.cli.config import load_config
    from graphite.cli.results_io import write_json_atomic
    from graphite.cli.runner import run

    if args.threads is not None:
        if args.threads < 1:
            print(f'graphite: error: --threads must be >= 1, got {args.threads}', file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    if args.dataset is None or args.model is None:
        # `graphite run --config best.yaml`: dataset and model come from the file (as `graphite tune --export`
        # writes them).
        if args.config is None:
            print('graphite: error: --dataset and --model are required unless --config names a file with `dataset` and '
                  '`model`', file=sys.stderr)
            return 2
        from graphite.cli.config import read_identity
        try:
            dataset, model = read_identity(args.config)
        except (OSError, ValueError) as e:
            print(f'graphite: error: {e}', file=sys.stderr)
            return 2
        args.dataset = args.dataset or dataset
        args.model = args.model or model
    try:
        from graphite.datasets import canonical_name
        args.dataset = canonical_name(args.dataset)  # result files named like the loader's dataset
        options = [(key, value) for key, value in (
            ('batch_size', getattr(args, 'batch_size', None)), ('fanout', getattr(args, 'fanout', None)),
            ('feature_fanout', getattr(args, 'feature_fanout', None))) if value is not None]
        overrides = list(args.overrides) + [f'{key}={value}' for key, value in options]
        flags = [f'--set {o}' for o in args.overrides] + [f"--{key.replace('_', '-')} {value}"
                                                          for key, value in options]
        cfg = load_config(args.dataset, args.model, path=args.config, overrides=overrides,
                          transform=None if args.transform in (None, 'none') else args.transform)
    except (KeyError, ValueError) as e:  # unknown dataset / model / config key: a one-line message
        print(f'graphite: error: {e}', file=sys.stderr)
        return 2
    transform = cfg['transform'] if args.transform is None else (None if args.transform == 'none' else 'graphite')
    out = args.out or default_out(args.dataset, args.model, transform)
    extra = {'config_file': cfg['path'], 'command': 'graphite ' + ' '.join(sys.argv[1:]),
             'selection': run_selection(cfg.get('selection'), overrides, flags)}

    def save(partial):
        write_json_atomic(out, {**partial, **extra})

    distributed = getattr(args, 'distributed', False)
    main_rank = not distributed or os.environ.get('RANK', '0') == '0'
    if main_rank:
        print(f"graphite run: {args.dataset} / {args.model}{' + GRAPHITE' if transform else ''} "
              f"(config {cfg['path']}) -> {out}", file=sys.stderr)
    from graphite.cli.distributed import DistributedError, end_process
    from graphite.cli.termination import EXIT_CODE, Terminated
    try:
        result = run(args.dataset, args.model, transform, cfg['params'], splits=args.splits, seed=args.seed,
                     progress=not args.no_progress, on_split=save, device=getattr(args, 'device', 'auto'),
                     on_model=_model_saver(getattr(args, 'save_model', None), {**extra, 'result_file': out}),
                     distributed=distributed)
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (graphite.cli.termination)
        print(f'{"terminated" if isinstance(stop, Terminated) else "interrupted"}: finished splits (if any) are saved '
              f'in {out}', file=sys.stderr)
        return end_process(EXIT_CODE if isinstance(stop, Terminated) else 130)
    except DistributedError as e:  # a peer rank died or hung: one line on every surviving rank
        print(f'graphite: error: {e}', file=sys.stderr)
        return end_process(1)
    if main_rank:
        print(format_table(result))
    return end_process(0)  # a rank that joined a process group ends here, without gloo's teardown
