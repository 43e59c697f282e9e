"""What the monthly report builders read: the statistics tables indexed for look-ups and the
delivery status of the months.

Belongs here: the constants of the monthly reports (datasets, accepted verdicts, the symbol for
values not yet delivered, the months of the time series and of the status list), the small
value helpers (counts, decimals, month texts), :class:`StatsIndex` and :func:`prepare` (the
tables indexed once per run and reused by every report), and the delivery status per office and
month with its note. Not here: what a report contains (:mod:`inobhut.reports.builders`,
:mod:`inobhut.reports.network`), the shared table pieces (:mod:`inobhut.reports.pieces`).
"""

from __future__ import annotations

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import pandas as pd

from inobhut import config
from inobhut.calendar import month_end

from . import registry as reg
from . import texts
from .fmt import fmt_date, fmt_month
from .model import DeliveryStatus, in_force

TABLE_COLUMNS = {name: [c.name for c in reg.tdef(name).columns]
                 for name in ("bewegung", "beendete", "uma_quote", "plaetze", "fristen_42a")}
MASSNAHMEN = (("1", "§42"), ("2", "§42a"))
DATASETS = ("massnahmen", "uma", "plaetze", "personal")
ACCEPTED = ("angenommen", "angenommen mit Hinweisen")
NOT_YET = "..."  # symbol for values of deliveries that are missing or were rejected
HISTORY_MONTHS = 24  # months of the time series
STATUS_MONTHS = 12  # months of own deliveries listed in the Jugendamtsbericht
NOT_YET_NOTE = "„...“: Die Lieferung für diesen Monat fehlt oder wurde abgelehnt."


# ---------------------------------------------------------------- small value helpers
def _num(v: object) -> float | None:
    if v is None or v is pd.NA or isinstance(v, str):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _count(v: object):
    """A count for display: 0 -> '–', missing -> '.', symbols unchanged, else int."""
    if isinstance(v, str):
        return v
    f = _num(v)
    if f is None:
        return "."
    return "–" if f == 0 else int(round(f))


def _dec(v: object, nd: int, missing: str = "x"):
    f = _num(v)
    return missing if f is None else round(f, nd)


