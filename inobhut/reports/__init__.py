"""Reports: declarative report models rendered to Excel (openpyxl) and HTML (Jinja2).

Belongs here: the report model (``model``), German formatting (``fmt``), the two renderers
(``excel``, ``html`` with ``svg`` charts), the report builders (``builders``) and the entry
points re-exported below. Does not belong here: statistics, disclosure control (the
builders call a ``protect`` callable), the Prüfbericht (``inobhut.pruefbericht``), Dagster.
"""

from .builders import build_jugendamtsbericht, build_landesbericht
from .network import build_jahresbericht, build_lieferstatus, build_platzuebersicht
from .strategie import build_strategiebericht
from .index_page import FrontPageData, IndexMeta, render_index
from .model import ChartSpec, DeliveryStatus, IndexEntry, ReleaseRefused, ReportModel, ReportModelError, ReportTable
from .render import OFFICE_DIR, check_release, index_entry, office_dir, office_report_path, render_report, report_path

__all__ = [
    "ChartSpec", "DeliveryStatus", "FrontPageData", "IndexEntry", "IndexMeta", "ReportModel", "ReportModelError", "ReportTable",
    "ReleaseRefused", "build_jahresbericht", "build_jugendamtsbericht", "build_landesbericht", "build_lieferstatus",
    "build_platzuebersicht", "build_strategiebericht", "check_release", "index_entry", "render_index", "render_report",
    "report_path", "office_dir", "office_report_path", "OFFICE_DIR",
]
