"""``python -m graphite``: the ``graphite`` command line (:mod:`graphite.cli.main`)."""
import sys

from graphite.cli.main import main

sys.exit(main())
