"""Row checks and the pandera schemas generated from them (from :mod:`schemas.datasets` and the
code lists).

Belongs here: the row checks of every dataset for the *parsed* canonical frame (code lists,
ranges, text lengths, and the cross-field rules that can be decided from one row alone:
required-if, Ende vor Beginn, age, §42a rules, ...) as :class:`RowCheck` -- a name and a
vectorised function that says which rows fail --, and the ``DataFrameSchema`` per dataset
generated from them: dtypes, required columns (not nullable), every row check as a
``pa.Check``. Every check is named ``"<rule id>"`` or ``"<rule id>:<column>"``; the rule texts
live in ``schemas/rules.yaml`` and the mapping of failures back to findings in
:mod:`inobhut.validation.pandera_rows`. Rules that need the reporting month, the office, the
calendar or other deliveries are not here.

Two ways to use them, with the same result: ``schema_for(ds).validate(df, lazy=True)`` (pandera
runs everything), or -- what the pipeline does -- pandera checks the structure
(:func:`structure_for`: columns and dtypes) and the row checks are evaluated directly
(:func:`row_checks`, :func:`required_columns`). pandera's machinery costs about 0.3 ms per
check and call whatever the number of rows (wrapping, failure-case frames, the report), which
at the batch sizes of the pipeline was half of the row level (``bench/bench_scales.py
vergleich``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pycountry
from pandera.engines import pandas_engine

from schemas.datasets import DATASETS, Column, codes

@dataclasses.dataclass(frozen=True)
class CanonicalString(pandas_engine.STRING):
    """pandas ``string`` dtype, checked on the dtype only.

    pandera's own STRING check inspects every element and formats a failure report even when
    all pass, which costs milliseconds per column; the parser already guarantees the dtype."""

    def check(self, pandera_dtype, data_container=None) -> bool:  # type: ignore[override]
        return isinstance(getattr(pandera_dtype, "type", None), pd.StringDtype)


_STR = CanonicalString()
DTYPES = {
    "text": _STR, "ags": _STR, "code": _STR, "codes": _STR, "iso3": _STR,
    "date": "datetime64[ns]", "month": "datetime64[ns]", "bool": "boolean", "int": "Int64", "decimal": "Float64",
}
ISO3_SPECIAL = ("XXA", "XXX")


@lru_cache(maxsize=1)
def iso3_codes() -> frozenset[str]:
    return frozenset({c.alpha_3 for c in pycountry.countries} | set(ISO3_SPECIAL))


def _addresses(values: np.ndarray) -> np.ndarray:
    """The addresses of the objects in the contiguous object array ``values`` as integers (numpy
    will not view an object array as integers; this reads the same memory through ctypes). Valid
    while ``values`` lives; compared with ``id(obj)``, it tells where ``obj`` itself is."""
    import ctypes

    if not len(values):
        return np.zeros(0, np.intp)
    ptr = ctypes.cast(values.ctypes.data, ctypes.POINTER(ctypes.c_ssize_t))
    return np.ctypeslib.as_array(ptr, shape=(len(values),)).copy()


def _objects(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The column's values as a contiguous object array and which of them are missing
    (``pd.NA`` or None), found by address (:func:`_addresses`; ``pd.NA`` is one object, and
    testing or hashing it element by element is a call per row). Without a copy where the
    column already is such an array: read it, do not change it."""
    values = np.ascontiguousarray(np.asarray(s.array, dtype=object))
    addresses = _addresses(values)
    return values, (addresses == id(pd.NA)) | (addresses == id(None))


def _a(df: pd.DataFrame, col: str) -> np.ndarray:
    """A column as a numpy array in which missing values compare False (NaT, NaN, None)."""
    s = df[col]
    kind = s.dtype
    if isinstance(kind, pd.StringDtype):
        return _texts(s)
    if isinstance(kind, (pd.Int64Dtype, pd.Float64Dtype)):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(kind, pd.BooleanDtype):
        return s.to_numpy(dtype=object, na_value=None)
    return s.to_numpy()


