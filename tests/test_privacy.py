"""Data minimisation and hostile input: case numbers never in texts, identifying columns refused
and quarantined, full birth dates refused, hostile Excel XML refused before parsing."""

from __future__ import annotations

import datetime as dt
import json
import stat
import zipfile
from pathlib import Path

import pytest

from inobhut import archive, audit, quarantine
from inobhut.config import office_keys
from inobhut.validation import validate_file
from tests.bad_input.builders import KEY, headers, massnahme, uma, write_csv, write_xlsx

HOSTILE_CASE_NUMBERS = [
    "AZ-" + "0815/2024-" * 5,  # longer than 40 characters (rule Z003 quotes the value)
    "FN 77 123",  # with spaces
    "JA|2025|Fall;42",  # with separators (even the CSV delimiter, quoted)
    "  KN-4711  ",  # surrounding spaces
]


def _texts(result) -> list[str]:
    return [t for f in result.findings for t in (f.wert, f.meldung, f.hinweis) if t]


def test_no_finding_text_contains_a_raw_case_number(tmp_path):
    """Every rule about the Fallnummer column and every rule that quotes another column builds
    its message from the masked value; a case number in another column is a Fehler (Z092)."""
    rows = [massnahme(Fallnummer=n) for n in HOSTILE_CASE_NUMBERS]
    rows.append(massnahme(Fallnummer="IO-5", Beginn="FN 77 123"))  # case number in a date column
    rows.append(massnahme(Fallnummer="IO-6", Einrichtung="KN-4711"))  # ... and in a text column
    rows.append(massnahme(Fallnummer="IO-7", Geschlecht="JA|2025|Fall;42"))  # ... and in a code column
    p = write_csv(tmp_path / "08335_massnahmen_2025-03.csv", "massnahmen", rows)
    result, _ = validate_file(p, key=KEY)
    texts = "\n".join(_texts(result))
    for n in HOSTILE_CASE_NUMBERS:
        assert n.strip() not in texts, n
    assert any(f.rule_id == "Z003" and f.spalte == "Fallnummer" and f.wert.startswith("***") for f in result.findings)
    p004 = sorted((f.zeile, f.spalte) for f in result.findings if f.rule_id == "Z092")
    assert p004 == [(6, "Beginn"), (7, "Einrichtung"), (8, "Geschlecht")]
    assert result.verdict == "abgelehnt"


@pytest.mark.parametrize("extra,kind", [
    ("Name", "Namen"), ("Vorname", "Namen"), ("Nachname", "Namen"), ("First Name", "Namen"), ("surname", "Namen"),
    ("Geburtsdatum", "vollständige Geburtsdaten"), ("Date of Birth", "vollständige Geburtsdaten"), ("Geb.-Datum", "vollständige Geburtsdaten"),
    ("Anschrift", "Anschriften"), ("Straße", "Anschriften"), ("Address", "Anschriften"), ("PLZ", "Anschriften"),
    ("Telefon", "Telefonnummern"), ("Tel.", "Telefonnummern"), ("Phone", "Telefonnummern"), ("Handy", "Telefonnummern"),
    ("E-Mail", "E-Mail-Adressen"), ("Email Address", "E-Mail-Adressen"),
])
def test_identifying_header_is_a_fehler(tmp_path, extra, kind):
    rows = [massnahme()]
    hdr = headers("massnahmen") + [extra]
    p = write_csv(tmp_path / "08335_massnahmen_2025-03.csv", "massnahmen", rows, header=hdr)
    result, _ = validate_file(p, key=KEY)
    p001 = [f for f in result.findings if f.rule_id == "D091"]
    assert result.verdict == "abgelehnt" and len(p001) == 1, result.findings
    assert p001[0].spalte == extra and kind in p001[0].meldung and "löschen" in p001[0].hinweis
    assert not any(f.rule_id == "D014" for f in result.findings)  # not just "unknown column, ignored"


@pytest.mark.parametrize("header,values,kind", [
    ("Bemerkung", ["Ahmad Rahimi", "Anna Schmidt", "Max"], "Namen"),
    ("Info", ["kind@example.org", "", ""], "E-Mail-Adressen"),
    ("Kontakt", ["0711 1234567", "+49 7531 98765", "0151 2345678"], "Telefonnummern"),
    ("Wohnt", ["Hauptstraße 12", "78462 Konstanz", "Seeweg 3a"], "Anschriften"),
    ("Datum", ["17.07.2008", "03.11.2010", "2009-02-14"], "vollständige Geburtsdaten"),
])
def test_identifying_content_in_an_extra_column_is_a_fehler(tmp_path, header, values, kind):
    rows = [uma(Fallnummer=f"U-{i}", **{header: v}) for i, v in enumerate(values)]
    p = write_csv(tmp_path / "08335_uma_2025-03.csv", "uma", rows, header=headers("uma") + [header])
    result, _ = validate_file(p, key=KEY)
    p002 = [f for f in result.findings if f.rule_id == "D092"]
    assert result.verdict == "abgelehnt" and len(p002) == 1, result.findings
    assert p002[0].spalte == header and kind in p002[0].meldung
    for v in values:
        if v:
            assert v not in "\n".join(_texts(result))


