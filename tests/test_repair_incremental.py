"""The start-of-run check of the staging area reads only what changed since the last check that
found nothing (inobhut.repair: ``.unversehrt``), and still finds every damage a write can leave:
a torn file, a removed file of an accepted version, a file replaced by another."""

from __future__ import annotations

import json
import os
import time

import pandas as pd
import pytest

from inobhut import repair
from inobhut.archive import intake, list_versions
from inobhut.config import office_keys
from inobhut.staging import Verdict, version_dir
from tests.helpers_calls import count_calls

MEMBERS = set(office_keys())


@pytest.fixture
def staged(inobhut_env):
    """Three archived versions, each with complete staging files (verdict accepted)."""
    from dataclasses import asdict

    for i, ags in enumerate(("08111", "08115", "08116")):
        p = inobhut_env.landing / ags / f"{ags}_massnahmen_2024-03.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"Fallnummer;Jugendamt\nA{i};{ags}\n".encode())
    intake(inobhut_env.landing, inobhut_env.archive, MEMBERS)
    versions = list_versions(inobhut_env.archive)
    assert len(versions) == 3
    for v in versions:
        d = version_dir(inobhut_env.staging, v)
        d.mkdir(parents=True, exist_ok=True)
        (d / "v0001.json").write_text(json.dumps(asdict(Verdict("angenommen", 1, 0, 0, "r1"))), encoding="utf-8")
        (d / "v0001.pruefung.json").write_text("{}", encoding="utf-8")
        pd.DataFrame({"a": [1]}).to_parquet(d / "v0001.parquet")
    return inobhut_env, versions


@pytest.fixture
def counted(monkeypatch):
    return count_calls(monkeypatch, repair, "_json_ok")


def _checked_now(paths) -> None:
    """As if the last clean check had begun just now, after the files were written (the marker
    otherwise lies CHECK_MARGIN_NS before the check, which re-reads files written just before it);
    later writes get later times than the marker (the pause covers the kernel's coarse clock)."""
    time.sleep(0.05)
    (paths.staging / repair.CLEAN_MARKER).write_text(f"{time.time_ns()}\n")
    time.sleep(0.05)


def test_unchanged_versions_are_not_read_again(staged, counted):
    paths, _ = staged
    assert repair.repair_derived_state(paths).damages == []
    assert len(counted) == 6  # first check: every JSON of every version
    counted.clear()
    assert repair.repair_derived_state(paths).damages == []
    assert len(counted) == 6  # written within the margin before the last check: read again
    _checked_now(paths)
    counted.clear()
    assert repair.repair_derived_state(paths).damages == []
    assert counted == []  # nothing changed since: nothing read (fails without the marker)


