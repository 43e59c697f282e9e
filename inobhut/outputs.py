"""Incremental outputs: an output whose inputs did not change keeps its file (bytes AND mtime).

Belongs here: the fingerprint of a report's inputs (the whole report model the renderer gets,
plus the renderer itself: product version, templates and rendering code), stored beside the
output tree as ``<out>/.eingaben/<path>.eingaben``; rendering a report only when that fingerprint changed; and
for outputs written as a whole (tables, index page, manifest, workbooks) ``atomic.replacing(…,
keep_unchanged=True)``: a new file replaces the old one only when its bytes differ. So after a correction of one office-month
exactly the outputs that depend on it are rewritten, and a rerun on the same inputs touches
nothing (see docs/betrieb.md, "Korrekturen").

Building a model costs time too. Where a caller can name every input of a builder call cheaply,
:func:`render_if_inputs_changed` skips even the build: the *input key* (:func:`input_key`, over
the renderer, the library versions and the builder's arguments plus whatever else it reads, e.g.
``stat_refresh.program_signature()``) is stored beside the fingerprint as
``<out>/.eingaben/<path>.quelle`` after the files are current; while it is unchanged and the
files and the fingerprint exist, nothing is built.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inobhut import atomic

FINGERPRINT_SUFFIX = ".eingaben"


def _feed(h, obj) -> None:
    """Deterministic serialisation of a report model into the hash."""
    if obj is None or isinstance(obj, (bool, int, str)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, float):
        h.update(f"f:{obj!r};".encode())
    elif isinstance(obj, dt.datetime) and obj.tzinfo is not None:  # the instant, not the machine's zone
        h.update(f"d:{obj.astimezone(dt.timezone.utc).isoformat()};".encode())
    elif isinstance(obj, (dt.date, dt.datetime, dt.time)):
        h.update(f"d:{obj.isoformat()};".encode())
    elif isinstance(obj, Path):
        h.update(f"p:{obj.as_posix()};".encode())
    elif isinstance(obj, enum.Enum):
        _feed(h, obj.value)
    elif isinstance(obj, pd.DataFrame):
        h.update(f"df:{list(map(str, obj.columns))}:{_column_text(obj.index)};".encode())
        for _, col in obj.items():
            h.update(_column_text(col).encode())
    elif isinstance(obj, pd.Series):
        _feed(h, obj.to_frame())
    elif isinstance(obj, np.ndarray):
        _feed(h, obj.tolist())
    elif isinstance(obj, np.generic):
        _feed(h, obj.item())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(f"dc:{type(obj).__qualname__}(".encode())
        for f in dataclasses.fields(obj):
            h.update(f"{f.name}=".encode())
            _feed(h, getattr(obj, f.name))
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for x in obj:
            _feed(h, x)
        h.update(b"]")
    elif isinstance(obj, (set, frozenset)):
        _feed(h, sorted(obj, key=repr))
    elif hasattr(obj, "__dict__"):
        _feed(h, {k: v for k, v in vars(obj).items() if not k.startswith("_")} | {"__class__": type(obj).__qualname__})
    else:
        text = repr(obj)
        if " at 0x" in text:  # an address would make every run look new
            raise TypeError(f"nicht reproduzierbar serialisierbar: {type(obj).__qualname__}")
        h.update(f"r:{text};".encode())


def _utc(x):
    return x.astimezone(dt.timezone.utc) if isinstance(x, dt.datetime) and x.tzinfo else x


def _column_text(col: pd.Series | pd.Index) -> str:
    """One column's values as text: zone-aware times as UTC instants (the machine's zone must
    not matter), everything else by its ``repr`` (exact for numbers, kinds kept apart)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        col = col.tz_convert("UTC") if isinstance(col, pd.Index) else col.dt.tz_convert("UTC")
    values = col.tolist()
    if col.dtype == object:
        values = [_utc(x) for x in values]
    text = f"{col.dtype}[{len(values)}]{values!r};"
    if " at 0x" in text:  # an address would make every run look new
        raise TypeError("nicht reproduzierbar serialisierbar: Spalte mit Objekten ohne festen Text")
    return text


