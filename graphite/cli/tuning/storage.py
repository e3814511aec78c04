"""Where Optuna studies live: an embedded journal file by default, a database URL to scale out.

``graphite tune`` needs one storage that works with no server *and* with several local worker processes, plus a
server-backed storage that workers on other machines can join. :func:`resolve_storage` maps the ``--storage``
argument to one of:

* nothing (default): a journal file ``studies/<study>/journal.log`` under the output root (the current directory, or
  ``$GRAPHITE_HOME``; ``$GRAPHITE_STUDIES`` overrides the studies folder, see :mod:`graphite.cli.paths`);
* a file path, or ``journal:PATH``: a journal file at ``PATH``;
* ``sqlite:///PATH``: Optuna's RDB storage on SQLite (accepted, but see below);
* ``postgresql://user:password@host:port/db`` (also ``postgres://``, ``postgresql+psycopg2://``, ``mysql://...``):
  Optuna's RDB storage on a database server that workers on any number of hosts can share.

Why a journal file and not SQLite for the embedded default
-----------------------------------------------------------
Optuna's own documentation (``optuna.storages.RDBStorage``: "We would never recommend SQLite3 for parallel
optimization", FAQ *sqlite_concurrency*) steers parallel local runs away from SQLite: SQLite serialises writers
with a database-wide lock, and concurrent writers that wait longer than the driver timeout fail with
``sqlite3.OperationalError: database is locked``; RDB storage also issues many small transactions per trial.
:class:`optuna.storages.JournalStorage` with :class:`optuna.storages.journal.JournalFileBackend` is what Optuna
recommends instead: every operation is one JSON line appended to a log under a short-lived lock file (a symlink
or ``O_EXCL`` file, which also works on NFS), each process replays the log into an in-memory snapshot, and a lock
left behind by a killed process is broken after 30 s. Writers never hit "database is locked", reads need no lock.
Each append is fsync'ed (about 5 ms on this project's CI disk), which is why
:mod:`graphite.cli.tuning.objective` reports a trial's validation metric about 20 times per split instead of at
every evaluation.

Heartbeats (dead-worker detection)
----------------------------------
In Optuna 5 only :class:`~optuna.storages.RDBStorage` implements
:class:`~optuna.storages._heartbeat.BaseHeartbeat`; :class:`~optuna.storages.JournalStorage` does not, so a
worker killed with ``SIGKILL`` would leave its trial ``RUNNING`` forever. :class:`HeartbeatJournalStorage` adds
the same mechanism on top of the journal: while a trial runs, :meth:`~optuna.study.Study.optimize` starts a
thread that calls :meth:`HeartbeatJournalStorage.record_heartbeat` every ``heartbeat_interval`` seconds, which
appends the wall-clock time as a trial system attribute; :func:`optuna.storages.fail_stale_trials` (run by
every worker before each trial, and by ``graphite tune`` when it starts) marks ``FAIL`` every ``RUNNING``
trial whose last heartbeat is older than ``grace_period`` seconds. Finished trials are untouched: they were
appended to the log before the worker died. Hosts sharing a journal file over NFS need synchronised clocks
(RDB storages compare against the database server's clock instead).
"""
from __future__ import annotations

import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import JournalStorage
from optuna.trial import TrialState

from graphite.cli.paths import studies_dir

try:  # private in Optuna: the range in pyproject.toml (optuna>=5.0,<6) is the one this module is tested on
    from optuna.storages._heartbeat import BaseHeartbeat
except ImportError as err:  # pragma: no cover - depends on the installed Optuna
    raise ImportError(f'graphite tune needs optuna>=5.0,<6 (optuna.storages._heartbeat.BaseHeartbeat); found optuna '
                      f'{optuna.__version__}: pip install "optuna>=5.0,<6"') from err

__all__ = ['DEFAULT_GRACE_PERIOD', 'DEFAULT_HEARTBEAT_INTERVAL', 'HeartbeatJournalStorage', 'StorageSpec',
           'fail_stale_trials', 'open_storage', 'resolve_storage', 'stale_trials', 'studies_dir']

#: seconds between two heartbeats of a running trial
DEFAULT_HEARTBEAT_INTERVAL = 15
#: seconds without a heartbeat after which a RUNNING trial is considered dead and marked FAIL
DEFAULT_GRACE_PERIOD = 60

#: attempts to open an RDB storage while other workers may be creating the schema concurrently
_SCHEMA_ATTEMPTS = 6

_RDB_SCHEMES = ('sqlite', 'postgresql', 'postgres', 'mysql', 'mariadb', 'oracle', 'mssql')


