"""The ``graphite`` console script.

Each subcommand lives in its own module of :mod:`experiments` that defines

* ``HELP``: a one-line description,
* ``add_arguments(parser)``: fills an :class:`argparse.ArgumentParser`,
* ``main(args) -> int``: runs the command and returns the exit code.

Modules are imported only when their subcommand is used, so a heavy dependency of one command (Optuna,
matplotlib, ...) never slows down the others.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

#: subcommand name -> module implementing it
COMMANDS = {
    'report': 'experiments.report_command',
    'run': 'experiments.run_command',
    'tune': 'experiments.tune_command',
    'table': 'experiments.table_command',
    'linkpred': 'experiments.linkpred_command',
}


def _load(name: str):
    return importlib.import_module(COMMANDS[name])


def build_parser(argv: List[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='graphite',
        description='graphite: learning on heterophilic graphs (GRAPHITE transform, baselines, tuning, link prediction).')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True
    # Only the requested subcommand's module is imported; the others are listed by name.
    wanted = next((a for a in argv if not a.startswith('-')), None)
    for name, module in COMMANDS.items():
        if name == wanted:
            mod = _load(name)
            p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
            mod.add_arguments(p)
        else:
            sub.add_parser(name, help=f'see `graphite {name} --help`', add_help=False)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(_load(args.command).main(args) or 0)
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
