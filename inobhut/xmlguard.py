"""Hostile Excel files: refused before any XML parser sees them.

Belongs here: looking at the parts of an XLSX zip (without parsing their XML) for document type
declarations and entities (billion laughs, quadratic blow-up, external entities), for external
references (external workbook links, data connections, OLE/ActiveX objects, relationships with
``TargetMode="External"`` other than plain hyperlinks) and for parts whose prolog never ends.
Called by :mod:`inobhut.ingest` right after the zip-bomb check; a hit becomes rule D093.

How: every XML part is read as a stream up to its root element only (XML allows a DTD and
entity declarations only before it), so a gigabyte sheet costs a few bytes; relationship
parts are small and read whole (bounded).
"""

from __future__ import annotations

import re
import zipfile

PROLOG_LIMIT = 1 << 20  # bytes of comments/processing instructions allowed before the root element
RELS_LIMIT = 4 << 20  # a relationship or content-types part larger than this is itself suspicious
_CHUNK = 1 << 14

# Parts that only exist to reach outside the file.
_EXTERNAL_PARTS = (
    ("xl/externallinks/", "einen Verweis auf eine andere Arbeitsmappe"),
    ("xl/connections.xml", "eine Datenverbindung"),
    ("xl/querytables/", "eine Datenabfrage"),
    ("xl/embeddings/", "eingebettete Objekte"),
    ("xl/activex/", "ActiveX-Steuerelemente"),
)
_EXTERNAL_REL = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>", re.IGNORECASE)
_TARGET_EXTERNAL = re.compile(rb"TargetMode\s*=\s*[\"']External[\"']", re.IGNORECASE)
_HYPERLINK_TYPE = re.compile(rb"Type\s*=\s*[\"'][^\"']*/hyperlink[\"']", re.IGNORECASE)
_NAME_START = re.compile(rb"[A-Za-z_:\x80-\xff]")


def check(zf: zipfile.ZipFile) -> tuple[str, str] | None:
    """(German description, part name) of the first hostile construct, or None."""
    for info in zf.infolist():
        low = info.filename.lower()
        for prefix, what in _EXTERNAL_PARTS:
            if low.startswith(prefix):
                return what, info.filename
        if not low.endswith((".xml", ".rels", ".vml")) and low != "[content_types].xml":
            continue
        found = _prolog(zf, info)
        if found:
            return found, info.filename
        if low.endswith(".rels"):
            if info.file_size > RELS_LIMIT:
                return "einen übergroßen Verweis-Teil", info.filename
            data = zf.read(info)
            for rel in _EXTERNAL_REL.findall(data):
                if _TARGET_EXTERNAL.search(rel) and not _HYPERLINK_TYPE.search(rel):
                    return "einen Verweis auf eine externe Quelle", info.filename
    return None


def _prolog(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """Scan the part up to its root element; report a DTD/entity or an endless prolog."""
    buf = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            buf += chunk
            verdict = _scan(buf)
            if verdict is not None:
                return verdict or None
            if len(buf) > PROLOG_LIMIT:
                return "einen überlangen Vorspann vor den Daten"
    verdict = _scan(buf, final=True)
    return verdict or None


def _scan(buf: bytes, final: bool = False) -> str | None:
    """'' = root element reached, nothing hostile; a text = hostile; None = need more bytes."""
    if buf.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(buf) > 1 and (buf[0] == 0 or buf[1] == 0)):
        try:
            text = buf.decode("utf-16")
        except UnicodeDecodeError:
            if final:
                return ""
            return None if len(buf) < PROLOG_LIMIT else "einen unlesbaren Vorspann"
        buf = text.encode("utf-8", "replace")
    if buf.startswith(b"\xef\xbb\xbf"):
        buf = buf[3:]
    i, n = 0, len(buf)
    while i < n:
        if buf[i:i + 1].isspace():
            i += 1
            continue
        if buf[i:i + 1] != b"<":
            return ""  # text before the root: not well-formed, the XML parser reports it
        if buf.startswith(b"<?", i):
            end, close = buf.find(b"?>", i + 2), 2
        elif buf.startswith(b"<!--", i):
            end, close = buf.find(b"-->", i + 4), 3
        elif buf[i + 1:i + 2] == b"!":
            head = buf[i + 2:i + 9].upper()
            if head.startswith((b"DOCTYPE", b"ENTITY")) or (len(head) < 7 and not final):
                if len(head) < 7 and not final:
                    return None
                return "eine Dokumenttyp-Deklaration (DTD) oder Entitäten"
            return "eine unerwartete Deklaration vor den Daten"
        elif _NAME_START.match(buf, i + 1):
            return ""  # the root element: declarations are no longer possible
        elif i + 1 >= n:
            return "" if final else None
        else:
            return ""
        if end < 0:
            return "" if final else None
        i = end + close
    return "" if final else None
