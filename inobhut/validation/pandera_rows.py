"""The row level of the checks, over a batch of deliveries at once.

Belongs here: stacking the frames of many deliveries column by column (same result as
``pd.concat``, without its per-column checks), one pass per group of frames with the same
column types -- pandera checks the structure, the row checks of ``schemas/pandera_schemas.py``
are evaluated directly (the same checks pandera's full schema runs, without its fixed cost per
check) --, and the failures mapped back to findings of the delivery they came from (row as in
the file, column header, delivered value, details). Not here: the other row-level rules
(reporting month, office, calendar) and the dataset level (:mod:`inobhut.validation.checks`),
reading files (:mod:`inobhut.ingest`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.core.arrays import DatetimeArray, TimedeltaArray
from pandas.core.arrays._mixins import NDArrayBackedExtensionArray  # pinned in requirements.lock
from pandas.core.arrays.masked import BaseMaskedArray

from inobhut.validation.rules import Finding, make_finding, rules
from schemas.datasets import Dataset
from schemas.pandera_schemas import Rows, age_at, required_columns, row_checks, structure_for

def _raw(raw: pd.DataFrame, col: str, idx: int) -> str:
    v = raw.at[idx, col]
    return "" if v is pd.NA or v is None else str(v)


def _pandera_batched(parts: list[tuple[pd.DataFrame, pd.DataFrame, set]], ds: Dataset) -> list[list[Finding]]:
    """One row-level pass (:func:`_failure_cases`) per group of frames with the same column
    types (concatenated; a frame whose types differ would be upcast and reported as wrong
    types), findings per frame."""
    out: list[list[Finding]] = [[] for _ in parts]
    arrays = [_column_arrays(df) for df, _, _ in parts]  # (df.dtypes costs a Series per frame)
    # frames grouped by their columns and dtypes; the dtypes the reader gives are keyed by what
    # tells them apart (a pandas extension dtype hashes in microseconds), any other by itself;
    # one dtype instance serves several columns of a frame: keyed once, found by its id (held in
    # ``keys``, so no other object can take that id during the call)
    keys: dict[int, tuple] = {}

    def key(kind) -> object:
        hit = keys.get(id(kind))
        if hit is None or hit[0] is not kind:
            hit = keys[id(kind)] = (kind, _dtype_key(kind))
        return hit[1]

    groups: dict[tuple, list[int]] = {}
    for i, (df, _, _) in enumerate(parts):
        kinds = df.dtypes.tolist() if arrays[i] is None else [a.dtype for a in arrays[i]]
        groups.setdefault((tuple(df.columns), *map(key, kinds)), []).append(i)
    for members in groups.values():
        frames = [parts[i][0] for i in members]
        big = _stack(frames, [arrays[i] for i in members])
        fc = _failure_cases(big, ds)
        if not fc:
            continue
        if len(members) > 1 and any(_no_row(case[3]) for case in fc):
            for i in members:  # a check that could not run at all: attribute it file by file
                out[i] = _pandera_batched([parts[i]], ds)[0]
            continue
        offsets = np.cumsum([0] + [len(f) for f in frames])
        local = [[] for _ in members]
        for row in fc:
            idx = row[3]
            if _no_row(idx):
                local[0].append(row)
                continue
            k = int(np.searchsorted(offsets, int(idx), side="right")) - 1
            local[k].append((*row[:3], int(idx) - int(offsets[k])))
        for k, i in enumerate(members):
            if local[k]:
                df, raw, parse_failed = parts[i]
                out[i] = _findings_from_failures(local[k], df.reset_index(drop=True), raw, ds, parse_failed)
    return out


def _dtype_key(kind) -> object:
    """A cheap hashable stand-in for a dtype, equal exactly when the dtypes are (for the reader's
    dtypes; any other dtype stands for itself)."""
    if isinstance(kind, np.dtype):
        return (np.dtype, kind)  # (a bare numpy dtype compares equal to what it can be made from)
    if type(kind) is pd.StringDtype:
        return (pd.StringDtype, kind.storage, kind.na_value is pd.NA)
    if type(kind) in _PLAIN_DTYPES:
        return (type(kind),)
    return (object, kind)


_PLAIN_DTYPES = (pd.BooleanDtype, pd.Int64Dtype, pd.Float64Dtype)  # no parameters


def _stack(frames: list[pd.DataFrame], arrays: list[list | None] | None = None) -> pd.DataFrame:
    """Frames with equal columns and dtypes one below the other, with a fresh row index
    (``arrays``: their :func:`_column_arrays`, where already known).

    Column by column from the frames' own arrays (:func:`_column_arrays`): ``pd.concat`` checks
    every column of every frame for being all missing and reconciles dtypes -- 0.5-1.4 ms per
    delivery, as much as the pandera checks themselves; 4-7 times less this way (same frame).
    (A Series per column and frame, the public way to the arrays, cost more than concat.)"""
    if len(frames) == 1:
        df = frames[0]
        return df if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1 \
            else df.reset_index(drop=True)
    columns = frames[0].columns
    arrays = arrays or [_column_arrays(f) for f in frames]
    names = columns.tolist()
    if any(a is None for a in arrays) or not all(f.columns.tolist() == names for f in frames):
        return pd.concat(frames, ignore_index=True)
    out = [_concat_arrays([a[j] for a in arrays]) for j in range(len(names))]
    # the frame from its arrays without DataFrame(dict)'s checks of each (equal lengths and
    # dtypes are known here): 0.2 instead of 1.2 ms for 27 columns
    return pd.DataFrame._from_arrays(out, columns=columns, index=pd.RangeIndex(sum(len(f) for f in frames)),
                                     verify_integrity=False)


def _concat_arrays(parts: list):
    """Arrays of one dtype one after another. Text and date columns (arrays backed by one numpy
    array) and the nullable numbers and booleans (values and mask) are joined from their numpy
    arrays: ``_concat_same_type`` first compares every part's dtype with the first one's, which
    for a pandas extension dtype costs microseconds per part (the group has equal dtypes)."""
    first = parts[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    if isinstance(first, NDArrayBackedExtensionArray):
        return first._from_backing_data(np.concatenate([p._ndarray for p in parts]))
    if isinstance(first, BaseMaskedArray):
        return type(first)(np.concatenate([p._data for p in parts]), np.concatenate([p._mask for p in parts]))
    return type(first)._concat_same_type(parts)


_DATETIMES = (DatetimeArray, TimedeltaArray)


def _column_arrays(df: pd.DataFrame) -> list | None:
    """The 1-d array of every column of ``df`` in column order, read from pandas' block manager
    (internal, pinned in requirements.lock; the batched test compares the result with
    ``pd.concat``); None where its layout is not the expected one (then ``pd.concat``)."""
    try:
        mgr = df._mgr
        blocks, blknos, blklocs = mgr.blocks, mgr.blknos, mgr.blklocs
        out = []
        for j in range(df.shape[1]):
            values = blocks[blknos[j]].values
            if values.ndim == 1:
                out.append(values)
            elif type(values) in _DATETIMES and isinstance(values.dtype, np.dtype):
                # dates without a time zone: the numpy row itself, as DataFrame() makes it a date column
                out.append(values._ndarray[blklocs[j]])  # (a row of the 2-d array costs ~5 µs)
            else:
                out.append(values[blklocs[j]])
    except (AttributeError, IndexError, TypeError):
        return None
    n = len(df)
    if any(len(a) != n for a in out):
        return None
    return out


def _no_row(idx) -> bool:
    """A failure of the whole check, not of a row (it could not run: wrong dtype, an error)."""
    return idx is None or (isinstance(idx, float) and np.isnan(idx))


def _failure_cases(df: pd.DataFrame, ds: Dataset) -> list[tuple]:
    """What ``schema_for(ds.name).validate(df, lazy=True)`` reports, as (schema context, column,
    check name, row index or None): pandera checks the structure (:func:`structure_for`), the
    required columns and the row checks are evaluated here -- the same functions as in the full
    schema (``tests/test_validation_batched.py`` compares the two), without pandera's fixed
    cost of about 0.3 ms per check and call."""
    import pandera.pandas as pa

    cases: list[tuple] = []
    try:
        structure_for(ds.name).validate(df, lazy=True, inplace=True)  # (no coercion: nothing to change)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        cases += zip(fc["schema_context"], fc["column"], fc["check"], fc["index"])
    present = set(df.columns)
    rows = Rows(df)
    for col in required_columns(ds.name):
        if col in present:
            cases += (("Column", col, "not_nullable", i) for i in np.flatnonzero(rows.isna(col)).tolist())
    for chk in row_checks(ds.name):
        if chk.column is not None and chk.column not in present:
            continue  # reported by the structure check
        ctx = "DataFrameSchema" if chk.column is None else "Column"
        try:
            bad = chk.evaluate(df, rows)
        except Exception:  # noqa: BLE001 -- as pandera: the check could not run (D024)
            cases.append((ctx, chk.column, chk.name, None))
            continue
        cases += ((ctx, chk.column, chk.name, i) for i in np.flatnonzero(bad).tolist())
    return cases


def _findings_from_failures(cases: list[tuple], df: pd.DataFrame, raw: pd.DataFrame, ds: Dataset,
                            parse_failed: set) -> list[Finding]:
    out: list[Finding] = []
    seen: set = set()
    zeilen = df["_zeile"].to_numpy(dtype="int64")
    for ctx_name, column, check, idx in cases:
        if _no_row(idx):
            out.append(make_finding("D024", detail=f"Prüfung {check} nicht ausführbar"))
            continue
        idx = int(idx)
        check = str(check)
        if ctx_name == "DataFrameSchema":
            rid, _, col = check.partition(":")
        else:
            rid, col = check, str(column)
        if (rid, col, idx) in seen:
            continue
        seen.add((rid, col, idx))
        zeile = int(zeilen[idx])
        c = ds.column(col) if col in ds.column_names else None
        header = c.header if c else col
        wert = _raw(raw, col, idx) if c else None
        if rid == "not_nullable":
            if wert:  # delivered but not parseable: already reported by the parser
                continue
            out.append(make_finding("Z001", zeile, header, None))
            continue
        if (zeile, header) in parse_failed:
            continue
        if rid.startswith("dtype"):
            out.append(make_finding("Z003", zeile, header, wert, erwartet="falscher Datentyp"))
        elif rid in rules():
            out.append(make_finding(rid, zeile, header, wert, **_details(rid, col, df, idx, c)))
        else:
            out.append(make_finding("D024", detail=f"Prüfung {check} nicht ausführbar"))
    return out


def _details(rid: str, col: str, df: pd.DataFrame, idx: int, c) -> dict[str, Any]:
    if rid == "Z003" and c is not None:
        return {"erwartet": f"höchstens {c.max_len} Zeichen" if c.max_len else "Schlüssel mit 5 oder 8 Ziffern erwartet"}
    if rid == "Z005" and c is not None:
        if c.max_value is None:
            return {"bereich": f"mindestens {c.min_value:g}"}
        return {"bereich": f"{c.min_value:g} bis {c.max_value:g}"}
    if rid == "Z011":
        age = age_at(df["geburtsmonat"].to_numpy()[idx: idx + 1], df["beginn"].to_numpy()[idx: idx + 1])[0]
        return {"alter": int(age)}
    if rid == "Z015":
        r = df.iloc[idx]
        return {"erwartet": int(r["plaetze_genehmigt"] - r["plaetze_belegt"] - r["plaetze_gesperrt"])}
    if rid == "Z104":
        return {"genehmigt": int(df.iloc[idx]["plaetze_genehmigt"])}
    if rid == "Z017":
        return {"bedingung": rules()["Z017"].extra.get("bedingungen", {}).get(col, "eine Bedingung erfüllt ist")}
    return {}
