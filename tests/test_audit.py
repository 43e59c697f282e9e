"""The audit trail (inobhut.audit): append-only journal, torn lines, concurrent writers,
insert-only mirror into the warehouse table ``audit``."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inobhut import audit


def test_record_read_and_detail_as_json(tmp_path):
    a = tmp_path / "archive"
    e1 = audit.record(a, "archiviert", ags="08111", dataset="uma", monat="2024-03", version=1, datei="08111/x.csv",
                      sha256="ab" * 32, detail={"bytes": 12, "name": "Übergabe"})
    e2 = audit.record(a, "lauf_start", lauf="run-1")
    assert (e1["seq"], e2["seq"]) == (1, 2)
    got = audit.read(a)
    assert [g["ereignis"] for g in got] == ["archiviert", "lauf_start"]
    assert json.loads(got[0]["detail"]) == {"bytes": 12, "name": "Übergabe"}
    assert got[0]["zeit"].endswith("+00:00")  # real UTC time of the event


def test_a_bad_batch_writes_nothing(tmp_path):
    a = tmp_path / "archive"
    audit.record(a, "lauf_start", lauf="r")
    with pytest.raises(ValueError):
        audit.record_many(a, [dict(ereignis="archiviert"), dict(ereignis="gibt_es_nicht")])
    with pytest.raises(TypeError):
        audit.record_many(a, [dict(ereignis="archiviert"), dict(ereignis="urteil", detail={"x": object()})])
    assert [e["seq"] for e in audit.read(a)] == [1]


def test_torn_last_line_is_skipped_and_closed_by_the_next_append(tmp_path):
    a = tmp_path / "archive"
    audit.record(a, "archiviert", ags="08111")
    audit.record(a, "urteil", ags="08111")
    path = audit.journal_path(a)
    with open(path, "ab") as fh:  # power loss in the middle of an append
        fh.write(b'{"seq": 3, "zeit": "2026-01-01T00:00:00+00:00", "ereignis": "in_kr')
    assert [e["seq"] for e in audit.read(a)] == [1, 2]
    e = audit.record(a, "in_kraft", ags="08111")
    assert e["seq"] == 3
    assert [x["seq"] for x in audit.read(a)] == [1, 2, 3]
    assert path.read_bytes().count(b"\n") == 4  # the torn line got its own (skipped) line


def test_read_after_a_sequence_number_skips_the_older_lines_and_mirrors_only_the_new(tmp_path):
    """The warehouse mirror reads only events it does not have yet (it ran once per loaded
    month over the whole journal: quadratic in the history); a torn line stays skipped."""
    a = tmp_path / "archive"
    for i in range(5):
        audit.record(a, "archiviert", ags="08111", version=i + 1)
    with open(audit.journal_path(a), "ab") as fh:
        fh.write(b'{"seq": 6, "zeit": "2026-01-01T00:00:00+00:00", "ereig')
    assert [e["seq"] for e in audit.read(a, after=3)] == [4, 5]
    assert [e["version"] for e in audit.read(a, after=3)] == [4, 5]
    assert audit.read(a, after=5) == []
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert audit.sync_to_warehouse(con, a) == 5
    audit.record(a, "urteil", ags="08111")
    assert audit.sync_to_warehouse(con, a) == 1
    assert con.execute("SELECT list(seq ORDER BY seq) FROM audit").fetchone()[0] == [1, 2, 3, 4, 5, 6]  # the torn line never got a number


def _linear_read(path, after):
    """The reference: every complete line decoded, kept when its seq is above ``after``."""
    out = []
    for raw in path.read_bytes().split(b"\n")[:-1]:
        try:
            ev = json.loads(raw.decode("utf-8", errors="replace"))
        except json.JSONDecodeError:
            continue
        if ev.get("seq", 0) > after:
            out.append(ev)
    return out


def test_read_after_bisects_a_long_journal_and_misses_nothing(tmp_path, monkeypatch):
    """read(after=...) starts near the first newer line by bisecting the file (the journal grows
    with every run): for every ``after`` -- also with lines torn by crashes in the middle, long
    lines, a line of someone else's and a torn last line -- it returns exactly what reading
    every line returns, while reading far less than the whole file."""
    a = tmp_path / "archive"
    monkeypatch.setattr(audit, "_BISECT_UNTIL", 512)
    path = audit.journal_path(a)
    for i in range(400):
        audit.record_many(a, [dict(ereignis="archiviert", ags="08111", version=i, detail="ü" * (i % 7 * 40))])
        if i in (57, 58, 200):  # a crash while appending: a torn line, closed by the next append
            with open(path, "ab") as fh:
                fh.write(b'{"seq": %d, "zeit": "2026-01-01T00:00:00+00:00", "ereig' % (i + 2))
        if i == 300:
            audit.record(a, "ausgabe", detail="x" * 5000)
    with open(path, "ab") as fh:
        fh.write(b'{"seq": 999, "zeit": "2026-01-01T00:00:00+00:00", "ereig')  # torn last line
    total = len(_linear_read(path, 0))
    assert total == 401
    for after in [0, 1, 2, 57, 58, 59, 60, 61, 199, 200, 201, 202, 300, 301, 302, 303, 399, 400, 401, 402, 5000]:
        assert audit.read(a, after=after) == _linear_read(path, after), after
    with open(path, "rb") as fh:
        start = audit._start_after(fh, 350)
    assert 0 < start < path.stat().st_size and path.read_bytes()[start - 1:start] == b"\n"
    assert all(json.loads(x)["seq"] <= 350 for x in path.read_bytes()[:start].split(b"\n")[:-1] if x.startswith(b'{"seq": ') and x.endswith(b"}"))
    # a line without a number (someone else's) stops the bisection there: nothing is missed
    lines = path.read_bytes().split(b"\n")
    lines.insert(250, b"not an event")
    path.write_bytes(b"\n".join(lines))
    for after in [0, 100, 249, 250, 251, 300, 400]:
        assert audit.read(a, after=after) == _linear_read(path, after), after


def test_sequence_continues_after_a_line_longer_than_the_tail_window(tmp_path):
    a = tmp_path / "archive"
    audit.record(a, "lauf_start", lauf="r")
    audit.record(a, "ausgabe", detail="x" * 200_000)
    assert audit.record(a, "lauf_ende", lauf="r")["seq"] == 3
    assert [e["seq"] for e in audit.read(a)] == [1, 2, 3]


def test_lauf_context_and_record_once(tmp_path, monkeypatch):
    a = tmp_path / "archive"
    with audit.lauf("run-7"):
        audit.record(a, "urteil", ags="08111")
        audit.record(a, "urteil", ags="08115", lauf="explizit")
    audit.record(a, "urteil", ags="08116")
    assert [e["lauf"] for e in audit.read(a)] == ["run-7", "explizit", None]
    assert audit.record_once(a, "lauf_ende", lauf="run-7", detail={"ergebnis": "erfolgreich"}) is not None
    assert audit.record_once(a, "lauf_ende", lauf="run-7", detail={"ergebnis": "fehlgeschlagen"}) is None
    assert audit.record_once(a, "lauf_ende", lauf="run-8") is not None
    assert [e["lauf"] for e in audit.read(a) if e["ereignis"] == "lauf_ende"] == ["run-7", "run-8"]
    # only the journal's tail is searched (a run's start and end are recent)
    monkeypatch.setattr(audit, "ONCE_WINDOW", 400)
    audit.record_many(a, [dict(ereignis="ausgabe", datei=f"berichte/{i}.html") for i in range(5)])
    assert audit.record_once(a, "lauf_ende", lauf="run-8") is not None


def test_record_once_finds_its_run_by_the_id_as_written_in_the_journal(tmp_path):
    """record_once searches the journal's bytes for the run id before decoding lines: ids with
    characters JSON escapes or non-ASCII ones are still found, and an id appearing in another
    field of another run's event does not count."""
    a = tmp_path / "archive"
    for run in ('lauf "mit" Anführung\\zeichen\t', "run-ü-9", "08111"):
        assert audit.record_once(a, "lauf_ende", lauf=run) is not None
        assert audit.record_once(a, "lauf_ende", lauf=run) is None
        assert audit.record_once(a, "lauf_start", lauf=run) is not None
    audit.record(a, "urteil", lauf="andere", ags="08112", detail={"lauf": "neu-1"})
    assert audit.record_once(a, "lauf_ende", lauf="neu-1") is not None
    assert audit.record_once(a, "lauf_ende", lauf="neu") is not None  # a prefix of an id is another id
    assert [e["lauf"] for e in audit.read(a) if e["ereignis"] == "lauf_ende"][-2:] == ["neu-1", "neu"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(["ab", "lauf-1", "lauf-12", "\n", '{"x": "lauf-1"}', "{}", "ü", "\\"]), max_size=30),
       window=st.integers(1, 200), needle=st.sampled_from([None, b"lauf-1", b"x", b"\\"]))
