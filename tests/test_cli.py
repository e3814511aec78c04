"""The command line as a library: outputs under the current directory or ``$GRAPHITE_HOME``, relative config paths in
results, plug-in subcommands, one-line user errors (``--debug`` for the traceback), and a core that never imports the
command line or :mod:`linkpred`."""
from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from graphite.cli import main as cli
from graphite.cli.config import CONFIG_DIR, config_label, load_config
from graphite.cli.paths import output_root, results_dir, studies_dir

ROOT = Path(__file__).resolve().parents[1]
#: graphite's core: every module except the command line (graphite/cli, graphite/__main__.py)
CORE_EXCLUDED = ('cli', '__main__.py')


def test_outputs_default_to_the_current_directory(tmp_path, monkeypatch):
    from graphite.cli.run_command import default_out
    from graphite.cli.tuning.storage import resolve_storage
    for var in ('GRAPHITE_HOME', 'GRAPHITE_STUDIES'):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    assert output_root() == tmp_path and results_dir() == tmp_path / 'results'
    assert default_out('texas', 'mlp', None) == str(tmp_path / 'results' / 'texas-mlp.json')
    assert resolve_storage(None, 'texas-mlp').location == str(tmp_path / 'studies' / 'texas-mlp' / 'journal.log')
    home = tmp_path / 'home'
    monkeypatch.setenv('GRAPHITE_HOME', str(home))
    assert results_dir() == home / 'results' and studies_dir() == home / 'studies'
    monkeypatch.setenv('GRAPHITE_STUDIES', str(tmp_path / 'elsewhere'))
    assert studies_dir() == tmp_path / 'elsewhere'


def test_results_record_bundled_configs_relative_and_user_paths_as_given(tmp_path, monkeypatch):
    from linkpred.cli.command import load_linkpred_config
    assert load_config('actor', 'graphite')['path'] == 'configs/actor/graphite.yaml'
    assert load_config('texas', 'mlp')['path'] == 'configs/default/mlp.yaml'
    assert load_linkpred_config('cora')['path'] == 'configs/linkpred/cora.yaml'
    assert config_label(str(Path(CONFIG_DIR) / 'linkpred' / 'default.yaml')) == 'configs/linkpred/default.yaml'
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'mine.yaml').write_text('model: mlp\nparams: {lr: 0.1}\n')
    assert load_config('texas', 'mlp', path='mine.yaml')['path'] == 'mine.yaml'
    # how a config was chosen (written by `graphite tune --export`) travels into the result JSON
    (tmp_path / 'sel.yaml').write_text('model: mlp\nselection: {study: s, trials: 3, cpu_hours: 0.5}\n')
    assert load_config('texas', 'mlp', path='sel.yaml')['selection'] == {'study': 's', 'trials': 3, 'cpu_hours': 0.5}
    assert load_config('texas', 'mlp', path='mine.yaml')['selection'] is None


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module or ''
        elif isinstance(node, ast.Call) and getattr(node.func, 'attr', None) == 'import_module' and node.args \
                and isinstance(node.args[0], ast.Constant):
            yield str(node.args[0].value)


def test_core_never_imports_the_command_line_or_linkpred():
    files = [p for p in sorted((ROOT / 'graphite').rglob('*.py'))
             if not set(p.relative_to(ROOT / 'graphite').parts) & set(CORE_EXCLUDED)]
    assert len(files) > 20
    bad = {(str(p.relative_to(ROOT)), m) for p in files for m in _imports(p)
           if m.split('.')[0] == 'linkpred' or m.startswith('graphite.cli')}
    assert not bad


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A plug-in subcommand `hello` (registered like an installed entry point) that raises what it is told to."""
    (tmp_path / 'hello_plugin.py').write_text(
        'HELP = "say hello"\n'
        'def add_arguments(parser):\n'
        '    parser.add_argument("--fail", default=None)\n'
        'def main(args):\n'
        '    import yaml\n'
        '    errors = {"value": ValueError("bad value"), "key": KeyError("no such thing"),\n'
        '              "file": FileNotFoundError("missing.yaml does not exist"), "bug": RuntimeError("oops")}\n'
        '    if args.fail == "yaml":\n'
        '        yaml.safe_load("a: [1,\\n b")\n'
        '    if args.fail:\n'
        '        raise errors[args.fail]\n'
        '    print("hello")\n'
        '    return 0\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, '_entry_points', lambda group: [SimpleNamespace(name='hello', value='hello_plugin')]
                        if group == cli.PLUGIN_GROUP else [])
    yield
    sys.modules.pop('hello_plugin', None)


def test_plugin_subcommands(plugin, capsys, monkeypatch):
    available = cli.commands()
    assert available['hello'] == 'hello_plugin' and available['linkpred'] == 'linkpred.cli.command'
    assert cli.main(['hello']) == 0 and capsys.readouterr().out == 'hello\n'
    monkeypatch.setitem(cli.KNOWN_PLUGINS, 'ghost', 'no_such_package.cli')  # known but not installed: not listed
    assert 'ghost' not in cli.commands()


@pytest.mark.parametrize('fail, message', [
    ('value', 'graphite: error: bad value'),
    ('key', 'graphite: error: no such thing'),
    ('file', 'graphite: error: missing.yaml does not exist'),
    ('yaml', 'graphite: error: while parsing a flow sequence'),
    ('bug', 'graphite: internal error: RuntimeError: oops (run with --debug for the traceback)'),
])
def test_errors_are_one_line_and_tracebacks_need_debug(plugin, capsys, fail, message):
    assert cli.main(['hello', '--fail', fail]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count('\n') == 1
    with pytest.raises(Exception):
        cli.main(['hello', '--fail', fail, '--debug'])
    with pytest.raises(Exception):
        cli.main(['--debug', 'hello', '--fail', fail])


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(['run', '--no-such-flag'])
    assert info.value.code == 2 and 'usage: graphite' in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(['no-such-command'])
    assert info.value.code == 2
