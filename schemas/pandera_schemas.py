"""Row-level pandera schemas, generated from :mod:`schemas.datasets` and the code lists.

Belongs here: one ``DataFrameSchema`` per dataset for the *parsed* canonical frame: dtypes,
required columns (not nullable), code lists, ranges, text lengths, and the cross-field rules
that can be decided from one row alone (required-if, Ende vor Beginn, age, §42a rules, ...).
Every check is named ``"<rule id>"`` or ``"<rule id>:<column>"``; the rule texts live in
``schemas/rules.yaml`` and the mapping of pandera's failure cases back to findings in
:mod:`inobhut.validation.checks`. Rules that need the reporting month, the office, the
calendar or other deliveries are not here.
"""

from __future__ import annotations

import dataclasses
import re
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


def _fails(df: pd.DataFrame, bad: np.ndarray) -> pd.Series:
    """Check result from a boolean "fails" array: True = row passes."""
    return pd.Series(~np.asarray(bad, dtype=bool), index=df.index)


def _col_fails(s: pd.Series, bad: np.ndarray) -> pd.Series:
    return pd.Series(~np.asarray(bad, dtype=bool), index=s.index)


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
    def check(s: pd.Series) -> pd.Series:
        return _col_fails(s, _per_value(s, lambda v: not all(p in allowed for p in v.split(","))))

    return check


def _isin_check(allowed: frozenset[str]):
    def check(s: pd.Series) -> pd.Series:
        return _col_fails(s, _per_value(s, lambda v: v not in allowed))

    return check


def _maxlen_check(n: int):
    def check(s: pd.Series) -> pd.Series:
        return _col_fails(s, _per_value(s, lambda v: len(v) > n))

    return check


_AGS = re.compile(r"^[0-9]{5}(?:[0-9]{3})?$")


def _ags_check(s: pd.Series) -> pd.Series:
    return _col_fails(s, _per_value(s, lambda v: not _AGS.match(v)))


def _range_check(lo: float | None, hi: float | None):
    def check(s: pd.Series) -> pd.Series:
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = np.zeros(len(v), bool)
            if lo is not None:
                bad |= v < lo
            if hi is not None:
                bad |= v > hi
        return _col_fails(s, bad)

    return check


def _column_checks(c: Column) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if c.kind == "code" and c.codelist:
        checks.append(pa.Check(_isin_check(frozenset(codes(c.codelist))), ignore_na=False, name="Z002"))
    elif c.kind == "codes" and c.codelist:
        checks.append(pa.Check(_codes_check(frozenset(codes(c.codelist))), ignore_na=False, name="Z002"))
    elif c.kind == "iso3":
        checks.append(pa.Check(_isin_check(iso3_codes()), ignore_na=False, name="Z002"))
    elif c.kind == "ags":
        checks.append(pa.Check(_ags_check, ignore_na=False, name="Z003"))
    if c.max_len:
        checks.append(pa.Check(_maxlen_check(c.max_len), ignore_na=False, name="Z003"))
    if c.min_value is not None or c.max_value is not None:
        checks.append(pa.Check(_range_check(c.min_value, c.max_value), ignore_na=False, name="Z005"))
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


def _cross_massnahmen() -> list[pa.Check]:
    def chk(name: str, fn) -> pa.Check:
        return pa.Check(lambda df: _fails(df, fn(df)), name=name, ignore_na=False)

    def age(df):
        return age_at(_a(df, "geburtsmonat"), _a(df, "beginn"))

    def has(df, col):
        return ~_isna(df, col)

    return [
        chk("Z006:ende", lambda df: _a(df, "ende") < _a(df, "beginn")),
        chk("Z010:geburtsmonat", lambda df: _a(df, "geburtsmonat") > _a(df, "beginn")),
        chk("Z011:geburtsmonat", lambda df: np.nan_to_num(age(df), nan=-1) >= 18),
        chk("Z012:unbegleitet", lambda df: (_a(df, "massnahme") == "2") & (_a(df, "unbegleitet") != True)),  # noqa: E712
        chk("Z013:ende_grund", lambda df: (_a(df, "ende_grund") == "4") & has(df, "massnahme") & (_a(df, "massnahme") != "2")),
        chk("Z014:verteilentscheidung", lambda df: (_a(df, "massnahme") == "1") & has(df, "verteilentscheidung")),
        chk("Z014:meldung_landesstelle", lambda df: (_a(df, "massnahme") == "1") & has(df, "meldung_landesstelle")),
        chk("Z017:staatsangehoerigkeit", lambda df: (_a(df, "unbegleitet") == True) & _isna(df, "staatsangehoerigkeit")),  # noqa: E712
        chk("Z017:einrichtung", lambda df: (_a(df, "unterbringung") == "2") & _isna(df, "einrichtung")),
        chk("Z017:ende_grund", lambda df: has(df, "ende") & _isna(df, "ende_grund")),
        chk("Z017:anschluss", lambda df: has(df, "ende") & _isna(df, "anschluss")),
        chk("Z017:zuweisung_jugendamt", lambda df: (_a(df, "verteilentscheidung") == "1") & _isna(df, "zuweisung_jugendamt")),
        chk("Z103:angeregt_durch", lambda df: (_a(df, "angeregt_durch") == "1") & (np.nan_to_num(age(df), nan=99) < 1)),
        chk("Z107:anlaesse", lambda df: _per_value(df["anlaesse"], lambda v: "08" in v.split(","))
            & (_a(df, "unbegleitet") == False)),  # noqa: E712
    ]


def _cross_uma() -> list[pa.Check]:
    def chk(name: str, fn) -> pa.Check:
        return pa.Check(lambda df: _fails(df, fn(df)), name=name, ignore_na=False)

    return [
        chk("Z006:zustaendig_bis", lambda df: _a(df, "zustaendig_bis") < _a(df, "zustaendig_seit")),
        chk("Z010:geburtsmonat", lambda df: _a(df, "geburtsmonat") > _a(df, "zustaendig_seit")),
        chk("Z017:ende_grund", lambda df: ~_isna(df, "zustaendig_bis") & _isna(df, "ende_grund")),
    ]


def _cross_plaetze() -> list[pa.Check]:
    def chk(name: str, fn) -> pa.Check:
        return pa.Check(lambda df: _fails(df, fn(df)), name=name, ignore_na=False)

    def frei(df):
        expected = _a(df, "plaetze_genehmigt") - _a(df, "plaetze_belegt") - _a(df, "plaetze_gesperrt")
        f = _a(df, "plaetze_frei")
        return ~np.isnan(f) & ~np.isnan(expected) & (f != expected)

    return [
        chk("Z015:plaetze_frei", frei),
        chk("Z016:alter_von", lambda df: _a(df, "alter_von") > _a(df, "alter_bis")),
        chk("Z104:plaetze_belegt", lambda df: _a(df, "plaetze_belegt") > _a(df, "plaetze_genehmigt")),
    ]


CROSS = {"massnahmen": _cross_massnahmen, "uma": _cross_uma, "plaetze": _cross_plaetze, "personal": list}


@lru_cache(maxsize=8)
def schema_for(dataset: str) -> pa.DataFrameSchema:
    """The row-level schema of ``dataset`` (for the parsed frame with ``fallnummer``)."""
    ds = DATASETS[dataset]
    columns = {
        c.name: pa.Column(DTYPES[c.kind], checks=_column_checks(c), nullable=not c.required, required=True, coerce=False)
        for c in ds.columns
    }
    columns["_zeile"] = pa.Column("Int64", nullable=False)
    return pa.DataFrameSchema(columns, checks=CROSS[dataset](), strict=False, name=dataset)
