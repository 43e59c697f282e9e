"""TEST ONLY: named points of a run at which a fault test can kill the process hard.

Belongs here: nothing but the hook. With ``INOBHUT_TEST_KILL_AT=<point>[:<n>]`` in the environment,
the n-th time (default: the first) a run reaches ``<point>`` the whole process group receives
SIGKILL -- as a power cut would do it, no cleanup, no ``finally``. Without the variable (every real
installation) :func:`reached` does nothing. The points (see ``POINTS``) are placed where a kill
leaves the most work half done: a temporary file written but not renamed, a month loaded and the
next not, some reports written and others not.

Used by ``tests/test_faults_run.py``; documented in ``docs/architektur.md``.
"""

from __future__ import annotations

import os
import signal

ENV = "INOBHUT_TEST_KILL_AT"
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
