"""German number and date formatting for report text and HTML tables.

Belongs here: small pure helpers that turn numbers, dates and months into the German
display form used in every report (``1.234``, ``12,5 %``, ``31.03.2025``, ``März 2025``).
Strings (the table symbols ``–``, ``.``, ``x``, ``/``, ``...``) pass through unchanged.
Does not belong here: Excel number formats (Excel formats the numbers itself, see
:mod:`inobhut.reports.excel`), anything that decides *which* symbol a value gets.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from numbers import Number

import numpy as np
import pandas as pd

MONTHS_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)

#: shown for a missing number that reached a formatter (should not happen in tables,
#: where every missing value carries an explicit symbol)
UNKNOWN = "."


def _is_missing(x: object) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, float) and math.isnan(x):
        return True
    try:
        return bool(pd.isna(x)) if not isinstance(x, (str, bytes)) else False
    except (TypeError, ValueError):
        return False


def _group(int_digits: str) -> str:
    """'1234567' -> '1.234.567'."""
    out = []
    while len(int_digits) > 3:
        out.append(int_digits[-3:])
        int_digits = int_digits[:-3]
    out.append(int_digits)
    return ".".join(reversed(out))


def _round(x: object, n: int) -> Decimal:
    try:
        d = Decimal(str(x))  # str() keeps the shortest repr: 2.25 stays 2.25
    except InvalidOperation as exc:  # pragma: no cover - guarded by callers
        raise ValueError(f"keine Zahl: {x!r}") from exc
    q = Decimal(1).scaleb(-n)
    return d.quantize(q, rounding=ROUND_HALF_UP)


def _whole(x: object) -> int | None:
    """``x`` as an int when it is a whole number that needs no rounding (an int, a numpy integer,
    or an integral float below 2**53, where every integer is exact); else None."""
    t = type(x)
    if t is int:
        return x
    if t is float or t is np.float64:
        return int(x) if x.is_integer() and abs(x) < 2.0 ** 53 else None
    if isinstance(x, np.integer):
        return int(x)
    return None


def fmt_dec(x: object, n: int = 1, grouping: bool = True) -> str:
    """Decimal number with ``n`` places, commercial rounding (half up), German separators.

    ``fmt_dec(1234.56, 1) == "1.234,6"``; strings (symbols) pass through; missing -> ``.``.
    """
    if isinstance(x, str):
        return x
    whole = _whole(x)
    if whole is not None:  # most table cells are counts: no rounding, no Decimal
        digits = f"{abs(whole):,}".replace(",", ".") if grouping else str(abs(whole))
        return ("-" if whole < 0 else "") + digits + ("," + "0" * n if n > 0 else "")
    if _is_missing(x):
        return UNKNOWN
    if isinstance(x, bool) or not isinstance(x, Number):
        raise TypeError(f"fmt_dec erwartet eine Zahl, nicht {type(x).__name__}")
    if isinstance(x, float) and math.isinf(x):
        return UNKNOWN
    d = _round(x, n)
    if d == 0:
        d = abs(d)  # no "-0,0"
    sign = "-" if d < 0 else ""
    text = f"{abs(d):.{n}f}"
    int_part, _, frac = text.partition(".")
    if grouping:
        int_part = _group(int_part)
    return sign + int_part + ("," + frac if n > 0 else "")


def fmt_int(x: object, grouping: bool = True) -> str:
    """Whole number with thousands points: ``fmt_int(1234) == "1.234"`` (rounded half up)."""
    return fmt_dec(x, 0, grouping)


def fmt_pct(x: object, n: int = 1) -> str:
    """Percentage (value already in percent): ``fmt_pct(12.5) == "12,5 %"``."""
    if isinstance(x, str):
        return x
    text = fmt_dec(x, n)
    return text if text == UNKNOWN else f"{text} %"


def _as_date(x: object) -> dt.date | dt.datetime | None:
    if isinstance(x, str):
        x = dt.datetime.fromisoformat(x)
    if isinstance(x, pd.Timestamp):
        x = x.to_pydatetime()
    if isinstance(x, (dt.date, dt.datetime)):
        return x
    raise TypeError(f"kein Datum: {x!r}")


def fmt_date(x: object) -> str:
    """Date as ``TT.MM.JJJJ``; accepts date, datetime, Timestamp or ISO text."""
    if _is_missing(x):
        return UNKNOWN
    d = _as_date(x)
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"


def fmt_datetime(x: object) -> str:
    """Date and time as ``TT.MM.JJJJ, HH:MM Uhr``."""
    if _is_missing(x):
        return UNKNOWN
    d = _as_date(x)
    if not isinstance(d, dt.datetime):
        return fmt_date(d)
    return f"{fmt_date(d)}, {d.hour:02d}:{d.minute:02d} Uhr"


def fmt_month(month: str) -> str:
    """``"2025-03"`` -> ``"März 2025"``."""
    y, m = month.split("-")
    return f"{MONTHS_DE[int(m) - 1]} {int(y)}"


def fmt_period(key: str) -> str:
    """Period key of a report as German text: ``"2025-03"`` -> ``"März 2025"``, ``"2025"`` ->
    ``"Jahr 2025"``, ``"2025-03-14"`` -> ``"14.03.2025"``, ``"2025-03-03_2025-03-14"`` ->
    ``"03.03.2025 bis 14.03.2025"``, ``""`` (whole history or latest Stichtag) -> ``""``."""
    if not key:
        return ""
    if "_" in key:
        a, b = key.split("_", 1)
        return f"{fmt_date(a)} bis {fmt_date(b)}"
    if len(key) == 10:
        return fmt_date(key)
    return f"Jahr {key}" if len(key) == 4 else fmt_month(key)


def fmt_month_short(month: str) -> str:
    """``"2025-03"`` -> ``"03/2025"`` (axis labels, narrow columns)."""
    y, m = month.split("-")
    return f"{m}/{y}"


def fmt_value(x: object, number_format: str | None) -> str:
    """Display text of one table cell for an Excel number format of :data:`NUMBER_FORMATS`."""
    if isinstance(x, str):
        return x
    if number_format is None:
        if isinstance(x, (dt.date, dt.datetime, pd.Timestamp)):
            return fmt_date(x)
        if isinstance(x, Number) and not isinstance(x, bool):
            return fmt_int(x) if float(x).is_integer() else fmt_dec(x, 1)
        return str(x)
    places, grouping = NUMBER_FORMATS[number_format]
    return fmt_dec(x, places, grouping)


#: supported Excel number formats -> (decimal places, thousands grouping)
NUMBER_FORMATS: dict[str, tuple[int, bool]] = {
    "#,##0": (0, True),
    "0": (0, False),
    "0.0": (1, False),
    "0.00": (2, False),
    "#,##0.0": (1, True),
    "#,##0.00": (2, True),
}
