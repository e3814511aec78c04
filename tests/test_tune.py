"""Tests of ``graphite tune`` (graphite.cli.tuning, graphite.cli.tuning.search_space, graphite.cli.tuning.storage).

Most tests use a stand-in objective with a closed-form validation score (:func:`standin_objective`), so the
oracle for every trial value is that formula evaluated on the trial's params, independently of the tuner.
The dead-worker test runs a real ``graphite tune`` subprocess, kills it with SIGKILL in the middle of a trial,
and checks the heartbeat marks that trial FAIL while the finished trials survive. One data-marked test runs the
real runner end to end on Cornell.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import yaml
from optuna.trial import TrialState

from graphite.cli import tuning
from graphite.cli.tuning.search_space import SearchSpace
from graphite.cli.tuning.storage import (HeartbeatJournalStorage, fail_stale_trials, open_storage,
                                         resolve_storage)

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

CONFIG = {
    'dataset': 'toy', 'model': 'standin', 'transform': None,
    'params': {'x': 0.0, 'n': 1, 'c': 'a', 'fixed': 7},
    'search': {
        'x': {'type': 'float', 'low': -4.0, 'high': 4.0},
        'n': {'type': 'int', 'low': 0, 'high': 8},
        'c': {'type': 'categorical', 'choices': ['a', 'b']},
    },
}
STEPS = 10


def standin_value(params) -> float:
    """Closed-form validation score of the stand-in objective (the test oracle)."""
    return -(params['x'] - 1.0) ** 2 - 0.1 * abs(params['n'] - 3) + (0.5 if params['c'] == 'b' else 0.0)


def standin_objective(params, seed, on_eval):
    """Stand-in for ``graphite.cli.runner.run``: STEPS evaluations converging to :func:`standin_value`.

    ``fixed`` must arrive untouched (the tuner merges sampled values into the config params). Trials with
    ``seed >= STANDIN_SLOW_FROM`` (environment variable) sleep ``STANDIN_SLEEP`` seconds per step: the dead-worker
    test uses this to be sure a trial is running when the worker is killed.
    """
    assert params['fixed'] == 7
    slow = seed >= int(os.environ.get('STANDIN_SLOW_FROM', '1000000'))
    value = standin_value(params)
    for step in range(STEPS):
        on_eval(step, value - 1.0 / (step + 1))
        if slow:
            time.sleep(float(os.environ.get('STANDIN_SLEEP', '0')))
    return {'val_mean': value, 'mean': value - 10.0, 'std': 0.5, 'metric': 'score', 'seconds': 0.25}


@pytest.fixture
def studies(tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHITE_STUDIES', str(tmp_path / 'studies'))
    return tmp_path / 'studies'


def make_spec(name='toy', n_trials=8, storage=None, **kw):
    kw.setdefault('objective', 'test_tune:standin_objective')
    return tuning.TuneSpec(config=CONFIG, study_name=name, storage=resolve_storage(storage, name), n_trials=n_trials,
                           **kw)


def load(name, storage=None):
    return optuna.load_study(study_name=name, storage=open_storage(resolve_storage(storage, name)))


# ---------------------------------------------------------------------------------------------------------- search
def test_search_space_matches_optuna_distributions():
    space = SearchSpace({
        'lr': {'type': 'float', 'low': 1e-4, 'high': 1e-1, 'log': True},
        'dropout': {'type': 'float', 'low': 0.0, 'high': 0.8, 'step': 0.1},
        'layers': {'type': 'int', 'low': 1, 'high': 9, 'step': 2},
        'hidden': {'type': 'int', 'low': 16, 'high': 512, 'log': True},
        'act': {'type': 'categorical', 'choices': ['relu', 'gelu', None]},
    }, params={'lr': 0.01, 'dropout': 0.5, 'layers': 2, 'hidden': 64, 'act': 'relu'})
    d = optuna.distributions
    assert space.distributions == {
        'lr': d.FloatDistribution(1e-4, 1e-1, log=True),
        'dropout': d.FloatDistribution(0.0, 0.8, step=0.1),
        'layers': d.IntDistribution(1, 9, step=2),
        'hidden': d.IntDistribution(16, 512, log=True),
        'act': d.CategoricalDistribution(['relu', 'gelu', None]),
    }
    # sampled values lie in the declared sets
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        values = space.suggest(study.ask())
        assert 1e-4 <= values['lr'] <= 1e-1
        assert values['layers'] in (1, 3, 5, 7, 9)
        assert 16 <= values['hidden'] <= 512
        assert abs(values['dropout'] * 10 - round(values['dropout'] * 10)) < 1e-9
        assert values['act'] in ('relu', 'gelu', None)


@pytest.mark.parametrize('entry, error, message', [
    ({'type': 'uniform', 'low': 0, 'high': 1}, ValueError, "unknown type 'uniform'"),
    ({'type': 'float', 'low': 1.0, 'high': 0.5}, ValueError, 'low (1.0) > high (0.5)'),
    ({'type': 'float', 'low': 0.0, 'high': 1.0, 'log': True}, ValueError, 'log scale needs low > 0'),
    ({'type': 'int', 'low': -1, 'high': 4, 'log': True}, ValueError, 'log scale needs low > 0'),
    ({'type': 'float', 'low': 0.1, 'high': 1.0, 'log': True, 'step': 0.1}, ValueError, 'cannot be combined'),
    ({'type': 'float', 'low': 0.0, 'high': 1.0, 'step': 0}, ValueError, '`step` must be a positive number'),
    ({'type': 'float', 'high': 1.0}, ValueError, 'needs `low`'),
    ({'type': 'float', 'low': 'a', 'high': 1.0}, TypeError, '`low` must be a finite number'),
    ({'type': 'int', 'low': 0.5, 'high': 4}, TypeError, 'integer `low`'),
    ({'type': 'float', 'low': 0, 'high': 1, 'log': 'yes'}, TypeError, '`log` must be true or false'),
    ({'type': 'float', 'low': 0, 'high': 1, 'choices': [1]}, ValueError, 'unknown key(s) choices'),
    ({'type': 'categorical', 'choices': []}, ValueError, 'non-empty list `choices`'),
    ({'type': 'categorical', 'choices': ['a', 'a']}, ValueError, 'duplicate'),
    ({'type': 'categorical', 'choices': [[1, 2]]}, TypeError, 'choices must be null'),
    ('0.1', TypeError, 'expected a mapping'),
])
def test_search_space_rejects_bad_entries(entry, error, message):
    with pytest.raises(error) as info:
        SearchSpace({'p': entry}, source='cfg.yaml')
    assert message in str(info.value) and "'p'" in str(info.value) and 'cfg.yaml' in str(info.value)


def test_search_space_same_as_ties_values_and_export():
    # FAGCN ties its dropouts; a GraphiteNet space that contains FAGCN's must tie input_dropout to dropout
    spec = {'dropout': {'type': 'float', 'low': 0.0, 'high': 0.8, 'step': 0.1},
            'input_dropout': {'same_as': 'dropout'}}
    space = SearchSpace(spec, params={'dropout': 0.5, 'input_dropout': 0.5})
    assert list(space.distributions) == ['dropout'] and len(space) == 2
    assert list(space.names()) == ['dropout', 'input_dropout']
    study = optuna.create_study(direction='maximize', sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(10):
        trial = study.ask()
        values = space.suggest(trial)
        assert values['input_dropout'] == values['dropout'] and set(trial.params) == {'dropout'}
        seen.add(values['dropout'])
        study.tell(trial, values['dropout'])
    assert len(seen) > 1
    from graphite.cli.tuning.summary import best_config
    out = best_config(study, {'model': 'gcn', 'params': {'dropout': 0.5, 'input_dropout': 0.1}, 'search': spec})
    assert out['params']['input_dropout'] == out['params']['dropout'] == pytest.approx(max(seen))
    for bad, message in [({'same_as': 'lr'}, 'which is not a searched parameter'),
                         ({'same_as': 'dropout', 'type': 'float'}, '`same_as` takes no other keys')]:
        with pytest.raises(ValueError, match=message):
            SearchSpace({**spec, 'input_dropout': bad})


def test_search_space_names_must_be_params():
    with pytest.raises(KeyError, match="'typo' is searched but is not one of the config params"):
        SearchSpace({'typo': {'type': 'float', 'low': 0, 'high': 1}}, params={'lr': 0.1})
    with pytest.raises(ValueError, match='empty'):
        SearchSpace({})


# --------------------------------------------------------------------------------------------------------- storage
def test_resolve_storage(studies, tmp_path):
    spec = resolve_storage(None, 'actor-gcn')
    assert spec.kind == 'journal' and Path(spec.location) == studies / 'actor-gcn' / 'journal.log'
    assert spec.artifacts == studies / 'actor-gcn'
    spec = resolve_storage(f'journal:{tmp_path}/x.log', 's')
    assert spec.kind == 'journal' and spec.location == str(tmp_path / 'x.log')
    spec = resolve_storage('postgresql://u:secret@db.example:5432/g', 's')
    assert spec.kind == 'rdb' and spec.location.startswith('postgresql+psycopg') and 'secret' in spec.location
    assert 'secret' not in spec.display and 'secret' not in spec.dashboard_command()
    assert resolve_storage('sqlite:///t.db', 's').location == 'sqlite:///t.db'
    with pytest.raises(ValueError, match="unsupported --storage scheme 'redis'"):
        resolve_storage('redis://localhost', 's')
    with pytest.raises(ValueError, match='is a directory'):
        resolve_storage(str(tmp_path), 's')
    with pytest.raises(ValueError, match='invalid study name'):
        resolve_storage(None, 'a/b')


def test_journal_heartbeat_marks_only_silent_running_trials(tmp_path):
    """Heartbeat protocol on the journal storage, driven by hand with a controllable clock (oracle: timestamps)."""
    from optuna.storages.journal import JournalFileBackend
    storage = HeartbeatJournalStorage(JournalFileBackend(str(tmp_path / 'j.log')), heartbeat_interval=1,
                                      grace_period=5)
    study = optuna.create_study(storage=storage, study_name='hb')
    with pytest.warns(UserWarning):  # Optuna warns that heartbeats are meant for optimize(); fine for a unit test
        alive, dead, silent, done = (study.ask() for _ in range(4))
    study.tell(done, 1.0)
    for t in (alive, dead, done):
        storage.record_heartbeat(t._trial_id)  # `done` is finished: recording must be a no-op, not an error
    trials = {t.number: t for t in study.get_trials()}
    assert storage.HEARTBEAT_KEY not in trials[done.number].system_attrs
    # age `dead`'s heartbeat by 6 s (> grace 5): rewrite it in the journal as another worker would have
    storage.set_trial_system_attr(dead._trial_id, storage.HEARTBEAT_KEY, time.time() - 6)
    assert fail_stale_trials(study) == [dead.number]
    states = {t.number: t.state for t in study.get_trials()}
    assert states == {alive.number: TrialState.RUNNING, dead.number: TrialState.FAIL,
                      silent.number: TrialState.RUNNING, done.number: TrialState.COMPLETE}
    # a new process sees the same thing by replaying the journal
    other = optuna.load_study(study_name='hb', storage=open_storage(resolve_storage(str(tmp_path / 'j.log'), 'hb')))
    assert [t.state for t in other.get_trials()] == [states[i] for i in range(4)]
    with pytest.raises(ValueError, match='heartbeat_interval must be a positive integer'):
        HeartbeatJournalStorage(JournalFileBackend(str(tmp_path / 'k.log')), heartbeat_interval=0)


# ------------------------------------------------------------------------------------------------------- the search
def test_tune_records_validation_objective_and_attrs(studies):
    spec = make_spec(n_trials=12, seed=5, pruning=False)
    study = tuning.tune(spec, workers=1, progress=False)
    trials = study.get_trials()
    assert len(trials) == 12 and all(t.state == TrialState.COMPLETE for t in trials)
    for t in trials:
        # the value optimised is the validation score of the sampled params, never the test score
        assert t.value == pytest.approx(standin_value(t.params))
        assert t.user_attrs['test_mean'] == pytest.approx(t.value - 10.0)
        assert t.user_attrs['seed'] == 5 + t.number
        assert t.user_attrs['seconds'] == 0.25 and t.user_attrs['metric'] == 'score'
        assert set(t.params) == {'x', 'n', 'c'}
        assert sorted(t.intermediate_values) == list(range(STEPS))
    assert study.best_value == max(t.value for t in trials)
    summary = tuning.summarize(study)
    best = study.best_trial
    assert f'best trial #{best.number}: validation score {best.value:.4f}' in summary
    assert f'test score {best.value - 10:.4f}' in summary


def test_same_seed_same_trials_and_resume_counts_toward_total(studies):
    first = [t.params for t in tuning.tune(make_spec('a', n_trials=6, seed=1), progress=False).trials]
    assert first == [t.params for t in tuning.tune(make_spec('b', n_trials=6, seed=1), progress=False).trials]
    assert len({tuple(sorted(p.items())) for p in first}) == 6
    # resume: same command with a larger total runs only the missing trials and proposes new points
    tuning.tune(make_spec('a', n_trials=9, seed=1), progress=False)
    c = load('a')
    assert len(c.trials) == 9 and [t.params for t in c.trials[:6]] == first
    assert all(t.params not in first for t in c.trials[6:])
    tuning.tune(make_spec('a', n_trials=9, seed=1), progress=False)  # already complete: runs nothing
    assert len(load('a').trials) == 9


def test_resume_refuses_a_different_objective(studies):
    tuning.tune(make_spec('s', n_trials=2), progress=False)
    with pytest.raises(ValueError, match="created for a different objective.*'splits'"):
        tuning.tune(make_spec('s', n_trials=4, splits=[0, 1]), progress=False)
    other = dict(CONFIG, params=dict(CONFIG['params'], fixed=8))
    spec = tuning.TuneSpec(config=other, study_name='s', storage=resolve_storage(None, 's'), n_trials=4,
                           objective='test_tune:standin_objective')
    with pytest.raises(ValueError, match='base_params'):
        tuning.tune(spec, progress=False)


def test_median_pruning_decisions(studies):
    """Every pruning decision checked against the median rule computed here with numpy."""
    spec = make_spec('p', n_trials=20, seed=0, n_startup_trials=5)
    study = tuning.tune(spec, progress=False)
    trials = study.get_trials()
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, 'the stand-in has clearly bad regions: some trials must be pruned'
    for t in trials:
        earlier = [u for u in trials if u.number < t.number and u.state == TrialState.COMPLETE]
        last = max(t.intermediate_values)
        for step in sorted(t.intermediate_values):
            best_so_far = max(v for s, v in t.intermediate_values.items() if s <= step)
            if len(earlier) < 5:
                should = False
            else:
                median = np.nanmedian([u.intermediate_values[step] for u in earlier])
                should = best_so_far < median
            if step < last:
                assert not should, f'trial {t.number} should have been pruned at step {step}'
            elif t.state == TrialState.PRUNED:
                assert should, f'trial {t.number} was pruned at step {step} against the median rule'
            else:
                assert not should and t.state == TrialState.COMPLETE
    # a pruned trial's time is recorded too (it is part of the search budget)
    assert all(t.user_attrs['seconds'] >= 0 and t.user_attrs['threads'] == 1 for t in pruned)
    # --no-pruning: nothing pruned
    study = tuning.tune(make_spec('q', n_trials=10, seed=0, pruning=False), progress=False)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_search_budget_counts_every_trial_by_its_wall_clock_time():
    """The selection record's CPU-hours: wall-clock x threads of every trial, pruned and failed ones included (a
    study of ours once reported 0.32 CPU-h for 0.47 spent, counting complete trials only)."""
    import datetime
    from graphite.cli.tuning.summary import selection_record
    study = optuna.create_study(direction='maximize')
    t0 = datetime.datetime(2026, 12, 6, 5, 0, 0)
    dist = {'x': optuna.distributions.FloatDistribution(-4.0, 4.0)}
    for number, (state, secs, attrs) in enumerate([
            (TrialState.COMPLETE, 10, {'seconds': 8.0, 'threads': 1, 'metric': 'score'}),
            (TrialState.PRUNED, 30, {'threads': 2}),              # no training seconds recorded (older studies)
            (TrialState.FAIL, 5, {})]):
        study.add_trial(optuna.trial.FrozenTrial(
            number=number, state=state, value=0.5 if state == TrialState.COMPLETE else None, datetime_start=t0,
            datetime_complete=t0 + datetime.timedelta(seconds=secs), params={'x': 0.0}, distributions=dist,
            user_attrs=attrs, system_attrs={}, intermediate_values={0: 0.1}, trial_id=number))
    record = selection_record(study)
    assert record['trials'] == 3 and record['complete_trials'] == 1
    assert record['cpu_hours'] == round((10 + 2 * 30 + 5) / 3600, 3)


def test_report_schedule_and_warmup_follow_the_training_schedule(studies):
    def spec_for(**params):
        config = dict(CONFIG, params={**CONFIG['params'], **params})
        return tuning.TuneSpec(config=config, study_name='r', storage=resolve_storage(None, 'r'), n_trials=1,
                               objective='test_tune:standin_objective')
    # ~20 reports per split, always at evaluated steps (multiples of eval_every); warm-up = a quarter split
    for epochs, every, report, warmup in ((1000, 1, 50, 250), (100, 5, 5, 25), (500, 3, 24, 125), (10, 1, 1, 2)):
        spec = spec_for(epochs=epochs, eval_every=every)
        assert (spec.report_every, spec.n_warmup_steps) == (report, warmup)
        assert spec.report_every % every == 0
    assert (make_spec().report_every, make_spec().n_warmup_steps) == (1, 0)  # no schedule known: every step
    # reports really are thinned: the stand-in evaluates steps 0..9, report_every=3 keeps 0, 3, 6, 9
    study = tuning.tune(make_spec('thin', n_trials=2, report_every=3), progress=False)
    assert all(sorted(t.intermediate_values) == [0, 3, 6, 9] for t in study.trials)


def test_two_worker_processes_share_one_journal(studies, monkeypatch):
    monkeypatch.setenv('STANDIN_SLOW_FROM', '0')  # 0.5 s per trial: the spawned worker starts before the end
    monkeypatch.setenv('STANDIN_SLEEP', '0.05')
    spec = make_spec('w', n_trials=16, pruning=False)
    study = tuning.tune(spec, workers=2, progress=False)
    trials = load('w').get_trials()
    assert len(trials) >= 16 and len(trials) <= 17  # the count check between trials may race by one
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    workers = {t.user_attrs['worker'] for t in trials}
    assert len(workers) == 2 and str(os.getpid()) in {w.split(':')[1] for w in workers}  # this process is worker 0
    assert len({tuple(sorted(t.params.items())) for t in trials}) == len(trials)  # no duplicated proposals
    assert study.best_value == pytest.approx(max(standin_value(t.params) for t in trials))


def _wait_for_trials(proc, name, storage, seconds, what, ready):
    """Poll study ``name`` while the `graphite tune` subprocess ``proc`` runs until ``ready(trials)``; returns them."""
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, what
        try:
            trials = optuna.load_study(study_name=name, storage=storage).get_trials()
        except KeyError:
            trials = []
        if ready(trials):
            return trials
        time.sleep(0.2)


def _kill_worker_midtrial(storage_arg, name, env_extra, tmp_path):
    """Start `graphite tune` in a subprocess, SIGKILL it while trial #3 runs; return the study."""
    cfg = tmp_path / 'cfg.yaml'
    cfg.write_text(yaml.safe_dump(CONFIG))
    env = dict(os.environ, PYTHONPATH=f'{TESTS}{os.pathsep}{ROOT}', STANDIN_SLOW_FROM='3', STANDIN_SLEEP='5',
               OMP_NUM_THREADS='1', **env_extra)
    cmd = [sys.executable, '-m', 'graphite', 'tune', '--dataset', 'toy', '--objective',
           'test_tune:standin_objective', '--config', str(cfg), '--trials', '6', '--study', name, '--no-pruning',
           '--heartbeat-interval', '1', '--grace-period', '2', '--quiet', '--no-plots']
    if storage_arg:
        cmd += ['--storage', storage_arg]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    storage = open_storage(resolve_storage(storage_arg, name), heartbeat_interval=1, grace_period=2)
    try:
        _wait_for_trials(proc, name, storage, 60, 'trial #3 never started',
                         lambda trials: len(trials) == 4 and trials[3].state == TrialState.RUNNING and trials[3].params)
        time.sleep(1.5)  # at least one heartbeat written by the worker's heartbeat thread
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return optuna.load_study(study_name=name, storage=storage), cmd, env


