"""Delivery file names: ``<ags>_<dataset>_<YYYY-MM>.<csv|xlsx>`` in ``<landing>/<ags>/``.

Only the ASCII digits 0-9 count as digits in names and months: Python's ``\\d``, ``str.isdigit``
and ``int()`` also accept Arabic-Indic, full-width and other Unicode digits, which would let
``08335_massnahmen_２０２５-０１.csv`` pass as a delivery for 2025-01 under a second name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from schemas.datasets import DATASET_NAMES

EXTENSIONS = ("csv", "xlsx")
_NAME = re.compile(
    r"^(?P<ags>[0-9]{4,8})_(?P<dataset>[a-z]+)_(?P<month>[0-9]{4}-[0-9]{2})\.(?P<ext>[A-Za-z]+)$", re.ASCII
)
MONTH = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])", re.ASCII)


def is_ascii_digits(text: str) -> bool:
    """True if ``text`` is non-empty and consists of the ASCII digits 0-9 only."""
    return text.isascii() and text.isdigit()


def is_month(text: str) -> bool:
    """``YYYY-MM`` written with ASCII digits and a month 01-12."""
    return MONTH.fullmatch(text) is not None


@dataclass(frozen=True)
class DeliveryName:
    ags: str
    dataset: str
    month: str
    ext: str

    @property
    def file_name(self) -> str:
        return f"{self.ags}_{self.dataset}_{self.month}.{self.ext}"


def restore_ags(text: str) -> str:
    """Restore a leading zero lost in a spreadsheet: 4 -> 5 digits, 7 -> 8 digits."""
    t = text.strip()
    if is_ascii_digits(t) and len(t) in (4, 7):
        return "0" + t
    return t


class NameError_(ValueError):
    """A file name that does not follow the delivery format (message in German)."""


def _foreign_digits(name: str) -> str:
    """The characters of ``name`` that are digits but not ASCII 0-9 (e.g. ``٠``, ``２``)."""
    if name.isascii():  # the usual name: no character to look up
        return ""
    return "".join(dict.fromkeys(c for c in name if unicodedata.category(c) == "Nd" and not c.isascii()))


def parse_name(name: str) -> DeliveryName:
    """Parse a delivery file name; raises :class:`NameError_` with a German message."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise NameError_(f"Der Dateiname „{name}“ ist nicht zulässig (Pfadangaben oder versteckte Datei).")
    foreign = _foreign_digits(name)
    if foreign:
        raise NameError_(
            f"Der Dateiname „{name}“ enthält Ziffern, die keine Ziffern 0–9 sind („{foreign}“, z. B. arabische oder "
            "breite Ziffern aus einer anderen Tastatureinstellung); bitte den Namen mit den Ziffern 0–9 neu schreiben."
        )
    m = _NAME.match(name)
    if not m:
        raise NameError_(
            f"Der Dateiname „{name}“ entspricht nicht dem Muster <Schlüssel>_<Datensatz>_<JJJJ-MM>.csv "
            "(z. B. 08335_massnahmen_2025-03.csv)."
        )
    ags = restore_ags(m["ags"])
    dataset, month, ext = m["dataset"], m["month"], m["ext"].lower()
    if dataset not in DATASET_NAMES:
        raise NameError_(
            f"Unbekannter Datensatz „{dataset}“ im Dateinamen „{name}“; erlaubt sind: {', '.join(DATASET_NAMES)}."
        )
    if not is_month(month):
        raise NameError_(f"Ungültiger Monat „{month}“ im Dateinamen „{name}“.")
    if ext not in EXTENSIONS:
        raise NameError_(
            f"Dateityp „.{ext}“ wird nicht angenommen („{name}“); bitte als .csv oder .xlsx liefern."
        )
    return DeliveryName(ags, dataset, month, ext)


def delivery_path(landing: Path, dn: DeliveryName) -> Path:
    return landing / dn.ags / dn.file_name