@lru_cache(maxsize=1)
def renderer_fingerprint() -> str:
    """Product version, report templates and the rendering code: a change re-renders everything."""
    import inobhut
    import report_templates

    h = hashlib.sha256(inobhut.__version__.encode())
    roots = [Path(report_templates.__file__).parent, Path(__file__).parent / "reports"]
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in (".py", ".j2", ".css", ".yaml", ".js", ".svg"):
                h.update(p.relative_to(root).as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def model_fingerprint(model) -> str:
    h = hashlib.sha256(renderer_fingerprint().encode())
    _feed(h, model)
    return h.hexdigest()


FINGERPRINT_DIR = ".eingaben"  # under <out>; not an output (manifest.EXCLUDED_DIRS)


OUTPUT_ROOTS = ("berichte", "jugendaemter")  # Land-level reports; one folder per office (inobhut.reports.OFFICE_DIR)


def fingerprint_path(base: Path, suffix: str = FINGERPRINT_SUFFIX) -> Path:
    """``<out>/.eingaben/<path of the report below <out>>.eingaben`` (kept out of the outputs, so
    output trees compare equal); beside the files when the report is below neither
    ``berichte`` nor ``jugendaemter``. ``suffix``: another file of the same report there
    (:data:`INPUT_KEY_SUFFIX`)."""
    for parent in base.parents:
        if parent.name in OUTPUT_ROOTS:
            out = parent.parent
            return out / FINGERPRINT_DIR / f"{base.relative_to(out).as_posix()}{suffix}"
    return base.with_name(f".{base.name}{suffix}")


def _files(base: Path) -> list[Path]:
    return [base.with_name(base.name + ".html"), base.with_name(base.name + ".xlsx")]


def render_if_changed(model, base: Path) -> tuple[list[Path], bool]:
    """``render_report(model, base)`` unless the stored fingerprint of the same inputs says the
    files are current. Returns the files (HTML first) and whether they were written."""
    from inobhut.reports import render_report

    base = Path(base)
    files = _files(base)
    fp = model_fingerprint(model)
    stored = fingerprint_path(base)
    if all(f.exists() for f in files) and stored.exists() and stored.read_text(encoding="utf-8").strip() == fp:
        return files, False
    base.parent.mkdir(parents=True, exist_ok=True)
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.unlink(missing_ok=True)  # a crash while rendering must not leave a stale "current"
    written = render_report(model, base)
    atomic.write_text(stored, fp + "\n")
    return written, True


# ---------------------------------------------------------------- skipping the build: input keys
INPUT_KEY_SUFFIX = ".quelle"  # <out>/.eingaben/<path>.quelle: the input key of the last render


def row_hashes(df: pd.DataFrame) -> pd.Series:
    """One 64-bit hash per row of ``df`` over all its values (``pd.util.hash_pandas_object``;
    ``object`` columns by the ``repr`` of each value, zone-aware times as UTC instants, since the
    hash of an object column reads every value as text: ``1`` and ``"1"`` would look the same).
    Computed once for a long frame, it gives the digest of any of its parts (:func:`frame_digest`)."""
    if not len(df.columns):  # no values: every row hashes alike
        return pd.Series(np.zeros(len(df), dtype="uint64"), index=df.index)
    data = {}
    for i, (_, col) in enumerate(df.items()):  # by position: names may repeat (they go into frame_digest)
        if col.dtype == object:
            text = [repr(_utc(x)) for x in col.tolist()]
            if any(" at 0x" in t for t in text):  # an address would make every run look new
                raise TypeError("nicht reproduzierbar serialisierbar: Spalte mit Objekten ohne festen Text")
            data[i] = np.array(text, dtype=object)
        else:
            data[i] = col.array
    return pd.util.hash_pandas_object(pd.DataFrame(data, index=df.index), index=False)


def frame_digest(df: pd.DataFrame, rows: pd.Series | None = None) -> str:
    """A DataFrame's column names, dtypes, row count and values, as one digest. ``rows``: the
    :func:`row_hashes` of a frame that ``df`` was selected from (same index labels)."""
    if rows is None or not rows.index.is_unique:
        rows = row_hashes(df)
    else:
        rows = rows.loc[df.index]
    h = hashlib.sha256(f"df[{len(df)}]:{list(map(str, df.columns))}:{list(map(str, df.dtypes))};".encode())
    h.update(rows.to_numpy(dtype="uint64").tobytes())
    return h.hexdigest()


def _feed_input(h, obj) -> None:
    """Like :func:`_feed`, but a DataFrame by :func:`frame_digest` (fast on long frames)."""
    if isinstance(obj, pd.DataFrame):
        h.update(f"df:{frame_digest(obj)};".encode())
    else:
        _feed(h, obj)


def input_key(*inputs) -> str:
    """A digest of a builder call's inputs (DataFrames, digests of frames, dataclasses, dates,
    strings, ...) together with the renderer (:func:`renderer_fingerprint`) and the pandas
    and numpy versions. Complete only if ``inputs`` name EVERYTHING the build reads: its
    arguments (a frame reduced to the rows the builder looks at), what it derives from the clock
    (e.g. "overdue" rather than the day), and what it reads besides them (settings, member
    offices, the program's sources: ``stat_refresh.program_signature()``)."""
    h = hashlib.sha256(f"{renderer_fingerprint()}|pandas {pd.__version__}|numpy {np.__version__}".encode())
    for x in inputs:
        _feed_input(h, x)
    return h.hexdigest()


def input_key_path(base: Path) -> Path:
    return fingerprint_path(Path(base), INPUT_KEY_SUFFIX)


def inputs_unchanged(key: str, base: Path) -> bool:
    """True iff the report's files and model fingerprint exist and the input key stored at its
    last render equals ``key``: building the model again would give the same files."""
    base = Path(base)
    stored = input_key_path(base)
    return (all(f.exists() for f in _files(base)) and fingerprint_path(base).exists() and stored.exists()
            and stored.read_text(encoding="utf-8").strip() == key)


def render_if_inputs_changed(key: str, build, base: Path) -> tuple[list[Path], bool]:
    """``render_if_changed(build(), base)`` unless :func:`inputs_unchanged` (then ``build`` is not
    called). Returns the files (HTML first) and whether they were written. The key is removed
    before building and stored only after the files and the fingerprint are current: a crash or a
    refused release in between rebuilds next time, it never skips stale files."""
    base = Path(base)
    if inputs_unchanged(key, base):
        return _files(base), False
    stored = input_key_path(base)
    stored.unlink(missing_ok=True)
    files, written = render_if_changed(build(), base)
    stored.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(stored, key + "\n")
    return files, written
