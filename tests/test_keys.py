"""Key handling: key strength, the stored fingerprint, refusal of another key, validate without
the production key, and the key rotation through a real Dagster run."""

from __future__ import annotations

import warnings

import pytest
from click.testing import CliRunner

from inobhut import audit, pseudonym
from inobhut.config import DEMO_PSEUDONYM_KEY
from pipelines.cli import main
from tests.conftest import FIXTURES, TEST_ENV_KEY

OTHER_KEY = "ein-ganz-anderer-schluessel-fuer-den-test-4b8e1d"


@pytest.mark.parametrize("key", ["zehnzeichn", " " * 40, "\t \n" * 20, "a" * 40, "abcabcabcabcabcabcabcabcabcabcabcabc", " kurz " + " " * 30])
def test_weak_keys_are_refused(monkeypatch, key):
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", key)
    with pytest.raises(pseudonym.MissingKeyError) as exc:
        pseudonym.key_from_env()
    assert "mindestens 32" in str(exc.value) or "Kein Pseudonymisierungsschlüssel" in str(exc.value)


def test_strong_keys_and_the_demo_key_are_accepted(monkeypatch):
    for key in (TEST_ENV_KEY, DEMO_PSEUDONYM_KEY, "x7Gq-2mP9sLw4KzR8vYt1NcB6hJ3dF0aQeU5"):
        monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", key)
        assert pseudonym.key_from_env() == key.encode()
    assert len(DEMO_PSEUDONYM_KEY.encode()) >= 32


def test_run_refuses_a_weak_key(inobhut_env, monkeypatch):
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", "zehnzeichn")
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 2 and "zu schwach" in res.output


def test_fingerprint_is_stored_never_the_key_and_another_key_is_refused(inobhut_env, monkeypatch):
    paths = inobhut_env
    key = TEST_ENV_KEY.encode()
    fp = pseudonym.check_and_record(paths.staging, paths.warehouse, key)
    assert fp == pseudonym.fingerprint(key) and len(fp) == 16
    assert pseudonym.staging_fingerprint(paths.staging) == fp == pseudonym.warehouse_fingerprint(paths.warehouse)
    for f in [paths.staging / pseudonym.STAGING_FILE, paths.warehouse]:
        assert TEST_ENV_KEY.encode() not in f.read_bytes()
    assert pseudonym.check_and_record(paths.staging, paths.warehouse, key) == fp  # same key: fine
    with pytest.raises(pseudonym.KeyMismatchError) as exc:
        pseudonym.check_and_record(paths.staging, paths.warehouse, OTHER_KEY.encode())
    assert "passt nicht" in str(exc.value) and "inobhut schluessel wechseln" in str(exc.value)
    # the command line refuses to start with the other key
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", OTHER_KEY)
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 2 and "passt nicht zu den vorhandenen Daten" in res.output
    res = CliRunner().invoke(main, ["schluessel", "fingerabdruck"])
    assert res.exit_code == 1 and fp in res.output


def test_a_warehouse_of_another_key_is_refused_even_without_staging(inobhut_env):
    paths = inobhut_env
    pseudonym.write_fingerprint(paths.staging, paths.warehouse, TEST_ENV_KEY.encode())
    (paths.staging / pseudonym.STAGING_FILE).unlink()
    with pytest.raises(pseudonym.KeyMismatchError):
        pseudonym.check_and_record(paths.staging, paths.warehouse, OTHER_KEY.encode())


def test_validate_never_uses_the_production_key(tmp_path, monkeypatch):
    from inobhut.validation import checks
    from tests.bad_input.builders import massnahme, write_csv

    seen = []
    real = checks.pseudonymise
    monkeypatch.setattr(checks, "pseudonymise", lambda ags, f, key: seen.append(key) or real(ags, f, key))
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", TEST_ENV_KEY)
    p = write_csv(tmp_path / "08335_massnahmen_2025-03.csv", "massnahmen", [massnahme()])
    res = CliRunner().invoke(main, ["validate", str(p), "--bericht", str(tmp_path / "pb")])
    assert res.exit_code == 0, res.output
    assert seen and all(k != TEST_ENV_KEY.encode() for k in seen)
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", "kurz")  # a weak or missing key does not matter to validate
    assert CliRunner().invoke(main, ["validate", str(p), "--bericht", str(tmp_path / "pb")]).exit_code == 0
    monkeypatch.delenv("INOBHUT_PSEUDONYM_KEY")
    assert CliRunner().invoke(main, ["validate", str(p), "--bericht", str(tmp_path / "pb")]).exit_code == 0


def _fall_ids(paths) -> set[str]:
    from inobhut.warehouse import Warehouse

    with Warehouse(paths.warehouse).connect() as con:
        return {r[0] for r in con.execute("SELECT fall_id FROM massnahmen UNION SELECT fall_id FROM uma").fetchall()}


def _raw_case_numbers(paths) -> set[tuple[str, str]]:
    from inobhut import ingest
    from inobhut.archive import list_versions

    out = set()
    for v in list_versions(paths.archive):
        if v.dataset in ("massnahmen", "uma"):
            rr = ingest.read_delivery(v.path(paths.archive), v.dataset, max_bytes=1 << 30, max_rows=10**6)
            out |= {(v.ags, f) for f in rr.frame["fallnummer"].dropna()}
    return out


@pytest.mark.slow
def test_key_rotation_rebuilds_everything_from_the_archive(inobhut_env, monkeypatch):
    """``inobhut schluessel wechseln``: every pseudonym is the HMAC under the new key, the new
    fingerprint is stored, the old key is refused afterwards, the audit trail records it."""
    warnings.filterwarnings("ignore")
    from inobhut.generate import generate
    from pipelines.runner import run_pipeline

    paths = inobhut_env
    monkeypatch.setenv("INOBHUT_CONFIG", str(FIXTURES / "settings_test.toml"))  # 4 offices: shorter Dagster runs
    generate(paths.landing, "2025-02", "2025-02", seed=3, jugendaemter=["01062"])
    assert run_pipeline(paths, ["2025-02"]).success
    before = _fall_ids(paths)
    raw = _raw_case_numbers(paths)
    assert before == {pseudonym.pseudonymise(a, f, TEST_ENV_KEY.encode()) for a, f in raw}

    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY_NEU", OTHER_KEY)
    res = CliRunner().invoke(main, ["schluessel", "wechseln"])
    assert res.exit_code == 0, res.output
    after = _fall_ids(paths)
    assert after == {pseudonym.pseudonymise(a, f, OTHER_KEY.encode()) for a, f in raw}
    assert not (after & before)
    fp_new = pseudonym.fingerprint(OTHER_KEY.encode())
    assert pseudonym.staging_fingerprint(paths.staging) == fp_new == pseudonym.warehouse_fingerprint(paths.warehouse)
    assert not list(paths.staging.parent.glob("staging.alt-*")) and not list(paths.warehouse.parent.glob("*.alt-*"))
    ev = [e for e in audit.read(paths.archive) if e["ereignis"] == "schluesselwechsel"]
    assert len(ev) == 1 and fp_new in ev[0]["detail"] and OTHER_KEY not in ev[0]["detail"]
    # the old key is refused from now on; the wrong old key cannot start a rotation either
    with pytest.raises(pseudonym.KeyMismatchError):
        pseudonym.check_and_record(paths.staging, paths.warehouse, TEST_ENV_KEY.encode())
    res = CliRunner().invoke(main, ["schluessel", "wechseln"])
    assert res.exit_code == 1 and "bisherige Schlüssel stimmt nicht" in res.output