def _texts(s: pd.Series) -> np.ndarray:
    """A text column as an object array with None for missing: like ``to_numpy(dtype=object,
    na_value=None)``, which tests every element for being missing and copies; here the missing
    ones are found by address (:func:`_objects`) and only then is the array copied (without
    missing values it is the column's own array: read it, do not change it)."""
    if s.dtype.na_value is not pd.NA:  # a text dtype with NaN for missing
        return s.to_numpy(dtype=object, na_value=None)
    values, missing = _objects(s)
    if missing.any():
        values = values.copy()
        values[missing] = None
    return values


def _isna(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.na_value is pd.NA:  # by address (_objects)
        return _objects(s)[1]
    return s.isna().to_numpy()


@dataclasses.dataclass(frozen=True)
class RowCheck:
    """One row check: ``bad`` gets the column ``column`` as a Series (or, with ``column`` None,
    the frame as :class:`Rows`) and returns a boolean array, True where the row fails."""

    name: str  # "<rule id>" or "<rule id>:<column>"
    column: str | None
    bad: Callable[[pd.Series | Rows], np.ndarray]

    def evaluate(self, frame: pd.DataFrame, rows: Rows | None = None) -> np.ndarray:
        """Which rows of ``frame`` fail (``rows``: a :class:`Rows` of ``frame`` to share)."""
        if self.column is not None:
            return np.asarray(self.bad(frame[self.column]), dtype=bool)
        return np.asarray(self.bad(rows if rows is not None else Rows(frame)), dtype=bool)

    def as_pandera(self) -> pa.Check:
        """The same check for pandera (True = the row passes)."""
        if self.column is not None:
            return pa.Check(lambda s: pd.Series(~np.asarray(self.bad(s), dtype=bool), index=s.index),
                            name=self.name, ignore_na=False)
        return pa.Check(lambda df: pd.Series(~self.evaluate(df), index=df.index), name=self.name, ignore_na=False)


def _per_value(s: pd.Series, bad) -> np.ndarray:
    """``bad(value)`` for every element, evaluated once per distinct value (a delivery's text
    columns hold few distinct values, so this costs a hash per row instead of a Python call);
    missing values never fail here (required columns are checked as not nullable).

    The distinct values come from a Python ``set`` of the column's texts (a ``str`` keeps its
    hash): 2-3 times cheaper than ``pd.factorize``. The missing values are left out before
    (:func:`_objects`). Only when a distinct value is bad are the failing rows looked up."""
    values, missing = _objects(s)
    present = ~missing
    distinct = set(values if present.all() else values[present])
    bad_values = [v for v in distinct if isinstance(v, str) and bad(v)]
    out = np.zeros(len(values), bool)
    if bad_values:
        out[present] = pd.Index(values[present], dtype=object).isin(bad_values)
    return out


def _codes_check(allowed: frozenset[str]):
    return lambda s: _per_value(s, lambda v: not all(p in allowed for p in v.split(",")))


def _isin_check(allowed: frozenset[str]):
    return lambda s: _per_value(s, lambda v: v not in allowed)


def _maxlen_check(n: int):
    return lambda s: _per_value(s, lambda v: len(v) > n)


_AGS = re.compile(r"^[0-9]{5}(?:[0-9]{3})?$")


def _ags_check(s: pd.Series) -> np.ndarray:
    return _per_value(s, lambda v: not _AGS.match(v))


def _range_check(lo: float | None, hi: float | None):
    def check(s: pd.Series) -> np.ndarray:
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = np.zeros(len(v), bool)
            if lo is not None:
                bad |= v < lo
            if hi is not None:
                bad |= v > hi
        return bad

    return check


def _column_checks(c: Column) -> list[RowCheck]:
    checks: list[RowCheck] = []
    if c.kind == "code" and c.codelist:
        checks.append(RowCheck("Z002", c.name, _isin_check(frozenset(codes(c.codelist)))))
    elif c.kind == "codes" and c.codelist:
        checks.append(RowCheck("Z002", c.name, _codes_check(frozenset(codes(c.codelist)))))
    elif c.kind == "iso3":
        checks.append(RowCheck("Z002", c.name, _isin_check(iso3_codes())))
    elif c.kind == "ags":
        checks.append(RowCheck("Z003", c.name, _ags_check))
    if c.max_len:
        checks.append(RowCheck("Z003", c.name, _maxlen_check(c.max_len)))
    if c.min_value is not None or c.max_value is not None:
        checks.append(RowCheck("Z005", c.name, _range_check(c.min_value, c.max_value)))
    return checks


def _range_text(c: Column) -> str:
    if c.max_value is None:
        return f"mindestens {c.min_value:g}"
    if c.min_value is None:
        return f"höchstens {c.max_value:g}"
    return f"{c.min_value:g} bis {c.max_value:g}"


def age_at(geburtsmonat: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years at ``day`` (float, NaN if unknown); the birthday is the 1st of the
    month of birth. Both arguments are datetime64 arrays."""
    gm = geburtsmonat.astype("datetime64[M]")
    dm = day.astype("datetime64[M]")
    months = (dm - gm).astype("float64")  # NaT -> very negative int; mask below
    months[np.isnat(geburtsmonat) | np.isnat(day)] = np.nan
    return np.floor(months / 12.0)


class Rows:
    """A frame as the checks across columns read it: every column converted once (:func:`_a`,
    :func:`_isna`), however many checks read it. Read the arrays, do not change them."""

    __slots__ = ("frame", "_memo")

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._memo: dict[tuple, np.ndarray] = {}

    def _get(self, key: tuple, make) -> np.ndarray:
        v = self._memo.get(key)
        if v is None:
            v = self._memo[key] = make()
        return v

    def __call__(self, col: str) -> np.ndarray:
        """The column as :func:`_a` gives it (missing values compare False)."""
        return self._get(("a", col), lambda: _a(self.frame, col))

    def isna(self, col: str) -> np.ndarray:
        return self._get(("isna", col), lambda: _isna(self.frame, col))

    def has(self, col: str) -> np.ndarray:
        return ~self.isna(col)

    def age(self, at: str) -> np.ndarray:
        """Completed years at the date column ``at`` (:func:`age_at`)."""
        return self._get(("age", at), lambda: age_at(self("geburtsmonat"), self(at)))


def _across(name: str, fn) -> RowCheck:
    """A check across the columns of a row (gets the frame as :class:`Rows`)."""
    return RowCheck(name, None, fn)


def _cross_massnahmen() -> list[RowCheck]:
    return [
        _across("Z006:ende", lambda r: r("ende") < r("beginn")),
        _across("Z010:geburtsmonat", lambda r: r("geburtsmonat") > r("beginn")),
        _across("Z011:geburtsmonat", lambda r: np.nan_to_num(r.age("beginn"), nan=-1) >= 18),
        _across("Z012:unbegleitet", lambda r: (r("massnahme") == "2") & (r("unbegleitet") != True)),  # noqa: E712
        _across("Z013:ende_grund", lambda r: (r("ende_grund") == "4") & r.has("massnahme") & (r("massnahme") != "2")),
        _across("Z014:verteilentscheidung", lambda r: (r("massnahme") == "1") & r.has("verteilentscheidung")),
        _across("Z014:meldung_landesstelle", lambda r: (r("massnahme") == "1") & r.has("meldung_landesstelle")),
        _across("Z017:staatsangehoerigkeit", lambda r: (r("unbegleitet") == True) & r.isna("staatsangehoerigkeit")),  # noqa: E712
        _across("Z017:einrichtung", lambda r: (r("unterbringung") == "2") & r.isna("einrichtung")),
        _across("Z017:ende_grund", lambda r: r.has("ende") & r.isna("ende_grund")),
        _across("Z017:anschluss", lambda r: r.has("ende") & r.isna("anschluss")),
        _across("Z017:zuweisung_jugendamt", lambda r: (r("verteilentscheidung") == "1") & r.isna("zuweisung_jugendamt")),
        _across("Z103:angeregt_durch", lambda r: (r("angeregt_durch") == "1") & (np.nan_to_num(r.age("beginn"), nan=99) < 1)),
        _across("Z107:anlaesse", lambda r: _per_value(r.frame["anlaesse"], lambda v: "08" in v.split(","))
            & (r("unbegleitet") == False)),  # noqa: E712
    ]


def _cross_uma() -> list[RowCheck]:
    return [
        _across("Z006:zustaendig_bis", lambda r: r("zustaendig_bis") < r("zustaendig_seit")),
        _across("Z010:geburtsmonat", lambda r: r("geburtsmonat") > r("zustaendig_seit")),
        _across("Z017:ende_grund", lambda r: r.has("zustaendig_bis") & r.isna("ende_grund")),
    ]


def _cross_plaetze() -> list[RowCheck]:
    def frei(r):
        expected = r("plaetze_genehmigt") - r("plaetze_belegt") - r("plaetze_gesperrt")
        f = r("plaetze_frei")
        return ~np.isnan(f) & ~np.isnan(expected) & (f != expected)

    return [
        _across("Z015:plaetze_frei", frei),
        _across("Z016:alter_von", lambda r: r("alter_von") > r("alter_bis")),
        _across("Z104:plaetze_belegt", lambda r: r("plaetze_belegt") > r("plaetze_genehmigt")),
    ]


CROSS = {"massnahmen": _cross_massnahmen, "uma": _cross_uma, "plaetze": _cross_plaetze, "personal": list}


@lru_cache(maxsize=8)
def row_checks(dataset: str) -> tuple[RowCheck, ...]:
    """Every row check of ``dataset``: the column checks in column order, then the checks
    across columns."""
    ds = DATASETS[dataset]
    return (*(chk for c in ds.columns for chk in _column_checks(c)), *CROSS[dataset]())


@lru_cache(maxsize=8)
def required_columns(dataset: str) -> tuple[str, ...]:
    """The columns that must not be missing in any row (pandera: ``nullable=False``)."""
    return (*(c.name for c in DATASETS[dataset].columns if c.required), "_zeile")


def _columns(dataset: str, checked: bool) -> dict[str, pa.Column]:
    ds = DATASETS[dataset]
    by_column: dict[str, list[pa.Check]] = {}
    if checked:
        for chk in row_checks(dataset):
            if chk.column is not None:
                by_column.setdefault(chk.column, []).append(chk.as_pandera())
    columns = {c.name: pa.Column(DTYPES[c.kind], checks=by_column.get(c.name, []),
                                 nullable=not (checked and c.required), required=True, coerce=False)
               for c in ds.columns}
    columns["_zeile"] = pa.Column("Int64", nullable=not checked)
    return columns


@lru_cache(maxsize=8)
def schema_for(dataset: str) -> pa.DataFrameSchema:
    """The row-level schema of ``dataset`` (for the parsed frame with ``fallnummer``): dtypes,
    required columns and every row check."""
    return pa.DataFrameSchema(_columns(dataset, True), name=dataset, strict=False,
                              checks=[chk.as_pandera() for chk in row_checks(dataset) if chk.column is None])


@lru_cache(maxsize=8)
def structure_for(dataset: str) -> pa.DataFrameSchema:
    """The structure alone: every column there, with its dtype (no nullability, no row check;
    those are :func:`required_columns` and :func:`row_checks`)."""
    return pa.DataFrameSchema(_columns(dataset, False), name=dataset, strict=False)