@example(pieces=["ab", "{}", "\\"], window=3, needle=None)  # a window without any newline
def test_tail_events_with_a_needle_keeps_exactly_the_lines_containing_it(tmp_path, pieces, window, needle):
    """The byte search of the journal's tail gives the same events as decoding every complete
    line of the window and keeping those whose line contains the needle (torn first and last
    pieces, empty lines and lines that are no JSON included)."""
    import json as _json

    path = tmp_path / "j.jsonl"
    data = "".join(pieces).encode()
    path.write_bytes(data)
    tail = data[max(0, len(data) - window):]
    complete = tail.split(b"\n")[1 if len(data) > window else 0:-1]
    want = []
    for line in complete:
        if needle is None or needle in line:
            try:
                want.append(_json.loads(line))
            except ValueError:
                pass
    assert audit._tail_events(path, window, needle=needle) == want


def _writer(args):
    archive, who, n = args
    for i in range(n):
        audit.record_many(Path(archive), [dict(ereignis="archiviert", ags=who, version=i), dict(ereignis="urteil", ags=who, version=i)])


def test_concurrent_writers_in_processes_and_threads_get_unique_gapless_sequence(tmp_path):
    a = tmp_path / "archive"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=((str(a), f"p{i}", 25),)) for i in range(3)]
    threads = [threading.Thread(target=_writer, args=((str(a), f"t{i}", 25),)) for i in range(2)]
    for w in [*procs, *threads]:
        w.start()
    for w in [*procs, *threads]:
        w.join(120)
    assert all(p.exitcode == 0 for p in procs)
    events = audit.read(a)
    assert [e["seq"] for e in events] == list(range(1, 5 * 25 * 2 + 1))
    lines = audit.journal_path(a).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 250 and all(json.loads(ln) for ln in lines)  # no interleaved writes
    for who in ("p0", "p1", "p2", "t0", "t1"):  # a batch stays together, in order
        mine = [e for e in events if e["ags"] == who]
        assert [e["version"] for e in mine] == [i for i in range(25) for _ in (0, 1)]
        assert all(mine[k + 1]["seq"] == mine[k]["seq"] + 1 for k in range(0, 50, 2))


