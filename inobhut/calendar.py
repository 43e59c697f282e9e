"""Months, Stichtage and working days (Werktage) with the Land's public holidays.

Holidays come from the maintained ``holidays`` library (subdivision = the office's Land).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import holidays
import numpy as np

_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII)


def parse_month(text: str) -> dt.date:
    """'YYYY-MM' (ASCII digits only) -> first day of that month; ValueError otherwise."""
    if not _MONTH.fullmatch(text):
        raise ValueError(f"Ungültiger Monat „{text}“; erwartet wird JJJJ-MM mit den Ziffern 0–9.")
    return dt.date(int(text[:4]), int(text[5:7]), 1)


def month_key(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def month_end(month: str | dt.date) -> dt.date:
    """Stichtag: last day of the month."""
    first = parse_month(month) if isinstance(month, str) else month.replace(day=1)
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


def add_months(month: str, n: int) -> str:
    d = parse_month(month)
    idx = d.year * 12 + (d.month - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    out, cur = [], first
    while cur <= last:
        out.append(cur)
        cur = add_months(cur, 1)
    return out


def last_complete_month(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return add_months(month_key(today), -1)


def as_dates(values):
    """``pd.to_datetime(values)`` for columns that hold dates already (DuckDB's DATE, Python
    dates), without pandas' conversion cache: the cache first looks at up to 500 values one by
    one for repeats (1.85 ms instead of 0.03 ms for 5,000 rows); the result is the same."""
    import pandas as pd

    return pd.to_datetime(values, cache=False)


def days_between(start, end):
    """Whole days from ``start`` to ``end`` (columns of dates; NaN where one is missing)."""
    return (as_dates(end) - as_dates(start)).dt.days


@lru_cache(maxsize=512)
def _holidays(land: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("DE", subdiv=land, years=year).keys())


def is_workday(d: dt.date, land: str) -> bool:
    return d.weekday() < 5 and d not in _holidays(land, d.year)


def workdays_between(start: dt.date, end: dt.date, land: str) -> int:
    """Number of Werktage after ``start`` up to and including ``end`` (0 if end <= start)."""
    n, d = 0, start
    while d < end:
        d += dt.timedelta(days=1)
        if is_workday(d, land):
            n += 1
    return n


def workdays_between_many(starts, ends, land: str) -> np.ndarray:
    """:func:`workdays_between` for arrays of dates of one Land (``datetime64[D]``-convertible,
    no NaT), counted at once with numpy's business-day calendar (Monday to Friday without the
    Land's holidays): the same number for every pair, without a loop over the days."""
    starts = np.asarray(starts, dtype="datetime64[D]")
    ends = np.asarray(ends, dtype="datetime64[D]")
    if starts.size == 0:
        return np.zeros(0, dtype=np.int64)
    first = int(str(min(starts.min(), ends.min()))[:4])
    last = int(str(max(starts.max(), ends.max()))[:4]) + 1
    days = sorted(d for y in range(first, last + 1) for d in _holidays(land, y))
    cal = np.busdaycalendar(weekmask="1111100", holidays=np.array(days, dtype="datetime64[D]"))
    one = np.timedelta64(1, "D")
    counts = np.busday_count(starts + one, ends + one, busdaycal=cal)
    return np.where(ends > starts, counts, 0).astype(np.int64)


def add_workdays(start: dt.date, n: int, land: str) -> dt.date:
    """The day on which ``n`` Werktage after ``start`` have passed."""
    d, k = start, 0
    while k < n:
        d += dt.timedelta(days=1)
        if is_workday(d, land):
            k += 1
    return d


def previous_workday(d: dt.date, land: str) -> dt.date:
    """The last Werktag before ``d``."""
    d -= dt.timedelta(days=1)
    while not is_workday(d, land):
        d -= dt.timedelta(days=1)
    return d


def workdays(first: dt.date, last: dt.date, land: str) -> list[dt.date]:
    """The Werktage from ``first`` to ``last`` (both included)."""
    out, d = [], first
    while d <= last:
        if is_workday(d, land):
            out.append(d)
        d += dt.timedelta(days=1)
    return out
