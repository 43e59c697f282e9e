"""Test helper: real schedule and sensor ticks, as the Dagster daemon runs them, on a temporary
instance.

Belongs here: a temporary ``DagsterInstance`` (SQLite under the test's ``DAGSTER_HOME``, runs
executed synchronously in this process), the code location loaded from a fresh copy of the
definitions (so the test settings' member offices count, not whatever an earlier test imported),
and one daemon iteration of the sensor or scheduler loop at a frozen time. Not here: assertions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def daemon_workspace(tmp: Path, overrides: dict | None = None) -> Iterator[tuple]:
    """``(instance, workspace_context)`` for daemon iterations; runs execute synchronously."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import create_test_daemon_workspace_context, instance_for_test
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

    defs_file = tmp / f"defs_{uuid.uuid4().hex[:8]}.py"
    defs_file.write_text("from pipelines.definitions import build_definitions\n\ndefs = build_definitions()\n",
                         encoding="utf-8")
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(python_file=str(defs_file), attribute="defs", working_directory=str(REPO)),
        location_name="inobhut",
    )
    home = tmp / "dagster_daemon_home"
    home.mkdir(exist_ok=True)
    with instance_for_test(overrides=overrides or {}, temp_dir=str(home), synchronous_run_coordinator=True,
                           synchronous_run_launcher=True) as instance:
        with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as ctx:
            yield instance, ctx


def sensor_tick(ctx, at: dt.datetime) -> None:
    """One iteration of the daemon's sensor loop at time ``at`` (every running sensor)."""
    from dagster._core.test_utils import freeze_time
    from dagster._daemon.sensor import execute_sensor_iteration

    with freeze_time(at):
        list(execute_sensor_iteration(ctx, logging.getLogger("inobhut.test.sensor"), None, None))


def schedule_tick(ctx, at: dt.datetime) -> None:
    """One iteration of the daemon's scheduler loop up to time ``at``."""
    from dagster._core.test_utils import freeze_time
    from dagster._scheduler.scheduler import launch_scheduled_runs

    with freeze_time(at):
        list(launch_scheduled_runs(ctx, logging.getLogger("inobhut.test.schedule"), at.astimezone(dt.timezone.utc), {}))


def ticks(instance, name: str, kind: str) -> list:
    """The stored ticks of a sensor or schedule, oldest first."""
    from dagster._core.scheduler.instigation import InstigatorType

    typ = InstigatorType.SENSOR if kind == "sensor" else InstigatorType.SCHEDULE
    states = [s for s in instance.all_instigator_state(instigator_type=typ) if s.name == name]
    assert states, f"kein Zustand für {name}"
    out = instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id, limit=100)
    return sorted(out, key=lambda t: t.timestamp)
