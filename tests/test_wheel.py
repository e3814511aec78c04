"""The installed package behaves like a library, not like a checkout.

Builds the wheel (offline: ``pip wheel --no-deps --no-build-isolation`` from a copy of the sources, so no stale
``build/`` folder leaks into it), installs it non-editable into a fresh virtualenv that reuses this environment's
torch / PyG / Optuna through a ``.pth`` file, then runs ``graphite report``, ``graphite run`` and a 2-trial
``graphite tune`` from an empty directory and checks that

* every output lands under that directory (``results/``, ``studies/``) and nothing is written into site-packages;
* the result JSON records the bundled config as ``configs/...``, never a machine's absolute path;
* user errors print one ``graphite: error:`` line (argparse-style usage errors exit 2), no traceback;
* the wheel's top-level import names are exactly ``graphite`` and ``linkpred``.

About a minute; needs pip, setuptools >= 77 (the build backend) and the raw-data mirror (``GRAPHITE_DATA``: Texas).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ('pyproject.toml', 'setup.cfg', 'README.md', 'graphite', 'linkpred')

pytestmark = [pytest.mark.wheel, pytest.mark.data]


def _build_tools_or_skip() -> None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        setuptools = version('setuptools')
        version('pip')
    except PackageNotFoundError as err:
        pytest.skip(f'building the wheel offline needs pip and setuptools in this environment: {err}')
    if int(setuptools.split('.')[0]) < 77:
        pytest.skip(f'pyproject.toml needs setuptools>=77 to build, found {setuptools}')


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)


def _check(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f'{proc.args} exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr}'
    return proc


def _snapshot(folder: Path):
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob('*')}


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """``(venv bin folder, venv site-packages, wheel path)`` of a fresh virtualenv holding the built wheel."""
    _build_tools_or_skip()
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copy2(ROOT / name, src / name)
    dist = tmp / 'dist'
    _check(_run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-q',
                 '-w', dist, src]))
    wheel, = dist.glob('*.whl')
    venv = tmp / 'venv'
    _check(_run([sys.executable, '-m', 'venv', '--without-pip', venv]))
    bindir = venv / ('Scripts' if os.name == 'nt' else 'bin')
    python = bindir / ('python.exe' if os.name == 'nt' else 'python')
    site = Path(_check(_run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'])).stdout
                .strip())
    # reuse this environment's torch, PyG, Optuna, ... (appended after the venv's own site-packages, whose graphite
    # therefore wins; .pth files of the reused folder, e.g. an editable install of graphite, are not processed)
    reused = {sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']}
    (site / '_reuse_test_environment.pth').write_text('\n'.join(sorted(reused)) + '\n')
    _check(_run([sys.executable, '-m', 'pip', '--python', python, 'install', '--no-deps', '--no-index', '-q',
                 wheel]))
    return bindir, site, wheel


def test_wheel_top_level_names(installed):
    _, site, wheel = installed
    record, = site.glob('graphite_gnn-*.dist-info/RECORD')
    tops = {line.split(',')[0].split('/')[0] for line in record.read_text().splitlines() if line}
    assert {t for t in tops if not t.endswith('.dist-info') and t != '..'} == {'graphite', 'linkpred'}
    configs = {p.relative_to(site).as_posix() for p in (site / 'graphite' / 'cli' / 'configs').rglob('*.yaml')}
    assert {'graphite/cli/configs/default/mlp.yaml', 'graphite/cli/configs/linkpred/default.yaml'} <= configs


def test_commands_write_under_the_current_directory_only(installed, data_root, tmp_path):
    bindir, site, _ = installed
    work, home = tmp_path / 'work', tmp_path / 'home'
    work.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'GRAPHITE_HOME', 'GRAPHITE_STUDIES', 'GRAPHITE_ROOT', 'VIRTUAL_ENV')}
    env.update(PATH=f'{bindir}{os.pathsep}{env.get("PATH", "")}', HOME=str(home), GRAPHITE_DATA=data_root,
               OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    graphite = [bindir / 'graphite']
    before = _snapshot(site)

    def cli(*args):
        return _run(graphite + list(args), cwd=work, env=env)

    report = _check(cli('report', '--dataset', 'texas'))
    assert 'feature nodes' in report.stdout
    _check(cli('run', '--dataset', 'texas', '--model', 'mlp', '--splits', '0', '--no-progress'))
    _check(cli('tune', '--dataset', 'texas', '--model', 'mlp', '--splits', '0', '--trials', '2', '--quiet'))

    assert sorted(p.name for p in work.iterdir()) == ['results', 'studies']
    result_text = (work / 'results' / 'texas-mlp.json').read_text()
    result = json.loads(result_text)
    assert result['config_file'] == 'configs/default/mlp.yaml' and len(result['per_split']) == 1
    for machine_path in (str(tmp_path), str(site), sys.prefix):
        assert machine_path not in result_text
    assert (work / 'studies' / 'texas-mlp' / 'journal.log').stat().st_size > 0
    assert _snapshot(site) == before, 'the command line wrote into site-packages'

    usage = cli('run', '--dataset', 'texas', '--model', 'mlp', '--no-such-flag')
    assert usage.returncode == 2 and 'usage: graphite' in usage.stderr
    missing = cli('tune', '--dataset', 'texas', '--model', 'mlp', '--config', 'missing.yaml')
    assert missing.returncode == 1 and 'Traceback' not in missing.stderr
    assert missing.stderr.splitlines()[-1].startswith('graphite: error: ') and 'missing.yaml' in missing.stderr
    module = _run([bindir / 'python', '-m', 'graphite', '--help'], cwd=work, env=env)
    assert _check(module).stdout.startswith('usage: graphite') and 'linkpred' in module.stdout
