"""How a synthetic office delivers its files: its stable delivery style, values formatted in
that style, and the files written reproducibly (CSV in the office's dialect and encoding, XLSX
with fixed timestamps and dates as Excel dates).

Belongs here: :class:`DeliveryStyle` and :func:`delivery_style`, the per-office random streams
(:func:`_rng`) every part of the generator draws from, formatting arrays of values per style,
and writing a month's rows as a delivery file. Not here: what the offices deliver (the
simulation, in :mod:`inobhut.generate`, which calls this per file) and the injected mistakes
(:mod:`inobhut.generate_mistakes`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from inobhut.config import offices
from schemas.datasets import DATASETS

# ---------------------------------------------------------------------------------------------
# Delivery styles
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStyle:
    """How one office writes its files (stable for a seed)."""

    kind: str  # "csv_de" (; , TT.MM.JJJJ) | "csv_iso" (, . JJJJ-MM-TT) | "xlsx"
    encoding: str  # "utf-8" | "utf-8-sig" | "cp1252" (CSV only)
    anlass_sep: str  # "," or "|"
    lineterminator: str
    frei_leer: bool  # leaves the optional Plaetze_frei empty
    tagessatz_leer: bool  # leaves the optional Tagessatz empty

    @property
    def ext(self) -> str:
        return "xlsx" if self.kind == "xlsx" else "csv"

    @property
    def delimiter(self) -> str:
        return ";" if self.kind == "csv_de" else ","

    @property
    def decimal(self) -> str:
        return "," if self.kind == "csv_de" else "."


def _rng(seed: int, *parts: int) -> np.random.Generator:
    """The random stream of ``(seed, *parts)`` (office, stream, year or month): every draw of the
    generator comes from one, so an office's files do not depend on what else is generated."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *[int(p) for p in parts]])


def _ags_int(ags: str) -> int:
    return int(ags) * 10 + len(ags)  # keeps 08335 and 0833500 apart


def delivery_style(ags: str, seed: int = 42) -> DeliveryStyle:
    """The stable delivery style of an office for a seed. Large offices export CSV from their
    case management software; smaller ones more often fill in the Excel template by hand."""
    r = _rng(seed, _ags_int(ags), 1)
    small = {o.ags: o.einwohner < 200_000 for o in offices()}.get(ags, True)
    p_xlsx = 0.22 if small else 0.05
    kind = r.choice(["csv_de", "csv_iso", "xlsx"], p=[0.68 * (1 - p_xlsx), 0.32 * (1 - p_xlsx), p_xlsx])
    if kind == "csv_de":
        enc = r.choice(["cp1252", "utf-8-sig", "utf-8"], p=[0.45, 0.35, 0.20])
        lt = "\r\n"
    else:
        enc = r.choice(["utf-8", "utf-8-sig"], p=[0.7, 0.3])
        lt = r.choice(["\n", "\r\n"])
    sep = r.choice([",", "|"], p=[0.8, 0.2])
    return DeliveryStyle(str(kind), str(enc), str(sep), str(lt), bool(r.random() < 0.3), bool(r.random() < 0.15))


# ---------------------------------------------------------------------------------------------
# Formatting of values per style
# ---------------------------------------------------------------------------------------------


def _fmt_dates(d: np.ndarray, style: DeliveryStyle) -> np.ndarray:
    s = pd.Series(d.astype("datetime64[ns]"))
    if style.kind == "xlsx":
        out = np.array([x.to_pydatetime() if not pd.isna(x) else None for x in s], dtype=object)
        return out
    fmt = "%d.%m.%Y" if style.kind == "csv_de" else "%Y-%m-%d"
    return s.dt.strftime(fmt).fillna("").to_numpy(dtype=object)


def _fmt_months(d: np.ndarray, style: DeliveryStyle) -> np.ndarray:
    s = pd.Series(d.astype("datetime64[ns]"))
    fmt = "%Y-%m" if style.kind == "csv_iso" else "%m.%Y"
    return s.dt.strftime(fmt).fillna("").to_numpy(dtype=object)


