"""``graphite tune`` against a real PostgreSQL server (the multi-host setup: every worker joins one database).

Needs ``GRAPHITE_TEST_POSTGRES_URL`` (``.ci/run`` starts PostgreSQL on loopback and exports it); skipped, saying
why, when it is unset or the server does not answer. Each test uses a fresh study name, so the database can be
shared between runs.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from graphite.cli import tuning
from graphite.cli.tuning.storage import open_storage, resolve_storage

from test_tune import ROOT, TESTS, check_killed_worker_recovery, make_spec, standin_value

pytestmark = pytest.mark.postgres
URL = os.environ.get('GRAPHITE_TEST_POSTGRES_URL')


@pytest.fixture(scope='module')
def postgres_url():
    if not URL:
        pytest.skip('GRAPHITE_TEST_POSTGRES_URL is not set: no PostgreSQL server was started (.ci/run starts one '
                    'on loopback when postgresql is installable)')
    import sqlalchemy
    try:
        engine = sqlalchemy.create_engine(resolve_storage(URL, 'probe').location)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text('select 1'))
        engine.dispose()
    except Exception as err:  # noqa: BLE001 - any connection problem means: no server to test against
        pytest.skip(f'PostgreSQL at {resolve_storage(URL, "probe").display} is not reachable: {err}')
    return URL


def test_two_hosts_share_one_postgres_study(postgres_url, tmp_path, monkeypatch):
    """Two independent `graphite tune` commands (as on two machines, one with 2 worker processes), one study."""
    monkeypatch.setenv('GRAPHITE_STUDIES', str(tmp_path / 'studies'))
    name = f'pg-{uuid.uuid4().hex[:10]}'
    cfg = tmp_path / 'cfg.yaml'
    import yaml
    from test_tune import CONFIG
    cfg.write_text(yaml.safe_dump(CONFIG))
    env = dict(os.environ, PYTHONPATH=f'{TESTS}{os.pathsep}{ROOT}', OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-m', 'graphite', 'tune', '--dataset', 'toy', '--objective',
           'test_tune:standin_objective', '--config', str(cfg), '--trials', '12',
           '--storage', postgres_url, '--study', name, '--quiet', '--no-plots', '--no-pruning']
    hosts = [subprocess.Popen(cmd + ['--workers', str(w)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for w in (2, 1)]
    outs = [h.communicate(timeout=180) for h in hosts]
    for h, (out, err) in zip(hosts, outs):
        assert h.returncode == 0, err
        assert 'password' not in err.replace('hide_password', '') and 'graphite:graphite@' not in err
    study = optuna.load_study(study_name=name, storage=open_storage(resolve_storage(postgres_url, name)))
    trials = study.get_trials()
    # 3 workers race on the count check between trials: at most 2 extra trials
    assert 12 <= len(trials) <= 14 and all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert len({t.user_attrs['worker'] for t in trials}) >= 2  # trials really spread over the processes
    assert len({tuple(sorted(t.params.items())) for t in trials}) == len(trials)  # hosts do not repeat proposals
    for t in trials:
        assert t.value == pytest.approx(standin_value(t.params))
    assert study.user_attrs['identity']['dataset'] == 'toy'


def test_killed_worker_on_postgres_fails_by_rdb_heartbeat(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHITE_STUDIES', str(tmp_path / 'studies'))
    check_killed_worker_recovery(postgres_url, f'pg-kill-{uuid.uuid4().hex[:10]}', tmp_path,
                                 {'GRAPHITE_STUDIES': str(tmp_path / 'studies')}, explicit_fail=True)


def test_in_process_tune_and_resume_on_postgres(postgres_url, monkeypatch, tmp_path):
    monkeypatch.setenv('GRAPHITE_STUDIES', str(tmp_path / 'studies'))
    name = f'pg-resume-{uuid.uuid4().hex[:10]}'
    tuning.tune(make_spec(name, n_trials=3, storage=postgres_url, seed=2), progress=False)
    study = tuning.tune(make_spec(name, n_trials=5, storage=postgres_url, seed=2), progress=False)
    trials = study.get_trials()
    assert len(trials) == 5 and [t.user_attrs['seed'] for t in trials] == [2 + i for i in range(5)]
    assert all(t.value == pytest.approx(standin_value(t.params)) for t in trials)
    written = tuning.write_plots(study, tmp_path / 'plots')
    assert (tmp_path / 'plots' / 'optimization_history.png').read_bytes()[:4] == b'\x89PNG'
    assert set(written) >= {'optimization_history.png', 'param_importances.png'}