@dataclass(frozen=True)
class StorageSpec:
    """A resolved ``--storage`` argument.

    Attributes:
        kind: ``'journal'`` (a journal file) or ``'rdb'`` (an SQLAlchemy database URL).
        location: the journal file path or the database URL (with the SQLAlchemy driver made explicit).
        display: the location with any password masked, for logs and messages.
        artifacts: directory for the study's summary files (plots, best config).
    """
    kind: str
    location: str
    display: str
    artifacts: Path

    def dashboard_command(self) -> str:
        """The shell command that opens this storage in optuna-dashboard."""
        return f"optuna-dashboard '{self.location if self.kind == 'journal' else self.display}'"


def _mask(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a parseable URL: nothing to hide
        return url


def _explicit_driver(url: str) -> str:
    """Make the SQLAlchemy driver of a PostgreSQL URL explicit when the default one is missing.

    SQLAlchemy 2.1 maps ``postgresql://`` to psycopg 3, older versions to psycopg2; this project installs
    ``psycopg2-binary``. A bare ``postgresql://`` (or Heroku-style ``postgres://``) URL is therefore pointed at
    whichever of the two drivers is importable, psycopg 3 first.
    """
    scheme, sep, rest = url.partition('://')
    if scheme not in ('postgresql', 'postgres'):
        return url
    import importlib.util
    for module, driver in (('psycopg', 'psycopg'), ('psycopg2', 'psycopg2')):
        if importlib.util.find_spec(module) is not None:
            return f'postgresql+{driver}://{rest}'
    raise ImportError('a postgresql:// storage needs a PostgreSQL driver: pip install psycopg2-binary '
                      '(or graphite-gnn[postgres])')


def resolve_storage(storage: Optional[str], study_name: str) -> StorageSpec:
    """Resolve a ``--storage`` argument (see the module docstring for the accepted forms).

    Args:
        storage (str, optional): ``None`` for the embedded default, a file path / ``journal:PATH``, or a database
            URL (``sqlite:///...``, ``postgresql://...``, ``mysql://...``).
        study_name (str): the study's name; names the default journal file and the artifacts directory.

    Raises:
        ValueError: an empty study name, or a URL scheme that is not a journal file or a SQL database.
    """
    if not study_name or '/' in study_name or study_name in ('.', '..'):
        raise ValueError(f'invalid study name {study_name!r}: use a non-empty name without "/"')
    local = studies_dir() / study_name
    if storage is None or storage == '':
        path = local / 'journal.log'
        return StorageSpec('journal', str(path), str(path), local)
    if storage.startswith('journal:'):
        storage = storage[len('journal:'):]
        if not storage:
            raise ValueError('journal: storage needs a path, e.g. journal:/shared/studies/actor.log')
    if '://' not in storage:
        path = Path(storage).expanduser().resolve()
        if path.is_dir():
            raise ValueError(f'--storage {storage!r} is a directory; give a journal file path such as '
                             f'{path / (study_name + ".log")}')
        return StorageSpec('journal', str(path), str(path), path.parent / study_name)
    scheme = storage.split('://', 1)[0].split('+', 1)[0].lower()
    if scheme not in _RDB_SCHEMES:
        raise ValueError(f'unsupported --storage scheme {scheme!r} in {_mask(storage)!r}: use a journal file path, '
                         f'sqlite:///PATH or postgresql://user:password@host:port/database')
    url = _explicit_driver(storage)
    return StorageSpec('rdb', url, _mask(url), local)


class HeartbeatJournalStorage(JournalStorage, BaseHeartbeat):
    """An :class:`optuna.storages.JournalStorage` with Optuna's heartbeat protocol (dead-worker detection).

    While a trial runs inside :meth:`optuna.study.Study.optimize`, its heartbeat (wall-clock seconds) is
    appended to the journal every ``heartbeat_interval`` seconds as the trial system attribute
    ``graphite:heartbeat``. :func:`optuna.storages.fail_stale_trials` marks ``FAIL`` each ``RUNNING`` trial whose
    last heartbeat is older than ``grace_period`` seconds (``2 * heartbeat_interval`` when :obj:`None`), exactly
    like :class:`optuna.storages.RDBStorage` does with its heartbeat table. A trial that never recorded a
    heartbeat (created by ``ask()`` outside ``optimize``) is never considered stale, as in RDB storage.

    Args:
        backend: a journal backend, e.g. :class:`optuna.storages.journal.JournalFileBackend`.
        heartbeat_interval (int, optional): seconds between heartbeats; :obj:`None` disables heartbeats.
            (default: :obj:`None`)
        grace_period (int, optional): seconds without heartbeat before a running trial is stale.
            (default: :obj:`None`)
        heartbeat_stale_trial_callback (callable, optional): ``f(study, frozen_trial)`` called for each trial
            failed as stale (e.g. :class:`optuna.storages.RetryHeartbeatStaleTrialCallback`). (default: :obj:`None`)
    """

    #: trial system attribute holding the wall-clock time (seconds since the epoch) of the last heartbeat
    HEARTBEAT_KEY = 'graphite:heartbeat'

    def __init__(self, backend, heartbeat_interval: Optional[int] = None, grace_period: Optional[int] = None,
                 heartbeat_stale_trial_callback: Optional[Callable] = None) -> None:
        for name, value in (('heartbeat_interval', heartbeat_interval), ('grace_period', grace_period)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise ValueError(f'{name} must be a positive integer or None, got {value!r}')
        super().__init__(backend)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.heartbeat_stale_trial_callback = heartbeat_stale_trial_callback

    def record_heartbeat(self, trial_id: int) -> None:
        try:
            if self.get_trial(trial_id).state == TrialState.RUNNING:
                self.set_trial_system_attr(trial_id, self.HEARTBEAT_KEY, time.time())
        except UpdateFinishedTrialError:
            pass  # another worker declared this trial dead between the check and the write

    def _get_stale_trial_ids(self, study_id: int) -> List[int]:
        assert self.heartbeat_interval is not None
        grace = self.grace_period if self.grace_period is not None else 2 * self.heartbeat_interval
        now = time.time()
        stale = []
        for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
            beat = trial.system_attrs.get(self.HEARTBEAT_KEY)
            if beat is not None and now - float(beat) > grace:
                stale.append(trial._trial_id)
        return stale

    def get_heartbeat_interval(self) -> Optional[int]:
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Optional[Callable]:
        return self.heartbeat_stale_trial_callback

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({getattr(self._backend, "_file_path", self._backend)!r}, '
                f'heartbeat_interval={self.heartbeat_interval}, grace_period={self.grace_period})')


def open_storage(spec: StorageSpec, heartbeat_interval: Optional[int] = DEFAULT_HEARTBEAT_INTERVAL,
                 grace_period: Optional[int] = DEFAULT_GRACE_PERIOD):
    """Open the Optuna storage described by ``spec`` with heartbeats enabled.

    Args:
        spec (StorageSpec): from :func:`resolve_storage`.
        heartbeat_interval (int, optional): seconds between heartbeats of a running trial (:obj:`None`: off).
        grace_period (int, optional): seconds without heartbeat before a running trial is marked ``FAIL``.

    Returns:
        a :class:`HeartbeatJournalStorage` (journal file) or :class:`optuna.storages.RDBStorage`.
    """
    if spec.kind == 'journal':
        path = Path(spec.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        from optuna.storages.journal import JournalFileBackend
        return HeartbeatJournalStorage(JournalFileBackend(str(path)), heartbeat_interval, grace_period)
    engine_kwargs: dict = {'pool_pre_ping': True}  # survive database restarts / idle connections dropped
    if spec.location.startswith('sqlite'):
        engine_kwargs = {'connect_args': {'timeout': 60}}  # wait for the writer lock instead of failing at once
    import sqlalchemy.exc
    for attempt in range(_SCHEMA_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(spec.location, engine_kwargs=engine_kwargs,
                                                  heartbeat_interval=heartbeat_interval, grace_period=grace_period)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError) as err:
            # Workers starting together on an empty database all try to create Optuna's tables; the losers fail
            # with "duplicate key ... pg_type" / "relation already exists". Once the winner committed, a retry
            # finds the schema and skips creation.
            if attempt == _SCHEMA_ATTEMPTS - 1:
                raise RuntimeError(f'could not initialise the Optuna schema in {spec.display}: {err}') from err
            time.sleep(0.2 * (attempt + 1) + random.random() * 0.3)
    raise AssertionError('unreachable')


def fail_stale_trials(study) -> List[int]:
    """Mark ``FAIL`` every ``RUNNING`` trial of ``study`` whose heartbeat stopped; returns their numbers."""
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    after = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    return sorted(before - after)


def stale_trials(study) -> List[int]:
    """Numbers of the ``RUNNING`` trials of ``study`` whose heartbeat stopped (their worker is gone): what
    :func:`fail_stale_trials` would mark ``FAIL``, found without writing anything (``graphite tune --summary-only``).
    Empty when the study's storage was opened without heartbeats."""
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
    storage = study._storage
    if not isinstance(storage, BaseHeartbeat) or not is_heartbeat_enabled(storage):
        return []
    ids = set(storage._get_stale_trial_ids(study._study_id))
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return sorted(t.number for t in running if t._trial_id in ids)
