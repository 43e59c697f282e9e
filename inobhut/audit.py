"""The audit trail: an append-only journal of every event that matters to an auditor.

Belongs here: recording events (file fetched, archived, verdict, version put in force, run
started/ended, output written, confirmation, deletion, quarantine, key rotation) and mirroring
the journal into the warehouse table ``audit``. Does not belong here: deciding what happened.

Where it lives: ``<archive>/_audit/audit.jsonl``, one JSON object per line, appended under a
file lock and flushed with ``fsync``. The journal sits beside the archive (not in the warehouse)
because the warehouse is derived and may be rebuilt (``inobhut reparieren``); the warehouse table
``audit`` is a mirror, filled by :func:`sync_to_warehouse` (insert-only: rows with a sequence
number above the table's maximum). No event ever carries case data: only office, dataset, month,
version, paths inside inobhut's directories, checksums, counts and German free text written by
inobhut itself.

Times are the real wall-clock time of the event (UTC); the audit trail is therefore, like the
GX Data Docs, outside the byte-reproducible outputs.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from filelock import FileLock

AUDIT_DIR = "_audit"
JOURNAL = "audit.jsonl"

# Event kinds (stable ids; the German label is what reports show).
EVENTS: dict[str, str] = {
    "abgerufen": "Datei von der Quelle des Jugendamts abgerufen",
    "abruf_abgelehnt": "Abruf abgelehnt (Quelle nicht erreichbar, Anmeldung oder Hostschlüssel falsch)",
    "archiviert": "Datei archiviert",
    "nicht_zuordenbar": "Datei nicht zuordenbar (gemeldet, nicht als Lieferung archiviert; Kopie unter _nicht_zuordenbar)",
    "quarantaene": "Datei in Quarantäne verschoben",
    "urteil": "Prüfergebnis einer Version",
    "in_kraft": "Version in Kraft gesetzt",
    "lauf_start": "Lauf gestartet",
    "lauf_ende": "Lauf beendet",
    "ausgabe": "Bericht oder Meldung geschrieben",
    "bestaetigung": "Hinweis bestätigt",
    "loeschung": "Daten gelöscht (Aufbewahrungsfrist)",
    "schluesselwechsel": "Pseudonymisierungsschlüssel gewechselt",
    "reparatur": "Abgeleitete Daten neu aufgebaut",
}

COLUMNS = ["seq", "zeit", "ereignis", "lauf", "ags", "dataset", "monat", "version", "datei", "sha256", "detail"]

DDL = """CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY, zeit TIMESTAMP, ereignis VARCHAR, lauf VARCHAR, ags VARCHAR,
    dataset VARCHAR, monat VARCHAR, version INTEGER, datei VARCHAR, sha256 VARCHAR, detail VARCHAR)"""


def journal_path(archive: Path) -> Path:
    return Path(archive) / AUDIT_DIR / JOURNAL


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


_LAUF: contextvars.ContextVar[str | None] = contextvars.ContextVar("inobhut_audit_lauf", default=None)


@contextlib.contextmanager
def lauf(run_id: str | None):
    """Within this block every event without an explicit ``lauf`` carries ``run_id`` (the
    Dagster run id), so the domain core records events without knowing about Dagster."""
    token = _LAUF.set(run_id)
    try:
        yield
    finally:
        _LAUF.reset(token)


def record(archive: Path, ereignis: str, *, lauf: str | None = None, ags: str | None = None,
           dataset: str | None = None, monat: str | None = None, version: int | None = None,
           datei: str | None = None, sha256: str | None = None, detail: Any = None) -> dict:
    """Append one event to the journal and return it. ``detail`` is stored as text (JSON for
    dicts and lists). Never pass case data."""
    return record_many(archive, [dict(ereignis=ereignis, lauf=lauf, ags=ags, dataset=dataset, monat=monat,
                                      version=version, datei=datei, sha256=sha256, detail=detail)])[0]


def record_once(archive: Path, ereignis: str, *, lauf: str, **fields: Any) -> dict | None:
    """Append the event unless the journal already has one of this kind for this run (run
    start and end may be reported by more than one place). Returns None if it was there."""
    out = _append(archive, [dict(ereignis=ereignis, lauf=lauf, **fields)], once=True)
    return out[0] if out else None


def record_many(archive: Path, events: Iterable[dict]) -> list[dict]:
    """Append several events under one lock and one fsync (all or, after a crash, a prefix)."""
    return _append(archive, events, once=False)


def _append(archive: Path, events: Iterable[dict], once: bool) -> list[dict]:
    events = list(events)
    if not events:
        return []
    for ev in events:  # check everything before the first byte is written
        if ev["ereignis"] not in EVENTS:
            raise ValueError(f"unknown audit event {ev['ereignis']!r}")
        detail = ev.get("detail")
        if detail is not None and not isinstance(detail, str):
            ev["detail"] = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        ev["lauf"] = ev.get("lauf") or _LAUF.get()
    path = journal_path(archive)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with FileLock(str(path) + ".lock", timeout=600):
        first = events[0]
        if once and any(e.get("ereignis") == first["ereignis"] and e.get("lauf") == first["lauf"]
                        for e in _tail_events(path, ONCE_WINDOW, needle=_encoded(first["lauf"]))):
            return []
        seq = _last_seq(path)
        lines = []
        for ev in events:
            seq += 1
            row = {"seq": seq, "zeit": ev.get("zeit") or _now(), **{c: ev.get(c) for c in COLUMNS[2:]}}
            lines.append(json.dumps(row, ensure_ascii=False) + "\n")
            out.append(row)
        with open(path, "a", encoding="utf-8") as fh:
            if fh.tell() and not _ends_with_newline(path):
                fh.write("\n")  # close a line torn by a crash; read() skips it
            fh.write("".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
    return out


# record_once looks this far back: a run's start and end are recorded within the run or seconds
# after it, so a long history is never read in full
ONCE_WINDOW = 32 << 20


def _encoded(value: Any) -> bytes | None:
    """How ``value`` appears inside a journal line (lines are written with
    ``json.dumps(..., ensure_ascii=False)``); None when it is not a string."""
    return json.dumps(value, ensure_ascii=False)[1:-1].encode() if isinstance(value, str) and value else None


def tail_window(path: Path, window: int) -> tuple[bytes, int, int]:
    """``(data, start, end)`` of the journal's last ``window`` bytes: its complete lines are
    ``data[start:end]`` (without a first piece that may start mid-line and without the part after
    the last newline, which is empty or torn); ``end < start``: none (also without a journal)."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - window))
            data = fh.read()
    except FileNotFoundError:
        return b"", 0, -1
    return data, data.find(b"\n") + 1 if size > window else 0, data.rfind(b"\n")


