"""Archive intake: byte-identical copies, versions, corrections, unassignable files untouched."""

from __future__ import annotations

import hashlib
import os

from inobhut.archive import intake, list_versions, pending_files
from inobhut.config import office_keys

MEMBERS = set(office_keys())


def _write(p, data: bytes):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_intake_archives_unchanged_with_checksum_and_versions(inobhut_env):
    landing, archive = inobhut_env.landing, inobhut_env.archive
    content = "Fallnummer;Jugendamt\nA1;08111\n".encode("cp1252")
    src = _write(landing / "08111" / "08111_massnahmen_2024-03.csv", content)
    s1 = intake(landing, archive, MEMBERS)
    assert [v.version for v in s1.new_versions] == [1]
    v1 = s1.new_versions[0]
    assert v1.sha256 == hashlib.sha256(content).hexdigest()
    assert v1.path(archive).read_bytes() == content
    assert src.exists() and src.read_bytes() == content  # landing file untouched

    # same content again: no new version (idempotent rerun)
    s2 = intake(landing, archive, MEMBERS)
    assert s2.new_versions == [] and s2.unchanged == 1

    # a correction with the same name is version 2; version 1 stays archived unchanged
    _write(src, content + b"A2;08111\n")
    s3 = intake(landing, archive, MEMBERS)
    assert [v.version for v in s3.new_versions] == [2]
    versions = list_versions(archive, "08111", "massnahmen", "2024-03")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].path(archive).read_bytes() == content

    # re-delivering the old content is again a new (newest) version
    _write(src, content)
    s4 = intake(landing, archive, MEMBERS)
    assert [v.version for v in s4.new_versions] == [3]


def test_unassignable_files_are_reported_and_left_untouched(inobhut_env, tmp_path):
    landing, archive = inobhut_env.landing, inobhut_env.archive
    cases = {
        "08111/massnahmen_2024-03.csv": "Muster",
        "08111/08111_massnahmen_2024-13.csv": "Ungültiger Monat",
        "08111/08111_kosten_2024-03.csv": "Unbekannter Datensatz",
        "08111/08111_massnahmen_2024-03.xls": "Dateityp",
        "99999/99999_massnahmen_2024-03.csv": "kein Mitglieds-Jugendamt",
        "08115/08111_massnahmen_2024-03.csv": "gehört in den Ordner „08111“",
        "08111_massnahmen_2024-03.csv": "nicht im Ordner",
        "08111/unter/08111_massnahmen_2024-03.csv": "nicht im Ordner",
    }
    for rel in cases:
        _write(landing / rel, b"x")
    outside = _write(tmp_path / "elsewhere.csv", b"secret")
    os.symlink(outside, landing / "08111" / "08111_uma_2024-03.csv")
    s = intake(landing, archive, MEMBERS)
    assert s.new_versions == []
    reasons = {u.path: u.reason for u in s.unassignable}
    for rel, fragment in cases.items():
        assert fragment in reasons[rel], (rel, reasons.get(rel))
        assert (landing / rel).read_bytes() == b"x"
    assert "Verknüpfungen" in reasons["08111/08111_uma_2024-03.csv"]
    assert list_versions(archive) == []


def test_leading_zero_lost_in_name_is_restored(inobhut_env):
    landing, archive = inobhut_env.landing, inobhut_env.archive
    _write(landing / "08111" / "8111_plaetze_2024-03.csv", b"a")
    s = intake(landing, archive, MEMBERS)
    assert [(v.ags, v.dataset, v.month) for v in s.new_versions] == [("08111", "plaetze", "2024-03")]


def test_pending_files(inobhut_env):
    landing, archive = inobhut_env.landing, inobhut_env.archive
    p = _write(landing / "08111" / "08111_plaetze_2024-03.csv", b"a")
    assert [dn.month for _, dn in pending_files(landing, archive, MEMBERS)] == ["2024-03"]
    intake(landing, archive, MEMBERS)
    assert pending_files(landing, archive, MEMBERS) == []
    _write(p, b"b")
    assert len(pending_files(landing, archive, MEMBERS)) == 1


def test_confirmations_file_is_not_a_delivery(inobhut_env):
    landing, archive = inobhut_env.landing, inobhut_env.archive
    _write(landing / "08111" / "bestaetigungen.csv", b"Regel;Monat\n")
    s = intake(landing, archive, MEMBERS)
    assert s.new_versions == [] and s.unassignable == []


def test_newest_version_is_the_last_listed_beyond_nine_versions(inobhut_env):
    """An intake compares a landing file with the newest version only (newest_version reads one
    sidecar): after ten corrections and back to an earlier content, the version numbers go on and
    the newest is what list_versions lists last (v0010 after v0009)."""
    from inobhut.archive import newest_version

    landing, archive = inobhut_env.landing, inobhut_env.archive
    src = landing / "08111" / "08111_massnahmen_2024-03.csv"
    assert newest_version(archive, "08111", "massnahmen", "2024-03") is None
    for i in range(11):
        _write(src, f"Fallnummer;Jugendamt\nA{i};08111\n".encode())
        intake(landing, archive, MEMBERS)
        assert newest_version(archive, "08111", "massnahmen", "2024-03") == list_versions(archive, "08111", "massnahmen", "2024-03")[-1]
    _write(src, b"Fallnummer;Jugendamt\nA0;08111\n")  # the first content again: a new version
    s = intake(landing, archive, MEMBERS)
    assert [v.version for v in s.new_versions] == [12]
    assert newest_version(archive, "08111", "massnahmen", "2024-03").version == 12
    assert pending_files(landing, archive, MEMBERS) == []
    assert newest_version(archive, "08111", "massnahmen", "2024-04") is None
