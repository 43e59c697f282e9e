"""Werktage counted at once (``workdays_between_many``) equal the day-by-day count.

The vectorised count serves the §42a deadline rule of the validation (Z105/Z106), the table
``fristen_42a`` and the office's deadline list; the day-by-day ``workdays_between`` is the
definition (weekends and the Land's public holidays are no Werktage)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs

from inobhut.calendar import workdays_between, workdays_between_many

DAYS = hs.dates(min_value=dt.date(2009, 1, 1), max_value=dt.date(2031, 12, 31))


@settings(max_examples=60, deadline=None)
@given(pairs=hs.lists(hs.tuples(DAYS, hs.integers(min_value=-40, max_value=800)), min_size=1, max_size=40),
       land=hs.sampled_from(["BW", "SH", "BY", "NW", "SN"]))
def test_counted_at_once_equals_day_by_day(pairs, land):
    starts = [s for s, _ in pairs]
    ends = [s + dt.timedelta(days=d) for s, d in pairs]
    expected = [workdays_between(s, e, land) for s, e in zip(starts, ends)]
    assert workdays_between_many(starts, ends, land).tolist() == expected


def test_holidays_of_the_land_and_around_the_turn_of_the_year():
    # Maundy Thursday 2026-04-02 .. Tuesday after Easter: Good Friday and Easter Monday are
    # holidays everywhere; Epiphany (6 January) only in BW, not in SH
    assert workdays_between_many([dt.date(2026, 4, 2)], [dt.date(2026, 4, 7)], "SH").tolist() == [1]
    assert workdays_between_many([dt.date(2025, 12, 31)], [dt.date(2026, 1, 7)], "BW").tolist() == [3]
    assert workdays_between_many([dt.date(2025, 12, 31)], [dt.date(2026, 1, 7)], "SH").tolist() == [4]
    # the same day, an end before the start, and no pairs at all
    assert workdays_between_many([dt.date(2026, 3, 2)] * 2, [dt.date(2026, 3, 2), dt.date(2026, 2, 2)], "BW").tolist() == [0, 0]
    assert workdays_between_many(np.array([], "datetime64[D]"), np.array([], "datetime64[D]"), "BW").size == 0
