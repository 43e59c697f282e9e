"""Property-based fuzzing of the delivery readers: CSV bytes (structure, delimiters, encodings,
garbage), XLSX (typed cells, mutated and truncated zips, hostile parts), file names.

Every input must end in a result with German findings -- never an exception, never the catch-all
"unerwarteter/interner Fehler" (that would be a traceback in disguise) -- within bounded time and
memory. The CI run is short (about 20-30 s); the long run is documented in docs/sicherheit.md:

    INOBHUT_FUZZ_BEISPIELE=5000 pytest tests/test_fuzz_readers.py
"""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inobhut.naming import NameError_, parse_name
from inobhut.validation import prepare
from schemas.datasets import DATASETS
from tests.bad_input.builders import KEY, headers, massnahme, uma, write_xlsx

EXAMPLES = int(os.environ.get("INOBHUT_FUZZ_BEISPIELE", "0") or 0)
FUZZ = settings(max_examples=EXAMPLES or 40, deadline=None, derandomize=not EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
MAX_SECONDS = 20.0  # one file, including the row-level checks
MAX_RSS_MB = 2500  # the whole fuzz run (ru_maxrss of the test process)
INTERNAL = ("unerwarteter Fehler", "interner Fehler")

ALL_HEADERS = sorted({c.header for ds in DATASETS.values() for c in ds.columns})
HOSTILE_HEADERS = ["Name", "Vorname", "Geburtsdatum", "E-Mail", "Telefon", "Summe", "", " ", "Fallnummer", "fallnummer "]
cell_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=24)
typical = st.sampled_from(["1", "0", "x", "ja", "03.03.2025", "2025-03-03", "05.2012", "08335", "8335", "12,5", "1.200",
                           "=SUM(A1)", "Summe", "17.07.2008", "a@b.de", "+49 711 1", "\u00a0", "Ã¤", "\x00", "01,02|14"])
cell = st.one_of(cell_text, typical)


def _check(rr_or_prep) -> None:
    findings = rr_or_prep.findings
    for f in findings:
        assert f.meldung and f.hinweis and f.severity in ("Fehler", "Hinweis"), f
        assert not any(t in f.meldung for t in INTERNAL), f
    if getattr(rr_or_prep, "frame", None) is None:
        assert any(f.severity == "Fehler" for f in findings), findings


def _run(data: bytes, dataset: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"08335_{dataset}_2025-03{suffix}"
        p.write_bytes(data)
        t0 = time.perf_counter()
        prep = prepare(p, ags="08335", dataset=dataset, month="2025-03", key=KEY)
        assert time.perf_counter() - t0 < MAX_SECONDS
    _check(prep)


@st.composite
def csv_bytes(draw) -> tuple[bytes, str]:
    dataset = draw(st.sampled_from(sorted(DATASETS)))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=3000)), dataset
    hdr = draw(st.one_of(st.just(headers(dataset)),
                         st.lists(st.one_of(st.sampled_from(ALL_HEADERS + HOSTILE_HEADERS), cell_text), max_size=30)))
    rows = draw(st.lists(st.lists(cell, max_size=len(hdr) + 2), max_size=15))
    delim = draw(st.sampled_from([";", ",", "\t", "|", ";;"]))
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    quote = draw(st.booleans())
    lines = [delim.join((f'"{c}"' if quote else c) for c in r) for r in [hdr, *rows]]
    text = newline.join(lines)
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1", "cp850", "utf-32"]))
    data = text.encode(enc, errors="replace")
    if draw(st.integers(0, 4)) == 0 and data:  # damage a few bytes
        pos = draw(st.integers(0, len(data) - 1))
        data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos + 1:]
    return data, dataset


@pytest.mark.slow
@FUZZ
@given(csv_bytes())
def test_fuzz_csv(case):
    data, dataset = case
    _run(data, dataset, ".csv")


xl_value = st.one_of(st.none(), cell_text, typical, st.integers(-10**12, 10**12),
                     st.floats(allow_nan=True, allow_infinity=False, width=32),
                     st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)), st.booleans())


def _clean(v):
    if isinstance(v, str):  # openpyxl refuses control characters in cells
        return "".join(ch for ch in v if ch >= " " or ch in "\t\n\r")
    return v