def check_killed_worker_recovery(storage_arg, name, tmp_path, env_extra=None, explicit_fail=True):
    """SIGKILL a worker mid-trial; its trial ends FAIL (explicit fail_stale_trials, or the next run of the
    command); finished trials keep their values; re-running the command completes the requested total."""
    study, cmd, env = _kill_worker_midtrial(storage_arg, name, env_extra or {}, tmp_path)
    before = study.get_trials()
    assert [t.state for t in before] == [TrialState.COMPLETE] * 3 + [TrialState.RUNNING]
    values = [t.value for t in before[:3]]
    assert values == [pytest.approx(standin_value(t.params)) for t in before[:3]]
    time.sleep(2.5)  # > grace period since the last heartbeat
    if not explicit_fail:  # --summary-only names the orphaned trial and writes nothing
        look = subprocess.run(cmd + ['--summary-only'], env=env, capture_output=True, text=True, timeout=120)
        assert look.returncode == 0, look.stderr
        assert '1 running trial(s) without a heartbeat for 2 s, their worker is gone: #3' in look.stderr
        assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE] * 3 + [TrialState.RUNNING]
    if explicit_fail:
        assert fail_stale_trials(study) == [3]
        assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE] * 3 + [TrialState.FAIL]
    # a new worker resumes: the failed trial does not count toward the total of 6
    out = subprocess.run(cmd, env=dict(env, STANDIN_SLOW_FROM='1000000'), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    if not explicit_fail:
        assert 'marked 1 stale trial(s) FAIL' in out.stderr and '#3' in out.stderr
    final = study.get_trials()
    assert final[3].state == TrialState.FAIL and len(final) == 7
    assert [t.state for t in final].count(TrialState.COMPLETE) == 6
    assert [t.value for t in final[:3]] == values
    assert f'best trial #{study.best_trial.number}' in out.stdout


def test_killed_worker_trial_fails_by_heartbeat_and_resume_completes(studies, tmp_path):
    """Journal storage: the next `graphite tune` run itself fails the stale trial (no explicit call)."""
    check_killed_worker_recovery(None, 'killed', tmp_path, {'GRAPHITE_STUDIES': str(studies)}, explicit_fail=False)


def _two_worker_tune(tmp_path, studies, name, trials, slow_from, sleep, **popen):
    """Start `graphite tune --workers 2` on the stand-in objective in a subprocess (trials from seed ``slow_from``
    sleep ``sleep`` s per step); returns the process, its command, environment and the study's storage."""
    cfg = tmp_path / 'cfg.yaml'
    cfg.write_text(yaml.safe_dump(CONFIG))
    env = dict(os.environ, PYTHONPATH=f'{TESTS}{os.pathsep}{ROOT}', STANDIN_SLOW_FROM=str(slow_from),
               STANDIN_SLEEP=str(sleep), OMP_NUM_THREADS='1', GRAPHITE_STUDIES=str(studies))
    cmd = [sys.executable, '-m', 'graphite', 'tune', '--dataset', 'toy', '--objective', 'test_tune:standin_objective',
           '--config', str(cfg), '--trials', str(trials), '--study', name, '--no-pruning', '--workers', '2', '--quiet',
           '--no-plots']
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)
    return proc, cmd, env, open_storage(resolve_storage(None, name))