def test_identifying_content_in_a_dataset_text_column(tmp_path):
    rows = [uma(Fallnummer="mutter@example.org")]
    p = write_csv(tmp_path / "08335_uma_2025-03.csv", "uma", rows)
    result, _ = validate_file(p, key=KEY)
    assert [f.rule_id for f in result.findings if f.rule_id in ("D091", "D092", "D093", "Z091", "Z092")] == ["D092"]
    assert "mutter@example.org" not in "\n".join(_texts(result))


def test_harmless_extra_columns_and_facility_names_are_no_personal_data(tmp_path):
    rows = [uma(Fallnummer="U-1", Bemerkung="Clearing läuft", Zimmer="12"),
            uma(Fallnummer="U-2", Bemerkung="Kinderschutzstelle Nord", Zimmer="3")]
    p = write_csv(tmp_path / "08335_uma_2025-03.csv", "uma", rows, header=headers("uma") + ["Bemerkung", "Zimmer"])
    result, _ = validate_file(p, key=KEY)
    assert not [f for f in result.findings if f.rule_id in ("D091", "D092", "D093", "Z091", "Z092")]
    assert result.verdict != "abgelehnt"


@pytest.mark.parametrize("value,full", [
    ("17.07.2008", True), ("2008-07-17", True), ("07.2008", False), ("2008-07", False), ("01.07.2008", False),
    (dt.datetime(2008, 7, 17), True), (dt.datetime(2008, 7, 1), False), (39646, True),  # serial of 17.07.2008
])
def test_full_birth_date_in_geburtsmonat_is_a_fehler_not_cut(tmp_path, value, full):
    hdr = headers("uma")
    row = uma()
    cells = [value if h == "Geburtsmonat" else row[h] for h in hdr]
    p = write_xlsx(tmp_path / "08335_uma_2025-03.xlsx", "uma", [cells])
    result, _ = validate_file(p, key=KEY)
    p003 = [f for f in result.findings if f.rule_id == "Z091"]
    assert bool(p003) == full, result.findings
    if full:
        assert result.verdict == "abgelehnt" and p003[0].zeile == 2 and p003[0].wert is None


# --------------------------------------------------------------------------- hostile XML


def _rewrite_part(src: Path, dst: Path, part: str, fn) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == part:
                data = fn(data)
            zout.writestr(info, data)
    return dst


def _body(d: bytes) -> bytes:
    return d.split(b"?>", 1)[1] if d.startswith(b"<?xml") else d


LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
          + b"]>\n")


@pytest.mark.parametrize("part,fn,what", [
    ("xl/worksheets/sheet1.xml", lambda d: LAUGHS + _body(d), "DTD"),
    ("docProps/core.xml", lambda d: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + _body(d), "DTD"),
    ("xl/workbook.xml", lambda d: b"<!-- harmless -->\n<!DOCTYPE workbook>" + _body(d), "DTD"),
    ("xl/worksheets/sheet1.xml", lambda d: ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]>'.encode("utf-16")
                                            + _body(d).decode("utf-8").encode("utf-16-le")), "DTD"),
    ("xl/_rels/workbook.xml.rels", lambda d: d.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink" Target="http://example.org/x.xlsx" TargetMode="External"/></Relationships>'), "externe"),
])
def test_hostile_xml_in_xlsx_is_refused_before_parsing(tmp_path, part, fn, what):
    good = write_xlsx(tmp_path / "good.xlsx", "uma", [[uma()[h] for h in headers("uma")]])
    with zipfile.ZipFile(good) as z:
        assert part in z.namelist()
    bad = _rewrite_part(good, tmp_path / "08335_uma_2025-03.xlsx", part, fn)
    result, _ = validate_file(bad, key=KEY)
    assert [f.rule_id for f in result.findings] == ["D093"], result.findings
    assert what in result.findings[0].meldung and part in result.findings[0].meldung


def test_external_link_part_is_refused(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", "uma", [[uma()[h] for h in headers("uma")]])
    dst = tmp_path / "08335_uma_2025-03.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/externalLinks/externalLink1.xml", "<externalLink/>")
    result, _ = validate_file(dst, key=KEY)
    assert [f.rule_id for f in result.findings] == ["D093"]


def test_plain_xlsx_with_hyperlink_still_reads(tmp_path):
    def link(wb, ws):
        ws["Z1"].hyperlink = "https://example.org/"

    good = write_xlsx(tmp_path / "08335_uma_2025-03.xlsx", "uma", [[uma()[h] for h in headers("uma")]], edit=link)
    result, _ = validate_file(good, key=KEY)
    assert not any(f.rule_id == "D093" for f in result.findings)
    assert result.verdict != "abgelehnt", result.findings


# --------------------------------------------------------------------------- quarantine


