"""SIGTERM handled like Ctrl-C by the ``graphite`` command.

Batch schedulers and container runtimes stop a job with SIGTERM (SLURM at the end of the time limit or on
preemption, ``kill``, ``docker stop``), then SIGKILL a little later. Python's default for SIGTERM ends the process at
once: a ``graphite run`` ends without a word (its finished splits are saved as they finish) and a ``graphite tune``
leaves its running trials ``RUNNING`` until a later run's heartbeat check marks them ``FAIL``, with no record of
their cost; a tune worker whose main process was killed goes on alone. :func:`sigterm_interrupts` makes SIGTERM raise
:class:`Terminated`, a :class:`KeyboardInterrupt`, so every command stops the way Ctrl-C stops it: finished splits are
already saved, a running trial is recorded ``FAIL`` with what it cost, the other workers are stopped, and re-running
the same command resumes. ``graphite`` then exits with 143 (128 + SIGTERM), the shell's code for a terminated process.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

__all__ = ['Terminated', 'EXIT_CODE', 'sigterm_interrupts']

#: exit status of a process stopped by SIGTERM (128 + 15), as a shell reports it
EXIT_CODE = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM (after :func:`sigterm_interrupts`)."""


def _raise_terminated(signum, frame):
    raise Terminated('terminated by SIGTERM')


def _stop_once(signum, frame):
    """First stop signal: ignore any further SIGINT/SIGTERM (so the cleanup that records the running trial cannot
    itself be interrupted half-way), then raise :class:`Terminated` or :class:`KeyboardInterrupt`."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if signum == signal.SIGTERM:
        raise Terminated('terminated by SIGTERM')
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_interrupts(stop_once: bool = False) -> Iterator[bool]:
    """Inside the block, SIGTERM raises :class:`Terminated` in the main thread; the previous handler comes back after.

    Yields whether the handler was set: only a default SIGTERM disposition is replaced (an embedding application's
    own handler is kept), and only from the main thread (the only thread Python delivers signals to).

    With ``stop_once`` (a tune worker, which may get SIGTERM from a scheduler and SIGINT from its main process at the
    same moment), the first SIGTERM or SIGINT stops the block and every later one is ignored, so the stopping trial
    is recorded ``FAIL`` in one piece."""
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield False
        return
    previous_int = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGTERM, _stop_once if stop_once else _raise_terminated)
    if stop_once:
        signal.signal(signal.SIGINT, _stop_once)
    try:
        yield True
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if stop_once:
            signal.signal(signal.SIGINT, previous_int)
