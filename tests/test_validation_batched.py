"""One pandera pass over many files gives exactly the findings of one pass per file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inobhut.generate import generate
from inobhut.naming import parse_name
from inobhut.validation.checks import prepare, prepare_many

KEY = b"k" * 32


def _summary(p):
    fs = sorted((f.rule_id, f.severity, f.zeile, f.spalte, f.wert, f.meldung) for f in p.findings)
    return fs, None if p.frame is None else p.frame.reset_index(drop=True)


def test_batched_row_level_equals_file_by_file(tmp_path):
    landing = tmp_path / "landing"
    generate(landing, "2025-01", "2025-08", seed=7, fehlerquote=0.6, jugendaemter=["08335", "01062"])
    files = sorted(p for p in landing.rglob("*") if p.suffix in (".csv", ".xlsx"))
    by = {}
    for p in files:
        dn = parse_name(p.name)
        by.setdefault((dn.ags, dn.dataset), []).append((p, dn.month))
    n_findings = 0
    for (ags, dataset), items in by.items():
        batched = prepare_many(items, ags=ags, dataset=dataset, key=KEY)
        for (path, month), b in zip(items, batched):
            single = prepare(Path(path), ags=ags, dataset=dataset, month=month, key=KEY)
            (fb, frb), (fs, frs) = _summary(b), _summary(single)
            assert fb == fs, path.name
            assert (frb is None) == (frs is None)
            if frb is not None:
                assert frb.equals(frs)
            n_findings += len(fs)
    assert n_findings > 20  # the generated errors are really there (the comparison is not empty)


_FLAG = {"meanwhile": False}


def _seen_by_worker(job: int) -> tuple[int, bool]:
    return job * 2, _FLAG["meanwhile"]


def test_parallel_runs_the_callers_work_while_the_workers_run():
    """``parallel(..., meanwhile=f)``: f runs in the calling process after the workers were
    forked (so a worker never inherits a half-done import), the results are unchanged."""
    from inobhut.parallel import parallel, workers

    _FLAG["meanwhile"] = False

    def meanwhile():
        _FLAG["meanwhile"] = True

    res = parallel(_seen_by_worker, list(range(20)), min_jobs=2, meanwhile=meanwhile)
    assert [r[0] for r in res] == [2 * j for j in range(20)]
    assert _FLAG["meanwhile"]
    if workers() >= 2:
        assert not any(r[1] for r in res)  # forked before meanwhile ran


def _waits_for_marker(job: tuple) -> str:
    import time

    i, marker = job
    if i == 0:
        return "erster"
    t0 = time.monotonic()
    while not Path(marker).exists():  # appears only when the caller has seen the first result
        if time.monotonic() - t0 > 30:
            return "zu spät"
        time.sleep(0.01)
    return "nach dem ersten"


def test_parallel_hands_each_result_over_as_soon_as_it_is_there(tmp_path):
    """``parallel(..., each=f)``: f(i, result) runs in the calling process in job order while
    later jobs still run (the validation starts checking a dataset while the next is read)."""
    from inobhut.parallel import parallel

    marker = tmp_path / "gesehen"
    seen = []

    def each(i, r):
        seen.append((i, r))
        marker.touch()

    res = parallel(_waits_for_marker, [(0, str(marker)), (1, str(marker))], min_jobs=2, chunksize=1, each=each)
    assert res == ["erster", "nach dem ersten"]
    assert seen == [(0, "erster"), (1, "nach dem ersten")]


_HEAP: list = []


def _private_kb() -> int:
    with open("/proc/self/smaps_rollup") as fh:
        return sum(int(line.split()[1]) for line in fh if line.startswith(("Private_Dirty:", "Private_Clean:")))


def _copied_by_a_collection(job: int) -> int:
    import gc

    before = _private_kb()
    gc.collect()
    return _private_kb() - before


def test_parallel_workers_do_not_copy_the_callers_heap_when_collecting_garbage():
    """A garbage collection writes to every object it visits; in a forked worker that copies
    every page of the caller's heap (copy-on-write), so each worker held a private copy of it
    (at M about 300 MB per worker). The caller's objects are frozen while the pool runs; after
    it they are collected as before."""
    import gc

    from inobhut.parallel import parallel, workers

    if workers() < 2:
        pytest.skip("ein Kern: parallel() forkt keine Arbeitsprozesse")
    _HEAP[:] = [[i] for i in range(400_000)]  # tens of MB of objects the collector visits
    try:
        copied = parallel(_copied_by_a_collection, [0, 1], min_jobs=2, chunksize=1)
    finally:
        _HEAP.clear()
    assert max(copied) < 8_000, copied  # kB; without the freeze about 58,000
    assert gc.get_freeze_count() == 0


def test_staging_parquet_writer_writes_pandas_bytes(tmp_path):
    """staging.write_parquet bypasses pandas' to_parquet wrapper; the files must stay the same
    bytes for every dataset's frame, the findings frame, an empty delivery and a frame with attrs."""
    import pandas as pd

    from inobhut.staging import findings_frame, write_parquet

    landing = tmp_path / "landing"
    generate(landing, "2025-01", "2025-02", seed=3, fehlerquote=0.5, jugendaemter=["08335"])
    frames = []
    for p in sorted(q for q in landing.rglob("*") if q.suffix in (".csv", ".xlsx")):
        dn = parse_name(p.name)
        prep = prepare(p, ags=dn.ags, dataset=dn.dataset, month=dn.month, key=KEY)
        frames += [f for f in (prep.frame, findings_frame(prep.findings)) if f is not None]
    assert {"massnahmen", "uma", "plaetze", "personal"} <= {parse_name(p.name).dataset for p in landing.rglob("*.*")}
    frames.append(frames[0].iloc[:0])  # a Fehlanzeige: no rows
    with_attrs = frames[0].copy()
    with_attrs.attrs["quelle"] = "x"
    frames.append(with_attrs)
    assert len(frames) > 8 and any(len(f) for f in frames)
    for i, df in enumerate(frames):
        df.to_parquet(tmp_path / f"{i}.pandas.parquet", index=False)
        write_parquet(df, tmp_path / f"{i}.parquet")
        assert (tmp_path / f"{i}.parquet").read_bytes() == (tmp_path / f"{i}.pandas.parquet").read_bytes(), i
        assert pd.read_parquet(tmp_path / f"{i}.parquet").equals(pd.read_parquet(tmp_path / f"{i}.pandas.parquet"))


