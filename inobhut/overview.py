"""What the front page says about a run's data: the latest month's deliveries and what changed.

Belongs here: reading, from the warehouse and the previous ``<out>/manifest.json``, (1) the
delivery status of the latest month per network as an office × dataset matrix (angenommen, mit
Hinweisen, abgelehnt, überfällig, noch nicht fällig) with the Prüfbericht of each version, and
(2) the changes of the data status against the previous one (new versions, versions put in
force, versions no longer present). Not here: the page (:mod:`inobhut.reports.index_page`).

Reproducible: no wall-clock time. "Überfällig" is judged against the data status (the newest
receipt), not against today. "Previous data status" is the delivery list of the previous
manifest; when a run sees exactly the deliveries of the previous manifest (a rerun), it keeps the
comparison base that manifest recorded (``vergleichsbasis``), so a rerun writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from inobhut import config
from inobhut.config import Paths

#: status of one office × dataset of the latest month: (id, German text, CSS class)
STATES: dict[str, str] = {
    "angenommen": "angenommen",
    "hinweise": "mit Hinweisen",
    "abgelehnt": "abgelehnt",
    "ueberfaellig": "überfällig",
    "ausstehend": "noch nicht fällig",
}
_VERDICT_STATE = {"angenommen": "angenommen", "angenommen mit Hinweisen": "hinweise", "abgelehnt": "abgelehnt"}
MANIFEST = "manifest.json"


@dataclass
class Cell:
    dataset: str
    state: str  # key of STATES
    version: int | None = None
    in_force: int | None = None  # version in force (a rejected correction keeps an earlier one)
    pruefbericht: Path | None = None  # Prüfbericht of the newest version, if written

    @property
    def text(self) -> str:
        t = STATES[self.state]
        if self.version and self.version > 1:
            t += f" (Version {self.version})"
        if self.state == "abgelehnt" and self.in_force:
            t += f"; Version {self.in_force} gilt"
        return t


@dataclass
class NetworkStatus:
    network: str
    month: str
    rows: list[tuple[str, str, list[Cell]]]  # (ags, office label, cells per dataset)
    counts: dict[str, int] = field(default_factory=dict)  # state -> number of cells


def latest_month_status(con, paths: Paths) -> tuple[str, dt.datetime | None, str, list[NetworkStatus]]:
    """(latest month, data status time, due date text, per network status) -- ("", None, "", [])
    without deliveries."""
    from inobhut.reports.common import office_label
    from inobhut.reports.fmt import fmt_date
    from inobhut.status import delivery_status, due_date
    from schemas.datasets import DATASET_NAMES

    row = con.execute("SELECT max(monat), max(received_at) FROM deliveries").fetchone()
    if not row or row[0] is None:
        return "", None, "", []
    month, stand = row[0], row[1]
    due = due_date(month)
    df = delivery_status(con, [month])
    by_key = {(r.ags, r.dataset): r for r in df.itertuples(index=False)}
    out = []
    for net in config.networks():
        rows, counts = [], dict.fromkeys(STATES, 0)
        for o in config.network_offices(net):
            cells = []
            for ds in DATASET_NAMES:
                r = by_key[(o.ags, ds)]
                version = None if _na(r.version) else int(r.version)
                if version is None:
                    state = "ueberfaellig" if stand is not None and stand.date() > due else "ausstehend"
                    cell = Cell(ds, state)
                else:
                    pb = paths.out / "pruefberichte" / o.ags / f"{ds}_{month}_v{version}.html"
                    cell = Cell(ds, _VERDICT_STATE.get(str(r.status), "angenommen"), version,
                                None if _na(r.in_kraft) else int(r.in_kraft), pb if pb.is_file() else None)
                counts[cell.state] += 1
                cells.append(cell)
            rows.append((o.ags, office_label(o.ags), cells))
        out.append(NetworkStatus(net, month, rows, counts))
    return month, stand, fmt_date(due), out


def _na(x) -> bool:
    try:
        import pandas as pd

        return x is None or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- changes against the previous data status
def delivery_inputs(con) -> tuple[list[dict], str | None]:
    """The deliveries as the manifest lists them (``lieferungen``) and the data status time."""
    rows = con.execute(
        "SELECT ags, dataset, monat, version, file_name, sha256, verdict, in_force, received_at "
        "FROM deliveries ORDER BY ags, dataset, monat, version"
    ).fetchall()
    inputs = [
        {"jugendamt": a, "datensatz": d, "monat": m, "version": v, "datei": f, "sha256": s, "ergebnis": verdict,
         "in_kraft": bool(inf)}
        for a, d, m, v, f, s, verdict, inf, _ in rows
    ]
    created = max((r[8] for r in rows if r[8] is not None), default=None)
    return inputs, created.isoformat() if created is not None else None


_MANIFEST_MEMO: ContextVar[dict | None] = ContextVar("inobhut_manifest_memo", default=None)


@contextmanager
def manifest_read_once() -> Iterator[None]:
    """Within the block, :func:`read_manifest` parses each version of a ``manifest.json`` once
    (the end of a run reads the previous manifest three times: front page, comparison base,
    changed outputs; at ten years it is 30 MB, about 0.4 s a parse). Outside the block nothing
    is kept (a long-lived process must not hold the parsed manifest)."""
    outer = _MANIFEST_MEMO.get()
    token = _MANIFEST_MEMO.set({} if outer is None else outer)
    try:
        yield
    finally:
        _MANIFEST_MEMO.reset(token)


def read_manifest(out: Path) -> dict | None:
    """The parsed ``<out>/manifest.json``; None when there is none or it is no JSON. Callers must
    not change the result (inside :func:`manifest_read_once` it is shared). The memo is keyed by
    the file's identity (inode, size, mtime, ctime): the manifest is replaced atomically or left
    untouched, so a new version is always read afresh."""
    p = Path(out) / MANIFEST
    try:
        st = p.stat()
    except OSError:
        return None
    memo = _MANIFEST_MEMO.get()
    key = (os.path.abspath(p), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if memo is not None and key in memo:
        return memo[key]
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = None
    if memo is not None:
        memo.clear()  # one manifest at a time
        memo[key] = doc
    return doc


def comparison_base(out: Path, current: list[dict]) -> dict | None:
    """The data status the changes are shown against: ``{"datenstand", "lieferungen"}`` of the
    previous manifest, or -- when the deliveries did not change since (a rerun) -- the base that
    manifest recorded itself. None: no previous data status (first run into ``out``)."""
    prev = read_manifest(out)
    if not isinstance(prev, dict):
        return None
    if prev.get("lieferungen") == current:
        return prev.get("vergleichsbasis")
    return {"datenstand": prev.get("datenstand"), "lieferungen": prev.get("lieferungen") or []}


@dataclass
class Change:
    ags: str
    dataset: str
    month: str
    version: int
    what: str  # German: "neu", "in Kraft gesetzt", "nicht mehr vorhanden"
    verdict: str


@dataclass
class Changes:
    first_run: bool
    base_time: str | None  # data status of the base (ISO) or None
    new: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)
    put_in_force: int = 0
    removed: int = 0
    items: list[Change] = field(default_factory=list)


def changes(current: list[dict], base: dict | None) -> Changes:
    """New versions, versions put in force and versions gone, ``current`` against ``base``."""
    def key(x):
        return (x["jugendamt"], x["datensatz"], x["monat"], int(x["version"]))

    before = {key(x): x for x in (base or {}).get("lieferungen", [])}
    now = {key(x): x for x in current}
    res = Changes(first_run=base is None, base_time=(base or {}).get("datenstand"))
    for k in sorted(now):
        x = now[k]
        if k not in before:
            res.new += 1
            res.by_verdict[x["ergebnis"]] = res.by_verdict.get(x["ergebnis"], 0) + 1
            res.items.append(Change(*k, "neu" + ("; in Kraft" if x["in_kraft"] else ""), x["ergebnis"] or ""))
        elif x["in_kraft"] and not before[k]["in_kraft"]:
            res.put_in_force += 1
            res.items.append(Change(*k, "in Kraft gesetzt", x["ergebnis"] or ""))
    for k in sorted(set(before) - set(now)):
        res.removed += 1
        res.items.append(Change(*k, "nicht mehr vorhanden", before[k]["ergebnis"] or ""))
    return res
