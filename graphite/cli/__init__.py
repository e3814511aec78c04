"""The ``graphite`` command line: ``report``, ``run``, ``tune``, ``table`` and plug-in subcommands (``linkpred``).

Nothing here is imported by ``import graphite``: the core (transform, homophily, nn, ops, datasets) never depends on
the command line, the runner or the tuning code. Modules:

* :mod:`graphite.cli.main`: the console script (``graphite``, also ``python -m graphite``), plug-in discovery, errors;
* :mod:`graphite.cli.config`: YAML configs (bundled under ``graphite/cli/configs/``) and ``key=value`` overrides;
* :mod:`graphite.cli.runner`: full-batch node-classification training over the benchmark splits;
* :mod:`graphite.cli.tuning`: Optuna search (spec, objective, workers, summary, storage, search space);
* :mod:`graphite.cli.paths`: where outputs go (the current directory or ``$GRAPHITE_HOME``);
* ``*_command`` modules: one per subcommand (``HELP``, ``add_arguments(parser)``, ``main(args) -> int``).
"""