def _dash_counts(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = pd.Series([_count(v) for v in out[c].tolist()], index=out.index, dtype=object)
    return out


def _month_text(v: object) -> str:
    if isinstance(v, (dt.date, pd.Timestamp)):
        return f"{v.year:04d}-{v.month:02d}"
    return str(v).strip()[:7]


def _code(v: object) -> str:
    s = str(v).strip()
    return s[:-2] if s.endswith(".0") else s


# ---------------------------------------------------------------- statistics index
def _frame(tables: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    cols = TABLE_COLUMNS[name]
    df = tables.get(name)
    if df is None:
        return pd.DataFrame(columns=cols)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"Statistiktabelle „{name}“: Spalten fehlen: {missing}")
    return df[cols]


class StatsIndex:
    """The five statistics tables as dictionaries for fast look-ups by office and month."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], present: Mapping[str, set[str]] | None = None):
        """``present``: for tables holding only the rows of some months (``report_run``'s
        window), the offices and networks with rows in the whole ``bewegung`` and
        ``beendete`` (whether a network's own rows exist decides how its totals are formed)."""
        self.bew: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(dict)
        for r in _frame(tables, "bewegung").itertuples(index=False):
            k = (str(r.jugendamt).strip(), _month_text(r.monat))
            cur = self.bew[k].setdefault(_code(r.massnahme), [0.0, 0.0, 0.0])
            for i, v in enumerate((r.zugaenge, r.abgaenge, r.bestand)):
                cur[i] += _num(v) or 0.0
        self.bew_months = sorted({m for _, m in self.bew})
        self.bew_agss = {a for a, _ in self.bew} if present is None else set(present["bewegung"])

        be = _frame(tables, "beendete")
        self.beendete: dict[tuple[str, str], dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
        # the longest table (312,000 rows on ten years): columns as lists, and each distinct office,
        # period and code converted once instead of once per row
        norm: dict[tuple[object, object], tuple[str, str]] = {}
        where: dict[tuple[object, object], tuple[str, str]] = {}
        for ja, zr, mk, au, n in zip(*(be[c].tolist() for c in ("jugendamt", "zeitraum", "merkmal", "auspraegung", "anzahl"))):
            code = norm.get((mk, au))
            if code is None:
                m = str(mk).strip()
                code = norm[(mk, au)] = (m, texts.normalise_code(m, au))
            k = where.get((ja, zr))
            if k is None:
                k = where[(ja, zr)] = (str(ja).strip(), str(zr).strip())
            self.beendete[k][code] += float(n) if type(n) is int else (_num(n) or 0.0)
        self.beendete_periods = {z for _, z in self.beendete}
        self.beendete_agss = {a for a, _ in self.beendete} if present is None else set(present["beendete"])
        self._ytd: dict[tuple[str, str], tuple[dict, str]] = {}

        self.uma: dict[tuple[str, str], dict] = {}
        for r in _frame(tables, "uma_quote").to_dict("records"):
            self.uma[(str(r["jugendamt"]).strip(), _month_text(pd.Timestamp(r["stichtag"])))] = r

        self.plaetze: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in _frame(tables, "plaetze").to_dict("records"):
            r["angebot"] = _code(r["angebot"])
            self.plaetze[(str(r["jugendamt"]).strip(), _month_text(pd.Timestamp(r["stichtag"])))].append(r)

        self.fristen: dict[tuple[str, str], dict] = {}
        for r in _frame(tables, "fristen_42a").to_dict("records"):
            self.fristen[(str(r["jugendamt"]).strip(), _month_text(r["monat"]))] = r

        # optional further table: staff (statistics ``personal``), bereich "insgesamt" rows
        self.has_personal = tables.get("personal") is not None
        self.personal: dict[tuple[str, str], dict] = {}
        if self.has_personal:
            for r in tables["personal"].to_dict("records"):
                if _code(r["bereich"]) == "insgesamt":
                    self.personal[(str(r["jugendamt"]).strip(), _month_text(pd.Timestamp(r["stichtag"])))] = r

    def bewegung(self, ags: str, month: str, massnahme: str | None = None) -> list[float]:
        """[zugaenge, abgaenge, bestand] of an office (or network) in a month; 0 if no row."""
        rows = self.bew.get((ags, month), {})
        if massnahme is not None:
            return list(rows.get(massnahme, [0.0, 0.0, 0.0]))
        return [sum(v[i] for v in rows.values()) for i in range(3)]

    def ytd(self, ags: str, month: str) -> tuple[dict[tuple[str, str], float], str]:
        """Ended measures January..month of the month's year (monthly rows), else the year row."""
        key = (ags, month)
        if key not in self._ytd:
            year = month[:4]
            months = [p for p in self.beendete_periods if len(p) == 7 and p[:4] == year and p <= month]
            acc: dict[tuple[str, str], float] = defaultdict(float)
            if months:
                for p in months:
                    for k, v in self.beendete.get((ags, p), {}).items():
                        acc[k] += v
                period = fmt_month(month) if month == f"{year}-01" else f"Januar bis {fmt_month(month)}"
            else:
                acc.update(self.beendete.get((ags, year), {}))
                period = f"Jahr {year}"
            self._ytd[key] = (dict(acc), period)
        return self._ytd[key]


_LAST: tuple[tuple, StatsIndex] | None = None


def prepare(tables: Mapping[str, pd.DataFrame] | StatsIndex,
            present: Mapping[str, set[str]] | None = None) -> StatsIndex:
    """Index the statistics tables once for many reports (``present``: see :class:`StatsIndex`)."""
    global _LAST
    if isinstance(tables, StatsIndex):
        return tables
    ident = (tuple((k, id(v)) for k, v in sorted(tables.items())), id(present))
    if _LAST is not None and _LAST[0] == ident:
        return _LAST[1]
    idx = StatsIndex(tables, present)
    _LAST = (ident, idx)
    return idx


# ---------------------------------------------------------------- delivery status
class _Status:
    """Delivery status look-up for one report month."""

    #: last (statuses, len, in force, by key, months): the look-ups of a run's statuses are built
    #: once, not once per report (they grow with the history: quadratic over a backfill otherwise)
    _cache: tuple[object, int, list[DeliveryStatus], dict, set, dict] | None = None

    def __init__(self, statuses: Sequence[DeliveryStatus], month: str):
        c = _Status._cache
        if c is None or c[0] is not statuses or c[1] != len(statuses):
            in_force_ = in_force(statuses)
            by_office: dict[str, list[DeliveryStatus]] = defaultdict(list)
            for s in in_force_:
                by_office[s.jugendamt].append(s)
            c = _Status._cache = (statuses, len(statuses), in_force_,
                                  {(s.jugendamt, s.dataset, s.monat): s for s in in_force_}, {s.monat for s in in_force_},
                                  dict(by_office))
        self.all, self.by_key, self.by_office = c[2], c[3], c[5]
        self.month = month
        self.known = month in c[4]

    def verdict(self, ags: str, dataset: str, month: str | None = None) -> str:
        month = month or self.month
        s = self.by_key.get((ags, dataset, month))
        if s is None:
            return "fehlt" if self.known and month == self.month else "unbekannt"
        return s.verdict

    def has_data(self, ags: str, dataset: str, month: str | None = None) -> bool:
        """False only when the status says the delivery is missing or was rejected."""
        v = self.verdict(ags, dataset, month)
        return v in ACCEPTED or v == "unbekannt"


def _month_status(st: _Status, offices: Sequence[config.Office], month: str) -> list[DeliveryStatus]:
    """Status in force of every office and dataset for the month; "fehlt" where nothing arrived."""
    out = []
    for o in offices:
        for ds in DATASETS:
            s = st.by_key.get((o.ags, ds, month))
            if s is not None:
                out.append(s)
            elif st.known:
                out.append(DeliveryStatus(o.ags, ds, month, "fehlt"))
    return out


_NEWEST: tuple[object, int, dict] | None = None  # (statuses, len, network -> (months, newest receipt up to each))


def _created_at(statuses: Sequence[DeliveryStatus], month: str, verbund: str | None = None) -> dt.datetime:
    """Newest receipt among the deliveries up to the report month (later months do not change
    an earlier report, so backfills reproduce it byte for byte) of the report's network (a
    delivery in another network does not change the report, so it is not rewritten); month end
    if none. The running maximum per month is built once per run's statuses, not per report."""
    global _NEWEST
    fallback = dt.datetime.combine(month_end(month), dt.time(0, 0))
    if _NEWEST is None or _NEWEST[0] is not statuses or _NEWEST[1] != len(statuses):
        _NEWEST = (statuses, len(statuses), {})
    per_network = _NEWEST[2]
    if verbund not in per_network:
        keys = None if verbund is None else {o.ags for o in config.network_offices(verbund)}
        newest: dict[str, dt.datetime] = {}
        for s in statuses:
            if s.eingegangen is not None and (keys is None or s.jugendamt in keys):
                t = newest.get(s.monat)
                newest[s.monat] = s.eingegangen if t is None else max(t, s.eingegangen)
        months = sorted(newest)
        running: list[dt.datetime] = []
        for m in months:
            running.append(newest[m] if not running else max(running[-1], newest[m]))
        per_network[verbund] = (months, running)
    months, running = per_network[verbund]
    i = bisect.bisect_right(months, month) - 1
    return running[i] if i >= 0 else fallback


def _status_note(st: _Status, offices: Sequence[config.Office], month: str, prefix: str) -> str:
    counts = {"angenommen": 0, "angenommen mit Hinweisen": 0, "abgelehnt": 0, "fehlt": 0}
    times = []
    for o in offices:
        for ds in DATASETS:
            v = st.verdict(o.ags, ds, month)
            if v in counts:
                counts[v] += 1
            s = st.by_key.get((o.ags, ds, month))
            if s is not None and s.eingegangen is not None:
                times.append(s.eingegangen)
    total = sum(counts.values())
    if total == 0:
        return f"{prefix}: für {fmt_month(month)} liegt kein Lieferstatus vor."
    last = f" Letzter Eingang: {fmt_date(max(times))}." if times else ""
    return (f"{prefix}: {counts['angenommen'] + counts['angenommen mit Hinweisen']} von {total} Lieferungen für "
            f"{fmt_month(month)} angenommen (davon {counts['angenommen mit Hinweisen']} mit Hinweisen), "
            f"{counts['abgelehnt']} abgelehnt, {counts['fehlt']} fehlen.{last}")
