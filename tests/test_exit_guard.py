"""A command whose work is done ends, whatever would keep it alive (``cli._guard_end``).

Real ``inobhut`` processes with the test-only hooks of :mod:`inobhut.faultpoint`: a child process
that ignores SIGTERM and never ends (multiprocessing's exit handler joins it for ever), or an exit
handler that never returns. Without the guard each of these commands hangs until the timeout."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers_faults import Install

GRACE_S = 2
TIMEOUT_S = 120  # the command itself needs a few seconds; without the guard it never ends


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "X"  # a zombie ("Z") still counts as left behind


def _run_to_its_end(args: list[str], cwd: Path, env: dict) -> tuple[subprocess.Popen, str, str]:
    """``inobhut <args>`` until it ends; the test fails (and the process group is killed) when it
    does not end within ``TIMEOUT_S``."""
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"inobhut {' '.join(args)} endete nicht (über {TIMEOUT_S} s)")
    return proc, out, err


@pytest.mark.parametrize(("args", "stuck", "says"), [
    (["--version"], "child", "inobhut 0.1"),
    (["--version"], "handler", "inobhut 0.1"),
    (["run"], "child", "nichts zu tun"),
])
def test_a_command_ends_after_its_work_even_if_a_child_or_exit_handler_hangs(tmp_path, args, stuck, says):
    inst = Install(tmp_path)
    inst.data.mkdir(parents=True)
    inst.landing.mkdir()
    pid_file = tmp_path / "haengt.pid"
    spec = f"child:{pid_file}" if stuck == "child" else "handler"
    t0 = time.monotonic()
    proc, out, err = _run_to_its_end(args, tmp_path, inst.env(INOBHUT_TEST_STUCK_AT_EXIT=spec,
                                                              INOBHUT_TEST_EXIT_GRACE_S=str(GRACE_S)))
    took = time.monotonic() - t0
    assert proc.returncode == 0, out[-2000:] + err[-2000:]
    assert says in (out + err).replace("\n", " "), out[-2000:] + err[-2000:]
    assert "endete nach 2 s nicht von selbst" in err.replace("\n", " "), err[-2000:]
    assert took >= GRACE_S
    if stuck == "child":
        pid = int(pid_file.read_text())
        assert "inobhut-test-haengt" in err and f"PID {pid}" in err
        assert _gone(pid), f"Prozess {pid} lebt weiter"


def test_a_command_that_ends_normally_does_not_wait_for_the_guard(tmp_path):
    """The guard waits in a thread of its own: a normal end is not delayed by its grace."""
    inst = Install(tmp_path)
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "pipelines.cli", "--version"], cwd=tmp_path,
                         env=inst.env(INOBHUT_TEST_EXIT_GRACE_S="60"), capture_output=True, text=True, timeout=TIMEOUT_S)
    assert res.returncode == 0 and "inobhut" in res.stdout
    assert "nicht von selbst" not in res.stderr
    assert time.monotonic() - t0 < 30


def test_a_command_failing_with_an_uncaught_exception_ends_too(tmp_path):
    """An exception nothing catches (a bug) ends the command the same way: the traceback as the
    interpreter prints it, exit code 1, and a child that would keep it alive is killed after the
    grace (without the guard the interpreter's teardown joins it for ever)."""
    inst = Install(tmp_path)
    pid_file = tmp_path / "haengt.pid"
    proc, out, err = _run_to_its_end(["--version"], tmp_path, inst.env(
        INOBHUT_TEST_STUCK_AT_EXIT=f"child:{pid_file}", INOBHUT_TEST_CRASH="1", INOBHUT_TEST_EXIT_GRACE_S=str(GRACE_S)))
    assert proc.returncode == 1, out[-2000:] + err[-2000:]
    assert err.count("Traceback (most recent call last)") == 1, err[-3000:]
    assert "RuntimeError: Testfehler" in err
    assert "endete nach 2 s nicht von selbst" in err.replace("\n", " "), err[-2000:]
    pid = int(pid_file.read_text())
    assert _gone(pid), f"Prozess {pid} lebt weiter"