def test_sync_to_warehouse_is_insert_only_and_idempotent(tmp_path):
    a = tmp_path / "archive"
    audit.record(a, "archiviert", ags="08111", dataset="uma", monat="2024-03", version=1, sha256="c" * 64)
    audit.record(a, "in_kraft", ags="08111", dataset="uma", monat="2024-03", version=1)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert audit.sync_to_warehouse(con, a) == 2
    assert audit.sync_to_warehouse(con, a) == 0
    audit.record(a, "lauf_ende", lauf="r", detail={"ergebnis": "erfolgreich"})
    assert audit.sync_to_warehouse(con, a) == 1
    rows = con.execute("SELECT seq, ereignis, ags, version, typeof(zeit) FROM audit ORDER BY seq").fetchall()
    assert rows == [(1, "archiviert", "08111", 1, "TIMESTAMP"), (2, "in_kraft", "08111", 1, "TIMESTAMP"),
                    (3, "lauf_ende", None, None, "TIMESTAMP")]
    # the warehouse is derived: a rebuilt (empty) warehouse gets the whole journal again
    con2 = duckdb.connect(str(tmp_path / "w2.duckdb"))
    assert audit.sync_to_warehouse(con2, a) == 3


def test_verdicts_confirmations_and_versions_in_force_are_recorded(inobhut_env):
    """processing records a verdict per (re)validated version and a confirmation when it takes
    effect (rule ids and counts, never the confirmed Fallnummer); load records what it puts in force."""
    from inobhut import archive
    from inobhut.config import office_keys
    from inobhut.confirmations import add_confirmation
    from inobhut.load import load_month
    from inobhut.processing import validate_office_months
    from inobhut.warehouse import Warehouse
    from tests.bad_input.builders import massnahme, write_csv

    paths = inobhut_env
    (paths.landing / "08335").mkdir()
    rows = [massnahme(Fallnummer="LANG-1", Beginn="01.01.2024"), massnahme(Fallnummer="KURZ-2")]
    write_csv(paths.landing / "08335" / "08335_massnahmen_2025-03.csv", "massnahmen", rows)
    archive.intake(paths.landing, paths.archive, set(office_keys()))
    key = b"test-schluessel"
    with audit.lauf("lauf-1"):
        validate_office_months(paths, "08335", ["2025-03"], key, data_docs=False)
    wh = Warehouse(paths.warehouse)
    load_month(paths, wh, "2025-03")
    add_confirmation(paths.landing, "08335", dataset="massnahmen", month="2025-03", rule="Z101",
                     schluessel="LANG-1", grund="Clearing dauert wegen Gutachten an")
    validate_office_months(paths, "08335", ["2025-03"], key, data_docs=False)
    validate_office_months(paths, "08335", ["2025-03"], key, data_docs=False)  # nothing new: no events
    ev = [(e["ereignis"], e["lauf"], e["ags"], e["dataset"], e["monat"], e["version"], json.loads(e["detail"]))
          for e in audit.read(paths.archive)]
    urteil = [e for e in ev if e[0] == "urteil"]
    assert [(e[1], e[6]["ergebnis"], e[6]["hinweise"]) for e in urteil] == \
        [("lauf-1", "angenommen mit Hinweisen", 1), (None, "angenommen", 0)]
    assert ("in_kraft", None, "08335", "massnahmen", "2025-03", 1, {"vorher": None}) in ev
    conf = [e for e in ev if e[0] == "bestaetigung"]
    assert conf == [("bestaetigung", None, "08335", "massnahmen", "2025-03", 1,
                     {"bestaetigte_hinweise": 1, "neu": 1, "regeln": ["Z101"]})]
    assert "LANG-1" not in audit.journal_path(paths.archive).read_text(encoding="utf-8")
    with wh.connect() as con:  # mirrored at load time
        assert con.execute("SELECT ereignis FROM audit ORDER BY seq").fetchall()[:3] == [("archiviert",), ("urteil",), ("in_kraft",)]


