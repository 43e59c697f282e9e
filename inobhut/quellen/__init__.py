"""Sources: where inobhut pulls the deliveries of each member office from.

Belongs here: the sources file (``quellen.toml``: parsing and validation with German
messages, :mod:`inobhut.quellen.config`), the kinds of source (a folder, an SFTP server) and
the fetch logic that copies new or changed files atomically into the landing zone exactly once
per file version (:mod:`inobhut.quellen.fetch`). Does not belong here: archiving or reading
the files (``inobhut.archive`` takes over from the landing zone).
"""

from inobhut.quellen.config import QuellenError, Source, load_sources
from inobhut.quellen.fetch import FetchSummary, OfficeResult, fetch_all

__all__ = ["FetchSummary", "OfficeResult", "QuellenError", "Source", "fetch_all", "load_sources"]