def _fmt_decimal(x: np.ndarray, style: DeliveryStyle) -> np.ndarray:
    if style.kind == "xlsx":
        return np.array([None if np.isnan(v) else float(v) for v in x], dtype=object)
    out = np.array(["" if np.isnan(v) else f"{v:.2f}".rstrip("0").rstrip(".") for v in x], dtype=object)
    if style.decimal == ",":
        out = np.array([s.replace(".", ",") for s in out], dtype=object)
    return out


def _fmt_int(x: np.ndarray, style: DeliveryStyle) -> np.ndarray:
    if style.kind == "xlsx":
        return np.array([int(v) for v in x], dtype=object)
    return np.array([str(int(v)) for v in x], dtype=object)


def _fmt_bool(x: np.ndarray, style: DeliveryStyle) -> np.ndarray:
    if style.kind == "xlsx":
        return np.where(x, 1, 0).astype(object)
    return np.where(x, "1", "0").astype(object)


def _fmt_boolstr(x: np.ndarray, style: DeliveryStyle) -> np.ndarray:
    """Optional booleans stored as "1"/"0"/"" -> style."""
    if style.kind == "xlsx":
        return np.array([None if v == "" else int(v) for v in x], dtype=object)
    return x.astype(object)


def _blank(style: DeliveryStyle):
    return None if style.kind == "xlsx" else ""


def _text(x: np.ndarray, style: DeliveryStyle) -> np.ndarray:
    x = x.astype(object)
    if style.kind == "xlsx":
        x = np.where(x == "", None, x)
    return x


def _rows(cols: list[np.ndarray], n: int) -> list[list]:
    if n == 0:
        return []
    return np.column_stack(cols).tolist()


# ---------------------------------------------------------------------------------------------
# Writing files
# ---------------------------------------------------------------------------------------------


def _received(month: str, heute: dt.date) -> float:
    """Deterministic 'received' time: the 5th of the following month, 08:00 UTC -- but never
    after the start of ``heute`` (00:00 UTC), so a delivery of the latest month is never dated in
    the future (its reports would say "Erstellt am" a date after the run)."""
    y, m = int(month[:4]), int(month[5:7])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    usual = dt.datetime(y, m, 5, 8, 0, tzinfo=dt.timezone.utc)
    today = dt.datetime(heute.year, heute.month, heute.day, tzinfo=dt.timezone.utc)
    return min(usual, today).timestamp()


def _write_csv(path: Path, header: list[str], rows: list[list], style: DeliveryStyle) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=style.delimiter, lineterminator=style.lineterminator, quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(style.encoding))


def _write_xlsx(path: Path, ds: str, header: list[str], rows: list[list], when: dt.datetime) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.creator = "Fachverfahren"
    wb.properties.created = when
    wb.properties.modified = when
    ws = wb.create_sheet(ds)
    ws.append(header)
    date_cols = {k for k, c in enumerate(DATASETS[ds].columns) if c.kind == "date"}
    for row in rows:
        out = list(row)
        for k in date_cols:
            if isinstance(out[k], dt.datetime):
                cell = WriteOnlyCell(ws, value=out[k])
                cell.number_format = "DD.MM.YYYY"
                out[k] = cell
        ws.append(out)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        ExcelWriter(wb, z).save()  # bypasses save_workbook(), which stamps "modified" with now()
    # re-pack with fixed member timestamps so the bytes are reproducible
    stamp = (when.year, when.month, when.day, when.hour, when.minute, 0)
    out_buf = io.BytesIO()
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(out_buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zout.writestr(zi, zin.read(info.filename))
    path.write_bytes(out_buf.getvalue())


def _write(path: Path, ds: str, rows: list[list], style: DeliveryStyle, month: str, heute: dt.date) -> None:
    header = [c.header for c in DATASETS[ds].columns]
    ts = _received(month, heute)
    if style.kind == "xlsx":
        _write_xlsx(path, ds, header, rows, dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(tzinfo=None))
    else:
        _write_csv(path, header, rows, style)
    os.utime(path, (ts, ts))
