"""Saving workbooks byte-reproducibly -- the one place every Excel output goes through.

Belongs here: the document properties (created/modified = a time taken from the data, never
the clock; no user or host names) and a zip writer that stamps every member with that same time
and fixed permissions, so that the same content gives the same bytes whatever the directory,
machine, time zone or time of the run. Used by the reports (:mod:`inobhut.reports.excel`) and the
delivery template (:mod:`inobhut.template`), which openpyxl writes; the Prüfberichte
(:mod:`inobhut.pruefbericht`, one per delivery version, so their cost counts) are written with
XlsxWriter, about three times faster (:func:`xlsxwriter_workbook`: the same properties; XlsxWriter
stamps every zip member with the fixed time 1980-01-01). Not here: what the workbooks contain.
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


def xlsxwriter_workbook(path: Path, created_at: dt.datetime | None):
    """A new XlsxWriter workbook writing ``path`` on ``close()``, with the document time
    ``created_at`` (created = modified) and no user name: its bytes depend only on its content.
    Text goes in with ``write_string`` (never ``write``: a delivered "=…" must stay text)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
    wb.set_properties({"created": utc_naive(created_at), "author": "", "comments": ""})
    return wb


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
