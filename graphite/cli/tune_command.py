"""``graphite tune``: Optuna hyper-parameter search, embedded by default, scaling out to many workers.

Examples::

    # embedded: the study lives in ./studies/actor-graphite-graphite/journal.log, no server needed
    graphite tune --dataset actor --model graphite --transform graphite --trials 100 --workers 2

    # re-running the same command continues the study until it holds 100 trials
    graphite tune --dataset actor --model graphite --transform graphite --trials 100 --export best.yaml
    graphite run --dataset actor --model graphite --config best.yaml

    # many machines: the same command on every host, against one PostgreSQL database
    graphite tune --dataset actor --model graphite --trials 500 --workers 2 \\
        --storage postgresql://user:password@db-host:5432/graphite --study actor-graphite

    # link prediction (linkpred.cli.command.run_linkpred, configs/linkpred/<dataset>.yaml)
    graphite tune --task linkpred --dataset cora --encoder sage --decoder mlp --runs 1 --trials 50

The objective is the validation metric (``val_mean``), never the test metric; see :mod:`graphite.cli.tuning`
(search flow, pruning, seeds) and :mod:`graphite.cli.tuning.storage` (storages, heartbeats).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict

HELP = 'tune hyper-parameters with Optuna (validation metric; embedded journal storage or a database URL)'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group('what to tune')
    g.add_argument('--task', choices=('node', 'linkpred'), default='node',
                   help='node classification (default) or link prediction')
    g.add_argument('--dataset', required=True, help='dataset name (graphite.datasets.names())')
    g.add_argument('--model', help='node-classification model (bundled config configs/<dataset>/<model>.yaml)')
    g.add_argument('--transform', choices=('graphite', 'none'), default=None,
                   help="graph transform; default: the config's `transform`")
    g.add_argument('--encoder', help='link-prediction encoder (--task linkpred)')
    g.add_argument('--decoder', help='link-prediction decoder (--task linkpred)')
    g.add_argument('--config', type=Path, default=None,
                   help='config YAML with `params` and a `search:` section (default: the bundled config: '
                        'configs/<dataset>|default/<model>.yaml, configs/linkpred/<dataset>|default.yaml)')
    g.add_argument('--set', dest='overrides', action='append', default=[], metavar='KEY=VALUE',
                   help='override a fixed param of the config (repeatable)')
    g.add_argument('--splits', type=int, nargs='+', default=None, metavar='I',
                   help='split indices to train on per trial (default: all splits of the dataset)')
    g.add_argument('--runs', type=int, default=1, help='runs per trial for --task linkpred (default: 1)')

    g = parser.add_argument_group('search')
    g.add_argument('--trials', type=int, default=100,
                   help='total trials of the study (complete + pruned + running; resumed studies count what they '
                        'hold) (default: 100)')
    g.add_argument('--workers', type=int, default=1, help='local worker processes (default: 1)')
    g.add_argument('--threads', type=int, default=1, help='torch threads per worker (default: 1)')
    g.add_argument('--timeout', type=float, default=None, metavar='S',
                   help='seconds after which workers start no new trial')
    g.add_argument('--seed', type=int, default=0, help='base seed: trial k trains with seed+k (default: 0)')
    from graphite.device import DEVICE_HELP
    g.add_argument('--device', default='auto', help=DEVICE_HELP)
    g.add_argument('--no-pruning', dest='pruning', action='store_false',
                   help='disable the median pruner (on by default)')
    g.add_argument('--prune-warmup', type=int, default=None, metavar='STEPS',
                   help='training steps of a trial before it may be pruned (default: epochs // 4)')
    g.add_argument('--report-every', type=int, default=None, metavar='K',
                   help='report the validation metric to the study at steps divisible by K (default: about 20 '
                        'reports per split)')
    g.add_argument('--enqueue', type=Path, action='append', default=[], metavar='CONFIG',
                   help='evaluate the searched values of this config file (e.g. an earlier study\'s winner) as a '
                        'trial before sampling (repeatable; counts toward --trials; skipped if the study holds it)')
    g.add_argument('--objective', default=None, metavar='MODULE:FUNCTION',
                   help='custom objective f(params, seed, on_eval) -> {"val_mean": ...} instead of the task runner')

    g = parser.add_argument_group('storage and results')
    g.add_argument('--storage', default=None,
                   help='journal file path, sqlite:///PATH or postgresql://user:pw@host:port/db '
                        '(default: studies/<study>/journal.log under the current directory or $GRAPHITE_HOME)')
    g.add_argument('--study', default=None, help='study name (default: <dataset>-<model>[-<transform>])')
    g.add_argument('--heartbeat-interval', type=int, default=None, metavar='S',
                   help='seconds between heartbeats of a running trial (default: 15)')
    g.add_argument('--grace-period', type=int, default=None, metavar='S',
                   help='seconds without heartbeat before a running trial is marked FAIL (default: 60)')
    g.add_argument('--export', type=Path, default=None, metavar='PATH',
                   help='write the best configuration as a config YAML for `graphite run ... --config PATH`')
    g.add_argument('--no-plots', dest='plots', action='store_false', help='do not write the summary plots')
    g.add_argument('--summary-only', action='store_true',
                   help='run no trials: print the summary, write plots/export of the existing study (read only; '
                        'running trials whose worker is gone are named)')
    g.add_argument('--quiet', action='store_true', help='no progress bar')


def _read_yaml(path: Path) -> Dict[str, Any]:
    from graphite.cli.config import read_mapping
    if not path.is_file():
        raise FileNotFoundError(f'config file {path} does not exist')
    return read_mapping(str(path))  # with its `extends:` resolved


def _apply_overrides(config: Dict[str, Any], overrides) -> Dict[str, Any]:
    import yaml
    params = dict(config.get('params') or {})
    for item in overrides:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise ValueError(f'--set expects KEY=VALUE, got {item!r}')
        if key not in params:
            raise KeyError(f'--set {key}: unknown param; known: {", ".join(sorted(params))}')
        params[key] = yaml.safe_load(value)
    return {**config, 'params': params}


def load_tune_config(args: argparse.Namespace) -> Dict[str, Any]:
    """The config a search starts from (params + search space), for each task."""
    if args.task == 'node' and args.objective is None:
        if not args.model and args.config is None:
            raise ValueError('--model is required for node classification (or give --config)')
        from graphite.cli.config import ConfigError, load_config, read_mapping
        model = args.model or read_mapping(str(args.config)).get('model')  # `tune --config FILE` names the model
        if not model:
            raise ConfigError(f'{args.config}: no `model:` in the file; pass --model')
        config = load_config(args.dataset, model, path=None if args.config is None else str(args.config),
                             overrides=tuple(args.overrides), transform=args.transform)
    elif args.task == 'linkpred' and args.objective is None:
        from linkpred.cli.command import load_linkpred_config
        from linkpred.training import DEFAULT_PARAMS
        config = load_linkpred_config(args.dataset, None if args.config is None else str(args.config),
                                      args.overrides)
        # searched names missing from the config's params start from the trainer's defaults (explicit in exports)
        missing = {k: DEFAULT_PARAMS[k] for k in (config.get('search') or {})
                   if k not in config['params'] and k in DEFAULT_PARAMS}
        config = {**config, 'params': {**missing, **config['params']}}
    else:
        if args.config is None:
            raise ValueError('--config PATH (a YAML with `params` and `search`) is required with --objective')
        config = _apply_overrides(_read_yaml(args.config), args.overrides)
    config = dict(config)
    if args.transform is not None:
        config['transform'] = None if args.transform == 'none' else args.transform
    if config.get('dataset') not in (None, args.dataset):
        raise ValueError(f'--dataset {args.dataset} but the config is for dataset {config["dataset"]!r}')
    config['dataset'] = args.dataset
    if args.task == 'node' and args.model:
        if config.get('model') not in (None, args.model):
            raise ValueError(f'--model {args.model} but the config is for model {config["model"]!r}')
        config['model'] = args.model
    return config


def main(args: argparse.Namespace) -> int:
    from graphite.device import resolve_device
    from graphite.cli import tuning
    from graphite.cli.tuning.storage import DEFAULT_GRACE_PERIOD, DEFAULT_HEARTBEAT_INTERVAL, resolve_storage

    config = load_tune_config(args)
    name = args.study or tuning.default_study_name(args.task, args.dataset, config.get('model'),
                                                   config.get('transform'), args.encoder, args.decoder)
    storage = resolve_storage(args.storage, name)
    spec = tuning.TuneSpec(
        config=config, study_name=name, storage=storage, n_trials=args.trials, task=args.task,
        splits=args.splits, runs=args.runs, encoder=args.encoder, decoder=args.decoder, seed=args.seed,
        pruning=args.pruning, timeout=args.timeout, threads=args.threads,
        heartbeat_interval=args.heartbeat_interval or DEFAULT_HEARTBEAT_INTERVAL,
        grace_period=args.grace_period or DEFAULT_GRACE_PERIOD, objective=args.objective,
        n_warmup_steps=args.prune_warmup, report_every=args.report_every,
        device=str(resolve_device(getattr(args, 'device', 'auto'))))

    print(f'study {name} in {storage.display} ({args.workers} worker(s) x {args.threads} thread(s), '
          f'pruning {"on" if args.pruning else "off"})', file=sys.stderr)
    if args.summary_only:
        # read only: no journal file is created for a study that does not exist, and the study is summarised
        # whatever objective (splits, runs, ...) it was created with
        import optuna
        from graphite.cli.tuning.storage import open_storage, stale_trials
        missing = KeyError(f'no study {name!r} in {storage.display}; run without --summary-only first')
        if storage.kind == 'journal' and not Path(storage.location).is_file():
            raise missing
        try:  # heartbeats read, never written: a RUNNING trial whose worker is gone is reported, not failed
            opened = open_storage(storage, spec.heartbeat_interval, spec.grace_period)
            study = optuna.load_study(study_name=name, storage=opened)
        except KeyError:
            raise missing from None
        stale = stale_trials(study)
        if stale:
            print(f'{len(stale)} running trial(s) without a heartbeat for {spec.grace_period} s, their worker is '
                  f'gone: {", ".join(f"#{n}" for n in stale)} (the next graphite tune run of this study marks them '
                  'FAIL)', file=sys.stderr)
    else:
        if args.enqueue:
            queued = tuning.read_configs(spec.search, args.enqueue)  # all checked before the study is touched
            n = tuning.enqueue_configs(tuning.create_or_load_study(spec), queued)
            print(f'enqueued {n} configuration(s) from {", ".join(map(str, args.enqueue))}', file=sys.stderr)
        tuning.tune(spec, workers=args.workers, progress=not args.quiet)
        study = tuning.create_or_load_study(spec)  # fresh view of everything all workers wrote
    print(tuning.summarize(study))
    if tuning.best_trial_or_none(study) is None:
        return 1
    if args.plots:
        for path in tuning.write_plots(study, storage.artifacts).values():
            print(f'wrote {path}')
    if args.export is not None:
        seed = study.best_trial.user_attrs.get('seed', args.seed)
        if args.task == 'linkpred':
            how = (f'graphite linkpred --dataset {args.dataset} --encoder {args.encoder} --decoder {args.decoder} '
                   f'--config {args.export} --runs {args.runs} --seed {seed}')
        else:
            how = (f'graphite run --dataset {args.dataset} --model {config["model"]} --config {args.export} '
                   f'--seed {seed}' + (f' --splits {",".join(map(str, args.splits))}' if args.splits else ''))
        print(f'wrote {tuning.export_best(study, config, args.export)}\n  reproduce the best trial: {how}')
    print(f'dashboard: {storage.dashboard_command()}')
    return 0
