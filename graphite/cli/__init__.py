"""Experiment runner for graphite: the ``graphite`` command line (run, tune, table, report, linkpred)."""
