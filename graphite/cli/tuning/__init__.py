"""Hyper-parameter search with Optuna (``graphite tune``), one concept per module:

* :mod:`~graphite.cli.tuning.spec`: :class:`TuneSpec`, what a search optimises;
* :mod:`~graphite.cli.tuning.search_space`: the ``search:`` section of a config as Optuna distributions;
* :mod:`~graphite.cli.tuning.objective`: what one trial runs (:class:`TrialObjective`, the training backends);
* :mod:`~graphite.cli.tuning.workers`: studies and worker processes (:func:`create_or_load_study`, :func:`tune`);
* :mod:`~graphite.cli.tuning.summary`: summary, plots and export of the best configuration;
* :mod:`~graphite.cli.tuning.storage`: where studies live (journal file, database URL) and heartbeats.

One *study* is a search for one (task, dataset, model/encoder-decoder, transform, splits) combination. Its trials
sample the config's ``search:`` space (:class:`~graphite.cli.tuning.search_space.SearchSpace`), train with those
values and score the **validation** metric (``val_mean``, the mean over splits/runs of the best-validation
metric). The test metric is never optimised: it is only recorded with each trial (user attributes ``test_mean``,
``test_std``, ``seed``, ``seconds``, ``val_std``, ``metric``) so the best configuration's test score can be
reported without selection bias on the test set.

How a search runs (:func:`tune`):

1. :func:`create_or_load_study` creates the study, or loads it when it exists (resume: re-running the same
   command continues it). The study remembers what it optimises (task, dataset, model, transform, splits, base
   params) and refuses to continue with a different objective: pick another ``--study`` name for that.
   Configurations given with ``--enqueue`` (:func:`read_configs`, :func:`enqueue_configs`: e.g. an earlier study's
   exported winner) are enqueued as trials that run before any sampled one, each once per study.
2. Stale trials (their worker died: no heartbeat for ``grace_period`` seconds) are marked ``FAIL``.
3. ``workers`` worker processes (or the current process when ``workers == 1``) run :func:`run_worker`: each loads
   the study, pins itself to ``threads`` torch threads, and runs trials one at a time until the study holds
   ``n_trials`` counted trials (``COMPLETE``, ``PRUNED``, ``RUNNING``; failed trials do not count, so a resumed
   search replaces them) or the ``timeout`` passes. Workers on other machines run the same command against the
   same database URL and share the same total.
4. :func:`summarize` prints the best trial, :func:`write_plots` saves the optimisation history and parameter
   importances (PNG with matplotlib, HTML with plotly when installed), :func:`export_best` writes a config YAML
   that ``graphite run --config best.yaml`` runs unchanged.

Sampling is TPE (``constant_liar=True`` so parallel workers do not all probe the same point); pruning is
:class:`optuna.pruners.MedianPruner`: a trial stops when its validation metric at an evaluation step is below
the median of earlier trials at the same step (after ``n_startup_trials`` complete trials and ``n_warmup_steps``
evaluations). The objective reports through ``on_eval(step, value)``, the runner's per-evaluation callback.

Reproducibility: trial ``k`` trains with seed ``seed + k`` (recorded as user attribute ``seed``), so every trial can
be re-run exactly. A single local worker seeds its sampler from ``(seed, number of trials already in the study)``:
the same ``--seed`` proposes the same trials, and a resumed search does not re-propose the first ones. Concurrent
workers (``--workers N`` or a database URL shared by hosts) also mix their host, process id and start time into the
sampler seed, so they never draw identical random start-up points.
"""
from __future__ import annotations

from graphite.cli.tuning.objective import ObjectiveFn, TrialObjective, build_objective
from graphite.cli.tuning.spec import TuneSpec, default_study_name
from graphite.cli.tuning.summary import best_config, export_best, summarize, write_plots
from graphite.cli.tuning.workers import (CAUGHT, COUNTED_STATES, MAX_CONSECUTIVE_FAILURES, best_trial_or_none,
                                         count_trials, create_or_load_study, enqueue_configs, read_configs,
                                         run_worker, tune)

__all__ = ['TuneSpec', 'TrialObjective', 'ObjectiveFn', 'CAUGHT', 'COUNTED_STATES', 'MAX_CONSECUTIVE_FAILURES',
           'best_config', 'best_trial_or_none', 'build_objective', 'count_trials', 'create_or_load_study',
           'default_study_name', 'enqueue_configs', 'export_best', 'read_configs', 'run_worker', 'summarize', 'tune',
           'write_plots']
