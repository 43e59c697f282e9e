"""Reports: declarative report models rendered to Excel (openpyxl) and HTML (Jinja2).

Belongs here: the report model (``model``), German formatting (``fmt``), the two renderers
(``excel``, ``html`` with ``svg`` charts), the report builders (``builders``) and the entry
points re-exported below. Does not belong here: statistics, disclosure control (the
builders call a ``protect`` callable), the Prüfbericht (``inobhut.pruefbericht``), Dagster.
"""

from .builders import build_jugendamtsbericht, build_landesbericht
from .html import IndexMeta, render_index
from .model import ChartSpec, DeliveryStatus, IndexEntry, ReportModel, ReportModelError, ReportTable
from .render import index_entry, render_report, report_path

__all__ = [
    "ChartSpec", "DeliveryStatus", "IndexEntry", "IndexMeta", "ReportModel", "ReportModelError", "ReportTable",
    "build_jugendamtsbericht", "build_landesbericht", "index_entry", "render_index", "render_report", "report_path",
]