@st.composite
def xlsx_bytes(draw) -> tuple[bytes, str]:
    dataset = draw(st.sampled_from(["massnahmen", "uma"]))
    hdr = headers(dataset) + draw(st.lists(st.sampled_from(HOSTILE_HEADERS[:5] + ["Bemerkung"]), max_size=2))
    base = (massnahme if dataset == "massnahmen" else uma)()
    n = draw(st.integers(0, 6))
    rows = []
    for _ in range(n):
        row = [base.get(h, "") for h in hdr]
        for _ in range(draw(st.integers(0, 4))):
            row[draw(st.integers(0, len(row) - 1))] = _clean(draw(xl_value))
        rows.append(row)
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory() as d:
        p = write_xlsx(Path(d) / "x.xlsx", dataset, rows, header=hdr)
        data = p.read_bytes()
    # positions are drawn as fractions: the workbook's bytes vary (timestamps), the draws must not
    frac = st.floats(0, 1, exclude_max=True)
    mode = draw(st.integers(0, 5))
    if mode == 1:  # truncated
        data = data[: int(draw(frac) * len(data))]
    elif mode == 2:  # flipped bytes
        b = bytearray(data)
        for _ in range(draw(st.integers(1, 10))):
            b[int(draw(frac) * len(b))] = draw(st.integers(0, 255))
        data = bytes(b)
    elif mode == 3:  # a part replaced by arbitrary text or hostile XML
        part = draw(st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml",
                                     "xl/_rels/workbook.xml.rels", "xl/styles.xml"]))
        new = draw(st.one_of(st.binary(max_size=500), st.sampled_from([
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>',
            b'<!DOCTYPE a SYSTEM "http://example.org/a.dtd"><a/>', b"<a>", b"", b"\xff\xfe<\x00a\x00/\x00>\x00"])))
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, new if info.filename == part else zin.read(info))
        data = buf.getvalue()
    return data, dataset


@pytest.mark.slow
@FUZZ
@given(xlsx_bytes())
def test_fuzz_xlsx(case):
    data, dataset = case
    _run(data, dataset, ".xlsx")


@FUZZ
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=80))
def test_fuzz_file_names(name):
    """Any name: parse_name answers with a DeliveryName or a German NameError_, nothing else."""
    try:
        dn = parse_name(name)
    except NameError_ as exc:
        assert str(exc)
    else:
        assert dn.ags.isdigit() and dn.dataset in DATASETS


@FUZZ
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=60)
       .filter(lambda n: n not in (".", "..") and len(n.encode()) <= 200))
def test_fuzz_landing_names(name):
    """Any file name in an office's landing folder: delivered, skipped or unassignable with a
    German reason -- the intake's scan never raises."""
    from inobhut.config import office_keys
    from inobhut.landing import scan

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "08335").mkdir()
        (Path(d) / "08335" / name).write_bytes(b"x")
        found, bad = scan(Path(d), set(office_keys()))
    assert len(found) + len(bad) <= 1 and all(b.reason for b in bad)
    for c in found:
        assert c.name.ags == "08335" and c.name.dataset in DATASETS


def test_fuzz_memory_stayed_bounded():
    """Runs after the fuzz tests in this module: the process never grew past the bound."""
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert rss_mb < MAX_RSS_MB, rss_mb


# --------------------------------------------------------------------------- cases the fuzzer found


@pytest.mark.parametrize("part", ["[Content_Types].xml", "xl/worksheets/sheet1.xml"])
def test_corrupt_zip_member_is_a_clear_finding(tmp_path, part):
    """A member whose bytes do not match its CRC (or whose deflate stream is broken) used to end
    in the catch-all "unerwarteter Fehler"; it is a damaged file (D007)."""
    good = write_xlsx(tmp_path / "good.xlsx", "uma", [[uma()[h] for h in headers("uma")]])
    dst = tmp_path / "08335_uma_2025-03.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info), compress_type=zipfile.ZIP_STORED)
    raw = bytearray(dst.read_bytes())
    with zipfile.ZipFile(dst) as z:
        info = z.getinfo(part)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + 10] ^= 0x20  # one flipped bit inside the stored member
    dst.write_bytes(bytes(raw))
    prep = prepare(dst, ags="08335", dataset="uma", month="2025-03", key=KEY)
    assert [f.rule_id for f in prep.findings] == ["D007"], prep.findings
    _check(prep)
