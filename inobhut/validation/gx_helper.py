"""Great Expectations in a helper process that a command starts before it needs it.

Importing GX and creating its context costs 2.5-4 s of one core. In a nightly run (S) the
validation step waited for that import about 2 s after its worker processes had read and
checked every delivery, while the second core had been idle during the command's own start
(imports, planning, intake: single-threaded). ``inobhut run`` therefore calls :func:`start`
when it begins: a process forked then imports GX and creates the context on that idle core,
and :func:`submit` later sends the GX part of a validation there (the frames go through a pipe,
only the unexpected rows come back; findings are attributed in the caller). Calls are answered
in order; the caller may send the next dataset's frames before it takes the first answer (the
validation step checks each dataset as soon as its files are read).

Without a helper (tests, runs under the Dagster daemon, other commands) or when it is gone
(killed, out of memory), the caller runs GX itself when it asks for the result, as before:
the same checks and results either way. :func:`stop` ends the helper after the last use of a
run (the Data Docs step), so that it holds no memory while the reports are written.

Belongs here: the helper's life (start, calls, stop); not here: what GX checks
(:mod:`inobhut.validation.expectations`).
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

_HELPER: tuple[Any, Any] | None = None  # (process, connection)
_LOCK = threading.Lock()
_READY: bool = False  # the helper reported its import done
READY_TIMEOUT = 120.0  # s: a helper not ready by then (stuck in its import) is ended, the caller runs GX itself


def start() -> bool:
    """Fork the helper now (it starts importing GX at once); False where fork is unavailable."""
    global _HELPER, _READY
    with _LOCK:
        if _HELPER is not None and _HELPER[0].is_alive():
            return True
        if "fork" not in mp.get_all_start_methods():
            return False
        ctx = mp.get_context("fork")
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(theirs, mine), name="inobhut-gx", daemon=True)
        proc.start()
        theirs.close()
        _HELPER, _READY = (proc, mine), False
        return True


def running() -> bool:
    return _HELPER is not None and _HELPER[0].is_alive()


class Pending:
    """``fn(*args, **kwargs)``, sent to the helper or (without one) to be computed by the caller:
    :meth:`result` returns it (an exception raised by ``fn`` in the helper is raised there)."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.done, self.value, self.error = False, None, None

    def result(self):
        if not self.done:
            _collect(self)
        if not self.done:  # no helper, or it ended before answering: computed here
            self.value, self.done = self.fn(*self.args, **self.kwargs), True
        if self.error is not None:
            raise self.error
        return self.value


_OUTSTANDING: deque[Pending] = deque()  # sent, not yet answered (answers come in this order)


def submit(fn: Callable, *args, **kwargs) -> Pending:
    """Send ``fn(*args, **kwargs)`` to the helper and return at once (:meth:`Pending.result`
    waits for it); without a helper the call is computed when its result is asked for."""
    global _READY
    p = Pending(fn, args, kwargs)
    with _LOCK:
        if _HELPER is None:
            return p
        conn = _HELPER[1]
        try:
            if not _READY:  # forked from a process with threads, an import could hang: wait, but not forever
                if not conn.poll(READY_TIMEOUT):
                    raise EOFError("not ready")
                conn.recv()
                _READY = True
            conn.send((fn, args, kwargs))
            _OUTSTANDING.append(p)
        except (EOFError, OSError, pickle.PicklingError):
            _drop()
    return p


def call(fn: Callable, *args, **kwargs):
    """``("ok", fn(*args, **kwargs))`` computed in the helper, or None when there is none: then
    the caller computes it itself. (A helper that ends during the call: computed here.)"""
    if _HELPER is None:
        return None
    return ("ok", submit(fn, *args, **kwargs).result())


def _collect(target: Pending) -> None:
    """Take the helper's answers in order until ``target``'s is there."""
    with _LOCK:
        while _HELPER is not None and target in _OUTSTANDING:
            try:
                status, value = _HELPER[1].recv()
            except (EOFError, OSError):
                _drop()
                return
            p = _OUTSTANDING.popleft()
            p.done = True
            if status == "error":
                p.error = value
            else:
                p.value = value


def _drop() -> None:
    """The helper is gone or stuck: end it; what it had not answered is computed by the callers."""
    global _HELPER
    proc, conn = _HELPER
    _HELPER = None
    _OUTSTANDING.clear()
    _end(proc, conn)


def stop() -> None:
    """End the helper (idempotent); answers not yet taken are computed by their callers."""
    global _HELPER
    with _LOCK:
        if _HELPER is None:
            return
        proc, conn = _HELPER
        _HELPER = None
        _OUTSTANDING.clear()
        try:
            conn.send(None)
        except (OSError, ValueError):
            pass
        _end(proc, conn)


def _end(proc, conn) -> None:
    proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    conn.close()


def _serve(conn, parent_end) -> None:
    import signal

    # Ctrl+C reaches the whole process group: the command handles it, and its end closes the
    # pipe, which ends this process too (without a traceback of its own)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent_end.close()
    from inobhut.validation.expectations import warm_up

    try:
        warm_up()
    except Exception:  # noqa: BLE001 -- the call below raises it again, with the caller waiting for it
        pass
    try:
        conn.send(("ready", None))
    except OSError:
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the command ended
            return
        if job is None:
            return
        fn, args, kwargs = job
        try:
            reply = ("ok", fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 -- passed on to the caller
            reply = ("error", exc)
        try:
            conn.send(reply)
        except OSError:  # the command ended while this process was working
            return
        except (pickle.PicklingError, TypeError, AttributeError):
            conn.send(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