def test_identifying_delivery_is_quarantined_not_archived(tmp_path, monkeypatch):
    landing, arch = tmp_path / "landing", tmp_path / "data" / "archive"
    monkeypatch.delenv(quarantine.ENV, raising=False)
    (landing / "08335").mkdir(parents=True)
    src = write_csv(landing / "08335" / "08335_uma_2025-03.csv", "uma",
                    [uma(Name="Rahimi", Vorname="Ahmad", Geburtsdatum="17.07.2008", Anschrift="Hauptstraße 1")],
                    header=headers("uma") + ["Name", "Vorname", "Geburtsdatum", "Anschrift"])
    ok = write_csv(landing / "08335" / "08335_massnahmen_2025-03.csv", "massnahmen", [massnahme()])
    digest = archive.sha256_file(src)
    summary = archive.intake(landing, arch, set(office_keys()))
    assert [v.dataset for v in summary.new_versions] == ["massnahmen"]
    assert [q.dataset for q in summary.quarantined] == ["uma"]
    assert not src.exists() and ok.exists()  # landing file removed only after the verified copy
    assert archive.list_versions(arch, "08335", "uma") == []
    qroot = tmp_path / "data" / "quarantaene"
    q = summary.quarantined[0]
    qfile = qroot / q.quarantine_file
    assert archive.sha256_file(qfile) == digest == q.sha256
    assert stat.S_IMODE(qroot.stat().st_mode) == 0o700 and stat.S_IMODE(qfile.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(qfile.stat().st_mode) == 0o600
    assert stat.S_IMODE(qfile.with_suffix(".json").stat().st_mode) == 0o600
    side = json.loads(qfile.with_suffix(".json").read_text(encoding="utf-8"))
    assert sorted(r["spalte"] for r in side["reasons"]) == ["Anschrift", "Geburtsdatum", "Name", "Vorname"]
    text = qfile.with_suffix(".json").read_text(encoding="utf-8")
    for v in ("Rahimi", "Ahmad", "17.07.2008", "Hauptstraße"):
        assert v not in text
    ev = [e for e in audit.read(arch) if e["ereignis"] == "quarantaene"]
    assert len(ev) == 1 and ev[0]["sha256"] == digest and "Rahimi" not in json.dumps(ev)
    # the steward's Prüfbericht (without the values)
    out = tmp_path / "out"
    files = quarantine.write_reports(summary.quarantined, out)
    html = next(p for p in files if p.suffix == ".html").read_text(encoding="utf-8")
    assert "abgelehnt" in html and "Vorname" in html and "Rahimi" not in html and "17.07.2008" not in html
    # retention: deleted after the period, with an audit entry
    assert quarantine.cleanup(arch, today=dt.date.today()) == []
    gone = quarantine.cleanup(arch, today=dt.date.today() + dt.timedelta(days=quarantine.retention_days()))
    assert len(gone) == 1 and not qfile.exists() and not qfile.with_suffix(".json").exists()
    assert [e["ereignis"] for e in audit.read(arch)][-1] == "loeschung"


def test_quarantine_directory_is_configurable(tmp_path, monkeypatch):
    monkeypatch.setenv(quarantine.ENV, str(tmp_path / "q"))
    landing, arch = tmp_path / "landing", tmp_path / "archive"
    (landing / "08335").mkdir(parents=True)
    write_csv(landing / "08335" / "08335_uma_2025-03.csv", "uma", [uma(EMail="a@b.de")], header=headers("uma") + ["EMail"])
    summary = archive.intake(landing, arch, set(office_keys()))
    assert len(summary.quarantined) == 1 and (tmp_path / "q" / summary.quarantined[0].quarantine_file).exists()


def test_intake_of_many_files_screens_them_all_and_quarantines_only_the_identifying(tmp_path, monkeypatch):
    """With many new files the screening runs on all cores before anything is archived: the one
    file with identifying data (among twelve, and a second month of it) still goes to the
    quarantine, every other file into the archive, each with its version."""
    landing, arch = tmp_path / "landing", tmp_path / "data" / "archive"
    monkeypatch.delenv(quarantine.ENV, raising=False)
    (landing / "08335").mkdir(parents=True)
    bad = None
    for m in range(1, 13):
        month = f"2025-{m:02d}"
        if m == 7:
            bad = write_csv(landing / "08335" / f"08335_uma_{month}.csv", "uma", [uma(Name="Rahimi")],
                            header=headers("uma") + ["Name"])
        write_csv(landing / "08335" / f"08335_massnahmen_{month}.csv", "massnahmen", [massnahme()])
    summary = archive.intake(landing, arch, set(office_keys()))
    assert [(q.dataset, q.month) for q in summary.quarantined] == [("uma", "2025-07")]
    assert sorted(v.month for v in summary.new_versions) == [f"2025-{m:02d}" for m in range(1, 13)]
    assert {v.dataset for v in summary.new_versions} == {"massnahmen"} and not bad.exists()
    assert archive.list_versions(arch, "08335", "uma") == []
    # a second intake of the same landing zone adds nothing
    again = archive.intake(landing, arch, set(office_keys()))
    assert again.new_versions == [] and again.quarantined == [] and again.unchanged == 12
