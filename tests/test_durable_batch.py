"""Files put in place together and durably (``inobhut.atomic.DurableBatch``; the archive's version
sidecars of one intake): complete or absent, never a temporary file left by a normal end or an
error, and one flush of the file system instead of one fsync per file."""

from __future__ import annotations

import os

import pytest

from inobhut import atomic
from inobhut.archive import intake, list_versions
from inobhut.config import office_keys
from tests.helpers_calls import count_calls


def _temps(folder) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_files_appear_together_at_the_end_of_the_block(tmp_path):
    with atomic.durable_batch() as batch:
        batch.write_text(tmp_path / "a" / "v0001.json", "eins")
        batch.write_text(tmp_path / "b" / "v0001.json", "zwei")
        assert not (tmp_path / "a" / "v0001.json").exists()  # not yet in place
    assert (tmp_path / "a" / "v0001.json").read_text(encoding="utf-8") == "eins"
    assert (tmp_path / "b" / "v0001.json").read_text(encoding="utf-8") == "zwei"
    assert _temps(tmp_path) == []


def test_an_error_leaves_nothing_in_place_and_no_temporary_file(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "v0001.json").write_text("alt", encoding="utf-8")
    with pytest.raises(OSError):
        with atomic.durable_batch() as batch:
            batch.write_text(tmp_path / "a" / "v0001.json", "neu")
            batch.write_text(tmp_path / "a" / "v0002.json", "neu")
            raise OSError("Datenträger voll")
    assert (tmp_path / "a" / "v0001.json").read_text(encoding="utf-8") == "alt"
    assert not (tmp_path / "a" / "v0002.json").exists()
    assert _temps(tmp_path) == []


def _landing(inobhut_env, n: int) -> None:
    keys = sorted(office_keys())[:n]
    for i, ags in enumerate(keys):
        p = inobhut_env.landing / ags / f"{ags}_massnahmen_2024-03.csv"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"Fallnummer;Jugendamt\nA{i};{ags}\n".encode())


def test_an_intake_flushes_once_instead_of_once_per_version(inobhut_env, monkeypatch):
    assert atomic._syncfs_function() is not None  # Linux: the tests run where syncfs exists
    _landing(inobhut_env, 12)
    fsyncs = count_calls(monkeypatch, os, "fsync")
    flushes: list[str] = []
    real = atomic._syncfs
    monkeypatch.setattr(atomic, "_syncfs", lambda p: flushes.append(str(p)) or real(p))
    summary = intake(inobhut_env.landing, inobhut_env.archive, set(office_keys()))
    assert len(summary.new_versions) == 12 == len(list_versions(inobhut_env.archive))
    assert len(flushes) == 2  # the data before the renames, the renames after them
    assert len(fsyncs) <= 1  # the audit journal's own fsync; none per sidecar
    assert _temps(inobhut_env.archive) == []


def test_without_syncfs_every_sidecar_is_fsynced(inobhut_env, monkeypatch):
    monkeypatch.setattr(atomic, "_syncfs_function", lambda: None)
    _landing(inobhut_env, 5)
    fsyncs = count_calls(monkeypatch, os, "fsync")
    summary = intake(inobhut_env.landing, inobhut_env.archive, set(office_keys()))
    assert len(summary.new_versions) == 5 == len(list_versions(inobhut_env.archive))
    assert len(fsyncs) >= 5
    assert _temps(inobhut_env.archive) == []


def test_a_failure_while_putting_in_place_discards_the_files_not_yet_in_place(tmp_path, monkeypatch):
    real = os.replace
    done: list[str] = []

    def failing(src, dst):
        if done:
            raise OSError("Datenträger voll")
        done.append(str(dst))
        return real(src, dst)

    with pytest.raises(OSError):
        with atomic.durable_batch() as batch:
            batch.write_text(tmp_path / "a.json", "eins")
            batch.write_text(tmp_path / "b.json", "zwei")
            monkeypatch.setattr(os, "replace", failing)
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == "eins"  # complete
    assert not (tmp_path / "b.json").exists()
    assert _temps(tmp_path) == []