@pytest.mark.parametrize('whole_job', [True, False])
def test_sigterm_to_the_job_records_running_trials_fail_and_resume_completes(studies, tmp_path, whole_job):
    """SIGTERM to a 2-worker `graphite tune` and its worker process (as a scheduler stops a job), or to its main
    process only (`kill PID`), while slow trials run: it exits with 143 at once, no trial is left RUNNING (no heartbeat
    grace period to wait for), each stopped trial is FAIL with its cost recorded, the finished trials keep their
    values, and re-running completes the study."""
    proc, cmd, env, storage = _two_worker_tune(tmp_path, studies, 'termed', 6, slow_from=2, sleep=5,
                                               start_new_session=True)
    try:
        trials = _wait_for_trials(proc, 'termed', storage, 90, 'the slow trials never started', lambda trials: len(
            [t for t in trials if t.state == TrialState.RUNNING and t.intermediate_values]) == 2)
        running = [t for t in trials if t.state == TrialState.RUNNING]
        if whole_job:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 143
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
    assert 'terminated (SIGTERM)' in err
    trials = optuna.load_study(study_name='termed', storage=storage).get_trials()
    stopped = [t for t in trials if t.state == TrialState.FAIL]
    assert not [t for t in trials if t.state == TrialState.RUNNING]  # the worker process recorded its trial too
    assert sorted(t.number for t in stopped) == sorted(t.number for t in running)
    assert all(t.user_attrs['seconds'] > 0 for t in stopped)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert done and all(t.value == pytest.approx(standin_value(t.params)) for t in done)
    out = subprocess.run(cmd, env=dict(env, STANDIN_SLOW_FROM='1000000'), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'stale' not in out.stderr  # nothing was left RUNNING for the heartbeat check
    final = optuna.load_study(study_name='termed', storage=storage).get_trials()
    assert [t.state for t in final].count(TrialState.COMPLETE) == 6
    assert [t.value for t in final if t.number in {d.number for d in done}] == [t.value for t in done]


@pytest.mark.skipif(not Path('/proc/self/status').is_file(), reason='reads process states from /proc (Linux)')
def test_workers_of_a_sigkilled_tune_stop_after_their_running_trial(studies, tmp_path):
    """A main process killed outright (SIGKILL: no chance to stop its workers) does not leave a spawned worker
    running trials on its own: the worker finishes the trial it is running and starts no other."""
    proc, _, _, storage = _two_worker_tune(tmp_path, studies, 'orphan', 40, slow_from=0, sleep=0.3)
    try:
        trials = _wait_for_trials(proc, 'orphan', storage, 90, 'two workers never ran at once', lambda trials: len(
            {t.user_attrs.get('worker') for t in trials if t.state == TrialState.RUNNING} - {None}) == 2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    other = {int(t.user_attrs['worker'].split(':')[1]) for t in trials if t.state == TrialState.RUNNING} - {proc.pid}
    (pid,) = other

    def gone():
        try:
            return Path(f'/proc/{pid}/status').read_text().split('State:')[1].split()[0] in ('Z', 'X')
        except (FileNotFoundError, IndexError):
            return True
    deadline = time.monotonic() + 30  # one trial: 10 steps of 0.3 s
    while not gone():
        assert time.monotonic() < deadline, 'the orphaned worker went on running trials'
        time.sleep(0.2)
    after = optuna.load_study(study_name='orphan', storage=storage).get_trials()
    mine = [t for t in after if t.user_attrs.get('worker', '').endswith(f':{pid}')]
    assert mine and max(t.number for t in mine) <= max(t.number for t in trials)  # no trial started after the kill
    assert len(after) < 40


# --------------------------------------------------------------------------------------------------------- results
def test_export_plots_and_cli(studies, tmp_path, capsys):
    from graphite.cli.main import main
    cfg = tmp_path / 'cfg.yaml'
    cfg.write_text(yaml.safe_dump(CONFIG))
    best = tmp_path / 'out' / 'best.yaml'
    sys.path.insert(0, str(TESTS))
    try:
        code = main(['tune', '--dataset', 'toy', '--objective', 'test_tune:standin_objective', '--config', str(cfg),
                     '--trials', '10', '--export', str(best), '--quiet', '--seed', '3'])
    finally:
        sys.path.remove(str(TESTS))
    assert code == 0
    out = capsys.readouterr().out
    study = load('toy-standin')
    assert len(study.trials) == 10 and 'best trial #' in out
    exported = yaml.safe_load(best.read_text())
    assert exported['params'] == {**CONFIG['params'], **study.best_params}
    assert exported['search'] == CONFIG['search'] and exported['dataset'] == 'toy'
    assert f'#{study.best_trial.number}' in exported['description']
    sel = exported['selection']  # graphite run copies it into the result JSON
    assert sel['study'] == 'toy-standin' and sel['trials'] == 10 and sel['best_trial'] == study.best_trial.number
    assert sel['cpu_hours'] == pytest.approx(10 * 0.25 / 3600, abs=1e-3) and 'validation' in sel['objective']
    assert not list(best.parent.glob('.*'))  # atomic write left no temp file
    for name in ('optimization_history', 'param_importances'):
        png = studies / 'toy-standin' / f'{name}.png'
        assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and png.stat().st_size > 5000
        html = studies / 'toy-standin' / f'{name}.html'
        if importlib.util.find_spec('plotly') is not None:
            assert html.stat().st_size > 1000
        else:  # HTML plots need plotly (extra `plots`); without it only the PNGs are written
            assert not html.exists()
    assert "optuna-dashboard '" in out
    # --summary-only trains nothing, so it summarises the study whatever objective options it is given
    sys.path.insert(0, str(TESTS))
    try:
        assert main(['tune', '--dataset', 'toy', '--objective', 'test_tune:standin_objective', '--config', str(cfg),
                     '--splits', '0', '1', '--summary-only', '--no-plots']) == 0
    finally:
        sys.path.remove(str(TESTS))
    assert f'best trial #{study.best_trial.number}' in capsys.readouterr().out


def test_enqueue_evaluates_given_configs_first_and_only_once(studies, tmp_path, capsys):
    """--enqueue: an earlier winner (a config file) is trial #0 with exactly its values, counts toward --trials,
    and is not enqueued again on resume; values outside the space or missing ones are clear errors."""
    from graphite.cli.main import main
    cfg = tmp_path / 'cfg.yaml'
    cfg.write_text(yaml.safe_dump(CONFIG))
    winner = tmp_path / 'winner.yaml'
    winner.write_text(yaml.safe_dump({**CONFIG, 'params': {**CONFIG['params'], 'x': 1.0, 'n': 3, 'c': 'b'}}))
    argv = ['tune', '--dataset', 'toy', '--objective', 'test_tune:standin_objective', '--config', str(cfg),
            '--enqueue', str(winner), '--quiet', '--no-plots']
    sys.path.insert(0, str(TESTS))
    try:
        assert main(argv + ['--trials', '3']) == 0
        assert 'enqueued 1 configuration(s)' in capsys.readouterr().err
        assert main(argv + ['--trials', '4']) == 0  # resumed: the winner is already in the study
        assert 'enqueued 0 configuration(s)' in capsys.readouterr().err
    finally:
        sys.path.remove(str(TESTS))
    study = load('toy-standin')
    first = study.trials[0]
    assert first.params == {'x': 1.0, 'n': 3, 'c': 'b'} and first.user_attrs['enqueued_from'] == str(winner)
    assert first.value == pytest.approx(standin_value(first.params)) == study.best_value  # the oracle's optimum
    assert len(study.trials) == 4 and sum(t.params == first.params for t in study.trials) == 1
    space = SearchSpace(CONFIG['search'], CONFIG['params'])
    with pytest.raises(ValueError, match=r"x=9\.0 is outside the search space"):
        space.values_of({'x': 9.0, 'n': 1, 'c': 'a'}, 'w.yaml')
    with pytest.raises(ValueError, match="c='z' is outside"):
        space.values_of({'x': 0.0, 'n': 1, 'c': 'z'}, 'w.yaml')
    with pytest.raises(KeyError, match="no value for the searched parameter 'n'"):
        space.values_of({'x': 0.0, 'c': 'a'}, 'w.yaml')
    tied = SearchSpace({'d': {'type': 'float', 'low': 0.0, 'high': 1.0}, 'e': {'same_as': 'd'}})
    assert tied.values_of({'d': 0.5, 'e': 0.5}) == {'d': 0.5}
    with pytest.raises(ValueError, match='ties it to'):
        tied.values_of({'d': 0.5, 'e': 0.2})


def test_cli_errors(studies, tmp_path, capsys):
    """User errors: one line `graphite: error: ...` and exit code 1; the exception itself with --debug."""
    from graphite.cli.main import main

    def fails(argv, pattern):
        assert main(argv) == 1
        err = capsys.readouterr().err
        last = err.splitlines()[-1]  # after the `study ... in ...` progress line, if any
        assert last.startswith('graphite: error: ') and re.search(pattern, last) and 'Traceback' not in err, err

    cfg = tmp_path / 'cfg.yaml'
    bad_search = {'x': {'type': 'float', 'low': 0.0, 'high': 1.0, 'log': True}}
    cfg.write_text(yaml.safe_dump(dict(CONFIG, search=bad_search)))
    argv = ['tune', '--dataset', 'toy', '--objective', 'test_tune:standin_objective', '--config', str(cfg)]
    fails(argv, "parameter 'x': log scale needs low > 0")
    with pytest.raises(ValueError, match="parameter 'x': log scale needs low > 0"):
        main(argv + ['--debug'])
    good = tmp_path / 'good.yaml'
    good.write_text(yaml.safe_dump(CONFIG))
    fails(['tune', '--dataset', 'toy', '--objective', 'test_tune:standin_objective', '--config', str(good),
           '--study', 'nope', '--summary-only'], "no study 'nope'.*run without --summary-only first")
    assert not (studies / 'nope').exists()  # reading a missing study creates no journal
    fails(['tune', '--dataset', 'other', '--objective', 'test_tune:standin_objective', '--config', str(good)],
          "--dataset other but the config is for dataset 'toy'")
    with pytest.raises(ValueError, match='needs --encoder and --decoder'):
        tuning.TuneSpec(config=CONFIG, study_name='x', storage=resolve_storage(None, 'x'), n_trials=1,
                        task='linkpred')
    with pytest.raises(ValueError, match='n_trials must be a positive integer'):
        make_spec(n_trials=0)
    with pytest.raises(KeyError, match='no `search:` section'):
        tuning.TuneSpec(config=dict(CONFIG, search={}), study_name='x', storage=resolve_storage(None, 'x'),
                        n_trials=1)


# ------------------------------------------------------------------------------------------------------- real data
@pytest.mark.data
def test_end_to_end_real_runner_on_cornell(studies, tmp_path, monkeypatch):
    if not os.environ.get('GRAPHITE_DATA'):
        pytest.skip('GRAPHITE_DATA is not set (raw benchmark files needed for Cornell)')
    monkeypatch.setenv('GRAPHITE_ROOT', str(tmp_path / 'datasets'))
    from graphite.cli.main import main
    from graphite.cli.config import load_config
    best = tmp_path / 'best.yaml'
    code = main(['tune', '--dataset', 'cornell', '--model', 'mlp', '--trials', '3', '--splits', '0', '--set',
                 'epochs=20', '--set', 'patience=0', '--export', str(best), '--quiet', '--no-plots'])
    assert code == 0
    study = load('cornell-mlp')
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    cfg = load_config('cornell', 'mlp', path=str(best))  # the exported file is a valid run config as is
    assert cfg['params']['epochs'] == 20 and {k: cfg['params'][k] for k in study.best_params} == study.best_params
    # `graphite run` on the exported file with the best trial's seed reproduces the trial's scores exactly
    b = study.best_trial
    out = tmp_path / 'run.json'
    assert main(['run', '--dataset', 'cornell', '--model', 'mlp', '--config', str(best), '--splits', '0', '--seed',
                 str(b.user_attrs['seed']), '--threads', '1', '--out', str(out), '--no-progress']) == 0
    result = json.loads(out.read_text())
    assert result['val_mean'] == pytest.approx(b.value, abs=1e-12)
    # the search never saw a test mask; the test number comes from this one run after it
    assert 'test_mean' not in b.user_attrs and 0.0 <= b.value <= 1.0 and math.isfinite(result['mean'])
    assert result['selection']['study'] == 'cornell-mlp' and result['selection']['trials'] == 3
    # a --set override makes it another configuration: the study's record is kept aside, not claimed for this run
    assert main(['run', '--dataset', 'cornell', '--model', 'mlp', '--config', str(best), '--splits', '0',
                 '--set', 'lr=0.05', '--threads', '1', '--out', str(out), '--no-progress']) == 0
    sel = json.loads(out.read_text())['selection']
    assert sel['study'] is None and sel['trials'] is None and sel['overrides'] == ['lr=0.05']
    assert 'changed by hand with --set lr=0.05' in sel['method'] and sel['config_selection']['study'] == 'cornell-mlp'
    from graphite.cli.table_command import selection_text
    assert selection_text(sel) == 'config changed by hand'
    # --batch-size / --fanout set config keys too: the same record, naming the options
    from graphite.cli.run_command import run_selection
    sel = run_selection({'study': 'cornell-mlp'}, ['lr=0.05', 'batch_size=64'], ['--set lr=0.05', '--batch-size 64'])
    assert sel['overrides'] == ['lr=0.05', 'batch_size=64'] and sel['trials'] is None
    assert 'changed by hand with --set lr=0.05 --batch-size 64' in sel['method']
    assert run_selection({'study': 'cornell-mlp'}, []) == {'study': 'cornell-mlp'}


def test_linkpred_task_on_synthetic_graph(studies, tmp_path):
    """--task linkpred drives linkpred.cli.command.run_linkpred (no raw data: synthetic graph)."""
    from graphite.cli.main import main
    from linkpred.cli.command import load_linkpred_config, run_linkpred
    best = tmp_path / 'lp.yaml'
    code = main(['tune', '--task', 'linkpred', '--dataset', 'synthetic', '--encoder', 'sage', '--decoder', 'dot',
                 '--runs', '1', '--trials', '2', '--set', 'epochs=10', '--set', 'eval_every=5', '--set',
                 'dataset_options={num_nodes: 200, similarity: -0.5, avg_degree: 6, seed: 0}', '--export', str(best),
                 '--quiet', '--no-plots'])
    assert code == 0
    study = load('linkpred-synthetic-sage-dot')
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    assert all(sorted(t.intermediate_values) == [5, 10] for t in study.trials)  # on_eval steps of 1 run
    cfg = load_linkpred_config('synthetic', str(best))  # the export is a valid `graphite linkpred --config`
    b = study.best_trial
    assert {k: cfg['params'][k] for k in b.params} == b.params and cfg['params']['epochs'] == 10
    assert b.user_attrs['metric'] == 'mrr' and 0.0 < b.value <= 1.0
    # the exported params run as is (run_linkpred is not yet bit-reproducible for a fixed seed: its negative
    # sampling is unseeded, so the value itself is not compared)
    again = run_linkpred('synthetic', 'sage', 'dot', cfg['params'], 1, seed=b.user_attrs['seed'], progress=False)
    assert again['metric'] == 'mrr' and 0.0 < again['val_mean'] <= 1.0


def test_worker_survives_its_trial_being_failed_as_stale(studies):
    """A worker that was suspended past the grace period finds its trial FAIL: it drops it and continues."""
    calls = []

    def backend(params, seed, on_eval):
        calls.append(seed)
        if len(calls) == 2:  # simulate another worker's fail_stale_trials on this running trial
            study = load('stale')
            running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            study._storage.set_trial_state_values(running[0]._trial_id, TrialState.FAIL)
        return standin_objective(params, seed, on_eval)

    spec = make_spec('stale', n_trials=4, pruning=False)
    with pytest.warns(UserWarning, match='trial #1 was marked FAIL by another worker'):
        ran = tuning.run_worker(spec, backend=backend)
    states = [t.state for t in load('stale').get_trials()]
    assert ran == 5 and states == [TrialState.COMPLETE, TrialState.FAIL] + [TrialState.COMPLETE] * 3


def test_diverging_trial_is_recorded_and_a_bug_stops_the_worker(studies):
    def backend(params, seed, on_eval):
        if seed == 1:
            raise FloatingPointError('training loss became nan')  # the runner's divergence error: FAIL, go on
        if seed == 3:
            raise ValueError('a bug in the objective')  # anything else: FAIL and stop, nothing silently skipped
        return standin_objective(params, seed, on_eval)

    with pytest.raises(ValueError, match='a bug in the objective'):
        tuning.tune(make_spec('bug', n_trials=6), progress=False, backend=backend)
    states = [t.state for t in load('bug').get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE, TrialState.FAIL]


def test_node_objective_never_sees_test_masks(studies, make_graph, monkeypatch):
    """The node-classification objective trains and scores with the test masks hidden: the runner receives them
    replaced by the validation masks, and poisoning the test masks and the labels of nodes that only ever appear in
    test sets changes no trial value; no test number leaves the objective."""
    import torch

    import graphite.cli.runner as runner
    import graphite.datasets
    clean = make_graph(num_nodes=80, num_features=10, num_edges=300, num_splits=2, seed=4)
    poisoned = clean.clone()
    test_only = ~(clean.train_mask | clean.val_mask).any(1)
    assert test_only.sum() > 5
    g = torch.Generator().manual_seed(0)
    poisoned.y[test_only] = torch.randint(0, 3, (int(test_only.sum()),), generator=g)
    poisoned.test_mask = test_only.view(-1, 1).repeat(1, 2) & (torch.rand(80, 2, generator=g) < 0.5)
    seen, real_run = [], runner.run

    def spy(*args, data=None, **kwargs):
        seen.append(data)
        return real_run(*args, data=data, **kwargs)
    monkeypatch.setattr(runner, 'run', spy)
    config = {'dataset': 'toy-graph', 'model': 'gcn', 'transform': None,
              'params': {'hidden_channels': 8, 'num_layers': 2, 'dropout': 0.2, 'epochs': 6, 'patience': 0,
                         'lr': 0.01, 'weight_decay': 0.0, 'eval_every': 1},
              'search': {'dropout': {'type': 'float', 'low': 0.0, 'high': 0.5}}}
    results = []
    for data in (clean, poisoned):
        monkeypatch.setattr(graphite.datasets, 'load', lambda name, data=data, **kw: data)
        spec = tuning.TuneSpec(config=config, study_name='hidden', storage=resolve_storage(None, 'hidden'),
                               n_trials=1, splits=[0, 1])
        results.append(tuning.build_objective(spec)(dict(config['params']), 0, None))
        given = seen[-1]
        assert given is not data and torch.equal(given.test_mask, given.val_mask)
        assert torch.equal(data.test_mask, clean.test_mask if data is clean else poisoned.test_mask)  # not modified
    assert results[0]['per_split_val'] == results[1]['per_split_val']
    assert results[0]['val_mean'] == results[1]['val_mean']
    assert not {'mean', 'std', 'per_split'} & set(results[0])


def test_config_files_accept_same_as_and_tune_reads_the_model_from_the_file(tmp_path):
    from graphite.cli.config import ConfigError, load_config
    from graphite.cli.tune_command import load_tune_config
    spec = {'dataset': 'cora', 'model': 'graphite', 'transform': None,
            'params': {'dropout': 0.5, 'input_dropout': 0.5},
            'search': {'dropout': {'type': 'float', 'low': 0.0, 'high': 0.8},
                       'input_dropout': {'same_as': 'dropout'}}}
    path = tmp_path / 'study.yaml'
    path.write_text(yaml.safe_dump(spec))
    config = load_config('cora', 'graphite', path=str(path))
    assert config['search']['input_dropout'] == {'same_as': 'dropout'}
    args = type('Args', (), dict(task='node', objective=None, model=None, config=path, dataset='cora',
                                 overrides=[], transform=None))()
    assert load_tune_config(args)['model'] == 'graphite'  # `graphite tune --config FILE` without --model
    for bad in ({'same_as': 'lr'}, {'same_as': 'dropout', 'low': 0}):
        path.write_text(yaml.safe_dump({**spec, 'search': {**spec['search'], 'input_dropout': bad}}))
        with pytest.raises(ConfigError, match='same_as'):
            load_config('cora', 'graphite', path=str(path))
    path.write_text(yaml.safe_dump({k: v for k, v in spec.items() if k != 'model'}))
    with pytest.raises(ConfigError, match='no `model:` in the file; pass --model'):
        load_tune_config(args)


# ------------------------------------------------------------------------------------------- transform options
def test_search_space_reaches_into_transform_options():
    """``transform_options.<option>`` searches one option of the GRAPHITE transform: the sampled value lands in
    ``params['transform_options']`` next to the options the config fixed, and exports / enqueues read it there."""
    from graphite.cli.param_names import apply_values, lookup
    from graphite.cli.tuning.summary import best_config
    params = {'lr': 0.01, 'transform_options': {'graph_node_features': 'zeros'}}
    spec = {'transform_options.min_count': {'type': 'int', 'low': 1, 'high': 9},
            'lr': {'type': 'float', 'low': 1e-3, 'high': 1e-1, 'log': True}}
    space = SearchSpace(spec, params=params)
    study = optuna.create_study(direction='maximize', sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(6):
        trial = study.ask()
        merged = apply_values(params, space.suggest(trial))
        assert merged['transform_options'] == {'graph_node_features': 'zeros',
                                               'min_count': trial.params['transform_options.min_count']}
        study.tell(trial, -abs(merged['transform_options']['min_count'] - 4))
    assert params == {'lr': 0.01, 'transform_options': {'graph_node_features': 'zeros'}}  # not modified in place
    out = best_config(study, {'model': 'graphite', 'params': params, 'search': spec})
    assert out['params']['transform_options'] == {'graph_node_features': 'zeros',
                                                  'min_count': study.best_params['transform_options.min_count']}
    assert space.values_of(out['params']) == study.best_params  # an export enqueues as the trial it came from
    assert lookup(out['params'], 'lr') == out['params']['lr']
    with pytest.raises(KeyError, match="no value for the searched parameter 'transform_options.min_count'"):
        space.values_of({'lr': 0.01, 'transform_options': {}})
    with pytest.raises(KeyError, match="searches an option of 'lr', which is not a mapping"):
        SearchSpace({'lr.x': {'type': 'int', 'low': 1, 'high': 2}}, params=params)
    # a null `transform_options` (the runner's default is an empty mapping) starts empty
    assert apply_values({'transform_options': None}, {'transform_options.min_count': 3}) == {
        'transform_options': {'min_count': 3}}


def test_config_searches_and_overrides_transform_options(tmp_path):
    from graphite.cli.config import ConfigError, load_config
    path = tmp_path / 'c.yaml'
    path.write_text(yaml.safe_dump({
        'model': 'graphite', 'transform': 'graphite',
        'params': {'transform_options': {'graph_node_features': 'zeros'}},
        'search': {'transform_options.max_count': {'type': 'categorical', 'choices': [None, 50]}}}))
    cfg = load_config('cornell', 'graphite', path=str(path), overrides=['transform_options.min_count=2'])
    assert cfg['params']['transform_options'] == {'graph_node_features': 'zeros', 'min_count': 2}
    assert 'transform_options.max_count' in cfg['search']
    with pytest.raises(ConfigError, match="unknown transform option 'typo' in override.*known: feature_init"):
        load_config('cornell', 'graphite', path=str(path), overrides=['transform_options.typo=2'])
    path.write_text(yaml.safe_dump({'model': 'graphite', 'search': {
        'transform_options.typo': {'type': 'int', 'low': 1, 'high': 2}}}))
    with pytest.raises(ConfigError, match=r"unknown parameter 'transform_options.typo'.*min_count"):
        load_config('cornell', 'graphite', path=str(path))


def test_tune_searches_a_transform_option_end_to_end(studies, tmp_path, monkeypatch):
    """Each trial's sampled ``min_count`` reaches :class:`graphite.Graphite` (recorded by a wrapper), and the exported
    config runs with it: ``graphite run`` reproduces the best trial's validation score."""
    if not os.environ.get('GRAPHITE_DATA'):
        pytest.skip('GRAPHITE_DATA is not set (raw benchmark files needed for Cornell)')
    monkeypatch.setenv('GRAPHITE_ROOT', str(tmp_path / 'datasets'))
    import graphite
    from graphite.cli.main import main
    seen = []

    class Recording(graphite.Graphite):
        def __init__(self, **options):
            seen.append(options)
            super().__init__(**options)
    monkeypatch.setattr(graphite, 'Graphite', Recording)
    config = tmp_path / 'space.yaml'
    config.write_text(yaml.safe_dump({
        'model': 'gcn', 'transform': 'graphite',
        'params': {'epochs': 15, 'patience': 0, 'transform_options': {'graph_node_features': 'zeros'}},
        'search': {'transform_options.min_count': {'type': 'categorical', 'choices': [1, 3, 10]}}}))
    best = tmp_path / 'best.yaml'
    assert main(['tune', '--dataset', 'cornell', '--config', str(config), '--trials', '4', '--splits', '0',
                 '--export', str(best), '--quiet', '--no-plots']) == 0
    study = load('cornell-gcn-graphite')
    sampled = [t.params['transform_options.min_count'] for t in study.trials]
    # the prepared graph is built once per distinct option set and cached
    assert sorted(map(repr, seen)) == sorted({repr({'graph_node_features': 'zeros', 'min_count': k}) for k in sampled})
    exported = yaml.safe_load(best.read_text())['params']['transform_options']
    assert exported == {'graph_node_features': 'zeros', 'min_count': study.best_params['transform_options.min_count']}
    out = tmp_path / 'run.json'
    assert main(['run', '--dataset', 'cornell', '--model', 'gcn', '--config', str(best), '--splits', '0', '--seed',
                 str(study.best_trial.user_attrs['seed']), '--threads', '1', '--out', str(out), '--no-progress']) == 0
    assert json.loads(out.read_text())['val_mean'] == pytest.approx(study.best_value, abs=1e-12)
