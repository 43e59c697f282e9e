"""TEST ONLY: named points of a run at which a fault test can kill the process hard.

Belongs here: nothing but the hook. With ``INOBHUT_TEST_KILL_AT=<point>[:<n>]`` in the environment,
the n-th time (default: the first) a run reaches ``<point>`` the whole process group receives
SIGKILL -- as a power cut would do it, no cleanup, no ``finally``. Without the variable (every real
installation) :func:`reached` does nothing. The points (see ``POINTS``) are placed where a kill
leaves the most work half done: a temporary file written but not renamed, a month loaded and the
next not, some reports written and others not.

Two more hooks for the end of a command (``tests/test_exit_guard.py``): with
``INOBHUT_TEST_STUCK_AT_EXIT=child:<pid file>`` the command leaves a child process behind that
ignores SIGTERM and never ends (its pid written to the file), with ``=handler`` an exit handler
that never returns; ``INOBHUT_TEST_EXIT_GRACE_S`` shortens how long the command waits for its end
(:func:`exit_grace`); with ``INOBHUT_TEST_CRASH`` set the command fails with an exception nothing
catches (:func:`crash_if_asked`), the way a bug would.

Used by ``tests/test_faults_run.py``; documented in ``docs/architektur.md``.
"""

from __future__ import annotations

import os
import signal

ENV = "INOBHUT_TEST_KILL_AT"
STUCK_ENV = "INOBHUT_TEST_STUCK_AT_EXIT"
GRACE_ENV = "INOBHUT_TEST_EXIT_GRACE_S"
CRASH_ENV = "INOBHUT_TEST_CRASH"
POINTS = {
    "intake": "archive copy written to its temporary name, not yet renamed",
    "validation": "one version's Prüfbericht and staging files written",
    "warehouse": "one month loaded into the warehouse (committed), the next not yet",
    "statistics": "one month's statistics tables written",
    "reports": "one report file written",
}
_hits: dict[str, int] = {}


def reached(point: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    _hits[point] = _hits.get(point, 0) + 1
    if _hits[point] >= int(nth or 1):
        try:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)


def leave_stuck_at_exit() -> None:
    """With ``INOBHUT_TEST_STUCK_AT_EXIT`` set: something that keeps the command from ending."""
    spec = os.environ.get(STUCK_ENV)
    if not spec:
        return
    kind, _, pid_file = spec.partition(":")
    if kind == "child":
        import multiprocessing as mp

        child = mp.get_context("fork").Process(target=_never_end, name="inobhut-test-haengt", daemon=False)
        child.start()
        with open(pid_file, "w", encoding="utf-8") as fh:
            fh.write(str(child.pid))
    elif kind == "handler":
        import atexit
        import time

        atexit.register(lambda: time.sleep(10**6))


def crash_if_asked() -> None:
    """With ``INOBHUT_TEST_CRASH`` set: an exception no command catches."""
    if os.environ.get(CRASH_ENV):
        raise RuntimeError("Testfehler: eine Ausnahme, die kein Befehl abfängt")


def exit_grace(default: float) -> float:
    """How long a command waits for its own end (shortened by ``INOBHUT_TEST_EXIT_GRACE_S``)."""
    return float(os.environ.get(GRACE_ENV) or default)


def _never_end() -> None:
    import time

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(3600)