@pytest.mark.parametrize("damage", ["torn_parquet", "torn_json", "removed_parquet", "replaced_json"])
def test_damage_after_the_last_check_is_found(staged, damage):
    paths, versions = staged
    assert repair.repair_derived_state(paths).damages == []
    _checked_now(paths)
    d = version_dir(paths.staging, versions[1])
    if damage == "torn_parquet":
        data = (d / "v0001.parquet").read_bytes()
        (d / "v0001.parquet").write_bytes(data[: len(data) // 2])
    elif damage == "torn_json":
        (d / "v0001.pruefung.json").write_text("{\"unvollst", encoding="utf-8")
    elif damage == "removed_parquet":
        (d / "v0001.parquet").unlink()
    else:  # renamed over the verdict, old times kept by the copy
        bad = d / "neu.json"
        bad.write_text("kein json", encoding="utf-8")
        st = (d / "v0001.json").stat()
        os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(bad, d / "v0001.json")
    rep = repair.repair_derived_state(paths)
    assert [dm.version for dm in rep.damages] == [versions[1]]
    assert rep.months == {"2024-03"}


def test_a_clock_set_back_or_a_broken_marker_means_a_full_check(staged, counted):
    paths, versions = staged
    repair.repair_derived_state(paths)
    counted.clear()
    (paths.staging / repair.CLEAN_MARKER).write_text(f"{time.time_ns() + 3600 * 10**9}\n")  # in the future
    repair.repair_derived_state(paths)
    assert len(counted) == 6
    counted.clear()
    (paths.staging / repair.CLEAN_MARKER).write_text("kaputt")
    repair.repair_derived_state(paths)
    assert len(counted) == 6


def test_only_versions_written_after_the_marker_are_read(staged, counted):
    paths, versions = staged
    repair.repair_derived_state(paths)
    _checked_now(paths)
    d = version_dir(paths.staging, versions[2])
    (d / "v0001.pruefung.json").write_text("{\"neu\": 1}", encoding="utf-8")
    counted.clear()
    assert repair.repair_derived_state(paths).damages == []
    assert sorted({p.parent for (p,) in counted}) == [d]


def test_sidecars_of_unchanged_versions_are_not_read(staged, monkeypatch):
    """The archive's sidecars are read only for versions whose staging files changed (ten years:
    24,000 sidecars, 1.6 s of every start)."""
    from inobhut import archive

    paths, versions = staged
    repair.repair_derived_state(paths)
    _checked_now(paths)
    reads = []
    real = archive.read_sidecar
    monkeypatch.setattr(archive, "read_sidecar", lambda p: reads.append(os.fspath(p)) or real(p))
    assert repair.repair_derived_state(paths).damages == []
    assert reads == []  # fails when the check lists every version with its sidecar
    _checked_now(paths)
    d = version_dir(paths.staging, versions[2])
    (d / "v0001.pruefung.json").write_text("{\"neu\": 1}", encoding="utf-8")
    assert repair.repair_derived_state(paths).damages == []
    assert reads == [os.fspath(versions[2].path(paths.archive).with_name("v0001.json"))]


def test_every_temporary_name_passes_the_quick_filter():
    """clean_leftovers looks at a name only if it ends with .tmp or starts with .tmp-: every
    pattern of a temporary name must imply that."""
    from inobhut.atomic import LEGACY_TEMP_RES, TEMP_RE

    for r in (TEMP_RE, *LEGACY_TEMP_RES):
        assert r.pattern.endswith(r"\.tmp$") or r.pattern.startswith(r"^\.tmp-"), r.pattern


@pytest.mark.parametrize("damaged", [False, True])
def test_a_long_run_checks_what_it_wrote_so_the_next_start_reads_nothing(staged, counted, monkeypatch, damaged):
    """After a successful run over LARGE_RUN_MONTHS months or more (a backfill), the versions it
    wrote are checked at its end and the marker moves: the nightly run after it reads none of
    them (fails when the check is left to the next start). Damage found there keeps the marker,
    so the next start finds and repairs it. Short or failed runs leave everything to the next start."""
    from inobhut import atomic
    from pipelines.runner import LARGE_RUN_MONTHS, _sweep_cache, checks_after_run

    paths, versions = staged
    monkeypatch.setattr(repair, "CHECK_MARGIN_NS", 0)  # the files were written just before the check
    time.sleep(0.05)
    if damaged:
        p = version_dir(paths.staging, versions[0]) / "v0001.parquet"
        p.write_bytes(p.read_bytes()[:7])
    marker = paths.staging / repair.CLEAN_MARKER
    checks_after_run(paths, atomic.Cleanup(), "2024-03", "2024-03", success=True)
    checks_after_run(paths, atomic.Cleanup(), "2023-01", "2024-03", success=False)
    assert not marker.exists() and not _sweep_cache(paths).exists() and counted == []
    checks_after_run(paths, atomic.Cleanup(), "2024-03", "2025-02", success=True)  # ≥ LARGE_RUN_MONTHS
    assert LARGE_RUN_MONTHS <= 12 and _sweep_cache(paths).exists()
    assert marker.exists() is not damaged
    counted.clear()
    rep = repair.repair_derived_state(paths)
    if damaged:
        assert [dm.version for dm in rep.damages] == [versions[0]]
    else:
        assert rep.damages == [] and counted == []


def test_a_failing_check_at_the_end_of_a_long_run_leaves_it_to_the_next_start(staged, monkeypatch):
    """An unreadable file met by the check at the end of a successful long run does not turn the
    run into a failure (the check only takes work off the next start): the marker stays."""
    from inobhut import atomic
    from pipelines.runner import checks_after_run

    paths, _ = staged

    def unreadable(*_a, **_k):
        raise PermissionError(13, "Keine Berechtigung")

    monkeypatch.setattr(repair, "check_staging", unreadable)
    checks_after_run(paths, atomic.Cleanup(), "2023-01", "2024-03", success=True)
    assert not (paths.staging / repair.CLEAN_MARKER).exists()