def test_stacking_column_by_column_equals_pandas_concat(tmp_path):
    """pandera_rows._stack reads the frames' arrays from pandas' block manager instead of pd.concat:
    the stacked frame must be pd.concat's, for every dataset's reader frames (strings, dates,
    booleans, integers, decimals), and frames of another layout fall back to pd.concat."""
    import pandas as pd

    from inobhut import ingest
    from inobhut.validation.pandera_rows import _column_arrays, _stack

    landing = tmp_path / "landing"
    generate(landing, "2025-01", "2025-04", seed=5, fehlerquote=0.5, jugendaemter=["08335", "01062"])
    by: dict[str, list] = {}
    for p in sorted(q for q in landing.rglob("*") if q.suffix in (".csv", ".xlsx")):
        rr = ingest.read_delivery(p, parse_name(p.name).dataset, max_bytes=1 << 24, max_rows=10_000)
        if rr.frame is not None and len(rr.frame):
            by.setdefault(parse_name(p.name).dataset, []).append(rr.frame)
    assert set(by) == {"massnahmen", "uma", "plaetze", "personal"}
    for dataset, frames in by.items():
        assert len(frames) >= 4 and _column_arrays(frames[0]) is not None
        expected = pd.concat(frames, ignore_index=True)
        got = _stack(frames)
        assert list(got.columns) == list(expected.columns), dataset
        assert got.dtypes.tolist() == expected.dtypes.tolist(), dataset
        assert got.equals(expected), dataset
        assert isinstance(got.index, pd.RangeIndex) and got.index.equals(expected.index)
    # a frame with other columns: pd.concat's result (columns united), not a wrong stack
    other = by["massnahmen"][0].drop(columns=["einrichtung"])
    mixed = [by["massnahmen"][1], other]
    assert _stack(mixed).equals(pd.concat(mixed, ignore_index=True))


_TEXTS = ["", "1", "2", "08", "01,08", "08,99", "DEU", "XXA", "08125", "081250", "Ä" * 30, "a,b"]


def _text_column(values: list, storage: str):
    import pandas as pd

    return pd.Series(pd.array(values, dtype=pd.StringDtype(storage)))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.sampled_from(_TEXTS), st.text(max_size=12)), max_size=60),
       storage=st.sampled_from(["python", "pyarrow"]))
def test_text_checks_fast_paths_equal_pandas(values, storage):
    """The row checks' text helpers find missing values by address and distinct values with a
    set (schemas.pandera_schemas._per_value, _texts, _isna): for any text column, with or
    without missing values, in either storage, the results are pandas' own ones."""
    import numpy as np
    import pandas as pd

    from schemas import pandera_schemas as ps

    s = _text_column(values, storage)
    df = pd.DataFrame({"t": s})
    expected_texts = s.to_numpy(dtype=object, na_value=None)
    got_texts = ps._texts(s)
    assert [x for x in got_texts] == [x for x in expected_texts]
    assert (ps._isna(df, "t") == s.isna().to_numpy()).all()
    for bad in (lambda v: len(v) > 3, lambda v: "08" in v.split(","), lambda v: v not in {"1", "2"}, lambda v: True):
        expected = np.array([x is not None and bad(x) for x in expected_texts], bool)
        got = ps._per_value(s, bad)
        assert got.dtype == bool and (got == expected).all()
    # the column itself is unchanged (its missing values are still pd.NA, not None)
    assert all(x is pd.NA for x, e in zip(s.array, expected_texts) if e is None)