def test_documented_analyst_queries_run(tmp_path):
    import re

    a = tmp_path / "archive"
    audit.record(a, "lauf_start", lauf="r1")
    audit.record(a, "abgerufen", lauf="r1", ags="08111", datei="08111/08111_massnahmen_2025-03.csv", sha256="d" * 64)
    audit.record(a, "urteil", lauf="r1", ags="08111", dataset="massnahmen", monat="2025-03", version=1,
                 detail={"ergebnis": "angenommen"})
    audit.record(a, "abruf_abgelehnt", lauf="r1", ags="08115", detail={"grund": "nicht erreichbar"})
    audit.record(a, "ausgabe", lauf="r1", datei="berichte/index.html", sha256="e" * 64)
    audit.record(a, "lauf_ende", lauf="r1", detail={"ergebnis": "erfolgreich"})
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    audit.sync_to_warehouse(con, a)
    text = (Path(__file__).parent.parent / "docs" / "betrieb.md").read_text(encoding="utf-8")
    block = re.search(r"```sql\n(.*?)```", text, re.DOTALL).group(1)
    queries = [q.strip() for q in block.split(";") if q.strip()]
    assert len(queries) == 5
    results = [con.execute(q).fetchall() for q in queries]
    assert len(results[0]) == 2  # fetch and verdict of that delivery
    assert [r[4] for r in results[2]] == ["erfolgreich"]
    assert results[3] == [(results[3][0][0], "e" * 64)]
    assert [r[1:] for r in results[4]] == [("08115", None, "nicht erreichbar")]
