"""The ``graphite`` console script (also ``python -m graphite``).

Each subcommand lives in its own module that defines

* ``HELP``: a one-line description,
* ``add_arguments(parser)``: fills an :class:`argparse.ArgumentParser`,
* ``main(args) -> int``: runs the command and returns the exit code.

Built-in subcommands are the modules in :data:`COMMANDS`. Other distributions add subcommands through the
:data:`PLUGIN_GROUP` entry-point group (name = subcommand, value = the module), e.g. in their ``pyproject.toml``::

    [project.entry-points."graphite.commands"]
    linkpred = "linkpred.cli.command"

so graphite never imports them unless their subcommand is used. :data:`KNOWN_PLUGINS` are also found by import in a
source checkout whose installed metadata predates the entry point. Modules are imported only when their subcommand
is used, so a heavy dependency of one command (Optuna, matplotlib, ...) never slows down the others.

Errors: argparse usage errors exit with 2; the errors a user can cause (:data:`USER_ERRORS`: bad values, unknown
names, missing files or data, bad YAML, a missing optional dependency) print one line ``graphite: error: ...`` and
exit with 1, as does any other exception (``graphite: internal error: ...``). ``--debug`` shows the traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from typing import Dict, List, Optional

import yaml

#: built-in subcommand name -> module implementing it
COMMANDS = {
    'report': 'graphite.cli.report_command',
    'run': 'graphite.cli.run_command',
    'tune': 'graphite.cli.tune_command',
    'table': 'graphite.cli.table_command',
    'predict': 'graphite.cli.predict_command',
    'merge': 'graphite.cli.merge_command',
}
#: entry-point group of plug-in subcommands (name -> ``module`` or ``module:object``)
PLUGIN_GROUP = 'graphite.commands'
#: plug-ins tried by import when no installed entry point names them (a checkout used without re-installing)
KNOWN_PLUGINS = {'linkpred': 'linkpred.cli.command'}
#: exceptions a user can cause; printed as one line without a traceback (unless ``--debug``).
#: ``ValueError`` and ``KeyError`` cover graphite's own ``ConfigError``, ``UnknownDatasetError`` and
#: ``ChecksumError``; ``FileNotFoundError`` covers ``graphite.datasets.MissingDataError``.
USER_ERRORS = (ValueError, KeyError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
               yaml.YAMLError, ImportError)


def _entry_points(group: str):
    from importlib.metadata import entry_points
    found = entry_points()
    return found.select(group=group) if hasattr(found, 'select') else found.get(group, ())  # Python 3.9: a dict


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        return False


def commands() -> Dict[str, str]:
    """Subcommand name -> ``module`` (or ``module:object``): built-ins, then installed plug-ins, then
    :data:`KNOWN_PLUGINS` that can be imported."""
    found = dict(COMMANDS)
    for ep in _entry_points(PLUGIN_GROUP):
        found.setdefault(ep.name, ep.value)
    for name, module in KNOWN_PLUGINS.items():
        if name not in found and _importable(module):
            found[name] = module
    return found


def _load(target: str):
    module, _, attr = target.partition(':')
    loaded = importlib.import_module(module)
    return getattr(loaded, attr) if attr else loaded


def build_parser(argv: List[str], available: Optional[Dict[str, str]] = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='graphite',
        description='graphite: learning on heterophilic graphs (GRAPHITE transform, baselines, tuning, link '
                    'prediction).')
    parser.add_argument('--debug', action='store_true', help='show the full traceback of an error')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True
    # Only the requested subcommand's module is imported; the others are listed by name.
    wanted = next((a for a in argv if not a.startswith('-')), None)
    for name, target in (commands() if available is None else available).items():
        if name == wanted:
            mod = _load(target)
            p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
            mod.add_arguments(p)
            p.add_argument('--debug', action='store_true', default=argparse.SUPPRESS,
                           help='show the full traceback of an error')
        else:
            sub.add_parser(name, help=f'see `graphite {name} --help`', add_help=False)
    return parser


def _message(err: BaseException) -> str:
    """``err`` as one line (YAML errors span several; a plain KeyError's str() is the repr() of its key)."""
    text = str(err.args[0]) if type(err) is KeyError and len(err.args) == 1 else str(err)
    return ' '.join(text.split()) or type(err).__name__


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    available = commands()
    args = build_parser(argv, available).parse_args(argv)
    from graphite.cli.termination import EXIT_CODE, Terminated, sigterm_interrupts
    try:
        with sigterm_interrupts():  # a scheduler's SIGTERM stops a command as Ctrl-C does (finished work is kept)
            return int(_load(available[args.command]).main(args) or 0)
    except Terminated:
        print('terminated (SIGTERM)', file=sys.stderr)
        return EXIT_CODE
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        if args.debug:
            raise
        print(f'graphite: error: {_message(err)}', file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - a bug: one line unless --debug
        if args.debug:
            raise
        print(f'graphite: internal error: {type(err).__name__}: {_message(err)} (run with --debug for the '
              f'traceback)', file=sys.stderr)
        return 1


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
