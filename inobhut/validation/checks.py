"""The row- and dataset-level checks of one delivery, and the verdict.

Belongs here: the entry points (one file, a batch of files), the rules that need the
reporting month, the office, the calendar or other deliveries
(``ValidationContext``), duplicates and distributions, pseudonymisation of the frame, the
verdict. The row-level pass over a batch and its failures mapped back to findings (row as in
the file, column header, delivered value): :mod:`inobhut.validation.pandera_rows`. Not here:
reading files (:mod:`inobhut.ingest`), rule texts (``schemas/rules.yaml``),
the Prüfbericht (:mod:`inobhut.pruefbericht`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import inobhut.ingest as ingest
from inobhut import calendar, config, privacy
from inobhut.naming import NameError_, parse_name
from inobhut.pseudonym import pseudonymise
from inobhut.validation.pandera_rows import _pandera_batched, _raw
from inobhut.validation.rules import Finding, make_finding, mask, rules, rules_version
from inobhut.warehouse import VERDICT_ACCEPTED, VERDICT_REJECTED, VERDICT_WARNINGS
from schemas.datasets import DATASETS, Dataset

RULES_VERSION = rules_version()
LAND_BY_PREFIX = {
    "01": "SH", "02": "HH", "03": "NI", "04": "HB", "05": "NW", "06": "HE", "07": "RP", "08": "BW",
    "09": "BY", "10": "SL", "11": "BE", "12": "BB", "13": "MV", "14": "SN", "15": "ST", "16": "TH",
}


@dataclass
class ValidationContext:
    """Cross-delivery inputs (all optional)."""

    previous: pd.DataFrame | None = None  # previous month's in-force frame, same dataset, pseudonymised
    previous_rows: int | None = None
    plaetze_ids: set[str] | None = None  # Einrichtung ids of the same month's plaetze delivery
    confirmations: set[tuple[str, str]] = field(default_factory=set)  # (rule_id, fall_id or row key)
    settings: dict | None = None  # merged settings; default: inobhut.config.settings()


@dataclass
class ValidationResult:
    verdict: str
    findings: list[Finding]
    frame: pd.DataFrame | None  # canonical, fallnummer replaced by fall_id; None if rejected
    n_rows: int
    encoding: str | None
    delimiter: str | None
    fehlanzeige: bool = False  # header without data rows: a valid nil return
    rules_version: str = RULES_VERSION

    @property
    def n_fehler(self) -> int:
        return sum(1 for f in self.findings if f.severity == "Fehler")

    @property
    def n_hinweise(self) -> int:
        return sum(1 for f in self.findings if f.severity == "Hinweis" and not f.bestaetigt)

    def counts(self) -> dict[str, int]:
        """Findings per rule id, in catalogue order."""
        out: dict[str, int] = {}
        for rid in rules():
            n = sum(1 for f in self.findings if f.rule_id == rid)
            if n:
                out[rid] = n
        return out


def verdict_of(findings: list[Finding]) -> str:
    if any(f.severity == "Fehler" for f in findings):
        return VERDICT_REJECTED
    if any(f.severity == "Hinweis" and not f.bestaetigt for f in findings):
        return VERDICT_WARNINGS
    return VERDICT_ACCEPTED


def land_of(ags: str) -> str:
    try:
        return config.office(ags).land
    except KeyError:
        return LAND_BY_PREFIX.get(ags[:2], "BW")


# --------------------------------------------------------------------------- entry points


def validate_delivery(path: Path, *, ags: str, dataset: str, month: str, key: bytes,
                      context: ValidationContext | None = None) -> ValidationResult:
    """Validate one delivery file of office ``ags`` for ``dataset`` and ``month`` (YYYY-MM).

    All three levels, the dataset level with Great Expectations (one GX run for this file;
    the pipeline batches many files per GX run with :func:`prepare`/:func:`finish`).
    Never raises for bad input: every problem is a finding."""
    from inobhut.validation.expectations import run_expectations

    ctx = context or ValidationContext()
    try:
        st = ctx.settings or config.settings()
        prep = prepare(Path(path), ags=ags, dataset=dataset, month=month, key=key, settings=st)
        if prep.item is not None:
            run_expectations([prep.item], st)
        return finish(prep, ctx)
    except Exception as exc:  # noqa: BLE001 - the caller always gets a result
        f = make_finding("D024", detail=f"interner Fehler bei der Prüfung: {type(exc).__name__}")
        return ValidationResult(VERDICT_REJECTED, [f], None, 0, None, None)


def validate_file(path: Path, *, key: bytes, context: ValidationContext | None = None) -> tuple[ValidationResult, Any]:
    """Validate a file named ``<ags>_<dataset>_<YYYY-MM>.<ext>``; the name is checked first.

    Returns (result, DeliveryName or None)."""
    path = Path(path)
    try:
        dn = parse_name(path.name)
    except NameError_ as exc:
        return ValidationResult(VERDICT_REJECTED, [make_finding("D025", detail=str(exc))], None, 0, None, None), None
    if dn.ags not in config.office_keys():
        return ValidationResult(VERDICT_REJECTED, [make_finding("D026", wert=dn.ags)], None, 0, None, None), dn
    return validate_delivery(path, ags=dn.ags, dataset=dn.dataset, month=dn.month, key=key, context=context), dn


@dataclass
class Prepared:
    """A delivery after the file and row level (and pseudonymisation), before the dataset level.

    ``item`` is what Great Expectations validates (None if the file could not be read); GX
    findings are appended to ``item.findings`` and merged by :func:`finish`."""

    ags: str
    dataset: str
    month: str
    findings: list[Finding]
    frame: pd.DataFrame | None  # pseudonymised canonical frame (fall_id), also when it has Fehler
    n: int
    encoding: str | None
    delimiter: str | None
    item: Any = None  # inobhut.validation.expectations.Item
    settings: dict | None = None
    case_numbers: frozenset = frozenset()  # raw case numbers, only to scrub finding texts (never stored)

    @property
    def has_fehler(self) -> bool:
        fs = self.findings + (self.item.findings if self.item is not None else [])
        return any(f.severity == "Fehler" for f in fs)


def prepare(path: Path, *, ags: str, dataset: str, month: str, key: bytes, settings: dict | None = None) -> Prepared:
    """File level, row level (pandera and the checks that need month, office and calendar),
    pseudonymisation. Never raises for bad input."""
    return prepare_many([(Path(path), month)], ags=ags, dataset=dataset, key=key, settings=settings)[0]


@dataclass
class _Read:
    """A file after the file level, before the row level."""
    ags: str
    month: str
    rr: Any  # ingest.ReadResult with a frame
    findings: list[Finding]
    parse_failed: set
    numbers: set  # the raw case numbers of the delivery (for scrubbing messages)


def prepare_many(files: list[tuple], *, dataset: str, key: bytes, ags: str | None = None,
                 settings: dict | None = None) -> list[Prepared]:
    """:func:`prepare` for several files of one dataset -- ``(path, month)`` of the office
    ``ags`` or ``(path, month, ags)`` of any offices -- with ONE row-level pass over all of them
    instead of one per file (the fixed cost per call dominated the small monthly files); its
    failure cases are attributed back to file and row. Every row check is row-local, so the
    findings are the same as file by file. Never raises for bad input."""
    st = settings or config.settings()
    ds = DATASETS[dataset]
    pr = st["pruefung"]
    default_ags = ags
    out: list[Prepared | _Read] = []
    for entry in files:
        path, month = entry[0], entry[1]
        ags = entry[2] if len(entry) > 2 else default_ags
        try:
            rr = ingest.read_delivery(Path(path), dataset, max_bytes=int(pr["max_dateigroesse_mb"] * 1024 * 1024),
                                      max_rows=int(pr["max_zeilen"]))
            findings = list(rr.findings)
            if rr.frame is None:
                if not any(f.severity == "Fehler" for f in findings):
                    findings.append(make_finding("D024", detail="kein Inhalt gefunden"))
                out.append(Prepared(ags, dataset, month, findings, None, 0, rr.encoding, rr.delimiter, settings=st))
                continue
            numbers = privacy.case_numbers(rr.raw)
            if len(rr.frame) and numbers:  # masks them in frame and raw before any check sees them
                findings += privacy.case_number_elsewhere(rr.frame, rr.raw, ds)
            parse_failed = {(f.zeile, f.spalte) for f in findings if f.rule_id in ("Z003", "Z004")}
            out.append(_Read(ags, month, rr, findings, parse_failed, numbers))
        except Exception as exc:  # noqa: BLE001
            out.append(_internal_error(ags, dataset, month, exc, st))
    reads = [r for r in out if isinstance(r, _Read) and len(r.rr.frame)]
    try:
        for r, found in zip(reads, _pandera_batched([(r.rr.frame, r.rr.raw, r.parse_failed) for r in reads], ds)):
            r.findings += found
    except Exception as exc:  # noqa: BLE001
        return [r if isinstance(r, Prepared) else _internal_error(r.ags, dataset, r.month, exc, st) for r in out]
    return [r if isinstance(r, Prepared) else _complete(r, r.ags, dataset, key, st) for r in out]


def _internal_error(ags: str, dataset: str, month: str, exc: BaseException, st: dict) -> Prepared:
    f = make_finding("D024", detail=f"interner Fehler bei der Prüfung: {type(exc).__name__}")
    return Prepared(ags, dataset, month, [f], None, 0, None, None, settings=st)


def _complete(r: _Read, ags: str, dataset: str, key: bytes, st: dict) -> Prepared:
    """The checks that need month, office and calendar, and pseudonymisation."""
    from inobhut.validation.expectations import Item

    try:
        ds = DATASETS[dataset]
        df, raw = r.rr.frame, r.rr.raw
        n = len(df)
        if n:
            r.findings += context_findings(df, raw, ds, ags, r.month, st)
        if "fallnummer" in df.columns:
            fall_ids = [pseudonymise(ags, f, key) if f is not None else None
                        for f in df["fallnummer"].to_numpy(dtype=object, na_value=None)]
            ids = pd.array(fall_ids, dtype="string")
            if df.columns[0] == "fallnummer":  # as the reader builds it: renamed and replaced in place
                # (drop + insert copied every column: 1.3 ms of a version's ~18 ms, now 0.3 ms);
                # the reader's frame is not used after this, so sharing its other columns is safe
                out = df.set_axis(["fall_id", *df.columns[1:]], axis=1, copy=False)
                out.isetitem(0, ids)
            else:
                out = df.drop(columns=["fallnummer"])
                out.insert(0, "fall_id", ids)
        else:
            out = df.copy(deep=False)  # the reader's frame is not used after this
        out.attrs.clear()
        privacy.scrub_findings(r.findings, r.numbers)
        return Prepared(ags, dataset, r.month, r.findings, out, n, r.rr.encoding, r.rr.delimiter,
                        item=Item(ags, dataset, out, raw), settings=st, case_numbers=frozenset(r.numbers))
    except Exception as exc:  # noqa: BLE001
        return _internal_error(ags, dataset, r.month, exc, st)


def finish(prep: Prepared, ctx: ValidationContext | None = None) -> ValidationResult:
    """The cross-delivery checks (previous month, same month's plaetze), confirmations and the
    verdict. Call after the GX run over ``prep.item``."""
    ctx = ctx or ValidationContext()
    st = ctx.settings or prep.settings or config.settings()
    findings = list(prep.findings)
    if prep.item is not None:
        findings += prep.item.findings
    if prep.frame is not None:
        findings += cross_findings(prep.frame, DATASETS[prep.dataset], prep.month, ctx, st)
    privacy.scrub_findings(findings, set(prep.case_numbers))
    return _finish(findings, prep.frame, prep.n, prep.encoding, prep.delimiter, DATASETS[prep.dataset], ctx,
                   fehlanzeige=(prep.frame is not None and prep.n == 0))


WHOLE_FILE = "*"  # confirmation key of a finding about the whole delivery (no row, no case)


def finding_key(f: Finding, keys: dict[int, str]) -> str:
    """The key a confirmation refers to: the case (fall_id), facility or area of the row, the
    case/facility of a cross-delivery finding, or ``*`` for the whole delivery."""
    k = getattr(f, "_key", None)
    if k is not None:
        return k
    if f.zeile is not None and f.zeile in keys:
        return keys[f.zeile]
    return WHOLE_FILE


def _finish(findings: list[Finding], frame: pd.DataFrame | None, n: int, encoding, delimiter, ds: Dataset,
            ctx: ValidationContext, fehlanzeige: bool) -> ValidationResult:
    for f in findings:
        if f.spalte == "Fallnummer" and f.wert and not f.wert.startswith("***"):
            f.wert = mask(f.wert)
    if ctx.confirmations:
        keys = _row_keys(frame, ds) if frame is not None else {}
        for f in findings:
            if f.severity == "Hinweis" and (f.rule_id, finding_key(f, keys)) in ctx.confirmations:
                f.bestaetigt = True
    findings.sort(key=lambda f: (f.zeile is not None, f.zeile or 0, f.rule_id, f.spalte or ""))
    verdict = verdict_of(findings)
    if verdict == VERDICT_REJECTED:
        frame = None
    return ValidationResult(verdict, findings, frame, n, encoding, delimiter,
                            fehlanzeige=fehlanzeige and verdict != VERDICT_REJECTED)


def _row_keys(frame: pd.DataFrame, ds: Dataset) -> dict[int, str]:
    col = "fall_id" if "fall_id" in frame.columns else ("einrichtung" if ds.name == "plaetze" else "bereich")
    return {int(z): str(k) for z, k in zip(frame["_zeile"], frame[col]) if k is not pd.NA and k is not None}


# --------------------------------------------------------------------------- row level (context)


def _dates(df: pd.DataFrame, col: str) -> np.ndarray:
    return df[col].to_numpy(dtype="datetime64[D]") if col in df.columns else np.array([], "datetime64[D]")


def _fmt(d: Any) -> str:
    if d is None or (isinstance(d, np.datetime64) and np.isnat(d)):
        return ""
    return pd.Timestamp(d).strftime("%d.%m.%Y")


def context_findings(df: pd.DataFrame, raw: pd.DataFrame, ds: Dataset, ags: str, month: str, st: dict) -> list[Finding]:
    out: list[Finding] = []
    first = np.datetime64(calendar.parse_month(month), "D")
    last = np.datetime64(calendar.month_end(month), "D")
    zeilen = df["_zeile"].to_numpy(dtype="int64")
    mon_txt = f"{month[5:7]}/{month[:4]}"

    def emit(rule: str, mask_: np.ndarray, col: str, **details: Any) -> None:
        header = ds.column(col).header
        for i in np.flatnonzero(mask_):
            out.append(make_finding(rule, int(zeilen[i]), header, _raw(raw, col, int(i)), monat=mon_txt, ags=ags, **details))

    # Jugendamt of every row = delivering office (unless all rows are another office's: S002)
    ja = df["jugendamt"].to_numpy(dtype=object, na_value=None)
    other = np.array([v is not None and v != ags for v in ja], dtype=bool)
    if other.any() and not other.all():
        emit("Z009", other, "jugendamt")

    if ds.name == "massnahmen":
        beginn, ende = _dates(df, "beginn"), _dates(df, "ende")
        emit("Z007", beginn > last, "beginn")
        emit("Z008", ende < first, "ende")
        stop = np.where(np.isnat(ende), last, ende)
        days = (stop - beginn).astype("float64")
        days[np.isnat(beginn)] = np.nan
        with np.errstate(invalid="ignore"):
            long_ = (days > 365) & ~(ende < beginn)
        for i in np.flatnonzero(long_):
            out.append(make_finding("Z101", int(zeilen[i]), "Beginn", _raw(raw, "beginn", int(i)), tage=int(days[i])))
        three = np.datetime64(dt.date(int(month[:4]) - 3, int(month[5:7]), 1), "D")
        emit("Z102", beginn < three, "beginn")
        out += _deadline_findings(df, raw, ags, last, first, zeilen, st)
    elif ds.name == "uma":
        emit("Z007", _dates(df, "zustaendig_seit") > last, "zustaendig_seit")
        emit("Z008", _dates(df, "zustaendig_bis") < first, "zustaendig_bis")
    else:
        stichtag = _dates(df, "stichtag")
        emit("Z007", stichtag > last, "stichtag")
        emit("Z018", stichtag < first, "stichtag")
    return out


def _deadline_findings(df, raw, ags, last, first, zeilen, st) -> list[Finding]:
    """§42a Abs. 4: report to the Land distribution office within N Werktage."""
    frist = int(st["fristen"]["meldefrist_werktage"])
    land = land_of(ags)
    out: list[Finding] = []
    m2 = (df["massnahme"] == "2").fillna(False).to_numpy(dtype=bool)
    if not m2.any():
        return out
    beginn, ende, meldung = _dates(df, "beginn"), _dates(df, "ende"), _dates(df, "meldung_landesstelle")
    started = m2 & ~np.isnat(beginn)
    # reported in this month or later (reported before it: raised in that month's delivery)
    reported = started & ~np.isnat(meldung) & ~((meldung < first) | (meldung < beginn))
    # not reported: Werktage up to the month's end, or up to an earlier Ende
    ref = np.where(np.isnat(ende), last, np.minimum(ende, last))
    pending = started & np.isnat(meldung) & (ref > beginn)
    counted = reported | pending
    wd = np.zeros(len(beginn), dtype=np.int64)
    wd[counted] = calendar.workdays_between_many(beginn[counted], np.where(reported, meldung, ref)[counted], land)
    for i in np.flatnonzero(counted & (wd > frist)):
        if reported[i]:
            out.append(make_finding("Z105", int(zeilen[i]), "Meldung_Landesstelle", _raw(raw, "meldung_landesstelle", int(i)),
                                    werktage=int(wd[i]), frist=frist))
        else:
            out.append(make_finding("Z106", int(zeilen[i]), "Meldung_Landesstelle", None, werktage=int(wd[i]), frist=frist))
    return out


# --------------------------------------------------------------------------- dataset level


def cross_findings(df: pd.DataFrame, ds: Dataset, month: str, ctx: ValidationContext, st: dict) -> list[Finding]:
    """Dataset level, custom checks (no GX expectation compares two deliveries): row count
    against the previous accepted month (S101), Fortschreibung (S102), facilities gone (S103),
    Einrichtung references into the same month's plaetze (S104). ``df`` is pseudonymised."""
    out: list[Finding] = []
    n = len(df)
    pr = st["pruefung"]
    zeilen = df["_zeile"].to_numpy(dtype="int64")
    if n and ds.name == "massnahmen" and ctx.plaetze_ids is not None:
        einr = df["einrichtung"].to_numpy(dtype=object, na_value=None)
        for i, e in enumerate(einr):
            if e is not None and e not in ctx.plaetze_ids:
                out.append(make_finding("S104", int(zeilen[i]), "Einrichtung", e))
    prev_rows = ctx.previous_rows if ctx.previous_rows is not None else (len(ctx.previous) if ctx.previous is not None else None)
    if prev_rows is not None:
        diff = abs(n - prev_rows)
        if diff >= pr["zeilen_toleranz_min"] and (prev_rows == 0 or diff * 100 > pr["zeilen_toleranz_pct"] * prev_rows):
            dev = "+∞" if prev_rows == 0 else f"{(n - prev_rows) * 100 / prev_rows:+.0f}"
            out.append(make_finding("S101", None, None, str(n), anzahl=n, vormonat=prev_rows, abweichung=dev))
    prev = ctx.previous
    if prev is not None and len(prev):
        out += _continuation(df, ds, month, prev)
    return out


def _continuation(df: pd.DataFrame, ds: Dataset, month: str, prev: pd.DataFrame) -> list[Finding]:
    out: list[Finding] = []
    prev_end = np.datetime64(calendar.parse_month(month), "D") - np.timedelta64(1, "D")
    if ds.name in ("massnahmen", "uma") and "fall_id" in prev.columns:
        endcol = "ende" if ds.name == "massnahmen" else "zustaendig_bis"
        current = _fall_ids_current(df)
        if current is None:
            return out
        ends = calendar.as_dates(prev[endcol]).to_numpy(dtype="datetime64[D]") if endcol in prev.columns else np.full(len(prev), np.datetime64("NaT"), "datetime64[D]")
        open_ = np.isnat(ends) | (ends > prev_end)
        ids = prev["fall_id"].to_numpy(dtype=object)
        pz = prev["_zeile"].to_numpy() if "_zeile" in prev.columns else [None] * len(prev)
        for i in np.flatnonzero(open_):
            if ids[i] is not None and ids[i] not in current:
                f = make_finding("S102", None, "Fallnummer", None, vorzeile=pz[i] if pz[i] is not None else "–")
                f._key = str(ids[i])  # type: ignore[attr-defined]  # for confirmations
                out.append(f)
    elif ds.name == "plaetze" and "einrichtung" in prev.columns:
        now = set(df["einrichtung"].dropna())
        for e in sorted(set(prev["einrichtung"].dropna()) - now):
            f = make_finding("S103", None, "Einrichtung", e)
            f._key = str(e)  # type: ignore[attr-defined]
            out.append(f)
    return out


def _fall_ids_current(df: pd.DataFrame) -> set[str] | None:
    if "fall_id" not in df.columns:
        return None
    return set(df["fall_id"].dropna())
