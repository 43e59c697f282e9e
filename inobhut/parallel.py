"""Running CPU-bound pure-Python work (parsing, pandera, openpyxl, Jinja2) on all cores.

``parallel(fn, jobs)`` is ``[fn(j) for j in jobs]`` in a pool of forked worker processes when
the batch is large enough to pay for the pool; the workers inherit the jobs (and anything the
caller prepared in module globals) through fork, only the results travel back; while a pool
runs, the caller's objects are frozen for the garbage collector so that the inherited pages stay
shared (see ``_freeze``). Threads would not help: the work holds the GIL. Without fork (not
Linux) or with one core it runs in order.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor

_JOBS: list | None = None


def workers() -> int:
    return min(os.cpu_count() or 1, 4)


def _run_global(args: tuple):
    fn, i = args
    return fn(_JOBS[i])


def parallel(fn, jobs: list, min_jobs: int = 8, chunksize: int | None = None, meanwhile=None, each=None) -> list:
    """``[fn(j) for j in jobs]``, on all cores when there are at least ``min_jobs`` jobs.
    ``meanwhile()``: work of the calling process done while the workers run (after they are
    forked, so it never forks with a half-done import; e.g. importing a large library the caller
    needs next); without a pool it runs first. ``each(i, result)``: called in the calling
    process for every result in job order as soon as it is there (after ``meanwhile``), e.g. to
    start the next stage of the first jobs while the workers are still on the later ones."""
    global _JOBS
    n = workers()
    if n < 2 or len(jobs) < min_jobs or "fork" not in mp.get_all_start_methods():
        if meanwhile is not None:
            meanwhile()
        return _each([fn(j) for j in jobs], each)
    _JOBS = jobs
    _freeze()
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("fork")) as pool:
            size = chunksize or (1 if min_jobs < 8 else 4)
            results = pool.map(_run_global, [(fn, i) for i in range(len(jobs))], chunksize=size)  # workers forked now
            if meanwhile is not None:
                meanwhile()
            return _each(results, each)
    finally:
        _JOBS = None
        _unfreeze()


_frozen = 0  # pools running in this process (one thread calls parallel(), as _JOBS assumes)


def _freeze() -> None:
    """Leave the objects the workers inherit out of garbage collection while the pool runs.

    A collection writes to every object it visits (its bookkeeping lives in the object's
    header), so each collection in the caller or in a worker copies the pages it visits
    (copy-on-write): the workers ended up with a private copy of the caller's heap (at M two
    workers of 318 MB next to a caller of 381 MB). Frozen objects are visited by no collection
    until ``gc.unfreeze()`` after the pool (nested pools: the outermost unfreezes)."""
    global _frozen
    if _frozen == 0:
        gc.freeze()
    _frozen += 1


def _unfreeze() -> None:
    global _frozen
    _frozen -= 1
    if _frozen == 0:
        gc.unfreeze()


def _each(results, each) -> list:
    out = []
    for i, r in enumerate(results):
        out.append(r)
        if each is not None:
            each(i, r)
    return out
