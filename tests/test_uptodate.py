"""An unchanged rerun starts no Dagster run; any change of input or output makes it run again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from inobhut import uptodate
from inobhut.generate import generate
from pipelines.cli import main
from tests.conftest import TEST_ENV_KEY

KEY = TEST_ENV_KEY.encode()


def _runs(home) -> int:
    """Runs of the pipeline job (each is followed by a run of the yearly federal statistic)."""
    with dg.DagsterInstance.from_config(str(home)) as inst:
        return len(inst.get_runs(filters=dg.RunsFilter(job_name="inobhut")))


@pytest.mark.slow
def test_unchanged_rerun_is_skipped_and_changes_are_not(inobhut_env, tmp_path):
    paths = inobhut_env
    generate(paths.landing, "2025-01", "2025-02", seed=3, fehlerquote=0.0, jugendaemter=["01062", "01053"])
    home = tmp_path / "dagster_home"
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    assert _runs(home) == 1
    assert uptodate.is_up_to_date(paths, KEY)

    res = CliRunner().invoke(main, ["run"])  # nothing new
    assert res.exit_code == 0, res.output
    assert "Nichts Neues" in res.output
    assert _runs(home) == 1

    # the outputs are checked against the manifest's checksum cache: none is hashed again
    from inobhut import archive

    hashed: list[str] = []
    real = archive.sha256_file
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(archive, "sha256_file", lambda p, *a, **k: (hashed.append(Path(p).name), real(p, *a, **k))[1])
        assert uptodate.is_up_to_date(paths, KEY)
    assert not [n for n in hashed if n != "manifest.json"]

    # an output that went missing or was changed: the run rebuilds it
    manifest = json.loads((paths.out / "manifest.json").read_text(encoding="utf-8"))
    victim = paths.out / manifest["ausgaben"][0]["datei"]
    original = victim.read_bytes()
    st = victim.stat()  # changed in place, same size, the old mtime restored: found by its ctime
    victim.write_bytes(original[:-1] + (b"#" if original[-1:] != b"#" else b"+"))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert not uptodate.is_up_to_date(paths, KEY)
    victim.unlink()
    assert not uptodate.is_up_to_date(paths, KEY)
    victim.write_bytes(original + b" ")
    assert not uptodate.is_up_to_date(paths, KEY)
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    assert _runs(home) == 2
    assert victim.read_bytes() == original

    # a correction delivery in the landing zone
    f = sorted((paths.landing / "01062").glob("01062_plaetze_2025-02.*"))[0]
    f.write_bytes(f.read_bytes().rstrip(b"\r\n") + b"\n")
    assert not uptodate.is_up_to_date(paths, KEY)
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    assert _runs(home) == 3
    assert uptodate.is_up_to_date(paths, KEY)

    # a verdict of an older rule catalogue, a changed confirmation file, another key
    verdict = next(paths.staging.rglob("v0001.json"))
    data = json.loads(verdict.read_text(encoding="utf-8"))
    saved = verdict.read_text(encoding="utf-8")
    verdict.write_text(json.dumps({**data, "rules_version": "alt"}), encoding="utf-8")
    assert not uptodate.is_up_to_date(paths, KEY)
    verdict.write_text(saved, encoding="utf-8")
    assert uptodate.is_up_to_date(paths, KEY)
    assert not uptodate.is_up_to_date(paths, b"ein-anderer-schluessel")
    (paths.landing / "01053" / "bestaetigungen.csv").write_text("x\n", encoding="utf-8")
    assert not uptodate.is_up_to_date(paths, KEY)
