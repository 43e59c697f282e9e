"""Saving workbooks byte-reproducibly -- the one place every Excel output goes through.

Belongs here: the document properties (created/modified = a time taken from the data, never
the clock; no user or host names) and zip members stamped with that same time and fixed
permissions, so that the same content gives the same bytes whatever the directory, machine,
time zone or time of the run. Three ways in:

- :func:`xlsxwriter_in_memory` + :func:`save_xlsxwriter`: XlsxWriter workbooks (every report,
  statutory output and federal-statistic workbook, :mod:`inobhut.reports.excel`) -- written in
  memory, zip member times set to the data time (:func:`restamp_zip`), the document language
  in the core properties, saved atomically;
- :func:`xlsxwriter_workbook`: the Prüfberichte (:mod:`inobhut.pruefbericht`, one per delivery
  version), written straight to their file; XlsxWriter stamps every member 1980-01-01;
- :func:`save_workbook`: openpyxl workbooks (the delivery template, :mod:`inobhut.template`).

XlsxWriter writes a workbook about three times faster than openpyxl (docs/leistung.md).
Not here: what the workbooks contain.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from inobhut import atomic

EPOCH = dt.datetime(2000, 1, 1)  # the time of outputs that have no data time


class FixedTimeZip(zipfile.ZipFile):
    """A zip writer that stamps every member with the same time (same inputs, same bytes)."""

    def __init__(self, file, date_time: tuple[int, int, int, int, int, int]):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._date_time = date_time

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo = zinfo_or_arcname
            zinfo.date_time = self._date_time
        else:
            zinfo = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._date_time)
            zinfo.compress_type = zipfile.ZIP_DEFLATED
        zinfo.external_attr = 0o644 << 16
        zinfo.create_system = 3  # the same on every platform
        super().writestr(zinfo, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        with open(filename, "rb") as fh:
            data = fh.read()
        self.writestr(arcname or os.path.basename(filename), data)


def utc_naive(t: dt.datetime | None) -> dt.datetime:
    """``t`` as naive UTC without microseconds (``EPOCH`` if None)."""
    if t is None:
        return EPOCH
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=0)


def _workbook_class():
    """``xlsxwriter.Workbook`` that also writes ``properties["language"]`` as ``dc:language``
    into docProps/core.xml (XlsxWriter knows no language property; the packager is the
    documented place to override)."""
    global _WORKBOOK
    if _WORKBOOK is None:
        import xlsxwriter
        from xlsxwriter.core import Core
        from xlsxwriter.packager import Packager

        class _Core(Core):
            def _write_cp_content_status(self) -> None:
                super()._write_cp_content_status()
                if self.properties.get("language"):
                    self._xml_data_element("dc:language", self.properties["language"])

        class _Packager(Packager):
            def _write_core_file(self) -> None:
                core = _Core()
                core._set_properties(self.workbook.doc_properties)
                core._set_xml_writer(self._filename("docProps/core.xml"))
                core._assemble_xml_file()

        class _Workbook(xlsxwriter.Workbook):
            def _get_packager(self):
                return _Packager()

        _WORKBOOK = _Workbook
    return _WORKBOOK


_WORKBOOK = None
_XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def xlsxwriter_workbook(path: Path, created_at: dt.datetime | None):
    """A new XlsxWriter workbook writing ``path`` on ``close()``, with the document time
    ``created_at`` (created = modified) and no user name: its bytes depend only on its content.
    Text goes in with ``write_string`` (never ``write``: a delivered "=…" must stay text)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, **_XLSXWRITER_OPTIONS})
    wb.set_properties({"created": utc_naive(created_at), "author": "", "comments": ""})
    return wb


def xlsxwriter_in_memory(created_at: dt.datetime | None, language: str | None = None,
                         properties: dict | None = None):
    """``(workbook, buffer)``: an XlsxWriter workbook that writes into ``buffer``, with the
    document time ``created_at``, ``language`` and further core ``properties`` (title, subject,
    author, keywords, comments); save it with :func:`save_xlsxwriter`."""
    import io

    buf = io.BytesIO()
    wb = _workbook_class()(buf, {"in_memory": True, **_XLSXWRITER_OPTIONS})
    wb.set_properties({"author": "", "comments": "", **(properties or {}), "created": utc_naive(created_at),
                       **({"language": language} if language else {})})
    return wb, buf


def restamp_zip(data: bytes, when: dt.datetime | None) -> bytes:
    """``data`` (a zip archive) with every member's modification time set to ``when`` (in the
    local headers and the central directory; the time is outside the checksums, so the
    compressed contents are kept as they are)."""
    import io
    import struct

    t = utc_naive(when)
    dos_time = (t.hour << 11) | (t.minute << 5) | (t.second // 2)
    dos_date = ((max(t.year, 1980) - 1980) << 9) | (t.month << 5) | t.day
    stamp = struct.pack("<HH", dos_time, dos_date)
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        pos = z.start_dir
    for info in infos:  # local file headers: signature, version, flags, method, time, date
        off = info.header_offset
        if out[off:off + 4] != b"PK\x03\x04":
            raise ValueError("restamp_zip: no local file header where the directory says")
        out[off + 10:off + 14] = stamp
    for _ in infos:  # central directory entries: time and date at offset 12
        if out[pos:pos + 4] != b"PK\x01\x02":
            raise ValueError("restamp_zip: central directory entry expected")
        out[pos + 12:pos + 16] = stamp
        n, m, k = struct.unpack("<HHH", out[pos + 28:pos + 34])
        pos += 46 + n + m + k
    return bytes(out)


def save_xlsxwriter(wb, buf, path: Path, created_at: dt.datetime | None) -> Path:
    """Close ``wb`` (from :func:`xlsxwriter_in_memory`) and save its bytes to ``path``,
    every zip member stamped ``created_at``: atomically, an unchanged file is left untouched."""
    wb.close()
    path = Path(path)
    with atomic.replacing(path, keep_unchanged=True) as tmp:
        tmp.write_bytes(restamp_zip(buf.getvalue(), created_at))
        os.chmod(tmp, 0o644)
    return path


def save_workbook(wb: Workbook, path: Path, created_at: dt.datetime | None, writer: type = ExcelWriter) -> Path:
    """Save ``wb`` to ``path`` (atomically, via a unique temporary file) so that the bytes depend
    only on its content and ``created_at``; ``writer``: an ``ExcelWriter`` subclass."""
    t = utc_naive(created_at)
    wb.properties.created = t
    wb.properties.modified = t
    wb.properties.lastModifiedBy = None
    wb.properties.lastPrinted = None
    zip_time = (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)
    path = Path(path)
    # unique per process (a leftover of a killed run is swept); an unchanged workbook keeps its file
    with atomic.replacing(path, keep_unchanged=True) as tmp:
        # write-only workbooks (the Prüfbericht) need openpyxl's own writer
        (ExcelWriter if wb.write_only else writer)(wb, FixedTimeZip(str(tmp), zip_time)).save()  # closes the archive
        os.chmod(tmp, 0o644)
    return path