def test_dtype_keys_tell_apart_exactly_the_different_dtypes():
    """Batched validation groups frames by a cheap key of each column's dtype: equal keys for
    equal dtypes only (text storage and missing-value marker, nullable types, numpy dtypes)."""
    import numpy as np
    import pandas as pd

    from inobhut.validation.pandera_rows import _dtype_key

    kinds = [pd.StringDtype("python"), pd.StringDtype("pyarrow"), pd.StringDtype("python", na_value=np.nan),
             pd.StringDtype("pyarrow", na_value=np.nan), pd.BooleanDtype(), pd.Int64Dtype(), pd.Float64Dtype(),
             np.dtype("datetime64[ns]"), np.dtype("datetime64[s]"), np.dtype("int64"), np.dtype(object),
             pd.DatetimeTZDtype("ns", "UTC"), pd.Int32Dtype(), pd.CategoricalDtype(["a"]), pd.CategoricalDtype(["b"])]
    for a in kinds:
        for b in kinds:
            assert (_dtype_key(a) == _dtype_key(b)) == (a == b), (a, b)
        # another instance of the same dtype: the same key
        twin = type(a)(**{k: getattr(a, k) for k in ("storage", "na_value")}) if isinstance(a, pd.StringDtype) else a
        assert _dtype_key(twin) == _dtype_key(a)
        hash(_dtype_key(a))


def test_concatenating_arrays_equals_pandas():
    """pandera_rows._concat_arrays joins arrays from their numpy arrays: the same result as pandas'
    _concat_same_type for text, dates, nullable numbers and booleans, and numpy arrays."""
    import numpy as np
    import pandas as pd

    from inobhut.validation.pandera_rows import _concat_arrays

    groups = [
        [pd.array(["a", None], dtype="string"), pd.array(["b"], dtype="string"), pd.array([], dtype="string")],
        [pd.array(["a", None], dtype=pd.StringDtype("pyarrow")), pd.array(["b"], dtype=pd.StringDtype("pyarrow"))],
        [pd.array([True, None], dtype="boolean"), pd.array([False], dtype="boolean")],
        [pd.array([1, None], dtype="Int64"), pd.array([3], dtype="Int64")],
        [pd.array([1.5, None], dtype="Float64"), pd.array([2.0], dtype="Float64")],
        [pd.array(pd.to_datetime(["2025-01-01", None])), pd.array(pd.to_datetime(["2026-02-01"]))],
        [np.array([1, 2]), np.array([3])],
    ]
    for parts in groups:
        got = _concat_arrays(parts)
        expected = np.concatenate(parts) if isinstance(parts[0], np.ndarray) else type(parts[0])._concat_same_type(parts)
        assert type(got) is type(expected) and got.dtype == expected.dtype
        assert pd.Series(got).equals(pd.Series(expected))


def _cases(cases) -> set:
    """Failure cases as (context, column of a column check, check, row or None)."""
    import numpy as np

    out = set()
    for ctx, col, chk, idx in cases:
        no_row = idx is None or (isinstance(idx, float) and np.isnan(idx))
        out.add((ctx, None if ctx == "DataFrameSchema" else col, str(chk), None if no_row else int(idx)))
    return out


def test_row_checks_evaluated_directly_equal_the_full_pandera_schema(tmp_path):
    """pandera_rows lets pandera check the structure and evaluates the row checks itself: the
    failures must be exactly those of the full pandera schema (schema_for) on the same frames --
    for every dataset with generated errors, for a column of the wrong type (pandera reports the
    type and the checks that cannot run on it) and for a missing column."""
    import warnings

    import pandas as pd
    import pandera.pandas as pa

    from inobhut import ingest
    from inobhut.validation.pandera_rows import _failure_cases
    from schemas.datasets import DATASETS
    from schemas.pandera_schemas import schema_for

    def full(df, dataset):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # pandera's own concat of its report
                schema_for(dataset).validate(df, lazy=True)
        except pa.errors.SchemaErrors as exc:
            fc = exc.failure_cases
            return _cases(zip(fc["schema_context"], fc["column"], fc["check"], fc["index"]))
        return set()

    landing = tmp_path / "landing"
    generate(landing, "2025-01", "2025-06", seed=3, fehlerquote=1.0, jugendaemter=["08335", "01062"])
    by: dict[str, list] = {}
    for p in sorted(q for q in landing.rglob("*") if q.suffix in (".csv", ".xlsx")):
        dataset = parse_name(p.name).dataset
        rr = ingest.read_delivery(p, dataset, max_bytes=1 << 24, max_rows=10_000)
        if rr.frame is not None and len(rr.frame):
            by.setdefault(dataset, []).append(rr.frame)
    assert set(by) == {"massnahmen", "uma", "plaetze", "personal"}
    for dataset, frames in by.items():
        big = pd.concat(frames, ignore_index=True)
        expected = full(big, dataset)
        assert _cases(_failure_cases(big, DATASETS[dataset])) == expected, dataset
        assert expected, dataset  # the generated errors are there (the comparison is not empty)
    big = pd.concat(by["massnahmen"], ignore_index=True)
    wrong_type = big.assign(ende=big["ende"].astype(str).astype("string"))
    missing = big.drop(columns=["einrichtung"])
    for df in (wrong_type, missing):
        expected = full(df, "massnahmen")
        assert any(idx is None for *_, idx in expected)  # something pandera reports for the whole column
        assert _cases(_failure_cases(df, DATASETS["massnahmen"])) == expected
