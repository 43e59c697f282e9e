"""Parsing the values of a delivery's cells into the canonical dtypes of :mod:`schemas.datasets`.

Belongs here: the accepted spellings of each kind (German and ISO dates and months, Excel serial
dates, ``ja``/``nein``, thousands separators and decimal commas, code lists with their
separators), the typed column and the parallel column of values as delivered, and the finding
(Z003/Z004 with row, column and delivered value) for a value that cannot be parsed. Called by
:mod:`inobhut.ingest` once the header is mapped; everything about the file itself is there.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd

from inobhut.naming import is_ascii_digits, restore_ags
from inobhut.validation.rules import Finding, make_finding
from schemas.datasets import Column, Dataset, codes

EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = 10000, 80000  # 1927 … 2119: plausible Excel serial dates


def _display(v: Any) -> str:
    """A delivered cell value as text (for messages and the raw frame)."""
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%d.%m.%Y") if v.time() == dt.time() else v.strftime("%d.%m.%Y %H:%M")
    if isinstance(v, dt.date):
        return v.strftime("%d.%m.%Y")
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return repr(v).replace(".", ",")
    return str(v).strip()


_DATE_DE = re.compile(r"^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$")
_DATE_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_MONTH_DE = re.compile(r"^([0-9]{1,2})[./]([0-9]{4})$")
_MONTH_ISO = re.compile(r"^([0-9]{4})-([0-9]{1,2})$")
_SERIAL = re.compile(r"^[0-9]{5}(?:[.,]0+)?$")
_INT = re.compile(r"^[+-]?[0-9]+$")
_INT_THOUSANDS = re.compile(r"^[+-]?[0-9]{1,3}(?:\.[0-9]{3})+$")
_INT_ZERO_DEC = re.compile(r"^([+-]?[0-9]+)[,.]0+$")
_DEC_COMMA = re.compile(r"^[+-]?[0-9]{1,3}(?:\.[0-9]{3})*,[0-9]+$|^[+-]?[0-9]+,[0-9]+$")
_DEC_POINT = re.compile(r"^[+-]?[0-9]{1,3}(?:,[0-9]{3})*\.[0-9]+$|^[+-]?[0-9]+\.[0-9]+$|^[+-]?[0-9]+$")
_CODE_SPLIT = re.compile(r"[,|;/\s]+")
TRUE_WORDS = {"1", "ja", "j", "x", "wahr", "true", "y", "yes"}
FALSE_WORDS = {"0", "nein", "n", "falsch", "false", "no"}

EXPECTED = {
    "ags": "Schlüssel mit 5 oder 8 Ziffern erwartet",
    "date": "Datum (TT.MM.JJJJ)",
    "month": "Monat (MM.JJJJ)",
    "bool": "1 oder 0 (ja/nein) erwartet",
    "int": "ganze Zahl erwartet",
    "decimal": "Zahl erwartet",
}


class _Bad(Exception):
    pass


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    t = v.strftime("%d.%m.%Y") if isinstance(v, (dt.date, dt.datetime)) else str(v).strip()
    return t or None


def _date_from_serial(n: float) -> dt.date:
    return EXCEL_EPOCH + dt.timedelta(days=int(n))


def _parse_date(v: Any) -> tuple[dt.date | None, bool]:
    """-> (date, was_serial); raises _Bad."""
    if isinstance(v, dt.datetime):
        return v.date(), False
    if isinstance(v, dt.date):
        return v, False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if SERIAL_MIN <= v <= SERIAL_MAX and float(v).is_integer():
            return _date_from_serial(v), True
        raise _Bad
    t = str(v).strip()
    m = _DATE_DE.match(t)
    try:
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1])), False
        m = _DATE_ISO.match(t)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), False
    except ValueError as exc:
        raise _Bad from exc
    if _SERIAL.match(t):
        n = int(re.split(r"[.,]", t)[0])
        if SERIAL_MIN <= n <= SERIAL_MAX:
            return _date_from_serial(n), True
    raise _Bad


def _parse_month(v: Any) -> tuple[dt.date | None, bool]:
    if isinstance(v, (dt.date, dt.datetime)):
        d = v.date() if isinstance(v, dt.datetime) else v
        return d.replace(day=1), False
    t = str(v).strip()
    m = _MONTH_DE.match(t)
    if m is None:
        m2 = _MONTH_ISO.match(t)
        if m2:
            y, mo = int(m2[1]), int(m2[2])
        else:
            d, serial = _parse_date(v)
            return d.replace(day=1), serial
    else:
        y, mo = int(m[2]), int(m[1])
    if not 1 <= mo <= 12:
        raise _Bad
    return dt.date(y, mo, 1), False


def _parse_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    t = _text(v)
    t = t.casefold() if t else ""
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise _Bad


def _parse_int(v: Any) -> int:
    if isinstance(v, bool):
        raise _Bad
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        raise _Bad
    t = str(v).strip().replace(" ", "").replace("\u00a0", "")
    if _INT.match(t):
        return int(t)
    if _INT_THOUSANDS.match(t):
        return int(t.replace(".", ""))
    m = _INT_ZERO_DEC.match(t)
    if m:
        return int(m[1])
    raise _Bad


def _parse_decimal(v: Any) -> float:
    if isinstance(v, bool):
        raise _Bad
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not np.isfinite(v):
            raise _Bad
        return float(v)
    t = str(v).strip().replace(" ", "").replace("\u00a0", "")
    if _DEC_COMMA.match(t):
        return float(t.replace(".", "").replace(",", "."))
    if _INT_THOUSANDS.match(t) and t.count(".") > 1:
        return float(t.replace(".", ""))
    if _DEC_POINT.match(t):
        return float(t.replace(",", ""))
    raise _Bad


def _code_normaliser(col: Column):
    allowed = codes(col.codelist) if col.codelist else []
    width = max((len(c) for c in allowed), default=1)
    numeric = all(is_ascii_digits(c) for c in allowed)
    by_fold = {c.casefold(): c for c in allowed}

    def norm(t: str) -> str:
        if numeric and is_ascii_digits(t):
            return str(int(t)).zfill(width) if len(t) <= width + 2 else t
        m = _INT_ZERO_DEC.match(t)
        if numeric and m and is_ascii_digits(m[1]):
            return str(int(m[1])).zfill(width)
        return by_fold.get(t.casefold(), t)

    return norm


def _parse(ds: Dataset, raw_cols: dict[str, list], zeilen: list[int], findings: list[Finding]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type every column; a cell that does not fit its column's kind becomes a finding with its
    row and delivered value. Text cells (all of a CSV file) take fast paths: their display form
    is the stripped text, and each distinct text is parsed once per column."""
    n = len(zeilen)
    index = pd.RangeIndex(n)
    out: dict[str, Any] = {}
    raw_out: dict[str, Any] = {}
    for col in ds.columns:
        values = raw_cols[col.name]
        disp = [v.strip() if v.__class__ is str else _display(v) for v in values]
        raw_out[col.name] = disp
        parsed: list[Any] = [None] * n
        kind = col.kind
        bad: list[int] = []
        serial: list[int] = []
        cache: dict[Any, Any] = {}
        # the text of each cell as _text() gives it (the display form of a text cell, or None)
        texts = [(d or None) if v.__class__ is str else _text(v) for v, d in zip(values, disp)]
        if kind in ("text", "iso3"):
            parsed = [t.upper() if t else t for t in texts] if kind == "iso3" else texts
        elif kind == "ags":
            for i, t in enumerate(texts):
                if t is None:
                    continue
                t = restore_ags(t)
                if is_ascii_digits(t) and len(t) in (5, 8):
                    parsed[i] = t
                else:
                    bad.append(i)
        elif kind in ("code", "codes"):
            norm = _code_normaliser(col)
            for i, t in enumerate(texts):
                if t is None:
                    continue
                if t not in cache:
                    if kind == "code":
                        cache[t] = norm(t)
                    else:
                        parts = sorted({norm(p) for p in _CODE_SPLIT.split(t) if p})
                        cache[t] = ",".join(parts) if parts else None
                parsed[i] = cache[t]
        else:
            fn = {"date": _parse_date, "month": _parse_month, "bool": _parse_bool, "int": _parse_int,
                  "decimal": _parse_decimal}[kind]
            dated = kind in ("date", "month")
            for i, v in enumerate(values):
                if texts[i] is None if v.__class__ is str else v is None:
                    continue  # empty: a missing value, checked by the rules
                # text is parsed once per distinct stripped text; other cells by type and value
                # (1, 1.0 and True are equal keys but parse differently)
                key = texts[i] if v.__class__ is str else (v.__class__, v)
                res = cache.get(key, cache)
                if res is cache:
                    try:
                        res = fn(v) if dated else (fn(v), False)
                    except (_Bad, ValueError, OverflowError):
                        res = None
                    cache[key] = res
                if res is None:
                    bad.append(i)
                else:
                    parsed[i] = res[0]
                    if res[1]:
                        serial.append(i)
            if kind == "bool":
                _x_style(values, parsed, disp)
        for i in bad:
            rule = "Z004" if kind in ("date", "month") else "Z003"
            findings.append(make_finding(rule, zeile=zeilen[i], spalte=col.header, wert=disp[i], erwartet=EXPECTED[kind]))
        if serial:
            i0 = serial[0]
            findings.append(make_finding("D023", zeile=zeilen[i0], spalte=col.header, wert=disp[i0], anzahl=len(serial)))
        out[col.name] = _typed(kind, parsed)
    frame = pd.DataFrame(out, index=index)
    frame["_zeile"] = pd.array(zeilen, dtype=_INT64)
    raw = pd.DataFrame({c: pd.array(v, dtype=_STRING) for c, v in raw_out.items()}, index=index)
    return frame, raw


def _x_style(values: list, parsed: list, disp: list) -> None:
    """Tick-box columns: if a column uses only "x" for yes, an empty cell means no."""
    words = {d.casefold() for d in disp if d}
    if "x" in words and not (words & FALSE_WORDS):
        for i, d in enumerate(disp):
            if not d:
                parsed[i] = False


# dtype objects, not their names: looking a name up costs more than the conversion of a small column
_STRING, _INT64, _FLOAT64, _BOOLEAN = pd.StringDtype(), pd.Int64Dtype(), pd.Float64Dtype(), pd.BooleanDtype()
_NS = np.dtype("datetime64[ns]")


def _typed(kind: str, parsed: list) -> Any:
    if kind in ("date", "month"):
        return pd.array([pd.Timestamp(v) if v is not None else pd.NaT for v in parsed], dtype=_NS)
    if kind == "bool":
        return pd.array(parsed, dtype=_BOOLEAN)
    if kind == "int":
        return pd.array(parsed, dtype=_INT64)
    if kind == "decimal":
        return pd.array(parsed, dtype=_FLOAT64)
    return pd.array(parsed, dtype=_STRING)