def line_at(data: bytes, start: int, at: int) -> bytes:
    """The complete line of :func:`tail_window`'s ``data`` that holds the byte ``at``."""
    return data[max(data.rfind(b"\n", start, at) + 1, start):data.find(b"\n", at)]


def _tail_events(path: Path, window: int, needle: bytes | None = None) -> list[dict]:
    """The events of the journal's last ``window`` bytes; with ``needle`` only those whose line
    contains it (a byte search before decoding: on a long history decoding every line of the
    window took about a second per call)."""
    data, start, end = tail_window(path, window)
    if end < start:
        return []
    if needle is None:
        lines = data[start:end].split(b"\n")
    else:
        lines, at = [], data.find(needle, start, end)
        while at >= 0:
            lines.append(line_at(data, start, at))
            at = data.find(needle, data.find(b"\n", at), end)
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _last_seq(path: Path) -> int:
    """Sequence number of the last complete line (a line cut by a crash is ignored). Reads
    only the journal's tail (growing the window while it holds no complete event), so
    appending stays cheap on a long history."""
    if not path.exists():
        return 0
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        window = 65536
        while True:
            fh.seek(max(0, size - window))
            tail = fh.read().split(b"\n")
            if size > window:
                tail = tail[1:]  # the first piece may start mid-line
            for line in reversed(tail[:-1]):  # the part after the last newline is empty or torn
                try:
                    return int(json.loads(line)["seq"])
                except (ValueError, KeyError, TypeError):
                    continue
            if window >= size:
                return 0
            window *= 4


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


_SEQ_PREFIX = '{"seq": '


def _seq_of_line(line: str) -> int | None:
    """The sequence number of a journal line without decoding it (every line starts with it)."""
    if not line.startswith(_SEQ_PREFIX):
        return None
    end = line.find(",", len(_SEQ_PREFIX))
    digits = line[len(_SEQ_PREFIX):end] if end > 0 else ""
    return int(digits) if digits.isdigit() else None


def read(archive: Path, after: int = 0) -> list[dict]:
    """All complete events of the journal with ``seq > after``, oldest first. A torn last line
    (power loss while appending) is skipped, never raised. With ``after`` the reading starts
    near the first newer line, found by bisecting the file (:func:`_start_after`; the warehouse
    mirror reads only what it does not have yet, and the journal grows with every run); lines up
    to ``after`` are skipped without decoding."""
    path = journal_path(archive)
    if not path.exists():
        return []
    out = []
    with open(path, "rb") as fh:
        if after:
            fh.seek(_start_after(fh, after))
        for raw in fh:
            line = raw.decode("utf-8", errors="replace")
            if not line.endswith("\n"):
                break
            if after:
                seq = _seq_of_line(line)
                if seq is not None and seq <= after:
                    continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not after or ev.get("seq", 0) > after:
                out.append(ev)
    return out


_BISECT_UNTIL = 1 << 16  # bytes: below this the rest is read line by line


def _start_after(fh, after: int) -> int:
    """A line start in the binary journal ``fh`` before which every line has ``seq <= after``
    (0 if unsure). Sequence numbers never decrease along the file (assigned under the journal's
    lock; a line torn by a crash carries at most the number of the line after it), so a line
    with ``seq <= after`` means all before it have too. A line without a readable number stops
    the bisection where it is."""
    lo, hi = 0, fh.seek(0, os.SEEK_END)
    while hi - lo > _BISECT_UNTIL:
        mid = (lo + hi) // 2
        fh.seek(mid)
        fh.readline()  # the rest of the line mid falls into
        pos = fh.tell()
        line = fh.readline()
        if not line.endswith(b"\n"):  # mid was in the last (or torn last) line
            hi = mid
            continue
        seq = _seq_of_line(line.decode("utf-8", errors="replace"))
        if seq is None:
            break
        if seq <= after:
            lo = pos
        else:
            hi = mid
    return lo


def sync_to_warehouse(con, archive: Path) -> int:
    """Insert the journal's events that the warehouse table ``audit`` does not have yet
    (insert-only). Returns the number of rows inserted."""
    import pandas as pd

    con.execute(DDL)
    have = con.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchall()[0][0]
    new = read(archive, after=have)
    if not new:
        return 0
    df = pd.DataFrame(new, columns=COLUMNS)
    df["zeit"] = pd.to_datetime(df["zeit"], utc=True).dt.tz_localize(None)
    con.register("_audit_new", df)
    try:
        con.execute(f"INSERT INTO audit ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM _audit_new")
    finally:
        con.unregister("_audit_new")
    return len(new)
