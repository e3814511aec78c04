"""The ``graphite linkpred`` subcommand (:mod:`linkpred.cli.command`), plugged into graphite's command line through
the ``graphite.commands`` entry-point group, so graphite itself never imports :mod:`linkpred`."""
